//! The purge outbox (`purge_outbox`): the CDN invalidations that deletes owe, written in the
//! delete's own transaction and removed only once the CDN has accepted them. The task that
//! sends them is [`crate::purges`].
//!
//! A row is taken by moving its `next_attempt_at` forward by a lease, under
//! `FOR UPDATE SKIP LOCKED`: several processes taking rows at once each get different ones,
//! and the rows of a process that dies come due again when their lease runs out.

use std::time::Duration;

use uuid::Uuid;

use super::{Db, DbError};

/// A purge owed: the outbox row's id and the CDN path to invalidate, and the image whose
/// variant objects without a row are to be removed from S3 first (after a key rotation).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingPurge {
    pub id: i64,
    pub path: String,
    pub sweep_image: Option<Uuid>,
}

pub(super) fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Owes, on `tx`, the sweep of `image`'s objects without a row and the purge of `path`
/// twice: once now (taken by the caller for `lease`, so it can send it at once), and once
/// after `sweep_again`, for what a render in flight at the commit stores after the first.
pub(super) async fn owe_sweep_twice(
    tx: &mut sqlx::PgConnection,
    path: &str,
    image: Uuid,
    lease: Duration,
    sweep_again: Duration,
) -> Result<PendingPurge, DbError> {
    let owed = sqlx::query_as::<_, PendingPurge>(
        "INSERT INTO purge_outbox (path, next_attempt_at, sweep_image) \
         VALUES ($1, now() + make_interval(secs => $2), $3) RETURNING id, path, sweep_image",
    )
    .bind(path)
    .bind(secs(lease))
    .bind(image)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO purge_outbox (path, next_attempt_at, sweep_image) \
         VALUES ($1, now() + make_interval(secs => $2), $3)",
    )
    .bind(path)
    .bind(secs(sweep_again))
    .bind(image)
    .execute(&mut *tx)
    .await?;
    Ok(owed)
}

impl Db {
    /// Deletes `owner`'s image `id` (its variant rows cascade) and, in the same transaction,
    /// owes the CDN `path`: the row is taken by the caller for `lease`, so that it can send
    /// the purge at once while no other process does. `None` when there was no such image of
    /// this owner, or, with `revision` (`If-Match`), none at that revision (nothing is
    /// deleted or owed then).
    pub async fn delete_image_owing_purge(
        &self,
        owner: Uuid,
        id: Uuid,
        revision: Option<i64>,
        path: &str,
        lease: Duration,
    ) -> Result<Option<PendingPurge>, DbError> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query(
            "DELETE FROM images WHERE id = $1 AND owner_id = $2 \
             AND ($3::bigint IS NULL OR revision = $3)",
        )
        .bind(id)
        .bind(owner)
        .bind(revision)
        .execute(&mut *tx)
        .await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        let owed = sqlx::query_as::<_, PendingPurge>(
            "INSERT INTO purge_outbox (path, next_attempt_at) \
             VALUES ($1, now() + make_interval(secs => $2)) RETURNING id, path, sweep_image",
        )
        .bind(path)
        .bind(secs(lease))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(owed))
    }

    /// Takes up to `limit` purges that are due, oldest first, for `lease`: until it runs
    /// out, no other caller gets them.
    pub async fn take_due_purges(
        &self,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<PendingPurge>, DbError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let taken = sqlx::query_as::<_, PendingPurge>(
            "UPDATE purge_outbox SET next_attempt_at = now() + make_interval(secs => $2) \
             WHERE id IN (SELECT id FROM purge_outbox WHERE next_attempt_at <= now() \
                          ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, path, sweep_image",
        )
        .bind(limit)
        .bind(secs(lease))
        .fetch_all(&self.pool)
        .await?;
        Ok(taken)
    }

    /// The CDN accepted these purges: they are owed no more.
    pub async fn purges_sent(&self, ids: &[i64]) -> Result<(), DbError> {
        sqlx::query("DELETE FROM purge_outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The CDN did not accept these purges: each comes due again after `first_backoff`
    /// doubled by its earlier failures, at most `max_backoff`.
    pub async fn purges_failed(
        &self,
        ids: &[i64],
        first_backoff: Duration,
        max_backoff: Duration,
    ) -> Result<(), DbError> {
        // The exponent is capped so the product stays finite whatever the attempt count.
        sqlx::query(
            "UPDATE purge_outbox SET attempts = attempts + 1, next_attempt_at = now() + \
             make_interval(secs => least($3, $2 * power(2, least(attempts, 30)))) \
             WHERE id = ANY($1)",
        )
        .bind(ids)
        .bind(secs(first_backoff))
        .bind(secs(max_backoff))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many purges are owed, due or not (a gauge, and for tests).
    pub async fn owed_purges(&self) -> Result<u64, DbError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM purge_outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
