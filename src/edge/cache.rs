//! The edge's cache: whole responses in memory, bounded in bytes (moka, weighed by body and
//! headers), each kept for the lifetime its origin gave it within the configured bounds, as
//! a `CloudFront` cache policy's minimum, default and maximum TTLs do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{self, HeaderMap};

/// Who produced a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Stored variants: the S3 bucket.
    S3,
    /// Rendered on this request: the transformer.
    Transformer,
    /// Generated at the edge (a redirect to the canonical URL, a malformed URL).
    Edge,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::S3 => "s3",
            Origin::Transformer => "transformer",
            Origin::Edge => "edge",
        }
    }
}

/// A response as the edge keeps it.
#[derive(Debug)]
pub struct Entry {
    pub status: StatusCode,
    /// The end-to-end headers worth repeating (content type, cache control, `ETag`...).
    pub headers: HeaderMap,
    pub body: Bytes,
    pub origin: Origin,
    pub stored_at: Instant,
    /// How long the cache keeps it; zero for a response it must not keep.
    pub ttl: Duration,
}

impl Entry {
    fn weight(&self, key: &str) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        // Per-entry bookkeeping, so that many tiny entries are not free.
        let bytes = key.len() + self.body.len() + headers + 128;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// Lifetime bounds, as a cache policy has them.
#[derive(Debug, Clone, Copy)]
pub struct TtlPolicy {
    pub min: Duration,
    /// When the origin says nothing.
    pub default: Duration,
    pub max: Duration,
    /// For 4xx answers (bad URLs, bad signatures, deleted images): short, so that a burst
    /// of them stops at the edge but a mistake is soon forgotten.
    pub error: Duration,
}

impl Default for TtlPolicy {
    fn default() -> Self {
        TtlPolicy {
            min: Duration::ZERO,
            default: Duration::from_hours(24),
            max: Duration::from_hours(365 * 24),
            error: Duration::from_secs(10),
        }
    }
}

impl TtlPolicy {
    /// How long to keep a response with this status and headers.
    pub fn ttl(&self, status: StatusCode, headers: &HeaderMap) -> Duration {
        let directives = CacheControl::parse(headers);
        if directives.no_store || directives.private {
            return Duration::ZERO;
        }
        match status.as_u16() {
            200 | 301 | 308 => directives
                .max_age
                .map_or(self.default, Duration::from_secs)
                .clamp(self.min, self.max.max(self.min)),
            400 | 403 | 404 | 405 | 410 | 422 => directives
                .max_age
                .map_or(self.error, Duration::from_secs)
                .min(self.error),
            // 429, 5xx and the rest are about this moment, not about the URL.
            _ => Duration::ZERO,
        }
    }
}

/// The directives of `Cache-Control` that decide what a shared cache keeps.
#[derive(Debug, Default, PartialEq, Eq)]
struct CacheControl {
    /// `s-maxage` when present, else `max-age`.
    max_age: Option<u64>,
    no_store: bool,
    private: bool,
}

impl CacheControl {
    fn parse(headers: &HeaderMap) -> CacheControl {
        let mut cc = CacheControl::default();
        let mut s_maxage = None;
        for value in headers.get_all(header::CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let directive = directive.trim();
                let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
                let number = || arg.trim_matches('"').parse::<u64>().ok();
                match name.trim().to_ascii_lowercase().as_str() {
                    "max-age" => cc.max_age = number(),
                    "s-maxage" => s_maxage = number(),
                    "no-store" | "no-cache" => cc.no_store = true,
                    "private" => cc.private = true,
                    _ => {}
                }
            }
        }
        cc.max_age = s_maxage.or(cc.max_age);
        cc
    }
}

/// The cache. Clones share it.
#[derive(Clone)]
pub struct EdgeCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Bumped by every purge; a fill that started before a purge does not store its result.
    epoch: Arc<AtomicU64>,
    /// Inserts (shared) against purges (exclusive): an insert checks the epoch and stores
    /// as one step, so a purge cannot pass between the two and miss the entry.
    purging: Arc<RwLock<()>>,
}

impl std::fmt::Debug for EdgeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

struct ByTtl;

impl moka::Expiry<String, Arc<Entry>> for ByTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl EdgeCache {
    /// A cache holding at most `max_bytes` of responses.
    pub fn new(max_bytes: u64) -> EdgeCache {
        EdgeCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Arc<Entry>| entry.weight(key))
                .expire_after(ByTtl)
                .build(),
            epoch: Arc::new(AtomicU64::new(0)),
            purging: Arc::new(RwLock::new(())),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.entries.get(key)
    }

    /// The purge epoch now; pass it to [`EdgeCache::insert`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `entry` under `key` unless it must not be kept, or a purge happened since
    /// `epoch` (the response may be of something purged meanwhile).
    pub fn insert(&self, key: String, entry: Arc<Entry>, epoch: u64) {
        if entry.ttl.is_zero() {
            return;
        }
        let _inserting = self.purging.read().unwrap_or_else(PoisonError::into_inner);
        if self.epoch() == epoch {
            self.entries.insert(key, entry);
        }
    }

    /// Drops every entry matching one of `patterns` and returns how many were dropped.
    pub fn purge(&self, patterns: &[PathPattern]) -> u64 {
        let _purging = self.purging.write().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut dropped = 0;
        for (key, _) in &self.entries {
            if patterns.iter().any(|p| p.matches(&key)) {
                self.entries.invalidate(key.as_str());
                dropped += 1;
            }
        }
        dropped
    }

    /// Entries and their weight in bytes (approximate until pending work is applied).
    pub fn usage(&self) -> (u64, u64) {
        self.entries.run_pending_tasks();
        (self.entries.entry_count(), self.entries.weighted_size())
    }
}

/// An invalidation path, as `CloudFront` takes them: an exact path (whatever the query), or
/// a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPattern {
    Exact(String),
    Prefix(String),
}

impl PathPattern {
    /// `None` unless the pattern starts with `/`, and has a `*` only at its end.
    pub fn parse(pattern: &str) -> Option<PathPattern> {
        if !pattern.starts_with('/') {
            return None;
        }
        match pattern.strip_suffix('*') {
            Some(prefix) if !prefix.contains('*') => Some(PathPattern::Prefix(prefix.to_owned())),
            Some(_) => None,
            None if pattern.contains('*') => None,
            None => Some(PathPattern::Exact(pattern.to_owned())),
        }
    }

    /// Whether a cache key (`path` or `path?query`) is covered.
    pub fn matches(&self, key: &str) -> bool {
        match self {
            PathPattern::Prefix(prefix) => key.starts_with(prefix.as_str()),
            PathPattern::Exact(path) => key.split_once('?').map_or(key, |(p, _)| p) == path,
        }
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    fn headers(cache_control: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(cache_control).expect("valid header"),
        );
        h
    }

    fn policy() -> TtlPolicy {
        TtlPolicy {
            min: Duration::from_mins(1),
            default: Duration::from_hours(1),
            max: Duration::from_hours(24),
            error: Duration::from_secs(10),
        }
    }

    #[test]
    fn lifetimes_follow_the_origin_within_bounds() {
        let p = policy();
        let ok = StatusCode::OK;
        assert_eq!(
            p.ttl(ok, &headers("public, max-age=600")),
            Duration::from_mins(10)
        );
        assert_eq!(p.ttl(ok, &headers("max-age=31536000, immutable")), p.max);
        assert_eq!(p.ttl(ok, &headers("max-age=5")), p.min);
        assert_eq!(p.ttl(ok, &HeaderMap::new()), p.default);
        assert_eq!(
            p.ttl(ok, &headers("max-age=600, s-maxage=120")),
            Duration::from_mins(2)
        );
        assert_eq!(p.ttl(ok, &headers("no-store")), Duration::ZERO);
        assert_eq!(p.ttl(ok, &headers("private, max-age=600")), Duration::ZERO);
    }

    #[test]
    fn refusals_are_kept_briefly_and_failures_not_at_all() {
        let p = policy();
        let forbidden = StatusCode::FORBIDDEN;
        assert_eq!(p.ttl(forbidden, &headers("public, max-age=3600")), p.error);
        assert_eq!(
            p.ttl(forbidden, &headers("public, max-age=3")),
            Duration::from_secs(3)
        );
        assert_eq!(p.ttl(StatusCode::BAD_REQUEST, &HeaderMap::new()), p.error);
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::BAD_GATEWAY,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            assert_eq!(
                p.ttl(status, &headers("public, max-age=60")),
                Duration::ZERO
            );
        }
    }

    #[test]
    fn patterns_are_cloudfront_paths() {
        let prefix = PathPattern::parse("/i/abc/*").expect("valid");
        assert!(prefix.matches("/i/abc/sig?width=1"));
        assert!(prefix.matches("/i/abc/sig"));
        assert!(!prefix.matches("/i/abd/sig"));
        let exact = PathPattern::parse("/i/abc/sig").expect("valid");
        assert!(exact.matches("/i/abc/sig?width=1"));
        assert!(exact.matches("/i/abc/sig"));
        assert!(!exact.matches("/i/abc/sig2"));
        assert!(PathPattern::parse("/*").is_some_and(|p| p.matches("/anything")));
        for bad in ["i/abc/*", "/i/*/x", "/i/**", ""] {
            assert_eq!(PathPattern::parse(bad), None, "{bad}");
        }
    }

    fn entry(body: &'static [u8], ttl: Duration) -> Arc<Entry> {
        Arc::new(Entry {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body),
            origin: Origin::S3,
            stored_at: Instant::now(),
            ttl,
        })
    }

    #[test]
    fn purge_drops_matching_entries_and_stale_fills() {
        let cache = EdgeCache::new(1 << 20);
        let hour = Duration::from_hours(1);
        let epoch = cache.epoch();
        cache.insert("/i/a/s?width=1".into(), entry(b"a1", hour), epoch);
        cache.insert("/i/a/t".into(), entry(b"a2", hour), epoch);
        cache.insert("/i/b/s".into(), entry(b"b", hour), epoch);
        let dropped = cache.purge(&[PathPattern::parse("/i/a/*").expect("valid")]);
        assert_eq!(dropped, 2);
        assert!(cache.get("/i/a/s?width=1").is_none());
        assert!(cache.get("/i/a/t").is_none());
        assert!(cache.get("/i/b/s").is_some());
        // A fill that began before the purge is not kept.
        cache.insert("/i/a/s?width=1".into(), entry(b"stale", hour), epoch);
        assert!(cache.get("/i/a/s?width=1").is_none());
        // Nor is a response with no lifetime.
        cache.insert("/i/c/s".into(), entry(b"c", Duration::ZERO), cache.epoch());
        assert!(cache.get("/i/c/s").is_none());
    }

    #[test]
    fn the_cache_is_bounded_in_bytes() {
        static BODY: [u8; 4096] = [7; 4096];
        let cache = EdgeCache::new(64 * 1024);
        for i in 0..200 {
            cache.insert(
                format!("/i/x/{i}"),
                entry(&BODY, Duration::from_hours(1)),
                0,
            );
        }
        let (_, bytes) = cache.usage();
        assert!(bytes <= 64 * 1024, "{bytes} bytes held");
    }
}
