//! `imgedge dev`: the whole service on one machine, in one process, needing only PostgreSQL
//! and Redis. The edge listens on the given address and is the only way in, as `CloudFront`
//! is in production: `/v1/*` reaches the API, `/i/*` the image origins, `/` the web client.
//! Behind it, each on its own loopback port and reached over real HTTP: the API, the
//! transformer and an embedded S3 server keeping objects under the data directory.
//!
//! Secrets (URL secret, JWT key, origin secret, purge token, S3 keys) are generated on the
//! first run and kept in `{data_dir}/secrets.json`, so URLs and sessions survive a restart.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use futures::FutureExt as _;
use rand::RngCore as _;
use tokio::net::TcpListener;

use crate::api::{ApiSettings, AppState, JwtKeys};
use crate::db::Db;
use crate::edge::{Edge, EdgeSettings, Origins};
use crate::engine::{Engine, EngineConfig};
use crate::http::SharedSecret;
use crate::invalidate::LocalInvalidator;
use crate::ratelimit::Quota;
use crate::redis::RedisHandle;
use crate::storage::embedded::EmbeddedS3;
use crate::storage::{ObjectStore, S3Config};
use crate::transformer::{DecodedCacheSettings, Transformer, TransformerSettings};
use crate::url::UrlSecret;

/// What `imgedge dev` needs.
#[derive(Debug, Clone)]
pub struct DevConfig {
    /// The edge's address: the one URL of the stack.
    pub listen: SocketAddr,
    /// Objects and secrets live here.
    pub data_dir: PathBuf,
    pub web_dir: PathBuf,
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub engine: EngineConfig,
    pub max_variants_per_image: u64,
    pub render_quota: Quota,
    pub quotas: crate::api::Quotas,
    pub upload_timeout: std::time::Duration,
    pub decoded_cache: DecodedCacheSettings,
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

/// A listener on a free loopback port.
async fn loopback() -> anyhow::Result<TcpListener> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?)
}

/// The URL a browser reaches `addr` at.
fn url_of(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// Creates the database if it is missing, and brings its schema up to date.
async fn prepare_database(url: &str) -> anyhow::Result<()> {
    crate::db::create_database_if_missing(url)
        .await
        .context("creating the database (is PostgreSQL running? DATABASE_URL)")?;
    crate::db::migrate_command(url, Duration::from_secs(30))
        .await
        .context("migrating the database (is PostgreSQL running? DATABASE_URL)")?;
    Ok(())
}

/// One stop for every role: `shutdown`, or any role ending by itself (signalled through the
/// returned sender), so the others stop too rather than serve a partial stack.
fn one_stop(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (
    futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
    tokio::sync::watch::Sender<bool>,
) {
    let (ended, mut ended_rx) = tokio::sync::watch::channel(false);
    let role_ended = async move {
        let _ = ended_rx.wait_for(|ended| *ended).await;
    };
    let stop = futures::future::select(shutdown.boxed(), role_ended.boxed())
        .map(|_| ())
        .boxed()
        .shared();
    (stop, ended)
}

/// Runs the stack until `shutdown` completes. `ready` is called with the edge's URL once
/// every role accepts connections.
pub async fn run(
    config: DevConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(&str),
) -> anyhow::Result<()> {
    let (stop, ended) = one_stop(shutdown);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let secrets = Secrets::load_or_create(&config.data_dir.join("secrets.json"))?;
    let url_secret = UrlSecret::from_hex(&secrets.url_secret)
        .map_err(|_| anyhow::anyhow!("secrets.json: url_secret is not 64 hex characters"))?;
    let origin_secret = SharedSecret::new(&secrets.origin_secret)
        .context("secrets.json: origin_secret is empty")?;
    let purge_token =
        SharedSecret::new(&secrets.purge_token).context("secrets.json: purge_token is empty")?;

    // The edge's address first: a port in use should fail before anything starts.
    let edge_listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let edge_url = url_of(edge_listener.local_addr()?);

    prepare_database(&config.database_url).await?;

    let s3 = EmbeddedS3::start(
        loopback().await?,
        config.data_dir.join("s3"),
        &secrets.s3_access_key_id,
        &secrets.s3_secret_access_key,
    )
    .await
    .context("starting the embedded S3 server")?;
    let store = ObjectStore::new(&S3Config {
        endpoint: Some(s3.endpoint()),
        region: "us-east-1".into(),
        bucket: "imgedge".into(),
        access_key_id: secrets.s3_access_key_id.clone(),
        secret_access_key: secrets.s3_secret_access_key.clone(),
        force_path_style: true,
    });
    store.ensure_bucket().await.context("creating the bucket")?;

    let db = Db::connect(&config.database_url, 16).await?;
    let redis = RedisHandle::new(&config.redis_url, &config.redis_prefix).context("REDIS_URL")?;
    let engine = Engine::new(config.engine.clone()).context("starting libvips")?;

    let api_listener = loopback().await?;
    let api_url = url_of(api_listener.local_addr()?);
    let api = api_state(
        &config,
        &secrets,
        &edge_url,
        Shared {
            db: db.clone(),
            store: store.clone(),
            redis: redis.clone(),
            engine: engine.clone(),
            url_secret: url_secret.clone(),
            purge_token: purge_token.clone(),
        },
    )?;

    let transformer_listener = loopback().await?;
    let transformer_url = url_of(transformer_listener.local_addr()?);
    let transformer = Transformer::new(crate::transformer::Parts {
        settings: TransformerSettings {
            max_variants_per_image: config.max_variants_per_image,
            render_quota: config.render_quota,
            lease: TransformerSettings::lease_for(config.engine.render_timeout),
            decoded_cache: config.decoded_cache,
            ..TransformerSettings::default()
        },
        db,
        store: store.clone(),
        redis: Some(redis),
        engine,
        url_secret,
        origin_secret: origin_secret.clone(),
    });

    let edge = Edge::new(
        EdgeSettings {
            web_dir: config.web_dir.clone(),
            purge_token: Some(purge_token),
            ..EdgeSettings::default()
        },
        Origins::new(
            store,
            &transformer_url,
            &api_url,
            origin_secret,
            crate::edge::DEFAULT_ORIGIN_TIMEOUT,
        ),
    );

    tracing::info!(%edge_url, %api_url, %transformer_url, s3 = %s3.endpoint(), "imgedge dev is up");
    ready(&edge_url);
    let role_ended = || {
        let _ = ended.send(true);
    };
    let (api_done, (), ()) = tokio::join!(
        crate::api::run(api_listener, api, stop.clone()).inspect(|_| role_ended()),
        crate::transformer::run(transformer_listener, transformer, stop.clone())
            .inspect(|()| role_ended()),
        crate::edge::run(edge_listener, edge, stop.clone()).inspect(|()| role_ended()),
    );
    s3.shutdown().await;
    api_done.context("the API stopped with an error")?;
    Ok(())
}

/// What the roles of the stack share.
struct Shared {
    db: Db,
    store: ObjectStore,
    redis: RedisHandle,
    engine: Engine,
    url_secret: UrlSecret,
    purge_token: SharedSecret,
}

/// The API's state: every request comes through the edge, which names the client, and a
/// delete purges the edge.
fn api_state(
    config: &DevConfig,
    secrets: &Secrets,
    edge_url: &str,
    shared: Shared,
) -> anyhow::Result<AppState> {
    Ok(AppState::new(crate::api::Parts {
        settings: ApiSettings {
            cdn_base: edge_url.to_owned(),
            quotas: config.quotas,
            trusted_proxies: vec![ipnet::IpNet::from(std::net::IpAddr::from(
                Ipv4Addr::LOCALHOST,
            ))],
            upload_timeout: config.upload_timeout,
            ..ApiSettings::default()
        },
        db: shared.db,
        store: shared.store,
        redis: Some(shared.redis),
        engine: shared.engine,
        jwt: JwtKeys::parse(
            &format!("dev={}", secrets.jwt_key),
            "dev",
            Duration::from_mins(15),
        )
        .context("secrets.json: jwt_key")?,
        url_secret: shared.url_secret,
        invalidator: Arc::new(LocalInvalidator::new(
            Some(format!("{edge_url}{}", crate::edge::PURGE_PATH)),
            Some(shared.purge_token.expose().to_owned()),
        )),
        cache_ttl: Duration::from_mins(5),
    }))
}
