//! The API's errors, and their place in the error contract ([`crate::error`]): each variant
//! names its public code there, and axum responses are built from that contract only.

use std::borrow::Cow;

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use imgedge_upload::Refusal;
use imgedge_url::UrlError;

use crate::error::{ErrorCode, PublicError};
use crate::ratelimit::Decision;

/// A dependency the API needs for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Database,
    Storage,
}

/// A request the API cannot take as it is: each a code of its own, and a message that says
/// what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the multipart form is malformed")]
    Multipart,
    #[error("the form takes one field, `file`")]
    UnexpectedField,
    #[error("multipart field `file` is required")]
    MissingFile,
    #[error("the request body could not be read")]
    Body,
    #[error("the query string is malformed")]
    Query,
    #[error("limit must be 1 to {0}")]
    Limit(u32),
    #[error("cursor is not one this API issued")]
    Cursor,
    #[error("email must be an address like name@example.com")]
    Email,
    #[error("password must be 10 to 256 characters")]
    Password,
    /// A listing filter: which, and its rule.
    #[error("`{0}` {1}")]
    Filter(&'static str, &'static str),
    /// A body field: which, and its rule.
    #[error("`{0}` {1}")]
    Field(&'static str, &'static str),
    #[error("a preset name is 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit")]
    PresetName,
    #[error("a preset's query is at most 1024 characters")]
    PresetQuery,
    #[error("an API key's name is 1 to 100 characters, none of them an ASCII control character")]
    KeyName,
    #[error("an API key id is a lowercase hyphenated UUID")]
    KeyId,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The cause is the JSON parser's text, for the logs.
    #[error("request body is not valid JSON for this endpoint: {0}")]
    BadJson(String),
    #[error(transparent)]
    Invalid(Invalid),
    #[error("unsupported Content-Type; expected {0}")]
    UnsupportedMediaType(&'static str),
    #[error("missing or invalid access token")]
    Unauthorized,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("the refresh token is invalid or expired, or its session reached its lifetime")]
    InvalidRefreshToken,
    #[error(
        "the refresh token was already used, or its session was signed out; the session is revoked"
    )]
    RefreshTokenReused,
    #[error("no such image")]
    NotFound,
    #[error("the image changed since the ETag in If-Match; read it again and retry")]
    PreconditionFailed,
    #[error(
        "these credentials may not do this: a read-only API key cannot write, and no API key can manage the account"
    )]
    InsufficientScope,
    /// Which things, and how many the account may have.
    #[error("the account has its {1} {0}; delete one first")]
    LimitReached(&'static str, u32),
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("the request took too long")]
    Timeout,
    #[error("the upload did not arrive within {0:?}")]
    UploadTimeout(std::time::Duration),
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("too many requests")]
    RateLimited(Decision),
    #[error("this account has as many uploads in progress as allowed")]
    TooManyUploads,
    #[error("the server is receiving as many uploads as it can hold")]
    UploadsBusy,
    #[error("the account's storage quota ({0}) is used up")]
    StorageQuotaExceeded(crate::db::StorageQuota),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Upload(#[from] Refusal),
    #[error("{0:?} unavailable: {1}")]
    Unavailable(Dependency, String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::Invalid(invalid)
    }
}

impl PublicError for ApiError {
    fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadJson(_) => ErrorCode::BadJson,
            ApiError::Invalid(invalid) => match invalid {
                Invalid::Multipart => ErrorCode::BadMultipart,
                Invalid::UnexpectedField => ErrorCode::UnexpectedField,
                Invalid::MissingFile => ErrorCode::MissingFile,
                Invalid::Body => ErrorCode::BadBody,
                Invalid::Query => ErrorCode::BadQuery,
                Invalid::Limit(_) => ErrorCode::BadLimit,
                Invalid::Cursor => ErrorCode::BadCursor,
                Invalid::Email => ErrorCode::InvalidEmail,
                Invalid::Password => ErrorCode::InvalidPassword,
                Invalid::Filter(..) => ErrorCode::BadFilter,
                Invalid::Field(..)
                | Invalid::PresetName
                | Invalid::PresetQuery
                | Invalid::KeyName
                | Invalid::KeyId => ErrorCode::InvalidField,
            },
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            ApiError::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::PreconditionFailed => ErrorCode::PreconditionFailed,
            ApiError::InsufficientScope => ErrorCode::InsufficientScope,
            ApiError::LimitReached(..) => ErrorCode::LimitReached,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::Timeout => ErrorCode::Timeout,
            ApiError::UploadTimeout(_) => ErrorCode::UploadTimeout,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::RateLimited(_) => ErrorCode::RateLimited,
            ApiError::TooManyUploads => ErrorCode::TooManyUploads,
            ApiError::UploadsBusy => ErrorCode::UploadsBusy,
            ApiError::StorageQuotaExceeded(_) => ErrorCode::StorageQuotaExceeded,
            ApiError::Url(e) => PublicError::code(e),
            ApiError::Upload(refusal) => refusal.code(),
            ApiError::Unavailable(..) => ErrorCode::Unavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Never a dependency's or a framework's own text.
    fn public_message(&self) -> Cow<'static, str> {
        match self {
            ApiError::BadJson(_) | ApiError::Unavailable(..) | ApiError::Internal(_) => {
                Cow::Borrowed(self.code().meaning())
            }
            ApiError::Url(e) => e.public_message(),
            ApiError::Upload(refusal) => refusal.public_message(),
            other => Cow::Owned(other.to_string()),
        }
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        match self {
            ApiError::RateLimited(decision) => decision.headers(),
            ApiError::Unauthorized => {
                vec![(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))]
            }
            _ => Vec::new(),
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Unavailable(_) => {
                ApiError::Unavailable(Dependency::Database, e.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        match e {
            crate::storage::StorageError::Unavailable(_) => {
                ApiError::Unavailable(Dependency::Storage, e.to_string())
            }
            // Refused by S3 (credentials, a missing bucket): configuration, not a blip.
            crate::storage::StorageError::Rejected(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_response().into_response()
    }
}
