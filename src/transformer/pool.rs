//! The render pool: how many renders run at once (the workers), how many may wait for one
//! (the queue), and who goes next. Past the queue, a render is refused with 503
//! ([`TransformerError::Overloaded`]).
//!
//! The pool is fair between image owners, because one account must not be able to take
//! the renders of everyone else:
//! - an owner runs at most `per_owner` renders at once (by default half the workers), so
//!   the other workers stay free for the other owners;
//! - renders wait in one queue per owner, and a freed worker goes to the owners in turn
//!   (round robin), not to whoever queued most;
//! - when the queue is full, a newcomer with fewer renders waiting than the owner with the
//!   most takes the place of that owner's newest one (which is refused), so a flood from one
//!   account sheds its own renders rather than everyone's.
//!
//! A worker is held from the fetch of the original to the end of the render
//! ([`super::render`]), so the originals and decodes in memory are bounded by the workers,
//! not by the queue.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::TransformerError;

/// Sizes of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PoolSize {
    /// Renders running at once.
    pub(super) workers: usize,
    /// Renders of one owner running at once (at least 1).
    pub(super) per_owner: usize,
    /// Renders waiting for a worker, all owners together.
    pub(super) queue: usize,
    /// Cores, shared among the renders running.
    pub(super) cores: usize,
}

/// The fair render pool (see the module documentation).
pub(super) struct Pool {
    size: PoolSize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    waiting: usize,
    owners: HashMap<Uuid, OwnerState>,
    /// Owners with renders waiting, in the order they are served.
    turns: VecDeque<Uuid>,
    next_waiter: u64,
}

#[derive(Default)]
struct OwnerState {
    running: usize,
    waiting: VecDeque<Waiter>,
}

struct Waiter {
    id: u64,
    answer: oneshot::Sender<Answer>,
}

/// What a waiting render is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A worker is now its own.
    Run,
    /// Its place went to another owner's render: refused.
    Shed,
}

/// A worker of the pool, given back when dropped.
pub(super) struct Worker<'a> {
    pool: &'a Pool,
    owner: Uuid,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        state.running -= 1;
        if let Some(owner) = state.owners.get_mut(&self.owner) {
            owner.running -= 1;
        }
        state.forget_if_idle(self.owner);
        Pool::dispatch(self.pool.size, &mut state);
    }
}

/// A render waiting for a worker. Dropped before it got one (its request went away), it
/// leaves the queue; dropped just after a worker was sent to it, it gives the worker back.
struct Waiting<'a> {
    pool: &'a Pool,
    owner: Uuid,
    id: u64,
    answer: oneshot::Receiver<Answer>,
    done: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.pool.lock();
        let queued = state.owners.get_mut(&self.owner).and_then(|owner| {
            let at = owner.waiting.iter().position(|w| w.id == self.id)?;
            owner.waiting.remove(at)
        });
        if queued.is_some() {
            state.waiting -= 1;
            // An owner with nothing left waiting leaves the turns, or it would queue again
            // with a second turn.
            if state
                .owners
                .get(&self.owner)
                .is_some_and(|o| o.waiting.is_empty())
            {
                state.turns.retain(|owner| *owner != self.owner);
            }
        } else if let Ok(Answer::Run) = self.answer.try_recv() {
            state.running -= 1;
            if let Some(owner) = state.owners.get_mut(&self.owner) {
                owner.running -= 1;
            }
        }
        state.forget_if_idle(self.owner);
        Pool::dispatch(self.pool.size, &mut state);
    }
}

impl State {
    fn forget_if_idle(&mut self, owner: Uuid) {
        if self
            .owners
            .get(&owner)
            .is_some_and(|o| o.running == 0 && o.waiting.is_empty())
        {
            self.owners.remove(&owner);
        }
    }
}

impl Pool {
    pub(super) fn new(size: PoolSize) -> Pool {
        Pool {
            size: PoolSize {
                workers: size.workers.max(1),
                per_owner: size.per_owner.clamp(1, size.workers.max(1)),
                ..size
            },
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is updated in small steps that leave it consistent; a panic elsewhere
        // while the lock was held does not make it wrong.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// libvips threads for a render starting now: the cores shared among the renders
    /// running (this one included). One render alone gets every core, which shortens the
    /// wait of its one user; under load each gets one, which avoids the cost of threads
    /// competing for cores (Sharp makes the same choice by default on glibc).
    pub(super) fn threads_for_next(&self) -> u32 {
        let running = self.lock().running;
        (self.size.cores / running.max(1)).max(1) as u32
    }

    /// A worker for a render of `owner`'s, once it is this owner's turn; refused at once
    /// when the queue is full of renders of owners with no more waiting than this one.
    pub(super) async fn worker(&self, owner: Uuid) -> Result<Worker<'_>, TransformerError> {
        let mut waiting = {
            let mut guard = self.lock();
            let state = &mut *guard;
            let entry = state.owners.entry(owner).or_default();
            if state.running < self.size.workers
                && entry.running < self.size.per_owner
                && entry.waiting.is_empty()
            {
                entry.running += 1;
                state.running += 1;
                return Ok(Worker { pool: self, owner });
            }
            if state.waiting >= self.size.queue && !Pool::shed_for(state, owner) {
                state.forget_if_idle(owner);
                metrics::counter!("imgedge_transformer_renders_refused_total").increment(1);
                return Err(TransformerError::Overloaded);
            }
            let (answer, receiver) = oneshot::channel();
            let id = state.next_waiter;
            state.next_waiter += 1;
            state.waiting += 1;
            let entry = state.owners.entry(owner).or_default();
            entry.waiting.push_back(Waiter { id, answer });
            if entry.waiting.len() == 1 {
                state.turns.push_back(owner);
            }
            Waiting {
                pool: self,
                owner,
                id,
                answer: receiver,
                done: false,
            }
        };
        let answer = (&mut waiting.answer).await;
        waiting.done = true;
        match answer {
            Ok(Answer::Run) => Ok(Worker { pool: self, owner }),
            Ok(Answer::Shed) => Err(TransformerError::Overloaded),
            Err(_) => Err(TransformerError::Internal("render pool closed".into())),
        }
    }

    /// Makes room in a full queue for a render of `owner`: refuses the newest waiting render
    /// of the owner with the most waiting, when that owner has more waiting than `owner`.
    fn shed_for(state: &mut State, owner: Uuid) -> bool {
        let mine = state.owners.get(&owner).map_or(0, |o| o.waiting.len());
        let Some((&largest, _)) = state
            .owners
            .iter()
            .filter(|(_, o)| o.waiting.len() > mine + 1)
            .max_by_key(|(_, o)| o.waiting.len())
        else {
            return false;
        };
        let Some(shed) = state
            .owners
            .get_mut(&largest)
            .and_then(|o| o.waiting.pop_back())
        else {
            return false;
        };
        state.waiting -= 1;
        metrics::counter!("imgedge_transformer_renders_shed_total").increment(1);
        // The receiver is alive: a waiter leaves the queue under this lock before its
        // receiver is dropped.
        let _ = shed.answer.send(Answer::Shed);
        true
    }

    /// Hands free workers to waiting renders, one owner at a time in turn, skipping owners
    /// at their limit.
    fn dispatch(size: PoolSize, state: &mut State) {
        let mut skipped = 0;
        while state.running < size.workers && skipped < state.turns.len() {
            let Some(owner) = state.turns.pop_front() else {
                break;
            };
            let Some(entry) = state.owners.get_mut(&owner) else {
                continue;
            };
            if entry.waiting.is_empty() {
                continue;
            }
            if entry.running >= size.per_owner {
                state.turns.push_back(owner);
                skipped += 1;
                continue;
            }
            let waiter = entry.waiting.pop_front().expect("not empty");
            entry.running += 1;
            if !entry.waiting.is_empty() {
                state.turns.push_back(owner);
            }
            state.running += 1;
            state.waiting -= 1;
            skipped = 0;
            let _ = waiter.answer.send(Answer::Run);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pool(workers: usize, per_owner: usize, queue: usize) -> Pool {
        Pool::new(PoolSize {
            workers,
            per_owner,
            queue,
            cores: workers,
        })
    }

    /// Whether `future` is still pending after the scheduler has had a moment.
    async fn pending<F: Future + Unpin>(future: &mut F) -> bool {
        tokio::time::timeout(Duration::from_millis(20), future)
            .await
            .is_err()
    }

    #[tokio::test]
    async fn one_owner_takes_at_most_its_share_of_the_workers() {
        let pool = pool(2, 1, 8);
        let (busy, other) = (Uuid::new_v4(), Uuid::new_v4());
        let first = pool.worker(busy).await.expect("a free worker");
        let mut second = Box::pin(pool.worker(busy));
        assert!(pending(&mut second).await, "the owner is at its limit");
        let theirs = pool.worker(other).await.expect("the other worker is free");
        drop(first);
        let second = second.await.expect("its turn came");
        drop((second, theirs));
    }

    #[tokio::test]
    async fn owners_are_served_in_turn() {
        let pool = pool(1, 1, 16);
        let (flood, calm) = (Uuid::new_v4(), Uuid::new_v4());
        let running = pool.worker(flood).await.expect("free");
        let mut floods: Vec<_> = (0..5).map(|_| Box::pin(pool.worker(flood))).collect();
        for f in &mut floods {
            assert!(pending(f).await);
        }
        let mut calm_one = Box::pin(pool.worker(calm));
        assert!(pending(&mut calm_one).await);
        drop(running);
        // The flood queued first, but the freed worker goes to the other owner's turn
        // after exactly one of the flood's renders at most: here, the flood's first.
        let next = (&mut floods[0]).await.expect("the flood's turn");
        assert!(pending(&mut calm_one).await);
        drop(next);
        let calm_worker = calm_one.await.expect("the calm owner's turn");
        for f in &mut floods[1..] {
            assert!(
                pending(f).await,
                "the flood waits for the calm owner's render"
            );
        }
        drop(calm_worker);
    }

    #[tokio::test]
    async fn a_full_queue_sheds_the_flood_not_the_newcomer() {
        let pool = pool(1, 1, 3);
        let (flood, calm) = (Uuid::new_v4(), Uuid::new_v4());
        let _running = pool.worker(flood).await.expect("free");
        let mut floods: Vec<_> = (0..3).map(|_| Box::pin(pool.worker(flood))).collect();
        for f in &mut floods {
            assert!(pending(f).await);
        }
        // The queue is full: the flood's next is refused, the calm owner's is admitted and
        // the flood's newest waiting render is refused in its place.
        assert!(matches!(
            pool.worker(flood).await,
            Err(TransformerError::Overloaded)
        ));
        let mut calm_one = Box::pin(pool.worker(calm));
        assert!(pending(&mut calm_one).await);
        assert!(matches!(
            floods.pop().expect("three").await,
            Err(TransformerError::Overloaded)
        ));
    }

    #[tokio::test]
    async fn a_request_that_goes_away_leaves_the_queue() {
        let pool = pool(1, 1, 1);
        let owner = Uuid::new_v4();
        let running = pool.worker(owner).await.expect("free");
        let mut waiting = Box::pin(pool.worker(owner));
        assert!(pending(&mut waiting).await);
        drop(waiting);
        drop(running);
        // Both places are free again.
        let again = pool.worker(owner).await.expect("free");
        let mut next = Box::pin(pool.worker(owner));
        assert!(pending(&mut next).await);
        drop(again);
        next.await.expect("served");
        let state = pool.lock();
        assert_eq!(state.owners.len(), 0, "nothing left behind");
        assert!(state.turns.is_empty(), "no turn left behind");
    }
}
