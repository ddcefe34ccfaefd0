//! Single flight: concurrent callers asking for the same key share one execution of the
//! work (the transformer's renders, the edge's origin fetches), as a CDN collapses concurrent
//! misses into one origin request.
//!
//! The work runs in its own task, so a caller that goes away (a client hanging up) does not
//! cancel it for the others, and a render that started is finished and stored.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};

/// The work's task panicked; the callers that shared it get this instead of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared work panicked")]
pub(crate) struct Panicked;

type Flight<V> = Shared<BoxFuture<'static, Result<V, Panicked>>>;

/// Shares executions by key. Clones share the table.
pub(crate) struct SingleFlight<K, V> {
    inflight: Arc<Mutex<HashMap<K, Flight<V>>>>,
}

impl<K, V> Clone for SingleFlight<K, V> {
    fn clone(&self) -> Self {
        Self {
            inflight: Arc::clone(&self.inflight),
        }
    }
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            inflight: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight").finish_non_exhaustive()
    }
}

/// Who ran the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// This call started the work.
    Leader,
    /// This call joined work another call had started.
    Follower,
}

/// Removes the key when the work's task ends, however it ends (a panic included).
struct Landing<K: Hash + Eq, V> {
    inflight: Arc<Mutex<HashMap<K, Flight<V>>>>,
    key: Option<K>,
}

impl<K: Hash + Eq, V> Drop for Landing<K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inflight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
    }
}

impl<K, V> SingleFlight<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Runs `work` for `key`, unless a run for `key` is in flight: then waits for that run's
    /// value instead, and `work` is dropped unused. Must be called within a Tokio runtime.
    pub(crate) async fn run<F>(&self, key: K, work: F) -> (Result<V, Panicked>, Role)
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (flight, role) = {
            let mut table = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(flight) = table.get(&key) {
                (flight.clone(), Role::Follower)
            } else {
                // The task cannot remove the key before it is inserted: removal takes the
                // lock held here.
                let landing = Landing {
                    inflight: Arc::clone(&self.inflight),
                    key: Some(key.clone()),
                };
                let task = tokio::spawn(async move {
                    let _landing = landing;
                    work.await
                });
                let flight = async move { task.await.map_err(|_| Panicked) }
                    .boxed()
                    .shared();
                table.insert(key, flight.clone());
                (flight, Role::Leader)
            }
        };
        (flight.await, role)
    }

    /// How many keys are in flight.
    pub(crate) fn len(&self) -> usize {
        self.inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_one_run() {
        let flights = SingleFlight::<String, u32>::new();
        let runs = Arc::new(AtomicU32::new(0));
        let calls = (0..50).map(|_| {
            let flights = flights.clone();
            let runs = Arc::clone(&runs);
            tokio::spawn(async move {
                flights
                    .run("k".to_owned(), async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 7
                    })
                    .await
            })
        });
        let results = futures::future::join_all(calls).await;
        let leaders = results
            .iter()
            .filter(|r| matches!(r, Ok((_, Role::Leader))))
            .count();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        assert!(results.iter().all(|r| matches!(r, Ok((Ok(7), _)))));
        assert!(flights.is_empty(), "the key is released after the run");
    }

    #[tokio::test]
    async fn a_later_call_runs_again() {
        let flights = SingleFlight::<u8, u8>::new();
        assert_eq!(flights.run(1, async { 1 }).await, (Ok(1), Role::Leader));
        assert_eq!(flights.run(1, async { 2 }).await, (Ok(2), Role::Leader));
    }

    #[tokio::test]
    async fn a_panic_is_reported_and_releases_the_key() {
        let flights = SingleFlight::<u8, u8>::new();
        let (result, _) = flights.run(1, async { panic!("work failed") }).await;
        assert_eq!(result, Err(Panicked));
        assert!(flights.is_empty());
        assert_eq!(flights.run(1, async { 3 }).await.0, Ok(3));
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_does_not_cancel_the_work() {
        let flights = SingleFlight::<u8, u8>::new();
        let done = Arc::new(AtomicU32::new(0));
        let seen = Arc::clone(&done);
        let call = flights.run(1, async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen.store(1, Ordering::SeqCst);
            1
        });
        // Polled once (the work starts), then dropped.
        let _ = tokio::time::timeout(Duration::from_millis(1), call).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
