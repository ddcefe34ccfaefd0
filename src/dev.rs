//! `imgedge dev`: the whole service on one machine, in one process, needing only PostgreSQL
//! and Redis. The edge listens on the given address and is the only way in, as `CloudFront`
//! is in production: `/v1/*` reaches the API, `/i/*` the image origins, `/` the web client.
//! Behind it, each on its own loopback port and reached over real HTTP: the API, the
//! transformer and an embedded S3 server keeping objects under the data directory.
//!
//! Secrets (URL secret, JWT key, origin secret, purge token, S3 keys) are generated on the
//! first run and kept in `{data_dir}/secrets.json`, so URLs and sessions survive a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use imgedge_engine::EngineConfig;
use imgedge_url::UrlSecret;
use rand::RngCore as _;
use tokio::net::TcpListener;

use crate::api::ApiSettings;
use crate::db::DatabaseSettings;
use crate::edge::EdgeSettings;
use crate::http::SharedSecret;
use crate::redis::RedisSettings;
use crate::startup::{BackendSettings, Connections, StackSettings, loopback, start_stack};
use crate::storage::S3Config;
use crate::storage::embedded::EmbeddedS3;
use crate::transformer::TransformerSettings;

/// What `imgedge dev` needs.
#[derive(Debug, Clone)]
pub struct DevSettings {
    /// The edge's address: the one URL of the stack.
    pub listen: SocketAddr,
    /// Objects and secrets live here.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub engine: EngineConfig,
    /// The API's limits and quotas (its address and proxies are the stack's).
    pub api: ApiSettings,
    pub transformer: TransformerSettings,
    pub edge: EdgeSettings,
}

/// The generated secrets of a data directory.
#[derive(serde::Serialize, serde::Deserialize)]
struct Secrets {
    url_secret: String,
    jwt_key: String,
    origin_secret: String,
    purge_token: String,
    s3_access_key_id: String,
    s3_secret_access_key: String,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Secrets {
    fn generate() -> Secrets {
        let mut jwt = [0; 32];
        rand::rng().fill_bytes(&mut jwt);
        Secrets {
            url_secret: random_hex(32),
            jwt_key: base64::engine::general_purpose::STANDARD.encode(jwt),
            origin_secret: random_hex(24),
            purge_token: random_hex(24),
            s3_access_key_id: format!("dev{}", random_hex(8)),
            s3_secret_access_key: random_hex(24),
        }
    }

    /// Reads `path`, or writes freshly generated secrets there (readable by the owner only).
    fn load_or_create(path: &Path) -> anyhow::Result<Secrets> {
        match std::fs::read(path) {
            Ok(json) => {
                serde_json::from_slice(&json).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secrets = Secrets::generate();
                let json = serde_json::to_vec_pretty(&secrets)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                std::io::Write::write_all(&mut file, &json)?;
                Ok(secrets)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// Creates the database if it is missing, and brings its schema up to date.
async fn prepare_database(settings: &DatabaseSettings) -> anyhow::Result<()> {
    crate::db::create_database_if_missing(&settings.url)
        .await
        .context("creating the database (is PostgreSQL running? DATABASE_URL)")?;
    crate::db::migrate_command(settings, Duration::from_secs(30))
        .await
        .context("migrating the database (is PostgreSQL running? DATABASE_URL)")?;
    Ok(())
}

/// Runs the stack until `shutdown` completes. `ready` is called with the edge's URL once
/// every role accepts connections.
pub async fn run(
    settings: DevSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(&str),
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let secrets = Secrets::load_or_create(&settings.data_dir.join("secrets.json"))?;
    let url_secret = UrlSecret::from_hex(&secrets.url_secret)
        .map_err(|_| anyhow::anyhow!("secrets.json: url_secret is not 64 hex characters"))?;
    let origin_secret = SharedSecret::new(&secrets.origin_secret)
        .context("secrets.json: origin_secret is empty")?;
    let purge_token =
        SharedSecret::new(&secrets.purge_token).context("secrets.json: purge_token is empty")?;

    // The edge's address first: a port in use should fail before anything starts.
    let edge_listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;

    prepare_database(&settings.database).await?;

    let (s3_listener, _) = loopback().await?;
    let s3 = EmbeddedS3::start(
        s3_listener,
        settings.data_dir.join("s3"),
        &secrets.s3_access_key_id,
        &secrets.s3_secret_access_key,
    )
    .await
    .context("starting the embedded S3 server")?;
    let connections = Connections::open(&BackendSettings {
        database: settings.database,
        redis: settings.redis,
        s3: S3Config {
            endpoint: Some(s3.endpoint()),
            access_key_id: secrets.s3_access_key_id.clone(),
            secret_access_key: secrets.s3_secret_access_key.clone(),
            force_path_style: true,
            ..S3Config::default()
        },
        create_bucket: true,
        engine: settings.engine,
    })
    .await?;

    let stack = start_stack(
        StackSettings {
            api: settings.api,
            transformer: settings.transformer,
            edge: settings.edge,
            jwt_keys: format!("dev={}", secrets.jwt_key),
            jwt_active_kid: "dev".into(),
            url_secret,
            origin_secret,
            purge_token,
        },
        &connections,
        edge_listener,
        shutdown,
    )
    .await?;
    tracing::info!(
        edge_url = %stack.edge_url,
        api_url = %stack.api_url,
        transformer_url = %stack.transformer_url,
        s3 = %s3.endpoint(),
        "imgedge dev is up"
    );
    ready(&stack.edge_url);
    let stopped = stack.stopped.await;
    s3.shutdown().await;
    stopped
        .context("the stack's task failed")?
        .context("the API stopped with an error")?;
    Ok(())
}
