//! Image metadata. Every query an owner can reach is scoped to that owner, so another
//! owner's image id behaves exactly like one that does not exist.

use time::OffsetDateTime;
use uuid::Uuid;

use std::time::Duration;

use super::purges::owe_sweep_twice;
use super::{Db, DbError, ImageFilter, PageCursor, PendingPurge};

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
    /// What the image looks like before it loads; `None` only when it could not be
    /// computed (the upload is still accepted).
    pub placeholder: Option<Placeholder>,
}

/// An image's placeholder, computed once from its pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// A `ThumbHash`, 5 to 25 bytes.
    pub thumbhash: Vec<u8>,
    /// `#rrggbb`, lowercase.
    pub dominant_color: String,
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
    /// What the owner wrote: alt text, title, tags (sorted slugs), their own JSON object
    /// (as text), and a focal point in thousandths (both or neither).
    #[serde(default)]
    pub alt: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "empty_object")]
    pub metadata: String,
    #[serde(default)]
    pub focus_x: Option<i16>,
    #[serde(default)]
    pub focus_y: Option<i16>,
    /// The placeholder's parts; `None` until computed (images from before placeholders,
    /// until `imgedge backfill`).
    #[serde(default)]
    pub thumbhash: Option<Vec<u8>>,
    #[serde(default)]
    pub dominant_color: Option<String>,
    /// Bumped by every change its owner makes; the conditional update of `If-Match`.
    #[serde(default)]
    pub revision: i64,
    /// Recorded variants, kept by a trigger (`0008_variant_usage.sql`).
    #[sqlx(try_from = "i32")]
    #[serde(default)]
    pub variant_count: u32,
}

fn empty_object() -> String {
    "{}".to_owned()
}

/// What an owner's edit sets: every editable field's new value, the whole of it (the API
/// applies the merge patch to the stored values first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDetails {
    pub alt: Option<String>,
    pub title: Option<String>,
    /// Sorted, deduplicated slugs.
    pub tags: Vec<String>,
    /// A JSON object, as text.
    pub metadata: String,
    /// `(x, y)` in thousandths.
    pub focus: Option<(u16, u16)>,
}

/// What an edit conditioned on a revision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageEdit {
    Done(Box<Image>),
    /// The image changed since the revision the edit was made from.
    Stale,
    /// No such image for this owner.
    Missing,
}

impl Image {
    /// Its focal point in thousandths, when the owner set one.
    pub fn focus(&self) -> Option<(u16, u16)> {
        let x = u16::try_from(self.focus_x?).ok()?;
        let y = u16::try_from(self.focus_y?).ok()?;
        Some((x, y))
    }

    /// What the owner wrote, as an edit starts from.
    pub fn details(&self) -> ImageDetails {
        ImageDetails {
            alt: self.alt.clone(),
            title: self.title.clone(),
            tags: self.tags.clone(),
            metadata: self.metadata.clone(),
            focus: self.focus(),
        }
    }

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
/// Qualified, so that statements joining another table (a tag filter) can use it too.
macro_rules! columns {
    () => {
        "images.id, images.owner_id, images.filename, images.format, images.width, \
         images.height, images.frames, images.bytes, images.blake3, images.created_at, \
         images.key_epoch, images.alt, images.title, images.tags, \
         images.metadata::text AS metadata, images.focus_x, images.focus_y, images.thumbhash, \
         images.dominant_color, images.revision, images.variant_count"
    };
}
pub(super) use columns;

fn thousandths(value: u16) -> Result<i16, DbError> {
    i16::try_from(value)
        .ok()
        .filter(|v| *v <= 1000)
        .ok_or_else(|| DbError::other(format!("focus {value} exceeds 1000")))
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
            "INSERT INTO images (id, owner_id, filename, format, width, height, frames, bytes, \
             blake3, thumbhash, dominant_color) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
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
        .bind(image.placeholder.as_ref().map(|p| p.thumbhash.as_slice()))
        .bind(
            image
                .placeholder
                .as_ref()
                .map(|p| p.dominant_color.as_str()),
        )
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
        self.search_images(owner, &ImageFilter::default(), limit, after)
            .await
    }

    /// Sets what the owner wrote about image `id`, if it is still at `revision` (the one
    /// the edit was made from): [`ImageEdit::Stale`] when another change came first.
    pub async fn edit_image(
        &self,
        owner: Uuid,
        id: Uuid,
        revision: i64,
        details: &ImageDetails,
    ) -> Result<ImageEdit, DbError> {
        let (focus_x, focus_y) = match details.focus {
            Some((x, y)) => (Some(thousandths(x)?), Some(thousandths(y)?)),
            None => (None, None),
        };
        let edited = sqlx::query_as::<_, Image>(concat!(
            "UPDATE images SET alt = $4, title = $5, tags = $6, metadata = $7::json, \
             focus_x = $8, focus_y = $9, revision = revision + 1 \
             WHERE id = $1 AND owner_id = $2 AND revision = $3 RETURNING ",
            columns!()
        ))
        .bind(id)
        .bind(owner)
        .bind(revision)
        .bind(details.alt.as_deref())
        .bind(details.title.as_deref())
        .bind(&details.tags)
        .bind(&details.metadata)
        .bind(focus_x)
        .bind(focus_y)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(image) = edited {
            return Ok(ImageEdit::Done(Box::new(image)));
        }
        Ok(match self.image(owner, id).await? {
            Some(_) => ImageEdit::Stale,
            None => ImageEdit::Missing,
        })
    }

    /// The revision of `owner`'s image `id`; `None` when there is no such image.
    pub async fn image_revision(&self, owner: Uuid, id: Uuid) -> Result<Option<i64>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT revision FROM images WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets the placeholder of image `id` (for `imgedge backfill`), whoever owns it.
    pub async fn set_placeholder(
        &self,
        id: Uuid,
        placeholder: &Placeholder,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE images SET thumbhash = $2, dominant_color = $3 WHERE id = $1")
            .bind(id)
            .bind(placeholder.thumbhash.as_slice())
            .bind(&placeholder.dominant_color)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Up to `limit` images without a placeholder, across owners, in id order after
    /// `after` (for `imgedge backfill`).
    pub async fn images_without_placeholder(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ImageRef>, DbError> {
        Ok(sqlx::query_as::<_, ImageRef>(
            "SELECT id, owner_id, created_at FROM images \
             WHERE thumbhash IS NULL \
               AND id > coalesce($1, '00000000-0000-0000-0000-000000000000'::uuid) \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
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
            "UPDATE images SET key_epoch = key_epoch + 1, revision = revision + 1 \
             WHERE id = $1 AND owner_id = $2 RETURNING ",
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
        let owed = owe_sweep_twice(&mut tx, path, id, lease, sweep_again).await?;
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
