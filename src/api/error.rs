//! The one place where API errors become HTTP responses: a status, a stable public code
//! and a short message as `{"error": CODE, "message": TEXT}`. Causes are logged here and
//! never returned.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use imgedge_engine::EngineError;
use imgedge_upload::{Refusal, SniffError};
use imgedge_url::UrlError;
use serde::Serialize;

use crate::ratelimit::Decision;

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code, such as `rate_limited` or `bad_value`.
    pub error: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// A dependency the API needs for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Database,
    Storage,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON for this endpoint: {0}")]
    BadJson(String),
    #[error("{0}")]
    Invalid(&'static str, String),
    #[error("unsupported Content-Type; expected {0}")]
    UnsupportedMediaType(&'static str),
    #[error("missing or invalid access token")]
    Unauthorized,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("the refresh token is invalid or expired")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; its session has been revoked")]
    RefreshTokenReused,
    #[error("no such image")]
    NotFound,
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("the request took too long")]
    Timeout,
    #[error("the upload did not arrive within {0:?}")]
    UploadTimeout(std::time::Duration),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("too many requests")]
    RateLimited(Decision),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Upload(#[from] Refusal),
    #[error(transparent)]
    Image(#[from] EngineError),
    #[error("{0:?} unavailable: {1}")]
    Unavailable(Dependency, String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadJson(_) => (StatusCode::BAD_REQUEST, "bad_json"),
            ApiError::Invalid(code, _) => (StatusCode::BAD_REQUEST, code),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
            ApiError::RefreshTokenReused => (StatusCode::UNAUTHORIZED, "refresh_token_reused"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::UploadTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "upload_timeout"),
            ApiError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Url(e) => (StatusCode::BAD_REQUEST, e.code()),
            ApiError::Upload(Refusal::Sniff(SniffError::Empty)) => {
                (StatusCode::BAD_REQUEST, "empty_file")
            }
            ApiError::Upload(
                Refusal::Sniff(SniffError::Unknown | SniffError::TrailingData(_))
                | Refusal::FormatMismatch { .. },
            ) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_format"),
            ApiError::Upload(Refusal::Sniff(SniffError::NoEnd)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "corrupt_image")
            }
            ApiError::Upload(Refusal::TooManyFrames { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "too_many_frames")
            }
            ApiError::Upload(Refusal::Image(e)) | ApiError::Image(e) => {
                ApiError::image_status_and_code(e)
            }
            ApiError::Unavailable(..) => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn image_status_and_code(e: &EngineError) -> (StatusCode, &'static str) {
        match e {
            EngineError::Empty => (StatusCode::BAD_REQUEST, e.code()),
            EngineError::UnsupportedFormat => (StatusCode::UNSUPPORTED_MEDIA_TYPE, e.code()),
            EngineError::TooManyPixels { .. }
            | EngineError::OutputTooLarge { .. }
            | EngineError::Corrupt(_) => (StatusCode::UNPROCESSABLE_ENTITY, e.code()),
            EngineError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, e.code()),
            EngineError::Init(_) | EngineError::Failed(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }

    /// The message users see: never a dependency's own error text.
    fn public_message(&self) -> String {
        match self {
            ApiError::BadJson(_) => "the request body is not valid JSON for this endpoint".into(),
            ApiError::Image(EngineError::Corrupt(_))
            | ApiError::Upload(
                Refusal::Image(EngineError::Corrupt(_)) | Refusal::Sniff(SniffError::NoEnd),
            ) => "the image is corrupt or truncated".into(),
            ApiError::Upload(Refusal::FormatMismatch { .. }) => SniffError::Unknown.to_string(),
            ApiError::Image(EngineError::Init(_) | EngineError::Failed(_))
            | ApiError::Upload(Refusal::Image(EngineError::Init(_) | EngineError::Failed(_)))
            | ApiError::Internal(_) => "internal error".into(),
            ApiError::Unavailable(..) => {
                "a service this request needs is unavailable; retry shortly".into()
            }
            other => other.to_string(),
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
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(code, cause = %self, "request failed");
        } else {
            tracing::debug!(code, cause = %self, "request refused");
        }
        let body = ErrorBody {
            error: code,
            message: self.public_message(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::RateLimited(decision) => {
                for (name, value) in decision.headers() {
                    headers.insert(name, value);
                }
            }
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable(..)
            | ApiError::Timeout
            | ApiError::Image(EngineError::Timeout(_)) => {
                headers.insert(header::RETRY_AFTER, retry_after(Duration::from_secs(2)));
            }
            _ => {}
        }
        response
    }
}

fn retry_after(after: Duration) -> HeaderValue {
    HeaderValue::from(after.as_secs().max(1))
}
