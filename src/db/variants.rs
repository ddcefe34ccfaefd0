//! Rendered variants: the transformer records each `v/{image_id}/{sig}` it writes to S3,
//! so deleting an image knows what to remove.

use imgedge_url::AcceptClass;
use uuid::Uuid;

use super::{Db, DbError};

/// A rendered variant to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVariant {
    pub image_id: Uuid,
    /// The 22-character signature, as in the URL path.
    pub sig: String,
    pub canonical_query: String,
    pub bytes: u64,
    /// A `url::Format::as_str` name (`jpeg`, `png`, `webp`, `avif`).
    pub format: String,
    /// For a `format=auto` URL, the accept class whose object this render is (recorded in
    /// `variant_objects` under the variant's one row).
    pub accept_class: Option<AcceptClass>,
    /// The image's key epoch the URL's signature verified under: the record is refused
    /// ([`VariantRecorded::KeyRotated`]) when the key was rotated since.
    pub key_epoch: u32,
}

/// What recording a variant did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantRecorded {
    Inserted,
    /// A row for `(image_id, sig)` existed (two renders of one variant raced): unchanged.
    AlreadyPresent,
    /// The image was deleted meanwhile: the rendered object is an orphan to remove.
    ImageGone,
    /// The image already has its cap of other variants: not recorded, the object is to be
    /// removed.
    CapReached,
    /// The image's key was rotated since the URL's signature verified: not recorded.
    KeyRotated,
}

impl Db {
    /// Records a rendered variant; idempotent on `(image_id, sig)`.
    pub async fn insert_variant(&self, v: &NewVariant) -> Result<VariantRecorded, DbError> {
        self.insert_variant_within(v, u64::MAX).await
    }

    /// Records a rendered variant unless its image already has `cap` others; idempotent on
    /// `(image_id, sig)`. Concurrent inserts for one image take turns on the image's row, so
    /// the cap holds exactly however many renders finish at once.
    pub async fn insert_variant_within(
        &self,
        v: &NewVariant,
        cap: u64,
    ) -> Result<VariantRecorded, DbError> {
        let bytes = i64::try_from(v.bytes)
            .map_err(|_| DbError::other(format!("size {} exceeds the schema", v.bytes)))?;
        let mut tx = self.pool.begin().await?;
        let epoch: Option<i32> =
            sqlx::query_scalar("SELECT key_epoch FROM images WHERE id = $1 FOR NO KEY UPDATE")
                .bind(v.image_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(epoch) = epoch else {
            return Ok(VariantRecorded::ImageGone);
        };
        if i64::from(epoch) != i64::from(v.key_epoch) {
            return Ok(VariantRecorded::KeyRotated);
        }
        let others: i64 =
            sqlx::query_scalar("SELECT count(*) FROM variants WHERE image_id = $1 AND sig <> $2")
                .bind(v.image_id)
                .bind(&v.sig)
                .fetch_one(&mut *tx)
                .await?;
        if u64::try_from(others).unwrap_or(0) >= cap {
            return Ok(VariantRecorded::CapReached);
        }
        let done = sqlx::query(
            "INSERT INTO variants (image_id, sig, canonical_query, bytes, format) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (image_id, sig) DO NOTHING",
        )
        .bind(v.image_id)
        .bind(&v.sig)
        .bind(&v.canonical_query)
        .bind(bytes)
        .bind(&v.format)
        .execute(&mut *tx)
        .await?;
        if let Some(class) = v.accept_class {
            sqlx::query(
                "INSERT INTO variant_objects (image_id, sig, accept_class, bytes, format) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (image_id, sig, accept_class) DO NOTHING",
            )
            .bind(v.image_id)
            .bind(&v.sig)
            .bind(class.as_str())
            .bind(bytes)
            .bind(&v.format)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(if done.rows_affected() > 0 {
            VariantRecorded::Inserted
        } else {
            VariantRecorded::AlreadyPresent
        })
    }

    /// The signatures of the variants recorded for image `id`.
    pub async fn recorded_sigs(&self, id: Uuid) -> Result<Vec<String>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT sig FROM variants WHERE image_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// How many variants of `image_id` are recorded.
    pub async fn variant_count(&self, image_id: Uuid) -> Result<u64, DbError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM variants WHERE image_id = $1")
            .bind(image_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    /// Whether variant `sig` of `image_id` is recorded.
    pub async fn variant_recorded(&self, image_id: Uuid, sig: &str) -> Result<bool, DbError> {
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM variants WHERE image_id = $1 AND sig = $2)",
        )
        .bind(image_id)
        .bind(sig)
        .fetch_one(&self.pool)
        .await?;
        Ok(found)
    }

    /// How many variants of `image_id` are recorded other than `sig`: what counts against
    /// the per-image cap when `sig` is about to be rendered (a re-render of a recorded
    /// variant whose object went missing is not a new variant).
    pub async fn other_variant_count(&self, image_id: Uuid, sig: &str) -> Result<u64, DbError> {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM variants WHERE image_id = $1 AND sig <> $2")
                .bind(image_id)
                .bind(sig)
                .fetch_one(&self.pool)
                .await?;
        Ok(count as u64)
    }

    /// The signatures of `image_id`'s recorded variants, in no particular order. Not
    /// owner-scoped: look the image up with [`Db::image`] first.
    pub async fn variant_sigs(&self, image_id: Uuid) -> Result<Vec<String>, DbError> {
        let sigs = sqlx::query_scalar("SELECT sig FROM variants WHERE image_id = $1")
            .bind(image_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(sigs)
    }
}
