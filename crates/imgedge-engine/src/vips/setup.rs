//! libvips for the process: the error type of every call, start-up and lock-down, and the
//! process-wide settings (threads per render, version).

use std::ffi::{CStr, c_int};
use std::sync::OnceLock;

use super::ffi::{
    TRUE, vips_block_untrusted_set, vips_cache_set_max, vips_cache_set_max_files,
    vips_cache_set_max_mem, vips_concurrency_set, vips_error_buffer, vips_error_clear, vips_init,
    vips_operation_block_set, vips_version,
};

/// A libvips failure: which call failed and what libvips' error buffer said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{op}: {detail}")]
pub(crate) struct VipsError {
    pub(crate) op: &'static str,
    pub(crate) detail: String,
}

/// Takes libvips' (process-wide) error buffer for a failed call.
pub(crate) fn last_error(op: &'static str) -> VipsError {
    // SAFETY: vips_error_buffer returns a NUL-terminated string owned by libvips, valid until
    // the next vips_error_clear; it is copied before clearing.
    let detail = unsafe {
        let msg = vips_error_buffer();
        let text = if msg.is_null() {
            String::new()
        } else {
            CStr::from_ptr(msg).to_string_lossy().trim().to_owned()
        };
        vips_error_clear();
        text
    };
    VipsError { op, detail }
}

/// How libvips is set up for the process. Applied once, by [`init`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct VipsSettings {
    /// Worker threads libvips may use inside one render (0: libvips' default, the core count).
    pub(crate) concurrency: u32,
}

/// Sets how many threads the renders that start from now on use (libvips' setting is
/// process-wide).
pub(crate) fn set_concurrency(threads: u32) {
    let threads = c_int::try_from(threads.max(1)).unwrap_or(c_int::MAX);
    // SAFETY: a plain setter of an integer libvips reads when a pipeline starts.
    unsafe { vips_concurrency_set(threads) }
}

/// The libvips version this process runs against, as (major, minor, micro).
pub(crate) fn version() -> (i32, i32, i32) {
    // SAFETY: plain integer getters, valid before and after vips_init.
    unsafe { (vips_version(0), vips_version(1), vips_version(2)) }
}

/// Loader classes imgedge accepts. Everything else under `VipsForeignLoad` (SVG, PDF, TIFF,
/// the `.v` format, `ImageMagick`, matrix, CSV, ...) is blocked for the whole process.
pub(crate) const ALLOWED_LOADERS: [&CStr; 5] = [
    c"VipsForeignLoadJpeg",
    c"VipsForeignLoadPng",
    c"VipsForeignLoadWebp",
    c"VipsForeignLoadNsgif",
    c"VipsForeignLoadHeif",
];

/// Starts libvips once for the process and locks it down. Later calls return the first
/// result, whatever settings they pass.
pub(crate) fn init(settings: VipsSettings) -> Result<(), VipsError> {
    static INIT: OnceLock<Result<(), VipsError>> = OnceLock::new();
    INIT.get_or_init(|| {
        // SAFETY: vips_init is called once (OnceLock) with a static NUL-terminated name; the
        // setters below take plain values and are documented as callable after init.
        unsafe {
            if vips_init(c"imgedge".as_ptr()) != 0 {
                return Err(last_error("vips_init"));
            }
            let (major, minor, _) = version();
            if (major, minor) < (8, 13) {
                return Err(VipsError {
                    op: "vips_init",
                    detail: format!(
                        "libvips {major}.{minor} is too old; 8.13 or newer is required"
                    ),
                });
            }
            // Untrusted loaders (those libvips itself does not consider fuzzed and safe for
            // hostile input) are blocked first, then every loader but the five formats we
            // accept, so a file sniffed as anything else can never reach a decoder.
            vips_block_untrusted_set(TRUE);
            vips_operation_block_set(c"VipsForeignLoad".as_ptr(), TRUE);
            for loader in ALLOWED_LOADERS {
                vips_operation_block_set(loader.as_ptr(), 0);
            }
            // libvips' operation cache memoises operations by their arguments. Every render
            // here reads a different buffer once; the CDN and S3 are the cache. Keeping it
            // would only hold decoded pixels in memory, so it is switched off.
            vips_cache_set_max(0);
            vips_cache_set_max_mem(0);
            vips_cache_set_max_files(0);
            // Threads inside one render. The transformer bounds how many renders run at once
            // (one per core); within a render libvips splits the pipeline into tiles across
            // these threads, which shortens the one request a user is waiting for. 0 keeps
            // libvips' default (the core count, or VIPS_CONCURRENCY).
            if settings.concurrency > 0 {
                vips_concurrency_set(settings.concurrency as c_int);
            }
        }
        Ok(())
    })
    .clone()
}
