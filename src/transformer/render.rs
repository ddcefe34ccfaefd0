//! The renders, each on one worker of the render pool ([`super::pool`]) held from start to
//! end: from an original decoded moments ago for another variant when one serves the
//! request, else from the original, fetched and decoded once for all the renders of its
//! image running at the same time ([`FetchedOriginal`]). Holding the worker through the fetch
//! bounds the originals and decodes in memory by the workers: a render waiting in the queue
//! holds nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::pool::Worker;
use super::{Transformer, TransformerError, VariantRequest};
use crate::error::PublicError as _;
use crate::singleflight::Role;
use imgedge_engine::{Decoded, Engine, EngineError, Rendered};

/// An original fetched for the renders of its image running at once, and its decode when
/// it is worth keeping.
#[derive(Clone)]
pub(super) struct FetchedOriginal {
    bytes: Bytes,
    decoded: Option<Decoded>,
    fetch: Duration,
}

/// A render, and how it came about (for `Server-Timing`).
pub(super) struct RenderedVariant {
    pub(super) rendered: Rendered,
    /// The fetch of the original: zero when this request did not fetch it.
    pub(super) fetch: Duration,
    /// Rendered from a decode made for another variant (no fetch, no decode of the
    /// original for this one).
    pub(super) from_kept_decode: bool,
}

impl Transformer {
    /// Renders the request's variant: from the original decoded moments ago for another
    /// variant when there is one that serves it, else from the original, fetched and
    /// decoded once for all the renders of that image waiting at the same time (the widths of
    /// a `srcset`). Returns the render with the fetch's time (zero when this request did not
    /// fetch) and whether it started from a decode made for another variant.
    pub(super) async fn render(
        &self,
        request: &VariantRequest,
        image: uuid::Uuid,
        owner: uuid::Uuid,
    ) -> Result<RenderedVariant, TransformerError> {
        let worker = self.0.pool.worker(owner).await?;
        let spec = request.render_spec();
        if let Some(decoded) = self.0.decoded.get(image, &spec) {
            metrics::counter!("imgedge_transformer_renders_from_kept_total").increment(1);
            let rendered = self
                .on_worker(&worker, move |engine| {
                    engine.render_decoded(&decoded, &spec)
                })
                .await?;
            return Ok(RenderedVariant {
                rendered,
                fetch: Duration::ZERO,
                from_kept_decode: true,
            });
        }
        let this = self.clone();
        let key = request.request.image_id().original_key();
        let first = spec.clone();
        let joined = Instant::now();
        let (fetched, role) = self
            .0
            .fetches
            .run(image, async move {
                this.fetch_and_decode(image, &key, first)
                    .await
                    .map_err(Arc::new)
            })
            .await;
        let fetched = fetched
            .map_err(|_| TransformerError::Internal("the decode task panicked".into()))?
            .map_err(TransformerError::Shared)?;
        let fetch = match role {
            Role::Leader => fetched.fetch,
            Role::Follower => Duration::ZERO,
        };
        // A follower's wait for the leader's fetch and decode counts against its render
        // budget, as a decode of its own would: one variant's production stays within one
        // budget (`RenderBudget`), whichever request decoded.
        let waited = match role {
            Role::Leader => Duration::ZERO,
            Role::Follower => joined.elapsed(),
        };
        if let Some(decoded) = fetched.decoded.filter(|decoded| decoded.serves(&spec)) {
            let leader = role == Role::Leader;
            let took = decoded.decode_time();
            let mut rendered = self
                .on_worker(&worker, move |engine| {
                    if leader {
                        engine.render_first(&decoded, &spec)
                    } else {
                        engine.render_decoded_after(&decoded, &spec, waited)
                    }
                })
                .await?;
            if leader {
                rendered.timings.decode += took;
            } else {
                metrics::counter!("imgedge_transformer_renders_from_kept_total").increment(1);
            }
            return Ok(RenderedVariant {
                rendered,
                fetch,
                from_kept_decode: !leader,
            });
        }
        // Not keepable, or decoded at another size: from the bytes already fetched.
        let keep_up_to = self.0.decoded.entry_limit();
        let bytes = fetched.bytes;
        let (rendered, kept) = self
            .on_worker(&worker, move |engine| {
                engine.render_keeping_after(&bytes, &spec, keep_up_to, waited)
            })
            .await?;
        if let Some(decoded) = kept {
            self.0.decoded.keep(image, decoded);
        }
        Ok(RenderedVariant {
            rendered,
            fetch,
            from_kept_decode: false,
        })
    }

    /// The leader's part of [`Transformer::render`]: the original from S3 and, on a worker,
    /// its decode for `spec`, kept for the next variants.
    async fn fetch_and_decode(
        &self,
        image: uuid::Uuid,
        key: &str,
        spec: imgedge_url::TransformSpec,
    ) -> Result<FetchedOriginal, TransformerError> {
        // The caller holds a worker: waiting renders hold no image in memory.
        let started = Instant::now();
        let bytes = self
            .0
            .store
            .get(key)
            .await?
            .ok_or(TransformerError::ImageGone)?
            .bytes;
        let fetch = started.elapsed();
        let engine = self.0.engine.clone();
        engine.set_threads_per_render(self.0.pool.threads_for_next());
        let keep_up_to = self.0.decoded.entry_limit();
        let original = bytes.clone();
        let decoded =
            tokio::task::spawn_blocking(move || engine.decode(&original, &spec, keep_up_to))
                .await
                .map_err(|e| TransformerError::Internal(format!("decode task: {e}")))??;
        if let Some(decoded) = &decoded {
            self.0.decoded.keep(image, decoded.clone());
        }
        Ok(FetchedOriginal {
            bytes,
            decoded,
            fetch,
        })
    }

    /// Runs `render` on the blocking pool, on the caller's `worker`, with the threads the
    /// pool's load leaves it.
    async fn on_worker<T: Send + 'static>(
        &self,
        _worker: &Worker<'_>,
        render: impl FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, TransformerError> {
        let engine = self.0.engine.clone();
        engine.set_threads_per_render(self.0.pool.threads_for_next());
        metrics::counter!("imgedge_transformer_renders_total").increment(1);
        let rendered = tokio::task::spawn_blocking(move || render(&engine))
            .await
            .map_err(|e| TransformerError::Internal(format!("render task: {e}")))?
            .inspect_err(|e| {
                metrics::counter!("imgedge_transformer_render_failures_total", "code" => e.code().as_str())
                    .increment(1);
            })?;
        Ok(rendered)
    }
}
