//! Durable purges: a delete owes its CDN purge in PostgreSQL, and the purge outbox sends it
//! until the CDN accepts it, in batches, with backoff, across restarts and processes; and a
//! delete that races a render leaves nothing under `v/`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imgedge::api::ApiSettings;
use imgedge::db::Db;
use imgedge::invalidate::{InvalidateError, Invalidator};
use imgedge::purges::PurgePolicy;
use serde_json::Value;
use sqlx::PgPool;

use crate::api_support::{Options, TestApp};
use crate::binary::{Process, RolesEnv, free_port, imgedge, wait_ready};
use crate::support::{files_under, photo};

/// A CDN that refuses the first `refusals` requests (as `CloudFront` does when too many
/// invalidations are in progress), then accepts; it records every request's paths and time.
#[derive(Debug)]
struct FlakyCdn {
    refusals: AtomicUsize,
    requests: Mutex<Vec<(Instant, Vec<String>, bool)>>,
}

#[async_trait::async_trait]
impl Invalidator for FlakyCdn {
    async fn invalidate(&self, paths: &[String]) -> Result<(), InvalidateError> {
        let refused = self
            .refusals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        self.requests
            .lock()
            .expect("lock")
            .push((Instant::now(), paths.to_vec(), !refused));
        if refused {
            Err(InvalidateError::Unavailable("too many in progress".into()))
        } else {
            Ok(())
        }
    }
}

/// Waits until `done` holds, for at most `limit`.
async fn eventually(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Deletes close together share one request; a refused request is sent again after its
/// backoff, with the same paths, until accepted; then nothing is owed.
#[sqlx::test(migrations = "./migrations")]
async fn purges_are_batched_and_retried_until_the_cdn_accepts(pool: PgPool) {
    let db = Db::from_pool(pool.clone());
    let cdn = Arc::new(FlakyCdn {
        refusals: AtomicUsize::new(2),
        requests: Mutex::new(Vec::new()),
    });
    let policy = PurgePolicy {
        // Wide enough for three concurrent deletes of a debug build to meet in one batch.
        window: Duration::from_secs(1),
        poll_every: Duration::from_millis(100),
        first_backoff: Duration::from_millis(300),
        ..PurgePolicy::default()
    };
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings: ApiSettings {
                purges: policy,
                ..Options::default().settings
            },
            invalidator: Some(cdn.clone()),
            ..Options::default()
        },
    )
    .await;
    let token = app.user("purger@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let resp = app
            .upload_multipart(&token, "dark.jpg", photo("dark.jpg"))
            .await;
        assert_eq!(resp.status(), 201);
        let image: Value = resp.json().await.expect("JSON");
        ids.push(image["id"].as_str().expect("id").to_owned());
    }
    let paths: Vec<String> = ids.iter().map(|id| format!("/v1/images/{id}")).collect();
    let deletes = paths.iter().map(|path| app.delete(&token, path));
    for resp in futures::future::join_all(deletes).await {
        assert_eq!(
            resp.status(),
            204,
            "a refused purge does not fail the delete"
        );
    }
    assert!(
        db.owed_purges().await.expect("count") > 0,
        "refused, so still owed"
    );

    assert!(
        eventually(Duration::from_secs(10), async || db
            .owed_purges()
            .await
            .expect("count")
            == 0)
        .await,
        "every purge sent and marked: {:?}",
        cdn.requests.lock().expect("lock")
    );
    let requests = cdn.requests.lock().expect("lock").clone();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("/i/{id}/*")).collect();
    expected.sort();
    assert_eq!(requests.len(), 3, "two refused, one accepted: {requests:?}");
    for (_, paths, _) in &requests {
        assert_eq!(*paths, expected, "one request for the three deletes");
    }
    assert_eq!(
        requests.iter().map(|r| r.2).collect::<Vec<_>>(),
        [false, false, true]
    );
    // The backoff doubles: at least 300 ms, then 600 ms, between the sends.
    let gaps: Vec<Duration> = requests.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps[0] >= Duration::from_millis(300), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(600), "{gaps:?}");
}

/// The purge endpoint of a stand-in CDN edge, on a real port: it refuses (503) until told to
/// accept, and records each request's bearer token, paths and whether it was accepted.
struct PurgeEndpoint {
    url: String,
    accepting: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A purge request as the endpoint saw it: its `Authorization`, its paths, and whether it
/// was accepted.
type Received = (String, Vec<String>, bool);

async fn purge_endpoint() -> PurgeEndpoint {
    use axum::http::{HeaderMap, StatusCode};
    let accepting = Arc::new(AtomicBool::new(false));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (a, r) = (accepting.clone(), received.clone());
    let app = axum::Router::new().route(
        "/_edge/purge",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let (accepting, received) = (a.clone(), r.clone());
            async move {
                let accepted = accepting.load(Ordering::SeqCst);
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let paths = body["paths"]
                    .as_array()
                    .expect("paths")
                    .iter()
                    .map(|p| p.as_str().expect("a path").to_owned())
                    .collect();
                received.lock().expect("lock").push((auth, paths, accepted));
                if accepted {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/_edge/purge",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    PurgeEndpoint {
        url,
        accepting,
        received,
    }
}

/// The real binary: a delete whose purge the CDN refuses, then the API killed (SIGKILL) with
/// the purge still owed; restarted with the CDN accepting, it sends the purge by itself.
#[sqlx::test(migrations = false)]
async fn a_purge_owed_by_a_killed_api_is_sent_after_restart(pool: PgPool) {
    const TOKEN: &str = "purge-token-of-the-outbox-restart-test";
    let endpoint = purge_endpoint().await;
    let roles = RolesEnv::new(&pool, "outbox-test");
    let api_port = roles.api_port;
    let mut env = roles.env.clone();
    env.push(("IMGEDGE_EDGE_PURGE_URL", endpoint.url.clone()));
    env.push(("IMGEDGE_EDGE_PURGE_TOKEN", TOKEN.to_owned()));
    let status = imgedge(&["migrate"], &env).status().expect("migrate runs");
    assert!(status.success(), "imgedge migrate");
    let _s3 = Process(imgedge(&["s3"], &env).spawn().expect("s3 starts"));
    let mut api = Process(imgedge(&["api"], &env).spawn().expect("api starts"));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_ready(&http, &format!("{base}/readyz")).await;

    let (token, image) =
        crate::binary::sign_up_and_upload(&http, &base, "killed@example.com", "dark.jpg").await;
    let id = image["id"].as_str().expect("id").to_owned();
    let path = format!("/i/{id}/*");
    let deleted = http
        .delete(format!("{base}/v1/images/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    {
        let received = endpoint.received.lock().expect("lock");
        assert!(
            !received.is_empty()
                && received
                    .iter()
                    .all(|(_, paths, ok)| !ok && paths.contains(&path)),
            "the purge was tried and refused: {received:?}"
        );
    }
    let db = Db::from_pool(pool.clone());
    assert_eq!(db.owed_purges().await.expect("count"), 1, "owed on record");

    // SIGKILL: no shutdown, nothing flushed; the purge exists only in PostgreSQL.
    api.0.kill().expect("SIGKILL");
    api.0.wait().expect("reaped");
    endpoint.accepting.store(true, Ordering::SeqCst);
    let refused_before = endpoint.received.lock().expect("lock").len();

    let restarted = Instant::now();
    let _api = Process(imgedge(&["api"], &env).spawn().expect("api restarts"));
    let accepted = eventually(Duration::from_secs(20), async || {
        endpoint
            .received
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, paths, ok)| *ok && paths.contains(&path))
    })
    .await;
    let received = endpoint.received.lock().expect("lock").clone();
    assert!(
        accepted,
        "the restarted API sent the owed purge: {received:?}"
    );
    println!(
        "purge after restart: accepted {:?} after the restart began, {} refused before",
        restarted.elapsed(),
        refused_before
    );
    assert!(
        received
            .iter()
            .all(|(auth, _, _)| *auth == format!("Bearer {TOKEN}")),
        "every purge carries the token"
    );
    assert!(
        eventually(Duration::from_secs(5), async || db
            .owed_purges()
            .await
            .expect("count")
            == 0)
        .await,
        "nothing owed once accepted"
    );
}

/// A render slow enough to delete its image meanwhile, on one libvips thread
/// (`IMGEDGE_VIPS_CONCURRENCY=1` below): a blurred AVIF at quality 100, which the AV1
/// encoder (effort 3) takes about 1 s over for this photo on a quiet machine. The test times
/// a twin of it first (mirrored: the same work, another variant) and deletes a third of the
/// way through.
const SLOW_QUERY: &str = "blur=60&quality=100&format=avif";

/// Through `imgedge dev`: an image deleted while one of its variants renders leaves no object
/// under `v/{id}/` once the render has answered (the transformer records the variant before
/// its PUT, finds the image gone, and writes nothing).
#[sqlx::test(migrations = false)]
async fn an_image_deleted_mid_render_leaves_no_variant(pool: PgPool) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env = crate::binary::dev_env(&pool);
    env.push(("IMGEDGE_VIPS_CONCURRENCY", "1".to_owned()));
    let listen = format!("127.0.0.1:{port}");
    let dir = data_dir.path().display().to_string();
    let _dev = Process(
        imgedge(&["dev", "--listen", &listen, "--data-dir", &dir], &env)
            .spawn()
            .expect("dev starts"),
    );
    let http = reqwest::Client::new();
    wait_ready(&http, &format!("{base}/healthz")).await;
    let (token, image) =
        crate::binary::sign_up_and_upload(&http, &base, "racer@example.com", "detail.jpg").await;
    let id = image["id"].as_str().expect("id").to_owned();
    let url = crate::binary::mint(&http, &base, &token, &id, SLOW_QUERY).await;
    let twin =
        crate::binary::mint(&http, &base, &token, &id, &format!("{SLOW_QUERY}&mirror=1")).await;
    let timed = Instant::now();
    let twin = http.get(&twin).send().await.expect("the twin renders");
    assert_eq!(twin.status(), 200);
    let takes = timed.elapsed();
    assert!(
        takes >= Duration::from_millis(300),
        "the render takes {takes:?} here: too short to delete its image in its middle; make \
         SLOW_QUERY slower"
    );

    let started = Instant::now();
    let render = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http.get(&url).send().await.expect("the render answers");
            (response.status().as_u16(), started.elapsed())
        }
    });
    tokio::time::sleep(takes / 3).await;
    let deleted = http
        .delete(format!("{base}/v1/images/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    let deleted_at = started.elapsed();
    let (status, answered_at) = render.await.expect("render task");
    println!(
        "delete mid-render: the twin took {takes:?}; deleted at {deleted_at:?}, render answered \
         {status} at {answered_at:?}"
    );
    assert!(
        answered_at > deleted_at,
        "the render must still run when the delete commits (it answered at {answered_at:?}, \
         the delete at {deleted_at:?}): make SLOW_QUERY slower"
    );
    assert_eq!(status, 404, "the render of a deleted image is not served");

    let variants = data_dir.path().join(format!("s3/imgedge/v/{id}"));
    assert_eq!(files_under(&variants), Vec::<std::path::PathBuf>::new());
    // And it stays so: nothing writes it late.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(files_under(&variants), Vec::<std::path::PathBuf>::new());
    let originals = data_dir.path().join(format!("s3/imgedge/o/{id}"));
    assert_eq!(files_under(&originals), Vec::<std::path::PathBuf>::new());
}
