//! The shared Redis handle: one lazily connected, self-reconnecting connection with short
//! timeouts and a key prefix, used by the rate limiter and the metadata cache.
//!
//! Redis is an accelerator for imgedge, never a dependency of correctness, so this handle is
//! built to fail fast rather than to wait: building it never touches the network, every
//! command has a deadline, and after a connectivity failure the handle answers
//! [`RedisError::Unavailable`] at once for a short pause instead of letting every request
//! pay a connect timeout while Redis is away. The first command after the pause probes
//! Redis again, so an outage ends without a restart.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisResult};
use tokio::sync::OnceCell;

/// Why a Redis operation did not happen. Callers degrade on every variant; the cause is kept
/// for logs.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The URL given at start is not a Redis URL (the URL itself is not repeated: it may
    /// hold a password).
    #[error("invalid Redis URL")]
    InvalidUrl(#[source] ::redis::RedisError),
    /// A recent command failed to reach Redis; no new attempt until the pause is over.
    #[error("Redis is unavailable (a recent command failed to reach it)")]
    Unavailable,
    /// The command did not complete within its deadline.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis could not be reached, or answered with an error.
    #[error("Redis command failed")]
    Command(#[source] ::redis::RedisError),
    /// Redis answered something other than what the command should return.
    #[error("unexpected answer from Redis: {0}")]
    Unexpected(String),
}

/// Which Redis, and the prefix of every key this deployment uses there.
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]` (`rediss://` for TLS); `Debug` hides it.
    pub url: String,
    pub prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: "redis://127.0.0.1:6379".into(),
            prefix: "imgedge:".into(),
        }
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Timing of a [`RedisHandle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisOptions {
    /// Bound on establishing a connection (TCP and handshake).
    pub connect_timeout: Duration,
    /// Bound on each command's answer once connected.
    pub response_timeout: Duration,
    /// After a command fails to reach Redis, how long commands fail at once without trying.
    pub pause_after_failure: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            connect_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(250),
            pause_after_failure: Duration::from_secs(1),
        }
    }
}

/// A cheap-to-clone handle on one Redis server, shared by every user in the process.
#[derive(Clone)]
pub struct RedisHandle {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    /// Created on first use rather than in [`RedisHandle::new`], because the connection
    /// manager spawns a task and so needs a running Tokio runtime.
    manager: OnceCell<ConnectionManager>,
    prefix: String,
    options: RedisOptions,
    clock: Clock,
    /// Microseconds on `clock` until which commands fail without trying; 0 when Redis is
    /// believed reachable.
    paused_until: AtomicU64,
}

impl fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client is left out on purpose: its connection info holds the password.
        f.debug_struct("RedisHandle")
            .field("prefix", &self.inner.prefix)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl RedisHandle {
    /// A handle on the Redis at `url` (`redis://[user:password@]host:port[/db]`) whose keys
    /// all start with `prefix`. Never connects: a Redis that is down at start only makes the
    /// first commands fail. Errors only for a URL that does not parse.
    pub fn new(url: &str, prefix: &str) -> Result<RedisHandle, RedisError> {
        RedisHandle::with_options(url, prefix, RedisOptions::default())
    }

    /// [`RedisHandle::new`] with explicit timing.
    pub fn with_options(
        url: &str,
        prefix: &str,
        options: RedisOptions,
    ) -> Result<RedisHandle, RedisError> {
        let client = Client::open(url).map_err(RedisError::InvalidUrl)?;
        Ok(RedisHandle {
            inner: Arc::new(Inner {
                client,
                manager: OnceCell::new(),
                prefix: prefix.trim_end_matches(':').to_owned(),
                options,
                clock: Clock::new(),
                paused_until: AtomicU64::new(0),
            }),
        })
    }

    /// The key prefix, without a trailing `:`.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The handle's timing.
    pub fn options(&self) -> RedisOptions {
        self.inner.options
    }

    /// The full key for `parts`: the prefix and the parts joined with `:`
    /// (`key(&["rl", "upload", "u1"])` is `"{prefix}:rl:upload:u1"`).
    pub fn key(&self, parts: &[&str]) -> String {
        let len = self.inner.prefix.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>();
        let mut key = String::with_capacity(len);
        key.push_str(&self.inner.prefix);
        for part in parts {
            if !key.is_empty() {
                key.push(':');
            }
            key.push_str(part);
        }
        key
    }

    /// Checks that Redis answers, for readiness probes. Unlike [`RedisHandle::run`] it always
    /// tries, even during the pause after a failure, and its outcome ends or starts a pause.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let answer: String = self
            .attempt(|mut conn| async move { ::redis::cmd("PING").query_async(&mut conn).await })
            .await?;
        if answer == "PONG" {
            Ok(())
        } else {
            Err(RedisError::Unexpected(format!("PING answered {answer:?}")))
        }
    }

    /// Runs `op` on a connection within the handle's deadline
    /// (`connect_timeout + response_timeout`). During the pause after a connectivity
    /// failure it fails at once with [`RedisError::Unavailable`].
    ///
    /// `op` may be called twice: when the first call finds the connection refused or
    /// dropped (a stale connection from before an outage ended), it is retried once on a
    /// fresh connection within the same deadline. Commands are therefore expected to be
    /// harmless to repeat in that case, which holds when the failure happened before Redis
    /// read the command.
    ///
    /// ```ignore
    /// let n: i64 = redis.run(|mut c| async move { ::redis::cmd("INCR").arg(&key).query_async(&mut c).await }).await?;
    /// ```
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, RedisError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.is_paused() {
            return Err(RedisError::Unavailable);
        }
        self.attempt(op).await
    }

    /// Whether commands currently fail at once because Redis recently could not be reached.
    pub fn is_paused(&self) -> bool {
        let until = self.inner.paused_until.load(Ordering::Acquire);
        until != 0 && self.inner.clock.now_us() < until
    }

    async fn attempt<T, F, Fut>(&self, op: F) -> Result<T, RedisError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let deadline = self.inner.options.connect_timeout + self.inner.options.response_timeout;
        let work = async {
            let conn = self.manager().await?;
            match op(conn.clone()).await {
                // The manager hands out the outcome of its last connection attempt, which is
                // a failure for the first command after an outage; that command has also
                // started a reconnection, so one more try sees Redis as it is now.
                Err(e) if e.is_connection_refusal() || e.is_connection_dropped() => op(conn).await,
                other => other,
            }
        };
        let outcome = match tokio::time::timeout(deadline, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(RedisError::Command(e)),
            Err(_) => Err(RedisError::Timeout(deadline)),
        };
        match &outcome {
            Ok(_) => self.inner.paused_until.store(0, Ordering::Release),
            Err(e) if e.is_connectivity() => self.pause(),
            // Redis answered (with an error): it is reachable.
            Err(_) => {}
        }
        outcome
    }

    async fn manager(&self) -> RedisResult<ConnectionManager> {
        self.inner
            .manager
            .get_or_try_init(|| async {
                let options = &self.inner.options;
                // No retries inside the manager: a failed attempt must fail the command now
                // (the caller degrades), and the next command triggers the next attempt.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(options.connect_timeout))
                    .set_response_timeout(Some(options.response_timeout))
                    .set_number_of_retries(0);
                ConnectionManager::new_lazy_with_config(self.inner.client.clone(), config)
            })
            .await
            .cloned()
    }

    fn pause(&self) {
        let pause =
            u64::try_from(self.inner.options.pause_after_failure.as_micros()).unwrap_or(u64::MAX);
        let until = self.inner.clock.now_us().saturating_add(pause).max(1);
        self.inner.paused_until.store(until, Ordering::Release);
    }
}

impl RedisError {
    /// Whether the error says Redis could not be reached in time (as opposed to Redis
    /// answering with an error).
    pub fn is_connectivity(&self) -> bool {
        match self {
            RedisError::Unavailable | RedisError::Timeout(_) => true,
            RedisError::Command(e) => {
                e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_refusal()
                    || e.is_connection_dropped()
                    || e.is_unrecoverable_error()
            }
            RedisError::InvalidUrl(_) | RedisError::Unexpected(_) => false,
        }
    }
}

/// `error` and its sources joined with `: `, for one log field that keeps the root cause.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Monotonic microseconds since the value was made, for lock-free timestamps in atomics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    pub(crate) fn now_us(self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Lets a repeated log line through at most once per interval, so an outage that fails every
/// request logs a few lines, not one per request.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    clock: Clock,
    every_us: u64,
    /// `clock` microseconds (plus one, so 0 means never) of the last line let through.
    last: AtomicU64,
}

impl LogThrottle {
    pub(crate) fn new(every: Duration) -> LogThrottle {
        LogThrottle {
            clock: Clock::new(),
            every_us: u64::try_from(every.as_micros()).unwrap_or(u64::MAX),
            last: AtomicU64::new(0),
        }
    }

    /// Whether to log now; true for at most one caller per interval.
    pub(crate) fn ready(&self) -> bool {
        let now = self.clock.now_us().saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < self.every_us {
            return false;
        }
        self.last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_urls_are_accepted() {
        // ElastiCache with in-transit encryption: `rediss://`. Without the crate's TLS
        // feature, opening such a client fails.
        RedisHandle::new("rediss://127.0.0.1:1", "imgedge:").expect("rediss:// is supported");
    }

    #[test]
    fn keys_join_the_prefix_and_parts_with_colons() {
        let redis = RedisHandle::new("redis://127.0.0.1:1", "imgedge:").expect("valid URL");
        assert_eq!(redis.key(&["rl", "upload", "u1"]), "imgedge:rl:upload:u1");
        assert_eq!(redis.prefix(), "imgedge");
        let bare = RedisHandle::new("redis://127.0.0.1:1", "").expect("valid URL");
        assert_eq!(bare.key(&["meta", "x"]), "meta:x");
    }

    #[test]
    fn only_an_invalid_url_is_an_error_and_it_does_not_echo_the_url() {
        let err = RedisHandle::new("http://user:hunter2@example", "p").expect_err("not redis");
        assert!(matches!(err, RedisError::InvalidUrl(_)));
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        assert!(RedisHandle::new("redis://user:pw@127.0.0.1:1/2", "p").is_ok());
    }

    #[test]
    fn debug_output_hides_the_url() {
        let redis = RedisHandle::new("redis://:hunter2@127.0.0.1:1", "p").expect("valid URL");
        assert!(!format!("{redis:?}").contains("hunter2"));
    }

    #[test]
    fn the_log_throttle_lets_one_line_through_per_interval() {
        let throttle = LogThrottle::new(Duration::from_hours(1));
        assert!(throttle.ready());
        assert!(!throttle.ready());
        let always = LogThrottle::new(Duration::ZERO);
        assert!(always.ready());
        assert!(always.ready());
    }
}
