//! Image metadata. Every query an owner can reach is scoped to that owner, so another
//! owner's image id behaves exactly like one that does not exist.

use time::OffsetDateTime;
use uuid::Uuid;

use std::time::Duration;

use super::purges::secs;
use super::{Db, DbError, PageCursor, PendingPurge};

/// Metadata of an accepted upload, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// At most [`super::MAX_FILENAME_CHARS`] characters, never empty; `None` when the
    /// upload carried no name.
    pub filename: Option<String>,
    /// An `engine::SourceFormat::as_str` name (`jpeg`, `png`, `webp`, `gif`, `heic`,
    /// `avif`); the schema refuses others.
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub bytes: u64,
    /// BLAKE3 of the original's bytes.
    pub blake3: [u8; 32],
}

/// Stored image metadata. Serialisable so that the API can cache it as it is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct Image {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub filename: Option<String>,
    pub format: String,
    #[sqlx(try_from = "i32")]
    pub width: u32,
    #[sqlx(try_from = "i32")]
    pub height: u32,
    #[sqlx(try_from = "i32")]
    pub frames: u32,
    #[sqlx(try_from = "i64")]
    pub bytes: u64,
    pub blake3: [u8; 32],
    /// Set by the database at insert, microsecond precision.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The generation of its `url_key` (`url::KeyEpoch`): 0 until the key is rotated.
    /// Defaulted when reading a cached copy made before the column existed.
    #[sqlx(try_from = "i32")]
    #[serde(default)]
    pub key_epoch: u32,
}

impl Image {
    /// The cursor of the page that follows this image.
    pub fn cursor(&self) -> PageCursor {
        PageCursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// An image as `imgedge reconcile` sees it, across owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ImageRef {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub created_at: OffsetDateTime,
}

/// The columns of [`Image`], as a literal so that `concat!` builds static statements.
macro_rules! columns {
    () => {
        "id, owner_id, filename, format, width, height, frames, bytes, blake3, created_at, key_epoch"
    };
}

fn to_i32(value: u32, what: &str) -> Result<i32, DbError> {
    i32::try_from(value).map_err(|_| DbError::other(format!("{what} {value} exceeds the schema")))
}

impl Db {
    /// Stores an image's metadata and returns it as stored (with its `created_at`).
    /// [`DbError::Conflict`] if the id exists. The owner's storage usage follows (a trigger);
    /// uploads go through [`Db::insert_image_within`], which enforces the quota.
    pub async fn insert_image(&self, image: &NewImage) -> Result<Image, DbError> {
        let mut conn = self.pool.acquire().await?;
        Self::insert_image_on(&mut conn, image).await
    }

    pub(super) async fn insert_image_on(
        conn: &mut sqlx::PgConnection,
        image: &NewImage,
    ) -> Result<Image, DbError> {
        let bytes = i64::try_from(image.bytes)
            .map_err(|_| DbError::other(format!("size {} exceeds the schema", image.bytes)))?;
        let stored = sqlx::query_as::<_, Image>(concat!(
            "INSERT INTO images (id, owner_id, filename, format, width, height, frames, bytes, blake3) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
            columns!()
        ))
        .bind(image.id)
        .bind(image.owner_id)
        .bind(image.filename.as_deref())
        .bind(&image.format)
        .bind(to_i32(image.width, "width")?)
        .bind(to_i32(image.height, "height")?)
        .bind(to_i32(image.frames, "frame count")?)
        .bind(bytes)
        .bind(image.blake3.as_slice())
        .fetch_one(conn)
        .await?;
        Ok(stored)
    }

    /// `owner`'s image `id`; `None` when it does not exist or belongs to someone else.
    pub async fn image(&self, owner: Uuid, id: Uuid) -> Result<Option<Image>, DbError> {
        let image = sqlx::query_as::<_, Image>(concat!(
            "SELECT ",
            columns!(),
            " FROM images WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner)
        .fetch_optional(&self.pool)
        .await?;
        Ok(image)
    }

    /// Image `id`, whoever owns it; `None` when there is no such image. For the transformer,
    /// which answers signed URLs rather than users: it charges the render to the owner and
    /// estimates it from the stored size.
    pub async fn image_any_owner(&self, id: Uuid) -> Result<Option<Image>, DbError> {
        let image = sqlx::query_as::<_, Image>(concat!(
            "SELECT ",
            columns!(),
            " FROM images WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(image)
    }

    /// Up to `limit` of `owner`'s images, newest first (ties broken by id, descending),
    /// starting strictly after `after`. The next page's cursor is the last item's
    /// [`Image::cursor`]; a page shorter than `limit` is the last one.
    pub async fn list_images(
        &self,
        owner: Uuid,
        limit: u32,
        after: Option<&PageCursor>,
    ) -> Result<Vec<Image>, DbError> {
        // Two statements rather than one with an optional condition, so each plans as a
        // plain range scan of `images_owner_created_idx`.
        let query = match after {
            None => sqlx::query_as::<_, Image>(concat!(
                "SELECT ",
                columns!(),
                " FROM images WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
            ))
            .bind(owner)
            .bind(i64::from(limit)),
            Some(cursor) => sqlx::query_as::<_, Image>(concat!(
                "SELECT ",
                columns!(),
                " FROM images WHERE owner_id = $1 AND (created_at, id) < ($3, $4) \
                 ORDER BY created_at DESC, id DESC LIMIT $2"
            ))
            .bind(owner)
            .bind(i64::from(limit))
            .bind(cursor.created_at)
            .bind(cursor.id),
        };
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Rotates `owner`'s image `id` to its next key epoch, forgets every variant recorded
    /// under the old key and owes the sweep of their objects and the purge of `path`, in one
    /// transaction: from its commit no URL signed with an older key verifies, no render
    /// begun under one is recorded ([`Db::insert_variant_within`] checks the epoch), and the
    /// outbox removes the old objects and purges the CDN until both succeed (once now, once
    /// `sweep_again` later). `None` when there is no such image for this owner.
    pub async fn rotate_key_owing_purge(
        &self,
        owner: Uuid,
        id: Uuid,
        path: &str,
        lease: Duration,
        sweep_again: Duration,
    ) -> Result<Option<(Image, PendingPurge)>, DbError> {
        let mut tx = self.pool.begin().await?;
        let image = sqlx::query_as::<_, Image>(concat!(
            "UPDATE images SET key_epoch = key_epoch + 1 WHERE id = $1 AND owner_id = $2 \
             RETURNING ",
            columns!()
        ))
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(image) = image else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM variants WHERE image_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // One sweep and purge now (taken by the caller for `lease`), and one after
        // `sweep_again`, for what renders in flight at the commit store after the first.
        let owed = sqlx::query_as::<_, PendingPurge>(
            "INSERT INTO purge_outbox (path, next_attempt_at, sweep_image) \
             VALUES ($1, now() + make_interval(secs => $2), $3) \
             RETURNING id, path, sweep_image",
        )
        .bind(path)
        .bind(secs(lease))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO purge_outbox (path, next_attempt_at, sweep_image) \
             VALUES ($1, now() + make_interval(secs => $2), $3)",
        )
        .bind(path)
        .bind(secs(sweep_again))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((image, owed)))
    }

    /// The key epoch of image `id`, whoever owns it; `None` when there is no such image.
    /// For the transformer, to verify a signature made after a key rotation.
    pub async fn image_key_epoch(&self, id: Uuid) -> Result<Option<u32>, DbError> {
        let epoch: Option<i32> = sqlx::query_scalar("SELECT key_epoch FROM images WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(epoch.and_then(|e| u32::try_from(e).ok()))
    }

    /// Which of `ids` have metadata, across all owners (for `imgedge reconcile`: an S3
    /// original whose id is missing here is an orphan).
    pub async fn existing_image_ids(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = sqlx::query_scalar::<_, Uuid>("SELECT id FROM images WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(found)
    }

    /// Every image across owners in id order, `limit` at a time after `after` (for
    /// `imgedge reconcile`: metadata whose S3 original is missing is an orphan).
    pub async fn scan_images(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ImageRef>, DbError> {
        let rows = sqlx::query_as::<_, ImageRef>(
            "SELECT id, owner_id, created_at FROM images \
             WHERE id > coalesce($1, '00000000-0000-0000-0000-000000000000'::uuid) \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
