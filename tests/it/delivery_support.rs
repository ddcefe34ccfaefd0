//! The delivery path running for black-box tests: the edge, the API (with the real local
//! invalidator, purging the edge on delete), the transformer and an embedded S3 server, each
//! on its own port-0 listener and talking over real HTTP; a fresh PostgreSQL database per
//! test and Redis under a prefix of its own.

use imgedge::api::ApiSettings;
use imgedge::db::Db;
use imgedge::edge::{self, EdgeSettings};
use imgedge::http::SharedSecret;
use imgedge::redis::RedisHandle;
use imgedge::startup::{self, Connections, StackSettings, TransformerRole};
use imgedge::storage::ObjectStore;
use imgedge::storage::embedded::EmbeddedS3;
use imgedge::transformer::{self, TransformerSettings};
use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::UrlSecret;
use reqwest::multipart;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::api_support::{PASSWORD, jwt_key_list, start_s3, start_s3_in};

pub(crate) const ORIGIN_SECRET: &str = "test-origin-secret-of-the-delivery-tests";
pub(crate) const PURGE_TOKEN: &str = "test-purge-token-of-the-delivery-tests";

/// How a test wants its stack.
pub(crate) struct StackOptions {
    pub(crate) transformer: TransformerSettings,
    pub(crate) url_secret: UrlSecret,
    pub(crate) web_dir: std::path::PathBuf,
    /// The embedded S3 server's directory, when the test keeps it across stacks (a
    /// restart); a temporary one of the stack's own otherwise.
    pub(crate) s3_dir: Option<std::path::PathBuf>,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            transformer: TransformerSettings::default(),
            url_secret: UrlSecret::from_bytes([9; 32]),
            web_dir: std::path::PathBuf::from("/nonexistent"),
            s3_dir: None,
        }
    }
}

pub(crate) struct Stack {
    /// The edge: the one address clients use.
    pub(crate) edge: String,
    pub(crate) transformer: String,
    /// Follows no redirects, so tests see the edge's 301s.
    pub(crate) http: reqwest::Client,
    pub(crate) store: ObjectStore,
    pub(crate) db: Db,
    /// The test's database, for what no API says (a row from before a migration).
    pub(crate) pool: PgPool,
    connections: Connections,
    pub(crate) url_secret: UrlSecret,
    _s3: EmbeddedS3,
    _s3_dir: Option<tempfile::TempDir>,
    stop: watch::Sender<bool>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Completes when the stack is dropped.
fn until_stopped(stop: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stopped = stop.subscribe();
    async move {
        let _ = stopped.wait_for(|s| *s).await;
    }
}

impl Stack {
    pub(crate) async fn spawn(pool: PgPool) -> Stack {
        Self::spawn_with(pool, StackOptions::default()).await
    }

    /// The stack as `imgedge dev` assembles it ([`startup::start_stack`]), over the test's
    /// database, an embedded S3 server and a Redis prefix of its own.
    pub(crate) async fn spawn_with(pool: PgPool, options: StackOptions) -> Stack {
        let (s3, s3_dir, store) = if let Some(dir) = &options.s3_dir {
            let (s3, store) = start_s3_in(dir).await;
            (s3, None, store)
        } else {
            let (s3, dir, store) = start_s3().await;
            (s3, Some(dir), store)
        };
        let connections = Connections {
            db: Db::from_pool(pool.clone()),
            store,
            redis: Some(
                RedisHandle::new(
                    "redis://127.0.0.1:6379",
                    &format!("test:{}:", uuid::Uuid::new_v4()),
                )
                .expect("redis url"),
            ),
            engine: Engine::new(EngineConfig::default()).expect("libvips"),
        };
        let (stop, stopped) = watch::channel(false);
        let (edge_listener, _) = startup::loopback().await.expect("bind");
        // Boxed: the whole stack's start-up is a large future.
        let running = Box::pin(startup::start_stack(
            StackSettings {
                api: ApiSettings::default(),
                transformer: options.transformer,
                edge: EdgeSettings {
                    web_dir: options.web_dir,
                    ..EdgeSettings::default()
                },
                jwt_keys: jwt_key_list(),
                jwt_active_kid: "test".into(),
                url_secret: options.url_secret.clone(),
                origin_secret: SharedSecret::new(ORIGIN_SECRET).expect("secret"),
                purge_token: SharedSecret::new(PURGE_TOKEN).expect("token"),
            },
            &connections,
            edge_listener,
            until_stopped(&stop),
        ))
        .await
        .expect("the stack starts");
        drop(stopped);

        Stack {
            edge: running.edge_url,
            transformer: running.transformer_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            store: connections.store.clone(),
            db: connections.db.clone(),
            pool,
            connections,
            url_secret: options.url_secret,
            _s3: s3,
            _s3_dir: s3_dir,
            stop,
        }
    }

    /// Another transformer on the same database, bucket and Redis: what a second process
    /// (another container) is. Returns its base URL; it stops with the stack.
    pub(crate) async fn another_transformer(&self) -> String {
        let (listener, url) = startup::loopback().await.expect("bind");
        let transformer = startup::transformer(
            TransformerRole {
                settings: TransformerSettings::default(),
                url_secret: self.url_secret.clone(),
                origin_secret: SharedSecret::new(ORIGIN_SECRET).expect("secret"),
            },
            &Connections {
                engine: Engine::new(EngineConfig::default()).expect("libvips"),
                ..self.connections.clone()
            },
        );
        tokio::spawn(transformer::run(
            listener,
            transformer,
            until_stopped(&self.stop),
        ));
        url
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.edge)
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// Registers `email` through the edge and returns an access token.
    pub(crate) async fn user(&self, email: &str) -> String {
        let credentials = json!({ "email": email, "password": PASSWORD });
        let registered = self
            .http
            .post(self.url("/v1/auth/register"))
            .json(&credentials)
            .send()
            .await
            .expect("request");
        assert_eq!(registered.status(), 201, "register {email}");
        let session: Value = self
            .http
            .post(self.url("/v1/auth/login"))
            .json(&credentials)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("session");
        session["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `method path` through the edge as `token`, with a JSON body when given.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Uploads a photo through the edge and returns its metadata.
    pub(crate) async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> Value {
        let form = multipart::Form::new().part(
            "file",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        let response = self
            .http
            .post(self.url("/v1/images"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "upload {name}");
        response.json().await.expect("metadata")
    }

    /// The signed path (and query) of a variant, minted by the API through the edge.
    pub(crate) async fn mint(&self, token: &str, id: &str, query: &str) -> String {
        let response = self
            .http
            .get(self.url(&format!("/v1/images/{id}/url?{query}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "mint {query}");
        let minted: Value = response.json().await.expect("minted");
        let url = minted["url"].as_str().expect("url");
        url.strip_prefix(&self.edge)
            .expect("minted URLs are on the edge")
            .to_owned()
    }

    /// Empties the edge's cache through its purge endpoint.
    pub(crate) async fn purge_all(&self) {
        let response = self
            .http
            .post(self.url(edge::PURGE_PATH))
            .bearer_auth(PURGE_TOKEN)
            .json(&json!({ "paths": ["/*"] }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "purge");
    }
}

/// A response's header as text ("" when absent).
pub(crate) fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().expect("ASCII header"))
}
