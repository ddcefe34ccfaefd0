//! The command line of every role: flags that fall back to environment variables
//! (`DATABASE_URL` and `REDIS_URL` by their usual names, the rest prefixed `IMGEDGE_`), each
//! group turned into the typed settings the roles take; [`crate::startup`] assembles the
//! roles from those. Every default is its settings type's `Default` (or a constant beside
//! it), so the flags, `imgedge dev` and the tests share one. Groups of flags that several
//! subcommands take are one struct, flattened into each. Secrets are never logged: their
//! `Debug` and clap's help hide them.

mod roles;

use std::path::PathBuf;
use std::time::Duration;

use imgedge_engine::{EngineConfig, ShrinkOnLoad};
use imgedge_url::UrlSecret;

pub use roles::{ApiArgs, DevArgs, EdgeArgs, TransformerArgs};

use crate::api::{ApiSettings, Quotas};
use crate::db::{DatabaseSettings, StorageQuota};
use crate::edge::EdgeSettings;
use crate::http::SharedSecret;
use crate::protocol::RenderBudget;
use crate::ratelimit::Quota;
use crate::redis::RedisSettings;
use crate::storage::S3Config;
use crate::transformer::{DecodedCacheSettings, TransformerSettings};

pub(crate) const MIB: u64 = 1024 * 1024;

pub(crate) fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The engine's render timeout: the one budget from which the transformer's wait for a peer
/// and the edge's origin timeout derive ([`RenderBudget`]).
#[derive(Debug, Clone, clap::Args)]
pub struct RenderTimeoutArgs {
    /// Time budget of one variant's decode and render, in milliseconds.
    #[arg(long, env = "IMGEDGE_RENDER_TIMEOUT_MS", default_value_t = duration_millis(EngineConfig::default().render_timeout))]
    pub render_timeout_ms: u64,
}

impl RenderTimeoutArgs {
    pub fn render_timeout(&self) -> Duration {
        Duration::from_millis(self.render_timeout_ms)
    }

    pub fn budget(&self) -> RenderBudget {
        RenderBudget::new(self.render_timeout())
    }
}

/// Engine limits, shared by every role that decodes images.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Largest source accepted, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_SOURCE_PIXELS", default_value_t = EngineConfig::default().max_source_pixels)]
    pub max_source_pixels: u64,
    /// Largest output, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_OUTPUT_PIXELS", default_value_t = EngineConfig::default().max_output_pixels)]
    pub max_output_pixels: u64,
    #[command(flatten)]
    pub render_timeout: RenderTimeoutArgs,
    /// libvips threads per render (0: the number of cores).
    #[arg(long, env = "IMGEDGE_VIPS_CONCURRENCY", default_value_t = EngineConfig::default().vips_concurrency)]
    pub vips_concurrency: u32,
    /// How far a JPEG shrinks while it is decoded: `fast` (1/4 as soon as the resize shrinks
    /// by 4, as Sharp does) or `margin` (libvips thumbnail's, leaving the resize a factor of
    /// two).
    #[arg(long, env = "IMGEDGE_SHRINK_ON_LOAD", value_enum, default_value_t = ShrinkOnLoadArg::from(ShrinkOnLoad::default()))]
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

impl From<ShrinkOnLoad> for ShrinkOnLoadArg {
    fn from(policy: ShrinkOnLoad) -> Self {
        match policy {
            ShrinkOnLoad::Fast => ShrinkOnLoadArg::Fast,
            ShrinkOnLoad::Margin => ShrinkOnLoadArg::Margin,
        }
    }
}

impl EngineArgs {
    pub fn config(&self) -> EngineConfig {
        EngineConfig {
            max_source_pixels: self.max_source_pixels,
            max_output_pixels: self.max_output_pixels,
            render_timeout: self.render_timeout.render_timeout(),
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
    /// The most connections to PostgreSQL this process opens.
    #[arg(long, env = "IMGEDGE_DB_MAX_CONNECTIONS", default_value_t = DatabaseSettings::DEFAULT_MAX_CONNECTIONS)]
    pub db_max_connections: u32,
}

impl DatabaseArgs {
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.database_url.clone(),
            max_connections: self.db_max_connections,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Redis URL, for rate limits and the metadata cache.
    #[arg(long, env = "REDIS_URL", default_value_t = RedisSettings::default().url, hide_env_values = true)]
    pub redis_url: String,
    /// Prefix of every Redis key this deployment uses.
    #[arg(long, env = "IMGEDGE_REDIS_PREFIX", default_value_t = RedisSettings::default().prefix)]
    pub redis_prefix: String,
}

impl RedisArgs {
    pub fn settings(&self) -> RedisSettings {
        RedisSettings {
            url: self.redis_url.clone(),
            prefix: self.redis_prefix.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct S3Args {
    /// S3 endpoint (MinIO, the embedded server); leave unset for AWS.
    #[arg(long, env = "IMGEDGE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "IMGEDGE_S3_REGION", default_value_t = S3Config::default().region)]
    pub s3_region: String,
    #[arg(long, env = "IMGEDGE_S3_BUCKET", default_value_t = S3Config::default().bucket)]
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

/// A network (`10.0.0.0/8`) or a single address (`127.0.0.1`).
pub(crate) fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a CIDR network"))
}

/// Parses a URL secret given as 64 hex characters (for clap).
pub fn parse_secret(hex: &str) -> Result<UrlSecret, String> {
    UrlSecret::from_hex(hex).map_err(|_| "expected 64 hexadecimal characters".to_owned())
}

/// A shared secret given on the command line (for clap): at least 32 bytes of visible
/// ASCII.
pub(crate) fn parse_shared(text: &str) -> Result<SharedSecret, String> {
    SharedSecret::new(text).ok_or_else(|| {
        format!(
            "must be at least {} characters of visible ASCII (it travels in a header): \
             `openssl rand -hex 32`",
            SharedSecret::MIN_BYTES
        )
    })
}

/// The API's request quotas, each as `PER_MINUTE:BURST`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuotaArgs {
    /// Uploads per user.
    #[arg(long, env = "IMGEDGE_QUOTA_UPLOAD", default_value_t = Quotas::default().upload)]
    pub quota_upload: Quota,
    /// Metadata reads (get, list) per user.
    #[arg(long, env = "IMGEDGE_QUOTA_READ", default_value_t = Quotas::default().read)]
    pub quota_read: Quota,
    /// URL mints per user.
    #[arg(long, env = "IMGEDGE_QUOTA_MINT", default_value_t = Quotas::default().mint)]
    pub quota_mint: Quota,
    /// Deletes per user.
    #[arg(long, env = "IMGEDGE_QUOTA_WRITE", default_value_t = Quotas::default().write)]
    pub quota_write: Quota,
    /// Logins and refreshes per client network (an IPv4 address, an IPv6 /64).
    #[arg(long, env = "IMGEDGE_QUOTA_LOGIN_IP", default_value_t = Quotas::default().login_ip)]
    pub quota_login_ip: Quota,
    /// Failed sign-ins per account email and client network; a correct password spends
    /// nothing.
    #[arg(long, env = "IMGEDGE_QUOTA_LOGIN_FAILURES", default_value_t = Quotas::default().login_failures)]
    pub quota_login_failures: Quota,
    /// Failed sign-ins per account email from all networks together: past it, sign-ins for
    /// that email are slowed to this rate, not locked out.
    #[arg(long, env = "IMGEDGE_QUOTA_LOGIN_EMAIL", default_value_t = Quotas::default().login_email)]
    pub quota_login_email: Quota,
    /// Registrations per client network.
    #[arg(long, env = "IMGEDGE_QUOTA_REGISTER_IP", default_value_t = Quotas::default().register_ip)]
    pub quota_register_ip: Quota,
    /// Requests per API key (besides its account's limits).
    #[arg(long, env = "IMGEDGE_QUOTA_API_KEY", default_value_t = Quotas::default().api_key)]
    pub quota_api_key: Quota,
}

impl QuotaArgs {
    pub fn quotas(&self) -> Quotas {
        Quotas {
            upload: self.quota_upload,
            read: self.quota_read,
            mint: self.quota_mint,
            write: self.quota_write,
            login_ip: self.quota_login_ip,
            login_failures: self.quota_login_failures,
            login_email: self.quota_login_email,
            register_ip: self.quota_register_ip,
            api_key: self.quota_api_key,
        }
    }
}

/// What an upload may be, and how long its body may take: the API's and `imgedge dev`'s.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Largest upload, in bytes.
    #[arg(long, env = "IMGEDGE_MAX_UPLOAD_BYTES", default_value_t = ApiSettings::default().max_upload_bytes)]
    pub max_upload_bytes: u64,
    /// Most frames of an animated or multi-image upload.
    #[arg(long, env = "IMGEDGE_MAX_FRAMES", default_value_t = ApiSettings::default().max_frames)]
    pub max_frames: u32,
    /// Time for an upload's body to arrive, in milliseconds; slower senders get 408.
    #[arg(long, env = "IMGEDGE_UPLOAD_TIMEOUT_MS", default_value_t = duration_millis(ApiSettings::default().upload_timeout))]
    pub upload_timeout_ms: u64,
    /// Most bytes of metadata (text, EXIF, XMP, ICC) an upload may carry, counted inflated.
    #[arg(long, env = "IMGEDGE_MAX_METADATA_BYTES", default_value_t = ApiSettings::default().max_metadata_bytes)]
    pub max_metadata_bytes: u64,
    /// MiB of upload bodies the process holds at once; beyond, 503 with Retry-After.
    #[arg(long, env = "IMGEDGE_UPLOAD_BUDGET_MB", default_value_t = ApiSettings::default().upload_budget_bytes / MIB)]
    pub upload_budget_mb: u64,
    /// Uploads of one account in flight at once; beyond, 429 with Retry-After.
    #[arg(long, env = "IMGEDGE_UPLOADS_PER_OWNER", default_value_t = ApiSettings::default().uploads_per_owner)]
    pub uploads_per_owner: u32,
    /// Bytes of originals one account may store.
    #[arg(long, env = "IMGEDGE_STORAGE_QUOTA_BYTES", default_value_t = ApiSettings::default().storage_quota.bytes)]
    pub storage_quota_bytes: u64,
    /// Images one account may store.
    #[arg(long, env = "IMGEDGE_STORAGE_QUOTA_IMAGES", default_value_t = ApiSettings::default().storage_quota.images)]
    pub storage_quota_images: u64,
}

/// How the transformer renders: caps, rates, its pool and its kept decodes. The
/// transformer's and `imgedge dev`'s.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    /// Distinct variants one image may have.
    #[arg(long, env = "IMGEDGE_MAX_VARIANTS_PER_IMAGE", default_value_t = TransformerSettings::default().max_variants_per_image)]
    pub max_variants_per_image: u64,
    /// New renders per image owner, in cost units (an ordinary web-sized render costs 1, the
    /// costliest several hundred; see docs/transform-urls.md), as `PER_MINUTE:BURST`.
    #[arg(long, env = "IMGEDGE_QUOTA_RENDER", default_value_t = TransformerSettings::default().render_quota)]
    pub quota_render: Quota,
    /// Renders at once (0: the number of cores).
    #[arg(long, env = "IMGEDGE_RENDER_WORKERS", default_value_t = TransformerSettings::default().workers)]
    pub render_workers: usize,
    /// Renders of one image owner at once (0: half the workers, at least 1), so that one
    /// account cannot take every worker.
    #[arg(long, env = "IMGEDGE_RENDERS_PER_OWNER", default_value_t = TransformerSettings::default().renders_per_owner)]
    pub renders_per_owner: usize,
    /// Renders that may wait for a worker; beyond, 503 with Retry-After.
    #[arg(long, env = "IMGEDGE_RENDER_QUEUE", default_value_t = TransformerSettings::default().queue)]
    pub render_queue: usize,
    /// MiB of originals kept decoded for a few seconds, so the variants of one image
    /// requested together share a decode (0: none).
    #[arg(long, env = "IMGEDGE_DECODED_CACHE_MB", default_value_t = DecodedCacheSettings::default().bytes / MIB)]
    pub decoded_cache_mb: u64,
}

impl RenderArgs {
    pub fn settings(&self) -> TransformerSettings {
        TransformerSettings {
            max_variants_per_image: self.max_variants_per_image,
            render_quota: self.quota_render,
            workers: self.render_workers,
            renders_per_owner: self.renders_per_owner,
            queue: self.render_queue,
            decoded_cache: DecodedCacheSettings {
                bytes: self.decoded_cache_mb.saturating_mul(MIB),
                ..DecodedCacheSettings::default()
            },
        }
    }
}

/// The built web client, served for every path that is not `/i/*` or `/v1/*`: the edge's
/// and `imgedge dev`'s.
#[derive(Debug, Clone, clap::Args)]
pub struct WebArgs {
    #[arg(long, env = "IMGEDGE_WEB_DIR", default_value_os_t = EdgeSettings::default().web_dir)]
    pub web_dir: PathBuf,
}

impl UploadArgs {
    /// The API's defaults with these upload limits and `quotas`.
    pub fn with_quotas(&self, quotas: &QuotaArgs) -> ApiSettings {
        ApiSettings {
            max_upload_bytes: self.max_upload_bytes,
            max_frames: self.max_frames,
            upload_timeout: Duration::from_millis(self.upload_timeout_ms),
            max_metadata_bytes: self.max_metadata_bytes,
            upload_budget_bytes: self.upload_budget_mb.saturating_mul(MIB),
            uploads_per_owner: self.uploads_per_owner,
            storage_quota: StorageQuota {
                bytes: self.storage_quota_bytes,
                images: self.storage_quota_images,
            },
            quotas: quotas.quotas(),
            ..ApiSettings::default()
        }
    }
}

#[cfg(test)]
mod tests;
