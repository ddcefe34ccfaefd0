//! Uploads against one hostile account, through the real binary (`imgedge dev`: the API
//! behind its edge, embedded S3, PostgreSQL) and the real API router: the memory that bodies
//! in flight may take (a per-account limit of uploads in flight, a process-wide budget of
//! their bytes, both refusing at once with `Retry-After`), the lingering close that lets a
//! `413` reach the client through the edge, the upload check's decode stopped at its
//! deadline, good files still accepted by the stricter checks, and storage quotas.

use std::time::{Duration, Instant};

use imgedge::api::ApiSettings;
use imgedge::db::StorageQuota;
use imgedge::error::PublicError as _;
use imgedge_engine::{Engine, EngineConfig};
use imgedge_upload::UploadLimits;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::api_support::{Options, TestApp, assert_error};
use crate::hostile::Dev;
use crate::support::{engine, photo, spec};

const MIB: u64 = 1 << 20;

/// What a raw client saw of its upload's answer.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    code: String,
    /// From the first byte sent to the answer's status line.
    after: Duration,
}

/// How a raw upload sends its body.
#[derive(Debug, Clone, Copy)]
struct Sending {
    /// Bytes of body in all.
    total: u64,
    /// Declared with `Content-Length`, or sent chunked.
    declared: bool,
    /// Bytes per write.
    piece: usize,
    /// Between writes.
    pause: Duration,
}

/// Sends an upload of `sending.total` bytes (a JPEG's first bytes, then filler) over a raw
/// connection to `port`, stopping as soon as an answer's head arrives: what came back. A
/// connection closed with no answer is `None`.
async fn raw_upload(port: u16, token: &str, sending: Sending) -> Option<Answer> {
    let framing = if sending.declared {
        format!("content-length: {}", sending.total)
    } else {
        "transfer-encoding: chunked".to_owned()
    };
    let head = format!(
        "POST /v1/images HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
         content-type: image/jpeg\r\n{framing}\r\n\r\n"
    );
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.expect("head");
    let (head_tx, mut head_rx) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut head_tx = Some(head_tx);
        let mut buf = vec![0; 16 * 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if answer.windows(4).any(|w| w == b"\r\n\r\n")
                && let Some(tx) = head_tx.take()
            {
                let _ = tx.send(started.elapsed());
            }
            // The JSON error body is small: once it is whole, the answer is complete.
            if head_tx.is_none() && answer.ends_with(b"}") {
                break;
            }
        }
        answer
    });
    let mut piece = vec![0u8; sending.piece];
    piece[..4].copy_from_slice(&[0xff, 0xd8, 0xff, 0xe0]);
    let mut sent = 0u64;
    let mut answered = None;
    while sent < sending.total {
        if let Ok(after) = head_rx.try_recv() {
            answered = Some(after);
            break;
        }
        let take = usize::try_from((sending.total - sent).min(piece.len() as u64)).expect("size");
        let written = if sending.declared {
            write.write_all(&piece[..take]).await
        } else {
            let mut chunk = format!("{take:x}\r\n").into_bytes();
            chunk.extend_from_slice(&piece[..take]);
            chunk.extend_from_slice(b"\r\n");
            write.write_all(&chunk).await
        };
        if written.is_err() {
            break;
        }
        sent += take as u64;
        piece[..4].copy_from_slice(&[0; 4]);
        if !sending.pause.is_zero() {
            tokio::time::sleep(sending.pause).await;
        }
    }
    if !sending.declared && sent >= sending.total {
        let _ = write.write_all(b"0\r\n\r\n").await;
    }
    let answer = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    drop(write);
    let after = answered.or_else(|| head_rx.try_recv().ok())?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let retry_after = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("retry-after")
            .then(|| value.trim().to_owned())
    });
    let json = body
        .find('{')
        .and_then(|at| serde_json::from_str::<Value>(&body[at..]).ok())
        .unwrap_or(Value::Null);
    Some(Answer {
        status,
        retry_after,
        code: json["error"].as_str().unwrap_or_default().to_owned(),
        after,
    })
}

/// 24 concurrent raw 25 MiB uploads from one account, each body at 5 MiB/s.
const SLOW_25_MIB: Sending = Sending {
    total: 25 * MIB,
    declared: true,
    piece: 256 * 1024,
    pause: Duration::from_millis(50),
};

#[sqlx::test(migrations = false)]
async fn slow_uploads_from_one_account_are_refused_early_and_memory_stays_bounded(pool: PgPool) {
    let dev = Dev::start(&pool, &[("IMGEDGE_QUOTA_UPLOAD", "100000:100000")]).await;
    let token = dev.user("many-uploads@example.com").await;
    let idle = dev.rss_mib();
    let uploads = (0..24).map(|_| raw_upload(dev.port, &token, SLOW_25_MIB));
    let answers: Vec<Answer> = futures::future::join_all(uploads)
        .await
        .into_iter()
        .map(|a| a.expect("every upload is answered"))
        .collect();
    let peak = dev.peak_rss_mib();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    let admitted: Vec<&Answer> = answers.iter().filter(|a| a.status != 429).collect();
    for answer in &refused {
        assert_eq!(answer.code, "too_many_uploads", "{answer:?}");
        assert!(answer.retry_after.is_some(), "{answer:?}");
        assert!(answer.after < Duration::from_secs(1), "{answer:?}");
    }
    // The admitted bodies arrive whole and are judged (filler is no image).
    for answer in &admitted {
        assert_eq!(answer.status, 422, "{answer:?}");
        assert!(answer.after > Duration::from_secs(3), "{answer:?}");
    }
    let slowest_refusal = refused.iter().map(|a| a.after).max().unwrap_or_default();
    println!(
        "24 slow 25 MiB uploads, one account: {} admitted, {} refused 429 too_many_uploads \
         (slowest refusal {slowest_refusal:?}); RSS idle {idle} MiB, peak {peak} MiB \
         (+{} MiB)",
        admitted.len(),
        refused.len(),
        peak.saturating_sub(idle)
    );
    assert_eq!(
        admitted.len(),
        4,
        "the per-account limit of uploads in flight"
    );
    assert!(
        peak.saturating_sub(idle) < 400,
        "peak RSS {peak} MiB from {idle} MiB idle"
    );
    // And the account uploads again once its uploads ended.
    let resp = dev
        .http
        .post(format!("{}/v1/images", dev.base))
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(photo("light.jpg"))
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), 201);
}

#[sqlx::test(migrations = false)]
async fn the_upload_budget_is_shared_by_every_account(pool: PgPool) {
    let dev = Dev::start(
        &pool,
        &[
            ("IMGEDGE_QUOTA_UPLOAD", "100000:100000"),
            ("IMGEDGE_UPLOAD_BUDGET_MB", "64"),
        ],
    )
    .await;
    let mut tokens = Vec::new();
    for n in 0..3 {
        tokens.push(dev.user(&format!("budget-{n}@example.com")).await);
    }
    let idle = dev.rss_mib();
    let uploads = tokens
        .iter()
        .flat_map(|token| (0..4).map(move |_| raw_upload(dev.port, token, SLOW_25_MIB)));
    let answers: Vec<Answer> = futures::future::join_all(uploads)
        .await
        .into_iter()
        .map(|a| a.expect("every upload is answered"))
        .collect();
    let peak = dev.peak_rss_mib();
    let busy: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    for answer in &busy {
        assert_eq!(answer.code, "uploads_busy", "{answer:?}");
        assert!(answer.retry_after.is_some(), "{answer:?}");
        assert!(answer.after < Duration::from_secs(1), "{answer:?}");
    }
    println!(
        "12 slow 25 MiB uploads from 3 accounts, budget 64 MiB: {} refused 503 uploads_busy; \
         RSS idle {idle} MiB, peak {peak} MiB",
        busy.len()
    );
    // 64 MiB holds two 25 MiB bodies.
    assert_eq!(busy.len(), 10, "{answers:?}");
}

#[sqlx::test(migrations = false)]
async fn a_chunked_body_over_the_limit_gets_its_413_through_the_edge(pool: PgPool) {
    let dev = Dev::start(&pool, &[("IMGEDGE_QUOTA_UPLOAD", "100000:100000")]).await;
    let token = dev.user("chunked@example.com").await;
    // As fast as the socket takes it: the API refuses at 25 MiB while the client still
    // sends; without a lingering close the reset beat the 413 to the edge now and then.
    let fast = Sending {
        total: 64 * MIB,
        declared: false,
        piece: 256 * 1024,
        pause: Duration::ZERO,
    };
    for round in 0..5 {
        let answer = raw_upload(dev.port, &token, fast)
            .await
            .unwrap_or_else(|| panic!("round {round}: no answer"));
        println!("chunked 64 MiB body, round {round}: {answer:?}");
        assert_eq!(
            (answer.status, answer.code.as_str()),
            (413, "too_large"),
            "round {round}"
        );
    }
    // Refused before a byte is read (no session): the same drain lets the 401 through.
    for round in 0..3 {
        let answer = raw_upload(dev.port, "not-a-token", fast)
            .await
            .unwrap_or_else(|| panic!("round {round}: no answer"));
        println!("chunked 64 MiB body without a session, round {round}: {answer:?}");
        assert_eq!(
            (answer.status, answer.code.as_str()),
            (401, "unauthorized"),
            "round {round}"
        );
    }
}

/// A 36 MP JPEG (6000×6000 of smooth waves, quality 90: a few MB), encoded by the `image`
/// crate: its decode takes a few hundred milliseconds.
fn large_jpeg() -> Vec<u8> {
    static JPEG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    JPEG.get_or_init(|| {
        let side = 6000;
        let wave = |t: u32, period: f32| ((t as f32 / period).sin() * 120.0 + 128.0) as u8;
        let pixels = image::RgbImage::from_fn(side, side, |x, y| {
            image::Rgb([wave(x, 37.0), wave(y, 23.0), wave(x + y, 51.0)])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&pixels)
            .expect("encode the large fixture");
        out
    })
    .clone()
}

fn limits() -> UploadLimits {
    let defaults = ApiSettings::default();
    UploadLimits {
        max_frames: defaults.max_frames,
        max_metadata_bytes: defaults.max_metadata_bytes,
    }
}

#[test]
fn the_upload_checks_decode_is_stopped_at_its_deadline() {
    let bytes = large_jpeg();
    let started = Instant::now();
    imgedge_upload::check(&engine(), &bytes, limits()).expect("accepted with the whole budget");
    let whole = started.elapsed();
    let budget = whole / 10;
    let short = Engine::new(EngineConfig {
        render_timeout: budget,
        ..EngineConfig::default()
    })
    .expect("engine");
    let started = Instant::now();
    let refusal = imgedge_upload::check(&short, &bytes, limits()).expect_err("past its deadline");
    let stopped = started.elapsed();
    println!(
        "upload check of a 36 MP JPEG ({} bytes): {whole:?} whole; with a {budget:?} budget, \
         stopped after {stopped:?}",
        bytes.len()
    );
    assert_eq!(refusal.code(), "render_timeout", "{refusal}");
    // The watchdog kills the decode where it is: well before it would have ended.
    assert!(
        stopped < whole * 3 / 4,
        "stopped after {stopped:?} of {whole:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn an_upload_past_its_deadline_answers_503_and_stores_nothing(pool: PgPool) {
    // Made first: the edge closes a connection idle for its header timeout (10 s), and the
    // encode takes a while in a debug build.
    let large = large_jpeg();
    let dev = Dev::start(
        &pool,
        &[
            ("IMGEDGE_QUOTA_UPLOAD", "100000:100000"),
            ("IMGEDGE_RENDER_TIMEOUT_MS", "30"),
        ],
    )
    .await;
    let token = dev.user("deadline@example.com").await;
    let started = Instant::now();
    let resp = dev
        .http
        .post(format!("{}/v1/images", dev.base))
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(large)
        .send()
        .await
        .expect("upload");
    let elapsed = started.elapsed();
    assert!(resp.headers().contains_key("retry-after"));
    println!(
        "a 36 MP upload with a 30 ms render budget: {} after {elapsed:?}",
        resp.status()
    );
    assert_error(resp, 503, "render_timeout").await;
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(dev.stored_originals(), 0);
}

#[test]
fn good_files_pass_the_stricter_upload_checks() {
    let engine = engine();
    let mut files: Vec<(String, Vec<u8>)> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/photos"))
            .expect("photos")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x != "md" && x != "py"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).expect("photo")))
            .collect();
    for format in [
        "jpeg",
        "jpeg-oriented",
        "png",
        "webp",
        "avif",
        "gif",
        "heic",
    ] {
        let input = crate::operations::input(format);
        files.push((input.name.to_owned(), input.bytes));
    }
    for query in [
        "format=jpeg&quality=40",
        "format=png",
        "format=webp",
        "format=avif",
    ] {
        let out = engine
            .render(&photo("dark.jpg"), &spec(&format!("width=500&{query}")))
            .expect("render");
        files.push((query.to_owned(), out.bytes));
    }
    assert!(files.len() >= 15, "{}", files.len());
    for (name, bytes) in files {
        imgedge_upload::check(&engine, &bytes, limits())
            .unwrap_or_else(|e| panic!("{name} is refused: {e}"));
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn an_account_over_its_storage_quota_is_refused_and_others_are_not(pool: PgPool) {
    let photo_bytes = photo("light.jpg");
    let size = photo_bytes.len() as u64;
    let quota = StorageQuota {
        bytes: 10 * size,
        images: 3,
    };
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings: ApiSettings {
                storage_quota: quota,
                uploads_per_owner: 8,
                ..Options::default().settings
            },
            ..Options::default()
        },
    )
    .await;
    let alice = app.user("alice@example.com").await;
    let bob = app.user("bob@example.com").await;

    // Six at once for three places: exactly three are stored.
    let uploads = (0..6).map(|_| app.upload_raw(&alice, "image/jpeg", photo_bytes.clone()));
    let mut ids = Vec::new();
    let mut refused = 0;
    for resp in futures::future::join_all(uploads).await {
        if resp.status() == 201 {
            let body: Value = resp.json().await.expect("JSON");
            ids.push(body["id"].as_str().expect("id").to_owned());
        } else {
            assert_error(resp, 403, "storage_quota_exceeded").await;
            refused += 1;
        }
    }
    assert_eq!((ids.len(), refused), (3, 3));
    assert_eq!(
        app.objects().await.len(),
        3,
        "nothing refused is kept in S3"
    );

    let me: Value = app.get(&alice, "/v1/me").await.json().await.expect("JSON");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["usage"]["images"], 3);
    assert_eq!(me["usage"]["bytes"], 3 * size);
    assert_eq!(me["quota"]["images"], 3);
    assert_eq!(me["quota"]["bytes"], 10 * size);

    // Another account is not affected.
    let resp = app
        .upload_raw(&bob, "image/jpeg", photo_bytes.clone())
        .await;
    assert_eq!(resp.status(), 201);
    let me: Value = app.get(&bob, "/v1/me").await.json().await.expect("JSON");
    assert_eq!(me["usage"]["images"], 1);

    // A delete frees room.
    let resp = app.delete(&alice, &format!("/v1/images/{}", ids[0])).await;
    assert_eq!(resp.status(), 204);
    let me: Value = app.get(&alice, "/v1/me").await.json().await.expect("JSON");
    assert_eq!(me["usage"]["images"], 2);
    let resp = app
        .upload_raw(&alice, "image/jpeg", photo_bytes.clone())
        .await;
    assert_eq!(resp.status(), 201);
    assert_error(
        app.upload_raw(&alice, "image/jpeg", photo_bytes).await,
        403,
        "storage_quota_exceeded",
    )
    .await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_byte_quota_counts_the_originals(pool: PgPool) {
    let photo_bytes = photo("light.jpg");
    let size = photo_bytes.len() as u64;
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings: ApiSettings {
                storage_quota: StorageQuota {
                    bytes: 2 * size + size / 2,
                    images: 100,
                },
                ..Options::default().settings
            },
            ..Options::default()
        },
    )
    .await;
    let alice = app.user("alice@example.com").await;
    for _ in 0..2 {
        let resp = app
            .upload_raw(&alice, "image/jpeg", photo_bytes.clone())
            .await;
        assert_eq!(resp.status(), 201);
    }
    assert_error(
        app.upload_raw(&alice, "image/jpeg", photo_bytes).await,
        403,
        "storage_quota_exceeded",
    )
    .await;
    // A smaller file still fits in what is left.
    let small = crate::support::render(&photo("light.jpg"), "width=64&format=jpeg").bytes;
    assert!((small.len() as u64) < size / 2);
    let resp = app.upload_raw(&alice, "image/jpeg", small).await;
    assert_eq!(resp.status(), 201);
}
