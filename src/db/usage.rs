//! Each account's storage in use and its quota: the usage row kept by a trigger on `images`
//! (migration `0003_storage_usage.sql`), read for the account's answers, and locked while an
//! upload's row is inserted so that the quota holds under concurrent uploads.

use serde::Serialize;
use uuid::Uuid;

use super::{Db, DbError, Image, NewImage, NewRenderJob};

/// What one account may store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StorageQuota {
    /// Bytes of originals.
    pub bytes: u64,
    /// Images.
    pub images: u64,
}

impl Default for StorageQuota {
    fn default() -> Self {
        StorageQuota {
            bytes: 1 << 30,
            images: 10_000,
        }
    }
}

impl std::fmt::Display for StorageQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes, {} images", self.bytes, self.images)
    }
}

/// What one account stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StorageUsage {
    /// Bytes of originals.
    pub bytes: u64,
    /// Images.
    pub images: u64,
}

impl StorageUsage {
    /// Whether one more image of `bytes` fits `quota`.
    pub fn fits(&self, bytes: u64, quota: &StorageQuota) -> bool {
        self.bytes.saturating_add(bytes) <= quota.bytes && self.images < quota.images
    }
}

/// An upload refused because it would take its owner past the quota; nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverQuota {
    /// The usage that left no room.
    pub usage: StorageUsage,
}

#[derive(sqlx::FromRow)]
struct UsageRow {
    bytes: i64,
    images: i64,
}

impl From<UsageRow> for StorageUsage {
    fn from(row: UsageRow) -> Self {
        StorageUsage {
            bytes: u64::try_from(row.bytes).unwrap_or(0),
            images: u64::try_from(row.images).unwrap_or(0),
        }
    }
}

/// What one account stores and renders: originals and variants, counted and in bytes (kept
/// by triggers), and its renders this calendar month (UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageSummary {
    pub images: i64,
    pub bytes: i64,
    pub variants: i64,
    pub variant_bytes: i64,
    pub renders_this_month: i64,
}

impl Db {
    /// What `owner` stores and rendered this month; zeros for an account that never
    /// uploaded. Two rows by their keys, however much the account holds.
    pub async fn usage_summary(&self, owner: Uuid) -> Result<UsageSummary, DbError> {
        let row = sqlx::query_as::<_, UsageSummary>(
            "SELECT coalesce(u.images, 0) AS images, coalesce(u.bytes, 0) AS bytes, \
                    coalesce(u.variants, 0) AS variants, \
                    coalesce(u.variant_bytes, 0) AS variant_bytes, \
                    coalesce(r.renders, 0) AS renders_this_month \
             FROM (SELECT $1::uuid AS user_id) AS me \
             LEFT JOIN storage_usage AS u ON u.user_id = me.user_id \
             LEFT JOIN monthly_renders AS r ON r.user_id = me.user_id \
                  AND r.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date",
        )
        .bind(owner)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    /// What `owner` stores (nothing for an account that never uploaded).
    pub async fn storage_usage(&self, owner: Uuid) -> Result<StorageUsage, DbError> {
        let row = sqlx::query_as::<_, UsageRow>(
            "SELECT bytes, images FROM storage_usage WHERE user_id = $1",
        )
        .bind(owner)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StorageUsage::from).unwrap_or_default())
    }

    /// [`Db::insert_image`] within the owner's `quota`, atomically: the owner's usage row is
    /// locked, checked and (by the trigger) updated in the insert's transaction, so of two
    /// concurrent uploads for the last of the room, the second waits for the first and then
    /// sees it. `Ok(Err(_))` when the image does not fit; nothing is inserted then.
    /// The image's render `jobs` (its owner's eager presets) are queued in the same
    /// transaction.
    pub async fn insert_image_within(
        &self,
        image: &NewImage,
        quota: &StorageQuota,
        jobs: &[NewRenderJob],
    ) -> Result<Result<Image, OverQuota>, DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO storage_usage (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(image.owner_id)
            .execute(&mut *tx)
            .await?;
        let usage: StorageUsage = sqlx::query_as::<_, UsageRow>(
            "SELECT bytes, images FROM storage_usage WHERE user_id = $1 FOR UPDATE",
        )
        .bind(image.owner_id)
        .fetch_one(&mut *tx)
        .await?
        .into();
        if !usage.fits(image.bytes, quota) {
            tx.rollback().await?;
            return Ok(Err(OverQuota { usage }));
        }
        let stored = Self::insert_image_on(&mut tx, image).await?;
        Self::queue_render_jobs_on(&mut tx, image.id, jobs).await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }
}
