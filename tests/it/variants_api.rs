//! An image's variants as resources, through the real stack: listed with their objects,
//! deleted one at a time (objects, row and CDN copy; its place under the cap freed), and
//! counted in the account's usage.

use std::time::Duration;

use imgedge::transformer::TransformerSettings;
use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::delivery_support::{Stack, StackOptions, header};
use crate::support::photo;

/// The S3 keys under `v/{id}/`, once the PUTs that follow the answers have landed.
async fn variant_objects(stack: &Stack, id: &str, expected: usize) -> Vec<String> {
    for _ in 0..100 {
        let keys = stack
            .store
            .list_keys(&format!("v/{id}/"))
            .await
            .expect("S3");
        if keys.len() == expected {
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    stack
        .store
        .list_keys(&format!("v/{id}/"))
        .await
        .expect("S3")
}

#[sqlx::test]
async fn variants_are_listed_deleted_and_their_places_freed(pool: PgPool) {
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
    let plain = stack.mint(&token, id, "width=40").await;
    let auto = stack.mint(&token, id, "width=50&format=auto").await;
    let third = stack.mint(&token, id, "width=60").await;
    assert_eq!(stack.get(&plain).await.status(), 200);
    for accept in ["image/avif,*/*", "image/webp,*/*"] {
        let response = stack
            .http
            .get(stack.url(&auto))
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        stack.get(&third).await.status(),
        429,
        "the cap of 2 is full"
    );
    variant_objects(&stack, id, 3).await;

    let listed = stack
        .send(
            Method::GET,
            &format!("/v1/images/{id}/variants"),
            &token,
            None,
        )
        .await;
    assert_eq!(listed.status(), 200);
    let list: Value = listed.json().await.expect("JSON");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    let auto_item = items
        .iter()
        .find(|v| v["canonical_query"] == "width=50&format=auto")
        .expect("auto listed");
    let formats: Vec<&str> = auto_item["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["format"].as_str().expect("format"))
        .collect();
    assert_eq!(formats, ["avif", "webp"], "one item, each class's object");
    let class_bytes: u64 = auto_item["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["bytes"].as_u64().expect("bytes"))
        .sum();
    assert_eq!(auto_item["bytes"].as_u64(), Some(class_bytes));
    let plain_item = items
        .iter()
        .find(|v| v["canonical_query"] == "width=40")
        .expect("plain listed");
    assert!(plain_item["url"].as_str().expect("url").ends_with(&plain));
    // Pages of one.
    let first: Value = stack
        .send(
            Method::GET,
            &format!("/v1/images/{id}/variants?limit=1"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .expect("JSON");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second: Value = stack
        .send(
            Method::GET,
            &format!("/v1/images/{id}/variants?limit=1&cursor={cursor}"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert_ne!(first["items"][0]["sig"], second["items"][0]["sig"]);
    assert!(second["next_cursor"].is_null());

    let usage: Value = stack
        .send(Method::GET, "/v1/usage", &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(usage["originals"]["count"], 1);
    assert_eq!(usage["variants"]["count"], 2);
    let plain_bytes = plain_item["bytes"].as_u64().expect("bytes");
    assert_eq!(
        usage["variants"]["bytes"].as_u64(),
        Some(plain_bytes + class_bytes)
    );
    assert_eq!(usage["renders_this_month"], 3, "each class is a render");

    // Another user sees none of it and deletes nothing.
    let other = stack.user("other@example.com").await;
    let sig = auto_item["sig"].as_str().expect("sig");
    for (method, path) in [
        (Method::GET, format!("/v1/images/{id}/variants")),
        (Method::DELETE, format!("/v1/images/{id}/variants/{sig}")),
    ] {
        assert_eq!(stack.send(method, &path, &other, None).await.status(), 404);
    }
    let theirs: Value = stack
        .send(Method::GET, "/v1/usage", &other, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(theirs["variants"]["count"], 0);

    // Deleting the auto variant: its objects, its row and the CDN's copies go.
    let deleted = stack
        .send(
            Method::DELETE,
            &format!("/v1/images/{id}/variants/{sig}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        stack
            .send(
                Method::DELETE,
                &format!("/v1/images/{id}/variants/{sig}"),
                &token,
                None
            )
            .await
            .status(),
        404
    );
    let left = variant_objects(&stack, id, 1).await;
    assert_eq!(
        left.len(),
        1,
        "only the plain variant's object is left: {left:?}"
    );
    let usage: Value = stack
        .send(Method::GET, "/v1/usage", &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(usage["variants"]["count"], 1);
    assert_eq!(usage["variants"]["bytes"].as_u64(), Some(plain_bytes));

    // Its place is free: the third renders now; the deleted URL renders afresh.
    assert_eq!(stack.get(&third).await.status(), 200);
    let again = stack
        .http
        .get(stack.url(&auto))
        .header("accept", "image/avif,*/*")
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 429, "the cap is full again with the third");
    let third_sig = {
        let list: Value = stack
            .send(
                Method::GET,
                &format!("/v1/images/{id}/variants"),
                &token,
                None,
            )
            .await
            .json()
            .await
            .expect("JSON");
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|v| v["canonical_query"] == "width=60")
            .expect("third")["sig"]
            .as_str()
            .expect("sig")
            .to_owned()
    };
    assert_eq!(
        stack
            .send(
                Method::DELETE,
                &format!("/v1/images/{id}/variants/{third_sig}"),
                &token,
                None
            )
            .await
            .status(),
        204
    );
    let fresh = stack
        .http
        .get(stack.url(&auto))
        .header("accept", "image/avif,*/*")
        .send()
        .await
        .expect("request");
    assert_eq!(fresh.status(), 200);
    assert_eq!(
        header(&fresh, "x-edge-origin"),
        "transformer",
        "rendered afresh, not a stale copy"
    );
}
