//! Object storage: the one S3 client every role uses, whatever speaks S3 behind it (AWS S3,
//! `MinIO`, or the embedded development server in [`embedded`]).
//!
//! There is deliberately no storage trait: every backend is reached through `aws-sdk-s3`
//! exactly as in production, so tests exercise the real request signing, retries and error
//! mapping. Errors are reduced to the two cases callers act on: [`StorageError::Unavailable`]
//! (try again later, the API answers 503) and [`StorageError::Rejected`] (the request or the
//! configuration is wrong). A missing object is not an error: [`ObjectStore::get`] answers
//! `None` and [`ObjectStore::delete`] succeeds.
//!
//! Key layout (owned by the callers): `o/{image_id}` for originals, `v/{image_id}/{sig}` for
//! rendered variants.

#[cfg(feature = "embedded-s3")]
pub mod embedded;

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use bytes::Bytes;

/// Where the objects live and how to sign for them.
#[derive(Clone)]
pub struct S3Config {
    /// `None` is AWS S3 (the endpoint comes from the region); otherwise e.g.
    /// `http://127.0.0.1:9000` for `MinIO` or the embedded server.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// Empty for the AWS default credential chain ([`ObjectStore::connect`]).
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `http://host/bucket/key` rather than `http://bucket.host/key`: needed by `MinIO` and the
    /// embedded server, which have no wildcard DNS.
    pub force_path_style: bool,
}

impl Default for S3Config {
    /// AWS S3 in `us-east-1`, bucket `imgedge`, credentials from the default chain.
    fn default() -> Self {
        S3Config {
            endpoint: None,
            region: "us-east-1".into(),
            bucket: "imgedge".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            force_path_style: false,
        }
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("force_path_style", &self.force_path_style)
            .finish()
    }
}

/// Network time limits of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP (and TLS) connection. Short, so a dead endpoint is noticed quickly
    /// (readiness probes, requests answered 503 rather than hanging).
    pub connect: Duration,
    /// A whole operation, retries included. Long enough for a 25 MiB upload on a slow link.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            operation: Duration::from_secs(30),
        }
    }
}

/// An object read back from the store.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Bytes,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    /// For a variant, the canonical query it was rendered from ([`ObjectStore::put_variant`]).
    pub canonical_query: Option<String>,
}

/// The user-metadata name (`x-amz-meta-canonical-query`) of a variant's canonical query.
const CANONICAL_QUERY_META: &str = "canonical-query";

/// A key found by listing, with when it was last written (when the server says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub last_modified: Option<std::time::SystemTime>,
}

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
    /// The failure, whichever kind it is.
    pub fn failure(&self) -> &Failure {
        match self {
            StorageError::Unavailable(f) | StorageError::Rejected(f) => f,
        }
    }

    fn unavailable(op: &'static str, target: impl Into<String>, detail: impl fmt::Display) -> Self {
        StorageError::Unavailable(Failure {
            op,
            target: target.into(),
            status: None,
            detail: detail.to_string(),
        })
    }

    fn rejected(op: &'static str, target: impl Into<String>, detail: impl fmt::Display) -> Self {
        StorageError::Rejected(Failure {
            op,
            target: target.into(),
            status: None,
            detail: detail.to_string(),
        })
    }
}

/// Most keys a `DeleteObjects` request may name (an S3 limit) and the default page size of
/// `ListObjectsV2`.
const PAGE: usize = 1000;

/// The S3 client of one bucket. Cheap to clone (the SDK client is reference-counted and keeps
/// one connection pool).
#[derive(Clone)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: String,
    endpoint: Option<String>,
}

impl fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStore")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The HTTP client of the AWS SDK clients: hyper with rustls (ring), which also speaks plain
/// HTTP for `http://` endpoints (`MinIO`, the embedded server on loopback). Built explicitly
/// because the SDK crates are compiled without their default client.
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK timeout settings for `timeouts`.
pub(crate) fn timeout_config(timeouts: Timeouts) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeouts.connect)
        .operation_timeout(timeouts.operation)
        .build()
}

impl ObjectStore {
    /// A client for `cfg` with the default [`Timeouts`]. No network I/O happens here.
    pub fn new(cfg: &S3Config) -> ObjectStore {
        Self::with_timeouts(cfg, Timeouts::default())
    }

    /// A client for `cfg`: with its static key pair when it has one, else with the AWS
    /// default credential chain (environment, profile, web identity, ECS task role, instance
    /// role), resolved lazily at the first request. Default timeouts.
    pub async fn connect(cfg: &S3Config) -> ObjectStore {
        if !cfg.access_key_id.is_empty() {
            return Self::new(cfg);
        }
        let timeouts = Timeouts::default();
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .http_client(http_client())
            .timeout_config(timeout_config(timeouts))
            .load()
            .await;
        Self::finish(cfg, aws_sdk_s3::config::Builder::from(&shared))
    }

    /// A client for `cfg` with the given time limits. No network I/O happens here.
    pub fn with_timeouts(cfg: &S3Config, timeouts: Timeouts) -> ObjectStore {
        let credentials = Credentials::new(
            cfg.access_key_id.clone(),
            cfg.secret_access_key.clone(),
            None,
            None,
            "imgedge",
        );
        let builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client())
            .timeout_config(timeout_config(timeouts))
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(credentials);
        Self::finish(cfg, builder)
    }

    /// What every client shares: retries, addressing, the endpoint, the bucket.
    fn finish(cfg: &S3Config, builder: aws_sdk_s3::config::Builder) -> ObjectStore {
        let mut builder = builder
            .retry_config(RetryConfig::standard())
            .force_path_style(cfg.force_path_style);
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        ObjectStore {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: cfg.bucket.clone(),
            region: cfg.region.clone(),
            endpoint: cfg.endpoint.clone(),
        }
    }

    /// The bucket every operation addresses.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The underlying SDK client, for operations this type does not wrap.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Creates the bucket if it does not exist (development and tests; production buckets
    /// are made by infrastructure code with their policies).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        const OP: &str = "CreateBucket";
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(classify("HeadBucket", &self.bucket, &e)),
        }
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        // Outside us-east-1, AWS wants the region repeated in the body.
        if self.endpoint.is_none() && self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // Someone else (another test, another replica) created it in between.
            Err(e)
                if matches!(
                    e.code(),
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(classify(OP, &self.bucket, &e)),
        }
    }

    /// Whether the store answers, with these credentials, for this bucket: reads a key that
    /// never exists (`.readyz`). "No such key" is an answer, and so is "access denied": a role
    /// may read only some prefixes (and without list permission, S3 answers a missing key with
    /// 403), which proves the store reachable and the request signed. A wrong key or secret,
    /// a missing bucket, or no answer are failures.
    pub async fn ping(&self) -> Result<(), StorageError> {
        const KEY: &str = ".readyz";
        let answered = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(KEY)
            .customize()
            // A probe reports the state now; whoever probes repeats it, so no retries (which
            // would also delay a "not ready" answer by their backoff).
            .config_override(aws_sdk_s3::Config::builder().retry_config(RetryConfig::disabled()))
            .send()
            .await;
        match answered {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => Ok(()),
            Err(e) if e.code() == Some("AccessDenied") => Ok(()),
            Err(e) => Err(classify("GetObject", KEY, &e)),
        }
    }

    /// Stores `body` under `key`, replacing any previous object whole.
    pub async fn put(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("PutObject", key, &e))
    }

    /// Stores a rendered variant: [`ObjectStore::put`], plus the `Cache-Control` that S3
    /// answers GETs with (what a CDN in front of the bucket caches it by) and the canonical
    /// query it renders, as user metadata ([`Object::canonical_query`]): the key holds only
    /// the signature, so a reader without the URL secret checks the query against this.
    pub async fn put_variant(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
        cache_control: &str,
        canonical_query: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(cache_control)
            .metadata(CANONICAL_QUERY_META, canonical_query)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("PutObject", key, &e))
    }

    /// The object under `key`, or `None` if there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Object>, StorageError> {
        const OP: &str = "GetObject";
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Ok(None);
            }
            Err(e) => return Err(classify(OP, key, &e)),
        };
        let content_type = output.content_type().map(str::to_owned);
        let etag = output.e_tag().map(str::to_owned);
        let cache_control = output.cache_control().map(str::to_owned);
        let canonical_query = output
            .metadata()
            .and_then(|m| m.get(CANONICAL_QUERY_META))
            .cloned();
        // The body streams after the headers; a connection lost mid-body is transient.
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::unavailable(OP, key, DisplayErrorContext(&e)))?
            .into_bytes();
        Ok(Some(Object {
            bytes,
            content_type,
            etag,
            cache_control,
            canonical_query,
        }))
    }

    /// Whether an object exists under `key` (`HeadObject`; a HEAD answer has no body, so a
    /// missing bucket also reads as `false` here).
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) => {
                Ok(false)
            }
            Err(e) => Err(classify("HeadObject", key, &e)),
        }
    }

    /// Removes the object under `key`; removing a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("DeleteObject", key, &e))
    }

    /// Removes every object whose key starts with `prefix`, a page of up to 1000 keys per
    /// `DeleteObjects` request, and answers how many were removed. An empty prefix is refused
    /// rather than emptying the bucket.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        const OP: &str = "DeleteObjects";
        if prefix.is_empty() {
            return Err(StorageError::rejected(
                OP,
                prefix,
                "refusing to delete with an empty prefix (the whole bucket)",
            ));
        }
        let mut deleted = 0u64;
        let mut token = None;
        loop {
            let (objects, next) = self.list_page(prefix, token.take()).await?;
            if !objects.is_empty() {
                let keys = objects.into_iter().map(|o| o.key).collect();
                deleted += self.delete_batch(prefix, keys).await?;
            }
            match next {
                Some(t) => token = Some(t),
                None => return Ok(deleted),
            }
        }
    }

    /// Every key that starts with `prefix`, in key order, across all listing pages.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .list_objects(prefix)
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect())
    }

    /// Every object under `prefix` with its last-modified time, across all pages.
    pub async fn list_objects(&self, prefix: &str) -> Result<Vec<Listed>, StorageError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let (objects, next) = self.list_page(prefix, token.take()).await?;
            all.extend(objects);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(all),
            }
        }
    }

    /// One `ListObjectsV2` page: its objects and the continuation token if there are more.
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<(Vec<Listed>, Option<String>), StorageError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(PAGE as i32)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| classify("ListObjectsV2", prefix, &e))?;
        let keys = output
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_owned(),
                    last_modified: o
                        .last_modified()
                        .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
                })
            })
            .collect();
        let next = if output.is_truncated() == Some(true) {
            // A truncated page without a token would make us loop forever; stop instead.
            let token = output.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return Err(StorageError::rejected(
                    "ListObjectsV2",
                    prefix,
                    "truncated listing without a continuation token",
                ));
            }
            token
        } else {
            None
        };
        Ok((keys, next))
    }

    /// Deletes up to [`PAGE`] keys in one request; per-key failures fail the whole call.
    async fn delete_batch(&self, prefix: &str, keys: Vec<String>) -> Result<u64, StorageError> {
        const OP: &str = "DeleteObjects";
        let requested = keys.len() as u64;
        let objects = keys
            .into_iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::rejected(OP, prefix, e))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| StorageError::rejected(OP, prefix, e))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| classify(OP, prefix, &e))?;
        let errors = output.errors();
        if let Some(first) = errors.first() {
            let detail = format!(
                "{} of {requested} keys not deleted; first: {} {} {}",
                errors.len(),
                first.key().unwrap_or("?"),
                first.code().unwrap_or("?"),
                first.message().unwrap_or(""),
            );
            let transient = matches!(
                first.code(),
                Some("InternalError" | "SlowDown" | "ServiceUnavailable")
            );
            return Err(if transient {
                StorageError::unavailable(OP, prefix, detail)
            } else {
                StorageError::rejected(OP, prefix, detail)
            });
        }
        Ok(requested)
    }
}

/// The HTTP status of the response an SDK error came with, if any.
fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Sorts an SDK error into transient (`Unavailable`) or permanent (`Rejected`).
fn classify<E>(op: &'static str, target: &str, err: &SdkError<E, HttpResponse>) -> StorageError
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let cfg = S3Config {
            endpoint: None,
            region: "eu-west-1".into(),
            bucket: "b".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-very-secret".into(),
            force_path_style: false,
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        let store = ObjectStore::new(&cfg);
        assert!(!format!("{store:?}").contains("very-secret"));
        assert_eq!(store.bucket(), "b");
    }
}
