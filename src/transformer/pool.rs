//! The bounded render pool: how many renders run at once (the workers) and how many may
//! wait for one (the queue). Past that, a render is refused with 503
//! ([`TransformerError::Overloaded`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::TransformerError;

/// The bounded render pool: `workers` renders at once, and at most `limit` admitted
/// (running or waiting) in total.
pub(super) struct Pool {
    running: Semaphore,
    workers: usize,
    admitted: AtomicUsize,
    limit: usize,
    cores: usize,
}

/// A place in the pool's queue, given back when dropped.
pub(super) struct Ticket<'a>(&'a Pool);

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    pub(super) fn new(workers: usize, queue: usize, cores: usize) -> Pool {
        Pool {
            running: Semaphore::new(workers),
            workers,
            admitted: AtomicUsize::new(0),
            limit: workers + queue,
            cores,
        }
    }

    /// libvips threads for a render starting now: the cores shared among the renders
    /// running (this one included). One render alone gets every core, which shortens the
    /// wait of its one user; under load each gets one, which avoids the cost of threads
    /// competing for cores (Sharp makes the same choice by default on glibc).
    pub(super) fn threads_for_next(&self) -> u32 {
        let running = self.workers - self.running.available_permits();
        (self.cores / running.max(1)).max(1) as u32
    }

    pub(super) fn admit(&self) -> Result<Ticket<'_>, TransformerError> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| Ticket(self))
            .map_err(|_| TransformerError::Overloaded)
    }

    /// A worker, once one is free; given back when dropped.
    pub(super) async fn worker(&self) -> Result<SemaphorePermit<'_>, TransformerError> {
        self.running
            .acquire()
            .await
            .map_err(|_| TransformerError::Internal("render pool closed".into()))
    }
}
