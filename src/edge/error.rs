//! The edge's errors, and their place in the error contract ([`crate::error`]): what the
//! edge answers itself, for a malformed URL, an origin that did not answer, or its own
//! endpoints.

use std::borrow::Cow;

use hyper::header::{self, HeaderName, HeaderValue};
use imgedge_url::UrlError;

use super::origin::OriginError;
use crate::error::{ErrorCode, PublicError};
use crate::protocol::REFUSAL_CACHE_CONTROL;

/// Why the edge answered a request itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EdgeError {
    /// A transform URL the spec refuses (the Lambda@Edge function's 400).
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The transformer or the API did not answer.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// A request body declared larger than the edge forwards.
    #[error("the body is larger than {0} bytes")]
    BodyTooLarge(u64),
    /// The work shared by concurrent misses on one key failed (its task panicked).
    #[error("the origin request failed: {0}")]
    Internal(String),
    #[error("no such file")]
    NoSuchFile,
    #[error("purging is not enabled")]
    PurgeDisabled,
    #[error("only POST")]
    PurgeMethod,
    #[error("a valid purge token is required")]
    PurgeUnauthorized,
    #[error("at most 64 KiB")]
    PurgeBodyTooLarge,
    #[error(r#"expected {{"paths": ["/path", "/prefix*"]}}"#)]
    PurgeBody,
    #[error("between 1 and {0} paths")]
    PurgePathCount(usize),
    #[error("paths start with / and may end with one *")]
    PurgePath,
}

impl PublicError for EdgeError {
    fn code(&self) -> ErrorCode {
        match self {
            EdgeError::Url(e) => PublicError::code(e),
            EdgeError::Origin(OriginError::Timeout(_)) => ErrorCode::OriginTimeout,
            // Down or restarting (a crash, a deploy): unavailable for a moment, which is what
            // a client should retry, not a broken gateway.
            EdgeError::Origin(OriginError::Unreachable(_)) => ErrorCode::OriginUnavailable,
            EdgeError::BodyTooLarge(_) | EdgeError::PurgeBodyTooLarge => ErrorCode::TooLarge,
            EdgeError::Internal(_) => ErrorCode::Internal,
            EdgeError::NoSuchFile | EdgeError::PurgeDisabled => ErrorCode::NotFound,
            EdgeError::PurgeMethod => ErrorCode::MethodNotAllowed,
            EdgeError::PurgeUnauthorized => ErrorCode::Unauthorized,
            EdgeError::PurgeBody | EdgeError::PurgePathCount(_) => ErrorCode::BadRequest,
            EdgeError::PurgePath => ErrorCode::BadPath,
        }
    }

    fn public_message(&self) -> Cow<'static, str> {
        match self {
            EdgeError::Url(e) => e.public_message(),
            EdgeError::Origin(_) | EdgeError::Internal(_) => Cow::Borrowed(self.code().meaning()),
            other => Cow::Owned(other.to_string()),
        }
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        match self {
            // Depends on the URL alone: kept briefly, so a burst stops here.
            EdgeError::Url(_) => vec![(
                header::CACHE_CONTROL,
                HeaderValue::from_static(REFUSAL_CACHE_CONTROL),
            )],
            // The rest of the body is not read: the connection cannot be reused.
            EdgeError::BodyTooLarge(_) => {
                vec![(header::CONNECTION, HeaderValue::from_static("close"))]
            }
            EdgeError::PurgeMethod => vec![(header::ALLOW, HeaderValue::from_static("POST"))],
            _ => Vec::new(),
        }
    }
}
