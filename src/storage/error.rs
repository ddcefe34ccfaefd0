//! What a failed storage operation reports, and how an SDK error is sorted into the two cases
//! callers act on: transient ([`StorageError::Unavailable`]) or permanent
//! ([`StorageError::Rejected`]). An SDK error reaches [`classify`] after the SDK's own retries
//! (its standard mode, set where the client is built; [`super::ObjectStore::ping`] turns them
//! off).

use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Why a storage operation failed: the operation, the bucket or key it was about, the HTTP
/// status if there was a response, and the SDK's full error chain for the logs.
#[derive(Debug)]
pub struct Failure {
    pub op: &'static str,
    pub target: String,
    pub status: Option<u16>,
    detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.target)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// A storage operation that did not succeed. The SDK's cause is kept (rendered in full, as the
/// SDK's own `Display` only names the outermost layer) for logs; it is never shown to users.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Could not reach the store, it timed out, or it answered 5xx/throttled: transient.
    #[error("object storage unavailable: {0}")]
    Unavailable(Failure),
    /// The store refused the request (4xx other than not-found): bad credentials, a missing
    /// bucket, a malformed request. Retrying will not help.
    #[error("object storage rejected the request: {0}")]
    Rejected(Failure),
}

impl StorageError {
    pub(super) fn unavailable(
        op: &'static str,
        target: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        StorageError::Unavailable(Failure {
            op,
            target: target.into(),
            status: None,
            detail: detail.to_string(),
        })
    }

    pub(super) fn rejected(
        op: &'static str,
        target: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        StorageError::Rejected(Failure {
            op,
            target: target.into(),
            status: None,
            detail: detail.to_string(),
        })
    }
}

/// The HTTP status of the response an SDK error came with, if any.
pub(super) fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Sorts an SDK error into transient (`Unavailable`) or permanent (`Rejected`).
pub(super) fn classify<E>(
    op: &'static str,
    target: &str,
    err: &SdkError<E, HttpResponse>,
) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = status(err);
    let transient = match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => match status {
            // S3 answers a stalled upload with 400 RequestTimeout; worth retrying later.
            Some(s) => {
                s >= 500 || s == 429 || matches!(err.code(), Some("RequestTimeout" | "SlowDown"))
            }
            None => true,
        },
        // Timeouts, connection failures, and whatever the SDK adds later.
        _ => true,
    };
    let failure = Failure {
        op,
        target: target.to_owned(),
        status,
        detail: DisplayErrorContext(err).to_string(),
    };
    if transient {
        StorageError::Unavailable(failure)
    } else {
        StorageError::Rejected(failure)
    }
}
