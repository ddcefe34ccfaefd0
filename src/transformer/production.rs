//! Step 4, the production of a variant, run once per variant at a time: the image's owner
//! and the render's estimate (its bounds and cost, before anything is fetched), the
//! cross-process render lease (or the wait for the peer that holds it), the variant cap
//! and the owner's render rate, admission to the render pool, the render, the record in
//! PostgreSQL, and then, while the bytes are on their way to the edge, the PUT (still under
//! the lease) and the removal of an object whose row a delete took meanwhile.
//!
//! Why the record comes first and the PUT after the answer: the record is the step that can
//! refuse (the image was deleted, the cap filled), so a refused render is answered with its
//! error and writes nothing; the PUT cannot refuse, only fail, and a failed PUT costs a
//! later miss one more render (the row stays: the variant is one of the image's, and the
//! next production of it finds its row and PUTs it). Against S3 a PUT takes tens of
//! milliseconds that a cold request no longer waits for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::lock::{self, Lease};
use super::render::RenderedVariant;
use super::response::{millis_text, server_timing};
use super::{Transformer, TransformerError, VariantRequest};
use crate::db::{Image, NewVariant, VariantRecorded};
use crate::error::ErrorResponse;
use crate::protocol::{IMMUTABLE_CACHE_CONTROL, variant_etag};
use crate::storage::Object;
use imgedge_engine::{EngineError, SourceFormat, SourceInfo};
use imgedge_url::Format;

/// A variant ready to send.
#[derive(Debug, Clone)]
pub(super) struct Variant {
    pub(super) bytes: Bytes,
    pub(super) content_type: &'static str,
    pub(super) etag: String,
    /// The `Server-Timing` value of the production.
    pub(super) timing: String,
}

/// What one production gave, shared by every request that waited for it.
pub(super) type Produced = Arc<Result<Variant, ErrorResponse>>;

/// How the wait for a peer holding the lease ended.
enum Waited {
    /// The peer stored and recorded the variant: it is read back.
    Rendered(Variant),
    /// The lease came free (the peer failed or died) and is now ours.
    Lease(lock::Held),
    /// Redis failed while waiting: render without a lease, as when it fails at first.
    LockUnavailable,
    /// The peer outlived its own lease: render regardless, without one.
    PeerOutlivedLease,
}

impl Transformer {
    /// Step 4, run once per variant at a time.
    pub(super) async fn produce(
        &self,
        wanted: &VariantRequest,
    ) -> Result<Variant, TransformerError> {
        let request = &wanted.request;
        let image = *request.image_id().as_uuid();
        let stored = self
            .0
            .db
            .image_any_owner(image)
            .await?
            .ok_or(TransformerError::ImageGone)?;
        // The key may have been rotated since the signature was checked: the stored epoch
        // decides.
        if stored.key_epoch != wanted.epoch.0 {
            let key = imgedge_url::UrlKey::derive_at(
                &self.0.url_secret,
                request.image_id(),
                imgedge_url::KeyEpoch(stored.key_epoch),
            );
            if !request.verify_with_key(&key) {
                return Err(TransformerError::BadSignature);
            }
        }
        // Refused before the lease, the fetch and the pool: a spec beyond this image's
        // bounds costs nothing but this answer.
        let estimate = self
            .0
            .engine
            .estimate(&wanted.render_spec(), &source_info(&stored)?)
            .map_err(EngineError::BeyondBounds)?;
        let charge = RenderCharge {
            owner: stored.owner_id,
            cost_units: estimate.cost_units,
        };
        let key = wanted.key();
        // The lease held while rendering; `None` renders without one.
        let held = match lock::acquire(self.0.redis.as_ref(), &key).await {
            Lease::Held(held) => Some(held),
            Lease::Unavailable => None,
            Lease::Busy => match self.wait_for_peer(request, &key).await? {
                Waited::Rendered(variant) => return Ok(variant),
                Waited::Lease(held) => Some(held),
                Waited::LockUnavailable | Waited::PeerOutlivedLease => None,
            },
        };
        match self.render_and_record(wanted, charge).await {
            Ok(RecordedVariant { variant, object }) => {
                self.store_after_answer(object, held).await;
                Ok(variant)
            }
            Err(e) => {
                if let Some(held) = held {
                    lock::release(held).await;
                }
                Err(e)
            }
        }
    }

    /// Another process holds the lease on `key` (or this one, still storing a variant it
    /// answered): waits for its object to appear, or for the lease to come free (the peer
    /// failed or died), then takes it.
    async fn wait_for_peer(
        &self,
        request: &imgedge_url::TransformRequest,
        key: &str,
    ) -> Result<Waited, TransformerError> {
        let image = *request.image_id().as_uuid();
        let sig = &request.sig().to_string();
        let started = Instant::now();
        let deadline = started + self.0.budget.peer_wait();
        let mut pause = Duration::from_millis(50);
        while Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
            // The peer records, then PUTs: its object is read once both are done (an object
            // without its row may be an orphan of a delete that raced a render).
            if self.0.db.variant_recorded(image, sig).await?
                && let Some(object) = self.0.store.get(key).await?
            {
                let timing = format!("wait;dur={}", millis_text(started.elapsed()));
                return Ok(Waited::Rendered(stored_variant(object, timing)));
            }
            match lock::acquire(self.0.redis.as_ref(), key).await {
                Lease::Held(held) => return Ok(Waited::Lease(held)),
                Lease::Unavailable => return Ok(Waited::LockUnavailable),
                Lease::Busy => {}
            }
        }
        // The peer outlived its own lease: render regardless.
        Ok(Waited::PeerOutlivedLease)
    }

    /// Renders the variant and records it under the cap; the object is left to
    /// [`Transformer::store_after_answer`].
    async fn render_and_record(
        &self,
        wanted: &VariantRequest,
        charge: RenderCharge,
    ) -> Result<RecordedVariant, TransformerError> {
        let request = &wanted.request;
        let image = *request.image_id().as_uuid();
        let sig = request.sig().to_string();
        let settings = &self.0.settings;
        if self.0.db.other_variant_count(image, &sig).await? >= settings.max_variants_per_image {
            return Err(TransformerError::VariantCap(
                settings.max_variants_per_image,
            ));
        }
        let decision = self
            .0
            .limiter
            .check_cost(
                &format!("render:{}", charge.owner),
                &settings.render_quota,
                charge.cost_units,
            )
            .await;
        if !decision.allowed {
            return Err(TransformerError::RateLimited(decision));
        }

        // The worker is the owner's from the fetch to the end of the render; the record and
        // the store below run without one, overlapping the next renders.
        let RenderedVariant {
            rendered,
            fetch,
            from_kept_decode,
        } = self.render(wanted, image, charge.owner).await?;
        metrics::histogram!("imgedge_transformer_render_seconds")
            .record(rendered.timings.total().as_secs_f64());

        let canonical_query = request.spec().canonical_query();
        let content_type = rendered.format.mime();
        let record_started = Instant::now();
        let bytes = Bytes::from(rendered.bytes);
        let recorded = self
            .0
            .db
            .insert_variant_within(
                &NewVariant {
                    image_id: image,
                    sig: sig.clone(),
                    canonical_query: canonical_query.clone(),
                    bytes: bytes.len() as u64,
                    format: rendered.format.as_str().to_owned(),
                    accept_class: wanted.class,
                    key_epoch: wanted.epoch.0,
                },
                settings.max_variants_per_image,
            )
            .await?;
        let record = record_started.elapsed();
        match recorded {
            VariantRecorded::Inserted | VariantRecorded::AlreadyPresent => {}
            // Deleted while rendering: nothing was written, and nothing will be.
            VariantRecorded::ImageGone => return Err(TransformerError::ImageGone),
            // The key was rotated while this rendered: the URL no longer verifies.
            VariantRecorded::KeyRotated => return Err(TransformerError::BadSignature),
            // Other renders filled the cap while this one ran (the check before it is only
            // a fast path): the cap holds, and this render is not kept.
            VariantRecorded::CapReached => {
                return Err(TransformerError::VariantCap(
                    settings.max_variants_per_image,
                ));
            }
        }
        Ok(RecordedVariant {
            variant: Variant {
                etag: variant_etag(&bytes),
                bytes: bytes.clone(),
                content_type,
                timing: server_timing(fetch, from_kept_decode, &rendered.timings, record),
            },
            object: VariantObject {
                image,
                sig,
                key: wanted.key(),
                bytes,
                content_type,
                canonical_query,
            },
        })
    }

    /// Stores a recorded variant's object: in the background while its bytes are answered
    /// when the bytes of such stores in flight stay within their budget, else (S3 slow or
    /// down, so stores pile up) before the answer, as backpressure. Then releases the lease:
    /// a peer waiting on it reads the object once it is there. A stop waits for the
    /// background stores ([`run`](super::run)).
    async fn store_after_answer(&self, object: VariantObject, held: Option<lock::Held>) {
        let kib = u32::try_from(object.bytes.len().div_ceil(1024)).unwrap_or(u32::MAX);
        let this = self.clone();
        let store = async move {
            this.store(object).await;
            if let Some(held) = held {
                lock::release(held).await;
            }
        };
        if let Ok(permit) = Arc::clone(&self.0.store_budget).try_acquire_many_owned(kib) {
            self.0.stores.spawn(async move {
                store.await;
                drop(permit);
            });
        } else {
            metrics::counter!("imgedge_transformer_stores_inline_total").increment(1);
            store.await;
        }
    }

    async fn store(&self, object: VariantObject) {
        let started = Instant::now();
        let put = self
            .0
            .store
            .put_variant(
                &object.key,
                object.bytes.clone(),
                object.content_type,
                IMMUTABLE_CACHE_CONTROL,
                &object.canonical_query,
            )
            .await;
        match &put {
            Ok(()) => metrics::histogram!("imgedge_transformer_store_seconds")
                .record(started.elapsed().as_secs_f64()),
            Err(e) => {
                // The row stays, and the next miss on this URL renders it again and PUTs it.
                metrics::counter!("imgedge_transformer_store_failures_total").increment(1);
                tracing::warn!(key = %object.key, error = %e, "variant not stored: the next miss renders it again");
            }
        }
        // A delete that committed after the record lists the image's objects and may have
        // done so before this PUT landed: the row tells. (A delete that commits after this
        // check lists the object and removes it itself.) Checked after a failed PUT too,
        // which may have landed all the same (a timeout after S3 took it).
        if !self.still_recorded(&object).await {
            self.remove_orphan(&object.key).await;
        }
    }

    /// Whether the variant's row is still there after its PUT. When the database cannot
    /// say, `false`: removing an object whose row stays costs one render at the next miss,
    /// keeping one whose image was deleted would let S3 serve it.
    async fn still_recorded(&self, object: &VariantObject) -> bool {
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=3 {
            match self.0.db.variant_recorded(object.image, &object.sig).await {
                Ok(recorded) => return recorded,
                Err(e) if attempt == 3 => {
                    tracing::warn!(key = %object.key, error = %e, "a stored variant's row could not be checked: its object is removed");
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
            }
        }
        false
    }

    /// Removes a variant object that has no row, retrying briefly; what is left is logged,
    /// counted and left to `imgedge reconcile`.
    async fn remove_orphan(&self, key: &str) {
        let mut pause = Duration::from_millis(100);
        for attempt in 1..=3 {
            match self.0.store.delete(key).await {
                Ok(()) => return,
                Err(e) if attempt == 3 => {
                    metrics::counter!("imgedge_transformer_orphans_left_total").increment(1);
                    tracing::error!(%key, error = %e, "orphan variant left for reconcile");
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
            }
        }
    }
}

/// The bytes of variants that may be stored after their answer at once, in KiB: 64 MiB,
/// hundreds of web-sized variants. S3 slow or down fills it, and the variants past it are
/// stored before they are answered, so that a slow S3 slows the answers instead of piling
/// encoded outputs up in memory.
pub(super) const STORE_BUDGET_KIB: u32 = 64 * 1024;

/// A rendered and recorded variant: what is answered, and the object to store.
struct RecordedVariant {
    variant: Variant,
    object: VariantObject,
}

/// A recorded variant's object, not yet in S3.
struct VariantObject {
    image: uuid::Uuid,
    sig: String,
    key: String,
    bytes: Bytes,
    content_type: &'static str,
    canonical_query: String,
}

/// Whom a render is charged to, and how much (in the render quota's cost units).
#[derive(Debug, Clone, Copy)]
struct RenderCharge {
    owner: uuid::Uuid,
    cost_units: u32,
}

/// The source as its stored metadata describes it, for the render's estimate. Whether it
/// has alpha is not stored: it only changes the default output of a GIF or HEIC source.
fn source_info(stored: &Image) -> Result<SourceInfo, TransformerError> {
    let format = SourceFormat::from_name(&stored.format).ok_or_else(|| {
        TransformerError::Internal(format!("stored format {:?} is unknown", stored.format))
    })?;
    Ok(SourceInfo {
        format,
        width: stored.width,
        height: stored.height,
        frames: stored.frames,
        has_alpha: false,
    })
}

/// A variant another process stored, read back from S3.
fn stored_variant(object: Object, timing: String) -> Variant {
    let content_type = object
        .content_type
        .as_deref()
        .and_then(Format::from_mime)
        .map_or("application/octet-stream", Format::mime);
    Variant {
        etag: variant_etag(&object.bytes),
        bytes: object.bytes,
        content_type,
        timing,
    }
}
