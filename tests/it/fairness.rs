//! Renders under a hostile account, against the real binary (`imgedge dev`, the debug build
//! the test command builds): one account flooding the render pool with the costliest URLs
//! the contract allows does not delay another account's first renders; sixty large
//! originals rendered at once keep the process's memory bounded by the workers, not by the
//! queue; a transform beyond its image's bounds is refused before any work; and the render
//! quota is charged by cost. The figures are in `docs/reliability.md` ("Renders under a hostile account");
//! `cargo test --test it fairness -- --nocapture` prints them.

use std::io::Cursor;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use image::{ImageFormat, RgbImage};
use imgedge_url::{ImageId, TransformSpec, UrlKey, signed_path};
use sqlx::PgPool;

use crate::abuse::upload_bytes;
use crate::hostile::Dev;
use crate::support::photo;

/// A `width`×`height` picture made from a real photo scaled up, with `grain` (0 to 255) of
/// deterministic noise so that it compresses like a detailed photo.
fn large_picture(width: u32, height: u32, grain: u8) -> RgbImage {
    let source = image::load_from_memory(&photo("detail.jpg"))
        .expect("the fixture decodes")
        .to_rgb8();
    let mut big: RgbImage = image::imageops::resize(
        &source,
        width,
        height,
        image::imageops::FilterType::Triangle,
    );
    let mut state: u32 = 0x9E37_79B9;
    for channel in big.iter_mut() {
        // xorshift32: cheap, deterministic noise.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % (u32::from(grain) + 1)) as i16 - i16::from(grain / 2);
        *channel = (i16::from(*channel) + noise).clamp(0, 255) as u8;
    }
    big
}

fn jpeg(picture: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(picture)
        .expect("encodes");
    let bytes = out.into_inner();
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    bytes
}

/// A 12-megapixel photo of a few MB.
fn photo_12mp() -> Vec<u8> {
    jpeg(&large_picture(4000, 3000, 8), 90)
}

fn path(key: &UrlKey, id: &ImageId, query: &str) -> String {
    let parsed = TransformSpec::parse(query).expect("a valid query");
    signed_path(key, id, parsed.spec())
}

/// One answer through the edge: its status, its `Retry-After`, and how long it took.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    took: Duration,
}

async fn get(dev: &Dev, path: &str) -> Answer {
    let started = Instant::now();
    let resp = dev
        .http
        .get(format!("{}{path}", dev.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    resp.bytes().await.expect("a whole body");
    Answer {
        status,
        retry_after,
        took: started.elapsed(),
    }
}

/// The value at `share` (0 to 1) of `values`, by nearest rank.
fn percentile(values: &[Duration], share: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[sqlx::test(migrations = false)]
async fn another_accounts_first_renders_stay_fast_while_one_account_floods_the_pool(pool: PgPool) {
    // The render quota is lifted, so that the pool's fairness alone is what protects the
    // other account (with the default quota, the flood is also refused early: 429).
    let photo_12mp = photo_12mp();
    let dev = Dev::start(
        &pool,
        &[
            ("IMGEDGE_QUOTA_RENDER", "1000000:1000000"),
            ("IMGEDGE_QUOTA_UPLOAD", "1000:1000"),
        ],
    )
    .await;
    let attacker = dev.user("flood@example.com").await;
    let victim = dev.user("calm@example.com").await;
    let (flood_id, flood_key) = upload_bytes(&dev, &attacker, photo_12mp.clone()).await;
    let (calm_id, calm_key) = upload_bytes(&dev, &victim, photo_12mp).await;

    // The costliest URLs the contract allows on a 12-megapixel photo: padded to a
    // 49-megapixel canvas (within the contain bound for this image), blurred as far as the
    // contract goes, encoded as AVIF at full quality. Each runs to the render deadline.
    let flood: Vec<_> = (41..=100)
        .map(|quality| {
            path(
                &flood_key,
                &flood_id,
                &format!(
                    "width=7000&height=7000&fit=contain&blur=100&quality={quality}&format=avif"
                ),
            )
        })
        .map(|path| {
            let http = dev.http.clone();
            let url = format!("{}{path}", dev.base);
            tokio::spawn(async move {
                let started = Instant::now();
                let status = http.get(url).send().await.map(|r| r.status().as_u16());
                (status, started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A new 400-pixel variant of the other account's photo every second, for 20 seconds.
    let mut answers = Vec::new();
    for i in 0..20u32 {
        let tick = Instant::now();
        let query = format!("width=400&quality={}", 60 + i);
        answers.push(get(&dev, &path(&calm_key, &calm_id, &query)).await);
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed())).await;
    }
    let took: Vec<Duration> = answers.iter().map(|a| a.took).collect();
    let (p50, p95, max) = (
        percentile(&took, 0.5),
        percentile(&took, 0.95),
        percentile(&took, 1.0),
    );
    println!(
        "fairness: the other account's 20 first renders: p50 {p50:?}, p95 {p95:?}, max {max:?}"
    );
    let flood_running = flood.iter().filter(|task| !task.is_finished()).count();
    println!("fairness: the flood's requests still waiting after 21 s: {flood_running} of 60");
    for task in &flood {
        task.abort();
    }
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer.status, 200,
            "render {i} of the other account: {answer:?}"
        );
    }
    assert!(
        p95 < Duration::from_secs(3),
        "p95 {p95:?} of the other account's first renders"
    );
    assert!(
        flood_running > 0,
        "the flood must still be running, or this test measured nothing"
    );
}

#[sqlx::test(migrations = false)]
async fn sixty_large_originals_rendered_at_once_keep_memory_bounded(pool: PgPool) {
    // A 48-megapixel JPEG of about 20 MB (the upload limit is 25 MiB): the least grain and
    // the highest quality that give 19 to 24 MiB.
    let original = [10, 11, 12]
        .into_iter()
        .find_map(|grain| {
            let picture = large_picture(8000, 6000, grain);
            [95, 93, 90]
                .into_iter()
                .map(|quality| jpeg(&picture, quality))
                .find(|jpeg| (19 << 20..24 << 20).contains(&jpeg.len()))
        })
        .expect("an original of 19 to 24 MiB");
    let mib = original.len() as f64 / f64::from(1 << 20);
    println!("memory: each original is {mib:.1} MiB, 8000x6000");
    let dev = Dev::start(
        &pool,
        &[
            ("IMGEDGE_QUOTA_UPLOAD", "1000:1000"),
            ("IMGEDGE_QUOTA_RENDER", "1000000:1000000"),
        ],
    )
    .await;

    // Three accounts, twenty originals each (renders of one owner are limited to half the
    // workers: three owners keep every worker busy).
    let mut images = Vec::new();
    for owner in 0..3 {
        let token = dev.user(&format!("owner{owner}@example.com")).await;
        let uploads = futures::stream::iter(0..20)
            .map(|_| upload_bytes(&dev, &token, original.clone()))
            .buffer_unordered(2)
            .collect::<Vec<_>>()
            .await;
        images.extend(uploads);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = dev.rss_mib();
    dev.reset_peak_rss();

    let started = Instant::now();
    let dev = &dev;
    let answers: Vec<Answer> =
        futures::future::join_all(images.iter().map(|(id, key)| async move {
            get(dev, &path(key, id, "width=400&format=webp")).await
        }))
        .await;
    let all_done = started.elapsed();
    let peak = dev.peak_rss_mib();
    let ok = answers.iter().filter(|a| a.status == 200).count();
    println!(
        "memory: 60 first renders of 60 different originals at once: {ok} answered 200 in \
         {all_done:?}; resident memory idle {idle} MiB, peak {peak} MiB (+{} MiB)",
        peak.saturating_sub(idle)
    );
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert!(
            matches!(answer.status, 429 | 503),
            "a refusal is 429 or 503: {answer:?}"
        );
        assert!(answer.retry_after.is_some(), "with Retry-After: {answer:?}");
        assert!(answer.took < Duration::from_secs(1), "at once: {answer:?}");
    }
    assert!(ok >= 50, "most renders answered: {ok} of 60");
    assert!(
        peak.saturating_sub(idle) < 400,
        "peak {peak} MiB, idle {idle} MiB"
    );
}

/// A 1×1 PNG.
fn dot_png() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    RgbImage::from_pixel(1, 1, image::Rgb([200, 30, 30]))
        .write_to(&mut out, ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

/// The error code of a JSON error body.
async fn error_code(resp: reqwest::Response) -> String {
    let body: serde_json::Value = resp.json().await.expect("a JSON error body");
    body["error"].as_str().expect("an error code").to_owned()
}

#[sqlx::test(migrations = false)]
async fn a_transform_beyond_its_images_bounds_is_refused_before_any_work(pool: PgPool) {
    let dev = Dev::start(&pool, &[]).await;
    let token = dev.user("bounds@example.com").await;
    let (dot_id, dot_key) = upload_bytes(&dev, &token, dot_png()).await;
    let (photo_id, photo_key) = upload_bytes(&dev, &token, photo("detail.jpg")).await;
    for (id, key, query) in [
        // The issue's own attack: a 1x1 image padded to 50 megapixels and blurred.
        (
            &dot_id,
            &dot_key,
            "width=8192&height=6100&fit=contain&blur=100",
        ),
        // A blur wider than the image it blurs (detail.jpg at 64 pixels wide is 64x43).
        (&photo_id, &photo_key, "width=64&blur=40"),
    ] {
        let started = Instant::now();
        let resp = dev
            .http
            .get(format!("{}{}", dev.base, path(key, id, query)))
            .send()
            .await
            .expect("an answer");
        let took = started.elapsed();
        assert_eq!(resp.status().as_u16(), 422, "{query}");
        assert_eq!(error_code(resp).await, "beyond_image_bounds", "{query}");
        assert!(took < Duration::from_secs(1), "{query}: {took:?}");
        println!("bounds: {query}: 422 beyond_image_bounds in {took:?}");
    }
    // Ordinary uses of the same parameters still render.
    for (id, key, query) in [
        (&dot_id, &dot_key, "width=1024&height=1024&fit=contain"),
        (&photo_id, &photo_key, "width=64&blur=20"),
        (
            &photo_id,
            &photo_key,
            "width=400&height=400&fit=contain&rotate=45",
        ),
    ] {
        assert_eq!(
            get(&dev, &path(key, id, query)).await.status,
            200,
            "{query}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn the_render_quota_is_charged_by_cost(pool: PgPool) {
    // 6 units a minute with a burst of 10: ten web-sized renders, or one costly render
    // (the rate is slow, so that the costly render's own seconds refill nothing).
    let big = photo_12mp();
    let dev = Dev::start(&pool, &[("IMGEDGE_QUOTA_RENDER", "6:10")]).await;
    let spender = dev.user("spender@example.com").await;
    let other = dev.user("other@example.com").await;
    let (id, key) = upload_bytes(&dev, &spender, big.clone()).await;
    let (other_id, other_key) = upload_bytes(&dev, &other, big).await;
    // A full-size WebP of a 12-megapixel photo costs more than the burst (18 units): it
    // runs, the owner's budget being full, and leaves the owner in debt for all of it.
    let costly = get(&dev, &path(&key, &id, "width=4000&format=webp")).await;
    assert_eq!(costly.status, 200, "{costly:?}");
    // So the owner's next render, even a cheap one, waits for the quota to refill.
    let started = Instant::now();
    let resp = dev
        .http
        .get(format!("{}{}", dev.base, path(&key, &id, "width=100")))
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_code(resp).await, "rate_limited");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Another owner's budget is untouched: ten cheap renders in a row.
    for width in 100..110 {
        let query = format!("width={width}");
        let answer = get(&dev, &path(&other_key, &other_id, &query)).await;
        assert_eq!(answer.status, 200, "{query}: {answer:?}");
    }
}
