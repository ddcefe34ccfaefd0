//! Configuration of every role: command-line flags that fall back to environment variables
//! (`DATABASE_URL` and `REDIS_URL` by their usual names, the rest prefixed `IMGEDGE_`), and
//! the assembly of a role's parts from them. Secrets are never logged: their `Debug` and
//! clap's help hide them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::api::{ApiSettings, AppState, JwtKeys, Parts, Quotas};
use crate::db::Db;
use crate::edge::{Edge, EdgeSettings, Origins, TtlPolicy};
use crate::engine::{Engine, EngineConfig, ShrinkOnLoad};
use crate::http::SharedSecret;
use crate::invalidate::{CloudFrontInvalidator, Invalidator, LocalInvalidator};
use crate::ratelimit::Quota;
use crate::redis::RedisHandle;
use crate::storage::{ObjectStore, S3Config};
use crate::transformer::{DecodedCacheSettings, Transformer, TransformerSettings};
use crate::url::UrlSecret;

/// Engine limits, shared by every role that decodes images.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Largest source accepted, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_SOURCE_PIXELS", default_value_t = 50_000_000)]
    pub max_source_pixels: u64,
    /// Largest output, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_OUTPUT_PIXELS", default_value_t = 50_000_000)]
    pub max_output_pixels: u64,
    /// Time budget of one render, in milliseconds.
    #[arg(long, env = "IMGEDGE_RENDER_TIMEOUT_MS", default_value_t = 20_000)]
    pub render_timeout_ms: u64,
    /// libvips threads per render (0: the number of cores).
    #[arg(long, env = "IMGEDGE_VIPS_CONCURRENCY", default_value_t = 0)]
    pub vips_concurrency: u32,
    /// How far a JPEG shrinks while it is decoded: `fast` (1/4 as soon as the resize shrinks
    /// by 4, as Sharp does) or `margin` (libvips thumbnail's, leaving the resize a factor of
    /// two).
    #[arg(long, env = "IMGEDGE_SHRINK_ON_LOAD", value_enum, default_value_t = ShrinkOnLoadArg::Fast)]
    pub shrink_on_load: ShrinkOnLoadArg,
}

/// [`ShrinkOnLoad`] as a flag's value.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ShrinkOnLoadArg {
    Fast,
    Margin,
}

impl From<ShrinkOnLoadArg> for ShrinkOnLoad {
    fn from(arg: ShrinkOnLoadArg) -> Self {
        match arg {
            ShrinkOnLoadArg::Fast => ShrinkOnLoad::Fast,
            ShrinkOnLoadArg::Margin => ShrinkOnLoad::Margin,
        }
    }
}

impl EngineArgs {
    pub fn config(&self) -> EngineConfig {
        EngineConfig {
            max_source_pixels: self.max_source_pixels,
            max_output_pixels: self.max_output_pixels,
            render_timeout: Duration::from_millis(self.render_timeout_ms),
            vips_concurrency: self.vips_concurrency,
            shrink_on_load: self.shrink_on_load.into(),
            ..EngineConfig::default()
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    #[arg(long, env = "IMGEDGE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Redis URL, for rate limits and the metadata cache.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: String,
    /// Prefix of every Redis key this deployment uses.
    #[arg(long, env = "IMGEDGE_REDIS_PREFIX", default_value = "imgedge:")]
    pub redis_prefix: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct S3Args {
    /// S3 endpoint (MinIO, the embedded server); leave unset for AWS.
    #[arg(long, env = "IMGEDGE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "IMGEDGE_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    #[arg(long, env = "IMGEDGE_S3_BUCKET", default_value = "imgedge")]
    pub s3_bucket: String,
    /// A static key pair; without one, the AWS default credential chain (environment,
    /// profile, web identity, ECS task role, instance role) is used.
    #[arg(
        long,
        env = "IMGEDGE_S3_ACCESS_KEY_ID",
        hide_env_values = true,
        requires = "s3_secret_access_key"
    )]
    pub s3_access_key_id: Option<String>,
    #[arg(
        long,
        env = "IMGEDGE_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "s3_access_key_id"
    )]
    pub s3_secret_access_key: Option<String>,
    /// Create the bucket at start if it is missing (development and tests).
    #[arg(long, env = "IMGEDGE_S3_CREATE_BUCKET")]
    pub s3_create_bucket: bool,
}

impl S3Args {
    pub fn config(&self) -> S3Config {
        S3Config {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            bucket: self.s3_bucket.clone(),
            access_key_id: self.s3_access_key_id.clone().unwrap_or_default(),
            secret_access_key: self.s3_secret_access_key.clone().unwrap_or_default(),
            // Non-AWS endpoints on loopback have no per-bucket host names.
            force_path_style: self.s3_endpoint.is_some(),
        }
    }
}

/// A quota as `PER_MINUTE:BURST`, e.g. `1200:200`.
fn parse_quota(text: &str) -> Result<Quota, String> {
    let (rate, burst) = text.split_once(':').ok_or("expected PER_MINUTE:BURST")?;
    let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
    match (number(rate), number(burst)) {
        (Some(per_period), Some(burst)) => Ok(Quota {
            per_period,
            period: Duration::from_mins(1),
            burst,
        }),
        _ => Err("expected two positive integers, PER_MINUTE:BURST".into()),
    }
}

/// A network (`10.0.0.0/8`) or a single address (`127.0.0.1`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a CIDR network"))
}

/// Parses a URL secret given as 64 hex characters (for clap).
pub fn parse_secret(hex: &str) -> Result<UrlSecret, String> {
    UrlSecret::from_hex(hex).map_err(|_| "expected 64 hexadecimal characters".to_owned())
}

/// The API's request quotas, each as `PER_MINUTE:BURST`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuotaArgs {
    /// Uploads per user.
    #[arg(long, env = "IMGEDGE_QUOTA_UPLOAD", value_parser = parse_quota, default_value = "60:20")]
    pub quota_upload: Quota,
    /// Metadata reads (get, list) per user.
    #[arg(long, env = "IMGEDGE_QUOTA_READ", value_parser = parse_quota, default_value = "1200:200")]
    pub quota_read: Quota,
    /// URL mints per user.
    #[arg(long, env = "IMGEDGE_QUOTA_MINT", value_parser = parse_quota, default_value = "1200:200")]
    pub quota_mint: Quota,
    /// Deletes per user.
    #[arg(long, env = "IMGEDGE_QUOTA_WRITE", value_parser = parse_quota, default_value = "120:30")]
    pub quota_write: Quota,
    /// Logins and refreshes per client network (an IPv4 address, an IPv6 /64).
    #[arg(long, env = "IMGEDGE_QUOTA_LOGIN_IP", value_parser = parse_quota, default_value = "60:20")]
    pub quota_login_ip: Quota,
    /// Logins per account email.
    #[arg(long, env = "IMGEDGE_QUOTA_LOGIN_EMAIL", value_parser = parse_quota, default_value = "10:5")]
    pub quota_login_email: Quota,
    /// Registrations per client network.
    #[arg(long, env = "IMGEDGE_QUOTA_REGISTER_IP", value_parser = parse_quota, default_value = "20:10")]
    pub quota_register_ip: Quota,
}

impl QuotaArgs {
    pub fn quotas(&self) -> Quotas {
        Quotas {
            upload: self.quota_upload,
            read: self.quota_read,
            mint: self.quota_mint,
            write: self.quota_write,
            login_ip: self.quota_login_ip,
            login_email: self.quota_login_email,
            register_ip: self.quota_register_ip,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "IMGEDGE_API_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Base URL of the CDN serving `/i/...`, used in the URLs the API returns.
    #[arg(
        long,
        env = "IMGEDGE_CDN_BASE",
        default_value = "http://127.0.0.1:8000"
    )]
    pub cdn_base: String,
    /// The 32-byte server secret that derives each image's URL key (64 hex characters).
    #[arg(long, env = "IMGEDGE_URL_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub url_secret: UrlSecret,
    /// JWT signing keys: `kid=base64key[,kid=base64key...]`, each at least 32 bytes.
    #[arg(long, env = "IMGEDGE_JWT_KEYS", hide_env_values = true)]
    pub jwt_keys: String,
    /// The `kid` that signs new tokens; the others only verify.
    #[arg(long, env = "IMGEDGE_JWT_ACTIVE_KID")]
    pub jwt_active_kid: String,
    #[arg(long, env = "IMGEDGE_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,
    #[arg(long, env = "IMGEDGE_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,
    #[arg(long, env = "IMGEDGE_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    #[arg(long, env = "IMGEDGE_MAX_FRAMES", default_value_t = 1000)]
    pub max_frames: u32,
    /// Time for an upload's body to arrive, in milliseconds; slower senders get 408.
    #[arg(long, env = "IMGEDGE_UPLOAD_TIMEOUT_MS", default_value_t = 30_000)]
    pub upload_timeout_ms: u64,
    #[command(flatten)]
    pub quotas: QuotaArgs,
    /// How long image metadata stays in the Redis cache.
    #[arg(long, env = "IMGEDGE_CACHE_TTL_SECS", default_value_t = 300)]
    pub cache_ttl_secs: u64,
    /// CloudFront distribution to invalidate on delete (production).
    #[arg(long, env = "IMGEDGE_CLOUDFRONT_DISTRIBUTION_ID")]
    pub cloudfront_distribution_id: Option<String>,
    /// The local edge's purge endpoint (`http://HOST:PORT/_edge/purge`), invalidated on
    /// delete when there is no CloudFront.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_URL")]
    pub edge_purge_url: Option<String>,
    /// The bearer token of the local edge's purge endpoint.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_TOKEN", hide_env_values = true)]
    pub edge_purge_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (the edge, a load balancer), as CIDR
    /// networks or addresses, comma-separated.
    #[arg(long, env = "IMGEDGE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// What the API and the transformer both use. Made without waiting for PostgreSQL or Redis
/// (connections open on first use); only creating a missing bucket, when asked, talks to S3.
struct Backend {
    db: Db,
    redis: RedisHandle,
    engine: Engine,
    store: ObjectStore,
}

impl Backend {
    async fn connect(
        database: &DatabaseArgs,
        redis: &RedisArgs,
        s3: &S3Args,
        engine: &EngineArgs,
    ) -> anyhow::Result<Backend> {
        let db = Db::connect(&database.database_url, database.db_max_connections)
            .await
            .context("DATABASE_URL")?;
        let redis = RedisHandle::new(&redis.redis_url, &redis.redis_prefix).context("REDIS_URL")?;
        let engine = Engine::new(engine.config()).context("starting libvips")?;
        let store = ObjectStore::connect(&s3.config()).await;
        if s3.s3_create_bucket {
            store
                .ensure_bucket()
                .await
                .context("creating the S3 bucket")?;
        }
        Ok(Backend {
            db,
            redis,
            engine,
            store,
        })
    }
}

/// Builds the API's state from its configuration. Nothing here needs PostgreSQL, Redis or
/// S3 to be up: connections are made on first use, so the API starts during an outage and
/// answers 503 (or degrades) until they return.
pub async fn api_state(args: &ApiArgs) -> anyhow::Result<AppState> {
    let jwt = JwtKeys::parse(
        &args.jwt_keys,
        &args.jwt_active_kid,
        Duration::from_secs(args.access_token_ttl_secs),
    )
    .context("IMGEDGE_JWT_KEYS")?;
    let Backend {
        db,
        redis,
        engine,
        store,
    } = Backend::connect(&args.database, &args.redis, &args.s3, &args.engine).await?;
    let invalidator: Arc<dyn Invalidator> = match &args.cloudfront_distribution_id {
        Some(distribution) => Arc::new(CloudFrontInvalidator::from_env(distribution.clone()).await),
        None => Arc::new(LocalInvalidator::new(
            args.edge_purge_url.clone(),
            args.edge_purge_token.clone(),
        )),
    };
    Ok(AppState::new(Parts {
        settings: ApiSettings {
            cdn_base: args.cdn_base.trim_end_matches('/').to_owned(),
            max_upload_bytes: args.max_upload_bytes,
            max_frames: args.max_frames,
            upload_timeout: Duration::from_millis(args.upload_timeout_ms),
            refresh_token_ttl: Duration::from_secs(args.refresh_token_ttl_secs),
            quotas: args.quotas.quotas(),
            trusted_proxies: args.trusted_proxies.clone(),
            ..ApiSettings::default()
        },
        db,
        store,
        redis: Some(redis),
        engine,
        jwt,
        url_secret: args.url_secret.clone(),
        invalidator,
        cache_ttl: Duration::from_secs(args.cache_ttl_secs),
    }))
}

/// A shared secret given on the command line (for clap): any non-empty text.
fn parse_shared(text: &str) -> Result<SharedSecret, String> {
    SharedSecret::new(text)
        .ok_or_else(|| "must be non-empty visible ASCII (it travels in a header)".to_owned())
}

#[derive(Debug, Clone, clap::Args)]
pub struct TransformerArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "IMGEDGE_TRANSFORMER_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    pub listen: SocketAddr,
    /// The 32-byte server secret that derives each image's URL key (64 hex characters).
    #[arg(long, env = "IMGEDGE_URL_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub url_secret: UrlSecret,
    /// The secret that edges send in `X-Imgedge-Origin-Secret`; other callers get 403.
    #[arg(long, env = "IMGEDGE_ORIGIN_SECRET", hide_env_values = true, value_parser = parse_shared)]
    pub origin_secret: SharedSecret,
    /// Distinct variants one image may have.
    #[arg(long, env = "IMGEDGE_MAX_VARIANTS_PER_IMAGE", default_value_t = 100)]
    pub max_variants_per_image: u64,
    /// New renders per image owner, as `PER_MINUTE:BURST`.
    #[arg(long, env = "IMGEDGE_QUOTA_RENDER", value_parser = parse_quota, default_value = "600:120")]
    pub quota_render: Quota,
    /// Renders at once (0: the number of cores).
    #[arg(long, env = "IMGEDGE_RENDER_WORKERS", default_value_t = 0)]
    pub render_workers: usize,
    /// Renders that may wait for a worker; beyond, 503 with Retry-After.
    #[arg(long, env = "IMGEDGE_RENDER_QUEUE", default_value_t = 64)]
    pub render_queue: usize,
    /// MiB of originals kept decoded for a few seconds, so the variants of one image
    /// requested together share a decode (0: none).
    #[arg(long, env = "IMGEDGE_DECODED_CACHE_MB", default_value_t = 64)]
    pub decoded_cache_mb: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn decoded_cache(mib: u64) -> DecodedCacheSettings {
    DecodedCacheSettings {
        bytes: mib.saturating_mul(1 << 20),
        ..DecodedCacheSettings::default()
    }
}

/// Builds the transformer from its configuration; like [`api_state`], nothing here needs a
/// dependency to be up.
pub async fn transformer(args: &TransformerArgs) -> anyhow::Result<Transformer> {
    let Backend {
        db,
        redis,
        engine,
        store,
    } = Backend::connect(&args.database, &args.redis, &args.s3, &args.engine).await?;
    Ok(Transformer::new(crate::transformer::Parts {
        settings: TransformerSettings {
            max_variants_per_image: args.max_variants_per_image,
            render_quota: args.quota_render,
            workers: args.render_workers,
            queue: args.render_queue,
            lease: TransformerSettings::lease_for(Duration::from_millis(
                args.engine.render_timeout_ms,
            )),
            decoded_cache: decoded_cache(args.decoded_cache_mb),
        },
        db,
        store,
        redis: Some(redis),
        engine,
        url_secret: args.url_secret.clone(),
        origin_secret: args.origin_secret.clone(),
    }))
}

#[derive(Debug, Clone, clap::Args)]
pub struct EdgeArgs {
    /// Address to listen on.
    #[arg(long, env = "IMGEDGE_EDGE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// The transformer origin's base URL.
    #[arg(
        long,
        env = "IMGEDGE_TRANSFORMER_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub transformer_url: String,
    /// The API origin's base URL.
    #[arg(long, env = "IMGEDGE_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,
    /// The secret sent to the origins in `X-Imgedge-Origin-Secret`.
    #[arg(long, env = "IMGEDGE_ORIGIN_SECRET", hide_env_values = true, value_parser = parse_shared)]
    pub origin_secret: SharedSecret,
    /// The bearer token that `POST /_edge/purge` requires; without one, purging is off.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_TOKEN", hide_env_values = true, value_parser = parse_shared)]
    pub purge_token: Option<SharedSecret>,
    /// The built web client, served for every path that is not `/i/*` or `/v1/*`.
    #[arg(long, env = "IMGEDGE_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// Memory for cached responses, in MiB.
    #[arg(long, env = "IMGEDGE_EDGE_CACHE_MB", default_value_t = 512)]
    pub cache_mb: u64,
    /// The largest request body forwarded to the API, in bytes; larger declared bodies get
    /// 413 at the edge. Keep it above the API's upload limit.
    #[arg(long, env = "IMGEDGE_EDGE_MAX_API_BODY", default_value_t = crate::edge::DEFAULT_MAX_API_BODY)]
    pub max_api_body: u64,
    /// Shortest time a response is cached, in seconds (the cache policy's minimum TTL).
    #[arg(long, env = "IMGEDGE_EDGE_MIN_TTL_SECS", default_value_t = 0)]
    pub min_ttl_secs: u64,
    /// Cache time of a response that does not say, in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_DEFAULT_TTL_SECS", default_value_t = 86_400)]
    pub default_ttl_secs: u64,
    /// Longest time a response is cached, in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_MAX_TTL_SECS", default_value_t = 31_536_000)]
    pub max_ttl_secs: u64,
    /// Cache time of 4xx answers (bad URLs, bad signatures, deleted images), in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_ERROR_TTL_SECS", default_value_t = 10)]
    pub error_ttl_secs: u64,
    /// How long the transformer may take to answer, in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_ORIGIN_TIMEOUT_SECS", default_value_t = 60)]
    pub origin_timeout_secs: u64,
    #[command(flatten)]
    pub s3: S3Args,
}

/// Builds the edge from its configuration.
pub async fn edge(args: &EdgeArgs) -> Edge {
    let origins = Origins::new(
        ObjectStore::connect(&args.s3.config()).await,
        &args.transformer_url,
        &args.api_url,
        args.origin_secret.clone(),
        Duration::from_secs(args.origin_timeout_secs),
    );
    Edge::new(
        EdgeSettings {
            web_dir: args.web_dir.clone(),
            cache_bytes: args.cache_mb.saturating_mul(1024 * 1024),
            ttl: TtlPolicy {
                min: Duration::from_secs(args.min_ttl_secs),
                default: Duration::from_secs(args.default_ttl_secs),
                max: Duration::from_secs(args.max_ttl_secs),
                error: Duration::from_secs(args.error_ttl_secs),
            },
            purge_token: args.purge_token.clone(),
            max_api_body: args.max_api_body,
        },
        origins,
    )
}

/// `imgedge dev`: the whole stack in one process.
#[derive(Debug, Clone, clap::Args)]
pub struct DevArgs {
    /// The edge's address, the one URL of the stack.
    #[arg(long, env = "IMGEDGE_DEV_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Where objects and the generated secrets are kept.
    #[arg(long, env = "IMGEDGE_DATA_DIR", default_value = ".imgedge")]
    pub data_dir: PathBuf,
    /// The built web client.
    #[arg(long, env = "IMGEDGE_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// Distinct variants one image may have.
    #[arg(long, env = "IMGEDGE_MAX_VARIANTS_PER_IMAGE", default_value_t = 100)]
    pub max_variants_per_image: u64,
    /// New renders per image owner, as `PER_MINUTE:BURST`.
    #[arg(long, env = "IMGEDGE_QUOTA_RENDER", value_parser = parse_quota, default_value = "600:120")]
    pub quota_render: Quota,
    #[command(flatten)]
    pub quotas: QuotaArgs,
    /// Time for an upload's body to arrive, in milliseconds; slower senders get 408.
    #[arg(long, env = "IMGEDGE_UPLOAD_TIMEOUT_MS", default_value_t = 30_000)]
    pub upload_timeout_ms: u64,
    /// MiB of originals kept decoded for a few seconds, so the variants of one image
    /// requested together share a decode (0: none).
    #[arg(long, env = "IMGEDGE_DECODED_CACHE_MB", default_value_t = 64)]
    pub decoded_cache_mb: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[cfg(feature = "embedded-s3")]
impl DevArgs {
    pub fn config(&self) -> crate::dev::DevConfig {
        crate::dev::DevConfig {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            web_dir: self.web_dir.clone(),
            database_url: self.database.database_url.clone(),
            redis_url: self.redis.redis_url.clone(),
            redis_prefix: self.redis.redis_prefix.clone(),
            engine: self.engine.config(),
            max_variants_per_image: self.max_variants_per_image,
            render_quota: self.quota_render,
            quotas: self.quotas.quotas(),
            upload_timeout: Duration::from_millis(self.upload_timeout_ms),
            decoded_cache: decoded_cache(self.decoded_cache_mb),
        }
    }
}
