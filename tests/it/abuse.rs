//! Abuse of the delivery path by someone holding a real key or none, against the real
//! binary (`imgedge dev`): an owner signing thousands of distinct widths of one image stops
//! at the per-image variant cap and the render rate limit (429); a thousand made-up
//! signatures are all 403 and reach an origin at most once each, the edge keeping the
//! refusals.

use std::collections::BTreeMap;

use futures::StreamExt as _;
use imgedge_url::{ImageId, TransformSpec, UrlKey, signed_path};
use serde_json::Value;
use sqlx::PgPool;

use crate::hostile::Dev;
use crate::support::photo;

/// Uploads `photo` and returns its id and URL key, as the API hands them to its owner.
async fn upload(dev: &Dev, token: &str, name: &str) -> (ImageId, UrlKey) {
    upload_bytes(dev, token, photo(name)).await
}

/// Uploads a JPEG or a PNG as a raw body and returns its id and URL key, as the API hands
/// them to its owner.
pub(crate) async fn upload_bytes(dev: &Dev, token: &str, image: Vec<u8>) -> (ImageId, UrlKey) {
    let content_type = match image::guess_format(&image) {
        Ok(image::ImageFormat::Png) => "image/png",
        _ => "image/jpeg",
    };
    let resp = dev
        .http
        .post(format!("{}/v1/images", dev.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(image)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 201, "upload");
    let image: Value = resp.json().await.expect("JSON");
    let id = image["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("an image id");
    let key = UrlKey::from_hex(image["url_key"].as_str().expect("url_key")).expect("a key");
    (id, key)
}

/// GETs every path through the edge, 32 at a time: the count of each status and of each
/// error code.
async fn get_all(dev: &Dev, paths: Vec<String>) -> (BTreeMap<u16, usize>, BTreeMap<String, usize>) {
    let answers: Vec<(u16, String)> = futures::stream::iter(paths)
        .map(|path| async move {
            let resp = dev
                .http
                .get(format!("{}{path}", dev.base))
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let body = resp.bytes().await.expect("body");
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            (status, code)
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let mut statuses = BTreeMap::new();
    let mut codes = BTreeMap::new();
    for (status, code) in answers {
        *statuses.entry(status).or_insert(0) += 1;
        if status != 200 {
            *codes.entry(code).or_insert(0) += 1;
        }
    }
    (statuses, codes)
}

/// `count` distinct variants: widths from 16 (at most 8192, the spec's limit), in WebP and
/// then in JPEG.
fn widths(key: &UrlKey, id: &ImageId, count: u32) -> Vec<String> {
    (0..count)
        .map(|i| {
            let (width, format) = (16 + i % 8_000, if i < 8_000 { "webp" } else { "jpeg" });
            let parsed = TransformSpec::parse(&format!("width={width}&format={format}"))
                .expect("a valid query");
            signed_path(key, id, parsed.spec())
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn ten_thousand_widths_stop_at_the_variant_cap_and_the_render_rate(pool: PgPool) {
    // The default cap, 100 variants per image; renders per owner a burst of 110 refilled at
    // 6 a minute, so that the cap is what stops the first image and the rate the second.
    let dev = Dev::start(&pool, &[("IMGEDGE_QUOTA_RENDER", "6:110")]).await;
    let token = dev.user("greedy@example.com").await;
    let (id, key) = upload(&dev, &token, "detail.jpg").await;
    let renders = dev.counter("imgedge_transformer_renders_total").await;

    let (statuses, codes) = get_all(&dev, widths(&key, &id, 10_000)).await;
    println!("10,000 widths of one image: {statuses:?} {codes:?}");
    assert_eq!(statuses.get(&200), Some(&100), "{statuses:?}");
    // Refused: 429, or on a loaded machine a few 503s from the owner's full render queue
    // (renders admitted before the cap filled were still running).
    let busy = statuses.get(&503).copied().unwrap_or(0);
    assert!(busy <= 20, "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&(9_900 - busy)), "{statuses:?}");
    // Nearly all stopped by the cap; a few by the rate, which renders running when the cap
    // filled also spent.
    assert!(
        codes.get("variant_limit").is_some_and(|n| *n >= 9_800),
        "{codes:?}"
    );
    assert_eq!(codes.values().sum::<usize>(), 9_900, "{codes:?}");
    assert!(
        codes
            .keys()
            .all(|c| c == "variant_limit" || c == "rate_limited"),
        "{codes:?}"
    );
    // Exactly the cap is stored; renders that were already running when it filled are
    // thrown away, not kept.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM variants")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 100);
    let rendered = dev.counter("imgedge_transformer_renders_total").await - renders;
    println!("{rendered} renders for 100 variants");
    assert!(rendered < 200.0, "{rendered} renders");

    // The same owner on another image: the renders left in the burst, then the rate limit.
    let (other, other_key) = upload(&dev, &token, "light.jpg").await;
    let (statuses, codes) = get_all(&dev, widths(&other_key, &other, 1_000)).await;
    println!("then 1,000 widths of another: {statuses:?} {codes:?}");
    let ok = statuses.get(&200).copied().unwrap_or(0);
    let busy = statuses.get(&503).copied().unwrap_or(0);
    assert!(ok < 20, "{statuses:?}");
    assert!(busy <= 20, "{statuses:?}");
    assert_eq!(
        codes.get("rate_limited"),
        Some(&(1_000 - ok - busy)),
        "{codes:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_thousand_made_up_signatures_are_refused_and_reach_an_origin_once_each(pool: PgPool) {
    let dev = Dev::start(&pool, &[]).await;
    let token = dev.user("owner@example.com").await;
    let (id, _) = upload(&dev, &token, "detail.jpg").await;
    // Signatures made with keys that are not the image's: well-formed, and wrong.
    let paths: Vec<String> = (0..1_000)
        .map(|_| {
            let key = UrlKey::from_hex(&hex::encode(rand::random::<[u8; 32]>())).expect("key");
            let parsed = TransformSpec::parse("width=300&format=webp").expect("valid");
            signed_path(&key, &id, parsed.spec())
        })
        .collect();
    let before = dev.counter("imgedge_transformer_requests_total").await;
    let (statuses, codes) = get_all(&dev, paths.clone()).await;
    assert_eq!(statuses, BTreeMap::from([(403, 1_000)]));
    assert_eq!(codes, BTreeMap::from([("bad_signature".to_owned(), 1_000)]));
    let reached = dev.counter("imgedge_transformer_requests_total").await - before;
    assert!(
        reached <= 1_000.5,
        "{reached} requests reached the transformer"
    );

    // Again: the edge answers from its cache of refusals; no origin sees them. The last 100
    // asked, so that the replay comes within the refusals' 10 s (the transformer's
    // `max-age`) however long a loaded machine took over the first thousand.
    let replayed = paths[900..].to_vec();
    let (statuses, _) = get_all(&dev, replayed).await;
    assert_eq!(statuses, BTreeMap::from([(403, 100)]));
    let again = dev.counter("imgedge_transformer_requests_total").await - before - reached;
    println!(
        "1,000 made-up signatures: {reached} origin requests, then {again} on the replay of 100"
    );
    assert!(
        again < 0.5,
        "{again} replayed requests reached the transformer"
    );
}
