//! The checks an uploaded original passes before it is stored, cheapest first: its type
//! from its bytes (magic numbers, never the file name or the declared Content-Type) with
//! nothing after the image's end, then its metadata against a bound (inflated, before any
//! decoder reads it), then libvips' reading of its header (the same format, the pixel
//! limit, the frame limit) before any pixel is decoded, then a full decode, failing on
//! warnings and within the render deadline, as proof that the file is whole.
//!
//! The API runs [`check`] on every upload, and the `upload` fuzz target runs the same
//! function on arbitrary bytes.

mod metadata;
mod sniff;

pub use metadata::{MetadataTooLarge, check_metadata};
pub use sniff::{SniffError, Sniffed, sniff};

use imgedge_engine::{Engine, EngineError, SourceFormat, SourceInfo};

/// What an upload may be, beyond the engine's own pixel limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Most frames (pages) an animated or multi-image file may have.
    pub max_frames: u32,
    /// Most bytes of metadata (text, EXIF, XMP, ICC), counted once inflated.
    pub max_metadata_bytes: u64,
}

/// An upload that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// What its bytes say it is: the Content-Type it is stored with.
    pub sniffed: Sniffed,
    /// What libvips read in its header.
    pub info: SourceInfo,
}

/// Why an upload is refused. The cause stays here, for logs; the API's error contract gives
/// each variant its public code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Empty, not an accepted format, trailing data, or no end.
    #[error(transparent)]
    Sniff(#[from] SniffError),
    /// The sniffer and libvips read different formats: the file is two things at once.
    #[error("the bytes say {sniffed:?} but libvips reads {decoded:?}")]
    FormatMismatch {
        sniffed: Sniffed,
        decoded: SourceFormat,
    },
    #[error("the upload has {frames} frames; the limit is {limit}")]
    TooManyFrames { frames: u32, limit: u32 },
    /// Text chunks, EXIF, XMP or ICC profiles that add up to more than the bound.
    #[error(transparent)]
    Metadata(#[from] MetadataTooLarge),
    /// The header or the decode failed: corrupt, truncated, too many pixels, unsupported.
    #[error(transparent)]
    Image(#[from] EngineError),
}

/// Runs every check on `bytes`, in order. Decodes the whole first frame when the cheaper
/// checks pass: call it off the async threads. The decode ends by the engine's render
/// deadline (killed by its watchdog if need be), so the call does too.
pub fn check(engine: &Engine, bytes: &[u8], limits: UploadLimits) -> Result<Accepted, Refusal> {
    let sniffed = sniff(bytes)?;
    // Before libvips: libpng inflates text chunks while it reads the header.
    check_metadata(sniffed, bytes, limits.max_metadata_bytes)?;
    let info = engine.inspect(bytes)?;
    if !sniffed.agrees_with(info.format) {
        return Err(Refusal::FormatMismatch {
            sniffed,
            decoded: info.format,
        });
    }
    if info.frames > limits.max_frames {
        return Err(Refusal::TooManyFrames {
            frames: info.frames,
            limit: limits.max_frames,
        });
    }
    engine.verify(bytes)?;
    Ok(Accepted { sniffed, info })
}
