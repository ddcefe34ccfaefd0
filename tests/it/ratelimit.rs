//! The rate limiter against real Redis: GCRA budgets, agreement between processes, headers,
//! and failing open to the in-process limiter while Redis is down, then coming back.
//!
//! Also home of the helpers for Redis tests (the shared server's URL, unique prefixes, and
//! `RedisServer`, a private `redis-server` that a test can stop and start).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use imgedge::ratelimit::{Decision, Quota, RateLimiter};
use imgedge::redis::RedisHandle;

/// The shared Redis (`REDIS_URL`, or the local default).
pub(crate) fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test (or run) uses.
pub(crate) fn unique_prefix(what: &str) -> String {
    format!("imgedge-test:{what}:{}", uuid::Uuid::new_v4())
}

/// A handle on the shared Redis with a fresh prefix.
pub(crate) fn shared_redis(what: &str) -> RedisHandle {
    RedisHandle::new(&redis_url(), &unique_prefix(what)).expect("valid Redis URL")
}

/// A loopback port with nothing listening on it (free when checked).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A `redis-server` of this test's own on a free port, killed when dropped (also when the
/// test panics), so a test can take Redis away and bring it back.
pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server without persistence and waits until it accepts connections.
    pub(crate) fn start() -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its data goes with it).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill redis-server");
            child.wait().expect("reap redis-server");
        }
    }

    /// Starts the server again on the same port.
    pub(crate) fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: it keeps its connections and
    /// data but answers nothing while frozen.
    pub(crate) fn freeze(&self, frozen: bool) {
        let pid = self.child.as_ref().expect("server running").id();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL also ends a frozen process.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// 10 a second (one every 100 ms), 3 at once.
const FAST: Quota = Quota {
    per_period: 10,
    period: Duration::from_secs(1),
    burst: 3,
};

/// One a minute, 5 at once: nothing refills during a test.
const SLOW: Quota = Quota {
    per_period: 1,
    period: Duration::from_mins(1),
    burst: 5,
};

async fn checks(limiter: &RateLimiter, key: &str, quota: &Quota, n: usize) -> Vec<Decision> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(limiter.check(key, quota).await);
    }
    out
}

fn allowed(decisions: &[Decision]) -> Vec<bool> {
    decisions.iter().map(|d| d.allowed).collect()
}

#[tokio::test]
async fn a_burst_passes_then_the_next_waits_one_interval() {
    let limiter = RateLimiter::new(Some(shared_redis("rl-burst")));
    let started = Instant::now();
    let burst = checks(&limiter, "user:1", &FAST, 3).await;
    let refused = limiter.check("user:1", &FAST).await;
    let elapsed = started.elapsed();

    assert_eq!(allowed(&burst), [true, true, true]);
    let remaining: Vec<u32> = burst.iter().map(|d| d.remaining).collect();
    assert_eq!(remaining, [2, 1, 0]);
    assert!(
        burst
            .iter()
            .all(|d| d.limit == 3 && !d.degraded && d.retry_after.is_none())
    );

    assert!(!refused.allowed && !refused.degraded);
    assert_eq!(refused.remaining, 0);
    let retry = refused.retry_after.expect("a refusal says when to retry");
    // One emission interval (100 ms) counted from the first request of the burst.
    let interval = Duration::from_millis(100);
    assert!(
        retry <= interval && retry + elapsed + Duration::from_millis(5) >= interval,
        "retry_after {retry:?} after {elapsed:?}"
    );
    assert!(refused.reset_after <= Duration::from_millis(300));

    tokio::time::sleep(retry + Duration::from_millis(2)).await;
    let again = limiter.check("user:1", &FAST).await;
    assert!(again.allowed, "allowed again after retry_after: {again:?}");
    assert_eq!(again.remaining, 0);
}

#[tokio::test]
async fn two_limiters_on_one_redis_share_the_budget() {
    // Two handles and two limiters, as in two API processes.
    let prefix = unique_prefix("rl-shared");
    let a = RateLimiter::new(Some(
        RedisHandle::new(&redis_url(), &prefix).expect("valid URL"),
    ));
    let b = RateLimiter::new(Some(
        RedisHandle::new(&redis_url(), &prefix).expect("valid URL"),
    ));
    let mut decisions = Vec::new();
    for i in 0..8 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        decisions.push(limiter.check("login-ip:10.0.0.1", &SLOW).await);
    }
    assert_eq!(
        allowed(&decisions),
        [true, true, true, true, true, false, false, false]
    );
    let remaining: Vec<u32> = decisions.iter().map(|d| d.remaining).collect();
    assert_eq!(remaining, [4, 3, 2, 1, 0, 0, 0, 0]);
}

#[tokio::test]
async fn keys_and_prefixes_are_independent() {
    let redis = shared_redis("rl-keys");
    let limiter = RateLimiter::new(Some(redis.clone()));
    assert_eq!(
        allowed(&checks(&limiter, "upload:u1", &SLOW, 6).await),
        [true, true, true, true, true, false]
    );
    let other_key = limiter.check("upload:u2", &SLOW).await;
    assert!(other_key.allowed);
    assert_eq!(other_key.remaining, 4);

    // The same key under another prefix (another deployment) has its own budget.
    let other = RateLimiter::new(Some(shared_redis("rl-keys-other")));
    assert!(other.check("upload:u1", &SLOW).await.allowed);
}

#[tokio::test]
async fn keys_expire_when_the_budget_is_full_again() {
    let redis = shared_redis("rl-ttl");
    let limiter = RateLimiter::new(Some(redis.clone()));
    limiter.check("k", &FAST).await;
    limiter.check("k", &FAST).await;
    let key = redis.key(&["rl", "k"]);
    let pttl: i64 = redis
        .run(|mut c| {
            let key = &key;
            async move { ::redis::cmd("PTTL").arg(key).query_async(&mut c).await }
        })
        .await
        .expect("PTTL");
    assert!(
        (1..=200).contains(&pttl),
        "PTTL {pttl} ms, expected two intervals at most"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let exists: bool = redis
        .run(|mut c| {
            let key = &key;
            async move { ::redis::cmd("EXISTS").arg(key).query_async(&mut c).await }
        })
        .await
        .expect("EXISTS");
    assert!(!exists, "an idle key vanishes");
}

#[tokio::test]
async fn redis_and_in_process_limiters_decide_alike() {
    let shared = RateLimiter::new(Some(shared_redis("rl-mirror")));
    let local = RateLimiter::new(None);
    let quota = Quota::per_minute(7, 4);
    let a = checks(&shared, "k", &quota, 6).await;
    let b = checks(&local, "k", &quota, 6).await;
    let view = |ds: &[Decision]| -> Vec<(bool, u32, u32)> {
        ds.iter()
            .map(|d| (d.allowed, d.limit, d.remaining))
            .collect()
    };
    assert_eq!(view(&a), view(&b));
    assert!(
        b.iter().all(|d| !d.degraded),
        "no Redis configured is not degraded"
    );
    // Retry times agree to the clock drift between the calls.
    let (ra, rb) = (
        a[5].retry_after.expect("refused"),
        b[5].retry_after.expect("refused"),
    );
    assert!(
        ra.abs_diff(rb) < Duration::from_millis(200),
        "{ra:?} vs {rb:?}"
    );
}

#[tokio::test]
async fn headers_are_well_formed() {
    let limiter = RateLimiter::new(Some(shared_redis("rl-headers")));
    let ok = limiter.check("h", &SLOW).await;
    let names = |d: &Decision| -> Vec<String> {
        d.headers()
            .iter()
            .map(|(n, _)| n.as_str().to_owned())
            .collect()
    };
    assert_eq!(
        names(&ok),
        ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"]
    );
    let values: Vec<u64> = ok
        .headers()
        .iter()
        .map(|(_, v)| v.to_str().expect("ascii").parse().expect("integer"))
        .collect();
    // 5 at once, 4 left, full again 60 s after the one request.
    assert_eq!(values, [5, 4, 60]);

    checks(&limiter, "h", &SLOW, 4).await;
    let refused = limiter.check("h", &SLOW).await;
    assert!(!refused.allowed);
    let headers = refused.headers();
    assert_eq!(headers.len(), 4);
    assert_eq!(headers[3].0, axum::http::header::RETRY_AFTER);
    let retry: u64 = headers[3]
        .1
        .to_str()
        .expect("ascii")
        .parse()
        .expect("integer");
    assert!((59..=60).contains(&retry), "Retry-After {retry}");
    let reset: u64 = headers[2]
        .1
        .to_str()
        .expect("ascii")
        .parse()
        .expect("integer");
    assert!((299..=300).contains(&reset), "RateLimit-Reset {reset}");
}

#[tokio::test]
async fn a_dead_redis_limits_in_process_and_answers_fast() {
    let dead =
        RedisHandle::new(&format!("redis://127.0.0.1:{}", free_port()), "dead").expect("valid URL");
    let limiter = RateLimiter::new(Some(dead));
    let started = Instant::now();
    let first = limiter.check("k", &SLOW).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "first call took {:?}",
        started.elapsed()
    );
    assert!(first.allowed && first.degraded);
    let rest = checks(&limiter, "k", &SLOW, 5).await;
    assert_eq!(allowed(&rest), [true, true, true, true, false]);
    assert!(rest.iter().all(|d| d.degraded));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_hung_redis_costs_one_deadline_then_nothing() {
    // Accepts connections (the kernel completes the handshake) but never answers.
    let hung = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let url = format!(
        "redis://127.0.0.1:{}",
        hung.local_addr().expect("addr").port()
    );
    let limiter = RateLimiter::new(Some(RedisHandle::new(&url, "hung").expect("valid URL")));
    let started = Instant::now();
    let first = limiter.check("k", &SLOW).await;
    let first_took = started.elapsed();
    assert!(first.allowed && first.degraded);
    assert!(
        first_took < Duration::from_secs(1),
        "first call took {first_took:?}"
    );
    // During the pause after the failure, calls do not wait on Redis at all.
    let next = Instant::now();
    let more = checks(&limiter, "k", &SLOW, 20).await;
    assert!(more.iter().all(|d| d.degraded));
    assert!(
        next.elapsed() < Duration::from_millis(100),
        "took {:?}",
        next.elapsed()
    );
    drop(hung);
}

#[tokio::test]
async fn limiting_returns_to_redis_when_it_comes_back() {
    let mut server = RedisServer::start();
    let redis = RedisHandle::new(&server.url(), &unique_prefix("rl-outage")).expect("valid URL");
    let limiter = RateLimiter::new(Some(redis.clone()));

    let before = limiter.check("k", &SLOW).await;
    assert!(before.allowed && !before.degraded);

    server.stop();
    let started = Instant::now();
    let during = limiter.check("k", &SLOW).await;
    assert!(during.allowed && during.degraded);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert!(redis.ping().await.is_err());

    server.restart();
    // Same limiter, no rebuild: within a few seconds decisions come from Redis again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let back = loop {
        let d = limiter.check("k", &SLOW).await;
        if !d.degraded {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "still degraded after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The restarted server lost its data (no persistence): a fresh budget, in Redis.
    assert!(back.allowed);
    assert_eq!(back.remaining, 4);
    redis.ping().await.expect("ping after the outage");
}

/// `peek` says whether a request would pass without counting one, in Redis and in the
/// in-process limiter alike: what the sign-in failure budgets are checked with.
#[tokio::test]
async fn peeking_counts_nothing_in_redis_and_in_process() {
    const QUOTA: Quota = Quota::per_minute(1, 2);
    for limiter in [
        RateLimiter::new(Some(shared_redis("peek"))),
        RateLimiter::new(None),
    ] {
        for _ in 0..5 {
            assert!(limiter.peek("k", &QUOTA).await.allowed, "peeks are free");
        }
        assert!(limiter.check("k", &QUOTA).await.allowed);
        assert!(limiter.peek("k", &QUOTA).await.allowed);
        assert!(limiter.check("k", &QUOTA).await.allowed);
        let refused = limiter.peek("k", &QUOTA).await;
        assert!(!refused.allowed, "the budget is spent: {refused:?}");
        assert!(refused.retry_after.is_some_and(|d| d > Duration::ZERO));
        assert!(!refused.degraded);
        assert!(!limiter.check("k", &QUOTA).await.allowed);
    }
}
