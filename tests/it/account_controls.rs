//! What an account's owner controls, through the real stack: API keys (scoped, listed with
//! their last use, revoked at once), a password change and a sign-out everywhere (every
//! session ended), and the account's deletion with everything it stored.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::api_support::PASSWORD;
use crate::delivery_support::Stack;
use crate::support::photo;

async fn sign_in(stack: &Stack, email: &str, password: &str) -> reqwest::Response {
    stack
        .http
        .post(stack.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request")
}

async fn session(stack: &Stack, email: &str) -> Value {
    let response = sign_in(stack, email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

fn access(session: &Value) -> String {
    session["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn refresh(stack: &Stack, session: &Value) -> u16 {
    stack
        .http
        .post(stack.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[sqlx::test]
async fn api_keys_are_scoped_listed_and_revoked_at_once(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let image = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let id = image["id"].as_str().expect("id");

    let create = |name: &'static str, scope: &'static str| {
        let stack = &stack;
        let token = &token;
        async move {
            let response = stack
                .send(
                    Method::POST,
                    "/v1/api-keys",
                    token,
                    Some(json!({"name": name, "scope": scope, "password": PASSWORD})),
                )
                .await;
            assert_eq!(response.status(), 201);
            let key: Value = response.json().await.expect("JSON");
            assert!(key["secret"].as_str().expect("secret").starts_with("ik_"));
            key
        }
    };
    let guessed = stack
        .send(
            Method::POST,
            "/v1/api-keys",
            &token,
            Some(json!({"name": "x", "scope": "write", "password": "not the password"})),
        )
        .await;
    assert_eq!(
        code(guessed).await,
        (401, "invalid_credentials".to_owned()),
        "a token alone makes no key"
    );
    let reader = create("dashboard", "read").await;
    let writer = create("build server", "write").await;
    let read_secret = reader["secret"].as_str().expect("secret");
    let write_secret = writer["secret"].as_str().expect("secret");

    // A read key reads and mints; it cannot write.
    assert_eq!(
        stack
            .send(Method::GET, "/v1/images", read_secret, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        stack
            .send(
                Method::GET,
                &format!("/v1/images/{id}/url?width=10"),
                read_secret,
                None
            )
            .await
            .status(),
        200
    );
    for response in [
        stack
            .send(
                Method::PATCH,
                &format!("/v1/images/{id}"),
                read_secret,
                Some(json!({"alt": "x"})),
            )
            .await,
        stack
            .send(
                Method::DELETE,
                &format!("/v1/images/{id}"),
                read_secret,
                None,
            )
            .await,
        stack
            .send(
                Method::PUT,
                "/v1/presets/p",
                read_secret,
                Some(json!({"query": "width=1"})),
            )
            .await,
        stack
            .http
            .post(stack.url("/v1/images"))
            .bearer_auth(read_secret)
            .header("content-type", "image/jpeg")
            .body(photo("light.jpg"))
            .send()
            .await
            .expect("request"),
    ] {
        assert_eq!(code(response).await, (403, "insufficient_scope".to_owned()));
    }
    // A write key writes; no key manages the account.
    let uploaded = stack
        .http
        .post(stack.url("/v1/images"))
        .bearer_auth(write_secret)
        .header("content-type", "image/jpeg")
        .body(photo("light.jpg"))
        .send()
        .await
        .expect("request");
    assert_eq!(uploaded.status(), 201);
    for response in [
        stack
            .send(
                Method::POST,
                "/v1/api-keys",
                write_secret,
                Some(json!({"name": "n", "scope": "write"})),
            )
            .await,
        stack
            .send(Method::GET, "/v1/api-keys", write_secret, None)
            .await,
        stack
            .send(Method::DELETE, "/v1/me/sessions", write_secret, None)
            .await,
    ] {
        assert_eq!(code(response).await, (403, "insufficient_scope".to_owned()));
    }
    assert_eq!(
        stack
            .send(Method::GET, "/v1/images", "ik_not-a-key", None)
            .await
            .status(),
        401
    );

    let listed = stack.send(Method::GET, "/v1/api-keys", &token, None).await;
    let body = listed.text().await.expect("text");
    assert!(
        !body.contains(read_secret) && !body.contains(write_secret),
        "no secret is listed"
    );
    let list: Value = serde_json::from_str(&body).expect("JSON");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|k| k["last_used_at"].is_string()),
        "both were used: {list}"
    );

    // Revoked: refused on its very next request.
    let reader_id = reader["id"].as_str().expect("id");
    let other = stack.user("other@example.com").await;
    assert_eq!(
        stack
            .send(
                Method::DELETE,
                &format!("/v1/api-keys/{reader_id}"),
                &other,
                None
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        stack
            .send(Method::GET, "/v1/images", read_secret, None)
            .await
            .status(),
        200,
        "another user revokes nothing"
    );
    assert_eq!(
        stack
            .send(
                Method::DELETE,
                &format!("/v1/api-keys/{reader_id}"),
                &token,
                None
            )
            .await
            .status(),
        204
    );
    assert_eq!(
        code(
            stack
                .send(Method::GET, "/v1/images", read_secret, None)
                .await
        )
        .await,
        (401, "unauthorized".to_owned())
    );
    assert_eq!(
        stack
            .send(Method::GET, "/v1/images", write_secret, None)
            .await
            .status(),
        200
    );
}

#[sqlx::test]
async fn a_password_change_and_a_sign_out_everywhere_end_every_session(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    stack.user("owner@example.com").await;
    let here = session(&stack, "owner@example.com").await;
    let there = session(&stack, "owner@example.com").await;
    let new_password = "a much better passphrase";

    let wrong = stack
        .send(
            Method::POST,
            "/v1/me/password",
            &access(&here),
            Some(json!({"current_password": "not it at all", "new_password": new_password})),
        )
        .await;
    assert_eq!(code(wrong).await, (401, "invalid_credentials".to_owned()));
    let changed = stack
        .send(
            Method::POST,
            "/v1/me/password",
            &access(&here),
            Some(json!({"current_password": PASSWORD, "new_password": new_password})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let fresh: Value = changed.json().await.expect("the caller's new session");
    for old in [&here, &there] {
        assert_eq!(
            stack
                .send(Method::GET, "/v1/me", &access(old), None)
                .await
                .status(),
            401
        );
        assert_eq!(refresh(&stack, old).await, 401);
    }
    assert_eq!(
        stack
            .send(Method::GET, "/v1/me", &access(&fresh), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        sign_in(&stack, "owner@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    let later = sign_in(&stack, "owner@example.com", new_password).await;
    assert_eq!(later.status(), 200);
    let later: Value = later.json().await.expect("JSON");

    // Signing out everywhere ends this session and every other.
    let ended = stack
        .send(Method::DELETE, "/v1/me/sessions", &access(&later), None)
        .await;
    assert_eq!(ended.status(), 204);
    for old in [&fresh, &later] {
        assert_eq!(
            stack
                .send(Method::GET, "/v1/me", &access(old), None)
                .await
                .status(),
            401
        );
        assert_eq!(refresh(&stack, old).await, 401);
    }
    assert_eq!(
        sign_in(&stack, "owner@example.com", new_password)
            .await
            .status(),
        200
    );
}

#[sqlx::test]
async fn deleting_an_account_removes_everything_it_stored(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    let token = stack.user("owner@example.com").await;
    let keep = stack.user("neighbour@example.com").await;
    let mine = stack.upload(&token, "light.jpg", photo("light.jpg")).await;
    let theirs = stack.upload(&keep, "dark.jpg", photo("dark.jpg")).await;
    let id = mine["id"].as_str().expect("id");
    let path = stack.mint(&token, id, "width=50").await;
    assert_eq!(stack.get(&path).await.status(), 200);
    let key: Value = stack
        .send(
            Method::POST,
            "/v1/api-keys",
            &token,
            Some(json!({"name": "k", "scope": "read", "password": PASSWORD})),
        )
        .await
        .json()
        .await
        .expect("JSON");

    let refused = stack
        .send(
            Method::DELETE,
            "/v1/me",
            &token,
            Some(json!({"password": "not the password"})),
        )
        .await;
    assert_eq!(code(refused).await, (401, "invalid_credentials".to_owned()));
    let deleted = stack
        .send(
            Method::DELETE,
            "/v1/me",
            &token,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status(), 204);

    assert_eq!(
        stack
            .send(Method::GET, "/v1/me", &token, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        stack
            .send(
                Method::GET,
                "/v1/images",
                key["secret"].as_str().expect("secret"),
                None
            )
            .await
            .status(),
        401
    );
    assert_eq!(
        sign_in(&stack, "owner@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    // Its objects leave S3 and the CDN through the outbox, within moments.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = stack.store.list_keys(&format!("o/{id}")).await.expect("S3");
        left.extend(
            stack
                .store
                .list_keys(&format!("v/{id}/"))
                .await
                .expect("S3"),
        );
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "objects left: {left:?}");
    let gone = stack.get(&path).await;
    assert!(
        matches!(gone.status().as_u16(), 403 | 404),
        "{}",
        gone.status()
    );
    // The neighbour keeps everything; the email can sign up again.
    let theirs_id = theirs["id"].as_str().expect("id");
    assert_eq!(
        stack
            .send(Method::GET, &format!("/v1/images/{theirs_id}"), &keep, None)
            .await
            .status(),
        200
    );
    assert!(
        !stack
            .store
            .list_keys(&format!("o/{theirs_id}"))
            .await
            .expect("S3")
            .is_empty()
    );
    stack.user("owner@example.com").await;
}
