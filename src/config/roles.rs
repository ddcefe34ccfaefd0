//! The subcommands that run a role, each its own flags plus the shared groups of
//! [`super`], turned into what [`crate::startup`] assembles.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use imgedge_url::UrlSecret;

use super::{
    DatabaseArgs, EngineArgs, MIB, QuotaArgs, RedisArgs, RenderArgs, RenderTimeoutArgs, S3Args,
    UploadArgs, WebArgs, parse_net, parse_secret, parse_shared,
};
use crate::api::ApiSettings;
use crate::edge::{EdgeSettings, TtlPolicy};
use crate::http::SharedSecret;
use crate::settings::{LOCAL_API_ADDR, LOCAL_EDGE_ADDR, LOCAL_TRANSFORMER_ADDR};

#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "IMGEDGE_API_LISTEN", default_value = LOCAL_API_ADDR)]
    pub listen: SocketAddr,
    /// Base URL of the CDN serving `/i/...`, used in the URLs the API returns.
    #[arg(long, env = "IMGEDGE_CDN_BASE", default_value_t = ApiSettings::default().cdn_base)]
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
    #[arg(long, env = "IMGEDGE_ACCESS_TOKEN_TTL_SECS", default_value_t = ApiSettings::default().access_token_ttl.as_secs())]
    pub access_token_ttl_secs: u64,
    #[arg(long, env = "IMGEDGE_REFRESH_TOKEN_TTL_SECS", default_value_t = ApiSettings::default().refresh_token_ttl.as_secs())]
    pub refresh_token_ttl_secs: u64,
    /// A session's absolute lifetime from its sign-in, in seconds: refreshes never extend
    /// it.
    #[arg(long, env = "IMGEDGE_SESSION_LIFETIME_SECS", default_value_t = ApiSettings::default().session_lifetime.as_secs())]
    pub session_lifetime_secs: u64,
    #[command(flatten)]
    pub upload: UploadArgs,
    #[command(flatten)]
    pub quotas: QuotaArgs,
    /// How long image metadata stays in the Redis cache, in seconds.
    #[arg(long, env = "IMGEDGE_CACHE_TTL_SECS", default_value_t = ApiSettings::default().cache_ttl.as_secs())]
    pub cache_ttl_secs: u64,
    /// CloudFront distribution to invalidate on delete (production).
    #[arg(long, env = "IMGEDGE_CLOUDFRONT_DISTRIBUTION_ID")]
    pub cloudfront_distribution_id: Option<String>,
    /// The local edge's purge endpoint (`http://HOST:PORT/_edge/purge`), invalidated on
    /// delete when there is no CloudFront.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_URL")]
    pub edge_purge_url: Option<String>,
    /// The bearer token of the local edge's purge endpoint.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_TOKEN", hide_env_values = true, value_parser = parse_shared)]
    pub edge_purge_token: Option<SharedSecret>,
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

impl ApiArgs {
    /// The API's own settings.
    pub fn settings(&self) -> ApiSettings {
        ApiSettings {
            cdn_base: self.cdn_base.trim_end_matches('/').to_owned(),
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            session_lifetime: Duration::from_secs(self.session_lifetime_secs),
            cache_ttl: Duration::from_secs(self.cache_ttl_secs),
            trusted_proxies: self.trusted_proxies.clone(),
            ..self.upload.with_quotas(&self.quotas)
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct TransformerArgs {
    /// Address to listen on.
    #[arg(long, env = "IMGEDGE_TRANSFORMER_LISTEN", default_value = LOCAL_TRANSFORMER_ADDR)]
    pub listen: SocketAddr,
    /// The 32-byte server secret that derives each image's URL key (64 hex characters).
    #[arg(long, env = "IMGEDGE_URL_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub url_secret: UrlSecret,
    /// The secret that edges send in `X-Imgedge-Origin-Secret`; other callers get 403.
    #[arg(long, env = "IMGEDGE_ORIGIN_SECRET", hide_env_values = true, value_parser = parse_shared)]
    pub origin_secret: SharedSecret,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn local_url(addr: &str) -> String {
    format!("http://{addr}")
}

#[derive(Debug, Clone, clap::Args)]
pub struct EdgeArgs {
    /// Address to listen on.
    #[arg(long, env = "IMGEDGE_EDGE_LISTEN", default_value = LOCAL_EDGE_ADDR)]
    pub listen: SocketAddr,
    /// The transformer origin's base URL.
    #[arg(long, env = "IMGEDGE_TRANSFORMER_URL", default_value_t = local_url(LOCAL_TRANSFORMER_ADDR))]
    pub transformer_url: String,
    /// The API origin's base URL.
    #[arg(long, env = "IMGEDGE_API_URL", default_value_t = local_url(LOCAL_API_ADDR))]
    pub api_url: String,
    /// The secret sent to the origins in `X-Imgedge-Origin-Secret`.
    #[arg(long, env = "IMGEDGE_ORIGIN_SECRET", hide_env_values = true, value_parser = parse_shared)]
    pub origin_secret: SharedSecret,
    /// The bearer token that `POST /_edge/purge` requires; without one, purging is off.
    #[arg(long, env = "IMGEDGE_EDGE_PURGE_TOKEN", hide_env_values = true, value_parser = parse_shared)]
    pub purge_token: Option<SharedSecret>,
    #[command(flatten)]
    pub web: WebArgs,
    /// Memory for cached responses, in MiB.
    #[arg(long, env = "IMGEDGE_EDGE_CACHE_MB", default_value_t = EdgeSettings::default().cache_bytes / MIB)]
    pub cache_mb: u64,
    /// The largest request body forwarded to the API, in bytes; larger declared bodies get
    /// 413 at the edge. Keep it above the API's upload limit.
    #[arg(long, env = "IMGEDGE_EDGE_MAX_API_BODY", default_value_t = EdgeSettings::default().max_api_body)]
    pub max_api_body: u64,
    /// Shortest time a response is cached, in seconds (the cache policy's minimum TTL).
    #[arg(long, env = "IMGEDGE_EDGE_MIN_TTL_SECS", default_value_t = TtlPolicy::default().min.as_secs())]
    pub min_ttl_secs: u64,
    /// Cache time of a response that does not say, in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_DEFAULT_TTL_SECS", default_value_t = TtlPolicy::default().default.as_secs())]
    pub default_ttl_secs: u64,
    /// Longest time a response is cached, in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_MAX_TTL_SECS", default_value_t = TtlPolicy::default().max.as_secs())]
    pub max_ttl_secs: u64,
    /// Cache time of 4xx answers (bad URLs, bad signatures, deleted images), in seconds.
    #[arg(long, env = "IMGEDGE_EDGE_ERROR_TTL_SECS", default_value_t = TtlPolicy::default().error.as_secs())]
    pub error_ttl_secs: u64,
    /// The transformer's render timeout: the edge waits for it as long as the formula of
    /// [`RenderBudget::origin_timeout`] says (55 s for the default 20 s).
    #[command(flatten)]
    pub render_timeout: RenderTimeoutArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

impl EdgeArgs {
    pub fn settings(&self) -> EdgeSettings {
        EdgeSettings {
            web_dir: self.web.web_dir.clone(),
            cache_bytes: self.cache_mb.saturating_mul(MIB),
            ttl: TtlPolicy {
                min: Duration::from_secs(self.min_ttl_secs),
                default: Duration::from_secs(self.default_ttl_secs),
                max: Duration::from_secs(self.max_ttl_secs),
                error: Duration::from_secs(self.error_ttl_secs),
            },
            purge_token: self.purge_token.clone(),
            max_api_body: self.max_api_body,
        }
    }
}

/// `imgedge dev`: the whole stack in one process.
#[derive(Debug, Clone, clap::Args)]
pub struct DevArgs {
    /// The edge's address, the one URL of the stack.
    #[arg(long, env = "IMGEDGE_DEV_LISTEN", default_value = LOCAL_EDGE_ADDR)]
    pub listen: SocketAddr,
    /// Where objects and the generated secrets are kept.
    #[arg(long, env = "IMGEDGE_DATA_DIR", default_value = ".imgedge")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub upload: UploadArgs,
    #[command(flatten)]
    pub quotas: QuotaArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[cfg(feature = "embedded-s3")]
impl DevArgs {
    pub fn settings(&self) -> crate::dev::DevSettings {
        crate::dev::DevSettings {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database: self.database.settings(),
            redis: self.redis.settings(),
            engine: self.engine.config(),
            api: self.upload.with_quotas(&self.quotas),
            transformer: self.render.settings(),
            edge: EdgeSettings {
                web_dir: self.web.web_dir.clone(),
                // The edge forwards what the API may take, and a multipart form's framing.
                max_api_body: EdgeSettings::default()
                    .max_api_body
                    .max(self.upload.max_upload_bytes.saturating_add(MIB)),
                ..EdgeSettings::default()
            },
        }
    }
}

impl ApiArgs {
    /// Where the API's dependencies are.
    pub fn backend(&self) -> crate::startup::BackendSettings {
        backend(&self.database, &self.redis, &self.s3, &self.engine)
    }

    /// The API role: its settings, keys and how it invalidates the CDN.
    pub fn role(&self) -> crate::startup::ApiRole {
        use crate::startup::{Invalidation, PurgeEndpoint};
        let invalidation = match &self.cloudfront_distribution_id {
            Some(distribution_id) => Invalidation::CloudFront {
                distribution_id: distribution_id.clone(),
            },
            None => Invalidation::LocalEdge(self.edge_purge_url.clone().map(|url| PurgeEndpoint {
                url,
                token: self.edge_purge_token.clone(),
            })),
        };
        crate::startup::ApiRole {
            settings: self.settings(),
            jwt_keys: self.jwt_keys.clone(),
            jwt_active_kid: self.jwt_active_kid.clone(),
            url_secret: self.url_secret.clone(),
            invalidation,
        }
    }
}

impl TransformerArgs {
    /// Where the transformer's dependencies are.
    pub fn backend(&self) -> crate::startup::BackendSettings {
        backend(&self.database, &self.redis, &self.s3, &self.engine)
    }

    pub fn role(&self) -> crate::startup::TransformerRole {
        crate::startup::TransformerRole {
            settings: self.render.settings(),
            url_secret: self.url_secret.clone(),
            origin_secret: self.origin_secret.clone(),
        }
    }
}

impl EdgeArgs {
    pub fn role(&self) -> crate::startup::EdgeRole {
        crate::startup::EdgeRole {
            settings: self.settings(),
            origin_secret: self.origin_secret.clone(),
            transformer_url: self.transformer_url.clone(),
            api_url: self.api_url.clone(),
            budget: self.render_timeout.budget(),
        }
    }
}

fn backend(
    database: &DatabaseArgs,
    redis: &RedisArgs,
    s3: &S3Args,
    engine: &EngineArgs,
) -> crate::startup::BackendSettings {
    crate::startup::BackendSettings {
        database: database.settings(),
        redis: redis.settings(),
        s3: s3.config(),
        create_bucket: s3.s3_create_bucket,
        engine: engine.config(),
    }
}
