//! Object storage: the one S3 client every role uses, whatever speaks S3 behind it (AWS S3,
//! `MinIO`, or the embedded development server in [`embedded`]). The only code that talks to
//! S3.
//!
//! There is deliberately no storage trait: every backend is reached through `aws-sdk-s3`
//! exactly as in production, so tests exercise the real request signing, retries and error
//! mapping. Errors are reduced to the two cases callers act on: [`StorageError::Unavailable`]
//! (try again later, the API answers 503) and [`StorageError::Rejected`] (the request or the
//! configuration is wrong). A missing object is not an error: [`ObjectStore::get`] answers
//! `None` and [`ObjectStore::delete`] succeeds.
//!
//! Key layout: the URL contract's (`crates/imgedge-url` spells the keys), `o/{image_id}` for
//! originals and `v/{image_id}/{sig}` for rendered variants. The operations here take keys
//! and prefixes as given.
//!
//! Here: [`ObjectStore`] and its operations on single objects. Configuration and client
//! construction are in `config`, the operations on a whole prefix (listing, bulk deletion) in
//! `prefix`, errors and their classification in `error`.

mod config;
#[cfg(feature = "embedded-s3")]
pub mod embedded;
mod error;
mod prefix;

use std::fmt;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;

pub use config::{S3Config, Timeouts};
pub(crate) use config::{http_client, timeout_config};
pub use error::{Failure, StorageError};
use error::{classify, status};
pub use prefix::Listed;

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

impl ObjectStore {
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
}
