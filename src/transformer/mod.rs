//! The transformer origin (`imgedge transformer`): renders a variant the first time a CDN
//! misses on it, stores it in S3 and returns it once. Every later request is answered by
//! the edge or by S3; this role is the origin of last resort.
//!
//! One request, as steps (each a function below, in this order):
//! 1. the caller is an edge: it carries the origin secret header ([`ORIGIN_SECRET_HEADER`]);
//! 2. parse the URL ([`TransformRequest::parse`]); non-canonical → 301, then the signature;
//! 3. single flight on the variant key: concurrent requests share one production;
//! 4. production: the image exists (its owner), the cross-process render lease (or wait for
//!    the peer that holds it), the variant cap and the owner's render rate, fetch the
//!    original, admission to the bounded render pool, render, PUT, record in PostgreSQL;
//! 5. the response: the bytes with a long immutable lifetime, a strong `ETag` and
//!    `Server-Timing`.
//!
//! The engine enforces the render's own deadline between its steps; this module bounds how
//! many renders run (the pool) and wait (the queue): past that it answers 503.

mod decoded;
mod error;
mod lock;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use decoded::DecodedCacheSettings;
pub use error::TransformerError;

use crate::db::{Db, NewVariant, VariantRecorded};
use crate::error::{ErrorResponse, OnlyGetAndHead, PublicError as _};
use crate::http::{Body, SharedSecret, full};
use crate::protocol::{
    IMMUTABLE_CACHE_CONTROL, ORIGIN_SECRET_HEADER, REDIRECT_CACHE_CONTROL, RenderBudget,
    variant_etag,
};
use crate::ratelimit::{Quota, RateLimiter};
use crate::redis::RedisHandle;
use crate::singleflight::{Role, SingleFlight};
use crate::storage::{Object, ObjectStore};
use imgedge_engine::{Decoded, Engine, EngineError, Rendered, Timings};
use imgedge_url::{Decision, Format, TransformRequest, UrlSecret};

/// Limits and sizes of the role.
#[derive(Debug, Clone)]
pub struct TransformerSettings {
    /// Distinct variants one image may have.
    pub max_variants_per_image: u64,
    /// New renders per image owner.
    pub render_quota: Quota,
    /// Renders running at once (the pool); 0 means the number of cores.
    pub workers: usize,
    /// Renders admitted to wait for the pool; beyond, 503.
    pub queue: usize,
    /// Originals kept decoded for more variants of them (see [`decoded`]).
    pub decoded_cache: DecodedCacheSettings,
}

impl Default for TransformerSettings {
    fn default() -> Self {
        TransformerSettings {
            max_variants_per_image: 100,
            render_quota: Quota::per_minute(600, 120),
            workers: 0,
            queue: 64,
            decoded_cache: DecodedCacheSettings::default(),
        }
    }
}

/// The parts a [`Transformer`] is made of.
#[derive(Debug)]
pub struct Parts {
    pub settings: TransformerSettings,
    pub db: Db,
    pub store: ObjectStore,
    pub redis: Option<RedisHandle>,
    pub engine: Engine,
    pub url_secret: UrlSecret,
    pub origin_secret: SharedSecret,
}

/// The role's shared state. Cheap to clone.
#[derive(Clone)]
pub struct Transformer(Arc<Inner>);

struct Inner {
    settings: TransformerSettings,
    /// How long a variant's production may take, from the engine's render timeout.
    budget: RenderBudget,
    db: Db,
    store: ObjectStore,
    redis: Option<RedisHandle>,
    limiter: RateLimiter,
    engine: Engine,
    url_secret: UrlSecret,
    origin_secret: SharedSecret,
    flights: SingleFlight<String, Produced>,
    pool: Pool,
    decoded: decoded::DecodedCache,
    /// Fetches and decodes of originals in progress, by image.
    fetches: SingleFlight<uuid::Uuid, Result<Fetched, Arc<TransformerError>>>,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

/// An original fetched for the renders of its image waiting at once, and its decode when
/// it is worth keeping.
#[derive(Clone)]
struct Fetched {
    bytes: Bytes,
    decoded: Option<Decoded>,
    fetch: Duration,
}

/// A variant ready to send.
#[derive(Debug, Clone)]
struct Variant {
    bytes: Bytes,
    content_type: &'static str,
    etag: String,
    /// The `Server-Timing` value of the production.
    timing: String,
}

/// What one production gave, shared by every request that waited for it.
type Produced = Arc<Result<Variant, ErrorResponse>>;

/// The bounded render pool: `workers` renders at once, and at most `limit` admitted
/// (running or waiting) in total.
struct Pool {
    running: Semaphore,
    workers: usize,
    admitted: AtomicUsize,
    limit: usize,
    cores: usize,
}

/// A place in the pool's queue, given back when dropped.
struct Ticket<'a>(&'a Pool);

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    fn new(workers: usize, queue: usize, cores: usize) -> Pool {
        Pool {
            running: Semaphore::new(workers),
            workers,
            admitted: AtomicUsize::new(0),
            limit: workers + queue,
            cores,
        }
    }

    /// libvips threads for a render starting now: the cores shared among the renders
    /// running (this one included). One render alone gets every core, which shortens the
    /// wait of its one user; under load each gets one, which avoids the cost of threads
    /// competing for cores (Sharp makes the same choice by default on glibc).
    fn threads_for_next(&self) -> u32 {
        let running = self.workers - self.running.available_permits();
        (self.cores / running.max(1)).max(1) as u32
    }

    fn admit(&self) -> Result<Ticket<'_>, TransformerError> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| Ticket(self))
            .map_err(|_| TransformerError::Overloaded)
    }
}

impl Transformer {
    pub fn new(parts: Parts) -> Transformer {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let workers = match parts.settings.workers {
            0 => cores,
            n => n,
        };
        Transformer(Arc::new(Inner {
            budget: RenderBudget::new(parts.engine.config().render_timeout),
            limiter: RateLimiter::new(parts.redis.clone()),
            pool: Pool::new(workers, parts.settings.queue, cores),
            flights: SingleFlight::new(),
            decoded: decoded::DecodedCache::new(parts.settings.decoded_cache),
            fetches: SingleFlight::new(),
            settings: parts.settings,
            db: parts.db,
            store: parts.store,
            redis: parts.redis,
            engine: parts.engine,
            url_secret: parts.url_secret,
            origin_secret: parts.origin_secret,
        }))
    }

    /// Answers one request. Never fails: every error becomes its response.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let head = request.method() == Method::HEAD;
        let mut response = match self.route(&request).await {
            Ok(response) => response,
            Err(e) => e.into_hyper(),
        };
        metrics::counter!(
            "imgedge_transformer_requests_total",
            "status" => response.status().as_str().to_owned()
        )
        .increment(1);
        if head {
            // hyper sends no body for HEAD, and the length of the body it would have sent.
            if let Some(length) = hyper::body::Body::size_hint(response.body()).exact() {
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            }
            *response.body_mut() = crate::http::empty();
        }
        response
    }

    async fn route(&self, request: &Request<Incoming>) -> Result<Response<Body>, ErrorResponse> {
        let path = request.uri().path();
        let readable = matches!(*request.method(), Method::GET | Method::HEAD);
        match path {
            "/healthz" if readable => Ok(plain(StatusCode::OK, "ok")),
            "/readyz" if readable => Ok(self.readyz().await),
            "/metrics" if readable => Ok(plain(StatusCode::OK, crate::telemetry::render_metrics())),
            _ if path.starts_with("/i/") => {
                if !readable {
                    return Err(OnlyGetAndHead.to_response());
                }
                self.check_origin(request)?;
                Ok(self
                    .image(path, request.uri().query().unwrap_or(""))
                    .await?)
            }
            "/healthz" | "/readyz" | "/metrics" => Err(OnlyGetAndHead.to_response()),
            _ => Err(TransformerError::NotFound.to_response()),
        }
    }

    /// Step 1: only an edge may ask.
    fn check_origin(&self, request: &Request<Incoming>) -> Result<(), TransformerError> {
        let presented = request
            .headers()
            .get(ORIGIN_SECRET_HEADER)
            .map(HeaderValue::as_bytes);
        match presented {
            Some(p) if self.0.origin_secret.matches(p) => Ok(()),
            _ => Err(TransformerError::NotFromEdge),
        }
    }

    /// Steps 2, 3 and 5.
    async fn image(&self, path: &str, query: &str) -> Result<Response<Body>, TransformerError> {
        let request = TransformRequest::parse(path, query)?;
        match request.decide_with_secret(&self.0.url_secret) {
            Decision::Redirect(location) => return Ok(redirect(&location)),
            Decision::Forbidden => return Err(TransformerError::BadSignature),
            Decision::Serve => {}
        }
        let this = self.clone();
        let (produced, role) = self
            .0
            .flights
            .run(request.variant_key(), async move {
                Arc::new(
                    Box::pin(this.produce(&request))
                        .await
                        .map_err(|e| e.to_response()),
                )
            })
            .await;
        let produced =
            produced.map_err(|_| TransformerError::Internal("the render task panicked".into()))?;
        Ok(match &*produced {
            Ok(variant) => variant_response(variant, role),
            Err(e) => e.clone().into_hyper(),
        })
    }

    /// Step 4, run once per variant at a time.
    async fn produce(&self, request: &TransformRequest) -> Result<Variant, TransformerError> {
        let image = *request.image_id().as_uuid();
        let owner = self
            .0
            .db
            .image_owner(image)
            .await?
            .ok_or(TransformerError::ImageGone)?;
        let key = request.variant_key();
        let mut lease = lock::acquire(self.0.redis.as_ref(), &key).await;
        if matches!(lease, lock::Lease::Busy) {
            match self.wait_for_peer(request, &key).await? {
                Waited::Rendered(variant) => return Ok(variant),
                Waited::Lease(held) => lease = held,
            }
        }
        let held = match lease {
            lock::Lease::Held(held) => held,
            lock::Lease::Busy => None,
        };
        let result = self.render_and_store(request, owner).await;
        lock::release(held).await;
        result
    }

    /// Another process holds the lease on `key`: waits for its object to appear, or for the
    /// lease to come free (the peer failed or died), then takes it.
    async fn wait_for_peer(
        &self,
        request: &TransformRequest,
        key: &str,
    ) -> Result<Waited, TransformerError> {
        let image = *request.image_id().as_uuid();
        let sig = &request.sig().to_string();
        let started = Instant::now();
        let deadline = started + self.0.budget.peer_wait();
        let mut pause = Duration::from_millis(50);
        while Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
            // The peer PUTs, then records: an object without its row may be an orphan of a
            // delete that raced the peer's render, so it is trusted only once recorded.
            if self.0.db.variant_recorded(image, sig).await?
                && let Some(object) = self.0.store.get(key).await?
            {
                let timing = format!("wait;dur={}", millis(started.elapsed()));
                return Ok(Waited::Rendered(stored_variant(object, timing)));
            }
            if let held @ lock::Lease::Held(_) = lock::acquire(self.0.redis.as_ref(), key).await {
                return Ok(Waited::Lease(held));
            }
        }
        // The peer outlived its own lease: render regardless.
        Ok(Waited::Lease(lock::Lease::Held(None)))
    }

    async fn render_and_store(
        &self,
        request: &TransformRequest,
        owner: uuid::Uuid,
    ) -> Result<Variant, TransformerError> {
        let image = *request.image_id().as_uuid();
        let sig = request.sig().to_string();
        let settings = &self.0.settings;
        if self.0.db.other_variant_count(image, &sig).await? >= settings.max_variants_per_image {
            return Err(TransformerError::VariantCap(
                settings.max_variants_per_image,
            ));
        }
        let decision = self
            .0
            .limiter
            .check(&format!("render:{owner}"), &settings.render_quota)
            .await;
        if !decision.allowed {
            return Err(TransformerError::RateLimited(decision));
        }

        // A place in the queue; workers are taken for the decode and the render only, so the
        // store below overlaps the next renders.
        let _ticket = self.0.pool.admit()?;
        let (rendered, fetch, from_kept) = self.render(request, image).await?;
        metrics::histogram!("imgedge_transformer_render_seconds")
            .record(rendered.timings.total().as_secs_f64());

        let key = request.variant_key();
        let canonical_query = request.spec().canonical_query();
        let content_type = rendered.format.mime();
        let store_started = Instant::now();
        let bytes = Bytes::from(rendered.bytes);
        self.0
            .store
            .put_variant(
                &key,
                bytes.clone(),
                content_type,
                IMMUTABLE_CACHE_CONTROL,
                &canonical_query,
            )
            .await?;
        let recorded = self
            .0
            .db
            .insert_variant_within(
                &NewVariant {
                    image_id: image,
                    sig,
                    canonical_query,
                    bytes: bytes.len() as u64,
                    format: rendered.format.as_str().to_owned(),
                },
                settings.max_variants_per_image,
            )
            .await;
        let store = store_started.elapsed();
        match recorded {
            Ok(VariantRecorded::Inserted | VariantRecorded::AlreadyPresent) => {}
            Ok(VariantRecorded::ImageGone) => {
                // Deleted while rendering: the object just written is an orphan, and the
                // delete's own cleanup has already run.
                self.remove_orphan(&key).await;
                return Err(TransformerError::ImageGone);
            }
            Ok(VariantRecorded::CapReached) => {
                // Other renders filled the cap while this one ran (the check before it is
                // only a fast path): the cap holds, and this render is not kept.
                self.remove_orphan(&key).await;
                return Err(TransformerError::VariantCap(
                    settings.max_variants_per_image,
                ));
            }
            Err(e) => {
                // Unrecorded, the variant would not count against the cap, and a delete
                // racing this one could miss it: remove it and let the edge ask again.
                self.remove_orphan(&key).await;
                return Err(e.into());
            }
        }
        Ok(Variant {
            etag: variant_etag(&bytes),
            bytes,
            content_type,
            timing: server_timing(fetch, from_kept, &rendered.timings, store),
        })
    }

    /// Renders the request's variant: from the original decoded moments ago for another
    /// variant when there is one that serves it, else from the original, fetched and
    /// decoded once for all the renders of that image waiting at the same time (the widths of
    /// a `srcset`). Returns the render, the fetch's time (zero when this request did not
    /// fetch) and whether it started from a decode made for another variant.
    async fn render(
        &self,
        request: &TransformRequest,
        image: uuid::Uuid,
    ) -> Result<(Rendered, Duration, bool), TransformerError> {
        let spec = request.spec().clone();
        if let Some(decoded) = self.0.decoded.get(image, &spec) {
            metrics::counter!("imgedge_transformer_renders_from_kept_total").increment(1);
            let rendered = self
                .on_worker(move |engine| engine.render_decoded(&decoded, &spec))
                .await?;
            return Ok((rendered, Duration::ZERO, true));
        }
        let this = self.clone();
        let key = request.image_id().original_key();
        let first = spec.clone();
        let (fetched, role) = self
            .0
            .fetches
            .run(image, async move {
                this.fetch_and_decode(image, &key, first)
                    .await
                    .map_err(Arc::new)
            })
            .await;
        let fetched = fetched
            .map_err(|_| TransformerError::Internal("the decode task panicked".into()))?
            .map_err(TransformerError::Shared)?;
        let fetch = match role {
            Role::Leader => fetched.fetch,
            Role::Follower => Duration::ZERO,
        };
        if let Some(decoded) = fetched.decoded.filter(|decoded| decoded.serves(&spec)) {
            let leader = role == Role::Leader;
            let took = decoded.decode_time();
            let mut rendered = self
                .on_worker(move |engine| {
                    if leader {
                        engine.render_first(&decoded, &spec)
                    } else {
                        engine.render_decoded(&decoded, &spec)
                    }
                })
                .await?;
            if leader {
                rendered.timings.decode += took;
            } else {
                metrics::counter!("imgedge_transformer_renders_from_kept_total").increment(1);
            }
            return Ok((rendered, fetch, !leader));
        }
        // Not keepable, or decoded at another size: from the bytes already fetched.
        let keep_up_to = self.0.decoded.entry_limit();
        let bytes = fetched.bytes;
        let (rendered, kept) = self
            .on_worker(move |engine| engine.render_keeping(&bytes, &spec, keep_up_to))
            .await?;
        if let Some(decoded) = kept {
            self.0.decoded.keep(image, decoded);
        }
        Ok((rendered, fetch, false))
    }

    /// The leader's part of [`Transformer::render`]: the original from S3 and, on a worker,
    /// its decode for `spec`, kept for the next variants.
    async fn fetch_and_decode(
        &self,
        image: uuid::Uuid,
        key: &str,
        spec: imgedge_url::TransformSpec,
    ) -> Result<Fetched, TransformerError> {
        // The original is fetched only once a worker is free, so that waiting renders hold
        // no image in memory.
        let worker = self.worker().await?;
        let started = Instant::now();
        let bytes = self
            .0
            .store
            .get(key)
            .await?
            .ok_or(TransformerError::ImageGone)?
            .bytes;
        let fetch = started.elapsed();
        let engine = self.0.engine.clone();
        engine.set_threads_per_render(self.0.pool.threads_for_next());
        let keep_up_to = self.0.decoded.entry_limit();
        let original = bytes.clone();
        let decoded =
            tokio::task::spawn_blocking(move || engine.decode(&original, &spec, keep_up_to))
                .await
                .map_err(|e| TransformerError::Internal(format!("decode task: {e}")))??;
        drop(worker);
        if let Some(decoded) = &decoded {
            self.0.decoded.keep(image, decoded.clone());
        }
        Ok(Fetched {
            bytes,
            decoded,
            fetch,
        })
    }

    async fn worker(&self) -> Result<tokio::sync::SemaphorePermit<'_>, TransformerError> {
        self.0
            .pool
            .running
            .acquire()
            .await
            .map_err(|_| TransformerError::Internal("render pool closed".into()))
    }

    /// Runs `render` on the blocking pool once a worker is free, with the threads the pool's
    /// load leaves it.
    async fn on_worker<T: Send + 'static>(
        &self,
        render: impl FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, TransformerError> {
        let _worker = self.worker().await?;
        let engine = self.0.engine.clone();
        engine.set_threads_per_render(self.0.pool.threads_for_next());
        metrics::counter!("imgedge_transformer_renders_total").increment(1);
        let rendered = tokio::task::spawn_blocking(move || render(&engine))
            .await
            .map_err(|e| TransformerError::Internal(format!("render task: {e}")))?
            .inspect_err(|e| {
                metrics::counter!("imgedge_transformer_render_failures_total", "code" => e.code().as_str())
                    .increment(1);
            })?;
        Ok(rendered)
    }

    /// Removes a variant object that has no row, retrying briefly; what is left is logged,
    /// counted and left to `imgedge reconcile`.
    async fn remove_orphan(&self, key: &str) {
        let mut pause = Duration::from_millis(100);
        for attempt in 1..=3 {
            match self.0.store.delete(key).await {
                Ok(()) => return,
                Err(e) if attempt == 3 => {
                    metrics::counter!("imgedge_transformer_orphans_left_total").increment(1);
                    tracing::error!(%key, error = %e, "orphan variant left for reconcile");
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
            }
        }
    }

    async fn readyz(&self) -> Response<Body> {
        let (db, s3) = tokio::join!(self.0.db.ping(), self.0.store.ping());
        let body = serde_json::json!({
            "database": if db.is_ok() { "ok" } else { "unavailable" },
            "storage": if s3.is_ok() { "ok" } else { "unavailable" },
        });
        let status = if db.is_ok() && s3.is_ok() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let mut response = Response::new(full(body.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

enum Waited {
    Rendered(Variant),
    Lease(lock::Lease),
}

/// Serves the transformer on `listener` until `shutdown` completes, then lets the renders in
/// progress finish and store their variants (for at most a lease), so that a stop does not
/// cut one between its PUT and its record.
pub async fn run(
    listener: TcpListener,
    transformer: Transformer,
    shutdown: impl Future<Output = ()> + Send,
) {
    crate::telemetry::install_metrics();
    let serving = transformer.clone();
    crate::http::serve(
        listener,
        |_peer: SocketAddr| {
            let transformer = serving.clone();
            hyper::service::service_fn(move |request| {
                let transformer = transformer.clone();
                async move { Ok::<_, std::convert::Infallible>(transformer.handle(request).await) }
            })
        },
        shutdown,
        "transformer",
    )
    .await;
    let started = Instant::now();
    while !transformer.0.flights.is_empty() && started.elapsed() < transformer.0.budget.production()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A variant another process stored, read back from S3.
fn stored_variant(object: Object, timing: String) -> Variant {
    let content_type = object
        .content_type
        .as_deref()
        .and_then(Format::from_mime)
        .map_or("application/octet-stream", Format::mime);
    Variant {
        etag: variant_etag(&object.bytes),
        bytes: object.bytes,
        content_type,
        timing,
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The phases of a render, for `Server-Timing`; `kept` marks a render from an original
/// decoded for an earlier variant (no fetch, no decode of the original).
fn server_timing(fetch: Duration, kept: bool, render: &Timings, store: Duration) -> String {
    format!(
        "fetch;dur={}, {}decode;dur={}, transform;dur={}, encode;dur={}, store;dur={}",
        millis(fetch),
        if kept { "kept, " } else { "" },
        millis(render.decode),
        millis(render.transform),
        millis(render.encode),
        millis(store)
    )
}

fn variant_response(variant: &Variant, role: Role) -> Response<Body> {
    let mut response = Response::new(full(variant.bytes.clone()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(variant.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(IMMUTABLE_CACHE_CONTROL),
    );
    if let Ok(etag) = HeaderValue::from_str(&variant.etag) {
        headers.insert(header::ETAG, etag);
    }
    let timing = match role {
        Role::Leader => variant.timing.clone(),
        // This request waited for another's render: say so, with the render's phases.
        Role::Follower => format!("{}, joined", variant.timing),
    };
    if let Ok(timing) = HeaderValue::from_str(&timing) {
        headers.insert(HeaderName::from_static("server-timing"), timing);
    }
    response
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(REDIRECT_CACHE_CONTROL),
    );
    response
}

fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
