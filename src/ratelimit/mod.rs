//! Rate limiting with GCRA (the generic cell rate algorithm), shared across API processes
//! through one atomic Redis script, with an in-process fallback when Redis is unreachable.
//!
//! GCRA keeps one number per key, the theoretical arrival time (TAT): the moment the key's
//! budget would be full again. A request at `now` moves it to `max(TAT, now) + interval`
//! and is allowed while that lies no further ahead than `burst` intervals. Time comes from
//! Redis (`TIME`) so that every API process judges by the same clock, and the key expires
//! when the TAT passes, so idle keys vanish.
//!
//! The arithmetic is written twice, in [`Gcra::step`] (the fallback, and the reference the
//! unit tests check) and in [`GCRA_LUA`] (the shared limiter), line for line with the same
//! names and integer microseconds, so that the two cannot drift apart unnoticed.
//!
//! The limiter fails open: Redis being down must not take the API down, so a failing Redis
//! call falls back to the same algorithm in process memory (limits then hold per process),
//! marks the decision `degraded`, counts `imgedge_ratelimit_fallback_total` and logs a
//! warning at most every ten seconds.

use std::sync::Arc;
use std::time::Duration;

use ::redis::Script;
use axum::http::{HeaderName, HeaderValue, header};
use moka::Expiry;
use moka::ops::compute::Op;

use crate::redis::{Clock, LogThrottle, RedisHandle};

mod gcra;

use gcra::{GCRA_LUA, Gcra, GcraStep};

/// How many requests a key may make: `per_period` per `period` on average, and up to
/// `burst` at once. Zeroes are read as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_period: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Quota {
    /// `per_minute` requests a minute on average, `burst` at once.
    pub const fn per_minute(per_minute: u32, burst: u32) -> Quota {
        Quota {
            per_period: per_minute,
            period: Duration::from_mins(1),
            burst,
        }
    }

    /// The average rate per minute.
    pub fn per_minute_rate(&self) -> u64 {
        let period = self.period.as_millis().max(1);
        (u128::from(self.per_period) * 60_000 / period) as u64
    }

    /// The steady-state spacing of requests (the emission interval).
    pub fn interval(&self) -> Duration {
        Duration::from_micros(Gcra::from_quota(self).interval_us)
    }
}

/// `PER_MINUTE:BURST`, as the command line takes quotas: `1200:200`.
impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.per_minute_rate(), self.burst)
    }
}

/// A quota's text was not `PER_MINUTE:BURST` with two positive integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected two positive integers, PER_MINUTE:BURST")]
pub struct BadQuota;

impl std::str::FromStr for Quota {
    type Err = BadQuota;

    fn from_str(text: &str) -> Result<Quota, BadQuota> {
        let (rate, burst) = text.split_once(':').ok_or(BadQuota)?;
        let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
        match (number(rate), number(burst)) {
            (Some(per_minute), Some(burst)) => Ok(Quota::per_minute(per_minute, burst)),
            _ => Err(BadQuota),
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The most requests the key can make at once (the quota's burst).
    pub limit: u32,
    /// How many more requests would be allowed right now.
    pub remaining: u32,
    /// How long until the key's budget is full again (`remaining == limit`).
    pub reset_after: Duration,
    /// For a refused request, how long until the same request would be allowed.
    pub retry_after: Option<Duration>,
    /// True when Redis failed and the decision came from this process alone.
    pub degraded: bool,
}

impl Decision {
    /// The response headers of draft-ietf-httpapi-ratelimit-headers (`RateLimit-Limit`,
    /// `RateLimit-Remaining`, `RateLimit-Reset` in whole seconds rounded up) and, for a
    /// refused request, `Retry-After` (whole seconds, rounded up, so at least 1).
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (
                HeaderName::from_static("ratelimit-limit"),
                HeaderValue::from(self.limit),
            ),
            (
                HeaderName::from_static("ratelimit-remaining"),
                HeaderValue::from(self.remaining),
            ),
            (
                HeaderName::from_static("ratelimit-reset"),
                HeaderValue::from(ceil_secs(self.reset_after)),
            ),
        ];
        if let Some(retry_after) = self.retry_after.filter(|_| !self.allowed) {
            headers.push((
                header::RETRY_AFTER,
                HeaderValue::from(ceil_secs(retry_after).max(1)),
            ));
        }
        headers
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The limiter. Clones share their state.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    redis: Option<RedisHandle>,
    script: Script,
    /// The fallback's TATs, on `clock`; each entry expires when its TAT passes.
    local: moka::sync::Cache<String, LocalTat>,
    clock: Clock,
    warn: LogThrottle,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("redis", &self.inner.redis)
            .finish_non_exhaustive()
    }
}

/// Bound on the keys the fallback remembers; beyond it the least useful are evicted, which
/// only makes the fallback more lenient.
const LOCAL_MAX_KEYS: u64 = 100_000;

impl RateLimiter {
    /// A limiter backed by `redis`, or by this process alone when `None` (decisions are then
    /// not marked degraded: that is the configuration, not a failure).
    pub fn new(redis: Option<RedisHandle>) -> RateLimiter {
        RateLimiter {
            inner: Arc::new(Inner {
                redis,
                script: Script::new(GCRA_LUA),
                local: moka::sync::Cache::builder()
                    .max_capacity(LOCAL_MAX_KEYS)
                    .expire_after(TatExpiry)
                    .build(),
                clock: Clock::new(),
                warn: LogThrottle::new(Duration::from_secs(10)),
            }),
        }
    }

    /// Counts one request for `key` (the caller's choice, e.g. `upload:{user_id}` or
    /// `login-ip:{ip}`) against `quota`. Never fails: see the module documentation.
    pub async fn check(&self, key: &str, quota: &Quota) -> Decision {
        self.decide(key, quota, 1, true).await
    }

    /// Counts a request that costs `cost` units (at least 1) against `quota`, whose rate and
    /// burst are then in units: the transformer charges a render by its estimated work. A
    /// request costing more than the burst is allowed only when the key's budget is full,
    /// and leaves the key in debt for the rest of its cost: it is charged in full.
    pub async fn check_cost(&self, key: &str, quota: &Quota, cost: u32) -> Decision {
        self.decide(key, quota, cost, true).await
    }

    /// Whether a request for `key` would be allowed now, without counting one: for budgets
    /// spent only by some outcomes (a failed sign-in), checked before the work and spent
    /// with [`RateLimiter::check`] after it.
    pub async fn peek(&self, key: &str, quota: &Quota) -> Decision {
        self.decide(key, quota, 1, false).await
    }

    async fn decide(&self, key: &str, quota: &Quota, cost: u32, commit: bool) -> Decision {
        let gcra = Gcra::from_quota(quota).costing(cost);
        let Some(redis) = &self.inner.redis else {
            return gcra.decision(self.check_local(key, gcra, commit), false);
        };
        let redis_key = redis.key(&["rl", key]);
        let script = &self.inner.script;
        let shared = redis
            .run(|mut conn| {
                let redis_key = &redis_key;
                async move {
                    script
                        .key(redis_key)
                        .arg(gcra.interval_us)
                        .arg(gcra.tolerance_us)
                        .arg(gcra.increment_us)
                        .arg(u8::from(commit))
                        .invoke_async::<(u64, u64, u64, u64)>(&mut conn)
                        .await
                }
            })
            .await;
        match shared {
            Ok((allowed, remaining, reset_after_us, retry_after_us)) => gcra.decision(
                GcraStep {
                    allowed: allowed == 1,
                    remaining,
                    reset_after_us,
                    retry_after_us,
                    new_tat: None,
                },
                false,
            ),
            Err(e) => {
                metrics::counter!("imgedge_ratelimit_fallback_total").increment(1);
                if self.inner.warn.ready() {
                    tracing::warn!(
                        error = %crate::redis::error_chain(&e),
                        "rate limiting in process memory: Redis is unavailable"
                    );
                }
                gcra.decision(self.check_local(key, gcra, commit), true)
            }
        }
    }

    fn check_local(&self, key: &str, gcra: Gcra, commit: bool) -> GcraStep {
        let now = self.inner.clock.now_us();
        let mut outcome = None;
        // The compute closure runs under moka's per-key lock, which makes the
        // read-decide-write atomic like the script is in Redis.
        self.inner
            .local
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let step = gcra.step(now, entry.map(|e| e.into_value().tat_us));
                outcome = Some(step);
                match step.new_tat.filter(|_| commit) {
                    Some(tat_us) => Op::Put(LocalTat {
                        tat_us,
                        ttl: Duration::from_micros(tat_us - now),
                    }),
                    None => Op::Nop,
                }
            });
        outcome.expect("moka calls the compute closure exactly once")
    }
}

#[derive(Debug, Clone, Copy)]
struct LocalTat {
    tat_us: u64,
    /// Until the TAT passes, after which the entry means nothing (same as the script's PX).
    ttl: Duration,
}

struct TatExpiry;

impl Expiry<String, LocalTat> for TatExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &LocalTat,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &LocalTat,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Registers the descriptions of this module's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        "imgedge_ratelimit_fallback_total",
        "Rate-limit decisions taken in process memory because Redis was unavailable"
    );
}
