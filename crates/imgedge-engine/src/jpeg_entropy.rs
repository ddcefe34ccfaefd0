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
//! its output is one byte per pixel, at most the engine's pixel limit (a progressive file's
//! coefficients take more while it decodes: two bytes per sample); the upload check runs one
//! decode per core. zune makes a grey band from YCbCr and grey files only, which are what
//! cameras, phones and browsers write: the others (CMYK and YCCK from print workflows,
//! RGB-named components) and the schemes zune does not decode (arithmetic coding, lossless,
//! 12-bit) are left to libvips' own check, so no valid file is refused for its kind.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;
use zune_jpeg::errors::DecodeErrors;

/// Decodes `bytes` strictly, discarding the pixels; the decoder's complaint when the
/// entropy-coded data is damaged or the file ends early. `max_side` bounds the width and
/// height it accepts (the header is checked against the pixel limit before this runs).
pub(crate) fn check(bytes: &[u8], max_side: usize) -> Result<(), String> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(max_side)
        .set_max_height(max_side);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    match decoder.decode_headers() {
        Ok(()) => {}
        Err(DecodeErrors::Unsupported(_)) => return Ok(()),
        Err(e) => return Err(format!("JPEG data: {e}")),
    }
    if !matches!(
        decoder.input_colorspace(),
        Some(ColorSpace::YCbCr | ColorSpace::Luma)
    ) {
        return Ok(());
    }
    decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::Luma));
    match decoder.decode() {
        Ok(_) | Err(DecodeErrors::Unsupported(_)) => Ok(()),
        Err(e) => Err(format!("JPEG data: {e}")),
    }
}
