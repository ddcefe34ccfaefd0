//! The purge outbox's sender: the API role's background task that sends the CDN the
//! invalidations deletes owe, until the CDN accepts them.
//!
//! A delete owes its purge in the same transaction as it removes the image's row
//! ([`Db::delete_image_owing_purge`]), so a committed delete always has its purge on record.
//! The row leaves the outbox only once the CDN (`CloudFront`, or the local edge's purge
//! endpoint) has accepted its path: a crash, a restart or a CDN outage delays a purge, it does
//! not lose one. A failed send is retried with exponential backoff; a permanent refusal (bad
//! credentials, a wrong distribution) is retried too, at the longest backoff, so that fixing
//! the configuration sends what was owed meanwhile.
//!
//! The task batches as `CloudFront` prefers: the deletes of this process are handed to it at
//! once ([`PurgeOutbox::send_now`]) and share a request with those that follow within a short
//! window; rows owed by a process that died, or that failed before, are taken from the table
//! every `poll_every`, and at start (a restart resumes the outbox). Taking a row leases it
//! ([`Db::take_due_purges`]), so several API processes draining one table send each purge
//! once.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::db::{Db, PendingPurge};
use crate::invalidate::{InvalidateError, Invalidator};
use crate::storage::ObjectStore;
use imgedge_url::{ImageId, ObjectKey};

const SENT_TOTAL: &str = "imgedge_purges_sent_total";
const FAILED_TOTAL: &str = "imgedge_purge_failures_total";

/// How owed purges are grouped, leased and retried.
#[derive(Debug, Clone, Copy)]
pub struct PurgePolicy {
    /// How long a fresh purge waits for others to share its request.
    pub window: Duration,
    /// Most paths in one request. `CloudFront` allows 15 wildcard paths in progress at once,
    /// so a larger batch would only be refused.
    pub max_paths: usize,
    /// How often the table is read for purges that came due (retries, and those of a process
    /// that died).
    pub poll_every: Duration,
    /// How long a taken purge is left to its taker before another process may take it. Longer
    /// than `window` and `send_timeout` together, so a live taker always settles it first.
    pub lease: Duration,
    /// The longest one request may take before it counts as failed.
    pub send_timeout: Duration,
    /// Backoff after a failed send, doubling with each failure of the same purge up to
    /// `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for PurgePolicy {
    fn default() -> Self {
        PurgePolicy {
            window: Duration::from_millis(250),
            max_paths: 15,
            poll_every: Duration::from_secs(2),
            lease: Duration::from_mins(1),
            send_timeout: Duration::from_secs(30),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// A purge this process just owed, and where the outcome of its first send goes.
struct Fresh {
    purge: PendingPurge,
    done: oneshot::Sender<Result<(), InvalidateError>>,
}

/// The outbox: the database that records what is owed, the CDN it is owed to, and the hand-off
/// of fresh purges to the running task. Cheap to clone.
#[derive(Clone)]
pub struct PurgeOutbox(Arc<Inner>);

struct Inner {
    db: Db,
    /// Where the variant objects a key rotation left are swept from.
    store: ObjectStore,
    invalidator: Arc<dyn Invalidator>,
    policy: PurgePolicy,
    fresh: mpsc::Sender<Fresh>,
    /// The task's end of `fresh` until [`PurgeOutbox::start`] takes it.
    unstarted: Mutex<Option<mpsc::Receiver<Fresh>>>,
}

impl std::fmt::Debug for PurgeOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurgeOutbox")
            .field("invalidator", &self.0.invalidator)
            .field("policy", &self.0.policy)
            .finish_non_exhaustive()
    }
}

/// The running task. It ends by itself when the shutdown signal completes; dropping this
/// handle stops it too (what it had taken comes due again after the lease).
#[derive(Debug)]
pub struct Draining(JoinHandle<()>);

impl Drop for Draining {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PurgeOutbox {
    pub fn new(
        db: Db,
        store: ObjectStore,
        invalidator: Arc<dyn Invalidator>,
        policy: PurgePolicy,
    ) -> PurgeOutbox {
        // Room for a burst of deletes; past it a purge waits for its lease to run out and is
        // then taken from the table like any other.
        let (fresh, receiver) = mpsc::channel(1024);
        PurgeOutbox(Arc::new(Inner {
            db,
            store,
            invalidator,
            policy,
            fresh,
            unstarted: Mutex::new(Some(receiver)),
        }))
    }

    pub fn policy(&self) -> &PurgePolicy {
        &self.0.policy
    }

    /// Starts sending owed purges until `shutdown` completes. Only the first call starts a
    /// task; later ones return `None`.
    pub fn start(&self, shutdown: impl Future<Output = ()> + Send + 'static) -> Option<Draining> {
        let receiver = self.0.unstarted.lock().ok()?.take()?;
        metrics::describe_counter!(SENT_TOTAL, "CDN purges the CDN accepted");
        metrics::describe_counter!(
            FAILED_TOTAL,
            "CDN purges whose send failed (each is retried with backoff)"
        );
        Some(Draining(tokio::spawn(drain(
            Arc::clone(&self.0),
            receiver,
            shutdown,
        ))))
    }

    /// [`PurgeOutbox::send_now`] in a task of its own, so that the send finishes even when
    /// the client that caused it hangs up, waiting for its first outcome. The purge is owed
    /// on record either way: a failure here delays it (the outbox retries), it does not
    /// lose it. `what` names its cause in the logs.
    pub async fn send_detached(&self, purge: PendingPurge, what: &'static str) {
        let outbox = self.clone();
        let path = purge.path.clone();
        match tokio::spawn(async move { outbox.send_now(purge).await }).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::info!(%path, error = %err, "{what} sweep and purge not done yet; the outbox retries them");
            }
            Err(err) => tracing::error!(%path, error = %err, "{what} cleanup task failed"),
        }
    }

    /// Sends `purge`, just owed by a delete of this process (and leased to it), with the next
    /// batch, and returns the outcome of that first send. Whatever the outcome, the purge
    /// stays owed until the CDN accepts it: an error here only means it is not done yet.
    pub async fn send_now(&self, purge: PendingPurge) -> Result<(), InvalidateError> {
        let not_yet =
            |why: &str| InvalidateError::Unavailable(format!("purge not sent yet: {why}"));
        if self
            .0
            .unstarted
            .lock()
            .map_or(true, |receiver| receiver.is_some())
        {
            return Err(not_yet("the outbox task is not running"));
        }
        let (done, outcome) = oneshot::channel();
        self.0
            .fresh
            .try_send(Fresh { purge, done })
            .map_err(|_| not_yet("the outbox task is busy or stopped"))?;
        let bound = self.0.policy.window + self.0.policy.send_timeout;
        match tokio::time::timeout(bound, outcome).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(not_yet("the outbox task stopped")),
            Err(_) => Err(not_yet("no outcome in time")),
        }
    }
}

/// The task: a batch of fresh purges (or none), topped up with due rows, sent as one request;
/// then the next.
async fn drain(
    outbox: Arc<Inner>,
    mut fresh: mpsc::Receiver<Fresh>,
    shutdown: impl Future<Output = ()>,
) {
    let policy = outbox.policy;
    let max_paths = policy.max_paths.max(1);
    let mut shutdown = std::pin::pin!(shutdown);
    // At start the table is read at once: that is how a restart resumes the outbox.
    let mut read_table_now = true;
    loop {
        let mut batch = Vec::new();
        if !read_table_now {
            tokio::select! {
                () = &mut shutdown => return,
                next = fresh.recv() => match next {
                    Some(first) => batch.push(first),
                    None => return,
                },
                () = tokio::time::sleep(policy.poll_every) => {}
            }
        }
        if !batch.is_empty() {
            let until = tokio::time::Instant::now() + policy.window;
            while batch.len() < max_paths {
                match tokio::time::timeout_at(until, fresh.recv()).await {
                    Ok(Some(next)) => batch.push(next),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let room = max_paths - batch.len();
        let due = if room == 0 {
            Vec::new()
        } else {
            match outbox.db.take_due_purges(room, policy.lease).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the purge outbox; trying again later");
                    Vec::new()
                }
            }
        };
        // A full batch from the table suggests more are due: read it again without a pause.
        read_table_now = room > 0 && due.len() == room;
        if batch.is_empty() && due.is_empty() {
            continue;
        }
        send(&outbox, batch, due).await;
    }
}

/// Removes from S3 each image's variant objects that have no row (those a key rotation or
/// a variant's delete forgot; a render records its row before it stores its object, so an
/// object listed before the rows are read and without one is no variant of the image's),
/// and the original of an image that has no row any more (its account was deleted; an
/// upload's original precedes its row, but a sweep is owed only once the row existed).
async fn sweep(outbox: &Inner, images: &[uuid::Uuid]) -> Result<(), InvalidateError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        InvalidateError::Unavailable(format!("sweeping variants: {what}: {e}"))
    };
    for &image in images {
        // An image without a row (its account deleted) loses its original too.
        let gone = outbox
            .db
            .existing_image_ids(&[image])
            .await
            .map_err(|e| failed("reading the image", &e))?
            .is_empty();
        if gone {
            outbox
                .store
                .delete(&ImageId::from_uuid(image).original_key())
                .await
                .map_err(|e| failed("deleting the original", &e))?;
        }
        let prefix = ImageId::from_uuid(image).variants_prefix();
        let keys = outbox
            .store
            .list_keys(&prefix)
            .await
            .map_err(|e| failed("listing", &e))?;
        if keys.is_empty() {
            continue;
        }
        let recorded = outbox
            .db
            .recorded_sigs(image)
            .await
            .map_err(|e| failed("reading the rows", &e))?;
        for key in keys {
            let kept = match ObjectKey::parse(&key) {
                Some(ObjectKey::Variant(_, sig, _)) => recorded.contains(&sig.to_string()),
                _ => false,
            };
            if !kept {
                outbox
                    .store
                    .delete(&key)
                    .await
                    .map_err(|e| failed("deleting", &e))?;
            }
        }
    }
    Ok(())
}

/// Sends one batch, records its outcome in the table, and tells the waiting deletes.
async fn send(outbox: &Inner, fresh: Vec<Fresh>, due: Vec<PendingPurge>) {
    let policy = &outbox.policy;
    let (purges, waiting): (Vec<PendingPurge>, Vec<_>) =
        fresh.into_iter().map(|f| (f.purge, f.done)).unzip();
    let purges: Vec<PendingPurge> = purges.into_iter().chain(due).collect();
    let ids: Vec<i64> = purges.iter().map(|p| p.id).collect();
    let mut sweeps: Vec<uuid::Uuid> = purges.iter().filter_map(|p| p.sweep_image).collect();
    sweeps.sort_unstable();
    sweeps.dedup();
    let mut paths: Vec<String> = purges.into_iter().map(|p| p.path).collect();
    paths.sort();
    paths.dedup();
    // S3 first, so that the CDN cannot fetch an old object again after its purge.
    let outcome = match sweep(outbox, &sweeps).await {
        Err(e) => Err(e),
        Ok(()) => {
            match tokio::time::timeout(policy.send_timeout, outbox.invalidator.invalidate(&paths))
                .await
            {
                Ok(outcome) => outcome,
                Err(_) => Err(InvalidateError::Unavailable(
                    "the CDN did not answer in time".to_owned(),
                )),
            }
        }
    };
    match &outcome {
        Ok(()) => {
            metrics::counter!(SENT_TOTAL).increment(ids.len() as u64);
            if let Err(e) = outbox.db.purges_sent(&ids).await {
                // Still owed on record: they are sent again after the lease, which the CDN
                // takes as a harmless repeat.
                tracing::warn!(error = %e, ?paths, "purges sent but not marked; they will be sent again");
            }
        }
        Err(e) => {
            metrics::counter!(FAILED_TOTAL).increment(ids.len() as u64);
            match e {
                InvalidateError::Unavailable(_) => {
                    tracing::warn!(error = %e, ?paths, "CDN purge deferred; retrying with backoff");
                }
                InvalidateError::Rejected(_) => {
                    tracing::error!(error = %e, ?paths, "CDN purge refused; check the CDN settings (retrying)");
                }
            }
            // A refusal that only a configuration change fixes is retried at the longest
            // backoff, not every second.
            let first = match e {
                InvalidateError::Unavailable(_) => policy.first_backoff,
                InvalidateError::Rejected(_) => policy.max_backoff,
            };
            if let Err(e) = outbox
                .db
                .purges_failed(&ids, first, policy.max_backoff)
                .await
            {
                // Left as taken: they come due again when the lease runs out.
                tracing::warn!(error = %e, "could not record failed purges; retrying after the lease");
            }
        }
    }
    for done in waiting {
        let _ = done.send(outcome.clone());
    }
}
