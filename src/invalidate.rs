//! CDN invalidation: after an image is deleted, ask the CDN to forget everything cached under
//! `/i/{image_id}/`, so no variant outlives its original at the edge.
//!
//! Two implementations behind one trait: [`CloudFrontInvalidator`] (production, one
//! `CreateInvalidation` of a batch of `/i/{id}/*` paths) and [`LocalInvalidator`] (imgedge's
//! own `edge` role in development, through its purge endpoint, or only a log line when there
//! is none). Each call is one request, sent once: the purge outbox ([`crate::purges`]) owns
//! the batching, the retries and the durability, and tells a transient refusal
//! ([`InvalidateError::Unavailable`]) from a permanent one only for its logs.

use std::fmt;
use std::time::Duration;

use aws_sdk_cloudfront::config::http::HttpResponse;
use aws_sdk_cloudfront::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudfront::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::storage::{Timeouts, http_client, timeout_config};
use imgedge_url::ImageId;

/// An invalidation that did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvalidateError {
    /// The CDN could not be reached, timed out, throttled us or failed: try again later.
    #[error("CDN invalidation unavailable: {0}")]
    Unavailable(String),
    /// The CDN refused the request (credentials, distribution id, a malformed purge URL).
    #[error("CDN invalidation rejected: {0}")]
    Rejected(String),
}

/// Asks a CDN to drop everything it caches under some paths.
#[async_trait::async_trait]
pub trait Invalidator: Send + Sync + fmt::Debug {
    /// One request invalidating `paths` (each an [`invalidation_path`]), sent once; `Ok`
    /// when the CDN accepted them.
    async fn invalidate(&self, paths: &[String]) -> Result<(), InvalidateError>;
}

/// The CDN path pattern covering every variant of `image_id`: `/i/{image_id}/*`
/// ([`ImageId::invalidation_path`]).
pub fn invalidation_path(image_id: &ImageId) -> String {
    image_id.invalidation_path()
}

/// A `CloudFront` caller reference: unique per call (`CloudFront` treats a repeated reference as
/// the same invalidation and would silently skip a second request), readable in the console:
/// it names the batch's first path's image.
fn caller_reference(first: &str) -> String {
    let unique = uuid::Uuid::new_v4().simple();
    match ImageId::from_invalidation_path(first) {
        Some(image) => format!("imgedge-{image}-{unique}"),
        None => format!("imgedge-batch-{unique}"),
    }
}

/// Invalidates through `CloudFront`'s `CreateInvalidation`: one request per batch the outbox
/// gives it (one wildcard path per image; `CloudFront` allows 15 in progress at once, and the
/// outbox's batches are no larger).
#[derive(Debug, Clone)]
pub struct CloudFrontInvalidator {
    client: aws_sdk_cloudfront::Client,
    distribution_id: String,
}

/// Settings of [`CloudFrontInvalidator::from_config`].
#[derive(Clone, Default)]
pub struct CloudFrontConfig {
    pub distribution_id: String,
    /// Static credentials; when either is `None` the AWS default chain is used (environment,
    /// profile, web identity, ECS or instance role).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Another endpoint than AWS's (tests, proxies).
    pub endpoint: Option<String>,
}

impl fmt::Debug for CloudFrontConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudFrontConfig")
            .field("distribution_id", &self.distribution_id)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl CloudFrontInvalidator {
    /// Invalidates in `distribution_id` with an already configured client.
    pub fn new(client: aws_sdk_cloudfront::Client, distribution_id: String) -> Self {
        Self {
            client,
            distribution_id,
        }
    }

    /// [`Self::from_config`] with the AWS default credential chain (environment, profile,
    /// web identity, ECS or instance role): the usual production setup.
    pub async fn from_env(distribution_id: String) -> Self {
        Self::from_config(&CloudFrontConfig {
            distribution_id,
            ..CloudFrontConfig::default()
        })
        .await
    }

    /// Builds the client (same HTTP stack and timeouts as the S3 client). `CloudFront` is a
    /// global service signed in us-east-1. The default credential chain resolves lazily, at
    /// the first request.
    pub async fn from_config(cfg: &CloudFrontConfig) -> Self {
        let timeouts = Timeouts::default();
        let region = Region::from_static("us-east-1");
        let mut builder =
            if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
                aws_sdk_cloudfront::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(region)
                    .credentials_provider(Credentials::new(
                        id.clone(),
                        secret.clone(),
                        None,
                        None,
                        "imgedge",
                    ))
            } else {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(region)
                    .http_client(http_client())
                    .timeout_config(timeout_config(timeouts))
                    .load()
                    .await;
                aws_sdk_cloudfront::config::Builder::from(&shared)
            };
        builder = builder
            .http_client(http_client())
            .timeout_config(timeout_config(timeouts));
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        Self::new(
            aws_sdk_cloudfront::Client::from_conf(builder.build()),
            cfg.distribution_id.clone(),
        )
    }
}

/// The request body for `paths`.
fn batch(paths: &[String]) -> Result<InvalidationBatch, InvalidateError> {
    let first = paths.first().map_or("", String::as_str);
    let items = Paths::builder()
        .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
        .set_items(Some(paths.to_vec()))
        .build()
        .map_err(|e| InvalidateError::Rejected(e.to_string()))?;
    InvalidationBatch::builder()
        .paths(items)
        .caller_reference(caller_reference(first))
        .build()
        .map_err(|e| InvalidateError::Rejected(e.to_string()))
}

#[async_trait::async_trait]
impl Invalidator for CloudFrontInvalidator {
    async fn invalidate(&self, paths: &[String]) -> Result<(), InvalidateError> {
        let sent = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution_id)
            .invalidation_batch(batch(paths)?)
            .send()
            .await;
        match sent {
            Ok(output) => {
                tracing::info!(
                    ?paths,
                    distribution = %self.distribution_id,
                    invalidation = output.invalidation().map(aws_sdk_cloudfront::types::Invalidation::id),
                    "CloudFront invalidation created"
                );
                Ok(())
            }
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Sorts a `CloudFront` error like the storage errors: transient or permanent.
fn classify<E>(err: &SdkError<E, HttpResponse>) -> InvalidateError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let detail = DisplayErrorContext(err).to_string();
    let transient = match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            status.is_none_or(|s| s >= 500 || s == 429)
                // Too many invalidations in progress: a quota, it clears by itself.
                || matches!(err.code(), Some("TooManyInvalidationsInProgress" | "Throttling"))
        }
        _ => true,
    };
    if transient {
        InvalidateError::Unavailable(detail)
    } else {
        InvalidateError::Rejected(detail)
    }
}

/// Invalidates through the local edge's purge endpoint: `POST {purge_url}` with
/// `Authorization: Bearer {token}` and `{"paths": ["/i/{id}/*"]}`, the paths `CloudFront`
/// would get. Only logs when there is no edge to purge. Plain HTTP: the edge runs beside the
/// API.
#[derive(Clone)]
pub struct LocalInvalidator {
    purge_url: Option<String>,
    token: Option<String>,
    client: HyperClient<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl fmt::Debug for LocalInvalidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalInvalidator")
            .field("purge_url", &self.purge_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LocalInvalidator {
    /// `purge_url` is the edge's purge endpoint, e.g. `http://127.0.0.1:8000/_edge/purge`;
    /// `token` its bearer token.
    pub fn new(purge_url: Option<String>, token: Option<String>) -> Self {
        let timeouts = Timeouts::default();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeouts.connect));
        Self {
            purge_url,
            token,
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            timeout: Duration::from_secs(5),
        }
    }
}

#[async_trait::async_trait]
impl Invalidator for LocalInvalidator {
    async fn invalidate(&self, paths: &[String]) -> Result<(), InvalidateError> {
        let Some(uri) = &self.purge_url else {
            tracing::info!(?paths, "no local edge to purge; skipping invalidation");
            return Ok(());
        };
        if !uri.starts_with("http://") {
            return Err(InvalidateError::Rejected(format!(
                "purge URL {uri}: only plain http:// is supported"
            )));
        }
        let body = serde_json::json!({ "paths": paths }).to_string();
        let mut request = hyper::Request::post(uri).header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| InvalidateError::Rejected(format!("purge URL {uri}: {e}")))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| InvalidateError::Unavailable(format!("POST {uri}: timed out")))?
            .map_err(|e| InvalidateError::Unavailable(format!("POST {uri}: {e:?}")))?;
        let status = response.status();
        // Drain the body so the connection can be reused; its content does not matter.
        let _ = tokio::time::timeout(self.timeout, response.into_body().collect()).await;
        if status.is_success() {
            tracing::debug!(?paths, "local edge purged");
            Ok(())
        } else if status.is_server_error() || status == hyper::StatusCode::TOO_MANY_REQUESTS {
            Err(InvalidateError::Unavailable(format!(
                "POST {uri}: {status}"
            )))
        } else {
            Err(InvalidateError::Rejected(format!("POST {uri}: {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ImageId {
        "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a"
            .parse()
            .expect("valid id")
    }

    #[test]
    fn path_covers_every_variant_of_the_image() {
        assert_eq!(
            invalidation_path(&id()),
            "/i/0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a/*"
        );
    }

    #[test]
    fn caller_references_are_unique_and_name_the_image() {
        let path = invalidation_path(&id());
        let refs: std::collections::HashSet<String> =
            (0..1000).map(|_| caller_reference(&path)).collect();
        assert_eq!(refs.len(), 1000);
        for r in &refs {
            assert!(
                r.starts_with("imgedge-0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a-"),
                "{r}"
            );
            // CloudFront's limit on CallerReference.
            assert!(r.len() <= 128, "{r}");
        }
    }

    #[test]
    fn a_batch_names_each_path_once_with_a_reference() {
        let paths = vec![invalidation_path(&id()), "/i/other/*".to_owned()];
        let batch = batch(&paths).expect("valid batch");
        let sent = batch.paths().expect("paths");
        assert_eq!(sent.quantity(), 2);
        assert_eq!(sent.items(), paths);
        assert!(
            batch
                .caller_reference()
                .starts_with("imgedge-0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a-")
        );
    }

    #[tokio::test]
    async fn local_without_url_only_logs() {
        let inv = LocalInvalidator::new(None, None);
        inv.invalidate(&[invalidation_path(&id())])
            .await
            .expect("no-op succeeds");
    }
}
