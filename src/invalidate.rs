//! CDN invalidation: after an image is deleted, ask the CDN to forget everything cached under
//! `/i/{image_id}/`, so no variant outlives its original at the edge.
//!
//! Two implementations behind one trait: [`CloudFrontInvalidator`] (production, one
//! `CreateInvalidation` of `/i/{id}/*`) and [`LocalInvalidator`] (imgedge's own `edge` role in
//! development, through its purge endpoint, or only a log line when there is none).
//! Invalidation is best effort by nature (a CDN may also hold the object until its TTL): the
//! caller decides whether a failure fails the request or is only logged.

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

use tokio::sync::{mpsc, oneshot};

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

/// Asks a CDN to drop every cached variant of an image.
#[async_trait::async_trait]
pub trait Invalidator: Send + Sync + fmt::Debug {
    async fn invalidate_image(&self, image_id: &ImageId) -> Result<(), InvalidateError>;
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

/// How invalidations are grouped and retried.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// How long the first path of a batch waits for others to join it.
    pub window: Duration,
    /// Most paths in one request. `CloudFront` allows 15 wildcard paths in progress at once,
    /// so a larger batch would only be refused.
    pub max_paths: usize,
    /// Backoff after a transient refusal (`TooManyInvalidationsInProgress`, throttling, 5xx,
    /// a network error), doubling up to `max_backoff`...
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// ...until this much time has passed since the first attempt.
    pub give_up_after: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        BatchPolicy {
            window: Duration::from_millis(250),
            max_paths: 15,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            give_up_after: Duration::from_mins(5),
        }
    }
}

/// An image's path waiting in the queue, and where its outcome goes.
struct Pending {
    path: String,
    done: oneshot::Sender<Result<(), InvalidateError>>,
}

/// Invalidates through `CloudFront`'s `CreateInvalidation`. Deletes that happen close together
/// share one request (one wildcard path per image), sent by a background task one batch at a
/// time and retried with backoff while `CloudFront` says too many are in progress.
#[derive(Debug, Clone)]
pub struct CloudFrontInvalidator {
    queue: mpsc::Sender<Pending>,
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
    pub batch: BatchPolicy,
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
            .field("batch", &self.batch)
            .finish()
    }
}

impl CloudFrontInvalidator {
    /// Invalidates in `distribution_id` with an already configured client. Starts the batching
    /// task, so it must be called within a Tokio runtime; the task ends when the last clone
    /// of the invalidator is dropped.
    pub fn new(
        client: aws_sdk_cloudfront::Client,
        distribution_id: String,
        policy: BatchPolicy,
    ) -> Self {
        let (queue, pending) = mpsc::channel(4096);
        tokio::spawn(send_batches(
            client,
            distribution_id.clone(),
            policy,
            pending,
        ));
        Self {
            queue,
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
            cfg.batch,
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

/// The batching task: takes a path, waits `window` for more (up to `max_paths`), sends them
/// as one invalidation, and gives every waiting caller the outcome.
async fn send_batches(
    client: aws_sdk_cloudfront::Client,
    distribution_id: String,
    policy: BatchPolicy,
    mut pending: mpsc::Receiver<Pending>,
) {
    while let Some(first) = pending.recv().await {
        let mut waiting = vec![first];
        let until = tokio::time::Instant::now() + policy.window;
        while waiting.len() < policy.max_paths.max(1) {
            match tokio::time::timeout_at(until, pending.recv()).await {
                Ok(Some(next)) => waiting.push(next),
                Ok(None) | Err(_) => break,
            }
        }
        let mut paths: Vec<String> = waiting.iter().map(|p| p.path.clone()).collect();
        paths.sort();
        paths.dedup();
        let outcome = create_with_retry(&client, &distribution_id, &paths, &policy).await;
        for p in waiting {
            let _ = p.done.send(outcome.clone());
        }
    }
}

/// One `CreateInvalidation`, retried with backoff while the refusal is transient.
async fn create_with_retry(
    client: &aws_sdk_cloudfront::Client,
    distribution_id: &str,
    paths: &[String],
    policy: &BatchPolicy,
) -> Result<(), InvalidateError> {
    let started = tokio::time::Instant::now();
    let mut backoff = policy.first_backoff;
    loop {
        let sent = client
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch(paths)?)
            .send()
            .await;
        match sent {
            Ok(output) => {
                tracing::info!(
                    ?paths,
                    distribution = %distribution_id,
                    invalidation = output.invalidation().map(aws_sdk_cloudfront::types::Invalidation::id),
                    "CloudFront invalidation created"
                );
                return Ok(());
            }
            Err(e) => match classify(&e) {
                InvalidateError::Unavailable(detail)
                    if started.elapsed() + backoff <= policy.give_up_after =>
                {
                    tracing::info!(?paths, %detail, ?backoff, "CloudFront invalidation deferred; retrying");
                    metrics::counter!("imgedge_invalidation_retries_total").increment(1);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(policy.max_backoff);
                }
                other => return Err(other),
            },
        }
    }
}

#[async_trait::async_trait]
impl Invalidator for CloudFrontInvalidator {
    async fn invalidate_image(&self, image_id: &ImageId) -> Result<(), InvalidateError> {
        let (done, outcome) = oneshot::channel();
        let pending = Pending {
            path: invalidation_path(image_id),
            done,
        };
        let stopped = || {
            InvalidateError::Unavailable(format!(
                "the invalidation task of {} has stopped",
                self.distribution_id
            ))
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
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
    async fn invalidate_image(&self, image_id: &ImageId) -> Result<(), InvalidateError> {
        let Some(uri) = &self.purge_url else {
            tracing::info!(%image_id, path = %invalidation_path(image_id), "no local edge to purge; skipping invalidation");
            return Ok(());
        };
        if !uri.starts_with("http://") {
            return Err(InvalidateError::Rejected(format!(
                "purge URL {uri}: only plain http:// is supported"
            )));
        }
        let body = serde_json::json!({ "paths": [invalidation_path(image_id)] }).to_string();
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
            tracing::debug!(%image_id, "local edge purged");
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
        inv.invalidate_image(&id()).await.expect("no-op succeeds");
    }
}
