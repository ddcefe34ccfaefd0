//! Sessions over time: the API's background pruning of expired refresh tokens.

use std::time::{Duration, Instant};

use imgedge::api::ApiSettings;
use imgedge::db::{Db, NewRefreshToken};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api_support::{Options, TestApp, assert_error};

/// A refresh token the API would accept (it stores BLAKE3 of the text), stored directly for
/// `user` with the given expiry.
async fn stored_token(db: &Db, user: Uuid, expires_at: OffsetDateTime) -> (String, Uuid) {
    let token = Uuid::new_v4().to_string();
    let id = Uuid::new_v4();
    db.insert_refresh_token(&NewRefreshToken {
        id,
        user_id: user,
        family_id: Uuid::new_v4(),
        token_hash: *blake3::hash(token.as_bytes()).as_bytes(),
        expires_at,
        session_expires_at: expires_at,
    })
    .await
    .expect("token stored");
    (token, id)
}

async fn exists(pool: &PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("query")
}

/// Waits up to five seconds for the row `id` to be gone.
async fn pruned_soon(pool: &PgPool, id: Uuid) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !exists(pool, id).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[sqlx::test(migrations = "./migrations")]
async fn the_api_prunes_long_expired_refresh_tokens_and_keeps_the_rest(pool: PgPool) {
    let ttl = Duration::from_hours(1);
    let db = Db::from_pool(pool.clone());
    let app = TestApp::spawn_with(
        pool.clone(),
        Options {
            settings: ApiSettings {
                refresh_token_ttl: ttl,
                token_pruning_interval: Duration::from_millis(100),
                ..Options::default().settings
            },
            ..Options::default()
        },
    )
    .await;
    assert_eq!(app.register("pruned@example.com").await.status(), 201);
    let user = db
        .user_by_email("pruned@example.com")
        .await
        .expect("query")
        .expect("registered")
        .id;
    let live = app.login("pruned@example.com").await["refresh_token"].clone();

    let now = OffsetDateTime::now_utc();
    // Expired for longer than a token lifetime: nothing needs it any more.
    let (stale, stale_id) = stored_token(&db, user, now - 2 * ttl).await;
    // Expired a minute ago and already used: still evidence of a copy, so it stays.
    let (spent, spent_id) = stored_token(&db, user, now - Duration::from_mins(1)).await;
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = expires_at - interval '1 minute' WHERE id = $1",
    )
    .bind(spent_id)
    .execute(&pool)
    .await
    .expect("marked used");

    assert!(
        pruned_soon(&pool, stale_id).await,
        "a token expired two lifetimes ago is pruned"
    );
    // Again, later: the pruning runs on a schedule, not only at start.
    let (_, later_id) = stored_token(&db, user, now - 3 * ttl).await;
    assert!(
        pruned_soon(&pool, later_id).await,
        "the next tick prunes too"
    );
    assert!(
        exists(&pool, spent_id).await,
        "a recently expired token stays"
    );

    let resp = app.refresh(live).await;
    assert_eq!(resp.status(), 200, "the live session still refreshes");
    assert_error(
        app.refresh(json!(stale)).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_error(app.refresh(json!(spent)).await, 401, "refresh_token_reused").await;

    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let pruned: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("imgedge_refresh_tokens_pruned_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("the pruned counter: {text}"));
    // The recorder is the process's, shared with other tests: at least this test's two.
    assert!(pruned >= 2.0, "{pruned}");
}
