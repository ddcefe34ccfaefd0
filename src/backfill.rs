//! `imgedge backfill`: computes the placeholders (`ThumbHash`, dominant colour) of images
//! uploaded before placeholders existed, from their originals in S3. Idempotent: it only
//! visits images without one, so it can be stopped and run again.

use imgedge_engine::Engine;
use uuid::Uuid;

use crate::db::{Db, DbError, Placeholder};
use crate::storage::{ObjectStore, StorageError};

/// Images read from the database at a time.
const BATCH: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BackfillReport {
    pub filled: u64,
    /// Images whose original is missing or could not be rendered (left without one).
    pub skipped: Vec<Uuid>,
}

/// Fills every missing placeholder, one image at a time (each a small render under the
/// engine's deadline).
pub async fn backfill(
    db: &Db,
    store: &ObjectStore,
    engine: &Engine,
) -> Result<BackfillReport, BackfillError> {
    let mut report = BackfillReport::default();
    let mut after = None;
    loop {
        let batch = db.images_without_placeholder(after, BATCH).await?;
        let Some(last) = batch.last() else {
            return Ok(report);
        };
        after = Some(last.id);
        for image in batch {
            let key = imgedge_url::ImageId::from_uuid(image.id).original_key();
            let Some(original) = store.get(&key).await? else {
                report.skipped.push(image.id);
                continue;
            };
            let engine = engine.clone();
            let computed =
                tokio::task::spawn_blocking(move || engine.placeholder(&original.bytes)).await;
            match computed {
                Ok(Ok(p)) => {
                    let placeholder = Placeholder {
                        dominant_color: p.dominant_hex(),
                        thumbhash: p.thumbhash,
                    };
                    db.set_placeholder(image.id, &placeholder).await?;
                    report.filled += 1;
                }
                Ok(Err(err)) => {
                    tracing::warn!(id = %image.id, error = %err, "no placeholder");
                    report.skipped.push(image.id);
                }
                Err(err) => {
                    tracing::warn!(id = %image.id, error = %err, "placeholder task failed");
                    report.skipped.push(image.id);
                }
            }
        }
    }
}
