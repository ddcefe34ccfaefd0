//! The transformer origin (`imgedge transformer`): renders a variant the first time a CDN
//! misses on it, returns it once and stores it in S3 meanwhile. Every later request is answered by
//! the edge or by S3; this role is the origin of last resort.
//!
//! One request, as steps (in this order):
//! 1. the caller is an edge: it carries the origin secret header ([`ORIGIN_SECRET_HEADER`]);
//! 2. parse the URL ([`TransformRequest::parse`]); non-canonical → 301, then the signature
//!    under the image's key epoch, and for `format=auto` the accept class;
//! 3. single flight on the variant key: concurrent requests share one production;
//! 4. production ([`production`]): the image exists (its owner and size), the render's
//!    estimate (bounds, cost), the cross-process render lease ([`lock`]; or wait
//!    for the peer that holds it), the variant cap and the owner's render quota charged by
//!    cost, a worker of the fair render pool ([`pool`]) held while the original is fetched
//!    and rendered ([`render`]), the record in PostgreSQL;
//! 5. the response ([`response`]): the bytes with a long immutable lifetime, a strong `ETag`
//!    and `Server-Timing`, while the variant's PUT runs in the background under the lease.
//!
//! Steps 1 to 3 are the functions below, from [`Transformer::handle`]; steps 4 and 5 are in
//! their modules.
//!
//! The engine enforces the render's own deadline between its steps; this role bounds how
//! many renders run (the pool) and wait (the queue), fairly between image owners: past that
//! it answers 503. Each render is estimated before anything is fetched: refused when it is
//! beyond the image's bounds, and charged to its owner's render quota by its cost.

mod decoded;
mod error;
mod lock;
mod pool;
mod production;
mod render;
mod response;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

pub use decoded::DecodedCacheSettings;
pub use error::TransformerError;

use crate::db::Db;
use crate::error::{ErrorResponse, OnlyGetAndHead, PublicError as _};
use crate::http::{Body, SharedSecret, full};
use crate::protocol::{ACCEPT_CLASS_HEADER, ORIGIN_SECRET_HEADER, RenderBudget};
use crate::ratelimit::{Quota, RateLimiter};
use crate::redis::RedisHandle;
use crate::singleflight::SingleFlight;
use crate::storage::ObjectStore;
use imgedge_engine::Engine;
use imgedge_url::{
    AcceptClass, Decision, FormatChoice, KeyEpoch, TransformRequest, TransformSpec, UrlKey,
    UrlSecret,
};
use pool::{Pool, PoolSize};
use production::Produced;
use render::FetchedOriginal;
use response::{plain, redirect, variant_response};

/// Limits and sizes of the role.
#[derive(Debug, Clone)]
pub struct TransformerSettings {
    /// Distinct variants one image may have.
    pub max_variants_per_image: u64,
    /// New renders per image owner, in cost units ([`imgedge_engine::RenderEstimate`]).
    pub render_quota: Quota,
    /// Renders running at once (the pool); 0 means the number of cores.
    pub workers: usize,
    /// Renders of one owner running at once; 0 means half the workers, at least 1.
    pub renders_per_owner: usize,
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
            renders_per_owner: 0,
            queue: 64,
            decoded_cache: DecodedCacheSettings::default(),
        }
    }
}

/// The parts a [`Transformer`] is made of.
#[derive(Debug)]
pub struct TransformerParts {
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
    fetches: SingleFlight<uuid::Uuid, Result<FetchedOriginal, Arc<TransformerError>>>,
    /// The PUTs of answered variants in progress, which a stop waits for.
    stores: tokio_util::task::TaskTracker,
    /// The bytes (in KiB) those PUTs may hold at once; past it a variant is stored before
    /// it is answered ([`production::STORE_BUDGET_KIB`]).
    store_budget: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl Transformer {
    pub fn new(parts: TransformerParts) -> Transformer {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let workers = match parts.settings.workers {
            0 => cores,
            n => n,
        };
        let per_owner = match parts.settings.renders_per_owner {
            0 => workers / 2,
            n => n,
        };
        Transformer(Arc::new(Inner {
            budget: RenderBudget::new(parts.engine.config().render_timeout),
            limiter: RateLimiter::new(parts.redis.clone()),
            pool: Pool::new(PoolSize {
                workers,
                per_owner,
                queue: parts.settings.queue,
                cores,
            }),
            flights: SingleFlight::new(),
            decoded: decoded::DecodedCache::new(parts.settings.decoded_cache),
            fetches: SingleFlight::new(),
            stores: tokio_util::task::TaskTracker::new(),
            store_budget: Arc::new(tokio::sync::Semaphore::new(
                production::STORE_BUDGET_KIB as usize,
            )),
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
                let header = |name| {
                    request
                        .headers()
                        .get(name)
                        .and_then(|v: &HeaderValue| v.to_str().ok())
                };
                let classes = Classes {
                    from_edge: header(ACCEPT_CLASS_HEADER),
                    accept: header(header::ACCEPT.as_str()),
                };
                Ok(self
                    .image(path, request.uri().query().unwrap_or(""), classes)
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
    async fn image(
        &self,
        path: &str,
        query: &str,
        classes: Classes<'_>,
    ) -> Result<Response<Body>, TransformerError> {
        let request = TransformRequest::parse(path, query)?;
        if let Decision::Redirect(location) = request.decide(None) {
            return Ok(redirect(&location));
        }
        let epoch = self.verified_epoch(&request).await?;
        let class = request.accept_class(classes.from_edge, classes.accept);
        let wanted = VariantRequest {
            request,
            class,
            epoch,
        };
        let this = self.clone();
        let (produced, role) = self
            .0
            .flights
            .run(wanted.key(), async move {
                Arc::new(
                    Box::pin(this.produce(&wanted))
                        .await
                        .map_err(|e| e.to_response()),
                )
            })
            .await;
        let produced =
            produced.map_err(|_| TransformerError::Internal("the render task panicked".into()))?;
        let mut response = match &*produced {
            Ok(variant) => variant_response(variant, role),
            Err(e) => e.clone().into_hyper(),
        };
        if class.is_some() {
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept"));
        }
        Ok(response)
    }

    /// The key epoch under which the request's signature verifies: epoch 0's key (v1's, which
    /// most images keep) needs no lookup; any other is the image's current epoch, read from
    /// the database. A signature made with an older key (rotated away) does not verify.
    /// Production checks the epoch again when it reads the image, and the record refuses a
    /// render whose key was rotated meanwhile.
    async fn verified_epoch(
        &self,
        request: &TransformRequest,
    ) -> Result<KeyEpoch, TransformerError> {
        let secret = &self.0.url_secret;
        let first = UrlKey::derive_at(secret, request.image_id(), KeyEpoch::FIRST);
        if request.verify_with_key(&first) {
            return Ok(KeyEpoch::FIRST);
        }
        match self
            .0
            .db
            .image_key_epoch(*request.image_id().as_uuid())
            .await?
        {
            Some(epoch) if epoch > 0 => {
                let epoch = KeyEpoch(epoch);
                let key = UrlKey::derive_at(secret, request.image_id(), epoch);
                if request.verify_with_key(&key) {
                    Ok(epoch)
                } else {
                    Err(TransformerError::BadSignature)
                }
            }
            _ => Err(TransformerError::BadSignature),
        }
    }

    async fn readyz(&self) -> Response<Body> {
        let (db, s3) = tokio::join!(self.0.db.ping(), self.0.store.ping());
        let body = serde_json::json!({
            "database": crate::http::dependency_state(&db),
            "storage": crate::http::dependency_state(&s3),
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

/// What a request says about its accept class: the one an edge computed, else its
/// `Accept` header (a request straight to the transformer, as in tests).
#[derive(Debug, Clone, Copy)]
struct Classes<'a> {
    from_edge: Option<&'a str>,
    accept: Option<&'a str>,
}

/// A verified request, and the accept class that decides its output for a `format=auto`
/// URL: the unit of production, storage (its object's key) and single flight.
#[derive(Debug, Clone)]
struct VariantRequest {
    request: TransformRequest,
    class: Option<AcceptClass>,
    /// The image's key epoch its signature verified under.
    epoch: KeyEpoch,
}

impl VariantRequest {
    /// The S3 key of its object.
    fn key(&self) -> String {
        self.request.variant_key(self.class)
    }

    /// The spec the engine renders: the URL's, with `format=auto` resolved for the class
    /// (the engine renders an unresolved `auto` as the `basic` class: JPEG, or PNG for a
    /// source with alpha, which only the engine knows).
    fn render_spec(&self) -> TransformSpec {
        let mut spec = self.request.spec().clone();
        spec.format = match self.class {
            Some(AcceptClass::Avif) => FormatChoice::Fixed(imgedge_url::Format::Avif),
            Some(AcceptClass::Webp) => FormatChoice::Fixed(imgedge_url::Format::Webp),
            Some(AcceptClass::Basic) | None => spec.format,
        };
        spec
    }
}

/// Serves the transformer on `listener` until `shutdown` completes, then lets the renders in
/// progress finish and store their variants (for at most one production of the render
/// budget), so that a stop does not leave a recorded variant without its object.
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
    let budget = transformer.0.budget.production();
    while !transformer.0.flights.is_empty() && started.elapsed() < budget {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Unless the budget ran out first, every production has ended and no store starts
    // after this; one that does is cut at exit (its row stays: the next miss renders the
    // variant again and stores it).
    transformer.0.stores.close();
    let left = budget.saturating_sub(started.elapsed());
    if tokio::time::timeout(left, transformer.0.stores.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            stores = transformer.0.stores.len(),
            "stopping with variant PUTs unfinished: their next misses render them again"
        );
    }
}
