//! The only module that touches libvips' C API: its declarations ([`ffi`]), and a safe,
//! owned [`Image`] handle over them. Everything above it (the pipeline, the upload checks)
//! speaks in Rust types and never sees a raw pointer.
//!
//! Why not the `libvips` crate: its option-taking wrappers are generated against libvips 8.18
//! and always pass option names that 8.14 (Debian's) rejects (`keep`, `input-profile`), and
//! its `VipsImage` is `Clone` with unref-on-drop. Declaring the few calls we need against the
//! ABI we link keeps the unsafe surface small and reviewable in one module:
//! - [`ffi`]: the `extern "C"` declarations and enum values;
//! - [`setup`]: errors, start-up and lock-down, process-wide settings;
//! - [`image`]: the handle;
//! - [`load`]: headers, sequential decodes, decodes kept in memory, memory images from
//!   pixels decoded elsewhere (HEIC, by `crate::heif`);
//! - [`ops`]: the operations a render applies;
//! - [`save`]: the encoders.

mod ffi;
mod image;
mod load;
mod ops;
mod save;
mod setup;

pub(crate) use image::Image;
pub(crate) use load::{
    Interleaved, Keep, MemoryImage, Region, Strictness, ThumbnailSize, decode_fully,
    decode_to_memory, read_header, thumbnail, thumbnail_shrunk,
};
pub(crate) use ops::Flip;
pub(crate) use save::Codec;
pub(crate) use setup::{VipsError, VipsSettings, init, set_concurrency, version};
