//! The transformer's errors, and their place in the error contract ([`crate::error`]).
//! Causes (SDK chains, SQL errors, libvips messages) are logged there and never sent.

use std::borrow::Cow;

use hyper::header::{self, HeaderName, HeaderValue};
use imgedge_engine::EngineError;
use imgedge_url::UrlError;

use crate::db::DbError;
use crate::error::{ErrorCode, PublicError};
use crate::protocol::REFUSAL_CACHE_CONTROL;
use crate::ratelimit::Decision;
use crate::storage::StorageError;

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
}

impl PublicError for TransformerError {
    fn code(&self) -> ErrorCode {
        use TransformerError as E;
        match self {
            E::Shared(shared) => shared.code(),
            E::Url(e) => PublicError::code(e),
            E::NotFromEdge => ErrorCode::OriginForbidden,
            E::BadSignature => ErrorCode::BadSignature,
            E::ImageGone | E::NotFound => ErrorCode::NotFound,
            E::VariantCap(_) => ErrorCode::VariantLimit,
            E::RateLimited(_) => ErrorCode::RateLimited,
            E::Overloaded => ErrorCode::Overloaded,
            E::Engine(e) => e.code(),
            E::Storage(StorageError::Unavailable(_)) | E::Db(DbError::Unavailable(_)) => {
                ErrorCode::Unavailable
            }
            // Refused by S3 (credentials, a missing bucket): configuration, not a blip, as
            // the API says too.
            E::Storage(StorageError::Rejected(_)) | E::Db(_) | E::Internal(_) => {
                ErrorCode::Internal
            }
        }
    }

    fn public_message(&self) -> Cow<'static, str> {
        use TransformerError as E;
        match self {
            E::Shared(shared) => shared.public_message(),
            E::Url(e) => e.public_message(),
            E::Engine(e) => e.public_message(),
            E::VariantCap(cap) => {
                Cow::Owned(format!("this image already has {cap} variants, its limit"))
            }
            _ => Cow::Borrowed(self.code().meaning()),
        }
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        use TransformerError as E;
        match self {
            E::Shared(shared) => shared.headers(),
            E::RateLimited(decision) => decision.headers(),
            // Answers that depend on the URL alone: an edge may keep them briefly.
            E::Url(_)
            | E::BadSignature
            | E::ImageGone
            | E::Engine(EngineError::OutputTooLarge { .. }) => vec![(
                header::CACHE_CONTROL,
                HeaderValue::from_static(REFUSAL_CACHE_CONTROL),
            )],
            _ => Vec::new(),
        }
    }
}
