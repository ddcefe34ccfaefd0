//! An upload's body: read by a task of its own into one buffer charged to the upload budget,
//! and, when the upload is refused before its body ends, drained for a moment after the
//! answer (a lingering close).
//!
//! The buffer: a body declared with `Content-Length` is read into a buffer of exactly that
//! size, charged in full before the first byte; a chunked body's buffer grows (doubling, up
//! to the size limit) with each growth charged before it happens, both buffers counted while
//! one is copied into the other. Chunks are copied, never kept: a chunk from hyper can pin a
//! read buffer many times its own size.
//!
//! The lingering close: a server that answers and closes while the client is still sending
//! resets the connection, and a reset can destroy the answer in the client's receive buffer:
//! the edge in front of the API then reports `503` instead of the API's `413`. So the task
//! that reads the body outlives a refusal, reading and discarding what comes for at most
//! [`LINGER_FOR`] and [`LINGER_BYTES`] before it lets the connection close.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::admission::Charge;
use super::error::{ApiError, Invalid};

/// How long a refused body is drained after the answer, at most.
const LINGER_FOR: Duration = Duration::from_secs(2);
/// How much of a refused body is drained after the answer, at most.
const LINGER_BYTES: u64 = 32 * 1024 * 1024;
/// The first capacity of a chunked body's buffer.
const FIRST_CAPACITY: u64 = 64 * 1024;

/// What the reading task hands over.
type Piece = Result<Bytes, ApiError>;

/// The body, read by its own task; what it has read arrives through [`Incoming::next`].
pub(super) struct Incoming {
    pieces: mpsc::Receiver<Piece>,
    too_large: Arc<AtomicBool>,
}

impl Incoming {
    /// Starts reading `body`: more than `limit` bytes is [`ApiError::TooLarge`]. When the
    /// `Incoming` is dropped before the body ends, the task lingers, then drops the body.
    pub(super) fn spawn(body: Body, limit: u64) -> Incoming {
        let (tx, pieces) = mpsc::channel(4);
        let too_large = Arc::new(AtomicBool::new(false));
        tokio::spawn(read(body, limit, tx, Arc::clone(&too_large)));
        Incoming { pieces, too_large }
    }

    /// The next chunk, `None` at the body's end.
    pub(super) async fn next(&mut self) -> Option<Piece> {
        self.pieces.recv().await
    }

    /// Tells later whether the body went past its limit, for a reader that sees only that
    /// the body failed (a multipart parser).
    pub(super) fn was_too_large_flag(&self) -> TooLargeFlag {
        TooLargeFlag(Arc::clone(&self.too_large))
    }

    /// As a request body, for a multipart parser.
    pub(super) fn into_body(self) -> Body {
        let stream = futures::stream::unfold(self.pieces, |mut pieces| async move {
            let piece = pieces.recv().await?;
            Some((
                piece.map_err(|e| std::io::Error::other(e.to_string())),
                pieces,
            ))
        });
        Body::from_stream(stream)
    }
}

/// Whether a body went past its limit.
pub(super) struct TooLargeFlag(Arc<AtomicBool>);

impl TooLargeFlag {
    pub(super) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

async fn read(body: Body, limit: u64, tx: mpsc::Sender<Piece>, too_large: Arc<AtomicBool>) {
    let mut stream = body.into_data_stream();
    let mut seen = 0u64;
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = tx.closed() => break,
        };
        let piece = match next {
            None => return,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "upload body unreadable");
                let _ = tx.send(Err(Invalid::Body.into())).await;
                return;
            }
            Some(Ok(chunk)) => chunk,
        };
        seen += piece.len() as u64;
        if seen > limit {
            too_large.store(true, Ordering::Relaxed);
            let _ = tx.send(Err(ApiError::TooLarge(limit))).await;
            break;
        }
        if tx.send(Ok(piece)).await.is_err() {
            break;
        }
    }
    // Refused before its end: drain for a moment so that the answer reaches the client
    // before the connection closes under what it still sends.
    let mut drained = 0u64;
    let _ = tokio::time::timeout(LINGER_FOR, async {
        while let Some(Ok(chunk)) = stream.next().await {
            drained += chunk.len() as u64;
            if drained > LINGER_BYTES {
                break;
            }
        }
    })
    .await;
    metrics::counter!("imgedge_upload_lingering_closes_total").increment(1);
}

/// An upload's bytes in one buffer, charged to the budget for its whole capacity.
pub(super) struct Buffer {
    bytes: Vec<u8>,
    limit: u64,
    charge: Charge,
}

impl Buffer {
    /// A buffer for at most `limit` bytes: of exactly `declared` bytes when the body's size
    /// is known (`charge` covers it already), else growing as chunks arrive.
    pub(super) fn new(declared: Option<u64>, limit: u64, charge: Charge) -> Buffer {
        let capacity = declared.map_or(0, |d| d.min(limit));
        Buffer {
            bytes: Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)),
            limit,
            charge,
        }
    }

    /// Appends `chunk`: [`ApiError::TooLarge`] past the limit, [`ApiError::UploadsBusy`] when
    /// the buffer must grow and the budget has no room for it.
    pub(super) fn push(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        let needed = (self.bytes.len() + chunk.len()) as u64;
        if needed > self.limit {
            return Err(ApiError::TooLarge(self.limit));
        }
        let capacity = self.bytes.capacity() as u64;
        if needed > capacity {
            let grown = needed
                .max(capacity.saturating_mul(2))
                .max(FIRST_CAPACITY)
                .min(self.limit);
            // The old and the new buffer both exist while one is copied into the other.
            self.charge.grow_to(capacity + grown)?;
            let mut bigger = Vec::with_capacity(usize::try_from(grown).unwrap_or(usize::MAX));
            bigger.extend_from_slice(&self.bytes);
            self.bytes = bigger;
            self.charge.shrink_to(grown);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes, with the charge that stays held while anything uses them.
    pub(super) fn finish(self) -> (Bytes, Charge) {
        (Bytes::from(self.bytes), self.charge)
    }
}

#[cfg(test)]
mod tests {
    use super::super::admission::Admission;
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_declared_body_is_read_into_one_buffer_of_its_size() {
        let admission = Admission::new(64 * MIB, 4);
        let declared = 3 * MIB + 5;
        let charge = admission.charge(declared).expect("charge");
        let mut buffer = Buffer::new(Some(declared), 25 * MIB, charge);
        let chunk = vec![7u8; 64 * 1024];
        let mut left = declared as usize;
        while left > 0 {
            let take = left.min(chunk.len());
            buffer.push(&chunk[..take]).expect("within the limit");
            left -= take;
        }
        assert_eq!(buffer.bytes.capacity() as u64, declared, "never regrown");
        let (bytes, charge) = buffer.finish();
        assert_eq!(bytes.len() as u64, declared);
        assert!(charge.bytes() >= declared && charge.bytes() < declared + 1024);
    }

    #[test]
    fn a_chunked_body_is_charged_as_it_grows() {
        // 9 MiB: the last growth holds the old 3.2 MB buffer and the new 5 MiB at once.
        let admission = Admission::new(9 * MIB, 4);
        let charge = admission.charge(0).expect("nothing yet");
        let mut buffer = Buffer::new(None, 5 * MIB, charge);
        let chunk = vec![1u8; 100 * 1024];
        for _ in 0..40 {
            buffer
                .push(&chunk)
                .expect("4 MB within the limit and the budget");
        }
        let capacity = buffer.bytes.capacity() as u64;
        assert!(capacity <= 5 * MIB, "capped at the limit: {capacity}");
        assert_eq!(buffer.charge.bytes(), capacity.div_ceil(1024) * 1024);
        // Another upload cannot take what this one holds.
        assert!(admission.charge(9 * MIB - capacity + 1024).is_err());
        for _ in 0..11 {
            buffer.push(&chunk).expect("up to 5 MiB");
        }
        assert!(matches!(buffer.push(&chunk), Err(ApiError::TooLarge(_))));
    }

    #[test]
    fn a_growth_the_budget_cannot_cover_is_refused() {
        let admission = Admission::new(MIB, 4);
        let charge = admission.charge(0).expect("nothing yet");
        let mut buffer = Buffer::new(None, 25 * MIB, charge);
        let chunk = vec![1u8; 300 * 1024];
        buffer.push(&chunk).expect("300 KiB");
        // 600 KiB: the old 300 and the new 600 while copying, within 1 MiB.
        buffer.push(&chunk).expect("600 KiB");
        // 900 KiB fits the 600 KiB buffer's doubling only with 1.8 MiB charged while copying.
        assert!(matches!(buffer.push(&chunk), Err(ApiError::UploadsBusy)));
    }
}
