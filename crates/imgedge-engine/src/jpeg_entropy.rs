//! A strict walk of a JPEG's entropy-coded data, for the upload's check.
//!
//! The libvips that every build links decodes JPEG with mozjpeg, whose Huffman decoder
//! replaces a code that does not exist with zero and says nothing: an upload with damaged
//! compressed data decodes without a warning into grey or smeared blocks, so libvips'
//! `fail_on=warning` no longer refuses it (libvips 8.14 with Debian's libjpeg-turbo did, in
//! most cases: its slow path warns). zune-jpeg in strict mode refuses any bad Huffman code,
//! any marker out of place and any missing data, so an upload is refused like a truncation.
//!
//! It decodes to one grey band (the entropy decoding walks every component regardless), so
//! its buffer is one byte per pixel: at most the engine's pixel limit, and the upload check
//! runs one decode per core.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Decodes `bytes` strictly, discarding the pixels; the decoder's complaint when the
/// entropy-coded data is damaged or the file ends early. `max_side` bounds the width and
/// height it accepts (the header is checked against the pixel limit before this runs).
pub(crate) fn check(bytes: &[u8], max_side: usize) -> Result<(), String> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(max_side)
        .set_max_height(max_side)
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder
        .decode()
        .map(drop)
        .map_err(|e| format!("JPEG data: {e}"))
}
