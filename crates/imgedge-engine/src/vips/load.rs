//! Opening encoded bytes: the header alone, a sequential decode with libvips' thumbnail
//! (shrink-on-load, orientation, resize), a decode into memory kept for more renders, and
//! the full decode that proves an upload whole; and memory images made from pixels another
//! decoder produced (HEIC, see `crate::heif`).

use std::ffi::{CStr, CString, c_double, c_int};
use std::ptr::NonNull;

use super::ffi::{
    ACCESS_SEQUENTIAL, END, FAIL_ON_ERROR, FAIL_ON_WARNING, FORMAT_UCHAR, INTERESTING_ATTENTION,
    INTERESTING_CENTRE, INTERESTING_ENTROPY, INTERPRETATION_SRGB, SIZE_DOWN, SIZE_FORCE, vips_avg,
    vips_copy, vips_error_clear, vips_foreign_find_load_buffer, vips_format_sizeof,
    vips_image_copy_memory, vips_image_get_format, vips_image_get_height, vips_image_get_n_pages,
    vips_image_get_orientation, vips_image_get_typeof, vips_image_get_width, vips_image_hasalpha,
    vips_image_new_from_buffer, vips_image_new_from_memory_copy, vips_image_set_blob_copy,
    vips_thumbnail_buffer, vips_thumbnail_image,
};
use super::image::{Image, image_op};
use super::setup::{ALLOWED_LOADERS, VipsError, last_error};

/// What a file's header says, read without decoding pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// libvips' loader class for the bytes, such as `VipsForeignLoadJpegBuffer`.
    pub(crate) loader: String,
    /// Stored width and height (before EXIF orientation), of one frame.
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) pages: u32,
    pub(crate) has_alpha: bool,
    /// EXIF orientation, 1 to 8 (1 when absent).
    pub(crate) orientation: u8,
}

impl Header {
    /// Width and height as displayed, after EXIF orientation.
    pub(crate) fn upright_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Reads the header of an encoded image. Only the allowed loaders can answer; any other
/// format, or bytes no loader recognises, is `Ok(None)`.
pub(crate) fn read_header(bytes: &[u8]) -> Result<Option<Header>, VipsError> {
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
        let image = header_image(bytes)?;
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
pub(crate) enum ThumbnailSize {
    /// Fit within the box, keeping the aspect ratio, never enlarging.
    Within { width: u32, height: u32 },
    /// Cover the box, keeping the aspect ratio and cropping to the window `keep` picks,
    /// never enlarging.
    CoverCrop { width: u32, height: u32, keep: Keep },
    /// Exactly this size, ignoring the aspect ratio.
    Force { width: u32, height: u32 },
}

/// Which window of the covering image `thumbnail` keeps (its `crop` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    Centre,
    /// The window with the most information.
    Entropy,
    /// The most salient window (skin tones, saturated colour, edges).
    Attention,
}

/// `thumbnail`'s target size, size mode and crop for a [`ThumbnailSize`].
fn thumbnail_args(resize: ThumbnailSize) -> (c_int, c_int, c_int, c_int) {
    let (width, height, size, crop) = match resize {
        ThumbnailSize::Within { width, height } => (width, height, SIZE_DOWN, 0),
        ThumbnailSize::CoverCrop {
            width,
            height,
            keep,
        } => {
            let crop = match keep {
                Keep::Centre => INTERESTING_CENTRE,
                Keep::Entropy => INTERESTING_ENTROPY,
                Keep::Attention => INTERESTING_ATTENTION,
            };
            (width, height, SIZE_DOWN, crop)
        }
        ThumbnailSize::Force { width, height } => (width, height, SIZE_FORCE, 0),
    };
    (width as c_int, height as c_int, size, crop)
}

/// Decodes with shrink-on-load, applies EXIF orientation, converts to sRGB and resizes:
/// libvips' `thumbnail`, which picks the cheapest decode for the target size.
pub(crate) fn thumbnail(bytes: &[u8], resize: ThumbnailSize) -> Result<Image, VipsError> {
    let (width, height, size, crop) = thumbnail_args(resize);
    // The header only (no pixels): whether the bytes embed a colour profile to convert. A
    // header no loader reads converts nothing, and the load below says why it fails.
    // SAFETY: `bytes` outlives the header image, dropped before this function returns.
    let export_profile =
        unsafe { header_image(bytes) }.map_or(std::ptr::null(), |header| export_profile(&header));
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
            c"export_profile".as_ptr(),
            export_profile,
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
pub(crate) struct MemoryImage(Image);

// SAFETY: a memory image is never modified after `decode_to_memory` or `from_interleaved`
// returns it (nothing here sets its metadata or kill flag afterwards); libvips allows any number of threads to read one image
// (each pipeline makes its own regions on it, under the image's own lock), and GObject
// reference counting is atomic.
unsafe impl Sync for MemoryImage {}

impl MemoryImage {
    /// The pixel buffer's size.
    pub(crate) fn size_in_bytes(&self) -> u64 {
        pixel_bytes(&self.0)
    }

    /// What [`thumbnail`] does after shrink-on-load: EXIF orientation, sRGB, resize. A new
    /// pipeline that reads this image and leaves it as it is.
    pub(crate) fn thumbnail(&self, resize: ThumbnailSize) -> Result<Image, VipsError> {
        thumbnail_image(&self.0, resize)
    }

    /// [`MemoryImage::thumbnail`] of a region: the image turned upright, the region cut
    /// (given in pixels of the upright original, `full` in size, and scaled to this
    /// decode, which may be shrunk on load: rounded outwards), then resized.
    pub(crate) fn region_thumbnail(
        &self,
        region: Region,
        full: (u32, u32),
        resize: ThumbnailSize,
    ) -> Result<Image, VipsError> {
        let upright = self.0.upright()?;
        let (width, height) = (upright.width(), upright.height());
        let scale = |v: u32, decoded: u32, whole: u32, round_up: bool| {
            let (v, decoded, whole) = (u64::from(v), u64::from(decoded), u64::from(whole.max(1)));
            let scaled = if round_up {
                (v * decoded).div_ceil(whole)
            } else {
                v * decoded / whole
            };
            u32::try_from(scaled.min(decoded)).unwrap_or(0)
        };
        let left = scale(region.left, width, full.0, false);
        let top = scale(region.top, height, full.1, false);
        let right = scale(region.left + region.width, width, full.0, true).max(left + 1);
        let bottom = scale(region.top + region.height, height, full.1, true).max(top + 1);
        let cut = upright.extract_area(
            left.min(width - 1),
            top.min(height - 1),
            (right - left).min(width - left.min(width - 1)),
            (bottom - top).min(height - top.min(height - 1)),
        )?;
        thumbnail_image(&cut, resize)
    }
}

/// A region of an upright image, in its pixels, inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) left: u32,
    pub(crate) top: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// 8-bit pixels decoded outside libvips, interleaved: `height` rows of `width` × `bands`
/// bytes, each row starting `stride` bytes after the previous one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interleaved<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub(crate) bands: u32,
    pub(crate) stride: usize,
    /// At least `stride × (height − 1) + width × bands` bytes.
    pub(crate) data: &'a [u8],
}

impl MemoryImage {
    /// A memory image holding a copy of `pixels`, as sRGB (with alpha for 4 bands), with
    /// `icc` attached as its embedded profile, so that [`MemoryImage::thumbnail`] converts
    /// from it as it does for a decoded JPEG with a profile.
    pub(crate) fn from_interleaved(
        pixels: &Interleaved<'_>,
        icc: Option<&[u8]>,
    ) -> Result<MemoryImage, VipsError> {
        let too_large = || VipsError {
            op: "new_from_memory",
            detail: format!("{}x{}x{} pixels", pixels.width, pixels.height, pixels.bands),
        };
        let row = (pixels.width as usize)
            .checked_mul(pixels.bands as usize)
            .filter(|&row| row <= pixels.stride)
            .ok_or_else(too_large)?;
        let packed_len = row
            .checked_mul(pixels.height as usize)
            .ok_or_else(too_large)?;
        let (Ok(width), Ok(height), Ok(bands)) = (
            c_int::try_from(pixels.width),
            c_int::try_from(pixels.height),
            c_int::try_from(pixels.bands),
        ) else {
            return Err(too_large());
        };
        // libvips wants rows packed: rows padded to a stride are packed first, row by row.
        let packed: Vec<u8>;
        let data = if pixels.stride == row {
            pixels.data.get(..packed_len).ok_or_else(too_large)?
        } else {
            packed = pixels
                .data
                .chunks(pixels.stride)
                .take(pixels.height as usize)
                .flat_map(|line| line.get(..row).unwrap_or_default())
                .copied()
                .collect();
            if packed.len() != packed_len {
                return Err(too_large());
            }
            &packed
        };
        // SAFETY: `data` holds exactly width × height × bands bytes of uchar pixels, which
        // libvips copies into an image it owns.
        let raw = unsafe {
            vips_image_new_from_memory_copy(
                data.as_ptr().cast(),
                data.len(),
                width,
                height,
                bands,
                FORMAT_UCHAR,
            )
        };
        let copied = NonNull::new(raw)
            .map(Image)
            .ok_or_else(|| last_error("new_from_memory"))?;
        // SAFETY: valid input and out pointers; NULL-terminated options. A copy with the
        // interpretation set shares the pixels of `copied`, which it references.
        let image = image_op("copy", |out| unsafe {
            vips_copy(
                copied.ptr(),
                out,
                c"interpretation".as_ptr(),
                INTERPRETATION_SRGB,
                END,
            )
        })?;
        if let Some(icc) = icc {
            // SAFETY: `image` is new and not yet shared (nothing reads its metadata while
            // it is set); libvips copies the profile's bytes.
            unsafe {
                vips_image_set_blob_copy(
                    image.ptr(),
                    c"icc-profile-data".as_ptr(),
                    icc.as_ptr().cast(),
                    icc.len(),
                );
            }
        }
        Ok(MemoryImage(image))
    }
}

/// [`thumbnail`] with the JPEG shrink-on-load factor (2, 4 or 8) chosen by the caller: the
/// loader decodes at 1/`shrink`, and the rest is what a [`MemoryImage`] decoded at that
/// factor gets, so the two give the same bytes.
pub(crate) fn thumbnail_shrunk(
    bytes: &[u8],
    shrink: u32,
    resize: ThumbnailSize,
) -> Result<Image, VipsError> {
    // SAFETY: as for `thumbnail`: callers keep `bytes` alive for the whole render.
    let loaded = unsafe { load_sequential(bytes, &shrink_option(shrink), FAIL_ON_ERROR)? };
    thumbnail_image(&loaded, resize)
}

/// libvips' `thumbnail_image`: EXIF orientation, sRGB, resize, in a new pipeline on `image`.
fn thumbnail_image(image: &Image, resize: ThumbnailSize) -> Result<Image, VipsError> {
    let (width, height, size, crop) = thumbnail_args(resize);
    let export_profile = export_profile(image);
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
            c"export_profile".as_ptr(),
            export_profile,
            END,
        )
    })
}

/// The profile every render converts to from a profile the original embeds (libvips' own
/// sRGB): a photo in Display P3 or Adobe RGB keeps its colours once the output, which
/// carries no profile, is shown as sRGB.
const SRGB_PROFILE: &CStr = c"srgb";

/// `thumbnail`'s `export_profile` for `image`: sRGB when it embeds a profile, else none
/// (NULL), so an original without a profile is taken as sRGB already and its pixels are
/// left alone (libvips 8.14 would convert it through a guessed profile, shifting a grey
/// GIF's levels).
fn export_profile(image: &Image) -> *const std::ffi::c_char {
    // SAFETY: a valid image; the name is NUL-terminated. Only the metadata table is read.
    let embedded = unsafe { vips_image_get_typeof(image.ptr(), c"icc-profile-data".as_ptr()) };
    if embedded == 0 {
        std::ptr::null()
    } else {
        SRGB_PROFILE.as_ptr()
    }
}

/// An image of `bytes`' header, its pixels never read, for [`read_header`] and
/// [`thumbnail`]'s profile check.
///
/// # Safety
/// `bytes` must outlive the returned image.
unsafe fn header_image(bytes: &[u8]) -> Result<Image, VipsError> {
    // SAFETY: the caller keeps `bytes` alive; no pixels are requested.
    let raw = unsafe {
        vips_image_new_from_buffer(bytes.as_ptr().cast(), bytes.len(), c"".as_ptr(), END)
    };
    NonNull::new(raw)
        .map(Image)
        .ok_or_else(|| last_error("header"))
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
pub(crate) fn decode_to_memory<G>(
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
        let lazy = load_sequential(bytes, &options, FAIL_ON_ERROR)?;
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

/// Opens `bytes` lazily for one top-to-bottom read, failing on any decode error (or, with
/// `fail_on` [`FAIL_ON_WARNING`], on any warning too); `options` is the loader's option
/// string (such as `shrink=2`).
///
/// # Safety
/// The image reads `bytes` whenever it is evaluated: the caller keeps `bytes` alive and
/// unchanged until the image and everything made from it are dropped.
unsafe fn load_sequential(
    bytes: &[u8],
    options: &CStr,
    fail_on: c_int,
) -> Result<Image, VipsError> {
    // SAFETY: valid buffer and NUL-terminated strings; the caller upholds the lifetime.
    let raw = unsafe {
        vips_image_new_from_buffer(
            bytes.as_ptr().cast(),
            bytes.len(),
            options.as_ptr(),
            c"access".as_ptr(),
            ACCESS_SEQUENTIAL,
            c"fail_on".as_ptr(),
            fail_on,
            END,
        )
    };
    NonNull::new(raw)
        .map(Image)
        .ok_or_else(|| last_error("load"))
}

/// How strict a full decode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Fails on errors only (a truncation): what a render tolerates.
    Errors,
    /// Fails on warnings too (corrupt entropy data that libjpeg papers over with grey), as
    /// Sharp's default `failOn: 'warning'` does: what an upload must pass.
    Warnings,
}

/// Decodes an image fully (first frame), to check that the whole file is readable. Used on
/// upload, after the header check, so that a truncated or corrupt file is refused before it
/// is stored. `watch` sees the image before its pixels are pulled, and what it returns lives
/// until the decode ends (a deadline's watchdog, which kills the decode).
pub(crate) fn decode_fully<G>(
    bytes: &[u8],
    strictness: Strictness,
    watch: impl FnOnce(&Image) -> G,
) -> Result<(), VipsError> {
    let fail_on = match strictness {
        Strictness::Errors => FAIL_ON_ERROR,
        Strictness::Warnings => FAIL_ON_WARNING,
    };
    // SAFETY: `bytes` outlives the image, which is evaluated and dropped inside this call.
    unsafe {
        let image = load_sequential(bytes, c"", fail_on)?;
        let guard = watch(&image);
        // The mean of every pixel makes libvips decode the whole frame, with no output to
        // encode; a truncated or corrupt file fails here.
        let mut mean: c_double = 0.0;
        let failed = vips_avg(image.ptr(), &raw mut mean, END) != 0;
        drop(guard);
        if failed {
            return Err(last_error("decode"));
        }
    }
    Ok(())
}
