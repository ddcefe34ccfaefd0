//! HEIC (HEIF with HEVC) read through Debian's libheif directly, with libde265 as the HEVC
//! decoder: the header, the metadata's size, and a full decode into a libvips memory image.
//! The only module that touches libheif's C API ([`ffi`]).
//!
//! Why not libvips' own HEIF loader: the libvips imgedge links by default (Sharp's) decodes
//! AVIF but no HEVC, and phones upload HEIC. Decoding every HEIC here, in both builds, keeps
//! a HEIC's header, pixels and errors the same whichever libvips is linked. AVIF stays with
//! libvips.
//!
//! What differs from libvips' loaders, and why it is still bounded:
//! - the decode is whole and cannot be cancelled (libheif 1.15 has no cancel hook): the
//!   engine checks its deadline before and after it, and the pixel limit, checked on the
//!   header before, bounds its time (measured in `docs/reliability.md`);
//! - libheif applies the file's transforms (`irot`, `imir`, `clap`) itself, so the header's
//!   size is the displayed one and an EXIF orientation in the file is ignored, as HEIF
//!   requires;
//! - the ICC profile (if any) goes with the pixels, so libvips' thumbnail converts to sRGB
//!   as it does for other formats; Exif and XMP are never read (outputs are stripped).

mod ffi;

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::OnceLock;

use crate::EngineError;
use crate::vips::{Interleaved, MemoryImage};
use ffi::{
    CHANNEL_INTERLEAVED, CHROMA_INTERLEAVED_RGB, CHROMA_INTERLEAVED_RGBA, COLORSPACE_RGB,
    ERROR_MEMORY_ALLOCATION, ERROR_OK, HeifContext, HeifError, HeifImage, HeifImageHandle,
    SUBERROR_SECURITY_LIMIT_EXCEEDED,
};

/// The longest side libheif accepts while a file is only parsed for its header and metadata
/// (its own check, `ispe` against this limit, refused from this length on): past any camera,
/// and past libheif's default (32768), since nothing is decoded then. The engine's pixel
/// limit is checked on the header before any decode, and a decode runs under a tighter limit
/// ([`decode_side_limit`]).
const MAX_SIDE: c_int = 65_535;

/// The side limit a decode of an image whose header says `header` runs under: its own
/// longest side, so that a grid or overlay canvas, which libheif sizes from its own box
/// (checked against this limit only, not against `ispe`), cannot be longer than the image
/// it claims to be. libheif refuses a side equal to the limit, hence the one more.
fn decode_side_limit(header: HeicHeader) -> c_int {
    c_int::try_from(header.width.max(header.height).saturating_add(1)).unwrap_or(MAX_SIDE)
}

/// Brands of HEIF files whose images are HEVC-coded.
const HEVC_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
];
/// Brands of AVIF (AV1-coded HEIF), left to libvips.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];
/// The largest `ftyp` box read, as the upload's sniffer accepts.
const FTYP_MAX: usize = 4096;

/// Whether `bytes` are an ISO-BMFF HEIF file that is not AVIF: decided by its `ftyp` brands
/// alone (pure, nothing parsed by C). AVIF is a major brand `avif`/`avis`, or a generic one
/// (`mif1`, `msf1`) listing `avif`/`avis` among its compatible brands; every other HEIF,
/// including a generic brand with no codec brand, is read as HEIC.
pub(crate) fn is_heic(bytes: &[u8]) -> bool {
    let Some(size) = bytes
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    // From 12 bytes, as the upload's sniffer: a box too short for a minor version and
    // brands is still routed by its major brand, never left to libvips as "AVIF".
    if bytes.get(4..8) != Some(b"ftyp") || !(12..=FTYP_MAX).contains(&size) {
        return false;
    }
    let Some(ftyp) = bytes.get(8..size) else {
        return false;
    };
    let major = &ftyp[0..4];
    if HEVC_BRANDS.iter().any(|b| major == *b) {
        return true;
    }
    // Compatible brands follow the major brand and the minor version.
    let compatible = ftyp.get(8..).unwrap_or_default().chunks_exact(4);
    !AVIF_BRANDS.iter().any(|b| major == *b)
        && !compatible
            .clone()
            .any(|brand| AVIF_BRANDS.iter().any(|b| brand == *b))
}

/// What a HEIC's header says, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeicHeader {
    /// Width and height as displayed (libheif applies the file's rotation and mirroring).
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) has_alpha: bool,
}

/// A libheif failure: which call failed and libheif's message (for logs).
#[derive(Debug, Clone)]
struct Failure {
    op: &'static str,
    code: c_int,
    subcode: c_int,
    detail: String,
}

impl Failure {
    /// libheif's errors in the engine's contract: a file it cannot read is corrupt (or not
    /// HEIF at all); running out of memory is the server's failure, not the file's.
    fn into_engine(self) -> EngineError {
        let text = format!("libheif {}: {}", self.op, self.detail);
        if self.code == ERROR_MEMORY_ALLOCATION && self.subcode != SUBERROR_SECURITY_LIMIT_EXCEEDED
        {
            EngineError::Failed(text)
        } else {
            EngineError::Corrupt(text)
        }
    }
}

/// Turns a returned `heif_error` into a result.
fn check(op: &'static str, error: HeifError) -> Result<(), Failure> {
    if error.code == ERROR_OK {
        return Ok(());
    }
    let detail = if error.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif's messages are NUL-terminated strings that live at least as long
        // as the context that returned them; copied at once.
        unsafe { CStr::from_ptr(error.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(Failure {
        op,
        code: error.code,
        subcode: error.subcode,
        detail,
    })
}

/// Starts libheif once for the process (it registers its decoders) and checks that it can
/// decode HEVC. Later calls return the first result.
pub(crate) fn init() -> Result<(), EngineError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        // SAFETY: heif_init takes no parameters (NULL) and is reference-counted by libheif,
        // so a libvips that also starts it is unaffected; never deinitialised.
        let error = unsafe { ffi::heif_init(ptr::null_mut()) };
        check("init", error).map_err(|f| f.detail)?;
        // Newer distributions ship libheif's HEVC decoder as a plugin package of its own:
        // without it every HEIC would read as corrupt, so the engine refuses to start.
        // SAFETY: a query of the decoders registered by heif_init.
        if unsafe { ffi::heif_have_decoder_for_format(ffi::COMPRESSION_HEVC) } == 0 {
            return Err(
                "libheif has no HEVC decoder (install libde265 or, where libheif \
                        splits its codecs, libheif-plugin-libde265)"
                    .to_owned(),
            );
        }
        Ok(())
    })
    .clone()
    .map_err(EngineError::Init)
}

/// An owned libheif context, freed on drop.
struct Context(NonNull<HeifContext>);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own the context, and every handle into it is released before (see
        // `Opened`'s drop).
        unsafe { ffi::heif_context_free(self.0.as_ptr()) }
    }
}

/// A parsed file: a libheif context reading `bytes` in place, and its primary image.
struct Opened<'a> {
    primary: NonNull<HeifImageHandle>,
    /// Dropped after `primary` is released (the handle points into it).
    _context: Context,
    /// The context reads the caller's bytes without copying them.
    _bytes: PhantomData<&'a [u8]>,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the handle; the context it points into is freed
        // after this, when the fields drop.
        unsafe { ffi::heif_image_handle_release(self.primary.as_ptr()) }
    }
}

impl<'a> Opened<'a> {
    /// Parses the container (boxes, not pixels), refusing an image with a side of
    /// `side_limit` or more.
    fn new(bytes: &'a [u8], side_limit: c_int) -> Result<Opened<'a>, EngineError> {
        init()?;
        // SAFETY: heif_context_alloc returns a new context or NULL.
        let context = NonNull::new(unsafe { ffi::heif_context_alloc() })
            .map(Context)
            .ok_or_else(|| EngineError::Failed("libheif: no memory for a context".into()))?;
        let ctx = context.0.as_ptr();
        let mut primary: *mut HeifImageHandle = ptr::null_mut();
        // SAFETY: a live context; `bytes` outlives it (the lifetime `'a` of the result, which
        // owns the context); NULL reading options are documented; `primary` is an out
        // pointer to a handle we then own.
        unsafe {
            ffi::heif_context_set_maximum_image_size_limit(ctx, side_limit);
            let read = ffi::heif_context_read_from_memory_without_copy(
                ctx,
                bytes.as_ptr().cast(),
                bytes.len(),
                ptr::null(),
            );
            check("read", read).map_err(Failure::into_engine)?;
            let got = ffi::heif_context_get_primary_image_handle(ctx, &raw mut primary);
            check("primary image", got).map_err(Failure::into_engine)?;
        }
        let primary = NonNull::new(primary)
            .ok_or_else(|| EngineError::Corrupt("libheif: no primary image".into()))?;
        Ok(Opened {
            primary,
            _context: context,
            _bytes: PhantomData,
        })
    }

    fn header(&self) -> Result<HeicHeader, EngineError> {
        let handle = self.primary.as_ptr();
        // SAFETY: plain getters on a live handle.
        let (width, height, alpha) = unsafe {
            (
                ffi::heif_image_handle_get_width(handle),
                ffi::heif_image_handle_get_height(handle),
                ffi::heif_image_handle_has_alpha_channel(handle),
            )
        };
        match (u32::try_from(width), u32::try_from(height)) {
            (Ok(width @ 1..), Ok(height @ 1..)) => Ok(HeicHeader {
                width,
                height,
                has_alpha: alpha != 0,
            }),
            _ => Err(EngineError::Corrupt(format!(
                "libheif: the primary image is {width}x{height}"
            ))),
        }
    }

    /// The primary image's ICC profile, if it has one.
    fn icc_profile(&self) -> Result<Option<Vec<u8>>, EngineError> {
        let handle = self.primary.as_ptr();
        // SAFETY: a getter on a live handle; 0 when there is no ICC profile.
        let size = unsafe { ffi::heif_image_handle_get_raw_color_profile_size(handle) };
        if size == 0 {
            return Ok(None);
        }
        let mut profile = vec![0u8; size];
        // SAFETY: `profile` has the size libheif reported for this handle's profile, which it
        // copies in whole.
        let got = unsafe {
            ffi::heif_image_handle_get_raw_color_profile(handle, profile.as_mut_ptr().cast())
        };
        check("color profile", got).map_err(Failure::into_engine)?;
        Ok(Some(profile))
    }

    /// Bytes of Exif, XMP and other metadata items of the primary image, as stored, and of
    /// its ICC profile.
    fn metadata_bytes(&self) -> u64 {
        let handle = self.primary.as_ptr();
        // SAFETY: a getter on a live handle, NULL meaning every type of metadata.
        let count =
            unsafe { ffi::heif_image_handle_get_number_of_metadata_blocks(handle, ptr::null()) };
        let mut ids = vec![0; usize::try_from(count).unwrap_or(0)];
        // SAFETY: `ids` holds `count` entries, and libheif fills at most that many.
        let filled = unsafe {
            ffi::heif_image_handle_get_list_of_metadata_block_IDs(
                handle,
                ptr::null(),
                ids.as_mut_ptr(),
                count.max(0),
            )
        };
        ids.truncate(usize::try_from(filled).unwrap_or(0));
        let items = ids.iter().fold(0u64, |sum, &id| {
            // SAFETY: a getter on a live handle for an id it listed.
            let size = unsafe { ffi::heif_image_handle_get_metadata_size(handle, id) };
            sum.saturating_add(size as u64)
        });
        // SAFETY: a getter on a live handle.
        let icc = unsafe { ffi::heif_image_handle_get_raw_color_profile_size(handle) };
        items.saturating_add(icc as u64)
    }

    /// Decodes the primary image to interleaved 8-bit RGB, or RGBA when it has alpha.
    fn decode(&self, has_alpha: bool) -> Result<Decoded, EngineError> {
        let chroma = if has_alpha {
            CHROMA_INTERLEAVED_RGBA
        } else {
            CHROMA_INTERLEAVED_RGB
        };
        let mut image: *mut HeifImage = ptr::null_mut();
        // SAFETY: a live handle; `image` is an out pointer to an image we then own; NULL
        // options are the documented defaults (transforms applied, 8 bits per channel).
        let decoded = unsafe {
            ffi::heif_decode_image(
                self.primary.as_ptr(),
                &raw mut image,
                COLORSPACE_RGB,
                chroma,
                ptr::null(),
            )
        };
        let owned = NonNull::new(image).map(Decoded);
        check("decode", decoded).map_err(Failure::into_engine)?;
        owned.ok_or_else(|| EngineError::Corrupt("libheif: the decode returned nothing".into()))
    }
}

/// A decoded image, released on drop.
struct Decoded(NonNull<HeifImage>);

impl Drop for Decoded {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the image.
        unsafe { ffi::heif_image_release(self.0.as_ptr()) }
    }
}

impl Decoded {
    /// The interleaved plane as rows of `bands` bytes per pixel, `stride` bytes apart. Every
    /// size libheif reports is checked before the slice is made.
    fn rows(&self, bands: u32) -> Result<Interleaved<'_>, EngineError> {
        let image = self.0.as_ptr();
        let mut stride: c_int = 0;
        // SAFETY: getters on a live image; the plane pointer stays valid while `self` lives,
        // which the returned slice borrows.
        let (width, height, plane) = unsafe {
            (
                ffi::heif_image_get_width(image, CHANNEL_INTERLEAVED),
                ffi::heif_image_get_height(image, CHANNEL_INTERLEAVED),
                ffi::heif_image_get_plane_readonly(image, CHANNEL_INTERLEAVED, &raw mut stride),
            )
        };
        let bad = || EngineError::Corrupt(format!("libheif: a {width}x{height} plane"));
        let (Ok(width @ 1..), Ok(height @ 1..), Ok(stride)) = (
            u32::try_from(width),
            u32::try_from(height),
            usize::try_from(stride),
        ) else {
            return Err(bad());
        };
        if plane.is_null() {
            return Err(bad());
        }
        // The plane is `height` rows of `stride` bytes; the last row is read up to its
        // pixels only.
        let row = (width as usize)
            .checked_mul(bands as usize)
            .ok_or_else(bad)?;
        let len = stride
            .checked_mul(height as usize - 1)
            .and_then(|rows| rows.checked_add(row))
            .filter(|_| stride >= row)
            .ok_or_else(bad)?;
        // SAFETY: libheif allocated the plane as `height` rows of `stride` bytes (stride ≥
        // row, checked), so these `len` bytes are inside it; it is not written while `self`
        // lives (readonly access, nothing else holds the image).
        let data = unsafe { std::slice::from_raw_parts(plane, len) };
        Ok(Interleaved {
            width,
            height,
            bands,
            stride,
            data,
        })
    }
}

/// Reads a HEIC's header: its displayed size and alpha. No pixel is decoded.
pub(crate) fn read_header(bytes: &[u8]) -> Result<HeicHeader, EngineError> {
    Opened::new(bytes, MAX_SIDE)?.header()
}

/// Bytes of metadata the primary image of a HEIF file (HEIC or AVIF) carries: its metadata
/// items (Exif, XMP, ...) as stored, and its ICC profile. Only the container is parsed.
pub(crate) fn metadata_bytes(bytes: &[u8]) -> Result<u64, EngineError> {
    Ok(Opened::new(bytes, MAX_SIDE)?.metadata_bytes())
}

/// Decodes a HEIC whose header [`read_header`] gave as `header` (and which the caller has
/// checked against its pixel limit) into a libvips memory image: 8-bit sRGB or sRGB with
/// alpha, the ICC profile attached if the file has one, no orientation tag.
pub(crate) fn decode(bytes: &[u8], header: HeicHeader) -> Result<MemoryImage, EngineError> {
    let opened = Opened::new(bytes, decode_side_limit(header))?;
    // The same bytes give the same header; checked again so that the pixel limit the caller
    // applied is the one the decode obeys.
    if opened.header()? != header {
        return Err(EngineError::Corrupt("libheif: the header changed".into()));
    }
    let icc = opened.icc_profile()?;
    let decoded = opened.decode(header.has_alpha)?;
    let rows = decoded.rows(if header.has_alpha { 4 } else { 3 })?;
    if (rows.width, rows.height) != (header.width, header.height) {
        return Err(EngineError::Corrupt(format!(
            "libheif: decoded {}x{}, the header says {}x{}",
            rows.width, rows.height, header.width, header.height
        )));
    }
    MemoryImage::from_interleaved(&rows, icc.as_deref())
        .map_err(|e| EngineError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: [u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut out = u32::try_from(size).expect("small").to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(&major);
        out.extend_from_slice(&[0; 4]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(&[0, 0, 0, 8, b'm', b'e', b't', b'a']);
        out
    }

    #[test]
    fn hevc_brands_are_heic_and_avif_brands_are_not() {
        assert!(is_heic(&ftyp(*b"heic", &[b"mif1", b"heic"])));
        assert!(is_heic(&ftyp(*b"heix", &[])));
        assert!(is_heic(&ftyp(*b"mif1", &[b"heic", b"miaf"])));
        assert!(is_heic(&ftyp(*b"mif1", &[b"miaf"])));
        assert!(!is_heic(&ftyp(*b"avif", &[b"mif1", b"avif"])));
        assert!(!is_heic(&ftyp(*b"avis", &[])));
        assert!(!is_heic(&ftyp(*b"mif1", &[b"avif", b"miaf"])));
        // An HEVC major brand decides, whatever else is listed.
        assert!(is_heic(&ftyp(*b"heic", &[b"avif"])));
        // A 12-byte box, which the upload's sniffer accepts: its major brand decides.
        assert!(is_heic(b"\0\0\0\x0cftypheic"));
        assert!(!is_heic(b"\0\0\0\x0cftypavif"));
    }

    #[test]
    fn anything_but_a_sane_ftyp_box_is_not_heic() {
        assert!(!is_heic(b""));
        assert!(!is_heic(b"\0\0\0\x10ftyp"));
        assert!(!is_heic(b"GIF8ftypheic\0\0\0\0"));
        assert!(!is_heic(b"\0\0\0\x08ftypheic\0\0\0\0"));
        let mut short = ftyp(*b"heic", &[]);
        short[3] = 200;
        short.truncate(20);
        assert!(!is_heic(&short));
    }
}
