//! The real `imgedge` binary as an operator runs it: `migrate`, `s3` and `api` as separate
//! processes configured by environment variables, talking over real HTTP, then a graceful
//! stop on SIGTERM; and `imgedge dev`, the whole stack in one process behind its edge.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

/// Kills the process when the test ends, however it ends.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub(crate) fn imgedge(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgedge"));
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// The settings of the S3 and API roles run as separate processes on the test's database,
/// with fresh ports and a fresh S3 directory (kept as long as this value).
pub(crate) struct RolesEnv {
    pub(crate) env: Vec<(&'static str, String)>,
    pub(crate) api_port: u16,
    _s3_dir: tempfile::TempDir,
}

impl RolesEnv {
    pub(crate) fn new(pool: &PgPool, name: &str) -> RolesEnv {
        let s3_dir = tempfile::tempdir().expect("temp dir");
        let (s3_port, api_port) = (free_port(), free_port());
        let env = vec![
            ("DATABASE_URL", database_url_of(pool)),
            ("REDIS_URL", "redis://127.0.0.1:6379".to_owned()),
            (
                "IMGEDGE_REDIS_PREFIX",
                format!("test:{}:", uuid::Uuid::new_v4()),
            ),
            ("IMGEDGE_S3_ENDPOINT", format!("http://127.0.0.1:{s3_port}")),
            ("IMGEDGE_S3_LISTEN", format!("127.0.0.1:{s3_port}")),
            ("IMGEDGE_S3_DIR", s3_dir.path().display().to_string()),
            ("IMGEDGE_S3_ACCESS_KEY_ID", name.to_owned()),
            ("IMGEDGE_S3_SECRET_ACCESS_KEY", format!("{name}-secret")),
            ("IMGEDGE_S3_CREATE_BUCKET", "true".to_owned()),
            ("IMGEDGE_API_LISTEN", format!("127.0.0.1:{api_port}")),
            ("IMGEDGE_URL_SECRET", "ab".repeat(32)),
            (
                "IMGEDGE_JWT_KEYS",
                format!("k1={}", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="),
            ),
            ("IMGEDGE_JWT_ACTIVE_KID", "k1".to_owned()),
        ];
        RolesEnv {
            env,
            api_port,
            _s3_dir: s3_dir,
        }
    }
}

pub(crate) async fn wait_ready(http: &reqwest::Client, url: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

#[sqlx::test(migrations = false)]
async fn migrate_then_serve_then_stop_gracefully(pool: PgPool) {
    let roles = RolesEnv::new(&pool, "binary-test");
    let api_port = roles.api_port;
    let mut env = roles.env.clone();
    env.push(("IMGEDGE_CDN_BASE", "https://cdn.example".to_owned()));

    let status = imgedge(&["migrate"], &env).status().expect("migrate runs");
    assert!(status.success(), "imgedge migrate");
    let _s3 = Process(imgedge(&["s3"], &env).spawn().expect("s3 starts"));
    let mut api = Process(imgedge(&["api"], &env).spawn().expect("api starts"));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_ready(&http, &format!("{base}/readyz")).await;

    let (_, image) = sign_up_and_upload(&http, &base, "op@example.com", "dark.jpg").await;
    assert!(
        image["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://cdn.example/i/")),
        "URLs point at the configured CDN: {image}"
    );

    // SIGTERM: the API drains and exits cleanly.
    terminate(&mut api, "the API").await;
}

/// Registers `email` and signs in: the access token.
pub(crate) async fn sign_up(http: &reqwest::Client, base: &str, email: &str) -> String {
    let creds = json!({ "email": email, "password": "a long enough password" });
    let resp = http
        .post(format!("{base}/v1/auth/register"))
        .json(&creds)
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);
    let session: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&creds)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("JSON");
    session["access_token"].as_str().expect("token").to_owned()
}

/// Registers `email`, signs in and uploads `photo` (from `testdata/photos/`) as a raw JPEG
/// body: the access token and the image's metadata.
pub(crate) async fn sign_up_and_upload(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    photo: &str,
) -> (String, Value) {
    let token = sign_up(http, base, email).await;
    let bytes = std::fs::read(format!(
        "{}/testdata/photos/{photo}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("photo");
    let resp = http
        .post(format!("{base}/v1/images"))
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), 201);
    (token, resp.json().await.expect("JSON"))
}

/// A signed URL for `query` of image `id`, minted by the API as a frontend would.
pub(crate) async fn mint(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    query: &str,
) -> String {
    let minted: Value = http
        .get(format!("{base}/v1/images/{id}/url?{query}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("JSON");
    minted["url"].as_str().expect("url").to_owned()
}

/// The URL of the test's own database (created by `#[sqlx::test]`).
pub(crate) fn database_url_of(pool: &PgPool) -> String {
    let database = pool
        .connect_options()
        .get_database()
        .expect("test database")
        .to_owned();
    let base_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    format!(
        "{}/{database}",
        base_url.rsplit_once('/').expect("url with a path").0
    )
}

/// What `imgedge dev` needs in its environment: the test's database, and Redis under a
/// prefix of its own.
pub(crate) fn dev_env(pool: &PgPool) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", database_url_of(pool)),
        ("REDIS_URL", "redis://127.0.0.1:6379".to_owned()),
        (
            "IMGEDGE_REDIS_PREFIX",
            format!("test:{}:", uuid::Uuid::new_v4()),
        ),
    ]
}

/// Sends SIGTERM and expects a clean exit within ten seconds.
async fn terminate(process: &mut Process, what: &str) {
    let pid = process.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let start = Instant::now();
    let exit = loop {
        if let Some(status) = process.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{what}: clean exit on SIGTERM: {exit:?}");
}

/// The value of a counter (unlabelled, or one labelled series) in Prometheus text.
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| v.trim().parse().expect("a counter"))
}

/// `imgedge dev` migrates a fresh database, serves everything through its edge, and renders
/// a variant once however many requests for it arrive together; its secrets and objects
/// survive a restart, so URLs keep working.
#[sqlx::test(migrations = false)]
async fn dev_stack_renders_once_under_100_concurrent_first_requests(pool: PgPool) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = dev_env(&pool);
    let args = [
        "dev",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        &data_dir.path().display().to_string(),
    ]
    .map(str::to_owned);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut dev = Process(imgedge(&args, &env).spawn().expect("dev starts"));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(200)
        .build()
        .expect("client");
    wait_ready(&http, &format!("{base}/healthz")).await;

    let (token, image) = sign_up_and_upload(&http, &base, "dev@example.com", "detail.jpg").await;
    let token = token.as_str();
    let id = image["id"].as_str().expect("id");
    let url = mint(&http, &base, token, id, "width=640&format=webp").await;
    assert!(url.starts_with(&format!("{base}/i/{id}/")), "{url}");

    let before = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let requests = (0..100).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        tokio::spawn(async move {
            let response = http.get(&url).send().await.expect("request");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("body")
        })
    });
    let bodies: Vec<_> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "one variant");
    let after = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let renders = "imgedge_transformer_renders_total";
    assert_eq!(
        metric(&after, renders) - metric(&before, renders),
        1,
        "{after}"
    );
    let by_result = |result: &str| {
        let series = format!("imgedge_edge_requests_total{{result=\"{result}\"}}");
        metric(&after, &series) - metric(&before, &series)
    };
    assert_eq!(by_result("transformer"), 1);
    assert_eq!(by_result("hit"), 99);

    // Restarted on the same data directory: the URL still verifies, now served from S3.
    terminate(&mut dev, "imgedge dev").await;
    let mut dev = Process(imgedge(&args, &env).spawn().expect("dev restarts"));
    wait_ready(&http, &format!("{base}/healthz")).await;
    let again = http.get(&url).send().await.expect("request");
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.headers().get("x-edge-origin").expect("origin header"),
        "s3"
    );
    assert_eq!(again.bytes().await.expect("body"), bodies[0]);
    terminate(&mut dev, "imgedge dev").await;
}
