//! The render lock across transformer processes: a short Redis lease per variant, so that
//! two transformers missing on the same variant render it once. Advisory: when Redis is
//! down or slow the caller renders anyway (two renders of one variant write the same bytes).
//!
//! The lease lives [`LEASE_TTL`] and its holder renews it while it works, so a render that
//! takes long keeps it, and a holder that dies (killed mid-render) loses it within seconds
//! instead of blocking that variant for a whole render budget.

use std::time::Duration;

use ::redis::Script;

use crate::redis::RedisHandle;

/// Deletes the lease only if it is still ours (it may have expired and been taken).
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Renews the lease only if it is still ours.
const RENEW_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// How long a lease lives unless renewed; renewed every third of it.
pub(super) const LEASE_TTL: Duration = Duration::from_secs(6);

/// The outcome of trying to take the lease.
#[derive(Debug)]
pub(super) enum Lease {
    /// Ours until released or expired.
    Held(Held),
    /// Another process holds it: that process is rendering this variant.
    Busy,
    /// There is no lease to take: no Redis is configured, or it failed to answer. The
    /// caller renders without one (the lock is advisory).
    Unavailable,
}

/// A lease this process holds, renewed until it is [`release`]d.
#[derive(Debug)]
pub(super) struct Held {
    redis: RedisHandle,
    key: String,
    token: String,
    /// Renews the lease until dropped.
    renewal: Renewal,
}

#[derive(Debug)]
struct Renewal(tokio::task::JoinHandle<()>);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `d` in whole milliseconds, at least 1 (Redis refuses an expiry of 0).
fn whole_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Keeps the lease alive while its holder works; stops when the lease is no longer ours.
fn renew(redis: RedisHandle, key: String, token: String) -> Renewal {
    Renewal(tokio::spawn(async move {
        let script = Script::new(RENEW_LUA);
        loop {
            tokio::time::sleep(LEASE_TTL / 3).await;
            let renewed = redis
                .run(|mut conn| {
                    let (script, key, token) = (&script, &key, &token);
                    async move {
                        script
                            .key(key)
                            .arg(token)
                            .arg(whole_millis(LEASE_TTL))
                            .invoke_async::<i64>(&mut conn)
                            .await
                    }
                })
                .await;
            match renewed {
                Ok(0) => return, // expired and taken by another: ours no more
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "render lock not renewed"),
            }
        }
    }))
}

/// Tries to take the lease on `name`.
pub(super) async fn acquire(redis: Option<&RedisHandle>, name: &str) -> Lease {
    let Some(redis) = redis else {
        return Lease::Unavailable;
    };
    let key = redis.key(&["render-lock", name]);
    let token = uuid::Uuid::new_v4().simple().to_string();
    let ttl_ms = whole_millis(LEASE_TTL);
    let outcome = redis
        .run(|mut conn| {
            let (key, token) = (&key, &token);
            async move {
                ::redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<Option<String>>(&mut conn)
                    .await
            }
        })
        .await;
    match outcome {
        Ok(Some(_)) => Lease::Held(Held {
            renewal: renew(redis.clone(), key.clone(), token.clone()),
            redis: redis.clone(),
            key,
            token,
        }),
        Ok(None) => Lease::Busy,
        Err(e) => {
            tracing::debug!(error = %e, "render lock unavailable; rendering without it");
            Lease::Unavailable
        }
    }
}

/// Gives the lease back (best effort: it expires anyway).
pub(super) async fn release(held: Held) {
    let Held {
        redis,
        key,
        token,
        renewal,
    } = held;
    drop(renewal);
    let script = Script::new(RELEASE_LUA);
    let released = redis
        .run(|mut conn| {
            let (script, key, token) = (&script, &key, &token);
            async move {
                script
                    .key(key)
                    .arg(token)
                    .invoke_async::<i64>(&mut conn)
                    .await
            }
        })
        .await;
    if let Err(e) = released {
        tracing::debug!(error = %e, "render lock not released; it will expire");
    }
}
