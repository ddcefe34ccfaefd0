//! A render's time budget: checked between steps, and enforced inside libvips' evaluation by
//! one watchdog thread that kills the pipeline being encoded when its deadline passes.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::EngineError;
use super::vips::Image;

#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// The deadline of a budget of which `spent` is already used (by an earlier phase of the
    /// same render, such as its decode).
    pub(super) fn after_spending(budget: Duration, spent: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + budget.saturating_sub(spent),
            budget,
        }
    }

    pub(super) fn expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// Fails with [`EngineError::Timeout`] once the deadline has passed.
    pub(super) fn check(&self) -> Result<(), EngineError> {
        if self.expired() {
            Err(EngineError::Timeout(self.budget))
        } else {
            Ok(())
        }
    }

    /// Kills `image`'s evaluation if it is still running at the deadline. The returned guard
    /// disarms the watchdog when dropped.
    pub(super) fn arm(&self, image: &Image) -> Armed {
        let watchdog = Watchdog::get();
        let mut state = watchdog
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.next_id += 1;
        let id = state.next_id;
        state.armed.push(Entry {
            id,
            at: self.at,
            image: image.clone(),
        });
        drop(state);
        watchdog.wake.notify_one();
        Armed { id }
    }
}

/// Disarms its watchdog entry on drop.
#[derive(Debug)]
pub(super) struct Armed {
    id: u64,
}

impl Drop for Armed {
    fn drop(&mut self) {
        let watchdog = Watchdog::get();
        let mut state = watchdog
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.armed.retain(|entry| entry.id != self.id);
    }
}

struct Entry {
    id: u64,
    at: Instant,
    image: Image,
}

#[derive(Default)]
struct State {
    next_id: u64,
    armed: Vec<Entry>,
}

/// One thread for the whole process: it sleeps until the earliest armed deadline.
struct Watchdog {
    state: Mutex<State>,
    wake: Condvar,
}

impl Watchdog {
    fn get() -> &'static Watchdog {
        static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
        WATCHDOG.get_or_init(|| {
            let watchdog: &'static Watchdog = Box::leak(Box::new(Watchdog {
                state: Mutex::default(),
                wake: Condvar::new(),
            }));
            std::thread::Builder::new()
                .name("render-watchdog".into())
                .spawn(move || watchdog.run())
                .expect("spawning the render watchdog thread");
            watchdog
        })
    }

    fn run(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            let now = Instant::now();
            state.armed.retain(|entry| {
                if entry.at <= now {
                    entry.image.kill();
                    false
                } else {
                    true
                }
            });
            let next = state.armed.iter().map(|entry| entry.at).min();
            state = match next {
                Some(at) => {
                    self.wake
                        .wait_timeout(state, at.saturating_duration_since(now))
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
                None => self
                    .wake
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            };
        }
    }
}
