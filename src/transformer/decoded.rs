//! Originals kept decoded for a few seconds, so that the several variants of one image that
//! are requested together (the widths of a `srcset`, a thumbnail and its detail view) share
//! one fetch and one decode instead of each paying for both.
//!
//! An entry is the shrink-on-load intermediate a render decoded (for a 20-megapixel JPEG
//! rendered at width 800, 3014×1696 pixels, about 15 MB), kept by image and JPEG shrink
//! factor: a later render uses it only when its own decode would shrink by the same factor
//! ([`Decoded::serves`]), so its output is byte for byte what it would have been (for that
//! photo, widths 754 to 1507 share one intermediate, 377 to 753 another). The cache is
//! bounded in bytes and short-lived: it trades a little memory for CPU during bursts and is
//! empty the rest of the time.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use imgedge_engine::Decoded;
use imgedge_url::TransformSpec;

/// Size and lifetime of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedCacheSettings {
    /// Bytes of decoded pixels kept in all; 0 keeps none.
    pub bytes: u64,
    /// How long an intermediate stays once no render uses it.
    pub idle: Duration,
}

impl Default for DecodedCacheSettings {
    fn default() -> Self {
        DecodedCacheSettings {
            bytes: 64 << 20,
            idle: Duration::from_secs(10),
        }
    }
}

/// Intermediates by image: one per shrink factor its renders used.
pub(super) struct DecodedCache {
    entries: Option<moka::sync::Cache<Uuid, Arc<[Decoded]>>>,
    entry_limit: u64,
}

/// Intermediates are weighed in KiB (moka weighs in `u32`).
fn kib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

impl DecodedCache {
    pub(super) fn new(settings: DecodedCacheSettings) -> DecodedCache {
        let entries = (settings.bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(u64::from(kib(settings.bytes)))
                .weigher(|_, kept: &Arc<[Decoded]>| {
                    kib(kept.iter().map(Decoded::size_in_bytes).sum())
                })
                .time_to_idle(settings.idle)
                .build()
        });
        DecodedCache {
            entries,
            // One intermediate may take a quarter of the budget, so a burst on a few large
            // originals does not keep evicting itself.
            entry_limit: settings.bytes / 4,
        }
    }

    /// The largest intermediate worth keeping; 0 when the cache is off.
    pub(super) fn entry_limit(&self) -> u64 {
        self.entry_limit
    }

    /// An intermediate of `image` that renders `spec` exactly as its original would.
    pub(super) fn get(&self, image: Uuid, spec: &TransformSpec) -> Option<Decoded> {
        let found = self
            .entries
            .as_ref()?
            .get(&image)
            .and_then(|kept| kept.iter().find(|decoded| decoded.serves(spec)).cloned());
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("imgedge_transformer_decoded_cache_total", "result" => result)
            .increment(1);
        found
    }

    /// Keeps `decoded` for `image`, in place of one at the same shrink factor.
    pub(super) fn keep(&self, image: Uuid, decoded: Decoded) {
        let Some(entries) = &self.entries else { return };
        // Two renders keeping at once may each miss the other's: the cost is one decode.
        let shrink = decoded.shrink();
        let kept: Arc<[Decoded]> = entries
            .get(&image)
            .iter()
            .flat_map(|kept| kept.iter())
            .filter(|other| other.shrink() != shrink)
            .cloned()
            .chain(std::iter::once(decoded))
            .collect();
        entries.insert(image, kept);
    }
}
