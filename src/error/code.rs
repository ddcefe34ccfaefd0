//! [`ErrorCode`]: every public error code imgedge answers with, written once, with its HTTP
//! status, its retry behaviour and what it means. `docs/errors.md` is the same table for
//! users; a test keeps the two equal.

use std::time::Duration;

use hyper::StatusCode;
use imgedge_url::UrlError;

/// Whether, and when, a client may send the same request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same request gets the same answer: change it first.
    Never,
    /// The cause is passing (an outage, a full queue): `Retry-After` this long.
    After(Duration),
    /// A rate limit: `Retry-After` and `RateLimit-*` from the limiter's own decision.
    RateLimit,
}

/// A public error code: the `error` field of every error body, `{"error": CODE, "message":
/// TEXT}`, on every surface (the API, the transformer, the edge, the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A transform URL or image id the spec refuses: the URL contract's own codes
    /// (`duplicate_param`, `bad_value`, `out_of_range`, `bad_image_id`, `bad_sig`), which
    /// live in `imgedge-url` and are not spelt again here.
    Url(UrlError),
    BadJson,
    BadMultipart,
    UnexpectedField,
    MissingFile,
    BadBody,
    BadQuery,
    BadLimit,
    BadCursor,
    BadFilter,
    InvalidField,
    InvalidEmail,
    InvalidPassword,
    BadRequest,
    BadPath,
    EmptyFile,
    Unauthorized,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenReused,
    OriginForbidden,
    BadSignature,
    StorageQuotaExceeded,
    InsufficientScope,
    NotFound,
    MethodNotAllowed,
    PreconditionFailed,
    LimitReached,
    UploadTimeout,
    TooLarge,
    UnsupportedMediaType,
    UnsupportedFormat,
    CorruptImage,
    TooManyPixels,
    TooManyFrames,
    MetadataTooLarge,
    OutputTooLarge,
    BeyondImageBounds,
    CropOutside,
    RateLimited,
    TooManyUploads,
    VariantLimit,
    Internal,
    RenderFailed,
    IoError,
    Unavailable,
    Timeout,
    RenderTimeout,
    Overloaded,
    UploadsBusy,
    OriginUnavailable,
    OriginTimeout,
}

impl ErrorCode {
    /// Every code but the URL contract's, in the order of `docs/errors.md`.
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::BadJson,
        ErrorCode::BadMultipart,
        ErrorCode::UnexpectedField,
        ErrorCode::MissingFile,
        ErrorCode::BadBody,
        ErrorCode::BadQuery,
        ErrorCode::BadLimit,
        ErrorCode::BadCursor,
        ErrorCode::BadFilter,
        ErrorCode::InvalidField,
        ErrorCode::InvalidEmail,
        ErrorCode::InvalidPassword,
        ErrorCode::BadRequest,
        ErrorCode::BadPath,
        ErrorCode::EmptyFile,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidRefreshToken,
        ErrorCode::RefreshTokenReused,
        ErrorCode::OriginForbidden,
        ErrorCode::BadSignature,
        ErrorCode::StorageQuotaExceeded,
        ErrorCode::InsufficientScope,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PreconditionFailed,
        ErrorCode::LimitReached,
        ErrorCode::UploadTimeout,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::UnsupportedFormat,
        ErrorCode::CorruptImage,
        ErrorCode::TooManyPixels,
        ErrorCode::TooManyFrames,
        ErrorCode::MetadataTooLarge,
        ErrorCode::OutputTooLarge,
        ErrorCode::BeyondImageBounds,
        ErrorCode::CropOutside,
        ErrorCode::RateLimited,
        ErrorCode::TooManyUploads,
        ErrorCode::VariantLimit,
        ErrorCode::Internal,
        ErrorCode::RenderFailed,
        ErrorCode::IoError,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
        ErrorCode::RenderTimeout,
        ErrorCode::Overloaded,
        ErrorCode::UploadsBusy,
        ErrorCode::OriginUnavailable,
        ErrorCode::OriginTimeout,
    ];

    /// The code as it appears in error bodies.
    pub fn as_str(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::Url(e) => e.code(),
            C::BadJson => "bad_json",
            C::BadMultipart => "bad_multipart",
            C::UnexpectedField => "unexpected_field",
            C::MissingFile => "missing_file",
            C::BadBody => "bad_body",
            C::BadQuery => "bad_query",
            C::BadLimit => "bad_limit",
            C::BadCursor => "bad_cursor",
            C::BadFilter => "bad_filter",
            C::InvalidField => "invalid_field",
            C::InvalidEmail => "invalid_email",
            C::InvalidPassword => "invalid_password",
            C::BadRequest => "bad_request",
            C::BadPath => "bad_path",
            C::EmptyFile => "empty_file",
            C::Unauthorized => "unauthorized",
            C::InvalidCredentials => "invalid_credentials",
            C::InvalidRefreshToken => "invalid_refresh_token",
            C::RefreshTokenReused => "refresh_token_reused",
            C::OriginForbidden => "origin_forbidden",
            C::BadSignature => "bad_signature",
            C::StorageQuotaExceeded => "storage_quota_exceeded",
            C::InsufficientScope => "insufficient_scope",
            C::NotFound => "not_found",
            C::PreconditionFailed => "precondition_failed",
            C::LimitReached => "limit_reached",
            C::MethodNotAllowed => "method_not_allowed",
            C::UploadTimeout => "upload_timeout",
            C::TooLarge => "too_large",
            C::UnsupportedMediaType => "unsupported_media_type",
            C::UnsupportedFormat => "unsupported_format",
            C::CorruptImage => "corrupt_image",
            C::TooManyPixels => "too_many_pixels",
            C::TooManyFrames => "too_many_frames",
            C::MetadataTooLarge => "metadata_too_large",
            C::OutputTooLarge => "output_too_large",
            C::BeyondImageBounds => "beyond_image_bounds",
            C::CropOutside => "crop_outside",
            C::RateLimited => "rate_limited",
            C::TooManyUploads => "too_many_uploads",
            C::VariantLimit => "variant_limit",
            C::Internal => "internal",
            C::RenderFailed => "render_failed",
            C::IoError => "io_error",
            C::Unavailable => "unavailable",
            C::Timeout => "timeout",
            C::RenderTimeout => "render_timeout",
            C::Overloaded => "overloaded",
            C::UploadsBusy => "uploads_busy",
            C::OriginUnavailable => "origin_unavailable",
            C::OriginTimeout => "origin_timeout",
        }
    }

    /// The HTTP status every surface answers this code with.
    pub fn status(self) -> StatusCode {
        use ErrorCode as C;
        match self {
            C::Url(_)
            | C::BadJson
            | C::BadMultipart
            | C::UnexpectedField
            | C::MissingFile
            | C::BadBody
            | C::BadQuery
            | C::BadLimit
            | C::BadCursor
            | C::BadFilter
            | C::InvalidField
            | C::InvalidEmail
            | C::InvalidPassword
            | C::BadRequest
            | C::BadPath
            | C::EmptyFile => StatusCode::BAD_REQUEST,
            C::Unauthorized
            | C::InvalidCredentials
            | C::InvalidRefreshToken
            | C::RefreshTokenReused => StatusCode::UNAUTHORIZED,
            C::OriginForbidden
            | C::BadSignature
            | C::StorageQuotaExceeded
            | C::InsufficientScope => StatusCode::FORBIDDEN,
            C::NotFound => StatusCode::NOT_FOUND,
            C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            C::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            C::LimitReached => StatusCode::CONFLICT,
            C::UploadTimeout => StatusCode::REQUEST_TIMEOUT,
            C::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::UnsupportedMediaType | C::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            C::CorruptImage
            | C::TooManyPixels
            | C::TooManyFrames
            | C::MetadataTooLarge
            | C::OutputTooLarge
            | C::BeyondImageBounds
            | C::CropOutside => StatusCode::UNPROCESSABLE_ENTITY,
            C::RateLimited | C::TooManyUploads | C::VariantLimit => StatusCode::TOO_MANY_REQUESTS,
            C::Internal | C::RenderFailed | C::IoError => StatusCode::INTERNAL_SERVER_ERROR,
            C::Unavailable
            | C::Timeout
            | C::RenderTimeout
            | C::Overloaded
            | C::UploadsBusy
            | C::OriginUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            C::OriginTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// Whether and when the same request may succeed.
    pub fn retry(self) -> Retry {
        use ErrorCode as C;
        match self {
            C::RateLimited => Retry::RateLimit,
            C::Unavailable | C::Timeout | C::RenderTimeout => Retry::After(Duration::from_secs(2)),
            C::Overloaded
            | C::TooManyUploads
            | C::UploadsBusy
            | C::OriginUnavailable
            | C::OriginTimeout => Retry::After(Duration::from_secs(1)),
            _ => Retry::Never,
        }
    }

    /// What the code means, in one line: the message of an error whose own text is not for
    /// the client (it carries a dependency's cause), and the row of `docs/errors.md`.
    pub fn meaning(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::Url(_) => "the transform URL or image id is not one the spec accepts",
            C::BadJson => "the request body is not valid JSON for this endpoint",
            C::BadMultipart => "the multipart form is malformed",
            C::UnexpectedField => "the upload form takes one field, `file`",
            C::MissingFile => "the upload form has no `file` field",
            C::BadBody => "the request body could not be read",
            C::BadQuery => "the query string is malformed",
            C::BadLimit => "the page size is out of range",
            C::BadCursor => "the page cursor is not one this API issued",
            C::BadFilter => "a listing filter (tag, format, date, sort) is malformed",
            C::InvalidField => "a field of the request breaks its rule; the message names it",
            C::InvalidEmail => "the email is not an address",
            C::InvalidPassword => "the password is too short or too long",
            C::BadRequest => "the purge request's body is malformed",
            C::BadPath => "a purge path does not start with / or has a * before its end",
            C::EmptyFile => "the upload is empty",
            C::Unauthorized => "missing or invalid credentials",
            C::InvalidCredentials => "wrong email or password",
            C::InvalidRefreshToken => {
                "the refresh token is invalid or expired, or its session reached its lifetime"
            }
            C::RefreshTokenReused => {
                "the refresh token was already used, or its session was signed out; the session is revoked"
            }
            C::OriginForbidden => "this origin answers only the CDN",
            C::InsufficientScope => {
                "these credentials may not do this: a read-only API key cannot write, and no API key can manage the account"
            }
            C::PreconditionFailed => {
                "the image changed since the ETag in If-Match; read it again and retry"
            }
            C::LimitReached => "the account has as many of these as allowed; delete one first",
            C::BadSignature => "the signature does not match this image and query",
            C::StorageQuotaExceeded => {
                "the account stores as many bytes or images as its quota allows; delete some first"
            }
            C::NotFound => "no such image, file or route",
            C::MethodNotAllowed => "this method is not allowed here",
            C::UploadTimeout => "the upload's body did not arrive within the upload timeout",
            C::TooLarge => "the body is larger than allowed",
            C::UnsupportedMediaType => "the request's Content-Type is not one this endpoint takes",
            C::UnsupportedFormat => "not a JPEG, PNG, WebP, GIF or HEIF/AVIF image",
            C::CorruptImage => "the image is corrupt or truncated",
            C::TooManyPixels => "the image has more pixels than allowed",
            C::TooManyFrames => "the image has more frames than allowed",
            C::MetadataTooLarge => {
                "the image's metadata (text, EXIF, XMP, ICC) is larger than allowed"
            }
            C::OutputTooLarge => "the requested output is larger than allowed",
            C::BeyondImageBounds => {
                "the transform is valid but beyond what makes sense for this image (docs/transform-urls.md)"
            }
            C::CropOutside => "the crop region lies wholly outside the image",
            C::RateLimited => "too many requests; retry after `Retry-After` seconds",
            C::TooManyUploads => {
                "this account has as many uploads in progress as allowed; retry shortly"
            }
            C::VariantLimit => "the image already has as many variants as allowed",
            C::Internal => "internal error",
            C::RenderFailed => "the image could not be rendered",
            C::IoError => "a local file could not be read or written (command line only)",
            C::Unavailable => "a service this request needs is unavailable; retry shortly",
            C::Timeout => "the request took too long; retry shortly",
            C::RenderTimeout => "the render, or the decode that checks an upload, took too long",
            C::Overloaded => "too many renders in progress; retry shortly",
            C::UploadsBusy => {
                "the server is receiving as many uploads as it can hold; retry shortly"
            }
            C::OriginUnavailable => "the origin did not answer; retry shortly",
            C::OriginTimeout => "the origin took too long to answer; retry shortly",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the code as spelt in error bodies (what clients and tests hold).
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
