//! `imgedge reconcile`: removes the objects that a crash between steps can leave behind.
//!
//! An upload writes the original to S3 before it inserts the row, and a delete removes the
//! row before the objects; a crash in between leaves objects with no row. They are found by
//! listing `o/` and `v/` and asking the database which ids exist. Objects younger than
//! `min_age` are left alone: they may belong to an upload whose row is about to be written.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use imgedge_url::{ImageId, ORIGINALS_PREFIX, ObjectKey, VARIANTS_PREFIX};
use uuid::Uuid;

use crate::db::{Db, DbError};
use crate::storage::{Listed, ObjectStore, StorageError};

/// How many ids one database query checks.
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a run found and (unless it was a dry run) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub originals_checked: usize,
    pub orphan_originals: Vec<Uuid>,
    pub orphan_variant_sets: Vec<Uuid>,
    pub variants_removed: u64,
    pub dry_run: bool,
}

/// The image id of an original `o/{id}`, or of anything under a variants prefix `v/{id}/`
/// ([`ObjectKey::owner`]); `None` for keys of another shape, which are not ours to remove.
fn image_id(key: &str) -> Option<Uuid> {
    ObjectKey::owner(key).map(|id| *id.as_uuid())
}

fn old_enough(object: &Listed, cutoff: SystemTime) -> bool {
    object.last_modified.is_some_and(|t| t <= cutoff)
}

/// Ids among `candidates` with no row in the database.
async fn without_rows(db: &Db, candidates: Vec<Uuid>) -> Result<Vec<Uuid>, DbError> {
    let mut orphans = Vec::new();
    for batch in candidates.chunks(BATCH) {
        let existing = db.existing_image_ids(batch).await?;
        orphans.extend(batch.iter().filter(|id| !existing.contains(id)));
    }
    Ok(orphans)
}

pub async fn reconcile(
    db: &Db,
    store: &ObjectStore,
    min_age: Duration,
    dry_run: bool,
) -> Result<Report, ReconcileError> {
    let cutoff = SystemTime::now() - min_age;
    let mut report = Report {
        dry_run,
        ..Report::default()
    };

    let originals = store.list_objects(ORIGINALS_PREFIX).await?;
    report.originals_checked = originals.len();
    let candidates: Vec<Uuid> = originals
        .iter()
        .filter(|o| old_enough(o, cutoff))
        .filter_map(|o| image_id(&o.key))
        .collect();
    report.orphan_originals = without_rows(db, candidates).await?;

    // A variant set is an orphan when its image has no row and none of its objects is young.
    let mut sets: BTreeMap<Uuid, bool> = BTreeMap::new();
    for variant in store.list_objects(VARIANTS_PREFIX).await? {
        if let Some(id) = image_id(&variant.key) {
            let all_old = sets.entry(id).or_insert(true);
            *all_old &= old_enough(&variant, cutoff);
        }
    }
    let candidates = sets
        .into_iter()
        .filter_map(|(id, all_old)| all_old.then_some(id))
        .collect();
    report.orphan_variant_sets = without_rows(db, candidates).await?;

    if !dry_run {
        for id in &report.orphan_originals {
            store
                .delete(&ImageId::from_uuid(*id).original_key())
                .await?;
        }
        for id in &report.orphan_variant_sets {
            report.variants_removed += store
                .delete_prefix(&ImageId::from_uuid(*id).variants_prefix())
                .await?;
        }
    }
    tracing::info!(
        originals = report.orphan_originals.len(),
        variant_sets = report.orphan_variant_sets.len(),
        dry_run,
        "reconciled storage with the database"
    );
    Ok(report)
}
