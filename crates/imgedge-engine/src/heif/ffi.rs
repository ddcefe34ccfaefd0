//! libheif's C API: the declarations of the few functions the engine calls to decode HEIC,
//! against Debian's libheif 1.15 (`libheif-dev`), and the enum values they take. With
//! `vips/ffi.rs`, one of the two `extern "C"` blocks of the project.
//!
//! The library is linked by the engine's build script (`link_libheif`, through pkg-config).
//! Sharp's libvips exports no `heif_*` symbol, so these resolve to Debian's libheif whichever
//! libvips the build links.

use std::ffi::{c_char, c_int, c_void};

/// An opaque `heif_context`: a parsed file.
#[repr(C)]
pub(super) struct HeifContext {
    _private: [u8; 0],
}

/// An opaque `heif_image_handle`: one image of a file, not decoded.
#[repr(C)]
pub(super) struct HeifImageHandle {
    _private: [u8; 0],
}

/// An opaque `heif_image`: decoded pixels.
#[repr(C)]
pub(super) struct HeifImage {
    _private: [u8; 0],
}

/// `struct heif_error`, returned by value: `message` is a static or context-owned string,
/// never NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct HeifError {
    pub(super) code: c_int,
    pub(super) subcode: c_int,
    pub(super) message: *const c_char,
}

pub(super) type HeifItemId = u32;

unsafe extern "C" {
    pub(super) fn heif_init(params: *mut c_void) -> HeifError;
    /// Non-zero when a decoder for `format` (an `enum heif_compression_format`) is loaded.
    pub(super) fn heif_have_decoder_for_format(format: c_int) -> c_int;

    pub(super) fn heif_context_alloc() -> *mut HeifContext;
    pub(super) fn heif_context_free(ctx: *mut HeifContext);
    pub(super) fn heif_context_set_maximum_image_size_limit(
        ctx: *mut HeifContext,
        maximum_width: c_int,
    );
    pub(super) fn heif_context_read_from_memory_without_copy(
        ctx: *mut HeifContext,
        mem: *const c_void,
        size: usize,
        options: *const c_void,
    ) -> HeifError;
    pub(super) fn heif_context_get_primary_image_handle(
        ctx: *mut HeifContext,
        handle: *mut *mut HeifImageHandle,
    ) -> HeifError;

    pub(super) fn heif_image_handle_release(handle: *const HeifImageHandle);
    pub(super) fn heif_image_handle_get_width(handle: *const HeifImageHandle) -> c_int;
    pub(super) fn heif_image_handle_get_height(handle: *const HeifImageHandle) -> c_int;
    pub(super) fn heif_image_handle_has_alpha_channel(handle: *const HeifImageHandle) -> c_int;
    pub(super) fn heif_image_handle_get_raw_color_profile_size(
        handle: *const HeifImageHandle,
    ) -> usize;
    pub(super) fn heif_image_handle_get_raw_color_profile(
        handle: *const HeifImageHandle,
        out_data: *mut c_void,
    ) -> HeifError;
    pub(super) fn heif_image_handle_get_number_of_metadata_blocks(
        handle: *const HeifImageHandle,
        type_filter: *const c_char,
    ) -> c_int;
    pub(super) fn heif_image_handle_get_list_of_metadata_block_IDs(
        handle: *const HeifImageHandle,
        type_filter: *const c_char,
        ids: *mut HeifItemId,
        count: c_int,
    ) -> c_int;
    pub(super) fn heif_image_handle_get_metadata_size(
        handle: *const HeifImageHandle,
        metadata_id: HeifItemId,
    ) -> usize;

    pub(super) fn heif_decode_image(
        handle: *const HeifImageHandle,
        out_img: *mut *mut HeifImage,
        colorspace: c_int,
        chroma: c_int,
        options: *const c_void,
    ) -> HeifError;
    pub(super) fn heif_image_release(image: *const HeifImage);
    pub(super) fn heif_image_get_width(image: *const HeifImage, channel: c_int) -> c_int;
    pub(super) fn heif_image_get_height(image: *const HeifImage, channel: c_int) -> c_int;
    pub(super) fn heif_image_get_plane_readonly(
        image: *const HeifImage,
        channel: c_int,
        out_stride: *mut c_int,
    ) -> *const u8;
}

// Enum values from libheif's heif.h (stable across 1.x).
/// `heif_compression_HEVC`.
pub(super) const COMPRESSION_HEVC: c_int = 1;
pub(super) const ERROR_OK: c_int = 0;
pub(super) const ERROR_MEMORY_ALLOCATION: c_int = 6;
pub(super) const SUBERROR_SECURITY_LIMIT_EXCEEDED: c_int = 1000;
pub(super) const COLORSPACE_RGB: c_int = 1;
pub(super) const CHROMA_INTERLEAVED_RGB: c_int = 10;
pub(super) const CHROMA_INTERLEAVED_RGBA: c_int = 11;
pub(super) const CHANNEL_INTERLEAVED: c_int = 10;
