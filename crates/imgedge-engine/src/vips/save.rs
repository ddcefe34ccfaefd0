//! Encoding: an [`Image`] to JPEG, PNG, WebP or AVIF bytes, with every metadata block
//! stripped.

use std::ffi::{c_int, c_void};
use std::ptr;

use super::ffi::{
    END, HEIF_COMPRESSION_AV1, TRUE, g_free, vips_heifsave_buffer, vips_jpegsave_buffer,
    vips_pngsave_buffer, vips_webpsave_buffer,
};
use super::image::Image;
use super::setup::{VipsError, last_error};
use crate::webp::strip_webp_metadata;

/// An encoder and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Jpeg {
        quality: u8,
    },
    /// Truecolour, or with `palette` a palette image of at most 256 colours quantised
    /// (with dithering) at that quality.
    Png {
        palette: Option<u8>,
    },
    Webp {
        quality: u8,
    },
    /// AV1 in HEIF. `effort` is 0 (fastest) to 9.
    Avif {
        quality: u8,
        effort: u8,
    },
}

impl Image {
    /// Encodes to a buffer in `codec`, stripping all metadata.
    pub(crate) fn save(&self, codec: Codec) -> Result<Vec<u8>, VipsError> {
        let mut buf: *mut c_void = ptr::null_mut();
        let mut len: usize = 0;
        let (op, status) = {
            let p = self.ptr();
            let (b, l) = (&raw mut buf, &raw mut len);
            let strip = c"strip".as_ptr();
            // SAFETY: valid image and out pointers; NULL-terminated options.
            unsafe {
                match codec {
                    Codec::Jpeg { quality } => (
                        "jpegsave",
                        vips_jpegsave_buffer(
                            p,
                            b,
                            l,
                            c"Q".as_ptr(),
                            c_int::from(quality),
                            c"optimize_coding".as_ptr(),
                            TRUE,
                            strip,
                            TRUE,
                            END,
                        ),
                    ),
                    Codec::Png { palette: None } => (
                        "pngsave",
                        vips_pngsave_buffer(
                            p,
                            b,
                            l,
                            c"compression".as_ptr(),
                            6 as c_int,
                            strip,
                            TRUE,
                            END,
                        ),
                    ),
                    Codec::Png {
                        palette: Some(quality),
                    } => (
                        "pngsave",
                        vips_pngsave_buffer(
                            p,
                            b,
                            l,
                            c"compression".as_ptr(),
                            6 as c_int,
                            c"palette".as_ptr(),
                            TRUE,
                            c"Q".as_ptr(),
                            c_int::from(quality),
                            strip,
                            TRUE,
                            END,
                        ),
                    ),
                    Codec::Webp { quality } => (
                        "webpsave",
                        vips_webpsave_buffer(
                            p,
                            b,
                            l,
                            c"Q".as_ptr(),
                            c_int::from(quality),
                            strip,
                            TRUE,
                            END,
                        ),
                    ),
                    Codec::Avif { quality, effort } => (
                        "heifsave",
                        vips_heifsave_buffer(
                            p,
                            b,
                            l,
                            c"Q".as_ptr(),
                            c_int::from(quality),
                            c"compression".as_ptr(),
                            HEIF_COMPRESSION_AV1,
                            c"effort".as_ptr(),
                            c_int::from(effort),
                            strip,
                            TRUE,
                            END,
                        ),
                    ),
                }
            }
        };
        if status != 0 || buf.is_null() {
            return Err(last_error(op));
        }
        // SAFETY: libvips allocated `len` bytes at `buf` with g_malloc; we copy and free them.
        let bytes = unsafe {
            let bytes = std::slice::from_raw_parts(buf.cast::<u8>(), len).to_vec();
            g_free(buf);
            bytes
        };
        Ok(match codec {
            Codec::Webp { .. } => strip_webp_metadata(bytes),
            Codec::Jpeg { .. } | Codec::Png { .. } | Codec::Avif { .. } => bytes,
        })
    }
}
