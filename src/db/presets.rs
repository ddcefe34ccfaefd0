//! Presets (an owner's named transforms) and the render jobs eager ones queue at upload.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::purges::secs;
use super::{Db, DbError};

/// A stored preset.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Preset {
    pub name: String,
    pub canonical_query: String,
    pub eager: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Whether a `PUT` created the preset or replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetSaved {
    Created,
    Replaced,
}

/// One render ahead to queue with an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRenderJob {
    pub preset: String,
    pub canonical_query: String,
    /// `avif`, `webp` or `basic` for a `format=auto` query; `""` otherwise.
    pub accept_class: &'static str,
}

/// A job taken by the worker.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RenderJob {
    pub id: i64,
    pub image_id: Uuid,
    pub canonical_query: String,
    pub accept_class: String,
    pub attempts: i32,
    /// The image's key epoch now: the URL is signed when the job runs.
    pub key_epoch: i32,
}

/// A job's state, as image metadata shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobState {
    pub image_id: Uuid,
    pub preset: String,
    pub state: String,
}

impl Db {
    /// `owner`'s presets, by name. At most the API's cap exist.
    pub async fn presets(&self, owner: Uuid) -> Result<Vec<Preset>, DbError> {
        Ok(sqlx::query_as::<_, Preset>(
            "SELECT name, canonical_query, eager, created_at, updated_at FROM presets \
             WHERE user_id = $1 ORDER BY name",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Creates or replaces `owner`'s preset `name`, unless that would take them past `cap`
    /// presets (`None` then).
    pub async fn save_preset(
        &self,
        owner: Uuid,
        name: &str,
        canonical_query: &str,
        eager: bool,
        cap: u32,
    ) -> Result<Option<(Preset, PresetSaved)>, DbError> {
        let mut tx = self.pool.begin().await?;
        // Concurrent saves of one owner take turns here, so the cap holds.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM presets WHERE user_id = $1 AND name <> $2")
                .bind(owner)
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        if count >= i64::from(cap) {
            return Ok(None);
        }
        let (preset, inserted) = sqlx::query_as::<
            _,
            (String, String, bool, OffsetDateTime, OffsetDateTime, bool),
        >(
            "INSERT INTO presets (user_id, name, canonical_query, eager) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, name) DO UPDATE \
                SET canonical_query = EXCLUDED.canonical_query, eager = EXCLUDED.eager, \
                    updated_at = now() \
             RETURNING name, canonical_query, eager, created_at, updated_at, (xmax = 0)",
        )
        .bind(owner)
        .bind(name)
        .bind(canonical_query)
        .bind(eager)
        .fetch_one(&mut *tx)
        .await
        .map(
            |(name, canonical_query, eager, created_at, updated_at, inserted)| {
                (
                    Preset {
                        name,
                        canonical_query,
                        eager,
                        created_at,
                        updated_at,
                    },
                    inserted,
                )
            },
        )?;
        tx.commit().await?;
        let saved = if inserted {
            PresetSaved::Created
        } else {
            PresetSaved::Replaced
        };
        Ok(Some((preset, saved)))
    }

    /// Deletes `owner`'s preset `name`; whether it existed. Its jobs still owed are
    /// dropped: nobody asked for that URL any more.
    pub async fn delete_preset(&self, owner: Uuid, name: &str) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM presets WHERE user_id = $1 AND name = $2")
            .bind(owner)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM render_jobs USING images WHERE render_jobs.image_id = images.id \
             AND images.owner_id = $1 AND render_jobs.preset = $2",
        )
        .bind(owner)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// Queues `jobs` for image `image_id` on `conn` (the upload's transaction).
    pub(super) async fn queue_render_jobs_on(
        conn: &mut sqlx::PgConnection,
        image_id: Uuid,
        jobs: &[NewRenderJob],
    ) -> Result<(), DbError> {
        for job in jobs {
            sqlx::query(
                "INSERT INTO render_jobs (image_id, preset, canonical_query, accept_class) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(image_id)
            .bind(&job.preset)
            .bind(&job.canonical_query)
            .bind(job.accept_class)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The states of the render jobs of `images`, one row per job.
    pub async fn job_states(&self, images: &[Uuid]) -> Result<Vec<JobState>, DbError> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as::<_, JobState>(
            "SELECT image_id, preset, state FROM render_jobs WHERE image_id = ANY($1)",
        )
        .bind(images)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes up to `limit` due jobs for `lease`: until it runs out, no other worker gets
    /// them (a worker that dies leaves them to the others).
    pub async fn take_due_jobs(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<RenderJob>, DbError> {
        Ok(sqlx::query_as::<_, RenderJob>(
            "UPDATE render_jobs AS j SET next_attempt_at = now() + make_interval(secs => $2) \
             FROM images AS i \
             WHERE i.id = j.image_id AND j.id IN ( \
                 SELECT id FROM render_jobs WHERE state = 'pending' AND next_attempt_at <= now() \
                 ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING j.id, j.image_id, j.canonical_query, j.accept_class, j.attempts, i.key_epoch",
        )
        .bind(i64::from(limit))
        .bind(secs(lease))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks job `id` done: `ready`, or `failed` for good.
    pub async fn finish_job(&self, id: i64, ready: bool) -> Result<(), DbError> {
        sqlx::query("UPDATE render_jobs SET state = $2, attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .bind(if ready { "ready" } else { "failed" })
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Job `id` failed for now: tried again after `backoff`.
    pub async fn retry_job(&self, id: i64, backoff: Duration) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE render_jobs SET attempts = attempts + 1, \
             next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1",
        )
        .bind(id)
        .bind(secs(backoff))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the next owed job is due, if any is owed (for the worker's sleep).
    pub async fn next_job_due(&self) -> Result<Option<OffsetDateTime>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT min(next_attempt_at) FROM render_jobs WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}
