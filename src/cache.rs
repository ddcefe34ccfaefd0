//! The metadata cache: cache-aside in Redis for JSON values (an image's metadata, the first
//! page of an owner's list), which the API reads before the database and deletes after every
//! write that changes them.
//!
//! The cache can make reads faster, never wrong, and never failing: every Redis error or
//! undecodable value is a miss, writes to it are best effort, and a Redis outage only sends
//! reads to the database. One case needs more than that: when a delete fails, Redis may still
//! hold the value the write just made stale (Redis was unreachable from here but not down,
//! or kept its data across a restart). So after a failed delete this process stops using
//! the cache for one TTL, by which time every entry written before the delete has expired.
//! Other API processes do not know about the failure; for them the staleness is bounded by
//! the TTL, which is why it should stay short (seconds to minutes).
//!
//! A delete does not remove a key: it writes a short-lived tombstone, and `put` never
//! overwrites one (`SET NX`). Otherwise a read that fetched the row just before a write
//! could put the old value back just after the write's delete, and serve a deleted image
//! (or a list missing a new one) for a whole TTL.

use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::redis::{Clock, LogThrottle, RedisHandle};

/// What `delete` leaves in place of a value. Never valid JSON, so never a value.
const TOMBSTONE: &[u8] = b"";
/// How long a tombstone stays: longer than any request that could have read the database
/// before the write (the API's request timeout is a minute).
const TOMBSTONE_TTL: Duration = Duration::from_secs(90);

/// Why a cache operation was skipped; logged and counted, never returned to callers.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("Redis failed")]
    Redis(#[from] crate::redis::RedisError),
    #[error("cached value is not valid JSON for the expected type")]
    Decode(#[source] serde_json::Error),
    #[error("value does not serialize to JSON")]
    Encode(#[source] serde_json::Error),
}

/// The cache. Clones share their state.
#[derive(Clone)]
pub struct MetaCache {
    inner: Arc<Inner>,
}

struct Inner {
    redis: Option<RedisHandle>,
    ttl: Duration,
    clock: Clock,
    /// Microseconds on `clock` until which the cache is bypassed after a failed delete;
    /// 0 when trusted.
    bypass_until: AtomicU64,
    warn: LogThrottle,
}

impl std::fmt::Debug for MetaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaCache")
            .field("redis", &self.inner.redis)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl MetaCache {
    /// A cache in `redis` whose entries live `ttl` (at least 1 ms); with `None`, every read
    /// misses and writes do nothing.
    pub fn new(redis: Option<RedisHandle>, ttl: Duration) -> MetaCache {
        MetaCache {
            inner: Arc::new(Inner {
                redis,
                ttl: ttl.max(Duration::from_millis(1)),
                clock: Clock::new(),
                bypass_until: AtomicU64::new(0),
                warn: LogThrottle::new(Duration::from_secs(10)),
            }),
        }
    }

    /// The key of an image's metadata. Every write that changes the image (upload, delete)
    /// must delete both this key and [`MetaCache::first_page_key`] of its owner.
    pub fn image_key(image_id: impl Display) -> String {
        format!("img:{image_id}")
    }

    /// The key of the first page of an owner's image list (newest first, no cursor). Every
    /// write that adds or removes one of the owner's images must delete it, together with
    /// the image's [`MetaCache::image_key`]. Cache only one page shape under it (one
    /// `limit`), or the largest page and slice it, since this key does not name the limit.
    pub fn first_page_key(owner_id: impl Display) -> String {
        format!("list:first:{owner_id}")
    }

    /// The key of an account's session epoch. Ending the account's sessions must delete it.
    pub fn session_epoch_key(user_id: impl Display) -> String {
        format!("sessions:{user_id}")
    }

    /// The cached value, or `None` on a miss, on any Redis failure and on a value that is
    /// not valid JSON for `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let Some(redis) = self.usable() else {
            metrics::counter!("imgedge_cache_misses_total").increment(1);
            return None;
        };
        let full_key = redis.key(&["meta", key]);
        let fetched = redis
            .run(|mut conn| {
                let full_key = &full_key;
                async move {
                    ::redis::cmd("GET")
                        .arg(full_key)
                        .query_async::<Option<Vec<u8>>>(&mut conn)
                        .await
                }
            })
            .await
            .map_err(CacheError::from)
            .and_then(|bytes| {
                bytes
                    .filter(|b| b.as_slice() != TOMBSTONE)
                    .map(|b| serde_json::from_slice::<T>(&b).map_err(CacheError::Decode))
                    .transpose()
            });
        match fetched {
            Ok(Some(value)) => {
                metrics::counter!("imgedge_cache_hits_total").increment(1);
                Some(value)
            }
            Ok(None) => {
                metrics::counter!("imgedge_cache_misses_total").increment(1);
                None
            }
            Err(e) => {
                metrics::counter!("imgedge_cache_misses_total").increment(1);
                self.failed("get", &e);
                None
            }
        }
    }

    /// Stores `value` under `key` for the TTL; best effort.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let Some(redis) = self.usable() else {
            return;
        };
        let json = match serde_json::to_vec(value) {
            Ok(json) => json,
            Err(e) => return self.failed("put", &CacheError::Encode(e)),
        };
        let full_key = redis.key(&["meta", key]);
        let ttl_ms = u64::try_from(self.inner.ttl.as_millis()).unwrap_or(u64::MAX);
        let stored = redis
            .run(|mut conn| {
                let (full_key, json) = (&full_key, &json);
                async move {
                    // NX: never overwrite a tombstone (see `delete`).
                    ::redis::cmd("SET")
                        .arg(full_key)
                        .arg(json)
                        .arg("PX")
                        .arg(ttl_ms)
                        .arg("NX")
                        .exec_async(&mut conn)
                        .await
                }
            })
            .await;
        if let Err(e) = stored {
            self.failed("put", &e.into());
        }
    }

    /// Deletes `keys`; best effort. When it fails, this process bypasses the cache for one
    /// TTL (see the module documentation), so a failed delete costs speed, not correctness.
    pub async fn delete(&self, keys: &[&str]) {
        let Some(redis) = &self.inner.redis else {
            return;
        };
        if keys.is_empty() {
            return;
        }
        let full_keys: Vec<String> = keys.iter().map(|k| redis.key(&["meta", k])).collect();
        let tombstone_ms = u64::try_from(TOMBSTONE_TTL.as_millis()).unwrap_or(u64::MAX);
        let deleted = redis
            .run(|mut conn| {
                let full_keys = &full_keys;
                async move {
                    let mut pipe = ::redis::pipe();
                    for key in full_keys {
                        pipe.cmd("SET")
                            .arg(key)
                            .arg(TOMBSTONE)
                            .arg("PX")
                            .arg(tombstone_ms);
                    }
                    pipe.exec_async(&mut conn).await
                }
            })
            .await;
        if let Err(e) = deleted {
            let ttl_us = u64::try_from(self.inner.ttl.as_micros()).unwrap_or(u64::MAX);
            let until = self.inner.clock.now_us().saturating_add(ttl_us).max(1);
            self.inner.bypass_until.fetch_max(until, Ordering::AcqRel);
            self.failed("delete", &e.into());
        }
    }

    /// Whether this process is ignoring the cache after a failed delete.
    pub fn is_bypassed(&self) -> bool {
        let until = self.inner.bypass_until.load(Ordering::Acquire);
        until != 0 && self.inner.clock.now_us() < until
    }

    fn usable(&self) -> Option<&RedisHandle> {
        self.inner.redis.as_ref().filter(|_| !self.is_bypassed())
    }

    fn failed(&self, op: &'static str, error: &CacheError) {
        metrics::counter!("imgedge_cache_errors_total").increment(1);
        if self.inner.warn.ready() {
            tracing::warn!(
                op,
                error = %crate::redis::error_chain(error),
                "metadata cache skipped"
            );
        }
    }
}

/// Registers the descriptions of this module's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!("imgedge_cache_hits_total", "Metadata cache reads that hit");
    metrics::describe_counter!(
        "imgedge_cache_misses_total",
        "Metadata cache reads that missed, including failed and undecodable reads"
    );
    metrics::describe_counter!(
        "imgedge_cache_errors_total",
        "Metadata cache operations that failed (Redis errors, undecodable values)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_helpers_name_the_image_and_the_owners_first_page() {
        let id = uuid::Uuid::nil();
        assert_eq!(
            MetaCache::image_key(id),
            "img:00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(MetaCache::first_page_key("u1"), "list:first:u1");
        assert_ne!(MetaCache::image_key("x"), MetaCache::first_page_key("x"));
    }
}
