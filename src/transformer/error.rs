//! The transformer's one error type, and the one place that maps it to an HTTP status and a
//! stable public code. Causes (SDK chains, SQL errors, libvips messages) are logged here and
//! never sent.

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use crate::db::DbError;
use crate::http::{Body, json_error};
use crate::protocol::{NO_STORE, REFUSAL_CACHE_CONTROL};
use crate::ratelimit::Decision;
use crate::storage::StorageError;
use imgedge_engine::EngineError;
use imgedge_url::UrlError;

/// Why a request got no variant.
#[derive(Debug, thiserror::Error)]
pub enum TransformerError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("the request does not carry this origin's secret")]
    NotFromEdge,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("no such image")]
    ImageGone,
    #[error("the image has reached its cap of {0} distinct variants")]
    VariantCap(u64),
    #[error("the owner's render rate is exceeded")]
    RateLimited(Decision),
    #[error("too many renders are waiting")]
    Overloaded,
    #[error("the original cannot be rendered: {0}")]
    Engine(#[from] EngineError),
    #[error("object storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
    /// A failure of work shared by several requests (one fetch and decode of an original),
    /// answered to each of them.
    #[error(transparent)]
    Shared(std::sync::Arc<TransformerError>),
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl TransformerError {
    /// The error itself, or the one a shared piece of work failed with.
    fn cause(&self) -> &TransformerError {
        match self {
            TransformerError::Shared(shared) => shared.cause(),
            other => other,
        }
    }

    /// The status, the stable code, and the public message.
    fn public(&self) -> (StatusCode, &'static str, String) {
        use TransformerError as E;
        match self {
            E::Shared(shared) => shared.public(),
            E::Url(e) => (StatusCode::BAD_REQUEST, e.code(), e.to_string()),
            E::NotFromEdge => (
                StatusCode::FORBIDDEN,
                "origin_forbidden",
                "this origin answers only the CDN".into(),
            ),
            E::BadSignature => (
                StatusCode::FORBIDDEN,
                "bad_signature",
                "the signature does not match this image and query".into(),
            ),
            E::ImageGone => (StatusCode::NOT_FOUND, "not_found", "no such image".into()),
            E::VariantCap(cap) => (
                StatusCode::TOO_MANY_REQUESTS,
                "variant_limit",
                format!("this image already has {cap} variants, its limit"),
            ),
            E::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many new variants rendered for this owner; retry later".into(),
            ),
            E::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "too many renders in progress; retry shortly".into(),
            ),
            E::Engine(e) => match e {
                EngineError::OutputTooLarge { .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    e.code(),
                    "the requested output is larger than allowed".into(),
                ),
                EngineError::Timeout(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code(),
                    "the render took too long".into(),
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "render_failed",
                    "the image could not be rendered".into(),
                ),
            },
            E::Storage(_) | E::Db(DbError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "a dependency is unavailable; retry shortly".into(),
            ),
            E::Db(_) | E::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            ),
            E::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such route".into()),
            E::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "only GET and HEAD".into(),
            ),
        }
    }

    /// What the client is told: logs the cause here, once, and keeps only the public side,
    /// which every request that shared the failed production answers with.
    pub fn public_error(&self) -> PublicError {
        let (status, code, message) = self.public();
        if status.is_server_error() {
            tracing::error!(code, error = %self, "transformer request failed");
        } else {
            tracing::debug!(code, error = %self, "transformer request refused");
        }
        let mut headers = Vec::new();
        match self.cause() {
            TransformerError::RateLimited(decision) => headers = decision.headers(),
            TransformerError::Url(_)
            | TransformerError::BadSignature
            | TransformerError::ImageGone
            | TransformerError::Engine(EngineError::OutputTooLarge { .. }) => {
                // Answers that depend on the URL alone: an edge may keep them briefly.
                headers.push((
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(REFUSAL_CACHE_CONTROL),
                ));
            }
            // Waiting does not lift a cap.
            TransformerError::VariantCap(_) => {}
            TransformerError::MethodNotAllowed => headers.push((
                header::ALLOW,
                HeaderValue::from_static(crate::http::GET_AND_HEAD),
            )),
            _ if status == StatusCode::SERVICE_UNAVAILABLE
                || status == StatusCode::TOO_MANY_REQUESTS =>
            {
                headers.push(crate::http::retry_after(1));
            }
            _ => {}
        }
        if !headers
            .iter()
            .any(|(name, _)| name == header::CACHE_CONTROL)
        {
            headers.push((header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE)));
        }
        PublicError {
            status,
            code,
            message,
            headers,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        self.public_error().into_response()
    }
}

/// An error as the client sees it: status, stable code, message and headers.
#[derive(Debug, Clone)]
pub struct PublicError {
    status: StatusCode,
    code: &'static str,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl PublicError {
    pub fn into_response(self) -> Response<Body> {
        let mut response = json_error(self.status, self.code, &self.message);
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}
