//! The render pipeline: a [`TransformSpec`] becomes a fixed list of small steps, run in the
//! spec's order with the deadline checked before each one.

use std::time::Instant;

use super::deadline::Deadline;
use super::estimate::RenderEstimate;
use super::sizing::{Window, output_format, shrink_on_load, sizing};
use super::vips::{self, Codec, Flip, Image, MemoryImage, Region};
use super::{EngineConfig, EngineError, Rendered, ShrinkOnLoad, SourceInfo, Timings};
use imgedge_url::{Colour, CropArea, Format, TransformSpec, WatermarkText, window_start};

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
    Sharpen(f64),
    Watermark(&'a str),
}

impl Step<'_> {
    /// Whether the step reads its input out of order (a rotation reads columns, a vertical
    /// flip the last line first, a blur or a sharpen a window of lines around each line it
    /// writes), which a sequential decode cannot serve. A blur's window outgrows the
    /// decode's line cache as its sigma grows (seen: `blur=100` of a 6 MP JPEG failed now
    /// and then with "out of order read" on two libvips threads), so every blur reads from
    /// memory, and so does every sharpen, a convolution too.
    fn reads_out_of_order(self) -> bool {
        matches!(
            self,
            Step::Rotate(_) | Step::Flip | Step::Blur(_) | Step::Sharpen(_)
        )
    }
}

fn steps(spec: &TransformSpec) -> impl Iterator<Item = Step<'_>> {
    [
        (!spec.rotate.is_none()).then_some(Step::Rotate(spec.rotate.degrees())),
        spec.flip.then_some(Step::Flip),
        spec.mirror.then_some(Step::Mirror),
        spec.grayscale.then_some(Step::Grayscale),
        spec.blur.map(|blur| Step::Blur(blur.sigma())),
        spec.sharpen.map(|sharpen| Step::Sharpen(sharpen.sigma())),
        spec.watermark
            .as_ref()
            .map(WatermarkText::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(Step::Watermark),
    ]
    .into_iter()
    .flatten()
}

/// What fills new canvas (rotation corners, `contain`'s bars) and flattened alpha:
/// `background` when the URL gives one, else transparent where the output keeps alpha
/// and white where it has none.
#[derive(Debug, Clone, Copy)]
struct Fill {
    background: Option<Colour>,
    format: Format,
}

impl Fill {
    /// `image` ready to be extended with new canvas, and the canvas's value per band: with
    /// an alpha band when the output keeps alpha (the background's alpha, or transparent),
    /// in colour when the background is a colour.
    fn extend(self, image: Image) -> Result<(Image, Vec<f64>), vips::VipsError> {
        let image = self.in_colour(image)?;
        let mut fill = self.colour_bands(&image);
        if self.format.has_alpha() {
            let image = if image.has_alpha() {
                image
            } else {
                image.with_alpha()?
            };
            fill.push(self.background.map_or(0.0, |c| f64::from(c.alpha)));
            Ok((image, fill))
        } else {
            // Corners of an image with alpha that the output drops are flattened later.
            if image.has_alpha() {
                fill.push(255.0);
            }
            Ok((image, fill))
        }
    }

    /// The colour bands' fill, for an image as [`Fill::in_colour`] gives it.
    fn colour_bands(self, image: &Image) -> Vec<f64> {
        let colour_bands = (image.bands() - u32::from(image.has_alpha())) as usize;
        match self.background {
            None => vec![if self.format.has_alpha() { 0.0 } else { 255.0 }; colour_bands],
            Some(c) if colour_bands == 1 => vec![f64::from(c.red)],
            Some(c) => [c.red, c.green, c.blue]
                .into_iter()
                .map(f64::from)
                .chain(std::iter::repeat(255.0))
                .take(colour_bands)
                .collect(),
        }
    }

    /// With a background, the image in 8-bit sRGB (grey only when the background is grey
    /// too), so that the fill's 8-bit colour means what it says whatever the image's depth
    /// or colour space.
    fn in_colour(self, image: Image) -> Result<Image, vips::VipsError> {
        match self.background {
            None => Ok(image),
            Some(c) if c.red == c.green && c.green == c.blue => image.to_srgb8(),
            Some(_) => image.to_colour_srgb8(),
        }
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
    let format = output_format(spec, info);
    let fill = Fill {
        background: spec.background,
        format,
    };
    // Refused before any pixel is decoded: a region outside the image, and the bounds,
    // which depend on the source's size only.
    let region = match spec.crop {
        None => None,
        Some(crop) => Some(
            crop.within((info.width, info.height))
                .ok_or(EngineError::CropOutside)?,
        ),
    };
    RenderEstimate::new(spec, info, config.shrink_on_load).map_err(EngineError::BeyondBounds)?;
    let source_size = region.map_or((info.width, info.height), |a| (a.width, a.height));
    let plan = sizing(spec.scaled_resize(), source_size);
    let mut image = match (source, region) {
        // libvips' thumbnail picks its own factor, the `Margin` one; any other is asked of
        // the loader, and thumbnail_image resizes what it decodes, as from a kept decode.
        (Source::Encoded(bytes), None) => match shrink_on_load(spec, info, config.shrink_on_load) {
            factor if factor > 1 && factor != shrink_on_load(spec, info, ShrinkOnLoad::Margin) => {
                vips::thumbnail_shrunk(bytes, factor, plan.resize)
            }
            _ => vips::thumbnail(bytes, plan.resize),
        },
        (Source::Decoded(image), None) => image.thumbnail(plan.resize),
        // A region is cut from the upright decode, which only a decode into memory can
        // turn: the same decode a kept intermediate holds, so both give the same bytes.
        (Source::Encoded(bytes), Some(area)) => {
            let shrink = shrink_on_load(spec, info, config.shrink_on_load);
            let decoded =
                vips::decode_to_memory(bytes, shrink, u64::MAX, |image| deadline.arm(image))
                    .map_err(|e| evaluation_error(config, &e, source, deadline))?
                    .ok_or_else(|| EngineError::Failed("the decode was not kept".into()))?;
            deadline.check()?;
            decoded.region_thumbnail(region_of(area), (info.width, info.height), plan.resize)
        }
        (Source::Decoded(image), Some(area)) => {
            image.region_thumbnail(region_of(area), (info.width, info.height), plan.resize)
        }
    }
    .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    if let (Source::Encoded(_), None) = (source, region)
        && steps(spec).any(Step::reads_out_of_order)
    {
        image = in_memory(config, &image, source, deadline)?;
    }
    let decode = started.elapsed();

    let transform_started = Instant::now();
    if let Some(window) = plan.window {
        deadline.check()?;
        image = cut_window(&image, window).map_err(failed)?;
    }
    if let Some((width, height)) = plan.pad {
        deadline.check()?;
        image = pad_to(image, width, height, fill).map_err(failed)?;
    }
    for step in steps(spec) {
        deadline.check()?;
        image = apply(step, image, fill, &config.watermark_font).map_err(failed)?;
    }
    let image = encodable(&image, fill).map_err(failed)?;
    within_output_limit(config, &image)?;
    let (width, height) = (image.width(), image.height());
    let transform = transform_started.elapsed();

    deadline.check()?;
    let encode_started = Instant::now();
    let quality = spec.quality.get();
    let codec = match format {
        Format::Jpeg => Codec::Jpeg { quality },
        Format::Png => Codec::Png {
            palette: spec.palette.then_some(quality),
        },
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

fn region_of(area: CropArea) -> Region {
    Region {
        left: area.left,
        top: area.top,
        width: area.width,
        height: area.height,
    }
}

/// Cuts a compass or focal-point `cover`'s window from the covering image (spec 1.1's
/// formula, [`window_start`]).
fn cut_window(image: &Image, window: Window) -> Result<Image, vips::VipsError> {
    let (w, h) = (image.width(), image.height());
    let (ww, wh) = (window.width.min(w), window.height.min(h));
    if (ww, wh) == (w, h) {
        return Ok(image.clone());
    }
    let left = window_start(window.anchor.0, w, ww);
    let top = window_start(window.anchor.1, h, wh);
    image.extract_area(left, top, ww, wh)
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

fn apply(step: Step<'_>, image: Image, fill: Fill, font: &str) -> Result<Image, vips::VipsError> {
    match step {
        Step::Rotate(degrees) if degrees % 90 == 0 => image.rot90s((degrees / 90) as u8),
        Step::Rotate(degrees) => {
            let (image, corners) = fill.extend(image)?;
            image.rotate(f64::from(degrees), &corners)
        }
        Step::Flip => image.flip(Flip::Vertical),
        Step::Mirror => image.flip(Flip::Horizontal),
        Step::Grayscale => image.to_grey(),
        Step::Blur(sigma) => image.blur(sigma),
        Step::Sharpen(sigma) => image.sharpen(sigma),
        Step::Watermark(text) => watermark(&image, text, font),
    }
}

/// Centres the image on a `width`×`height` canvas (`fit=contain`).
fn pad_to(image: Image, width: u32, height: u32, fill: Fill) -> Result<Image, vips::VipsError> {
    let (w, h) = (image.width(), image.height());
    if (w, h) == (width, height) {
        return Ok(image);
    }
    let (image, bars) = fill.extend(image)?;
    image.embed(
        (width - w.min(width)) / 2,
        (height - h.min(height)) / 2,
        width,
        height,
        &bars,
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

/// 8-bit sRGB (or grey), flattened onto the background (white unless the URL gives one)
/// for formats without alpha.
fn encodable(image: &Image, fill: Fill) -> Result<Image, vips::VipsError> {
    let image = image.to_srgb8()?;
    if image.has_alpha() && !fill.format.has_alpha() {
        let image = fill.in_colour(image)?;
        let background = match fill.background {
            None => vec![255.0; image.bands() as usize - 1],
            Some(_) => fill.colour_bands(&image),
        };
        return image.flatten(&background);
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_spec_order_whatever_the_query_order() {
        let parsed = TransformSpec::parse(
            "watermarkText=hi&sharpen=1&blur=2&grayscale=1&mirror=1&flip=1&rotate=90",
        )
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
                Step::Sharpen(1.0),
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
