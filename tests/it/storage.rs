//! Object storage through `aws-sdk-s3` against the embedded S3 server (a fresh one per test,
//! on a loopback port, storing under a temporary directory), and the local CDN invalidator
//! against a real socket.

#![cfg(feature = "embedded-s3")]

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use imgedge::invalidate::{
    CloudFrontConfig, CloudFrontInvalidator, InvalidateError, Invalidator, LocalInvalidator,
};
use imgedge::storage::embedded::EmbeddedS3;
use imgedge::storage::{Object, ObjectStore, S3Config, StorageError};
use imgedge_url::ImageId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ACCESS_KEY: &str = "imgedge-test";
const SECRET_KEY: &str = "imgedge-test-secret-0123456789";
const BUCKET: &str = "imgedge-test";

/// A running embedded server, its directory and a client with the right credentials.
struct Fixture {
    server: EmbeddedS3,
    store: ObjectStore,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let server = EmbeddedS3::start(listener, dir.path().join("s3"), ACCESS_KEY, SECRET_KEY)
            .await
            .expect("embedded S3 starts");
        let store = ObjectStore::new(&config(&server.endpoint(), ACCESS_KEY, SECRET_KEY));
        store.ensure_bucket().await.expect("bucket created");
        Fixture {
            server,
            store,
            _dir: dir,
        }
    }

    /// A client of the same server with other credentials.
    fn store_with(&self, access_key: &str, secret: &str) -> ObjectStore {
        ObjectStore::new(&config(&self.server.endpoint(), access_key, secret))
    }
}

fn config(endpoint: &str, access_key: &str, secret: &str) -> S3Config {
    S3Config {
        endpoint: Some(endpoint.to_owned()),
        region: "us-east-1".to_owned(),
        bucket: BUCKET.to_owned(),
        access_key_id: access_key.to_owned(),
        secret_access_key: secret.to_owned(),
        force_path_style: true,
    }
}

fn new_id() -> ImageId {
    ImageId::from_uuid(uuid::Uuid::new_v4())
}

/// Puts `keys` with up to 32 requests in flight.
async fn put_all(store: &ObjectStore, keys: &[String]) {
    futures::stream::iter(keys)
        .map(|k| async move {
            store
                .put(k, Bytes::from(k.clone()), "application/octet-stream")
                .await
                .unwrap_or_else(|e| panic!("put {k}: {e}"));
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test]
async fn put_then_get_round_trips_bytes_and_content_type() {
    let fx = Fixture::new().await;
    let key = format!("o/{}", new_id());
    // Every byte value, so any text/encoding mangling would show.
    let body: Bytes = (0..=255u8)
        .cycle()
        .take(300_000)
        .collect::<Vec<u8>>()
        .into();
    fx.store
        .put(&key, body.clone(), "image/jpeg")
        .await
        .expect("put");
    let object = fx
        .store
        .get(&key)
        .await
        .expect("get")
        .expect("object exists");
    assert_eq!(object.bytes, body);
    assert_eq!(object.content_type.as_deref(), Some("image/jpeg"));
    assert!(object.etag.is_some(), "an ETag comes back");
    assert!(fx.store.exists(&key).await.expect("head"));

    // A second put replaces the object whole.
    fx.store
        .put(&key, Bytes::from_static(b"second"), "image/png")
        .await
        .expect("overwrite");
    let object = fx
        .store
        .get(&key)
        .await
        .expect("get")
        .expect("object exists");
    assert_eq!(&object.bytes[..], b"second");
    assert_eq!(object.content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn missing_key_is_none_and_delete_is_idempotent() {
    let fx = Fixture::new().await;
    let key = format!("o/{}", new_id());
    assert!(fx.store.get(&key).await.expect("get").is_none());
    assert!(!fx.store.exists(&key).await.expect("head"));
    // Deleting what was never there succeeds.
    fx.store.delete(&key).await.expect("delete missing");

    fx.store
        .put(&key, Bytes::from_static(b"x"), "image/png")
        .await
        .expect("put");
    fx.store.delete(&key).await.expect("delete");
    fx.store.delete(&key).await.expect("delete again");
    assert!(fx.store.get(&key).await.expect("get").is_none());
    assert!(!fx.store.exists(&key).await.expect("head"));
}

#[tokio::test]
async fn list_keys_and_delete_prefix_span_pages_and_stop_at_the_prefix() {
    let fx = Fixture::new().await;
    let (id, other) = (new_id(), new_id());
    // More than one page of listing and of DeleteObjects (1000 keys each).
    let mut variants: Vec<String> = (0..1100).map(|i| format!("v/{id}/sig{i:05}")).collect();
    let keep = vec![
        format!("o/{id}"),
        format!("o/{other}"),
        format!("v/{other}/sig00000"),
        format!("v/{other}/sig00001"),
    ];
    let started = Instant::now();
    put_all(&fx.store, &variants).await;
    put_all(&fx.store, &keep).await;
    let put_time = started.elapsed();

    let listed = fx.store.list_keys(&format!("v/{id}/")).await.expect("list");
    variants.sort();
    assert_eq!(listed, variants, "all pages, in key order, nothing else");

    let started = Instant::now();
    let deleted = fx
        .store
        .delete_prefix(&format!("v/{id}/"))
        .await
        .expect("delete prefix");
    let delete_time = started.elapsed();
    assert_eq!(deleted, 1100);
    assert!(
        fx.store
            .list_keys(&format!("v/{id}/"))
            .await
            .expect("list")
            .is_empty()
    );
    for k in &keep {
        assert!(fx.store.exists(k).await.expect("head"), "{k} must survive");
    }
    let mut rest = fx.store.list_keys("").await.expect("list all");
    rest.sort();
    let mut expected = keep.clone();
    expected.sort();
    assert_eq!(rest, expected);
    // Deleting an empty prefix range again is a no-op.
    assert_eq!(
        fx.store
            .delete_prefix(&format!("v/{id}/"))
            .await
            .expect("again"),
        0
    );
    // A guard against pathological (per-key or quadratic) behaviour, not a benchmark: it
    // runs beside the whole suite on a shared machine.
    assert!(
        put_time + delete_time < Duration::from_secs(30),
        "1100 puts took {put_time:?}, delete_prefix {delete_time:?}"
    );
}

#[tokio::test]
async fn delete_prefix_refuses_the_empty_prefix() {
    let fx = Fixture::new().await;
    let key = format!("o/{}", new_id());
    fx.store
        .put(&key, Bytes::from_static(b"x"), "image/png")
        .await
        .expect("put");
    assert!(matches!(
        fx.store.delete_prefix("").await,
        Err(StorageError::Rejected(_))
    ));
    assert!(fx.store.exists(&key).await.expect("head"));
}

#[tokio::test]
async fn ping_succeeds_and_a_closed_port_is_unavailable_quickly() {
    let fx = Fixture::new().await;
    fx.store.ping().await.expect("ping");

    // A port that was just free: nothing listens there now.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dead = ObjectStore::new(&config(
        &format!("http://127.0.0.1:{port}"),
        ACCESS_KEY,
        SECRET_KEY,
    ));
    // The probe makes one attempt.
    let started = Instant::now();
    let err = dead.ping().await.expect_err("nothing listens");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "ping took {:?}",
        started.elapsed()
    );
    // Other operations retry (up to 3 attempts with backoff) and still give up quickly.
    let started = Instant::now();
    let err = dead.get("o/x").await.expect_err("nothing listens");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "get took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stopped_server_is_unavailable() {
    let fx = Fixture::new().await;
    fx.store.ping().await.expect("ping");
    let Fixture {
        server,
        store,
        _dir,
    } = fx;
    server.shutdown().await;
    let err = store.ping().await.expect_err("server stopped");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err}");
}

/// Sends one raw HTTP/1.1 request and returns the status code.
async fn raw_status(endpoint: &str, request: &str) -> u16 {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request.replace("{host}", addr).as_bytes())
        .await
        .expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[tokio::test]
async fn anonymous_and_wrongly_signed_requests_are_refused() {
    let fx = Fixture::new().await;
    let key = format!("o/{}", new_id());
    fx.store
        .put(&key, Bytes::from_static(b"private"), "image/png")
        .await
        .expect("put");
    let endpoint = fx.server.endpoint();

    let get =
        format!("GET /{BUCKET}/{key} HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw_status(&endpoint, &get).await, 403, "anonymous GET");
    let list = format!(
        "GET /{BUCKET}?list-type=2 HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw_status(&endpoint, &list).await, 403, "anonymous list");
    let put = format!(
        "PUT /{BUCKET}/{key} HTTP/1.1\r\nHost: {{host}}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nowned"
    );
    assert_eq!(raw_status(&endpoint, &put).await, 403, "anonymous PUT");
    // A forged signature header is no better.
    let forged = format!(
        "GET /{BUCKET}/{key} HTTP/1.1\r\nHost: {{host}}\r\nx-amz-date: 20250101T000000Z\r\n\
         x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential={ACCESS_KEY}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, \
         Signature={}\r\nConnection: close\r\n\r\n",
        "0".repeat(64)
    );
    assert_eq!(
        raw_status(&endpoint, &forged).await,
        403,
        "forged signature"
    );

    for (access_key, secret) in [(ACCESS_KEY, "not-the-secret"), ("someone-else", SECRET_KEY)] {
        let wrong = fx.store_with(access_key, secret);
        for err in [
            wrong.ping().await.expect_err("ping"),
            wrong.get(&key).await.expect_err("get"),
            wrong
                .put(&key, Bytes::from_static(b"evil"), "image/png")
                .await
                .expect_err("put"),
            wrong.delete(&key).await.expect_err("delete"),
        ] {
            assert!(
                matches!(&err, StorageError::Rejected(f) if f.status == Some(403)),
                "{access_key}: {err}"
            );
        }
    }
    let object = fx.store.get(&key).await.expect("get").expect("still there");
    assert_eq!(&object.bytes[..], b"private", "nothing was overwritten");
}

#[tokio::test]
async fn concurrent_puts_of_one_key_leave_one_whole_object() {
    const SIZE: usize = 1 << 20;
    let fx = Fixture::new().await;
    let key = format!("v/{}/sig", new_id());
    fx.store
        .put(&key, Bytes::from(vec![0xFF; SIZE]), &writer_type(0xFF))
        .await
        .expect("initial put");

    // Writers each put 1 MiB of one byte value, with a content type naming that value, while
    // a reader keeps reading: bytes, checksum and type must always belong to one writer.
    let writers: Vec<_> = (0..16u8)
        .map(|n| {
            let store = fx.store.clone();
            let key = key.clone();
            tokio::spawn(async move {
                store
                    .put(&key, Bytes::from(vec![n; SIZE]), &writer_type(n))
                    .await
                    .expect("concurrent put");
            })
        })
        .collect();
    let reader = {
        let store = fx.store.clone();
        let key = key.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                let object = store.get(&key).await.expect("get").expect("never missing");
                assert_whole(&object, SIZE);
            }
        })
    };
    for w in writers {
        w.await.expect("writer task");
    }
    reader.await.expect("reader task");
    let object = fx.store.get(&key).await.expect("get").expect("exists");
    assert_whole(&object, SIZE);
    assert!(object.bytes[0] < 16, "one of the writers won");
}

fn writer_type(n: u8) -> String {
    format!("application/x-writer-{n}")
}

/// `object` is one writer's complete body with that writer's content type.
fn assert_whole(object: &Object, size: usize) {
    assert_eq!(object.bytes.len(), size, "partial object");
    let first = object.bytes[0];
    assert!(
        object.bytes.iter().all(|&b| b == first),
        "bodies were mixed"
    );
    assert_eq!(object.content_type.as_deref(), Some(&*writer_type(first)));
}

// The local CDN invalidator, against a minimal HTTP server on a real socket.

/// Accepts one connection, answers it with `status` and `body`, and returns the whole
/// request (head and body) as text.
async fn one_request(listener: TcpListener, status: &'static str, body: &'static str) -> String {
    let (stream, _) = listener.accept().await.expect("accept");
    answer(stream, status, body).await
}

/// Reads one request from `stream` and answers it, closing the connection.
async fn answer(
    mut stream: tokio::net::TcpStream,
    status: &'static str,
    body: &'static str,
) -> String {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "request ended early");
        request.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("numeric length"));
    while request.len() < head_end + length {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "body ended early");
        request.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await.expect("write");
    String::from_utf8_lossy(&request).into_owned()
}

fn request_line(request: &str) -> &str {
    request.lines().next().unwrap_or_default()
}

#[tokio::test]
async fn local_invalidator_posts_the_image_paths_to_the_edge() {
    let id = new_id();
    for (status, expected) in [
        ("204 No Content", "ok"),
        ("500 Internal Server Error", "unavailable"),
        ("404 Not Found", "rejected"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let edge = tokio::spawn(one_request(listener, status, ""));
        let invalidator = LocalInvalidator::new(
            Some(format!("http://{addr}/_edge/purge")),
            Some("purge-token".to_owned()),
        );
        let result = invalidator.invalidate(&[id.invalidation_path()]).await;
        let request = edge.await.expect("edge task");
        assert_eq!(request_line(&request), "POST /_edge/purge HTTP/1.1");
        assert!(
            request
                .to_ascii_lowercase()
                .contains("authorization: bearer purge-token\r\n"),
            "{request}"
        );
        assert!(
            request.ends_with(&format!(r#"{{"paths":["/i/{id}/*"]}}"#)),
            "{request}"
        );
        assert_eq!(outcome(&result), expected, "{status}: {result:?}");
    }

    // Nothing listening: transient.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let invalidator =
        LocalInvalidator::new(Some(format!("http://127.0.0.1:{port}/_edge/purge")), None);
    assert_eq!(
        outcome(&invalidator.invalidate(&[id.invalidation_path()]).await),
        "unavailable"
    );
}

fn outcome(result: &Result<(), InvalidateError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(InvalidateError::Unavailable(_)) => "unavailable",
        Err(InvalidateError::Rejected(_)) => "rejected",
    }
}

const CLOUDFRONT_CREATED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status><CreateTime>2025-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/i/x/*</Path></Items></Paths><CallerReference>r</CallerReference></InvalidationBatch></Invalidation>"#;

const CLOUDFRONT_DENIED: &str = r#"<?xml version="1.0"?>
<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

/// The `CloudFront` invalidator's requests, sent to a stand-in endpoint (no AWS here): one
/// `CreateInvalidation` of `/i/{id}/*` with a fresh caller reference each time.
#[tokio::test]
async fn cloudfront_invalidator_requests_the_image_path() {
    let id = new_id();
    let mut references = Vec::new();
    for (status, body, expected) in [
        ("201 Created", CLOUDFRONT_CREATED, "ok"),
        ("201 Created", CLOUDFRONT_CREATED, "ok"),
        ("403 Forbidden", CLOUDFRONT_DENIED, "rejected"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cloudfront = tokio::spawn(one_request(listener, status, body));
        let invalidator = CloudFrontInvalidator::from_config(&CloudFrontConfig {
            distribution_id: "EDFDVBD6EXAMPLE".to_owned(),
            access_key_id: Some("AKIDEXAMPLE".to_owned()),
            secret_access_key: Some("secret".to_owned()),
            endpoint: Some(format!("http://{addr}")),
        })
        .await;
        let result = invalidator.invalidate(&[id.invalidation_path()]).await;
        let request = cloudfront.await.expect("server task");
        assert_eq!(outcome(&result), expected, "{status}: {result:?}");
        assert_eq!(
            request_line(&request),
            "POST /2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation HTTP/1.1"
        );
        assert!(
            request.contains(&format!(
                "<Paths><Quantity>1</Quantity><Items><Path>/i/{id}/*</Path></Items></Paths>"
            )),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("authorization: aws4-hmac-sha256"),
            "signed"
        );
        let reference = request
            .split("<CallerReference>")
            .nth(1)
            .and_then(|r| r.split("</CallerReference>").next())
            .expect("a caller reference")
            .to_owned();
        assert!(
            reference.starts_with(&format!("imgedge-{id}-")),
            "{reference}"
        );
        references.push(reference);
    }
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 3, "each request has its own reference");
}

const CLOUDFRONT_TOO_MANY: &str = r#"<?xml version="1.0"?>
<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

/// Answers connections one after another with `answers`, returning each request.
async fn answer_in_turn(
    listener: TcpListener,
    answers: Vec<(&'static str, &'static str)>,
) -> Vec<String> {
    let mut requests = Vec::new();
    for (status, body) in answers {
        let (stream, _) = listener.accept().await.expect("accept");
        requests.push(answer(stream, status, body).await);
    }
    requests
}

fn paths_of(request: &str) -> Vec<String> {
    request
        .split("<Path>")
        .skip(1)
        .filter_map(|p| p.split("</Path>").next())
        .map(str::to_owned)
        .collect()
}

async fn cloudfront_at(addr: std::net::SocketAddr) -> CloudFrontInvalidator {
    CloudFrontInvalidator::from_config(&CloudFrontConfig {
        distribution_id: "EDFDVBD6EXAMPLE".to_owned(),
        access_key_id: Some("AKIDEXAMPLE".to_owned()),
        secret_access_key: Some("secret".to_owned()),
        endpoint: Some(format!("http://{addr}")),
    })
    .await
}

/// A batch the purge outbox gives it is one invalidation, one wildcard path per image.
#[tokio::test]
async fn a_batch_of_paths_is_one_cloudfront_invalidation() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cloudfront = tokio::spawn(answer_in_turn(
        listener,
        vec![("201 Created", CLOUDFRONT_CREATED)],
    ));
    let invalidator = cloudfront_at(addr).await;
    let mut expected: Vec<String> = (0..3).map(|_| new_id().invalidation_path()).collect();
    expected.sort();
    invalidator.invalidate(&expected).await.expect("accepted");
    let requests = cloudfront.await.expect("server task");
    assert_eq!(requests.len(), 1);
    assert_eq!(paths_of(&requests[0]), expected);
    assert!(
        requests[0].contains("<Quantity>3</Quantity>"),
        "{}",
        requests[0]
    );
}

/// `TooManyInvalidationsInProgress` is transient (the purge outbox sends it again after a
/// backoff); a refusal of the credentials is permanent. Each is one request: the invalidator
/// does not retry by itself.
#[tokio::test]
async fn cloudfront_refusals_are_told_apart_and_sent_once() {
    for (answer, expected) in [
        (CLOUDFRONT_TOO_MANY, "unavailable"),
        (CLOUDFRONT_DENIED, "rejected"),
    ] {
        let status = if answer == CLOUDFRONT_DENIED {
            "403 Forbidden"
        } else {
            "400 Bad Request"
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cloudfront = tokio::spawn(answer_in_turn(listener, vec![(status, answer)]));
        let invalidator = cloudfront_at(addr).await;
        let id = new_id();
        let result = invalidator.invalidate(&[id.invalidation_path()]).await;
        assert_eq!(outcome(&result), expected, "{result:?}");
        let requests = cloudfront.await.expect("server task");
        assert_eq!(requests.len(), 1);
        assert_eq!(paths_of(&requests[0]), [format!("/i/{id}/*")]);
    }
}
