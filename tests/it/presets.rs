//! Presets through the real stack: named transforms with their URL in every image's
//! metadata, and eager ones rendered ahead after an upload through the job queue, so that
//! the first view is answered from S3; the queue survives a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::delivery_support::{Stack, StackOptions, header};
use crate::support::photo;

/// The image's metadata once every eager preset has left `pending` (at most 30 s).
async fn settled(stack: &Stack, token: &str, id: &str) -> Value {
    let mut doc = Value::Null;
    for _ in 0..300 {
        doc = stack
            .send(Method::GET, &format!("/v1/images/{id}"), token, None)
            .await
            .json()
            .await
            .expect("JSON");
        let pending = doc["presets"]
            .as_object()
            .expect("presets")
            .values()
            .any(|p| p["state"] == "pending");
        if !pending {
            return doc;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("renders ahead still pending after 30 s: {doc}");
}

#[sqlx::test]
async fn presets_are_named_transforms_and_eager_ones_render_ahead(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;

    let created = stack
        .send(
            Method::PUT,
            "/v1/presets/card",
            &token,
            Some(json!({"query": "format=auto&width=0640", "eager": true})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let preset: Value = created.json().await.expect("JSON");
    assert_eq!(preset["query"], "width=640&format=auto", "stored canonical");
    let thumb = stack
        .send(
            Method::PUT,
            "/v1/presets/thumb",
            &token,
            Some(json!({"query": "width=120&height=120", "eager": true})),
        )
        .await;
    assert_eq!(thumb.status(), 201);
    let lazy = stack
        .send(
            Method::PUT,
            "/v1/presets/hero",
            &token,
            Some(json!({"query": "width=1600"})),
        )
        .await;
    assert_eq!(lazy.status(), 201);
    let replaced = stack
        .send(
            Method::PUT,
            "/v1/presets/hero",
            &token,
            Some(json!({"query": "width=1400"})),
        )
        .await;
    assert_eq!(replaced.status(), 200);
    for (path, body, code) in [
        (
            "/v1/presets/Bad%20Name",
            json!({"query": "width=1"}),
            "invalid_field",
        ),
        (
            "/v1/presets/ok",
            json!({"query": "width=0"}),
            "out_of_range",
        ),
        (
            "/v1/presets/ok",
            json!({"query": "width=1", "extra": 1}),
            "bad_json",
        ),
    ] {
        let response = stack.send(Method::PUT, path, &token, Some(body)).await;
        assert_eq!(response.status(), 400, "{path}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], code, "{path}");
    }
    let listed: Value = stack
        .send(Method::GET, "/v1/presets", &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["card", "hero", "thumb"]);

    // An upload: its eager presets render in the background and become ready.
    let image = stack
        .upload(&token, "detail.jpg", photo("detail.jpg"))
        .await;
    let id = image["id"].as_str().expect("id");
    assert_eq!(
        image["presets"]["hero"]["state"],
        Value::Null,
        "lazy presets have no state"
    );
    let doc = settled(&stack, &token, id).await;
    assert_eq!(doc["presets"]["card"]["state"], "ready", "{doc}");
    assert_eq!(doc["presets"]["thumb"]["state"], "ready", "{doc}");
    let keys = stack
        .store
        .list_keys(&format!("v/{id}/"))
        .await
        .expect("S3");
    assert_eq!(
        keys.len(),
        4,
        "three classes of the auto preset and the thumb: {keys:?}"
    );

    // The first view of each is answered from S3 (the edge forgets what the jobs fetched).
    stack.purge_all().await;
    for (preset, accept, format) in [
        ("card", "image/avif,image/webp,*/*", "image/avif"),
        ("card", "image/webp,*/*", "image/webp"),
        ("card", "image/jpeg", "image/jpeg"),
        ("thumb", "*/*", "image/jpeg"),
    ] {
        let url = doc["presets"][preset]["url"].as_str().expect("url");
        let response = stack
            .http
            .get(url)
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{preset} {accept}");
        assert_eq!(
            header(&response, "x-edge-origin"),
            "s3",
            "{preset} {accept}: no render on the first view"
        );
        assert_eq!(header(&response, "content-type"), format);
    }

    // Deleting a preset drops it from the metadata.
    assert_eq!(
        stack
            .send(Method::DELETE, "/v1/presets/thumb", &token, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        stack
            .send(Method::DELETE, "/v1/presets/thumb", &token, None)
            .await
            .status(),
        404
    );
    let doc: Value = stack
        .send(Method::GET, &format!("/v1/images/{id}"), &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(doc["presets"]["thumb"].is_null());
    // Another user has no presets of this one's.
    let other = stack.user("other@example.com").await;
    let theirs: Value = stack
        .send(Method::GET, "/v1/presets", &other, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(
        stack
            .send(Method::DELETE, "/v1/presets/card", &other, None)
            .await
            .status(),
        404
    );
}

#[sqlx::test]
async fn render_jobs_survive_a_restart(pool: PgPool) {
    // The first stack owes the job and stops before it runs.
    let s3 = tempfile::tempdir().expect("temp dir");
    let options = || StackOptions {
        s3_dir: Some(s3.path().to_path_buf()),
        ..StackOptions::default()
    };
    let image_id;
    let token;
    {
        let stack = Stack::spawn_with(pool.clone(), options()).await;
        token = stack.user("owner@example.com").await;
        assert_eq!(
            stack
                .send(
                    Method::PUT,
                    "/v1/presets/card",
                    &token,
                    Some(json!({"query": "width=300", "eager": true}))
                )
                .await
                .status(),
            201
        );
        // Held back: the job row is owed by the upload's transaction, then the stack stops
        // before the worker could take it.
        sqlx::query("CREATE OR REPLACE FUNCTION hold_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.next_attempt_at := now() + interval '1 hour'; RETURN NEW; END $$")
            .execute(&pool).await.expect("function");
        sqlx::query("CREATE TRIGGER hold_jobs BEFORE INSERT ON render_jobs FOR EACH ROW EXECUTE FUNCTION hold_jobs()")
            .execute(&pool).await.expect("trigger");
        let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
        image_id = image["id"].as_str().expect("id").to_owned();
        assert_eq!(image["presets"]["card"]["state"], "pending");
    }
    sqlx::query("DROP TRIGGER hold_jobs ON render_jobs")
        .execute(&pool)
        .await
        .expect("drop");
    sqlx::query("UPDATE render_jobs SET next_attempt_at = now()")
        .execute(&pool)
        .await
        .expect("due");
    // A new stack on the same database and bucket (a restart) finds the job and renders it.
    let stack = Stack::spawn_with(pool, options()).await;
    let token = {
        let session: Value = stack
            .http
            .post(stack.url("/v1/auth/login"))
            .json(&json!({"email": "owner@example.com", "password": crate::api_support::PASSWORD}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("JSON");
        drop(token);
        session["access_token"].as_str().expect("token").to_owned()
    };
    let doc = settled(&stack, &token, &image_id).await;
    assert_eq!(doc["presets"]["card"]["state"], "ready", "{doc}");
    let url = doc["presets"]["card"]["url"].as_str().expect("url");
    stack.purge_all().await;
    let response = stack.http.get(url).send().await.expect("request");
    assert_eq!(header(&response, "x-edge-origin"), "s3");
}
