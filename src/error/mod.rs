//! The one error contract of every surface (the API on axum, the transformer and the edge on
//! hyper, the command line): an error becomes a response only through [`PublicError`], which
//! gives it one [`ErrorCode`] from the one list, and with it the status, the retry behaviour
//! and a message that never carries a cause. Causes (libvips' text, SQL errors, SDK chains,
//! a framework's rejection) are logged here, once, and stay in the logs.

mod code;

use std::borrow::Cow;

use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use imgedge_engine::EngineError;
use imgedge_upload::{Refusal, SniffError};
use imgedge_url::UrlError;
use serde::Serialize;

pub use code::{ErrorCode, Retry};

use crate::protocol::NO_STORE;

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code, such as `rate_limited` or `bad_value`
    /// (`docs/errors.md` lists them all).
    pub error: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// An error with a public face. Every role's error type implements it, and nothing else
/// turns an error into a response.
pub trait PublicError: std::fmt::Display {
    /// The public code; the same cause gives the same code on every surface.
    fn code(&self) -> ErrorCode;

    /// The message the client sees. By default the code's meaning; a type returns its own
    /// text only where that text carries no cause (a limit, a parameter's rule).
    fn public_message(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.code().meaning())
    }

    /// Headers besides `Retry-After` (which follows the code): `RateLimit-*`,
    /// `WWW-Authenticate`, `Allow`, a `Cache-Control` other than `no-store`.
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        Vec::new()
    }

    /// What the client is sent. Logs the cause (this error's `Display`).
    fn to_response(&self) -> ErrorResponse {
        let code = self.code();
        let status = code.status();
        if status.is_server_error() {
            tracing::error!(code = code.as_str(), cause = %self, "request failed");
        } else {
            tracing::debug!(code = code.as_str(), cause = %self, "request refused");
        }
        let mut headers = self.headers();
        if let Retry::After(after) = code.retry() {
            headers.push((
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            ));
        }
        if !headers
            .iter()
            .any(|(name, _)| name == header::CACHE_CONTROL)
        {
            headers.push((header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE)));
        }
        ErrorResponse {
            code,
            message: self.public_message().into_owned(),
            headers,
        }
    }
}

/// An error as the client sees it: the code (and so the status), the message and headers.
/// Cheap to clone, so one failed piece of work can answer every request that waited for it.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    code: ErrorCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ErrorResponse {
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> hyper::StatusCode {
        self.code.status()
    }

    /// `{"error": CODE, "message": TEXT}`.
    pub fn body(&self) -> Bytes {
        let body = ErrorBody {
            error: self.code.as_str(),
            message: self.message.clone(),
        };
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The status, headers (`Content-Type` included) and body, for any HTTP stack.
    pub fn into_parts(self) -> (hyper::StatusCode, hyper::HeaderMap, Bytes) {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let body = self.body();
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        (self.code.status(), headers, body)
    }

    /// As a response of the hyper roles (transformer, edge).
    pub fn into_hyper(self) -> hyper::Response<crate::http::Body> {
        let (status, headers, body) = self.into_parts();
        let mut response = hyper::Response::new(crate::http::full(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

impl<E: PublicError> From<E> for ErrorResponse {
    fn from(error: E) -> Self {
        error.to_response()
    }
}

impl axum::response::IntoResponse for ErrorResponse {
    fn into_response(self) -> axum::response::Response {
        let (status, headers, body) = self.into_parts();
        (status, headers, body).into_response()
    }
}

/// 405 for a resource that answers only GET and HEAD, with the `Allow` header RFC 9110 asks
/// a 405 to carry.
#[derive(Debug, Clone, Copy)]
pub struct OnlyGetAndHead;

impl std::fmt::Display for OnlyGetAndHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("only GET and HEAD")
    }
}

impl PublicError for OnlyGetAndHead {
    fn code(&self) -> ErrorCode {
        ErrorCode::MethodNotAllowed
    }

    fn public_message(&self) -> Cow<'static, str> {
        Cow::Borrowed("only GET and HEAD")
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        vec![(
            header::ALLOW,
            HeaderValue::from_static(crate::http::GET_AND_HEAD),
        )]
    }
}

impl PublicError for UrlError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Url(*self)
    }

    /// The parameter's rule: the spec's own words, no cause.
    fn public_message(&self) -> Cow<'static, str> {
        Cow::Owned(self.to_string())
    }
}

impl PublicError for EngineError {
    fn code(&self) -> ErrorCode {
        match self {
            EngineError::Init(_) => ErrorCode::Internal,
            EngineError::Empty => ErrorCode::EmptyFile,
            EngineError::UnsupportedFormat => ErrorCode::UnsupportedFormat,
            EngineError::TooManyPixels { .. } => ErrorCode::TooManyPixels,
            EngineError::OutputTooLarge { .. } => ErrorCode::OutputTooLarge,
            EngineError::BeyondBounds(_) => ErrorCode::BeyondImageBounds,
            EngineError::CropOutside => ErrorCode::CropOutside,
            EngineError::Corrupt(_) => ErrorCode::CorruptImage,
            EngineError::Timeout(_) => ErrorCode::RenderTimeout,
            EngineError::Failed(_) => ErrorCode::RenderFailed,
        }
    }

    /// The limits are the client's to know; libvips' own text (in `Corrupt` and `Failed`)
    /// is not.
    fn public_message(&self) -> Cow<'static, str> {
        match self {
            EngineError::TooManyPixels { .. }
            | EngineError::OutputTooLarge { .. }
            | EngineError::BeyondBounds(_) => Cow::Owned(self.to_string()),
            _ => Cow::Borrowed(self.code().meaning()),
        }
    }
}

impl PublicError for Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Refusal::Sniff(SniffError::Empty) => ErrorCode::EmptyFile,
            Refusal::Sniff(SniffError::Unknown | SniffError::TrailingData(_))
            | Refusal::FormatMismatch { .. } => ErrorCode::UnsupportedFormat,
            Refusal::Sniff(SniffError::NoEnd) => ErrorCode::CorruptImage,
            Refusal::TooManyFrames { .. } => ErrorCode::TooManyFrames,
            Refusal::Metadata(_) => ErrorCode::MetadataTooLarge,
            Refusal::Image(e) => e.code(),
        }
    }

    /// The sniffer's and the frame limit's words are about the file alone; libvips' are
    /// not for the client.
    fn public_message(&self) -> Cow<'static, str> {
        match self {
            Refusal::Sniff(_) | Refusal::TooManyFrames { .. } | Refusal::Metadata(_) => {
                Cow::Owned(self.to_string())
            }
            Refusal::Image(e) => e.public_message(),
            Refusal::FormatMismatch { .. } => Cow::Borrowed(self.code().meaning()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_spelt_once() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(!code.meaning().is_empty(), "{code}");
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{code}"
            );
        }
    }

    #[test]
    fn causes_stay_out_of_messages() {
        let secret = "libvips: jpegload: out of order read at line 7";
        for e in [
            EngineError::Corrupt(secret.into()),
            EngineError::Failed(secret.into()),
            EngineError::Init(secret.into()),
        ] {
            let response = e.to_response();
            assert!(!response.message.contains("libvips"), "{e:?}");
            let body = String::from_utf8(response.body().to_vec()).expect("UTF-8");
            assert!(!body.contains("out of order"), "{body}");
        }
        let refusal = Refusal::Image(EngineError::Corrupt(secret.into()));
        assert!(!refusal.to_response().message.contains("libvips"));
    }

    #[test]
    fn every_upload_refusal_is_a_client_error() {
        for refusal in [
            Refusal::Sniff(SniffError::Empty),
            Refusal::Sniff(SniffError::Unknown),
            Refusal::Sniff(SniffError::TrailingData(3)),
            Refusal::Sniff(SniffError::NoEnd),
            Refusal::TooManyFrames {
                frames: 9,
                limit: 4,
            },
            Refusal::Metadata(imgedge_upload::MetadataTooLarge { limit: 1 }),
            Refusal::Image(EngineError::Empty),
            Refusal::Image(EngineError::UnsupportedFormat),
            Refusal::Image(EngineError::Corrupt(String::new())),
            Refusal::Image(EngineError::TooManyPixels {
                width: 1,
                height: 1,
                pixels: 1,
                limit: 0,
            }),
        ] {
            let status = refusal.code().status();
            assert!(status.is_client_error(), "{refusal:?}: {status}");
        }
    }

    #[test]
    fn passing_causes_say_when_to_retry() {
        let response = EngineError::Timeout(std::time::Duration::from_secs(1)).to_response();
        let (status, headers, _) = response.into_parts();
        assert_eq!(status, hyper::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers[header::RETRY_AFTER], "2");
        assert_eq!(headers[header::CACHE_CONTROL], NO_STORE);
    }
}

/// `docs/errors.md`, the table users read, says what the enum says: the same codes, each with
/// its status, retry behaviour and meaning.
#[cfg(test)]
mod documented {
    use std::collections::BTreeMap;

    use imgedge_url::Param;

    use super::{ErrorCode, Retry};

    struct Row {
        status: u16,
        retry: String,
        meaning: String,
    }

    fn documented_rows() -> BTreeMap<String, Row> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md");
        let text = std::fs::read_to_string(path).expect("docs/errors.md");
        let mut rows = BTreeMap::new();
        for line in text.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // | `code` | status | retry | where | meaning |
            let [_, code, status, retry, _, meaning, _] = cells[..] else {
                continue;
            };
            let Some(code) = code.strip_prefix('`').and_then(|c| c.strip_suffix('`')) else {
                continue;
            };
            let row = Row {
                status: status.parse().expect("a status"),
                retry: retry.to_owned(),
                meaning: meaning.to_owned(),
            };
            assert!(rows.insert(code.to_owned(), row).is_none(), "{code} twice");
        }
        rows
    }

    fn retry_cell(retry: Retry) -> String {
        match retry {
            Retry::Never => "no".into(),
            Retry::After(after) => format!("after {} s", after.as_secs()),
            Retry::RateLimit => "`Retry-After` and `RateLimit-*` of the limit".into(),
        }
    }

    #[test]
    fn the_table_and_the_enum_agree() {
        let mut rows = documented_rows();
        for code in ErrorCode::ALL {
            let row = rows
                .remove(code.as_str())
                .unwrap_or_else(|| panic!("{code} is not in docs/errors.md"));
            assert_eq!(row.status, code.status().as_u16(), "{code}'s status");
            assert_eq!(row.retry, retry_cell(code.retry()), "{code}'s retry");
            assert_eq!(row.meaning, code.meaning(), "{code}'s meaning");
        }
        let p = Param::Width;
        for url_error in [
            imgedge_url::UrlError::DuplicateParam(p),
            imgedge_url::UrlError::BadValue(p),
            imgedge_url::UrlError::OutOfRange(p),
            imgedge_url::UrlError::BadImageId,
            imgedge_url::UrlError::BadSig,
        ] {
            let code = ErrorCode::Url(url_error);
            let row = rows
                .remove(code.as_str())
                .unwrap_or_else(|| panic!("{code} is not in docs/errors.md"));
            assert_eq!(row.status, code.status().as_u16(), "{code}'s status");
            assert_eq!(row.retry, retry_cell(code.retry()), "{code}'s retry");
        }
        assert!(
            rows.is_empty(),
            "docs/errors.md lists codes the service does not have: {:?}",
            rows.keys().collect::<Vec<_>>()
        );
    }
}
