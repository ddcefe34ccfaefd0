//! What an account's owner controls: its sessions (all ended at once), its password, its
//! deletion, and its API keys.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::purges::secs;
use super::{Db, DbError};

/// An API key as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

const KEY_COLUMNS: &str = "id, user_id, name, scope, created_at, last_used_at";

impl Db {
    /// The session epoch of account `user` (access tokens of another epoch are refused);
    /// `None` when there is no such account.
    pub async fn session_epoch(&self, user: Uuid) -> Result<Option<i32>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT session_epoch FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Ends every session of `user`: the epoch moves on (every access token issued before
    /// is refused) and every refresh token is revoked, together. The new epoch.
    pub async fn end_sessions(&self, user: Uuid) -> Result<i32, DbError> {
        let mut tx = self.pool.begin().await?;
        let epoch = end_sessions_on(&mut tx, user).await?;
        tx.commit().await?;
        Ok(epoch)
    }

    /// Sets `user`'s password hash (an Argon2id PHC string) and ends every session, in one
    /// transaction. The new epoch.
    pub async fn change_password(&self, user: Uuid, password_hash: &str) -> Result<i32, DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        let epoch = end_sessions_on(&mut tx, user).await?;
        tx.commit().await?;
        Ok(epoch)
    }

    /// Deletes account `user` and everything it has (images, variants, presets, keys,
    /// sessions: the rows cascade), owing, in the same transaction, one sweep and CDN purge
    /// per image: the outbox removes their originals and variants from S3 and purges the
    /// CDN until both succeed. How many images were owed; `None` when there is no account.
    pub async fn delete_account_owing_purges(
        &self,
        user: Uuid,
        delay: Duration,
    ) -> Result<Option<u64>, DbError> {
        let mut tx = self.pool.begin().await?;
        let owed = sqlx::query(
            "INSERT INTO purge_outbox (path, next_attempt_at, sweep_image) \
             SELECT '/i/' || id::text || '/*', now() + make_interval(secs => $2), id \
             FROM images WHERE owner_id = $1",
        )
        .bind(user)
        .bind(secs(delay))
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(owed.rows_affected()))
    }

    /// Stores a new API key for `user`, unless they have `cap` already (`None` then).
    pub async fn create_api_key(
        &self,
        user: Uuid,
        name: &str,
        scope: &str,
        secret_hash: &[u8; 32],
        cap: u32,
    ) -> Result<Option<ApiKey>, DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE user_id = $1")
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
        if count >= i64::from(cap) {
            return Ok(None);
        }
        let key = sqlx::query_as::<_, ApiKey>(&format!(
            "INSERT INTO api_keys (id, user_id, name, scope, secret_hash) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {KEY_COLUMNS}"
        ))
        .bind(Uuid::new_v4())
        .bind(user)
        .bind(name)
        .bind(scope)
        .bind(secret_hash.as_slice())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(key))
    }

    /// `user`'s API keys, oldest first.
    pub async fn api_keys(&self, user: Uuid) -> Result<Vec<ApiKey>, DbError> {
        Ok(sqlx::query_as::<_, ApiKey>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes (deletes) `user`'s key `id`; whether it was theirs.
    pub async fn delete_api_key(&self, user: Uuid, id: Uuid) -> Result<bool, DbError> {
        let deleted = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// The key whose secret hashes to `secret_hash`, its last use moved to now when it is
    /// more than `granularity` old.
    pub async fn use_api_key(
        &self,
        secret_hash: &[u8; 32],
        granularity: Duration,
    ) -> Result<Option<ApiKey>, DbError> {
        let key = sqlx::query_as::<_, ApiKey>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1"
        ))
        .bind(secret_hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(key) = &key {
            let stale = key.last_used_at.is_none_or(|at| {
                OffsetDateTime::now_utc() - at
                    > time::Duration::try_from(granularity).unwrap_or_default()
            });
            if stale {
                sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE id = $1")
                    .bind(key.id)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(key)
    }
}

async fn end_sessions_on(tx: &mut sqlx::PgConnection, user: Uuid) -> Result<i32, DbError> {
    let epoch: i32 = sqlx::query_scalar(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch",
    )
    .bind(user)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?;
    Ok(epoch)
}
