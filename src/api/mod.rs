//! The metadata API (`imgedge api`): accounts, JWT sessions, uploads of originals to private
//! S3, image metadata in PostgreSQL, URL minting and deletion.
//!
//! It never serves image bytes: delivery is the CDN's (and on a miss, the transformer's).
//! Handlers parse requests into typed values, call the data, storage and Redis modules, and
//! return typed responses; every error goes through [`error::ApiError`].

mod account;
mod admission;
mod api_keys;
mod auth;
mod body;
mod caller;
mod client_ip;
mod edit;
mod error;
mod health;
mod images;
pub mod jwt;
mod lockout;
mod maintenance;
mod openapi;
mod presets;
mod representation;
mod sessions;
mod upload;
mod variants;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, header};
use axum::response::IntoResponse as _;
use axum::routing::{delete, get, post, put};
use futures::FutureExt as _;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

pub use account::Account;
pub use account::{Counted, PasswordChange, PasswordConfirmation, Usage};
pub use api_keys::{ApiKeyList, ApiKeyView, CreatedApiKey, KeyScope, MAX_API_KEYS, NewApiKey};
pub use auth::{Credentials, Registered, SignIn};
pub use caller::API_KEY_PREFIX;
pub use edit::{ImagePatch, TagSlug};
pub use error::{ApiError, Invalid};
pub use images::{ImageList, MintedUrl};
pub use jwt::JwtKeys;
pub use openapi::openapi_document;
pub use presets::{MAX_PRESETS, PresetBody, PresetLink, PresetList, PresetView, RenderState};
pub use representation::{Focus, ImageMetadata};
pub use sessions::{REFRESH_COOKIE, RefreshRequest, Session};
pub use variants::{ClassObjectView, VariantList, VariantView};

use crate::cache::MetaCache;
use crate::db::{Db, StorageQuota};
use crate::prerender::{Prerender, PrerenderPolicy};
use crate::purges::{PurgeOutbox, PurgePolicy};
use crate::ratelimit::{Quota, RateLimiter};
use crate::redis::RedisHandle;
use crate::storage::ObjectStore;
use imgedge_engine::Engine;
use imgedge_url::UrlSecret;

/// Per-class request quotas.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub upload: Quota,
    pub read: Quota,
    pub mint: Quota,
    pub write: Quota,
    /// Sign-in attempts and refreshes per client network, whatever their outcome.
    pub login_ip: Quota,
    /// Failed sign-ins per email and client network (a correct password spends nothing).
    pub login_failures: Quota,
    /// Failed sign-ins per email from every network together: a ceiling that slows
    /// guessing from many networks to its rate rather than locking the owner out.
    pub login_email: Quota,
    pub register_ip: Quota,
    /// Requests of one API key, whatever they are (besides its account's limits).
    pub api_key: Quota,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            upload: Quota::per_minute(60, 20),
            read: Quota::per_minute(1200, 200),
            mint: Quota::per_minute(1200, 200),
            write: Quota::per_minute(120, 30),
            login_ip: Quota::per_minute(60, 20),
            login_failures: Quota::per_minute(10, 5),
            login_email: Quota::per_minute(60, 30),
            register_ip: Quota::per_minute(20, 10),
            api_key: Quota::per_minute(600, 100),
        }
    }
}

/// Settings of the API role that are not connections.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Base URL of the CDN that serves `/i/...` (no trailing slash).
    pub cdn_base: String,
    /// How long access tokens live.
    pub access_token_ttl: Duration,
    pub max_upload_bytes: u64,
    pub max_frames: u32,
    /// Most bytes of metadata (text chunks, EXIF, XMP, ICC) an upload may carry, counted
    /// once inflated; checked before any decoder reads the file.
    pub max_metadata_bytes: u64,
    /// Bytes of upload bodies this process holds at once; past it, `503 uploads_busy`.
    pub upload_budget_bytes: u64,
    /// Uploads of one owner this process receives and checks at once; past it, `429
    /// too_many_uploads`.
    pub uploads_per_owner: u32,
    /// What each account may store; past it, `403 storage_quota_exceeded`.
    pub storage_quota: StorageQuota,
    pub refresh_token_ttl: Duration,
    /// How long a session lasts from its sign-in, however often it is refreshed.
    pub session_lifetime: Duration,
    pub request_timeout: Duration,
    /// Time for an upload's body to arrive in full; a client that sends slower gets 408 and
    /// loses the connection, so slow senders cannot hold connections and memory.
    pub upload_timeout: Duration,
    pub quotas: Quotas,
    /// How long image metadata stays in the Redis cache.
    pub cache_ttl: Duration,
    /// Proxies (the edge, a load balancer) whose `X-Forwarded-For` names the client that
    /// per-address limits count.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the API deletes refresh tokens that expired more than `refresh_token_ttl`
    /// ago (`maintenance` says why not sooner); zero turns the pruning off.
    pub token_pruning_interval: Duration,
    /// How the CDN purges that deletes owe are batched, leased and retried.
    pub purges: PurgePolicy,
    /// How eager presets' renders ahead are taken, run and retried.
    pub prerender: PrerenderPolicy,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            cdn_base: format!("http://{}", crate::settings::LOCAL_EDGE_ADDR),
            access_token_ttl: Duration::from_mins(15),
            max_upload_bytes: 25 * 1024 * 1024,
            max_frames: 1000,
            max_metadata_bytes: 1024 * 1024,
            upload_budget_bytes: 256 * 1024 * 1024,
            uploads_per_owner: 4,
            storage_quota: StorageQuota::default(),
            refresh_token_ttl: Duration::from_hours(30 * 24),
            session_lifetime: Duration::from_hours(30 * 24),
            request_timeout: Duration::from_mins(1),
            upload_timeout: Duration::from_secs(30),
            quotas: Quotas::default(),
            cache_ttl: Duration::from_mins(5),
            trusted_proxies: Vec::new(),
            token_pruning_interval: Duration::from_hours(1),
            purges: PurgePolicy::default(),
            prerender: PrerenderPolicy::default(),
        }
    }
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    settings: ApiSettings,
    db: Db,
    store: ObjectStore,
    redis: Option<RedisHandle>,
    limiter: RateLimiter,
    cache: MetaCache,
    engine: Engine,
    jwt: JwtKeys,
    url_secret: UrlSecret,
    /// The CDN purges that deletes owe, and the task that sends them.
    purges: PurgeOutbox,
    /// Eager presets' renders ahead, and the task that runs them.
    prerender: Prerender,
    /// Bounds the full decodes that prove uploads whole, so a burst of uploads cannot hold
    /// more decoded images in memory than there are cores to work on them. A slot goes with
    /// its decode, which may outlive its request.
    decode_slots: Arc<Semaphore>,
    /// Uploads in flight: per owner, and their bytes in the process.
    admission: admission::Admission,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

/// The parts an [`AppState`] is made of.
#[derive(Debug)]
pub struct ApiParts {
    pub settings: ApiSettings,
    pub db: Db,
    pub store: ObjectStore,
    pub redis: Option<RedisHandle>,
    pub engine: Engine,
    pub jwt: JwtKeys,
    pub url_secret: UrlSecret,
    pub purges: PurgeOutbox,
}

impl AppState {
    pub fn new(parts: ApiParts) -> AppState {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let prerender = Prerender::new(
            parts.db.clone(),
            parts.settings.cdn_base.clone(),
            parts.url_secret.clone(),
            parts.settings.prerender,
        );
        AppState(Arc::new(Inner {
            prerender,
            admission: admission::Admission::new(
                parts.settings.upload_budget_bytes,
                parts.settings.uploads_per_owner,
            ),
            limiter: RateLimiter::new(parts.redis.clone()),
            cache: MetaCache::new(parts.redis.clone(), parts.settings.cache_ttl),
            settings: parts.settings,
            db: parts.db,
            store: parts.store,
            redis: parts.redis,
            engine: parts.engine,
            jwt: parts.jwt,
            url_secret: parts.url_secret,
            purges: parts.purges,
            decode_slots: Arc::new(Semaphore::new(cores)),
        }))
    }
}

/// The API's routes and middleware.
pub fn router(state: AppState) -> Router {
    let upload_limit = usize::try_from(state.0.settings.max_upload_bytes).unwrap_or(usize::MAX);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/refresh", post(sessions::refresh))
        .route("/v1/auth/logout", post(sessions::logout))
        .route("/v1/me", get(account::me).delete(account::delete))
        .route("/v1/me/password", post(account::change_password))
        .route("/v1/me/sessions", delete(account::end_sessions))
        .route("/v1/usage", get(account::usage))
        .route("/v1/api-keys", post(api_keys::create).get(api_keys::list))
        .route("/v1/api-keys/{id}", delete(api_keys::delete))
        .route("/v1/presets", get(presets::list))
        .route(
            "/v1/presets/{name}",
            put(presets::put).delete(presets::delete),
        )
        .route(
            "/v1/images",
            post(upload::upload)
                // The handler enforces the exact limit while reading; this only stops the
                // multipart parser from refusing first with its own smaller default.
                .layer(DefaultBodyLimit::max(
                    upload_limit.saturating_add(1024 * 1024),
                ))
                .get(images::list),
        )
        .route(
            "/v1/images/{id}",
            get(images::get).patch(edit::patch).delete(images::delete),
        )
        .route("/v1/images/{id}/variants", get(variants::list))
        .route("/v1/images/{id}/variants/{sig}", delete(variants::delete))
        .route("/v1/images/{id}/url", get(images::mint_url))
        .route("/v1/images/{id}/rotate-key", post(images::rotate_key))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                ]))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal("handler panicked".into()).into_response()
                }))
                .layer(axum::middleware::from_fn(count_requests))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    deadline,
                )),
        )
        .with_state(state)
}

/// Counts every request by status: `imgedge_api_requests_total` (the load tests check that
/// cached image traffic never reaches the API).
async fn count_requests(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    metrics::counter!(
        "imgedge_api_requests_total",
        "status" => response.status().as_str().to_owned()
    )
    .increment(1);
    response
}

/// Bounds every request's time, answering in the API's JSON error format when it runs out.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(state.0.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
/// Meanwhile it prunes expired refresh tokens and sends the CDN purges deletes owe, in the
/// background.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::telemetry::install_metrics();
    let shutdown = shutdown.shared();
    let _pruning = maintenance::start(&state, shutdown.clone());
    let _purging = state.0.purges.start(shutdown.clone());
    let _prerendering = state.0.prerender.start(shutdown.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// What a signed-in user's request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserClass {
    Upload,
    Read,
    Mint,
    Write,
}

impl AppState {
    /// Rate-limits `user`'s request of `class`.
    pub(crate) async fn limit_user(
        &self,
        class: UserClass,
        user: uuid::Uuid,
    ) -> Result<crate::ratelimit::Decision, ApiError> {
        let quotas = &self.0.settings.quotas;
        let (name, quota) = match class {
            UserClass::Upload => ("upload", quotas.upload),
            UserClass::Read => ("read", quotas.read),
            UserClass::Mint => ("mint", quotas.mint),
            UserClass::Write => ("write", quotas.write),
        };
        limited(self, &format!("{name}:{user}"), quota).await
    }
}

/// Checks `key` against `quota`; a refusal is [`ApiError::RateLimited`] with its headers.
pub(crate) async fn limited(
    state: &AppState,
    key: &str,
    quota: Quota,
) -> Result<crate::ratelimit::Decision, ApiError> {
    let decision = state.0.limiter.check(key, &quota).await;
    if decision.allowed {
        Ok(decision)
    } else {
        Err(ApiError::RateLimited(decision))
    }
}

/// Adds the `RateLimit-*` headers of `decision` to a response.
pub(crate) fn with_limit_headers(
    decision: &crate::ratelimit::Decision,
    response: impl axum::response::IntoResponse,
) -> axum::response::Response {
    let mut response = response.into_response();
    for (name, value) in decision.headers() {
        response.headers_mut().insert(name, value);
    }
    response
}
