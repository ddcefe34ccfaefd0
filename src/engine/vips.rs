//! The only module that touches libvips' C API.
//!
//! It declares the handful of libvips 8.13+ functions imgedge uses and wraps them in a safe,
//! owned [`Image`] handle. Everything above it (the pipeline, the API's upload checks) speaks
//! in Rust types and never sees a raw pointer.
//!
//! Why not the `libvips` crate: its option-taking wrappers are generated against libvips 8.18
//! and always pass option names that 8.14 (Debian's) rejects (`keep`, `input-profile`), and
//! its `VipsImage` is `Clone` with unref-on-drop. Declaring the few calls we need against the
//! ABI we link keeps the unsafe surface small and reviewable in one file.
//!
//! Calling convention: libvips operations are C varargs functions taking `name, value` pairs
//! ended by a NULL. Integers and enums are passed as `c_int`, booleans as `gboolean` (`c_int`),
//! floating-point values as `c_double`, arrays as `VipsArray*` pointers.

use std::ffi::{CStr, CString, c_char, c_double, c_int, c_void};
use std::ptr::{self, NonNull};
use std::sync::OnceLock;

/// An opaque `VipsImage`.
#[repr(C)]
struct VipsImage {
    _private: [u8; 0],
}

/// An opaque `VipsArea` (the base of `VipsArrayDouble` and `VipsArrayInt`).
#[repr(C)]
struct VipsArea {
    _private: [u8; 0],
}

type GBoolean = c_int;
const TRUE: GBoolean = 1;

// Which library provides these is build.rs's choice: the system's libvips through
// pkg-config, or the one in IMGEDGE_LIBVIPS_DIR.
unsafe extern "C" {
    fn vips_init(argv0: *const c_char) -> c_int;
    fn vips_version(flag: c_int) -> c_int;
    fn vips_error_buffer() -> *const c_char;
    fn vips_error_clear();
    fn vips_block_untrusted_set(state: GBoolean);
    fn vips_operation_block_set(name: *const c_char, state: GBoolean);
    fn vips_cache_set_max(max: c_int);
    fn vips_cache_set_max_mem(max_mem: usize);
    fn vips_cache_set_max_files(max_files: c_int);
    fn vips_concurrency_set(concurrency: c_int);

    fn g_object_ref(object: *mut c_void) -> *mut c_void;
    fn g_object_unref(object: *mut c_void);
    fn g_free(mem: *mut c_void);

    fn vips_array_double_new(array: *const c_double, n: c_int) -> *mut VipsArea;
    fn vips_array_int_new(array: *const c_int, n: c_int) -> *mut VipsArea;
    fn vips_area_unref(area: *mut VipsArea);

    fn vips_foreign_find_load_buffer(data: *const c_void, size: usize) -> *const c_char;
    fn vips_image_new_from_buffer(
        buf: *const c_void,
        len: usize,
        option_string: *const c_char,
        ...
    ) -> *mut VipsImage;
    fn vips_image_get_width(image: *const VipsImage) -> c_int;
    fn vips_image_get_height(image: *const VipsImage) -> c_int;
    fn vips_image_get_bands(image: *const VipsImage) -> c_int;
    fn vips_image_get_n_pages(image: *mut VipsImage) -> c_int;
    fn vips_image_get_orientation(image: *mut VipsImage) -> c_int;
    fn vips_image_get_interpretation(image: *const VipsImage) -> c_int;
    fn vips_image_get_format(image: *const VipsImage) -> c_int;
    fn vips_image_hasalpha(image: *mut VipsImage) -> GBoolean;
    fn vips_image_set_kill(image: *mut VipsImage, kill: GBoolean);

    fn vips_thumbnail_buffer(
        buf: *mut c_void,
        len: usize,
        out: *mut *mut VipsImage,
        width: c_int,
        ...
    ) -> c_int;
    fn vips_thumbnail_image(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        width: c_int,
        ...
    ) -> c_int;
    fn vips_image_copy_memory(image: *mut VipsImage) -> *mut VipsImage;
    fn vips_format_sizeof(format: c_int) -> u64;
    fn vips_rot(input: *mut VipsImage, out: *mut *mut VipsImage, angle: c_int, ...) -> c_int;
    fn vips_rotate(input: *mut VipsImage, out: *mut *mut VipsImage, angle: c_double, ...) -> c_int;
    fn vips_flip(input: *mut VipsImage, out: *mut *mut VipsImage, direction: c_int, ...) -> c_int;
    fn vips_colourspace(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        space: c_int,
        ...
    ) -> c_int;
    fn vips_gaussblur(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        sigma: c_double,
        ...
    ) -> c_int;
    fn vips_premultiply(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    fn vips_unpremultiply(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    fn vips_cast(input: *mut VipsImage, out: *mut *mut VipsImage, format: c_int, ...) -> c_int;
    fn vips_embed(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        x: c_int,
        y: c_int,
        width: c_int,
        height: c_int,
        ...
    ) -> c_int;
    fn vips_bandjoin_const1(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        c: c_double,
        ...
    ) -> c_int;
    fn vips_bandjoin(inputs: *mut *mut VipsImage, out: *mut *mut VipsImage, n: c_int, ...)
    -> c_int;
    fn vips_extract_band(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        band: c_int,
        ...
    ) -> c_int;
    fn vips_flatten(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    fn vips_linear1(
        input: *mut VipsImage,
        out: *mut *mut VipsImage,
        a: c_double,
        b: c_double,
        ...
    ) -> c_int;
    fn vips_black(out: *mut *mut VipsImage, width: c_int, height: c_int, ...) -> c_int;
    fn vips_copy(input: *mut VipsImage, out: *mut *mut VipsImage, ...) -> c_int;
    fn vips_avg(input: *mut VipsImage, out: *mut c_double, ...) -> c_int;
    fn vips_text(out: *mut *mut VipsImage, text: *const c_char, ...) -> c_int;
    fn vips_composite(
        inputs: *mut *mut VipsImage,
        out: *mut *mut VipsImage,
        n: c_int,
        mode: *mut c_int,
        ...
    ) -> c_int;

    fn vips_jpegsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    fn vips_pngsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    fn vips_webpsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
    fn vips_heifsave_buffer(
        input: *mut VipsImage,
        buf: *mut *mut c_void,
        len: *mut usize,
        ...
    ) -> c_int;
}

/// The NULL that ends every varargs option list.
const END: *const c_char = ptr::null();

// Enum values from libvips' headers (stable across 8.x).
const ANGLE_D90: c_int = 1;
const ANGLE_D180: c_int = 2;
const ANGLE_D270: c_int = 3;
const DIRECTION_HORIZONTAL: c_int = 0;
const DIRECTION_VERTICAL: c_int = 1;
const INTERPRETATION_B_W: c_int = 1;
const INTERPRETATION_SRGB: c_int = 22;
const FORMAT_UCHAR: c_int = 0;
const EXTEND_BACKGROUND: c_int = 5;
const BLEND_MODE_OVER: c_int = 2;
const FAIL_ON_ERROR: c_int = 2;
const SIZE_DOWN: c_int = 2;
const SIZE_FORCE: c_int = 3;
const INTERESTING_CENTRE: c_int = 1;
const HEIF_COMPRESSION_AV1: c_int = 4;
const ACCESS_SEQUENTIAL: c_int = 1;

/// A libvips failure: which call failed and what libvips' error buffer said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{op}: {detail}")]
pub(super) struct VipsError {
    pub(super) op: &'static str,
    pub(super) detail: String,
}

/// Takes libvips' (process-wide) error buffer for a failed call.
fn last_error(op: &'static str) -> VipsError {
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
pub(super) struct VipsSettings {
    /// Worker threads libvips may use inside one render (0: libvips' default, the core count).
    pub(super) concurrency: u32,
}

/// Sets how many threads the renders that start from now on use (libvips' setting is
/// process-wide).
pub(super) fn set_concurrency(threads: u32) {
    let threads = c_int::try_from(threads.max(1)).unwrap_or(c_int::MAX);
    // SAFETY: a plain setter of an integer libvips reads when a pipeline starts.
    unsafe { vips_concurrency_set(threads) }
}

/// The libvips version this process runs against, as (major, minor, micro).
pub(super) fn version() -> (i32, i32, i32) {
    // SAFETY: plain integer getters, valid before and after vips_init.
    unsafe { (vips_version(0), vips_version(1), vips_version(2)) }
}

/// Loader classes imgedge accepts. Everything else under `VipsForeignLoad` (SVG, PDF, TIFF,
/// the `.v` format, `ImageMagick`, matrix, CSV, ...) is blocked for the whole process.
const ALLOWED_LOADERS: [&CStr; 5] = [
    c"VipsForeignLoadJpeg",
    c"VipsForeignLoadPng",
    c"VipsForeignLoadWebp",
    c"VipsForeignLoadNsgif",
    c"VipsForeignLoadHeif",
];

/// Starts libvips once for the process and locks it down. Later calls return the first
/// result, whatever settings they pass.
pub(super) fn init(settings: VipsSettings) -> Result<(), VipsError> {
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

/// An owned reference to a `VipsImage`. Dropping it releases the reference.
#[derive(Debug)]
pub(super) struct Image(NonNull<VipsImage>);

// SAFETY: GObject reference counting is atomic and libvips images may be handed between
// threads; an `Image` is not `Sync`, so no two threads use one handle at once.
unsafe impl Send for Image {}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference to a live GObject.
        unsafe { g_object_unref(self.0.as_ptr().cast()) }
    }
}

impl Clone for Image {
    fn clone(&self) -> Self {
        // SAFETY: taking another reference to a live GObject.
        unsafe { g_object_ref(self.0.as_ptr().cast()) };
        Image(self.0)
    }
}

/// Runs a libvips operation that writes an image to `out`, turning its status into a Result.
fn image_op(
    op: &'static str,
    call: impl FnOnce(*mut *mut VipsImage) -> c_int,
) -> Result<Image, VipsError> {
    let mut out: *mut VipsImage = ptr::null_mut();
    let status = call(&raw mut out);
    match NonNull::new(out) {
        Some(image) if status == 0 => Ok(Image(image)),
        Some(image) => {
            drop(Image(image));
            Err(last_error(op))
        }
        None => Err(last_error(op)),
    }
}

/// A `VipsArrayDouble` that lives for one call.
struct DoubleArray(*mut VipsArea);

impl DoubleArray {
    fn new(values: &[f64]) -> Self {
        // SAFETY: libvips copies `values` into a new reference-counted area.
        DoubleArray(unsafe { vips_array_double_new(values.as_ptr(), values.len() as c_int) })
    }
}

impl Drop for DoubleArray {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by vips_array_double_new.
        unsafe { vips_area_unref(self.0) }
    }
}

/// A `VipsArrayInt` that lives for one call.
struct IntArray(*mut VipsArea);

impl IntArray {
    fn new(values: &[i32]) -> Self {
        // SAFETY: libvips copies `values` into a new reference-counted area.
        IntArray(unsafe { vips_array_int_new(values.as_ptr(), values.len() as c_int) })
    }
}

impl Drop for IntArray {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by vips_array_int_new.
        unsafe { vips_area_unref(self.0) }
    }
}

/// What a file's header says, read without decoding pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// libvips' loader class for the bytes, such as `VipsForeignLoadJpegBuffer`.
    pub(super) loader: String,
    /// Stored width and height (before EXIF orientation), of one frame.
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) pages: u32,
    pub(super) has_alpha: bool,
    /// EXIF orientation, 1 to 8 (1 when absent).
    pub(super) orientation: u8,
}

impl Header {
    /// Width and height as displayed, after EXIF orientation.
    pub(super) fn upright_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Reads the header of an encoded image. Only the allowed loaders can answer; any other
/// format, or bytes no loader recognises, is `Ok(None)`.
pub(super) fn read_header(bytes: &[u8]) -> Result<Option<Header>, VipsError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    // SAFETY: `bytes` outlives both calls: find_load only reads it, and the lazily loaded
    // image reads it only while the header is parsed here (no pixels are requested, and the
    // image is dropped before returning).
    unsafe {
        let loader = vips_foreign_find_load_buffer(bytes.as_ptr().cast(), bytes.len());
        if loader.is_null() {
            vips_error_clear();
            return Ok(None);
        }
        let loader = CStr::from_ptr(loader).to_string_lossy().into_owned();
        // find_load_buffer also names blocked loaders (SVG, PDF, ...): those are formats we do
        // not accept, not corrupt files, so they are refused here without being opened.
        if !ALLOWED_LOADERS
            .iter()
            .any(|allowed| loader.as_bytes().starts_with(allowed.to_bytes()))
        {
            return Ok(None);
        }
        let raw = vips_image_new_from_buffer(bytes.as_ptr().cast(), bytes.len(), c"".as_ptr(), END);
        let Some(raw) = NonNull::new(raw) else {
            return Err(last_error("header"));
        };
        let image = Image(raw);
        let p = image.0.as_ptr();
        let orientation = vips_image_get_orientation(p).clamp(1, 8) as u8;
        Ok(Some(Header {
            loader,
            width: vips_image_get_width(p).max(0) as u32,
            height: vips_image_get_height(p).max(0) as u32,
            pages: vips_image_get_n_pages(p).max(1) as u32,
            has_alpha: vips_image_hasalpha(p) != 0,
            orientation,
        }))
    }
}

/// How [`thumbnail`] sizes the decoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resize {
    /// Fit within the box, keeping the aspect ratio, never enlarging.
    Within { width: u32, height: u32 },
    /// Cover the box, keeping the aspect ratio and cropping the centre, never enlarging.
    CoverCrop { width: u32, height: u32 },
    /// Exactly this size, ignoring the aspect ratio.
    Force { width: u32, height: u32 },
}

/// `thumbnail`'s target size, size mode and crop for a [`Resize`].
fn thumbnail_args(resize: Resize) -> (c_int, c_int, c_int, c_int) {
    let (width, height, size, crop) = match resize {
        Resize::Within { width, height } => (width, height, SIZE_DOWN, 0),
        Resize::CoverCrop { width, height } => (width, height, SIZE_DOWN, INTERESTING_CENTRE),
        Resize::Force { width, height } => (width, height, SIZE_FORCE, 0),
    };
    (width as c_int, height as c_int, size, crop)
}

/// Decodes with shrink-on-load, applies EXIF orientation, converts to sRGB and resizes:
/// libvips' `thumbnail`, which picks the cheapest decode for the target size.
pub(super) fn thumbnail(bytes: &[u8], resize: Resize) -> Result<Image, VipsError> {
    let (width, height, size, crop) = thumbnail_args(resize);
    // SAFETY: libvips reads `bytes` only while this image and its descendants are evaluated;
    // callers keep the bytes alive for the whole render (see `Pipeline`), and thumbnail_buffer
    // never writes to the buffer despite its `void *` parameter.
    image_op("thumbnail", |out| unsafe {
        vips_thumbnail_buffer(
            bytes.as_ptr().cast_mut().cast(),
            bytes.len(),
            out,
            width,
            c"height".as_ptr(),
            height,
            c"size".as_ptr(),
            size,
            c"crop".as_ptr(),
            crop,
            c"fail_on".as_ptr(),
            FAIL_ON_ERROR,
            // libvips 8.14's thumbnail_buffer does not hand its own `fail_on` to the loader it
            // opens, so a truncated file rendered grey instead of failing: the loader gets it
            // through its option string too.
            c"option_string".as_ptr(),
            c"fail_on=error".as_ptr(),
            END,
        )
    })
}

/// A decoded image held whole in memory, independent of the bytes it was decoded from.
/// Immutable once made, so renders on several threads can read it at once.
#[derive(Debug)]
pub(super) struct MemoryImage(Image);

// SAFETY: a memory image is never modified after `decode_to_memory` returns it (nothing here
// sets its metadata or kill flag); libvips allows any number of threads to read one image
// (each pipeline makes its own regions on it, under the image's own lock), and GObject
// reference counting is atomic.
unsafe impl Sync for MemoryImage {}

impl MemoryImage {
    /// The pixel buffer's size.
    pub(super) fn size_in_bytes(&self) -> u64 {
        pixel_bytes(&self.0)
    }

    /// What [`thumbnail`] does after shrink-on-load: EXIF orientation, sRGB, resize. A new
    /// pipeline that reads this image and leaves it as it is.
    pub(super) fn thumbnail(&self, resize: Resize) -> Result<Image, VipsError> {
        thumbnail_image(&self.0, resize)
    }
}

/// [`thumbnail`] with the JPEG shrink-on-load factor (2, 4 or 8) chosen by the caller: the
/// loader decodes at 1/`shrink`, and the rest is what a [`MemoryImage`] decoded at that
/// factor gets, so the two give the same bytes.
pub(super) fn thumbnail_shrunk(
    bytes: &[u8],
    shrink: u32,
    resize: Resize,
) -> Result<Image, VipsError> {
    // SAFETY: as for `thumbnail`: callers keep `bytes` alive for the whole render.
    let loaded = unsafe { load_sequential(bytes, &shrink_option(shrink))? };
    thumbnail_image(&loaded, resize)
}

/// libvips' `thumbnail_image`: EXIF orientation, sRGB, resize, in a new pipeline on `image`.
fn thumbnail_image(image: &Image, resize: Resize) -> Result<Image, VipsError> {
    let (width, height, size, crop) = thumbnail_args(resize);
    // SAFETY: valid input and out pointers; NULL-terminated options. The operation takes
    // its own reference to the input.
    image_op("thumbnail_image", |out| unsafe {
        vips_thumbnail_image(
            image.ptr(),
            out,
            width,
            c"height".as_ptr(),
            height,
            c"size".as_ptr(),
            size,
            c"crop".as_ptr(),
            crop,
            END,
        )
    })
}

/// The JPEG loader's option string for a shrink-on-load factor (none for 1).
fn shrink_option(shrink: u32) -> CString {
    if shrink > 1 {
        CString::new(format!("shrink={shrink}")).unwrap_or_default()
    } else {
        CString::default()
    }
}

/// Bytes of pixels in a whole image: width × height × bands × bytes per band.
fn pixel_bytes(image: &Image) -> u64 {
    // SAFETY: plain getters on a live image; format_sizeof maps a band format to its size.
    let band = unsafe { vips_format_sizeof(vips_image_get_format(image.ptr())) };
    u64::from(image.width()) * u64::from(image.height()) * u64::from(image.bands()) * band
}

/// Decodes the first frame of `bytes` into memory at 1/`shrink` of its size (the JPEG
/// loader's shrink-on-load: 2, 4 or 8; 1 for any format), keeping the EXIF orientation as a
/// tag. `Ok(None)` when the decoded pixels would take more than `max_bytes`, found from the
/// header before any pixel is decoded. `watch` sees the image being decoded before its pixels
/// are pulled, and what it returns lives until the decode ends (a deadline's watchdog).
pub(super) fn decode_to_memory<G>(
    bytes: &[u8],
    shrink: u32,
    max_bytes: u64,
    watch: impl FnOnce(&Image) -> G,
) -> Result<Option<MemoryImage>, VipsError> {
    let options = shrink_option(shrink);
    // SAFETY: the lazily loaded image reads `bytes` only while it is evaluated, inside
    // copy_memory below, and is dropped before returning; the memory image that copy_memory
    // makes holds its own pixels and no link to the loader.
    unsafe {
        let lazy = load_sequential(bytes, &options)?;
        if pixel_bytes(&lazy) > max_bytes {
            return Ok(None);
        }
        let guard = watch(&lazy);
        let copied = vips_image_copy_memory(lazy.ptr());
        drop(guard);
        match NonNull::new(copied) {
            Some(memory) => Ok(Some(MemoryImage(Image(memory)))),
            None => Err(last_error("decode")),
        }
    }
}

/// Which way to turn or reflect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flip {
    /// Top to bottom.
    Vertical,
    /// Left to right.
    Horizontal,
}

impl Image {
    fn ptr(&self) -> *mut VipsImage {
        self.0.as_ptr()
    }

    pub(super) fn width(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_width(self.ptr()).max(0) as u32 }
    }

    pub(super) fn height(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_height(self.ptr()).max(0) as u32 }
    }

    pub(super) fn bands(&self) -> u32 {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_bands(self.ptr()).max(0) as u32 }
    }

    pub(super) fn has_alpha(&self) -> bool {
        // SAFETY: getter on a live image.
        unsafe { vips_image_hasalpha(self.ptr()) != 0 }
    }

    /// Whether pixels are one grey band (plus alpha) rather than colour.
    pub(super) fn is_grey(&self) -> bool {
        // SAFETY: getter on a live image.
        unsafe { vips_image_get_interpretation(self.ptr()) == INTERPRETATION_B_W }
    }

    /// Asks any evaluation of this image to stop with an error. Safe to call from another
    /// thread while the image is being computed: libvips checks the flag between tiles.
    pub(super) fn kill(&self) {
        // SAFETY: sets a flag on a live image; libvips reads it racily by design.
        unsafe { vips_image_set_kill(self.ptr(), TRUE) }
    }

    /// Turns clockwise by a multiple of 90 degrees (exact, no resampling).
    pub(super) fn rot90s(&self, quarter_turns: u8) -> Result<Image, VipsError> {
        let angle = match quarter_turns % 4 {
            0 => return Ok(self.clone()),
            1 => ANGLE_D90,
            2 => ANGLE_D180,
            _ => ANGLE_D270,
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("rot", |out| unsafe {
            vips_rot(self.ptr(), out, angle, END)
        })
    }

    /// Turns clockwise by any angle, growing the canvas to hold the result and filling the
    /// corners with `background` (one value per band).
    pub(super) fn rotate(&self, degrees: f64, background: &[f64]) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call. libvips' positive angles turn
        // anticlockwise in image coordinates (y down), which is clockwise on screen.
        image_op("rotate", |out| unsafe {
            vips_rotate(self.ptr(), out, degrees, c"background".as_ptr(), bg.0, END)
        })
    }

    pub(super) fn flip(&self, direction: Flip) -> Result<Image, VipsError> {
        let dir = match direction {
            Flip::Vertical => DIRECTION_VERTICAL,
            Flip::Horizontal => DIRECTION_HORIZONTAL,
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("flip", |out| unsafe {
            vips_flip(self.ptr(), out, dir, END)
        })
    }

    /// Converts to one grey band (alpha kept).
    pub(super) fn to_grey(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("colourspace", |out| unsafe {
            vips_colourspace(self.ptr(), out, INTERPRETATION_B_W, END)
        })
    }

    /// Converts to 8-bit sRGB, or 8-bit grey when the image is grey.
    pub(super) fn to_srgb8(&self) -> Result<Image, VipsError> {
        let space = if self.is_grey() {
            INTERPRETATION_B_W
        } else {
            INTERPRETATION_SRGB
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        let converted = image_op("colourspace", |out| unsafe {
            vips_colourspace(self.ptr(), out, space, END)
        })?;
        // SAFETY: reading the band format of a live image.
        if unsafe { vips_image_get_format(converted.ptr()) } == FORMAT_UCHAR {
            return Ok(converted);
        }
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("cast", |out| unsafe {
            vips_cast(converted.ptr(), out, FORMAT_UCHAR, END)
        })
    }

    /// Gaussian blur. Images with alpha are blurred premultiplied, so transparent pixels do
    /// not bleed their (meaningless) colour into the edges.
    pub(super) fn blur(&self, sigma: f64) -> Result<Image, VipsError> {
        if !self.has_alpha() {
            // SAFETY: valid input image and out pointer; NULL-terminated options.
            return image_op("gaussblur", |out| unsafe {
                vips_gaussblur(self.ptr(), out, sigma, END)
            });
        }
        // SAFETY: each call gets a live input and a fresh out pointer.
        let pre = image_op("premultiply", |out| unsafe {
            vips_premultiply(self.ptr(), out, END)
        })?;
        let blurred = image_op("gaussblur", |out| unsafe {
            vips_gaussblur(pre.ptr(), out, sigma, END)
        })?;
        let un = image_op("unpremultiply", |out| unsafe {
            vips_unpremultiply(blurred.ptr(), out, END)
        })?;
        image_op("cast", |out| unsafe {
            vips_cast(un.ptr(), out, FORMAT_UCHAR, END)
        })
    }

    /// Adds an opaque alpha band.
    pub(super) fn with_alpha(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("bandjoin_const1", |out| unsafe {
            vips_bandjoin_const1(self.ptr(), out, 255.0, END)
        })
    }

    /// Drops the alpha band, blending onto `background` (one value per colour band).
    pub(super) fn flatten(&self, background: &[f64]) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call.
        image_op("flatten", |out| unsafe {
            vips_flatten(self.ptr(), out, c"background".as_ptr(), bg.0, END)
        })
    }

    /// Keeps the first `n` bands.
    pub(super) fn first_bands(&self, n: u32) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("extract_band", |out| unsafe {
            vips_extract_band(self.ptr(), out, 0, c"n".as_ptr(), n as c_int, END)
        })
    }

    /// Places the image at (`x`, `y`) on a `width`×`height` canvas of `background`.
    pub(super) fn embed(
        &self,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        background: &[f64],
    ) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call.
        image_op("embed", |out| unsafe {
            vips_embed(
                self.ptr(),
                out,
                x as c_int,
                y as c_int,
                width as c_int,
                height as c_int,
                c"extend".as_ptr(),
                EXTEND_BACKGROUND,
                c"background".as_ptr(),
                bg.0,
                END,
            )
        })
    }

    /// `self * a + b`, saturated to 8 bits.
    pub(super) fn linear_u8(&self, a: f64, b: f64) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("linear", |out| unsafe {
            vips_linear1(self.ptr(), out, a, b, c"uchar".as_ptr(), TRUE, END)
        })
    }

    /// Composites RGBA `layers` over this image, each at its (x, y), with the "over" blend.
    pub(super) fn composite_over(&self, layers: &[(&Image, i32, i32)]) -> Result<Image, VipsError> {
        let mut inputs: Vec<*mut VipsImage> = Vec::with_capacity(layers.len() + 1);
        inputs.push(self.ptr());
        inputs.extend(layers.iter().map(|(layer, _, _)| layer.ptr()));
        let mut modes = vec![BLEND_MODE_OVER; layers.len()];
        let xs = IntArray::new(&layers.iter().map(|(_, x, _)| *x).collect::<Vec<_>>());
        let ys = IntArray::new(&layers.iter().map(|(_, _, y)| *y).collect::<Vec<_>>());
        // SAFETY: `inputs` holds live images for the call; the arrays outlive the call.
        image_op("composite", |out| unsafe {
            vips_composite(
                inputs.as_mut_ptr(),
                out,
                inputs.len() as c_int,
                modes.as_mut_ptr(),
                c"x".as_ptr(),
                xs.0,
                c"y".as_ptr(),
                ys.0,
                END,
            )
        })
    }

    /// Joins `alpha` (one band) to this image as its alpha band, tagged as sRGB.
    pub(super) fn join_alpha_srgb(&self, alpha: &Image) -> Result<Image, VipsError> {
        let mut inputs = [self.ptr(), alpha.ptr()];
        // SAFETY: both inputs are live for the call.
        let joined = image_op("bandjoin", |out| unsafe {
            vips_bandjoin(inputs.as_mut_ptr(), out, 2, END)
        })?;
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("copy", |out| unsafe {
            vips_copy(
                joined.ptr(),
                out,
                c"interpretation".as_ptr(),
                INTERPRETATION_SRGB,
                END,
            )
        })
    }

    /// A 3-band 8-bit image of one constant value.
    pub(super) fn solid_rgb(width: u32, height: u32, value: f64) -> Result<Image, VipsError> {
        // SAFETY: out pointer and NULL-terminated options.
        let black = image_op("black", |out| unsafe {
            vips_black(
                out,
                width as c_int,
                height as c_int,
                c"bands".as_ptr(),
                3 as c_int,
                END,
            )
        })?;
        black.linear_u8(1.0, value)
    }

    /// Renders Pango `markup` in `font` as a one-band 8-bit coverage mask, scaled to fit
    /// within `max_width`×`max_height` pixels.
    pub(super) fn text_mask(
        markup: &str,
        font: &str,
        max_width: u32,
        max_height: u32,
    ) -> Result<Image, VipsError> {
        let text = CString::new(markup).map_err(|_| VipsError {
            op: "text",
            detail: "text contains NUL".into(),
        })?;
        let font = CString::new(font).map_err(|_| VipsError {
            op: "text",
            detail: "font name contains NUL".into(),
        })?;
        // SAFETY: the strings outlive the call; NULL-terminated options.
        image_op("text", |out| unsafe {
            vips_text(
                out,
                text.as_ptr(),
                c"font".as_ptr(),
                font.as_ptr(),
                c"width".as_ptr(),
                max_width.max(1) as c_int,
                c"height".as_ptr(),
                max_height.max(1) as c_int,
                END,
            )
        })
    }

    /// Encodes to a buffer in `codec`, stripping all metadata.
    pub(super) fn save(&self, codec: Codec) -> Result<Vec<u8>, VipsError> {
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
                    Codec::Png => (
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
            Codec::Jpeg { .. } | Codec::Png | Codec::Avif { .. } => bytes,
        })
    }
}

/// Drops the metadata chunks (`EXIF`, `XMP `, `ICCP`) of a WebP file and clears their flags in
/// `VP8X`. libvips 8.14's webpsave ignores `strip`: it writes the source's EXIF (GPS included)
/// and XMP, or a fresh EXIF when the source had none.
fn strip_webp_metadata(webp: Vec<u8>) -> Vec<u8> {
    const DROPPED: [&[u8]; 3] = [b"EXIF", b"XMP ", b"ICCP"];
    // VP8X flag bits: ICC profile, EXIF, XMP.
    const METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;
    if webp.len() < 12 || &webp[..4] != b"RIFF" || &webp[8..12] != b"WEBP" {
        return webp;
    }
    let mut out = Vec::with_capacity(webp.len());
    out.extend_from_slice(&webp[..12]);
    let mut at = 12;
    while at + 8 <= webp.len() {
        let kind = &webp[at..at + 4];
        let len = u32::from_le_bytes([webp[at + 4], webp[at + 5], webp[at + 6], webp[at + 7]]);
        // Chunks are padded to an even size.
        let end = (at + 8)
            .saturating_add(len as usize)
            .saturating_add(len as usize & 1)
            .min(webp.len());
        if !DROPPED.contains(&kind) {
            let start = out.len();
            out.extend_from_slice(&webp[at..end]);
            if kind == b"VP8X" && out.len() > start + 8 {
                out[start + 8] &= !METADATA_FLAGS;
            }
        }
        at = end;
    }
    let riff_size = u32::try_from(out.len() - 8).unwrap_or(u32::MAX);
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out
}

/// An encoder and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Jpeg {
        quality: u8,
    },
    Png,
    Webp {
        quality: u8,
    },
    /// AV1 in HEIF. `effort` is 0 (fastest) to 9.
    Avif {
        quality: u8,
        effort: u8,
    },
}

/// Opens `bytes` lazily for one top-to-bottom read, failing on any decode error; `options`
/// is the loader's option string (such as `shrink=2`).
///
/// # Safety
/// The image reads `bytes` whenever it is evaluated: the caller keeps `bytes` alive and
/// unchanged until the image and everything made from it are dropped.
unsafe fn load_sequential(bytes: &[u8], options: &CStr) -> Result<Image, VipsError> {
    // SAFETY: valid buffer and NUL-terminated strings; the caller upholds the lifetime.
    let raw = unsafe {
        vips_image_new_from_buffer(
            bytes.as_ptr().cast(),
            bytes.len(),
            options.as_ptr(),
            c"access".as_ptr(),
            ACCESS_SEQUENTIAL,
            c"fail_on".as_ptr(),
            FAIL_ON_ERROR,
            END,
        )
    };
    NonNull::new(raw)
        .map(Image)
        .ok_or_else(|| last_error("load"))
}

/// Decodes an image fully (first frame), to check that the whole file is readable. Used on
/// upload, after the header check, so that a truncated file is refused before it is stored.
pub(super) fn decode_fully(bytes: &[u8]) -> Result<(), VipsError> {
    // SAFETY: `bytes` outlives the image, which is evaluated and dropped inside this call.
    unsafe {
        let image = load_sequential(bytes, c"")?;
        // The mean of every pixel makes libvips decode the whole frame, with no output to
        // encode; a truncated or corrupt file fails here.
        let mut mean: c_double = 0.0;
        if vips_avg(image.ptr(), &raw mut mean, END) != 0 {
            return Err(last_error("decode"));
        }
    }
    Ok(())
}
