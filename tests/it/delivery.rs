//! The delivery path end to end: a variant's first request is rendered by the transformer,
//! then answered by the edge, then (after the edge forgets it) by S3; bad URLs are answered
//! at the edge; a deleted image is gone everywhere; the transformer answers only edges and
//! enforces its caps.

use std::time::Duration;

use imgedge::transformer::TransformerSettings;
use imgedge_url::UrlSecret;
use serde_json::Value;
use sqlx::PgPool;

use crate::delivery_support::{ORIGIN_SECRET, PURGE_TOKEN, Stack, StackOptions, header};
use crate::support::photo;

fn variant_key(path: &str) -> String {
    let path = path.split('?').next().expect("path");
    format!("v/{}", path.strip_prefix("/i/").expect("an image path"))
}

/// The variant object under `key`, waited for: the transformer PUTs it after its answer.
async fn stored_variant(
    stack: &crate::delivery_support::Stack,
    key: &str,
) -> imgedge::storage::Object {
    for _ in 0..100 {
        if let Some(object) = stack.store.get(key).await.expect("S3 answers") {
            return object;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the variant {key} is not in S3 two seconds after its answer");
}

#[sqlx::test]
async fn a_variant_is_rendered_once_then_served_by_the_edge_then_by_s3(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    let path = stack.mint(&token, id, "format=webp&width=300").await;
    assert!(path.ends_with("?width=300&format=webp"), "{path}");

    // First request: a miss, rendered by the transformer.
    let first = stack.get(&path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-cache"), "Miss from edge");
    assert_eq!(header(&first, "x-edge-origin"), "transformer");
    assert_eq!(header(&first, "content-type"), "image/webp");
    assert_eq!(
        header(&first, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let timing = header(&first, "server-timing").to_owned();
    for phase in ["fetch", "decode", "transform", "encode", "record"] {
        assert!(timing.contains(&format!("{phase};dur=")), "{timing}");
    }
    let etag = header(&first, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.len() == 34,
        "a strong ETag: {etag}"
    );
    let bytes = first.bytes().await.expect("body");
    let decoded = image::load_from_memory(&bytes).expect("a decodable WebP");
    assert_eq!(decoded.width(), 300);

    // Recorded before the answer, so that a delete can find it; stored in S3 while it was
    // answered (the PUT runs after the answer), within moments.
    let stored = stored_variant(&stack, &variant_key(&path)).await;
    assert_eq!(stored.bytes, bytes);
    assert_eq!(stored.content_type.as_deref(), Some("image/webp"));
    let image_id: uuid::Uuid = id.parse().expect("uuid");
    assert_eq!(stack.db.variant_count(image_id).await.expect("count"), 1);

    // Second request: the edge answers; nothing about the render is repeated.
    let second = stack.get(&path).await;
    assert_eq!(second.status(), 200);
    assert_eq!(header(&second, "x-cache"), "Hit from edge");
    assert_eq!(header(&second, "etag"), etag);
    assert_eq!(header(&second, "server-timing"), "");
    assert!(header(&second, "age").parse::<u64>().is_ok());
    assert_eq!(second.bytes().await.expect("body"), bytes);

    // A browser revalidating gets 304.
    let revalidated = stack
        .http
        .get(stack.url(&path))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(revalidated.status(), 304);

    // The edge forgets everything: the next request is served from S3, not rendered.
    stack.purge_all().await;
    let third = stack.get(&path).await;
    assert_eq!(third.status(), 200);
    assert_eq!(header(&third, "x-cache"), "Miss from edge");
    assert_eq!(header(&third, "x-edge-origin"), "s3");
    assert_eq!(header(&third, "etag"), etag, "both origins give one ETag");
    assert_eq!(
        header(&third, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(third.bytes().await.expect("body"), bytes);
    assert_eq!(stack.db.variant_count(image_id).await.expect("count"), 1);
    assert_eq!(header(&stack.get(&path).await, "x-cache"), "Hit from edge");
}

/// A recorded variant whose object is missing (its PUT, which runs after the answer,
/// failed, or the process stopped first) is rendered again on its next miss and stored,
/// without counting as a new variant.
#[sqlx::test]
async fn a_recorded_variant_without_its_object_is_rendered_and_stored_again(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    let image_id: uuid::Uuid = id.parse().expect("uuid");
    let path = stack.mint(&token, id, "width=120&format=png").await;
    let key = variant_key(&path);

    let first = stack.get(&path).await;
    assert_eq!(first.status(), 200);
    let bytes = first.bytes().await.expect("body");
    stored_variant(&stack, &key).await;
    stack.store.delete(&key).await.expect("delete the object");
    stack.purge_all().await;

    let again = stack.get(&path).await;
    assert_eq!(again.status(), 200);
    assert_eq!(header(&again, "x-edge-origin"), "transformer");
    assert_eq!(again.bytes().await.expect("body"), bytes, "the same bytes");
    assert_eq!(stored_variant(&stack, &key).await.bytes, bytes);
    assert_eq!(stack.db.variant_count(image_id).await.expect("count"), 1);
}

#[sqlx::test]
async fn bad_urls_are_answered_at_the_edge(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let id = image["id"].as_str().expect("id");
    let path = stack.mint(&token, id, "width=200&grayscale=1").await;
    let (signed, query) = path.split_once('?').expect("a query");

    // A wrong signature: 403 from the origin, then kept briefly by the edge.
    let forged = format!("/i/{id}/AAAAAAAAAAAAAAAAAAAAAA?{query}");
    let refused = stack.get(&forged).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("JSON error");
    assert_eq!(body["error"], "bad_signature");
    let again = stack.get(&forged).await;
    assert_eq!(again.status(), 403);
    assert_eq!(header(&again, "x-cache"), "Hit from edge");
    assert!(
        stack
            .store
            .get(&variant_key(&forged))
            .await
            .expect("S3")
            .is_none()
    );

    // A real signature on another query names another variant: refused, not served.
    assert_eq!(stack.get(&path).await.status(), 200);
    let swapped = format!("{signed}?width=201&grayscale=1");
    let refused = stack.get(&swapped).await;
    assert_eq!(refused.status(), 403, "a sig copied onto another query");
    assert_eq!(header(&refused, "x-edge-origin"), "transformer");
    stack.purge_all().await;

    // A valid but non-canonical query: 301 to the canonical URL, generated at the edge.
    let reordered = stack
        .get(&format!("{signed}?grayscale=true&width=200"))
        .await;
    assert_eq!(reordered.status(), 301);
    assert_eq!(header(&reordered, "location"), path);
    assert_eq!(header(&reordered, "x-edge-origin"), "edge");

    // Parameters outside the spec are dropped: the same variant, the same cache entry.
    let first = stack.get(&path).await;
    assert_eq!(first.status(), 200);
    let tracked = stack.get(&format!("{path}&utm_source=mail")).await;
    assert_eq!(tracked.status(), 200);
    assert_eq!(header(&tracked, "x-cache"), "Hit from edge");

    // Malformed: 400 with the spec's codes.
    for (bad, code) in [
        (format!("{signed}?width=0"), "out_of_range"),
        (format!("{signed}?width=1&width=2"), "duplicate_param"),
        (format!("/i/{}/{}", id.to_uppercase(), "x"), "bad_image_id"),
        (format!("/i/{id}/short"), "bad_sig"),
    ] {
        let response = stack.get(&bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(
            header(&response, "cache-control").contains("max-age="),
            "{bad}"
        );
        let body: Value = response.json().await.expect("JSON error");
        assert_eq!(body["error"], code, "{bad}");
    }
}

#[sqlx::test]
async fn a_deleted_image_is_gone_at_the_edge(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "dark.jpg", photo("dark.jpg")).await;
    let id = image["id"].as_str().expect("id").to_owned();
    let path = stack.mint(&token, &id, "width=120").await;
    assert_eq!(stack.get(&path).await.status(), 200);
    assert_eq!(header(&stack.get(&path).await, "x-cache"), "Hit from edge");
    // Stored (the PUT follows the answer), so that the delete finds it in S3.
    stored_variant(&stack, &variant_key(&path)).await;

    let deleted = stack
        .http
        .delete(stack.url(&format!("/v1/images/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);

    // The API purged the edge and removed the objects; the purge is best effort, so poll.
    let mut gone = None;
    for _ in 0..50 {
        let response = stack.get(&path).await;
        if response.status() == 404 {
            gone = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gone = gone.expect("the variant answers 404 after the delete");
    assert_eq!(header(&gone, "x-cache"), "Miss from edge");
    let body: Value = gone.json().await.expect("JSON error");
    assert_eq!(body["error"], "not_found");
    assert!(
        stack
            .store
            .list_keys(&format!("v/{id}/"))
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        stack
            .store
            .get(&format!("o/{id}"))
            .await
            .expect("S3")
            .is_none()
    );
    // Nor can its owner mint new URLs for it.
    let minted = stack
        .http
        .get(stack.url(&format!("/v1/images/{id}/url?width=10")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(minted.status(), 404);
}

#[sqlx::test]
async fn the_transformer_answers_only_edges(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let path = stack
        .mint(&token, image["id"].as_str().expect("id"), "width=64")
        .await;
    let direct = format!("{}{path}", stack.transformer);
    for secret in [None, Some("wrong"), Some("")] {
        let mut request = stack.http.get(&direct);
        if let Some(secret) = secret {
            request = request.header("x-imgedge-origin-secret", secret);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 403, "{secret:?}");
        let body: Value = response.json().await.expect("JSON error");
        assert_eq!(body["error"], "origin_forbidden");
    }
    assert!(
        stack
            .store
            .get(&variant_key(&path))
            .await
            .expect("S3")
            .is_none()
    );
    let response = stack
        .http
        .get(&direct)
        .header("x-imgedge-origin-secret", ORIGIN_SECRET)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}

#[sqlx::test]
async fn the_widths_of_a_srcset_share_one_decode_and_render_as_the_original_would(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let original = photo("detail.jpg");
    let image = stack.upload(&token, "detail.jpg", original.clone()).await;
    let id = image["id"].as_str().expect("id");
    // detail.jpg is 1024 pixels wide: widths 65 to 256 shrink on load alike (by 4), 300
    // does not (by 2).
    let cases = [
        ("width=200&format=webp", false),
        ("width=100&format=webp", true),
        ("width=256&grayscale=1&format=png", true),
        ("width=300&format=webp", false),
    ];
    for (query, kept) in cases {
        let path = stack.mint(&token, id, query).await;
        let response = stack.get(&path).await;
        assert_eq!(response.status(), 200, "{query}");
        assert_eq!(header(&response, "x-edge-origin"), "transformer", "{query}");
        let timing = header(&response, "server-timing").to_owned();
        assert_eq!(timing.contains("kept"), kept, "{query}: {timing}");
        let body = response.bytes().await.expect("body");
        let direct = crate::support::render(&original, query);
        assert!(
            body == direct.bytes,
            "{query}: not what the original renders to"
        );
    }
}

#[sqlx::test]
async fn concurrent_widths_of_one_image_share_one_fetch_and_decode(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let original = photo("detail.jpg");
    let image = stack.upload(&token, "detail.jpg", original.clone()).await;
    let id = image["id"].as_str().expect("id");
    let queries: Vec<String> = [140, 160, 190, 220, 250]
        .iter()
        .map(|w| format!("width={w}&format=webp"))
        .collect();
    let mut paths = Vec::new();
    for query in &queries {
        paths.push(stack.mint(&token, id, query).await);
    }
    let responses = futures::future::join_all(paths.iter().map(|path| stack.get(path))).await;
    let mut decoded_here = 0;
    for (query, response) in queries.iter().zip(responses) {
        assert_eq!(response.status(), 200, "{query}");
        if !header(&response, "server-timing").contains("kept") {
            decoded_here += 1;
        }
        let body = response.bytes().await.expect("body");
        let direct = crate::support::render(&original, query);
        assert!(
            body == direct.bytes,
            "{query}: not what the original renders to"
        );
    }
    assert_eq!(
        decoded_here, 1,
        "one request fetches and decodes; the others use it"
    );
}

#[sqlx::test]
async fn variants_per_image_are_capped(pool: PgPool) {
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            transformer: TransformerSettings {
                max_variants_per_image: 2,
                ..TransformerSettings::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let id = image["id"].as_str().expect("id");
    let a = stack.mint(&token, id, "width=10").await;
    let b = stack.mint(&token, id, "width=11").await;
    let c = stack.mint(&token, id, "width=12").await;
    assert_eq!(stack.get(&a).await.status(), 200);
    assert_eq!(stack.get(&b).await.status(), 200);
    let capped = stack.get(&c).await;
    assert_eq!(capped.status(), 429);
    let body: Value = capped.json().await.expect("JSON error");
    assert_eq!(body["error"], "variant_limit");
    assert!(
        stack
            .store
            .get(&variant_key(&c))
            .await
            .expect("S3")
            .is_none()
    );
    // A 429 is not cached, and variants that exist are still served (from S3 here, once
    // stored: the PUT follows the answer).
    stored_variant(&stack, &variant_key(&a)).await;
    stack.purge_all().await;
    assert_eq!(header(&stack.get(&a).await, "x-edge-origin"), "s3");
    assert_eq!(stack.get(&c).await.status(), 429);
}

#[sqlx::test]
async fn renders_per_owner_are_rate_limited(pool: PgPool) {
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            transformer: TransformerSettings {
                render_quota: imgedge::ratelimit::Quota::per_minute(1, 2),
                ..TransformerSettings::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let id = image["id"].as_str().expect("id");
    let mut statuses = Vec::new();
    let mut limited = None;
    for width in 20..24 {
        let path = stack.mint(&token, id, &format!("width={width}")).await;
        let response = stack.get(&path).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 && limited.is_none() {
            limited = Some(response);
        }
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
    let limited = limited.expect("a refusal");
    assert!(
        header(&limited, "retry-after")
            .parse::<u64>()
            .expect("seconds")
            >= 1
    );
    let body: Value = limited.json().await.expect("JSON error");
    assert_eq!(body["error"], "rate_limited");
}

/// The rules the edge shares with the Lambda@Edge function, on the shared vectors: 400 with
/// the vector's code, 301 to the vector's location, and signed requests passed to the origin
/// (which verifies them with the vectors' secret: valid ones reach the image lookup and find
/// no such image, forged ones are refused).
#[sqlx::test]
async fn the_edge_follows_the_shared_request_vectors(pool: PgPool) {
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/url-vectors.json"
        ))
        .expect("vector file"),
    )
    .expect("JSON");
    let secret =
        UrlSecret::from_hex(vectors["url_secret"].as_str().expect("secret")).expect("hex secret");
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            url_secret: secret,
            ..StackOptions::default()
        },
    )
    .await;
    let requests = vectors["requests"].as_array().expect("requests");
    assert!(requests.len() >= 30);
    for vector in requests {
        let name = vector["name"].as_str().expect("name");
        let query = vector["query"].as_str().expect("query");
        let mut path = vector["path"].as_str().expect("path").to_owned();
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let response = stack.get(&path).await;
        let status = response.status().as_u16();
        match vector["status"].as_u64().expect("status") {
            200 => assert_eq!(status, 404, "{name}: verified, then no such image"),
            301 => {
                assert_eq!(status, 301, "{name}");
                assert_eq!(header(&response, "location"), vector["location"], "{name}");
            }
            400 => {
                assert_eq!(status, 400, "{name}");
                let body: Value = response.json().await.expect("JSON error");
                assert_eq!(body["error"], vector["error"], "{name}");
            }
            403 => assert_eq!(status, 403, "{name}"),
            other => panic!("{name}: unexpected status {other} in the vectors"),
        }
    }
}

#[sqlx::test]
async fn the_edge_proxies_the_api_and_serves_the_web_client(pool: PgPool) {
    let web = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )
    .expect("write");
    std::fs::create_dir(web.path().join("assets")).expect("mkdir");
    std::fs::write(web.path().join("assets/app-1234.js"), "console.log(1)").expect("write");
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            web_dir: web.path().to_path_buf(),
            ..StackOptions::default()
        },
    )
    .await;

    let openapi = stack.get("/v1/openapi.json").await;
    assert_eq!(openapi.status(), 200);
    assert_eq!(header(&openapi, "x-cache"), "Miss from edge");
    let doc: Value = openapi.json().await.expect("JSON");
    assert!(doc["paths"]["/v1/images"].is_object());
    // API errors come through unchanged.
    let unauthorized = stack.get("/v1/images").await;
    assert_eq!(unauthorized.status(), 401);

    for route in ["/", "/images/abc"] {
        let page = stack.get(route).await;
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(header(&page, "cache-control"), "no-cache", "{route}");
        assert!(
            page.text()
                .await
                .expect("body")
                .contains("<title>app</title>")
        );
    }
    let asset = stack.get("/assets/app-1234.js").await;
    assert_eq!(asset.status(), 200);
    assert!(header(&asset, "cache-control").contains("immutable"));
    assert_eq!(stack.get("/assets/missing.js").await.status(), 404);
    assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
}

#[sqlx::test]
async fn purging_requires_the_token_and_cloudfront_paths(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let purge = |token: &'static str, body: &'static str| {
        stack
            .http
            .post(stack.url(imgedge::edge::PURGE_PATH))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        ("wrong", r#"{"paths":["/*"]}"#, 401),
        (PURGE_TOKEN, r#"{"paths":[]}"#, 400),
        (PURGE_TOKEN, r#"{"paths":["no-slash"]}"#, 400),
        (PURGE_TOKEN, r#"{"paths":["/i/*/x"]}"#, 400),
        (PURGE_TOKEN, "not json", 400),
        (PURGE_TOKEN, r#"{"paths":["/i/x/*"]}"#, 200),
    ];
    for (token, body, status) in cases {
        let response = purge(token, body).await.expect("request");
        assert_eq!(response.status(), status, "{token} {body}");
    }
    let get = stack.get(imgedge::edge::PURGE_PATH).await;
    assert_eq!(get.status(), 405);
}

/// A method a resource does not take is 405 with the `Allow` header that lists those it does.
#[sqlx::test]
async fn methods_not_taken_are_405_with_allow(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    for path in [
        "/i/00000000-0000-0000-0000-000000000000/x?width=10",
        "/",
        "/healthz",
    ] {
        for method in [
            reqwest::Method::POST,
            reqwest::Method::from_bytes(b"TRACE").expect("method"),
        ] {
            let response = stack
                .http
                .request(method.clone(), stack.url(path))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(header(&response, "allow"), "GET, HEAD", "{method} {path}");
        }
    }
}

/// Past the render pool and its queue, the transformer answers 503 with `Retry-After` rather
/// than queueing without bound; the edge does not keep that answer, and nothing partial is
/// stored.
#[sqlx::test]
async fn a_full_render_queue_answers_503(pool: PgPool) {
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            transformer: TransformerSettings {
                workers: 1,
                queue: 0,
                ..TransformerSettings::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    let mut paths = Vec::new();
    for quality in 60..68 {
        // AVIF: the slowest encoder, so that the renders overlap.
        let query = format!("quality={quality}&format=avif");
        paths.push(stack.mint(&token, id, &query).await);
    }
    let responses = futures::future::join_all(paths.iter().map(|p| stack.get(p))).await;
    let mut refused = 0;
    for (path, response) in paths.iter().zip(&responses) {
        match response.status().as_u16() {
            200 => {}
            503 => {
                refused += 1;
                assert!(header(response, "retry-after").parse::<u64>().is_ok());
                assert!(
                    stack
                        .store
                        .get(&variant_key(path))
                        .await
                        .expect("S3")
                        .is_none()
                );
            }
            other => panic!("{path}: unexpected {other}"),
        }
    }
    assert!(
        refused > 0,
        "one worker and no queue: concurrent renders are refused"
    );
    assert!(refused < paths.len(), "the admitted render completes");
    // Not cached: once the pool is free, the same URLs render.
    for path in &paths {
        assert_eq!(stack.get(path).await.status(), 200, "{path}");
    }
}

/// The edge is where clients enter: an `X-Forwarded-For` they send does not give them a fresh
/// per-address budget at the API.
#[sqlx::test]
async fn a_forged_forwarded_for_does_not_reset_per_address_limits(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    // All at once: the limit is checked before the password is hashed, so none of the
    // budget refills (one registration per 3 s) while a loaded machine hashes.
    let responses = futures::future::join_all((0..12).map(|i| {
        stack
            .http
            .post(stack.url("/v1/auth/register"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&serde_json::json!({
                "email": format!("user{i}@example.com"),
                "password": crate::api_support::PASSWORD,
            }))
            .send()
    }))
    .await;
    let mut statuses: Vec<u16> = responses
        .into_iter()
        .map(|response| response.expect("request").status().as_u16())
        .collect();
    statuses.sort_unstable();
    // The default registration burst per address is 10.
    assert_eq!(statuses[..10], [201; 10]);
    assert_eq!(statuses[10..], [429, 429]);
}

/// Two transformer processes missing on the same variant at once render it once: the one
/// holding the Redis lease renders, the other waits for the recorded object and returns it.
#[sqlx::test]
async fn two_transformers_render_a_variant_once(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let second = stack.another_transformer().await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    // AVIF at full size: a render long enough for the two requests to overlap.
    let path = stack
        .mint(&token, image["id"].as_str().expect("id"), "format=avif")
        .await;
    let ask = |base: String| {
        let request = stack
            .http
            .get(format!("{base}{path}"))
            .header("x-imgedge-origin-secret", ORIGIN_SECRET);
        async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 200);
            let timing = header(&response, "server-timing").to_owned();
            (timing, response.bytes().await.expect("body"))
        }
    };
    let ((first, a), (second, b)) = tokio::join!(ask(stack.transformer.clone()), ask(second));
    assert_eq!(a, b, "one variant");
    let rendered = [&first, &second]
        .iter()
        .filter(|t| t.contains("decode;dur="))
        .count();
    let waited = [&first, &second]
        .iter()
        .filter(|t| t.starts_with("wait;dur="))
        .count();
    assert_eq!((rendered, waited), (1, 1), "{first} | {second}");
    let image_id: uuid::Uuid = image["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(stack.db.variant_count(image_id).await.expect("count"), 1);
}

/// Every operation of the spec on every input format, unshrunk and slightly shrunk, through
/// the edge: each answers 200 with the variant the engine's own test expects (see
/// `operations.rs`). An unshrunk rotation or flip of a JPEG or PNG once answered 500.
#[sqlx::test]
async fn every_operation_on_every_format_renders_through_the_edge(pool: PgPool) {
    use crate::operations::{OPERATIONS, Size, check, input};
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            transformer: TransformerSettings {
                render_quota: imgedge::ratelimit::Quota::per_minute(1200, 1200),
                // No kept decodes: every render decodes its original sequentially, the path
                // that once failed.
                decoded_cache: imgedge::transformer::DecodedCacheSettings {
                    bytes: 0,
                    ..imgedge::transformer::DecodedCacheSettings::default()
                },
                ..TransformerSettings::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let token = stack.user("owner@example.com").await;
    let engine = crate::support::engine();
    let mut failures = Vec::new();
    for format in [
        "jpeg",
        "jpeg-oriented",
        "png",
        "webp",
        "avif",
        "gif",
        "heic",
    ] {
        let input = input(format);
        let image = stack.upload(&token, input.name, input.bytes.clone()).await;
        let id = image["id"].as_str().expect("id");
        for operation in OPERATIONS {
            for size in [Size::Unchanged, Size::SmallShrink] {
                let query = size.query(operation, &input);
                let response = stack.get(&stack.mint(&token, id, &query).await).await;
                let status = response.status();
                let body = response.bytes().await.expect("body");
                if status != 200 {
                    let text = String::from_utf8_lossy(&body);
                    failures.push(format!("{} {query}: {status} {text}", input.name));
                    continue;
                }
                let info = engine.inspect(&body).expect("the variant is an image");
                let out = imgedge_engine::Rendered {
                    bytes: body.to_vec(),
                    format: match info.format {
                        imgedge_engine::SourceFormat::Jpeg => imgedge_url::Format::Jpeg,
                        imgedge_engine::SourceFormat::Png => imgedge_url::Format::Png,
                        imgedge_engine::SourceFormat::Webp => imgedge_url::Format::Webp,
                        imgedge_engine::SourceFormat::Avif => imgedge_url::Format::Avif,
                        other => panic!("{query}: a variant in {other:?}"),
                    },
                    width: info.width,
                    height: info.height,
                    timings: imgedge_engine::Timings::default(),
                };
                check(&input, operation, size, &out);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `format=auto`: each accept class is its own cached answer and its own object
/// (`v/{id}/{sig}.{class}`), with `Vary: Accept`, and one variant under the cap.
#[sqlx::test]
async fn format_auto_answers_each_accept_class_with_its_format(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    let path = stack.mint(&token, id, "width=300&format=auto").await;
    assert!(path.ends_with("?width=300&format=auto"), "{path}");
    let client = reqwest::Client::new();
    let get = |accept: &'static str| {
        let request = client
            .get(stack.url(&path))
            .header("accept", accept)
            // A client's own class is replaced by the edge's.
            .header("x-imgedge-accept", "avif");
        async move { request.send().await.expect("the edge answers") }
    };
    for (accept, class, content_type) in [
        ("image/avif,image/webp,*/*;q=0.8", "avif", "image/avif"),
        ("image/webp,*/*", "webp", "image/webp"),
        ("*/*", "basic", "image/jpeg"),
    ] {
        let first = get(accept).await;
        assert_eq!(first.status(), 200, "{accept}");
        assert_eq!(header(&first, "content-type"), content_type, "{accept}");
        assert_eq!(header(&first, "vary"), "Accept", "{accept}");
        assert_eq!(header(&first, "x-cache"), "Miss from edge", "{accept}");
        let bytes = first.bytes().await.expect("body");
        let stored = stored_variant(&stack, &format!("{}.{class}", variant_key(&path))).await;
        assert_eq!(stored.bytes, bytes, "{accept}");
        let again = get(accept).await;
        assert_eq!(header(&again, "x-cache"), "Hit from edge", "{accept}");
        assert_eq!(header(&again, "content-type"), content_type, "{accept}");
        assert_eq!(again.bytes().await.expect("body"), bytes, "{accept}");
    }
    let decoded = image::load_from_memory(&get("*/*").await.bytes().await.expect("body"))
        .expect("a decodable JPEG");
    assert_eq!(decoded.width(), 300);
    let image_id: uuid::Uuid = id.parse().expect("uuid");
    assert_eq!(stack.db.variant_count(image_id).await.expect("count"), 1);

    // After the edge forgets, S3 answers each class with its own object.
    stack.purge_all().await;
    let from_s3 = get("image/webp").await;
    assert_eq!(header(&from_s3, "x-edge-origin"), "s3");
    assert_eq!(header(&from_s3, "content-type"), "image/webp");
    assert_eq!(header(&from_s3, "vary"), "Accept");
}

/// Spec 1.1's key rotation: after `POST /v1/images/{id}/rotate-key` every URL signed with
/// the old key is refused (403) wherever it was cached or stored, and URLs minted with the
/// new key (the next epoch's) render.
#[sqlx::test]
async fn a_rotated_key_stops_every_old_url_and_signs_new_ones(pool: PgPool) {
    let stack = Stack::spawn(pool.clone()).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "dark.jpg", photo("dark.jpg")).await;
    let id = image["id"].as_str().expect("id").to_owned();
    assert_eq!(image["key_epoch"], 0);
    let old = stack.mint(&token, &id, "width=120").await;
    assert_eq!(stack.get(&old).await.status(), 200);
    stored_variant(&stack, &variant_key(&old)).await;
    // An object stored under the old key without its row, as a render in flight at the
    // rotation leaves it: the rotation's sweep removes it too.
    let late = format!("v/{id}/AAAAAAAAAAAAAAAAAAAAAA.avif");
    stack
        .store
        .put_variant(
            &late,
            bytes::Bytes::from_static(b"late"),
            "image/avif",
            "public, max-age=31536000, immutable",
            "width=120&format=auto",
        )
        .await
        .expect("S3 takes it");

    let rotated = stack
        .http
        .post(stack.url(&format!("/v1/images/{id}/rotate-key")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.expect("metadata");
    assert_eq!(rotated["key_epoch"], 1);
    assert_ne!(rotated["url_key"], image["url_key"]);
    // The key is the spec's for epoch 1, as `imgedge url --key-epoch 1` derives it.
    let image_id: imgedge_url::ImageId = id.parse().expect("id");
    let epoch_1 =
        imgedge_url::UrlKey::derive_at(&stack.url_secret, &image_id, imgedge_url::KeyEpoch(1));
    assert_eq!(rotated["url_key"], epoch_1.to_hex());

    // The old URL: purged from the edge (the purge is sent after the answer: poll), gone
    // from S3, refused by the transformer.
    let mut refused = None;
    for _ in 0..50 {
        let response = stack.get(&old).await;
        if response.status() == 403 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = refused.expect("the old URL answers 403 after the rotation");
    let body: Value = refused.json().await.expect("JSON error");
    assert_eq!(body["error"], "bad_signature");
    // The second sweep, for renders in flight at the rotation, is owed for later.
    let owed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM purge_outbox WHERE sweep_image = $1 AND next_attempt_at > now()",
    )
    .bind(*image_id.as_uuid())
    .fetch_one(&pool)
    .await
    .expect("outbox");
    assert_eq!(owed, 1);
    assert!(
        stack
            .store
            .list_keys(&format!("v/{id}/"))
            .await
            .expect("list")
            .is_empty()
    );

    // The same transform minted now is signed with the new key, and renders.
    let new = stack.mint(&token, &id, "width=120").await;
    assert_ne!(new, old);
    assert_eq!(stack.get(&new).await.status(), 200);
    let fetched = stack
        .http
        .get(stack.url(&format!("/v1/images/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    let fetched: Value = fetched.json().await.expect("metadata");
    assert_eq!(fetched["url_key"], rotated["url_key"]);
}
