//! The one assembly of imgedge's roles: typed settings and shared connections in, a role (or
//! a whole stack on loopback listeners) out. The binary (`imgedge api`, `transformer`,
//! `edge`, `dev`) and the black-box tests build through these functions, so the tests run
//! the production wiring.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::UrlSecret;
use tokio::net::TcpListener;

use crate::api::{self, ApiSettings, AppState, JwtKeys};
use crate::db::{DatabaseSettings, Db};
use crate::edge::{self, Edge, EdgeSettings, Origins};
use crate::http::SharedSecret;
use crate::invalidate::{CloudFrontInvalidator, Invalidator, LocalInvalidator};
use crate::protocol::RenderBudget;
use crate::purges::PurgeOutbox;
use crate::redis::{RedisHandle, RedisSettings};
use crate::storage::{ObjectStore, S3Config};
use crate::transformer::{self, Transformer, TransformerSettings};

/// What the API and the transformer need to reach: PostgreSQL, S3, Redis and libvips.
#[derive(Debug, Clone)]
pub struct Connections {
    pub db: Db,
    pub store: ObjectStore,
    /// `None` runs without Redis: rate limits per process, no metadata cache, no render lease.
    pub redis: Option<RedisHandle>,
    pub engine: Engine,
}

/// Where the backend's dependencies are.
#[derive(Debug, Clone)]
pub struct BackendSettings {
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub s3: S3Config,
    /// Create the bucket when it is missing (development and tests).
    pub create_bucket: bool,
    pub engine: EngineConfig,
}

impl Connections {
    /// Opens the connections without waiting for PostgreSQL or Redis (they connect on first
    /// use, so a role starts during an outage and answers 503 or degrades until they return);
    /// only creating a missing bucket, when asked, talks to S3.
    pub async fn open(settings: &BackendSettings) -> anyhow::Result<Connections> {
        let db = Db::connect(&settings.database)
            .await
            .context("DATABASE_URL")?;
        let redis =
            RedisHandle::new(&settings.redis.url, &settings.redis.prefix).context("REDIS_URL")?;
        let engine = Engine::new(settings.engine.clone()).context("starting libvips")?;
        let store = ObjectStore::connect(&settings.s3).await;
        if settings.create_bucket {
            store
                .ensure_bucket()
                .await
                .context("creating the S3 bucket")?;
        }
        Ok(Connections {
            db,
            store,
            redis: Some(redis),
            engine,
        })
    }
}

/// How the API tells the CDN that a deleted image's variants are gone.
#[derive(Clone)]
pub enum Invalidation {
    /// `CreateInvalidation` on this distribution, with the AWS default credential chain.
    CloudFront { distribution_id: String },
    /// The local edge's purge endpoint; `None` leaves the CDN to expire what it holds.
    LocalEdge(Option<PurgeEndpoint>),
    /// Any other implementation (the tests record what they are asked).
    Custom(Arc<dyn Invalidator>),
}

impl std::fmt::Debug for Invalidation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalidation::CloudFront { distribution_id } => f
                .debug_struct("CloudFront")
                .field("distribution_id", distribution_id)
                .finish(),
            Invalidation::LocalEdge(endpoint) => {
                f.debug_tuple("LocalEdge").field(endpoint).finish()
            }
            Invalidation::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// The local edge's purge endpoint and its bearer token.
#[derive(Debug, Clone)]
pub struct PurgeEndpoint {
    pub url: String,
    pub token: Option<SharedSecret>,
}

/// What the API role is made of besides its connections.
#[derive(Debug, Clone)]
pub struct ApiRole {
    pub settings: ApiSettings,
    /// JWT signing keys (`kid=base64key,...`) and the `kid` that signs new tokens.
    pub jwt_keys: String,
    pub jwt_active_kid: String,
    pub url_secret: UrlSecret,
    pub invalidation: Invalidation,
}

/// The API's state.
pub async fn api(role: ApiRole, connections: &Connections) -> anyhow::Result<AppState> {
    let jwt = JwtKeys::parse(
        &role.jwt_keys,
        &role.jwt_active_kid,
        role.settings.access_token_ttl,
    )
    .context("IMGEDGE_JWT_KEYS")?;
    let invalidator: Arc<dyn Invalidator> = match role.invalidation {
        Invalidation::CloudFront { distribution_id } => {
            Arc::new(CloudFrontInvalidator::from_env(distribution_id).await)
        }
        Invalidation::LocalEdge(endpoint) => {
            let (url, token) = endpoint.map_or((None, None), |e| {
                (Some(e.url), e.token.map(|t| t.expose().to_owned()))
            });
            Arc::new(LocalInvalidator::new(url, token))
        }
        Invalidation::Custom(invalidator) => invalidator,
    };
    // Deletes owe their purges in PostgreSQL; `api::run` starts the task that sends them.
    let purges = PurgeOutbox::new(
        connections.db.clone(),
        connections.store.clone(),
        invalidator,
        role.settings.purges,
    );
    Ok(AppState::new(api::ApiParts {
        settings: role.settings,
        db: connections.db.clone(),
        store: connections.store.clone(),
        redis: connections.redis.clone(),
        engine: connections.engine.clone(),
        jwt,
        url_secret: role.url_secret,
        purges,
    }))
}

/// What the transformer role is made of besides its connections.
#[derive(Debug, Clone)]
pub struct TransformerRole {
    pub settings: TransformerSettings,
    pub url_secret: UrlSecret,
    pub origin_secret: SharedSecret,
}

/// The transformer. Its wait for a peer rendering the same variant follows the engine's
/// render timeout ([`RenderBudget`]).
pub fn transformer(role: TransformerRole, connections: &Connections) -> Transformer {
    Transformer::new(transformer::TransformerParts {
        settings: role.settings,
        db: connections.db.clone(),
        store: connections.store.clone(),
        redis: connections.redis.clone(),
        engine: connections.engine.clone(),
        url_secret: role.url_secret,
        origin_secret: role.origin_secret,
    })
}

/// What the edge role is made of besides S3.
#[derive(Debug, Clone)]
pub struct EdgeRole {
    pub settings: EdgeSettings,
    pub origin_secret: SharedSecret,
    /// Base URLs of the origins behind it.
    pub transformer_url: String,
    pub api_url: String,
    /// The transformer's render budget: the edge waits [`RenderBudget::origin_timeout`].
    pub budget: RenderBudget,
}

/// The edge, reading S3 with `store`.
pub fn edge(role: EdgeRole, store: ObjectStore) -> Edge {
    let origins = Origins::new(
        store,
        &role.transformer_url,
        &role.api_url,
        role.origin_secret,
        role.budget.origin_timeout(),
    );
    Edge::new(role.settings, origins)
}

/// A whole stack behind one edge, as `imgedge dev` runs it and the black-box tests start it.
#[derive(Debug, Clone)]
pub struct StackSettings {
    /// The API's settings; its `cdn_base` and trusted proxies are the stack's edge.
    pub api: ApiSettings,
    pub transformer: TransformerSettings,
    /// The edge's settings; its purge token is the stack's.
    pub edge: EdgeSettings,
    pub jwt_keys: String,
    pub jwt_active_kid: String,
    pub url_secret: UrlSecret,
    pub origin_secret: SharedSecret,
    /// The edge's purge token, which the API's invalidations use.
    pub purge_token: SharedSecret,
}

/// A stack started by [`start_stack`]: its addresses, and the roles running.
#[derive(Debug)]
pub struct RunningStack {
    /// The edge: the one address clients use.
    pub edge_url: String,
    pub api_url: String,
    pub transformer_url: String,
    /// Completes when every role has stopped: after the stop signal, or as soon as one role
    /// ends by itself (the others are stopped with it rather than serve a partial stack).
    /// The error is the API's, if it failed.
    pub stopped: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A listener on a free loopback port, and the URL a client reaches it at.
pub async fn loopback() -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let url = url_of(listener.local_addr()?);
    Ok((listener, url))
}

/// The URL a client reaches `addr` at.
pub fn url_of(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// Starts the edge on `edge_listener`, and the API and the transformer each on a loopback
/// port behind it (real HTTP between them), until `shutdown` completes.
pub async fn start_stack(
    settings: StackSettings,
    connections: &Connections,
    edge_listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningStack> {
    let edge_url = url_of(edge_listener.local_addr()?);
    let (api_listener, api_url) = loopback().await?;
    let (transformer_listener, transformer_url) = loopback().await?;
    let budget = RenderBudget::new(connections.engine.config().render_timeout);

    // Every request reaches the API through the edge, which names the client; a delete
    // purges the edge.
    let api = api(
        ApiRole {
            settings: ApiSettings {
                cdn_base: edge_url.clone(),
                trusted_proxies: vec![ipnet::IpNet::from(std::net::IpAddr::from(
                    Ipv4Addr::LOCALHOST,
                ))],
                ..settings.api
            },
            jwt_keys: settings.jwt_keys,
            jwt_active_kid: settings.jwt_active_kid,
            url_secret: settings.url_secret.clone(),
            invalidation: Invalidation::LocalEdge(Some(PurgeEndpoint {
                url: format!("{edge_url}{}", edge::PURGE_PATH),
                token: Some(settings.purge_token.clone()),
            })),
        },
        connections,
    )
    .await?;
    let transformer = transformer(
        TransformerRole {
            settings: settings.transformer,
            url_secret: settings.url_secret,
            origin_secret: settings.origin_secret.clone(),
        },
        connections,
    );
    let edge = edge(
        EdgeRole {
            settings: EdgeSettings {
                purge_token: Some(settings.purge_token),
                ..settings.edge
            },
            origin_secret: settings.origin_secret,
            transformer_url: transformer_url.clone(),
            api_url: api_url.clone(),
            budget,
        },
        connections.store.clone(),
    );

    let (stop, ended) = one_stop(shutdown);
    let stopped = tokio::spawn(async move {
        let role_ended = || {
            let _ = ended.send(true);
        };
        let (api_done, (), ()) = tokio::join!(
            crate::api::run(api_listener, api, stop.clone()).inspect(|_| role_ended()),
            crate::transformer::run(transformer_listener, transformer, stop.clone())
                .inspect(|()| role_ended()),
            crate::edge::run(edge_listener, edge, stop).inspect(|()| role_ended()),
        );
        api_done
    });
    Ok(RunningStack {
        edge_url,
        api_url,
        transformer_url,
        stopped,
    })
}

/// One stop for every role: `shutdown`, or any role ending by itself (signalled through the
/// returned sender).
fn one_stop(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (
    Shared<BoxFuture<'static, ()>>,
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
