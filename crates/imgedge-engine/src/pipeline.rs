//! The render pipeline: a [`TransformSpec`] becomes a fixed list of small steps, run in the
//! spec's order with the deadline checked before each one.

use std::time::Instant;

use super::deadline::Deadline;
use super::estimate::RenderEstimate;
use super::vips::{self, Codec, Flip, Image, MemoryImage, ThumbnailSize};
use super::{EngineConfig, EngineError, Rendered, ShrinkOnLoad, SourceFormat, SourceInfo, Timings};
use imgedge_url::{Fit, Format, Resize, TransformSpec, WatermarkText};

/// A target dimension large enough to mean "no limit" to libvips' thumbnail.
const UNBOUNDED: u32 = 10_000_000;

/// How to decode-and-resize for `resize`, given the upright source size, and the box to pad
/// to afterwards (`contain`).
fn sizing(resize: Resize, source: (u32, u32)) -> (ThumbnailSize, Option<(u32, u32)>) {
    let (sw, sh) = (u64::from(source.0.max(1)), u64::from(source.1.max(1)));
    let within = |width, height| ThumbnailSize::Within { width, height };
    match resize {
        Resize::Original => (within(UNBOUNDED, UNBOUNDED), None),
        Resize::Width(w) => (within(w.get(), UNBOUNDED), None),
        Resize::Height(h) => (within(UNBOUNDED, h.get()), None),
        Resize::Box { width, height, fit } => {
            let (w, h) = (width.get(), height.get());
            match fit {
                Fit::Cover => (
                    ThumbnailSize::CoverCrop {
                        width: w,
                        height: h,
                    },
                    None,
                ),
                Fit::Inside => (within(w, h), None),
                Fit::Contain => (within(w, h), Some((w, h))),
                Fit::Fill => (
                    ThumbnailSize::Force {
                        width: w.min(source.0),
                        height: h.min(source.1),
                    },
                    None,
                ),
                // Scale by the larger of the two ratios, so both sides reach the box:
                // w/sw >= h/sh means the width decides.
                Fit::Outside if u64::from(w) * sh >= u64::from(h) * sw => {
                    (within(w, UNBOUNDED), None)
                }
                Fit::Outside => (within(UNBOUNDED, h), None),
            }
        }
    }
}

/// The sizes a resize gives on a source, before any later step: the resized image, and
/// the box `contain` pads it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub(super) resized: (u32, u32),
    pub(super) pad: Option<(u32, u32)>,
}

/// [`Geometry`] of `resize` on an upright `source`, as libvips' thumbnail computes it
/// (to within a pixel of rounding): pure arithmetic, for estimates made before decoding.
pub(super) fn geometry(resize: Resize, source: (u32, u32)) -> Geometry {
    let (size, pad) = sizing(resize, source);
    let (sw, sh) = (f64::from(source.0.max(1)), f64::from(source.1.max(1)));
    let scaled = |scale: f64| {
        let scale = scale.min(1.0);
        (
            ((sw * scale).round() as u32).max(1),
            ((sh * scale).round() as u32).max(1),
        )
    };
    let resized = match size {
        ThumbnailSize::Within { width, height } => {
            scaled((f64::from(width) / sw).min(f64::from(height) / sh))
        }
        ThumbnailSize::CoverCrop { width, height } => {
            let (w, h) = scaled((f64::from(width) / sw).max(f64::from(height) / sh));
            (w.min(width), h.min(height))
        }
        ThumbnailSize::Force { width, height } => (width, height),
    };
    Geometry { resized, pad }
}

/// The JPEG shrink-on-load factor for `spec` on a source of `info`'s size under `policy`
/// (see [`ShrinkOnLoad`]); other formats decode whole (1). A render from an intermediate
/// decoded at this factor is byte-identical to the render from the original (tested in the
/// engine's tests, on the libvips linked).
pub(super) fn shrink_on_load(spec: &TransformSpec, info: &SourceInfo, policy: ShrinkOnLoad) -> u32 {
    if info.format != SourceFormat::Jpeg {
        return 1;
    }
    let (resize, _) = sizing(spec.resize, (info.width, info.height));
    let (sw, sh) = (f64::from(info.width), f64::from(info.height));
    let ratios = |w: u32, h: u32| (sw / f64::from(w.max(1)), sh / f64::from(h.max(1)));
    // thumbnail's common shrink: fitting within a box shrinks both sides by the larger
    // ratio; covering a box (or filling it) by the smaller one.
    let shrink = match resize {
        ThumbnailSize::Within { width, height } => {
            let (h, v) = ratios(width, height);
            h.max(v)
        }
        ThumbnailSize::CoverCrop { width, height } | ThumbnailSize::Force { width, height } => {
            let (h, v) = ratios(width, height);
            h.min(v)
        }
    };
    // Each factor with the least common shrink that takes it.
    let thresholds = match policy {
        ShrinkOnLoad::Fast => [(8, 16.0), (4, 4.0), (2, 2.0)],
        ShrinkOnLoad::Margin => [(8, 16.0), (4, 8.0), (2, 4.0)],
    };
    thresholds
        .into_iter()
        .find(|&(_, least)| shrink >= least)
        .map_or(1, |(factor, _)| factor)
}

/// Where a render's pixels come from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source<'a> {
    /// The original's encoded bytes, decoded by thumbnail with shrink-on-load.
    Encoded(&'a [u8]),
    /// An intermediate already decoded into memory (at a shrink-on-load factor no larger
    /// than the render's own).
    Decoded(&'a MemoryImage),
}

/// One step after decoding, in the spec's fixed order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step<'a> {
    Rotate(u16),
    Flip,
    Mirror,
    Grayscale,
    Blur(f64),
    Watermark(&'a str),
}

impl Step<'_> {
    /// Whether the step reads its input out of order (a rotation reads columns, a vertical
    /// flip the last line first, a blur a window of lines around each line it writes),
    /// which a sequential decode cannot serve. A blur's window outgrows the decode's line
    /// cache as its sigma grows (seen: `blur=100` of a 6 MP JPEG failed now and then with
    /// "out of order read" on two libvips threads), so every blur reads from memory.
    fn reads_out_of_order(self) -> bool {
        matches!(self, Step::Rotate(_) | Step::Flip | Step::Blur(_))
    }
}

fn steps(spec: &TransformSpec) -> impl Iterator<Item = Step<'_>> {
    [
        (!spec.rotate.is_none()).then_some(Step::Rotate(spec.rotate.degrees())),
        spec.flip.then_some(Step::Flip),
        spec.mirror.then_some(Step::Mirror),
        spec.grayscale.then_some(Step::Grayscale),
        spec.blur.map(|blur| Step::Blur(blur.sigma())),
        spec.watermark
            .as_ref()
            .map(WatermarkText::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(Step::Watermark),
    ]
    .into_iter()
    .flatten()
}

/// The fill for new canvas (rotation corners, `contain` padding): transparent where the
/// output keeps alpha (the image gains an alpha band for it), else white.
fn with_fill(image: Image, format: Format) -> Result<(Image, Vec<f64>), vips::VipsError> {
    if format.has_alpha() {
        let image = if image.has_alpha() {
            image
        } else {
            image.with_alpha()?
        };
        let bands = image.bands() as usize;
        Ok((image, vec![0.0; bands]))
    } else {
        let bands = image.bands() as usize;
        Ok((image, vec![255.0; bands]))
    }
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(failed)`
fn failed(e: vips::VipsError) -> EngineError {
    EngineError::Failed(e.to_string())
}

pub(super) fn run(
    config: &EngineConfig,
    source: Source<'_>,
    info: &SourceInfo,
    spec: &TransformSpec,
    deadline: &Deadline,
    started: Instant,
) -> Result<Rendered, EngineError> {
    let format = spec
        .format
        .unwrap_or_else(|| info.format.default_output(info.has_alpha));
    // Refused before any pixel is decoded: the bounds depend on the source's size only.
    RenderEstimate::new(spec, info, config.shrink_on_load).map_err(EngineError::BeyondBounds)?;
    let (resize, pad) = sizing(spec.resize, (info.width, info.height));
    let mut image = match source {
        // libvips' thumbnail picks its own factor, the `Margin` one; any other is asked of
        // the loader, and thumbnail_image resizes what it decodes, as from a kept decode.
        Source::Encoded(bytes) => match shrink_on_load(spec, info, config.shrink_on_load) {
            factor if factor > 1 && factor != shrink_on_load(spec, info, ShrinkOnLoad::Margin) => {
                vips::thumbnail_shrunk(bytes, factor, resize)
            }
            _ => vips::thumbnail(bytes, resize),
        },
        Source::Decoded(image) => image.thumbnail(resize),
    }
    .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    if let Source::Encoded(_) = source
        && steps(spec).any(Step::reads_out_of_order)
    {
        image = in_memory(config, &image, source, deadline)?;
    }
    let decode = started.elapsed();

    let transform_started = Instant::now();
    if let Some((width, height)) = pad {
        deadline.check()?;
        image = pad_to(image, width, height, format).map_err(failed)?;
    }
    for step in steps(spec) {
        deadline.check()?;
        image = apply(step, image, format, &config.watermark_font).map_err(failed)?;
    }
    let image = encodable(&image, format).map_err(failed)?;
    within_output_limit(config, &image)?;
    let (width, height) = (image.width(), image.height());
    let transform = transform_started.elapsed();

    deadline.check()?;
    let encode_started = Instant::now();
    let quality = spec.quality.get();
    let codec = match format {
        Format::Jpeg => Codec::Jpeg { quality },
        Format::Png => Codec::Png,
        Format::Webp => Codec::Webp { quality },
        Format::Avif => Codec::Avif {
            quality,
            effort: config.avif_effort,
        },
    };
    let armed = deadline.arm(&image);
    let saved = image.save(codec);
    drop(armed);
    let encoded = saved.map_err(|e| evaluation_error(config, &e, source, deadline))?;
    Ok(Rendered {
        bytes: encoded,
        format,
        width,
        height,
        timings: Timings {
            decode,
            transform,
            encode: encode_started.elapsed(),
        },
    })
}

/// What a libvips failure while pixels were computed means. libvips decodes lazily, as
/// pixels are pulled, so a corrupt source fails there: decoding again (on this error path
/// only) tells the two apart without trusting libvips' process-wide error text.
fn evaluation_error(
    config: &EngineConfig,
    e: &vips::VipsError,
    source: Source<'_>,
    deadline: &Deadline,
) -> EngineError {
    if deadline.expired() {
        EngineError::Timeout(config.render_timeout)
    } else if let Source::Encoded(bytes) = source
        && vips::decode_fully(bytes, vips::Strictness::Errors, |_| ()).is_err()
    {
        EngineError::Corrupt(e.to_string())
    } else {
        EngineError::Failed(e.to_string())
    }
}

/// Refuses an image over the output pixel limit, checked before its pixels are computed.
fn within_output_limit(config: &EngineConfig, image: &Image) -> Result<(), EngineError> {
    let (width, height) = (image.width(), image.height());
    if u64::from(width) * u64::from(height) > config.max_output_pixels {
        return Err(EngineError::OutputTooLarge {
            width,
            height,
            limit: config.max_output_pixels,
        });
    }
    Ok(())
}

/// The decoded and resized pixels in memory, for steps that read out of order
/// ([`Step::reads_out_of_order`]) from a sequential decode. Refused first when they are over
/// the output limit: every later step keeps or grows the size, so the output would be too.
fn in_memory(
    config: &EngineConfig,
    image: &Image,
    source: Source<'_>,
    deadline: &Deadline,
) -> Result<Image, EngineError> {
    within_output_limit(config, image)?;
    deadline.check()?;
    let armed = deadline.arm(image);
    let copied = image.copy_memory();
    drop(armed);
    copied.map_err(|e| evaluation_error(config, &e, source, deadline))
}

fn apply(
    step: Step<'_>,
    image: Image,
    format: Format,
    font: &str,
) -> Result<Image, vips::VipsError> {
    match step {
        Step::Rotate(degrees) if degrees % 90 == 0 => image.rot90s((degrees / 90) as u8),
        Step::Rotate(degrees) => {
            let (image, fill) = with_fill(image, format)?;
            image.rotate(f64::from(degrees), &fill)
        }
        Step::Flip => image.flip(Flip::Vertical),
        Step::Mirror => image.flip(Flip::Horizontal),
        Step::Grayscale => image.to_grey(),
        Step::Blur(sigma) => image.blur(sigma),
        Step::Watermark(text) => watermark(&image, text, font),
    }
}

/// Centres the image on a `width`×`height` canvas (`fit=contain`).
fn pad_to(image: Image, width: u32, height: u32, format: Format) -> Result<Image, vips::VipsError> {
    let (w, h) = (image.width(), image.height());
    if (w, h) == (width, height) {
        return Ok(image);
    }
    let (image, fill) = with_fill(image, format)?;
    image.embed(
        (width - w.min(width)) / 2,
        (height - h.min(height)) / 2,
        width,
        height,
        &fill,
    )
}

/// Escapes text for Pango markup, which `vips_text` interprets: without this, a watermark
/// such as `<b>` would change the rendering or fail it.
fn pango_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Draws `text` at the bottom right: white letters over a soft dark halo, so it stays legible
/// on light and dark photos. Its height is a fixed share of the image's shorter side, and
/// long text shrinks to fit within most of the width.
fn watermark(image: &Image, text: &str, font: &str) -> Result<Image, vips::VipsError> {
    let (w, h) = (image.width(), image.height());
    let short = f64::from(w.min(h));
    let line = (short * 0.06).clamp(8.0, 400.0);
    let mask = Image::text_mask(
        &pango_escape(text),
        font,
        (f64::from(w) * 0.8) as u32,
        line as u32,
    )?;
    let pad = (line * 0.25).ceil() as u32;
    let (pw, ph) = (mask.width() + 2 * pad, mask.height() + 2 * pad);
    let padded = mask.embed(pad, pad, pw, ph, &[0.0])?;
    let halo = padded
        .blur(line * 0.08 + 0.5)?
        .linear_u8(1.6, 0.0)?
        .linear_u8(0.6, 0.0)?;
    let shadow = Image::solid_rgb(pw, ph, 0.0)?.join_alpha_srgb(&halo)?;
    let letters =
        Image::solid_rgb(pw, ph, 255.0)?.join_alpha_srgb(&padded.linear_u8(0.92, 0.0)?)?;
    let margin = (line * 0.5) as i32;
    let x = (w as i32 - pw as i32 - margin + pad as i32).max(0);
    let y = (h as i32 - ph as i32 - margin + pad as i32).max(0);
    let out = image.composite_over(&[(&shadow, x, y), (&letters, x, y)])?;
    // Compositing adds alpha; an image that had none keeps none.
    if image.has_alpha() {
        Ok(out)
    } else {
        out.first_bands(out.bands() - 1)
    }
}

/// 8-bit sRGB (or grey), flattened onto white for formats without alpha.
fn encodable(image: &Image, format: Format) -> Result<Image, vips::VipsError> {
    let image = image.to_srgb8()?;
    if image.has_alpha() && !format.has_alpha() {
        let colour_bands = image.bands() as usize - 1;
        return image.flatten(&vec![255.0; colour_bands]);
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgedge_url::Dimension;

    fn boxed(w: u32, h: u32, fit: Fit) -> Resize {
        let dim = |v| Dimension::new(v).expect("valid dimension");
        Resize::Box {
            width: dim(w),
            height: dim(h),
            fit,
        }
    }

    #[test]
    fn outside_scales_by_the_larger_ratio() {
        // 4000x1000 into 800x800: the height ratio (0.8) is larger than the width's (0.2).
        let (r, pad) = sizing(boxed(800, 800, Fit::Outside), (4000, 1000));
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: UNBOUNDED,
                height: 800
            }
        );
        assert_eq!(pad, None);
        let (r, _) = sizing(boxed(800, 100, Fit::Outside), (1000, 1000));
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: 800,
                height: UNBOUNDED
            }
        );
    }

    #[test]
    fn fill_never_enlarges() {
        let (r, _) = sizing(boxed(5000, 50, Fit::Fill), (1000, 500));
        assert_eq!(
            r,
            ThumbnailSize::Force {
                width: 1000,
                height: 50
            }
        );
    }

    #[test]
    fn contain_pads_to_the_box() {
        let (r, pad) = sizing(boxed(300, 200, Fit::Contain), (1000, 1000));
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: 300,
                height: 200
            }
        );
        assert_eq!(pad, Some((300, 200)));
    }

    #[test]
    fn steps_follow_the_spec_order_whatever_the_query_order() {
        let parsed =
            TransformSpec::parse("watermarkText=hi&blur=2&grayscale=1&mirror=1&flip=1&rotate=90")
                .expect("valid query");
        let order: Vec<_> = steps(parsed.spec()).collect();
        assert_eq!(
            order,
            [
                Step::Rotate(90),
                Step::Flip,
                Step::Mirror,
                Step::Grayscale,
                Step::Blur(2.0),
                Step::Watermark("hi")
            ]
        );
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            pango_escape("<b>Tom & 'Jerry'</b>"),
            "&lt;b&gt;Tom &amp; &apos;Jerry&apos;&lt;/b&gt;"
        );
    }
}
