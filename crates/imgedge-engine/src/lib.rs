//! The image engine: turns an original's bytes and a [`TransformSpec`] into an encoded variant.
//!
//! A render is a fixed list of small steps in the order the transform URL spec defines
//! (decode with shrink-on-load → EXIF orientation → crop → resize → rotate → flip → mirror →
//! grayscale → blur → sharpen → watermark → background → encode), the deadline checked
//! between steps and enforced inside the encode, where libvips does the pixel work lazily.
//!
//! Hostile input is expected: only five formats can be decoded at all (see `vips::init`),
//! the header is checked against the pixel limit before any pixel is decoded, a truncated
//! file fails instead of rendering grey, and the output size is bounded.
//!
//! HEIC is the exception: [`heif`] decodes it through libheif, whichever libvips is linked.
//! Only [`vips`] touches libvips' C API, and [`heif`] libheif's; this module and
//! [`pipeline`] stay in safe Rust.

mod deadline;
mod estimate;
mod heif;
mod jpeg_entropy;
mod pipeline;
pub mod placeholder;
mod sizing;
mod vips;
mod webp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use imgedge_url::{Format, TransformSpec};

pub use estimate::{
    BLUR_MAX_SIGMA_PER_SIDE, Bound, CANVAS_ALWAYS_ALLOWED, CANVAS_MAX_RATIO, RenderEstimate,
};

/// Everything that can go wrong in the engine. The service's error contract gives each
/// variant its public code; the `Display` text may carry libvips' own message and is for
/// logs only.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("libvips could not start: {0}")]
    Init(String),
    #[error("the file is empty")]
    Empty,
    #[error("not an accepted image format (jpeg, png, webp, gif, heif/avif)")]
    UnsupportedFormat,
    #[error("image is {width}x{height} ({pixels} pixels); the limit is {limit} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("output would be {width}x{height}; the limit is {limit} pixels")]
    OutputTooLarge { width: u32, height: u32, limit: u64 },
    #[error("the transform is beyond this image's bounds: {}", .0.explanation())]
    BeyondBounds(Bound),
    #[error("the crop region lies wholly outside the image")]
    CropOutside,
    #[error("the image is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error("render took longer than {0:?}")]
    Timeout(Duration),
    #[error("render failed: {0}")]
    Failed(String),
}

/// Limits and libvips settings. Defaults suit a server taking uploads from strangers.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Largest source accepted, in pixels of one frame (width × height from the header).
    pub max_source_pixels: u64,
    /// Largest output, in pixels, checked before encoding.
    pub max_output_pixels: u64,
    /// Wall-clock budget of one render.
    pub render_timeout: Duration,
    /// libvips worker threads per render; 0 keeps libvips' default (the core count).
    pub vips_concurrency: u32,
    /// AV1 encoder effort, 0 (fastest) to 9. 3 by default: on the 20-megapixel photo to
    /// width 800, its render took 1.7× WebP's and 4 took 5.5×, for 2 % fewer bytes and the
    /// same fidelity (`benches/avif_effort.rs`, docs/performance.md).
    pub avif_effort: u8,
    /// Font for text watermarks (a fontconfig name).
    pub watermark_font: String,
    /// How far a JPEG is shrunk while it is decoded.
    pub shrink_on_load: ShrinkOnLoad,
}

/// How far a JPEG is shrunk while it is decoded (its DCT scaling: 1/2, 1/4 or 1/8), before
/// the Lanczos resize does the rest, by the resize's common shrink `s`. The decode is most
/// of a render's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShrinkOnLoad {
    /// 1/2 from `s` = 2, 1/4 from 4, 1/8 from 16: 6000 → 800 pixels decodes at 1/4, as
    /// Sharp's default does, a quarter of the pixels of `Margin`. 1/8 waits for 16, where
    /// Sharp takes it from 8: decoding at 1/8 costs the most quality and saves little time
    /// (the entropy decoding is the same), and with one factor from 4 to 16 the widths of a
    /// srcset (6000 → 375 to 1500) share one decode. Against a resize from the whole image
    /// it adds less error than WebP at quality 80 does (docs/performance.md).
    #[default]
    Fast,
    /// libvips' `thumbnail` choice, always leaving at least a factor of two to the resize:
    /// 1/2 from 4, 1/4 from 8, 1/8 from 16. The least aliasing, at up to twice the decode.
    Margin,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_source_pixels: 50_000_000,
            max_output_pixels: 50_000_000,
            render_timeout: Duration::from_secs(20),
            vips_concurrency: 0,
            avif_effort: 3,
            watermark_font: "DejaVu Sans Bold".to_owned(),
            shrink_on_load: ShrinkOnLoad::default(),
        }
    }
}

/// A source format the engine decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    /// HEIF with HEVC (`.heic`).
    Heic,
    /// HEIF with AV1.
    Avif,
}

impl SourceFormat {
    /// The output format when a URL does not name one: the same format where it is one we
    /// encode, else PNG for images with alpha and JPEG for the rest.
    pub fn default_output(self, has_alpha: bool) -> Format {
        match self {
            SourceFormat::Png => Format::Png,
            SourceFormat::Webp => Format::Webp,
            SourceFormat::Avif => Format::Avif,
            SourceFormat::Gif | SourceFormat::Heic if has_alpha => Format::Png,
            SourceFormat::Jpeg | SourceFormat::Gif | SourceFormat::Heic => Format::Jpeg,
        }
    }

    /// The lowercase name used in metadata (`jpeg`, `png`, `webp`, `gif`, `heic`, `avif`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::Webp => "webp",
            SourceFormat::Gif => "gif",
            SourceFormat::Heic => "heic",
            SourceFormat::Avif => "avif",
        }
    }

    /// The format of an [`SourceFormat::as_str`] name.
    pub fn from_name(name: &str) -> Option<SourceFormat> {
        [
            SourceFormat::Jpeg,
            SourceFormat::Png,
            SourceFormat::Webp,
            SourceFormat::Gif,
            SourceFormat::Heic,
            SourceFormat::Avif,
        ]
        .into_iter()
        .find(|format| format.as_str() == name)
    }

    /// Maps libvips' loader class (such as `VipsForeignLoadJpegBuffer`), and for HEIF the
    /// file's brand, to a format.
    fn from_loader(loader: &str, bytes: &[u8]) -> Option<SourceFormat> {
        let family = loader.strip_prefix("VipsForeignLoad")?;
        let family = family.strip_suffix("Buffer").unwrap_or(family);
        let format = match family {
            "Jpeg" => SourceFormat::Jpeg,
            "Png" => SourceFormat::Png,
            "Webp" => SourceFormat::Webp,
            "Nsgif" => SourceFormat::Gif,
            // By the `ftyp` brands, as the engine routes HEIC to libheif.
            "Heif" if heif::is_heic(bytes) => SourceFormat::Heic,
            "Heif" => SourceFormat::Avif,
            _ => return None,
        };
        Some(format)
    }
}

/// What the engine learned about a source from its header, without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: SourceFormat,
    /// Width and height as displayed (EXIF orientation applied).
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub has_alpha: bool,
}

/// An encoded variant and how long each phase took.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub timings: Timings,
}

/// Wall-clock time per phase of a render. libvips evaluates lazily, so `decode` and
/// `transform` cover reading the header and building the pipeline, and `encode` covers the
/// pixel work of every step as the encoder pulls pixels through them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
}

impl Timings {
    /// The three phases together.
    pub fn total(&self) -> Duration {
        self.decode + self.transform + self.encode
    }
}

/// Decodes a HEIC whose header passed the engine's header check whole, with libheif. Its
/// decode cannot be stopped once started: the deadline is checked before and after, and the
/// pixel limit bounds the time in between.
fn decode_heic(
    bytes: &[u8],
    info: &SourceInfo,
    deadline: &deadline::Deadline,
) -> Result<vips::MemoryImage, EngineError> {
    deadline.check()?;
    let header = heif::HeicHeader {
        width: info.width,
        height: info.height,
        has_alpha: info.has_alpha,
    };
    let image = heif::decode(bytes, header)?;
    deadline.check()?;
    Ok(image)
}

/// Bytes of metadata (Exif, XMP and other items as stored, and the ICC profile) the primary
/// image of a HEIF file (HEIC or AVIF) carries, read by libheif from the container alone, no
/// pixel decoded: the upload's metadata bound counts them.
pub fn heif_metadata_bytes(bytes: &[u8]) -> Result<u64, EngineError> {
    heif::metadata_bytes(bytes)
}

/// An original decoded once, at the size shrink-on-load gives, and held in memory, so that
/// more variants of it (the several widths of a `srcset`, requested together) render
/// without fetching and decoding the original again. Cheap to clone and shareable between
/// threads; made by [`Engine::render_keeping`].
#[derive(Debug, Clone)]
pub struct Decoded(Arc<DecodedParts>);

#[derive(Debug)]
struct DecodedParts {
    image: vips::MemoryImage,
    info: SourceInfo,
    policy: ShrinkOnLoad,
    shrink: u32,
    /// How long the decode took.
    took: Duration,
}

impl Decoded {
    /// How long its decode took.
    pub fn decode_time(&self) -> Duration {
        self.0.took
    }

    /// Memory its pixels take.
    pub fn size_in_bytes(&self) -> u64 {
        self.0.image.size_in_bytes()
    }

    /// The JPEG shrink-on-load factor it was decoded at (1 for other formats).
    pub fn shrink(&self) -> u32 {
        self.0.shrink
    }

    /// Whether `spec` renders from this intermediate exactly as from the original: its own
    /// decode would shrink on load by the same factor. (From a larger intermediate a render
    /// would be as sharp, but its rounding of the other side can differ by a pixel, and a
    /// URL's output must not depend on what happened to be kept.)
    pub fn serves(&self, spec: &TransformSpec) -> bool {
        self.0.shrink == sizing::shrink_on_load(spec, &self.0.info, self.0.policy)
    }
}

/// The engine. Cheap to share: it holds only configuration; libvips is process-wide.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
}

impl Engine {
    /// Starts libvips (once per process) with `config`'s settings and its safety locks.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        vips::init(vips::VipsSettings {
            concurrency: config.vips_concurrency,
        })
        .map_err(|e| EngineError::Init(e.to_string()))?;
        // libheif too, so that a missing HEVC decoder stops the start, not the first HEIC.
        heif::init()?;
        Ok(Engine { config })
    }

    /// Sets how many threads each render starting from now on uses, when the configuration
    /// leaves it to imgedge (`vips_concurrency` 0). The setting is libvips', process-wide: a
    /// caller running several renders at once shares the cores among them with it.
    pub fn set_threads_per_render(&self, threads: u32) {
        if self.config.vips_concurrency == 0 {
            vips::set_concurrency(threads);
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// What rendering `spec` on a source described by `info` would cost, or the bound it
    /// crosses (see [`RenderEstimate`]); no pixel is touched.
    pub fn estimate(
        &self,
        spec: &TransformSpec,
        info: &SourceInfo,
    ) -> Result<RenderEstimate, Bound> {
        RenderEstimate::new(spec, info, self.config.shrink_on_load)
    }

    /// The libvips version linked, such as `8.14.1`.
    pub fn vips_version() -> String {
        let (major, minor, micro) = vips::version();
        format!("{major}.{minor}.{micro}")
    }

    /// Reads the header: format, size and frames, checked against the pixel limit. No pixel
    /// is decoded.
    pub fn inspect(&self, bytes: &[u8]) -> Result<SourceInfo, EngineError> {
        self.header(bytes)
    }

    /// Decodes the whole first frame after [`Engine::inspect`], proving the file is complete
    /// and free of corrupt data: the decode fails on libvips' warnings too (as Sharp's
    /// default does), so damaged entropy data that a decoder would paper over with grey is
    /// refused like a truncation. The decode has a render's budget and the same watchdog: past
    /// the deadline it is killed and fails with [`EngineError::Timeout`], so no upload check
    /// outlives its budget.
    pub fn verify(&self, bytes: &[u8]) -> Result<SourceInfo, EngineError> {
        let deadline = self.deadline_after(Duration::ZERO);
        let info = self.inspect(bytes)?;
        deadline.check()?;
        if info.format == SourceFormat::Heic {
            decode_heic(bytes, &info, &deadline)?;
            return Ok(info);
        }
        vips::decode_fully(bytes, vips::Strictness::Warnings, |image| {
            deadline.arm(image)
        })
        .map_err(|e| self.decode_error(&deadline, &e))?;
        if info.format == SourceFormat::Jpeg {
            // mozjpeg decodes damaged entropy data without a warning: see jpeg_entropy.
            let max_side = info.width.max(info.height) as usize;
            deadline.check()?;
            jpeg_entropy::check(bytes, max_side).map_err(EngineError::Corrupt)?;
            deadline.check()?;
        }
        Ok(info)
    }

    /// What a failed decode means: the deadline's doing, or a corrupt file.
    fn decode_error(&self, deadline: &deadline::Deadline, e: &vips::VipsError) -> EngineError {
        if deadline.expired() {
            EngineError::Timeout(self.config.render_timeout)
        } else {
            EngineError::Corrupt(e.to_string())
        }
    }

    /// The header, from libheif for HEIC and from libvips for the rest, checked against the
    /// pixel limit.
    fn header(&self, bytes: &[u8]) -> Result<SourceInfo, EngineError> {
        if bytes.is_empty() {
            return Err(EngineError::Empty);
        }
        let info = if heif::is_heic(bytes) {
            let header = heif::read_header(bytes)?;
            SourceInfo {
                format: SourceFormat::Heic,
                width: header.width,
                height: header.height,
                frames: 1,
                has_alpha: header.has_alpha,
            }
        } else {
            let header = vips::read_header(bytes)
                .map_err(|e| EngineError::Corrupt(e.to_string()))?
                .ok_or(EngineError::UnsupportedFormat)?;
            let format = SourceFormat::from_loader(&header.loader, bytes)
                .ok_or(EngineError::UnsupportedFormat)?;
            let (width, height) = header.upright_size();
            SourceInfo {
                format,
                width,
                height,
                frames: header.pages,
                has_alpha: header.has_alpha,
            }
        };
        let pixels = u64::from(info.width) * u64::from(info.height);
        if pixels > self.config.max_source_pixels {
            return Err(EngineError::TooManyPixels {
                width: info.width,
                height: info.height,
                pixels,
                limit: self.config.max_source_pixels,
            });
        }
        Ok(info)
    }

    /// Renders the variant `spec` describes from the original `bytes`.
    pub fn render(&self, bytes: &[u8], spec: &TransformSpec) -> Result<Rendered, EngineError> {
        self.render_until(bytes, spec, &self.deadline_after(Duration::ZERO))
    }

    /// A deadline of this engine's render budget, `spent` of which is used already.
    fn deadline_after(&self, spent: Duration) -> deadline::Deadline {
        deadline::Deadline::after_spending(self.config.render_timeout, spent)
    }

    fn render_until(
        &self,
        bytes: &[u8],
        spec: &TransformSpec,
        deadline: &deadline::Deadline,
    ) -> Result<Rendered, EngineError> {
        let started = Instant::now();
        let info = self.header(bytes)?;
        if info.format == SourceFormat::Heic {
            let image = decode_heic(bytes, &info, deadline)?;
            let source = pipeline::Source::Decoded(&image);
            return pipeline::run(&self.config, source, &info, spec, deadline, started);
        }
        let source = pipeline::Source::Encoded(bytes);
        pipeline::run(&self.config, source, &info, spec, deadline, started)
    }

    /// Decodes `bytes` into memory at the size `spec`'s render would decode them (its
    /// shrink-on-load factor), for that render and others of the same original. `Ok(None)`
    /// when the intermediate is not worth keeping: larger than `keep_up_to` bytes (checked
    /// from the header, before decoding), or a format whose decode inside libvips' thumbnail
    /// differs from a whole decode (WebP and AVIF shrink on load their own way): such
    /// originals render from their bytes with [`Engine::render`]. Kept: JPEG, PNG, GIF, and
    /// HEIC (always decoded whole, by libheif).
    pub fn decode(
        &self,
        bytes: &[u8],
        spec: &TransformSpec,
        keep_up_to: u64,
    ) -> Result<Option<Decoded>, EngineError> {
        self.decode_until(
            bytes,
            spec,
            keep_up_to,
            &self.deadline_after(Duration::ZERO),
        )
    }

    fn decode_until(
        &self,
        bytes: &[u8],
        spec: &TransformSpec,
        keep_up_to: u64,
        deadline: &deadline::Deadline,
    ) -> Result<Option<Decoded>, EngineError> {
        let started = Instant::now();
        let info = self.header(bytes)?;
        let keepable = matches!(
            info.format,
            SourceFormat::Jpeg | SourceFormat::Png | SourceFormat::Gif | SourceFormat::Heic
        );
        if keep_up_to == 0 || !keepable {
            return Ok(None);
        }
        let policy = self.config.shrink_on_load;
        let shrink = sizing::shrink_on_load(spec, &info, policy);
        let image = if info.format == SourceFormat::Heic {
            // A HEIC renders from its whole decode anyway: kept when it fits.
            let bands = if info.has_alpha { 4 } else { 3 };
            let size = u64::from(info.width) * u64::from(info.height) * bands;
            (size <= keep_up_to)
                .then(|| decode_heic(bytes, &info, deadline))
                .transpose()?
        } else {
            vips::decode_to_memory(bytes, shrink, keep_up_to, |image| deadline.arm(image))
                .map_err(|e| self.decode_error(deadline, &e))?
        };
        Ok(image.map(|image| {
            Decoded(Arc::new(DecodedParts {
                image,
                info,
                policy,
                shrink,
                took: started.elapsed(),
            }))
        }))
    }

    /// [`Engine::decode`], then the render from what it decoded, or [`Engine::render`] when
    /// nothing was worth keeping, under one budget for both. The output is the same as
    /// `render`'s; the intermediate comes back for more variants of the original.
    pub fn render_keeping(
        &self,
        bytes: &[u8],
        spec: &TransformSpec,
        keep_up_to: u64,
    ) -> Result<(Rendered, Option<Decoded>), EngineError> {
        self.render_keeping_after(bytes, spec, keep_up_to, Duration::ZERO)
    }

    /// [`Engine::render_keeping`] for a variant that has spent `spent` of its render budget
    /// already (waiting for another request's decode of the same original).
    pub fn render_keeping_after(
        &self,
        bytes: &[u8],
        spec: &TransformSpec,
        keep_up_to: u64,
        spent: Duration,
    ) -> Result<(Rendered, Option<Decoded>), EngineError> {
        let deadline = self.deadline_after(spent);
        match self.decode_until(bytes, spec, keep_up_to, &deadline)? {
            Some(decoded) => {
                let mut rendered = self.render_from(&decoded, spec, &deadline)?;
                rendered.timings.decode += decoded.0.took;
                Ok((rendered, Some(decoded)))
            }
            None => Ok((self.render_until(bytes, spec, &deadline)?, None)),
        }
    }

    /// Renders `spec` from an intermediate [`Engine::render_keeping`] kept, with a whole
    /// render budget. The caller checks [`Decoded::serves`] first; an intermediate that does
    /// not serve `spec` still renders it, but not as the original would.
    pub fn render_decoded(
        &self,
        decoded: &Decoded,
        spec: &TransformSpec,
    ) -> Result<Rendered, EngineError> {
        self.render_decoded_after(decoded, spec, Duration::ZERO)
    }

    /// The render that `decoded` was decoded for ([`Engine::decode`] with the same `spec`):
    /// one variant's decode and render share one budget, as in [`Engine::render`], so this
    /// render gets what the decode left of it.
    pub fn render_first(
        &self,
        decoded: &Decoded,
        spec: &TransformSpec,
    ) -> Result<Rendered, EngineError> {
        self.render_decoded_after(decoded, spec, decoded.0.took)
    }

    /// [`Engine::render_decoded`] for a variant that has spent `spent` of its render budget
    /// already (waiting for the decode it renders from).
    pub fn render_decoded_after(
        &self,
        decoded: &Decoded,
        spec: &TransformSpec,
        spent: Duration,
    ) -> Result<Rendered, EngineError> {
        self.render_from(decoded, spec, &self.deadline_after(spent))
    }

    fn render_from(
        &self,
        decoded: &Decoded,
        spec: &TransformSpec,
        deadline: &deadline::Deadline,
    ) -> Result<Rendered, EngineError> {
        let started = Instant::now();
        let source = pipeline::Source::Decoded(&decoded.0.image);
        pipeline::run(
            &self.config,
            source,
            &decoded.0.info,
            spec,
            deadline,
            started,
        )
    }
}
