//! What a render will cost, and whether it makes sense, from the spec and the source's
//! header alone: before a byte of the original is fetched or a pixel decoded. Pure.
//!
//! Two uses:
//! - **Bounds** ([`Bound`]). Some parameters are valid in a URL but absurd for a given image:
//!   `fit=contain&width=8192&height=6100` on a 1×1 image pads it to a 50-megapixel canvas;
//!   a thin strip rotated by 45° becomes a square of mostly corners; a blur whose sigma
//!   exceeds half the image's shorter side leaves a flat colour at great cost. Whether a
//!   spec crosses one depends on the image, so the URL still parses and verifies, and the
//!   render is refused (422 `beyond_image_bounds`). Every bound leaves ordinary use far
//!   inside it (below), and a canvas of up to [`CANVAS_ALWAYS_ALLOWED`] pixels is never
//!   refused.
//! - **Cost** ([`RenderEstimate::cost_units`]). Renders differ in cost by three orders of
//!   magnitude; the transformer charges its per-owner render quota in these units, so that
//!   a quota sized for ordinary renders is not a licence for a minute of CPU per request.
//!   One unit is about the work of a web-sized render (a 12-megapixel JPEG to a 400-pixel
//!   WebP costs 1); the estimate counts the pixels each step touches, weighted by what the
//!   step costs per pixel. Every parameter added to the contract adds its term here.

use super::sizing::{self, Geometry};
use super::{ShrinkOnLoad, SourceInfo};
use imgedge_url::{Blur, Fit, Format, Gravity, Sharpen, TransformSpec};

/// A padded or rotated canvas of up to this many pixels is always allowed (a 1024×1024
/// tile): below it, nothing costs enough to matter.
pub const CANVAS_ALWAYS_ALLOWED: u64 = 1 << 20;

/// Beyond [`CANVAS_ALWAYS_ALLOWED`], a canvas (the `contain` box, a rotation's bounding box)
/// may hold at most this many times the pixels of the image it holds: 4× each side. A
/// portrait photo contained in a square box uses 1.8×, a 10:1 panorama in a square 10×.
pub const CANVAS_MAX_RATIO: u64 = 16;

/// A blur's sigma may be at most this share of the blurred image's shorter side (a 20-pixel
/// placeholder may still take `blur=10`); beyond it the image is a flat colour.
pub const BLUR_MAX_SIGMA_PER_SIDE: f64 = 0.5;

/// Pixel work per cost unit: 4 megapixels touched once.
const WORK_PER_UNIT: f64 = 4_000_000.0;

/// Which bound a spec crosses for an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `fit=contain` would pad the image to more than [`CANVAS_MAX_RATIO`] times its
    /// pixels.
    ContainPadding,
    /// The rotation's canvas would hold more than [`CANVAS_MAX_RATIO`] times the pixels it
    /// rotates.
    RotationCanvas,
    /// `blur`'s sigma exceeds [`BLUR_MAX_SIGMA_PER_SIDE`] of the image's shorter side.
    BlurSigma,
}

impl Bound {
    /// What the client is told (the bounds are public, like the pixel limits).
    pub fn explanation(self) -> &'static str {
        match self {
            Bound::ContainPadding => {
                "fit=contain would pad this image to more than 16 times its pixels \
                 (a box of up to 1 megapixel is always allowed)"
            }
            Bound::RotationCanvas => {
                "the rotation's canvas would hold more than 16 times this image's pixels \
                 (a canvas of up to 1 megapixel is always allowed)"
            }
            Bound::BlurSigma => "blur's sigma is more than half of the image's shorter side",
        }
    }
}

/// What a render of a spec on one source will do: its sizes and its cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderEstimate {
    /// Pixels decoded (after JPEG shrink-on-load).
    pub decoded_pixels: u64,
    /// The output's size (after padding and rotation).
    pub output_width: u32,
    pub output_height: u32,
    /// The render's cost in units of an ordinary web-sized render; at least 1.
    pub cost_units: u32,
}

/// A `width`×`height` area in pixels.
fn area(width: u32, height: u32) -> u64 {
    u64::from(width) * u64::from(height)
}

/// Whether a canvas of `canvas` pixels holding `held` pixels is within the canvas bound.
fn canvas_allowed(canvas: u64, held: u64) -> bool {
    canvas <= CANVAS_ALWAYS_ALLOWED || canvas <= held.max(1).saturating_mul(CANVAS_MAX_RATIO)
}

/// The bounding box of a `width`×`height` image rotated by `degrees`.
fn rotated(width: u32, height: u32, degrees: u16) -> (u32, u32) {
    match degrees {
        0 | 180 => (width, height),
        90 | 270 => (height, width),
        _ => {
            let radians = f64::from(degrees).to_radians();
            let (sin, cos) = (radians.sin().abs(), radians.cos().abs());
            let (w, h) = (f64::from(width), f64::from(height));
            (
                (w * cos + h * sin).ceil() as u32,
                (w * sin + h * cos).ceil() as u32,
            )
        }
    }
}

/// The encoder's work per output pixel, relative to a resize.
fn encoder_weight(format: Format) -> f64 {
    match format {
        Format::Jpeg => 1.0,
        Format::Png | Format::Webp => 4.0,
        // AV1 at the default effort (3): about three times WebP's encode
        // (`benches/avif_effort.rs`: 164 ms a render against WebP's 97, of which WebP's
        // encode is about 32).
        Format::Avif => 12.0,
    }
}

impl RenderEstimate {
    /// The estimate for `spec` on a source described by `info` (as its header or the stored
    /// metadata gives it), or the bound it crosses.
    pub fn new(
        spec: &TransformSpec,
        info: &SourceInfo,
        policy: ShrinkOnLoad,
    ) -> Result<RenderEstimate, Bound> {
        // The resize starts from the crop region (a region outside the image is refused
        // before this counts), at the URL's size times its pixel ratio.
        let source = sizing::cropped(spec, info).unwrap_or((info.width, info.height));
        let resize = spec.scaled_resize();
        let Geometry { resized, pad } = sizing::geometry(resize, source);
        let held = area(resized.0, resized.1);
        let mut canvas = resized;
        if let Some(padded) = pad {
            if !canvas_allowed(area(padded.0, padded.1), held) {
                return Err(Bound::ContainPadding);
            }
            canvas = padded;
        }
        let degrees = spec.rotate.degrees();
        let turned = rotated(canvas.0, canvas.1, degrees);
        if !canvas_allowed(area(turned.0, turned.1), area(canvas.0, canvas.1)) {
            return Err(Bound::RotationCanvas);
        }
        canvas = turned;
        let sigma = spec.blur.map_or(0.0, Blur::sigma);
        if sigma > f64::from(canvas.0.min(canvas.1)) * BLUR_MAX_SIGMA_PER_SIDE {
            return Err(Bound::BlurSigma);
        }

        // With a crop, the whole original is decoded (at the shrink-on-load factor) to cut
        // the region from: the same pixels as a decode without one.
        let shrink = u64::from(sizing::shrink_on_load(spec, info, policy));
        let decoded_pixels = area(info.width, info.height) / (shrink * shrink);
        let format = sizing::output_format(spec, info);
        // A content-aware cover searches the covering image, about twice the window's
        // pixels, several times over (libvips' smartcrop).
        let search = match resize.fit() {
            Some(Fit::Cover(Gravity::Attention | Gravity::Entropy)) => 6.0,
            _ => 0.0,
        };
        // Work per canvas pixel: the resize or padding that made it, each later step, the
        // encoder. A Gaussian blur's kernel grows with sigma (libvips' mask reaches about
        // 1.8 sigma each side, applied in two passes); sharpen's likewise, in Lab, and a
        // palette's quantiser (libimagequant) costs about a lossless encode more.
        let sharpen = spec.sharpen.map_or(0.0, Sharpen::sigma);
        let per_pixel = search
            + 1.0
            + match degrees {
                0 => 0.0,
                90 | 180 | 270 => 1.0,
                _ => 2.0,
            }
            + if sigma > 0.0 { 1.0 + sigma / 2.0 } else { 0.0 }
            + f64::from(u8::from(spec.grayscale) + u8::from(spec.flip) + u8::from(spec.mirror))
            + if spec.watermark.is_some() { 1.0 } else { 0.0 }
            + if sharpen > 0.0 {
                3.0 + sharpen / 2.0
            } else {
                0.0
            }
            + if spec.palette && format == Format::Png {
                4.0
            } else {
                0.0
            }
            + encoder_weight(format);
        let work = decoded_pixels as f64 + area(canvas.0, canvas.1) as f64 * per_pixel;
        let cost_units = (work / WORK_PER_UNIT)
            .ceil()
            .clamp(1.0, f64::from(u32::MAX)) as u32;
        Ok(RenderEstimate {
            decoded_pixels,
            output_width: canvas.0,
            output_height: canvas.1,
            cost_units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFormat;

    fn source(format: SourceFormat, width: u32, height: u32) -> SourceInfo {
        SourceInfo {
            format,
            width,
            height,
            frames: 1,
            has_alpha: false,
        }
    }

    fn estimate(query: &str, info: &SourceInfo) -> Result<RenderEstimate, Bound> {
        let spec = TransformSpec::parse(query)
            .expect("valid query")
            .into_spec();
        RenderEstimate::new(&spec, info, ShrinkOnLoad::default())
    }

    const PHOTO: (u32, u32) = (4000, 3000);

    fn photo() -> SourceInfo {
        source(SourceFormat::Jpeg, PHOTO.0, PHOTO.1)
    }

    #[test]
    fn a_web_sized_render_costs_one_unit() {
        let e = estimate("width=400&format=webp", &photo()).expect("within bounds");
        assert_eq!((e.output_width, e.output_height), (400, 300));
        assert_eq!(e.cost_units, 1);
    }

    #[test]
    fn the_most_expensive_renders_cost_hundreds() {
        // No resize of a 48-megapixel photo, blurred as far as the contract allows, as AVIF.
        let big = source(SourceFormat::Jpeg, 8000, 6000);
        let e = estimate(
            "width=8192&height=8192&fit=inside&blur=100&quality=100&format=avif",
            &big,
        )
        .expect("within bounds");
        assert!(e.cost_units > 500, "{e:?}");
        let cheap = estimate("width=8192&height=8192&fit=inside", &big).expect("within bounds");
        assert!(cheap.cost_units < e.cost_units / 10, "{cheap:?} vs {e:?}");
    }

    #[test]
    fn contain_may_pad_ordinary_images() {
        // A portrait photo in a square box, a panorama in a square box, a logo in a tile.
        for (w, h, query) in [
            (3000, 4000, "width=1000&height=1000&fit=contain"),
            (10000, 1000, "width=1000&height=1000&fit=contain"),
            (100, 100, "width=1024&height=1024&fit=contain"),
        ] {
            let e = estimate(query, &source(SourceFormat::Png, w, h));
            assert!(e.is_ok(), "{w}x{h} {query}: {e:?}");
        }
    }

    #[test]
    fn contain_may_not_pad_a_tiny_image_to_a_huge_canvas() {
        let dot = source(SourceFormat::Png, 1, 1);
        assert_eq!(
            estimate("width=8192&height=6100&fit=contain&blur=100", &dot),
            Err(Bound::ContainPadding)
        );
        // 17 times the held pixels, past the free megapixel.
        let small = source(SourceFormat::Png, 1000, 1000);
        assert_eq!(
            estimate("width=4123&height=4123&fit=contain", &small),
            Err(Bound::ContainPadding)
        );
        assert!(estimate("width=4000&height=4000&fit=contain", &small).is_ok());
    }

    #[test]
    fn rotation_may_not_turn_a_strip_into_a_square_of_corners() {
        let strip = source(SourceFormat::Png, 8000, 100);
        assert_eq!(estimate("rotate=45", &strip), Err(Bound::RotationCanvas));
        assert!(estimate("rotate=90", &strip).is_ok());
        assert!(estimate("rotate=45", &photo()).is_ok());
        // A small strip's canvas stays under the free megapixel.
        assert!(estimate("rotate=45", &source(SourceFormat::Png, 1000, 10)).is_ok());
    }

    #[test]
    fn blur_sigma_is_bounded_by_the_image() {
        let thumb = source(SourceFormat::Jpeg, 20, 15);
        assert!(estimate("blur=7.5", &thumb).is_ok());
        assert_eq!(estimate("blur=7.6", &thumb), Err(Bound::BlurSigma));
        // The bound applies to the image as blurred: after the resize.
        assert_eq!(
            estimate("width=100&blur=50", &photo()),
            Err(Bound::BlurSigma)
        );
        assert!(estimate("width=400&blur=100", &photo()).is_ok());
    }

    #[test]
    fn a_crop_is_resized_from_its_region() {
        let e = estimate("crop=100,100,400,300", &photo()).expect("within bounds");
        assert_eq!((e.output_width, e.output_height), (400, 300));
        // A region reaching past the image is cut where the image ends.
        let e = estimate("crop=3900,2900,400,300", &photo()).expect("within bounds");
        assert_eq!((e.output_width, e.output_height), (100, 100));
        // dpr multiplies, never past the source.
        let e = estimate("width=300&dpr=2", &photo()).expect("within bounds");
        assert_eq!(e.output_width, 600);
        let e = estimate("crop=0,0,500,500&width=400&dpr=2", &photo()).expect("within bounds");
        assert_eq!(e.output_width, 500);
    }

    #[test]
    fn cost_grows_with_every_expensive_parameter() {
        let base = estimate("width=2000", &photo()).expect("ok").cost_units;
        for query in [
            "width=2000&blur=20",
            "width=2000&rotate=30",
            "width=2000&format=avif",
            "width=2000&dpr=2",
            "width=2000&sharpen=2",
            "width=2000&height=1000&gravity=attention",
            "width=2000&palette=1&format=png",
        ] {
            let cost = estimate(query, &photo()).expect("ok").cost_units;
            assert!(cost > base, "{query}: {cost} <= {base}");
        }
    }
}
