//! A running API for black-box tests: the real router on a port-0 listener, a fresh
//! PostgreSQL database (from `#[sqlx::test]`), Redis under a key prefix of its own, and an
//! embedded S3 server in a temporary directory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use imgedge::api::{self, ApiSettings};
use imgedge::db::Db;
use imgedge::invalidate::{InvalidateError, Invalidator};
use imgedge::redis::RedisHandle;
use imgedge::startup::{self, ApiRole, Connections, Invalidation};
use imgedge::storage::embedded::EmbeddedS3;
use imgedge::storage::{ObjectStore, S3Config};
use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::{ImageId, UrlSecret};
use reqwest::multipart;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const JWT_SECRET: [u8; 32] = [42; 32];

/// Records the images the API asked the CDN to invalidate.
#[derive(Debug, Default)]
pub(crate) struct RecordingInvalidator(pub(crate) Mutex<Vec<String>>);

#[async_trait::async_trait]
impl Invalidator for RecordingInvalidator {
    async fn invalidate(&self, paths: &[String]) -> Result<(), InvalidateError> {
        let mut recorded = self.0.lock().expect("lock");
        for path in paths {
            let image = ImageId::from_invalidation_path(path)
                .unwrap_or_else(|| panic!("not an image's invalidation path: {path}"));
            recorded.push(image.to_string());
        }
        Ok(())
    }
}

/// How a test wants its app: by default everything real and reachable.
pub(crate) struct Options {
    pub(crate) redis_url: String,
    pub(crate) settings: ApiSettings,
    /// The CDN the API purges; `None` records every purge in [`TestApp::invalidated`].
    pub(crate) invalidator: Option<Arc<dyn Invalidator>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            redis_url: "redis://127.0.0.1:6379".into(),
            settings: ApiSettings {
                cache_ttl: Duration::from_mins(1),
                ..ApiSettings::default()
            },
            invalidator: None,
        }
    }
}

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) store: ObjectStore,
    pub(crate) invalidated: Arc<RecordingInvalidator>,
    pub(crate) url_secret: UrlSecret,
    _s3: EmbeddedS3,
    _s3_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The tests' JWT key list: one key, `test`, of [`JWT_SECRET`].
pub(crate) fn jwt_key_list() -> String {
    let secret = base64::engine::general_purpose::STANDARD.encode(JWT_SECRET);
    format!("test={secret}")
}

/// An embedded S3 server in a temporary directory, and a client of its bucket (created).
pub(crate) async fn start_s3() -> (EmbeddedS3, tempfile::TempDir, ObjectStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (s3, store) = start_s3_in(dir.path()).await;
    (s3, dir, store)
}

/// An embedded S3 server over `dir` (a previous server's, to see its objects), and a
/// client of its bucket (created if missing).
pub(crate) async fn start_s3_in(dir: &std::path::Path) -> (EmbeddedS3, ObjectStore) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind s3");
    let s3 = EmbeddedS3::start(listener, dir.to_path_buf(), "test-key", "test-secret")
        .await
        .expect("embedded S3 starts");
    let store = ObjectStore::new(&S3Config {
        endpoint: Some(s3.endpoint()),
        region: "us-east-1".into(),
        bucket: "imgedge-test".into(),
        access_key_id: "test-key".into(),
        secret_access_key: "test-secret".into(),
        force_path_style: true,
    });
    store.ensure_bucket().await.expect("bucket");
    (s3, store)
}

impl TestApp {
    pub(crate) async fn spawn(pool: PgPool) -> TestApp {
        Self::spawn_with(pool, Options::default()).await
    }

    pub(crate) async fn spawn_with(pool: PgPool, options: Options) -> TestApp {
        let (s3, s3_dir, store) = start_s3().await;
        let prefix = format!("test:{}:", uuid::Uuid::new_v4());
        let redis = RedisHandle::new(&options.redis_url, &prefix).expect("redis url");
        let invalidated = Arc::new(RecordingInvalidator::default());
        let url_secret = UrlSecret::from_bytes([9; 32]);
        let connections = Connections {
            db: Db::from_pool(pool),
            store: store.clone(),
            redis: Some(redis),
            engine: Engine::new(EngineConfig::default()).expect("libvips"),
        };
        let state = startup::api(
            ApiRole {
                settings: options.settings,
                jwt_keys: jwt_key_list(),
                jwt_active_kid: "test".into(),
                url_secret: url_secret.clone(),
                invalidation: Invalidation::Custom(
                    options.invalidator.unwrap_or_else(|| invalidated.clone()),
                ),
            },
            &connections,
        )
        .await
        .expect("the API assembles");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind api");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            api::run(listener, state, async {
                let _ = stopped.await;
            })
            .await
            .expect("api serves");
        });
        TestApp {
            base,
            http: reqwest::Client::new(),
            store,
            invalidated,
            url_secret,
            _s3: s3,
            _s3_dir: s3_dir,
            stop: Some(stop),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn register(&self, email: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/auth/register"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn login(&self, email: &str) -> Value {
        let resp = self
            .http
            .post(self.url("/v1/auth/login"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "login of {email}");
        resp.json().await.expect("JSON session")
    }

    /// `POST /v1/auth/refresh` with `token` (any JSON value, to try malformed ones too).
    pub(crate) async fn refresh(&self, token: Value) -> reqwest::Response {
        self.http
            .post(self.url("/v1/auth/refresh"))
            .json(&json!({ "refresh_token": token }))
            .send()
            .await
            .expect("request")
    }

    /// Registers `email` and returns an access token.
    pub(crate) async fn user(&self, email: &str) -> String {
        assert_eq!(self.register(email).await.status(), 201, "register {email}");
        self.login(email).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub(crate) async fn upload_multipart(
        &self,
        token: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let form = multipart::Form::new().part(
            "file",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        self.http
            .post(self.url("/v1/images"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn upload_raw(
        &self,
        token: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/v1/images?filename=raw.bin"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("request")
    }

    /// The first page of the caller's images.
    pub(crate) async fn list(&self, token: &str) -> Value {
        self.get(token, "/v1/images")
            .await
            .json()
            .await
            .expect("JSON")
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Every object key in the bucket.
    pub(crate) async fn objects(&self) -> Vec<String> {
        self.store.list_keys("").await.expect("list objects")
    }
}

/// Asserts an error response: its status and its stable code.
pub(crate) async fn assert_error(resp: reqwest::Response, status: u16, code: &str) {
    let got = resp.status();
    let body: Value = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("JSON error body for {code}: {e}"));
    assert_eq!(
        (got.as_u16(), body["error"].as_str()),
        (status, Some(code)),
        "body: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
}
