//! The libvips C API: the declarations of the few functions imgedge calls, against the
//! 8.13+ ABI, and the enum values they take. The only `extern "C"` block of the project.
//!
//! Calling convention: libvips operations are C varargs functions taking `name, value` pairs
//! ended by a NULL ([`END`]). Integers and enums are passed as `c_int`, booleans as
//! `gboolean` (`c_int`), floating-point values as `c_double`, arrays as `VipsArray*`
//! pointers.

use std::ffi::{c_char, c_double, c_int, c_void};
use std::ptr;

/// An opaque `VipsImage`.
#[repr(C)]
pub(crate) struct VipsImage {
    _private: [u8; 0],
}

/// An opaque `VipsArea` (the base of `VipsArrayDouble` and `VipsArrayInt`).
#[repr(C)]
pub(crate) struct VipsArea {
    _private: [u8; 0],
}

pub(crate) type GBoolean = c_int;
pub(crate) const TRUE: GBoolean = 1;

// Which library provides these is build.rs's choice: the system's libvips through
// pkg-config, or the one in IMGEDGE_LIBVIPS_DIR.
unsafe extern "C" {
    pub(crate) fn vips_init(argv0: *const c_char) -> c_int;
    pub(crate) fn vips_version(flag: c_int) -> c_int;
    pub(crate) fn vips_error_buffer() -> *const c_char;
    pub(crate) fn vips_error_clear();
    pub(crate) fn vips_block_untrusted_set(state: GBoolean);
    pub(crate) fn vips_operation_block_set(name: *const c_char, state: GBoolean);
    pub(crate) fn vips_cache_set_max(max: c_int);
    pub(crate) fn vips_cache_set_max_mem(max_mem: usize);
    pub(crate) fn vips_cache_set_max_files(max_files: c_int);
    pub(crate) fn vips_concurrency_set(concurrency: c_int);

    pub(crate) fn g_object_ref(object: *mut c_void) -> *mut c_void;
    pub(crate) fn g_object_unref(object: *mut c_void);
    pub(crate) fn g_free(mem: *mut c_void);

    pub(crate) fn vips_array_double_new(array: *const c_double, n: c_int) -> *mut VipsArea;
    pub(crate) fn vips_array_int_new(array: *const c_int, n: c_int) -> *mut VipsArea;
    pub(crate) fn vips_area_unref(area: *mut VipsArea);

    pub(crate) fn vips_foreign_find_load_buffer(data: *const c_void, size: usize) -> *const c_char;
    pub(crate) fn vips_image_new_from_buffer(
        buf: *const c_void,
        len: usize,
        option_string: *const c_char,
        ...
    ) -> *mut VipsImage;
    pub(crate) fn vips_image_get_width(image: *const VipsImage) -> c_int;
    pub(crate) fn vips_image_get_height(image: *const VipsImage) -> c_int;
    pub(crate) fn vips_image_get_bands(image: *const VipsImage) -> c_int;
    pub(crate) fn vips_image_get_n_pages(image: *mut VipsImage) -> c_int;
    pub(crate) fn vips_image_get_orientation(image: *mut VipsImage) -> c_int;
    pub(crate) fn vips_image_get_interpretation(image: *const VipsImage) -> c_int;
    pub(crate) fn vips_image_get_format(image: *const VipsImage) -> c_int;
    pub(crate) fn vips_image_hasalpha(image: *mut VipsImage) -> GBoolean;
    /// The `GType` of a metadata field, 0 when the image has none of that name.
    pub(crate) fn vips_image_get_typeof(image: *const VipsImage, name: *const c_char) -> usize;
    pub(crate) fn vips_image_set_kill(image: *mut VipsImage, kill: GBoolean);

    pub(crate) fn vips_thumbnail_buffer(
        buf: *mut c_void,
        len: usize,
        out: *mut *mut VipsImage,
        width: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_thumbnail_image(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        width: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_image_copy_memory(image: *mut VipsImage) -> *mut VipsImage;
    pub(crate) fn vips_image_new_from_memory_copy(
        data: *const c_void,
        size: usize,
        width: c_int,
        height: c_int,
        bands: c_int,
        format: c_int,
    ) -> *mut VipsImage;
    pub(crate) fn vips_image_set_blob_copy(
        image: *mut VipsImage,
        name: *const c_char,
        data: *const c_void,
        length: usize,
    );
    pub(crate) fn vips_format_sizeof(format: c_int) -> u64;
    pub(crate) fn vips_rot(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        angle: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_rotate(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        angle: c_double,
        ...
    ) -> c_int;
    pub(crate) fn vips_flip(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        direction: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_colourspace(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        space: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_gaussblur(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        sigma: c_double,
        ...
    ) -> c_int;
    pub(crate) fn vips_sharpen(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    pub(crate) fn vips_autorot(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    pub(crate) fn vips_extract_area(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        left: c_int,
        top: c_int,
        width: c_int,
        height: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_premultiply(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    pub(crate) fn vips_unpremultiply(input: *mut VipsImage, out: *mut *mut VipsImage, ...)
    -> c_int;
    pub(crate) fn vips_cast(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        format: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_embed(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        x: c_int,
        y: c_int,
        width: c_int,
        height: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_bandjoin_const1(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        c: c_double,
        ...
    ) -> c_int;
    pub(crate) fn vips_bandjoin(
        inputs: *mut *mut VipsImage,
        out: *mut *mut VipsImage,
        n: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_extract_band(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        band: c_int,
        ...
    ) -> c_int;
    pub(crate) fn vips_flatten(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    pub(crate) fn vips_linear1(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        a: c_double,
        b: c_double,
        ...
    ) -> c_int;
    pub(crate) fn vips_black(out: *mut *mut VipsImage, width: c_int, height: c_int, ...) -> c_int;
    pub(crate) fn vips_copy(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    pub(crate) fn vips_avg(input: *mut VipsImage, out: *mut c_double, ...) -> c_int;
    pub(crate) fn vips_text(out: *mut *mut VipsImage, text: *const c_char, ...) -> c_int;
    pub(crate) fn vips_composite(
        inputs: *mut *mut VipsImage,
        out: *mut *mut VipsImage,
        n: c_int,
        mode: *mut c_int,
        ...
    ) -> c_int;

    pub(crate) fn vips_jpegsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    pub(crate) fn vips_pngsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    pub(crate) fn vips_webpsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    pub(crate) fn vips_heifsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
}

/// The NULL that ends every varargs option list.
pub(crate) const END: *const c_char = ptr::null();

// Enum values from libvips' headers (stable across 8.x).
pub(crate) const ANGLE_D90: c_int = 1;
pub(crate) const ANGLE_D180: c_int = 2;
pub(crate) const ANGLE_D270: c_int = 3;
pub(crate) const DIRECTION_HORIZONTAL: c_int = 0;
pub(crate) const DIRECTION_VERTICAL: c_int = 1;
pub(crate) const INTERPRETATION_B_W: c_int = 1;
pub(crate) const INTERPRETATION_SRGB: c_int = 22;
pub(crate) const FORMAT_UCHAR: c_int = 0;
pub(crate) const EXTEND_BACKGROUND: c_int = 5;
pub(crate) const BLEND_MODE_OVER: c_int = 2;
pub(crate) const FAIL_ON_ERROR: c_int = 2;
pub(crate) const FAIL_ON_WARNING: c_int = 3;
pub(crate) const SIZE_DOWN: c_int = 2;
pub(crate) const SIZE_FORCE: c_int = 3;
pub(crate) const INTERESTING_CENTRE: c_int = 1;
pub(crate) const INTERESTING_ENTROPY: c_int = 2;
pub(crate) const INTERESTING_ATTENTION: c_int = 3;
pub(crate) const HEIF_COMPRESSION_AV1: c_int = 4;
pub(crate) const ACCESS_SEQUENTIAL: c_int = 1;
