//! Renders ahead: the job queue that eager presets fill at upload (`render_jobs`), drained
//! by a task of the API role. Each job fetches its signed URL through the CDN, as a first
//! viewer would, with an `Accept` that picks its class for `format=auto`: the CDN answers
//! from S3 or has the transformer render and store it, under the owner's render budget like
//! any render. Jobs are taken under a lease with `FOR UPDATE SKIP LOCKED`, retried with
//! exponential backoff, and survive restarts; one that cannot succeed (the transform is
//! beyond the image, the image or its key gone) is marked failed at once.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imgedge_url::{ImageId, KeyEpoch, Sig, UrlKey, UrlSecret, path_with_query};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::db::{Db, RenderJob};

/// How jobs are taken, run and retried.
#[derive(Debug, Clone, Copy)]
pub struct PrerenderPolicy {
    /// How often the table is read for jobs that came due, besides a wake at each upload.
    pub poll_every: Duration,
    /// Jobs taken at once, and run concurrently.
    pub batch: u32,
    /// How long a taken job is left to its taker; longer than `request_timeout`.
    pub lease: Duration,
    /// The longest one fetch may take.
    pub request_timeout: Duration,
    /// Backoff after a failure that may pass, doubling up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a job is given up as failed.
    pub max_attempts: i32,
}

impl Default for PrerenderPolicy {
    fn default() -> Self {
        PrerenderPolicy {
            poll_every: Duration::from_secs(2),
            batch: 2,
            lease: Duration::from_mins(3),
            request_timeout: Duration::from_mins(2),
            first_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_mins(5),
            max_attempts: 8,
        }
    }
}

/// The queue's worker. Cheap to clone.
#[derive(Clone)]
pub struct Prerender(Arc<Inner>);

struct Inner {
    db: Db,
    http: reqwest::Client,
    cdn_base: String,
    url_secret: UrlSecret,
    policy: PrerenderPolicy,
    wake: Notify,
    started: Mutex<bool>,
}

impl std::fmt::Debug for Prerender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prerender")
            .field("cdn_base", &self.0.cdn_base)
            .field("policy", &self.0.policy)
            .finish_non_exhaustive()
    }
}

/// The running task; dropping it stops the task (what it had taken comes due again after
/// the lease).
#[derive(Debug)]
pub struct Prerendering(JoinHandle<()>);

impl Drop for Prerendering {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one fetch came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetched {
    Stored,
    /// A refusal that will not change: the job fails for good.
    Refused,
    /// A failure that may pass (rate limit, overload, an outage, a timeout).
    NotYet,
}

impl Prerender {
    pub fn new(db: Db, cdn_base: String, url_secret: UrlSecret, policy: PrerenderPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(policy.request_timeout)
            .build()
            .unwrap_or_default();
        Prerender(Arc::new(Inner {
            db,
            http,
            cdn_base,
            url_secret,
            policy,
            wake: Notify::new(),
            started: Mutex::new(false),
        }))
    }

    /// Looks at the queue now (an upload just owed jobs).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Runs jobs until `shutdown` completes. Only the first call starts a task.
    pub fn start(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Option<Prerendering> {
        let mut started = self.0.started.lock().ok()?;
        if *started {
            return None;
        }
        *started = true;
        let inner = Arc::clone(&self.0);
        Some(Prerendering(tokio::spawn(async move {
            tokio::select! {
                () = work(inner) => {}
                () = shutdown => {}
            }
        })))
    }
}

async fn work(inner: Arc<Inner>) {
    loop {
        let jobs = match inner
            .db
            .take_due_jobs(inner.policy.batch, inner.policy.lease)
            .await
        {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::warn!(error = %err, "render jobs not read; retrying");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(inner.policy.poll_every) => {}
            }
            continue;
        }
        futures::future::join_all(jobs.into_iter().map(|job| run(&inner, job))).await;
    }
}

async fn run(inner: &Inner, job: RenderJob) {
    let fetched = fetch(inner, &job).await;
    let recorded = match fetched {
        Fetched::Stored => inner.db.finish_job(job.id, true).await,
        Fetched::NotYet if job.attempts + 1 < inner.policy.max_attempts => {
            let backoff = backoff(&inner.policy, job.attempts);
            inner.db.retry_job(job.id, backoff).await
        }
        Fetched::Refused | Fetched::NotYet => {
            tracing::info!(job = job.id, image = %job.image_id, ?fetched, "render ahead given up");
            inner.db.finish_job(job.id, false).await
        }
    };
    metrics::counter!("imgedge_prerender_jobs_total", "outcome" => match fetched {
        Fetched::Stored => "stored",
        Fetched::Refused => "refused",
        Fetched::NotYet => "retried",
    })
    .increment(1);
    if let Err(err) = recorded {
        // Its lease runs out and it is taken again: a render already stored is then
        // answered from S3.
        tracing::warn!(job = job.id, error = %err, "render job outcome not recorded");
    }
}

fn backoff(policy: &PrerenderPolicy, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(0);
    policy
        .first_backoff
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(policy.max_backoff)
}

/// The job's URL, signed now (with the image's current key epoch), fetched through the CDN
/// and read to its end.
async fn fetch(inner: &Inner, job: &RenderJob) -> Fetched {
    let id = ImageId::from_uuid(job.image_id);
    let epoch = KeyEpoch(u32::try_from(job.key_epoch).unwrap_or(0));
    let key = UrlKey::derive_at(&inner.url_secret, &id, epoch);
    let sig = Sig::compute(&key, &job.canonical_query);
    let url = format!(
        "{}{}",
        inner.cdn_base,
        path_with_query(&id, &sig, &job.canonical_query)
    );
    // The `Accept` a browser of the class would send; the CDN reduces it to the class.
    let accept = match job.accept_class.as_str() {
        "avif" => "image/avif,image/webp,*/*",
        "webp" => "image/webp,*/*",
        _ => "image/jpeg,image/png,*/*",
    };
    let response = match inner.http.get(&url).header("accept", accept).send().await {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(job = job.id, error = %err, "render ahead not fetched");
            return Fetched::NotYet;
        }
    };
    let status = response.status();
    // Read to the end: the variant is stored once its answer is complete.
    let complete = response.bytes().await.is_ok();
    if status.is_success() && complete {
        Fetched::Stored
    } else if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 408 {
        Fetched::Refused
    } else {
        Fetched::NotYet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let policy = PrerenderPolicy::default();
        assert_eq!(backoff(&policy, 0), Duration::from_secs(2));
        assert_eq!(backoff(&policy, 3), Duration::from_secs(16));
        assert_eq!(backoff(&policy, 30), policy.max_backoff);
    }
}
