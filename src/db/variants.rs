//! Rendered variants: the transformer records each `v/{image_id}/{sig}` it writes to S3,
//! so deleting an image knows what to remove.

use std::time::Duration;

use imgedge_url::AcceptClass;
use time::OffsetDateTime;
use uuid::Uuid;

use super::purges::owe_sweep_twice;
use super::{Db, DbError, PageCursor, PendingPurge};

/// A recorded variant, as its image's owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredVariant {
    pub sig: String,
    pub canonical_query: String,
    /// Bytes of every object it has (each class's, for `format=auto`).
    pub bytes: i64,
    /// The format of its first render (`format=auto`: see `objects`).
    pub format: String,
    pub created_at: OffsetDateTime,
    /// A `format=auto` variant's objects, one per accept class rendered; empty otherwise.
    #[sqlx(skip)]
    pub objects: Vec<ClassObject>,
}

/// One accept class's object of a `format=auto` variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassObject {
    /// `avif`, `webp` or `basic`.
    pub class: String,
    pub format: String,
    pub bytes: i64,
}

impl StoredVariant {
    /// The cursor of the page that follows this variant: its date and its sig's 16 bytes.
    pub fn cursor(&self) -> Option<PageCursor> {
        let sig: imgedge_url::Sig = self.sig.parse().ok()?;
        Some(PageCursor {
            created_at: self.created_at,
            id: Uuid::from_bytes(*sig.as_bytes()),
        })
    }
}

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
        let image: Option<(i32, i32, Uuid)> = sqlx::query_as(
            "SELECT key_epoch, variant_count, owner_id FROM images WHERE id = $1 \
             FOR NO KEY UPDATE",
        )
        .bind(v.image_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((epoch, count, owner)) = image else {
            return Ok(VariantRecorded::ImageGone);
        };
        if i64::from(epoch) != i64::from(v.key_epoch) {
            return Ok(VariantRecorded::KeyRotated);
        }
        // The image's row counts its variants (a trigger), so the cap reads one row however
        // many variants exist; the row's lock makes concurrent records take turns.
        let present: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM variants WHERE image_id = $1 AND sig = $2)",
        )
        .bind(v.image_id)
        .bind(&v.sig)
        .fetch_one(&mut *tx)
        .await?;
        if !present && u64::try_from(count).unwrap_or(0) >= cap {
            return Ok(VariantRecorded::CapReached);
        }
        let mut rendered = false;
        if !present {
            sqlx::query(
                "INSERT INTO variants (image_id, sig, canonical_query, bytes, format) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(v.image_id)
            .bind(&v.sig)
            .bind(&v.canonical_query)
            .bind(bytes)
            .bind(&v.format)
            .execute(&mut *tx)
            .await?;
            rendered = true;
        }
        if let Some(class) = v.accept_class {
            let added = sqlx::query(
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
            // A further class of a `format=auto` variant: its row counts every class's bytes.
            if present && added.rows_affected() > 0 {
                sqlx::query(
                    "UPDATE variants SET bytes = bytes + $3 WHERE image_id = $1 AND sig = $2",
                )
                .bind(v.image_id)
                .bind(&v.sig)
                .bind(bytes)
                .execute(&mut *tx)
                .await?;
                rendered = true;
            }
        }
        if rendered {
            sqlx::query(
                "INSERT INTO monthly_renders (user_id, month, renders) \
                 VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1) \
                 ON CONFLICT (user_id, month) DO UPDATE SET renders = monthly_renders.renders + 1",
            )
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(if present {
            VariantRecorded::AlreadyPresent
        } else {
            VariantRecorded::Inserted
        })
    }

    /// Up to `limit` of image `image_id`'s variants, newest first, after `after` (a
    /// [`StoredVariant::cursor`]). The caller has checked that the image is the owner's.
    pub async fn list_variants(
        &self,
        image_id: Uuid,
        limit: u32,
        after: Option<&PageCursor>,
    ) -> Result<Vec<StoredVariant>, DbError> {
        // Two statements rather than one with an optional condition, so each plans as a
        // plain range scan of `variants_image_created_idx`.
        let query = match after {
            None => sqlx::query_as::<_, StoredVariant>(
                "SELECT sig, canonical_query, bytes, format, created_at FROM variants \
                 WHERE image_id = $1 ORDER BY created_at DESC, sig DESC LIMIT $2",
            )
            .bind(image_id)
            .bind(i64::from(limit)),
            Some(cursor) => sqlx::query_as::<_, StoredVariant>(
                "SELECT sig, canonical_query, bytes, format, created_at FROM variants \
                 WHERE image_id = $1 AND (created_at, sig) < ($3, $4) \
                 ORDER BY created_at DESC, sig DESC LIMIT $2",
            )
            .bind(image_id)
            .bind(i64::from(limit))
            .bind(cursor.created_at)
            .bind(imgedge_url::Sig::from_bytes(*cursor.id.as_bytes()).to_string()),
        };
        let mut page = query.fetch_all(&self.pool).await?;
        let sigs: Vec<&str> = page.iter().map(|v| v.sig.as_str()).collect();
        let objects = sqlx::query_as::<_, (String, String, String, i64)>(
            "SELECT sig, accept_class, format, bytes FROM variant_objects \
             WHERE image_id = $1 AND sig = ANY($2) ORDER BY sig, accept_class",
        )
        .bind(image_id)
        .bind(&sigs)
        .fetch_all(&self.pool)
        .await?;
        for (sig, class, format, bytes) in objects {
            if let Some(variant) = page.iter_mut().find(|v| v.sig == sig) {
                variant.objects.push(ClassObject {
                    class,
                    format,
                    bytes,
                });
            }
        }
        Ok(page)
    }

    /// Deletes variant `sig` of `owner`'s image `image_id` and, in the same transaction,
    /// owes the sweep of the image's objects without a row (this variant's) and the purge
    /// of `path`, taken by the caller for `lease`, and again after `sweep_again`. `None`
    /// when there is no such variant of an image of this owner.
    pub async fn delete_variant_owing_purge(
        &self,
        owner: Uuid,
        image_id: Uuid,
        sig: &str,
        path: &str,
        lease: Duration,
        sweep_again: Duration,
    ) -> Result<Option<PendingPurge>, DbError> {
        let mut tx = self.pool.begin().await?;
        // The image's row first, as recording, rotating and deleting take it: the delete's
        // trigger updates it, and taking the two locks in another order could deadlock.
        let image: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM images WHERE id = $1 AND owner_id = $2 FOR NO KEY UPDATE",
        )
        .bind(image_id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        if image.is_none() {
            return Ok(None);
        }
        let deleted = sqlx::query("DELETE FROM variants WHERE image_id = $1 AND sig = $2")
            .bind(image_id)
            .bind(sig)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        // A render of this variant in flight now records nothing (its row is gone) but may
        // store its object after the first sweep: the second one removes it.
        let owed = owe_sweep_twice(&mut tx, path, image_id, lease, sweep_again).await?;
        tx.commit().await?;
        Ok(Some(owed))
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
