//! The facts of imgedge's delivery protocol between the CDN (CloudFront or the local edge),
//! the transformer and S3, each written once: the header an edge proves itself with, the
//! cache lifetimes of variants, refusals and redirects, the variant `ETag`, and how long an
//! origin request for a variant may take ([`RenderBudget`]). `cdk/` computes the
//! transformer origin's timeout by the same formula, and its tests read the allowances
//! from this file.

use std::time::Duration;

/// The header through which an edge proves it is one (`CloudFront`'s origin custom header).
pub const ORIGIN_SECRET_HEADER: &str = "x-imgedge-origin-secret";

/// The header in which an edge passes a `format=auto` request's accept class to the
/// origins (spec 1.1). Every edge computes it from `Accept` itself and never forwards a
/// client's own.
pub const ACCEPT_CLASS_HEADER: &str = "x-imgedge-accept";

/// How long after a key rotation its second sweep of the image's variant objects comes due:
/// longer than any production begun before the rotation can take to store its object (at
/// most one origin timeout, 55 s for the default render budget; tested), so that the second
/// sweep removes what such a render stored after the first.
pub const ROTATION_SWEEP_AGAIN: Duration = Duration::from_mins(2);

/// The lifetime of what a URL names for good: every variant (its URL names its content) and
/// the web client's content-hashed assets.
pub const IMMUTABLE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// How long a shared cache may keep a refusal that depends only on the URL (400, 403, 404,
/// an output over the limit): long enough that a burst of bad requests stops at the edge,
/// short enough to forget a mistake.
pub const REFUSAL_CACHE_CONTROL: &str = "public, max-age=10";

/// The lifetime of a redirect to a URL's canonical form: the spec fixes it for good.
pub const REDIRECT_CACHE_CONTROL: &str = "public, max-age=86400";

/// What every answer that must not be cached carries.
pub const NO_STORE: &str = "no-store";

/// The strong `ETag` of a variant's bytes: the same whichever origin serves them (S3's own
/// `ETag` is an MD5 of the upload, so the edge recomputes this one).
pub fn variant_etag(bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    format!("\"{}\"", &hash.to_hex()[..32])
}

/// The time a variant's first request may take, derived from the engine's render timeout by
/// one formula, so that the transformer's wait for a peer and the edge's (and CloudFront's)
/// origin timeout agree.
///
/// A production is the fetch of the original, its decode and render (together bounded by the
/// render timeout: the engine's deadline covers both, and a request that waited for another
/// one's decode of the same original renders with what its budget has left) and the store.
/// It does not count the wait for a free worker in the transformer's render queue, which is
/// bounded by the queue's length, not by time. A request that finds
/// another process rendering its variant waits at most one production for it (the peer's
/// lease is renewed while it works and lapses within seconds if it dies), then produces the
/// variant itself. The worst case an origin answers in is therefore two productions, and the
/// edge waits that long, plus a margin for the hops. CloudFront waits at most 60 s for an
/// origin unless a quota is raised: with the default 20 s render timeout the origin timeout
/// is 55 s, and a longer render timeout needs that raise (`cdk/` asserts the same formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderBudget {
    render_timeout: Duration,
}

impl RenderBudget {
    /// The fetch of the original and the PUT and insert of the variant, together.
    pub const STORAGE_ALLOWANCE: Duration = Duration::from_secs(5);
    /// The HTTP hops between the edge and the transformer, and the response.
    pub const HOP_ALLOWANCE: Duration = Duration::from_secs(5);
    /// The longest origin timeout `CloudFront` accepts without a quota increase.
    pub const CLOUDFRONT_MAX_ORIGIN_TIMEOUT: Duration = Duration::from_mins(1);

    pub const fn new(render_timeout: Duration) -> RenderBudget {
        RenderBudget { render_timeout }
    }

    /// The engine's budget for one variant's decode and render.
    pub const fn render_timeout(self) -> Duration {
        self.render_timeout
    }

    /// One production: fetch, decode and render, store.
    pub fn production(self) -> Duration {
        self.render_timeout + Self::STORAGE_ALLOWANCE
    }

    /// How long a request waits for another process rendering the same variant before it
    /// renders it itself.
    pub fn peer_wait(self) -> Duration {
        self.production()
    }

    /// How long an edge waits for the transformer: a wait for a peer, then a production.
    pub fn origin_timeout(self) -> Duration {
        self.peer_wait() + self.production() + Self::HOP_ALLOWANCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_fits_cloudfronts_origin_timeout() {
        let budget = RenderBudget::new(imgedge_engine::EngineConfig::default().render_timeout);
        assert_eq!(budget.origin_timeout(), Duration::from_secs(55));
        assert!(budget.origin_timeout() <= RenderBudget::CLOUDFRONT_MAX_ORIGIN_TIMEOUT);
    }

    #[test]
    fn a_rotation_sweeps_again_after_any_production_begun_before_it() {
        let budget = RenderBudget::new(imgedge_engine::EngineConfig::default().render_timeout);
        assert!(ROTATION_SWEEP_AGAIN > budget.origin_timeout());
    }

    #[test]
    fn the_origin_waits_out_a_peer_and_its_own_render() {
        for secs in [1, 5, 20, 60] {
            let budget = RenderBudget::new(Duration::from_secs(secs));
            let worst = budget.peer_wait() + budget.production();
            assert!(budget.origin_timeout() > worst, "{secs} s");
            assert!(budget.peer_wait() > budget.render_timeout(), "{secs} s");
        }
    }

    #[test]
    fn etags_are_strong_and_name_the_bytes() {
        let etag = variant_etag(b"variant");
        assert_eq!(etag.len(), 34);
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        assert_ne!(etag, variant_etag(b"other"));
    }
}
