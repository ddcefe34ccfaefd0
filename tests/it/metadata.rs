//! The metadata API of [L] through the real stack: edits as merge patches with `ETag` and
//! `If-Match`, the focal point in minted URLs, search, and placeholders (at upload and by
//! `imgedge backfill`). Another user's ids answer like missing ones and change nothing.

use imgedge_engine::{Engine, EngineConfig};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::delivery_support::{Stack, header};
use crate::support::photo;

async fn patch(
    stack: &Stack,
    token: &str,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = stack
        .http
        .patch(stack.url(&format!("/v1/images/{id}")))
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    request.send().await.expect("request")
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON error");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[sqlx::test]
async fn edits_are_merge_patches_guarded_by_etags(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let id = image["id"].as_str().expect("id");
    let path = format!("/v1/images/{id}");

    let read = stack.send(Method::GET, &path, &token, None).await;
    assert_eq!(read.status(), 200);
    let etag = header(&read, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "a strong ETag: {etag}"
    );
    // The same document, the same ETag; a client that holds it gets 304.
    let again = stack
        .http
        .get(stack.url(&path))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);

    let edited = patch(
        &stack,
        &token,
        id,
        json!({"alt": "A light room", "title": "Morning", "tags": ["Interior", "light", "light"],
               "metadata": {"source": "camera", "n": 1}, "focus": {"x": 0.25, "y": 0.4}}),
        Some(&etag),
    )
    .await;
    assert_eq!(edited.status(), 200);
    let new_etag = header(&edited, "etag").to_owned();
    assert_ne!(new_etag, etag, "an edit changes the ETag");
    let doc: Value = edited.json().await.expect("JSON");
    assert_eq!(doc["alt"], "A light room");
    assert_eq!(doc["title"], "Morning");
    assert_eq!(doc["tags"], json!(["interior", "light"]));
    assert_eq!(doc["metadata"], json!({"source": "camera", "n": 1}));
    assert_eq!(doc["focus"], json!({"x": 0.25, "y": 0.4}));

    // A merge patch: what it does not name stays; null removes; nested objects merge.
    let merged = patch(
        &stack,
        &token,
        id,
        json!({"title": null, "metadata": {"n": null, "k": [1]}}),
        None,
    )
    .await;
    assert_eq!(merged.status(), 200);
    let doc: Value = merged.json().await.expect("JSON");
    assert_eq!(doc["title"], Value::Null);
    assert_eq!(doc["alt"], "A light room");
    assert_eq!(doc["metadata"], json!({"source": "camera", "k": [1]}));

    // The old ETag no longer matches: neither an edit nor a delete happens.
    let (status, code) = error_code(
        patch(
            &stack,
            &token,
            id,
            json!({"alt": "lost update"}),
            Some(&new_etag),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (412, "precondition_failed"));
    let stale_delete = stack
        .http
        .delete(stack.url(&path))
        .bearer_auth(&token)
        .header("if-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(stale_delete).await,
        (412, "precondition_failed".to_owned())
    );
    let now = stack.send(Method::GET, &path, &token, None).await;
    let doc: Value = now.json().await.expect("JSON");
    assert_eq!(
        doc["alt"], "A light room",
        "the refused edit changed nothing"
    );

    // A merge patch merges into the focus too.
    let moved = patch(&stack, &token, id, json!({"focus": {"x": 0.5}}), None).await;
    let doc: Value = moved.json().await.expect("JSON");
    assert_eq!(doc["focus"], json!({"x": 0.5, "y": 0.4}));
    let current = patch(&stack, &token, id, json!({"focus": {"x": 0.25}}), None).await;
    let current = header(&current, "etag").to_owned();

    // Fields outside their rules, unknown fields, non-JSON.
    for bad in [
        json!({"alt": "x".repeat(1001)}),
        json!({"title": "t".repeat(201)}),
        json!({"tags": ["no spaces"]}),
        json!({"tags": (0..33).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
        json!({"metadata": {"big": "v".repeat(9000)}}),
        json!({"metadata": [1, 2]}),
        json!({"focus": {"x": 1.5, "y": 0}}),
        json!({"focus": {"x": "left"}}),
        json!({"owner": "me"}),
    ] {
        let (status, code) = error_code(patch(&stack, &token, id, bad.clone(), None).await).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(code, "invalid_field", "{bad}");
    }
    let not_json = stack
        .http
        .patch(stack.url(&path))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("alt=x")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 415);

    // Another user: exactly like a missing image, and nothing changes.
    let other = stack.user("other@example.com").await;
    for response in [
        patch(&stack, &other, id, json!({"alt": "mine now"}), None).await,
        patch(
            &stack,
            &other,
            id,
            json!({"alt": "mine now"}),
            Some(&current),
        )
        .await,
        patch(
            &stack,
            &other,
            &uuid::Uuid::new_v4().to_string(),
            json!({"alt": "x"}),
            None,
        )
        .await,
    ] {
        assert_eq!(error_code(response).await, (404, "not_found".to_owned()));
    }
    let unchanged = stack.send(Method::GET, &path, &token, None).await;
    assert_eq!(header(&unchanged, "etag"), current);

    // With the current ETag, a delete happens.
    let deleted = stack
        .http
        .delete(stack.url(&path))
        .bearer_auth(&token)
        .header("if-match", &current)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        stack.send(Method::GET, &path, &token, None).await.status(),
        404
    );
}

#[sqlx::test]
async fn the_focal_point_enters_minted_cover_urls_that_name_no_gravity(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack
        .upload(&token, "subject.jpg", photo("subject.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    assert_eq!(
        patch(
            &stack,
            &token,
            id,
            json!({"focus": {"x": 0.3, "y": 0.7}}),
            None
        )
        .await
        .status(),
        200
    );
    let minted = |query: &'static str| {
        let stack = &stack;
        let token = &token;
        async move {
            let response = stack
                .send(
                    Method::GET,
                    &format!("/v1/images/{id}/url?{query}"),
                    token,
                    None,
                )
                .await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("JSON");
            body["canonical_query"].as_str().expect("query").to_owned()
        }
    };
    assert_eq!(
        minted("width=300&height=200").await,
        "width=300&height=200&gravity=0.3,0.7"
    );
    assert_eq!(
        minted("width=300&height=200&gravity=north").await,
        "width=300&height=200&gravity=north"
    );
    assert_eq!(
        minted("width=300&height=200&fit=contain").await,
        "width=300&height=200&fit=contain"
    );
    assert_eq!(minted("width=300").await, "width=300");
    // The URL it gives renders, and keeps the focal point's window.
    let path = stack.mint(&token, id, "width=300&height=200").await;
    assert!(path.contains("gravity=0.3,0.7"), "{path}");
    assert_eq!(stack.get(&path).await.status(), 200);
    // Presets take it too: one intent, one URL.
    let preset = stack
        .send(
            Method::PUT,
            "/v1/presets/card",
            &token,
            Some(json!({"query": "width=300&height=200"})),
        )
        .await;
    assert_eq!(preset.status(), 201);
    let doc: Value = stack
        .send(Method::GET, &format!("/v1/images/{id}"), &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    let card = doc["presets"]["card"]["url"].as_str().expect("preset url");
    assert!(card.ends_with(&path), "{card} is the minted {path}");
}

#[sqlx::test]
async fn search_filters_return_exactly_the_matching_images(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    // Four images, oldest first: (file, format, title, alt, tags).
    let cases = [
        (
            "beach-day.jpg",
            "light.jpg",
            Some("Sunset over the bay"),
            None,
            vec!["travel", "sea"],
        ),
        (
            "kitchen.png",
            "png",
            None,
            Some("A bright kitchen"),
            vec!["home"],
        ),
        (
            "harbour.jpg",
            "dark.jpg",
            Some("Night harbour"),
            Some("boats at night"),
            vec!["travel", "night"],
        ),
        ("portrait.jpg", "subject.jpg", None, None, vec![]),
    ];
    let mut ids = Vec::new();
    for (name, source, title, alt, tags) in &cases {
        let bytes = if *source == "png" {
            let mut png = Vec::new();
            image::RgbImage::from_pixel(40, 30, image::Rgb([200, 40, 40]))
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .expect("png");
            png
        } else {
            photo(source)
        };
        let image = stack.upload(&token, name, bytes).await;
        let id = image["id"].as_str().expect("id").to_owned();
        let edited = patch(
            &stack,
            &token,
            &id,
            json!({"title": title, "alt": alt, "tags": tags}),
            None,
        )
        .await;
        assert_eq!(edited.status(), 200);
        ids.push((
            id,
            image["created_at"].as_str().expect("created_at").to_owned(),
        ));
    }
    let other = stack.user("other@example.com").await;
    let theirs = stack.upload(&other, "beach.jpg", photo("light.jpg")).await;
    assert_eq!(
        patch(
            &stack,
            &other,
            theirs["id"].as_str().expect("id"),
            json!({"tags": ["travel"]}),
            None
        )
        .await
        .status(),
        200
    );

    let list = |query: String| {
        let stack = &stack;
        let token = &token;
        async move {
            let response = stack
                .send(Method::GET, &format!("/v1/images?{query}"), token, None)
                .await;
            assert_eq!(response.status(), 200, "{query}");
            let page: Value = response.json().await.expect("JSON");
            let found: Vec<String> = page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_owned())
                .collect();
            (found, page["next_cursor"].as_str().map(str::to_owned))
        }
    };
    let id = |i: usize| ids[i].0.clone();
    assert_eq!(list("tag=travel".into()).await.0, [id(2), id(0)]);
    assert_eq!(list("tag=travel&tag=night".into()).await.0, [id(2)]);
    assert_eq!(
        list("tag=TRAVEL&tag=home".into()).await.0,
        Vec::<String>::new()
    );
    assert_eq!(list("format=png".into()).await.0, [id(1)]);
    assert_eq!(
        list("q=sunset".into()).await.0,
        [id(0)],
        "a word of the title"
    );
    assert_eq!(
        list("q=Kitchen".into()).await.0,
        [id(1)],
        "of the alt text, any case"
    );
    assert_eq!(list("q=harbour+night".into()).await.0, [id(2)], "all words");
    assert_eq!(
        list("q=portrait".into()).await.0,
        [id(3)],
        "of the file name"
    );
    assert_eq!(
        list("q=portrait.jpg".into()).await.0,
        [id(3)],
        "a file name, split as the stored one is"
    );
    assert_eq!(
        list("q=beach".into()).await.0,
        [id(0)],
        "never another user's"
    );
    assert_eq!(
        list("sort=oldest".into()).await.0,
        [id(0), id(1), id(2), id(3)]
    );
    let after = urlencode(&ids[1].1);
    assert_eq!(
        list(format!("created_after={after}")).await.0,
        [id(3), id(2)]
    );
    assert_eq!(
        list(format!("created_before={after}&sort=oldest")).await.0,
        [id(0)]
    );
    assert_eq!(
        list(format!("created_after={after}&tag=travel")).await.0,
        [id(2)]
    );
    // Pages of a filtered listing follow its order and filters.
    let (first, cursor) = list("sort=oldest&limit=3".into()).await;
    assert_eq!(first, [id(0), id(1), id(2)]);
    let (rest, end) = list(format!(
        "sort=oldest&limit=3&cursor={}",
        cursor.expect("cursor")
    ))
    .await;
    assert_eq!((rest, end), (vec![id(3)], None));
    let (one, cursor) = list("tag=travel&limit=1".into()).await;
    assert_eq!(one, [id(2)]);
    assert_eq!(
        list(format!(
            "tag=travel&limit=1&cursor={}",
            cursor.expect("cursor")
        ))
        .await
        .0,
        [id(0)]
    );

    for bad in [
        "tag=no%20spaces",
        "format=svg",
        "created_after=yesterday",
        "sort=random",
        "q=a%00b",
    ] {
        let response = stack
            .send(Method::GET, &format!("/v1/images?{bad}"), &token, None)
            .await;
        assert_eq!(
            error_code(response).await,
            (400, "bad_filter".to_owned()),
            "{bad}"
        );
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

/// The photo's pixels: decoded by the `image` crate, independent of libvips (HEIC, which it
/// cannot read, through libheif's decode in the engine).
fn original_rgba(name: &str) -> image::RgbaImage {
    if std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e == "heic")
    {
        let small = Engine::new(EngineConfig::default())
            .expect("libvips")
            .small_rgba(&photo(name))
            .expect("small");
        return image::RgbaImage::from_raw(small.width, small.height, small.pixels)
            .expect("pixels");
    }
    image::load_from_memory(&photo(name))
        .expect("decodes")
        .to_rgba8()
}

/// The mean colour of an image's pixels.
fn mean_rgb(img: &image::RgbaImage) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for p in img.pixels() {
        for c in 0..3 {
            sum[c] += f64::from(p[c]);
        }
    }
    let n = f64::from(img.width() * img.height());
    sum.map(|s| s / n)
}

#[sqlx::test]
async fn placeholders_look_like_their_image_and_are_backfilled(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    for name in ["light.jpg", "dark.jpg", "subject.jpg", "detail.heic"] {
        let image = stack.upload(&token, name, photo(name)).await;
        let hash = image["thumbhash"].as_str().expect("a ThumbHash at upload");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, hash)
            .expect("base64");
        let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&bytes).expect("a ThumbHash decodes");
        let decoded = image::RgbaImage::from_raw(w as u32, h as u32, rgba).expect("pixels");
        let original = original_rgba(name);
        let (a, b) = (mean_rgb(&decoded), mean_rgb(&original));
        let distance = (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max);
        assert!(
            distance < 16.0,
            "{name}: ThumbHash mean {a:?} vs the image's {b:?}"
        );
        let ratio = image["aspect_ratio"].as_f64().expect("aspect_ratio");
        let expected = image["width"].as_f64().expect("w") / image["height"].as_f64().expect("h");
        assert!((ratio - expected).abs() < 1e-9);
        // The dominant colour is one the image has (within the quantisation's step).
        let colour = image["dominant_color"].as_str().expect("dominant_color");
        assert!(colour.len() == 7 && colour.starts_with('#'), "{colour}");
        let rgb: Vec<i32> = (0..3)
            .map(|i| i32::from_str_radix(&colour[1 + 2 * i..3 + 2 * i], 16).expect("hex"))
            .collect();
        let near = original
            .pixels()
            .filter(|p| (0..3).all(|c| (i32::from(p[c]) - rgb[c]).abs() <= 16))
            .count();
        assert!(
            near * 20 >= (original.width() * original.height()) as usize,
            "{name}: {colour} covers at least 5 % of the image ({near} pixels)"
        );
    }

    // An image from before placeholders: `imgedge backfill` fills it from its original.
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id: uuid::Uuid = image["id"].as_str().expect("id").parse().expect("uuid");
    sqlx::query("UPDATE images SET thumbhash = NULL, dominant_color = NULL WHERE id = $1")
        .bind(id)
        .execute(&stack.pool)
        .await
        .expect("cleared");
    let engine = Engine::new(EngineConfig::default()).expect("libvips");
    let report = imgedge::backfill::backfill(&stack.db, &stack.store, &engine)
        .await
        .expect("backfill");
    assert_eq!(report.filled, 1);
    assert!(report.skipped.is_empty());
    let again = imgedge::backfill::backfill(&stack.db, &stack.store, &engine)
        .await
        .expect("backfill");
    assert_eq!(again.filled, 0, "a second run has nothing to do");
    let row = stack
        .db
        .image_any_owner(id)
        .await
        .expect("db")
        .expect("row");
    assert_eq!(
        row.thumbhash
            .as_deref()
            .map(|h| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, h))
            .as_deref(),
        image["thumbhash"].as_str(),
        "the same placeholder as at upload"
    );
}
