//! What an image looks like before it loads: a `ThumbHash` and a dominant colour, computed
//! once at upload from a small render of the upright image.

use imgedge_url::TransformSpec;

use super::{Engine, EngineError};

/// The largest side `ThumbHash` takes.
const SIDE: &str = "100";

/// An image's placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The `ThumbHash` of the image (5 to 25 bytes).
    pub thumbhash: Vec<u8>,
    /// The colour most of the image is (ignoring transparent pixels), as 8-bit sRGB.
    pub dominant_color: [u8; 3],
    /// The small render's size.
    pub width: u32,
    pub height: u32,
}

impl Placeholder {
    /// `#rrggbb`, lowercase.
    pub fn dominant_hex(&self) -> String {
        let [r, g, b] = self.dominant_color;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// An 8-bit RGBA image, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Engine {
    /// The placeholder of the original `bytes`: a render within 100 × 100 (the upright
    /// image, as every variant sees it), under the render deadline like any render.
    pub fn placeholder(&self, bytes: &[u8]) -> Result<Placeholder, EngineError> {
        let small = self.small_rgba(bytes)?;
        Ok(Placeholder {
            thumbhash: thumbhash::rgba_to_thumb_hash(
                small.width as usize,
                small.height as usize,
                &small.pixels,
            ),
            dominant_color: dominant_colour(&small.pixels),
            width: small.width,
            height: small.height,
        })
    }

    /// The upright image within 100 × 100 as 8-bit RGBA (a PNG render, decoded).
    pub fn small_rgba(&self, bytes: &[u8]) -> Result<Rgba, EngineError> {
        let query = format!("width={SIDE}&height={SIDE}&fit=inside&format=png");
        let spec = TransformSpec::parse(&query)
            .map_err(|e| EngineError::Failed(format!("placeholder spec: {e}")))?
            .into_spec();
        let rendered = self.render(bytes, &spec)?;
        decode_png(&rendered.bytes)
    }
}

fn decode_png(png_bytes: &[u8]) -> Result<Rgba, EngineError> {
    let failed = |e: png::DecodingError| EngineError::Failed(format!("placeholder PNG: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(failed)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| EngineError::Failed("placeholder PNG too large".into()))?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(failed)?;
    buffer.truncate(frame.buffer_size());
    let pixels: Vec<u8> = match frame.color_type {
        png::ColorType::Rgba => buffer,
        png::ColorType::Rgb => buffer
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buffer
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => buffer.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        png::ColorType::Indexed => {
            return Err(EngineError::Failed("placeholder PNG left indexed".into()));
        }
    };
    Ok(Rgba {
        width: frame.width,
        height: frame.height,
        pixels,
    })
}

/// The most common colour: pixels (transparent ones aside) counted in bins of 16 levels
/// per channel, and the mean of the fullest bin, so the answer is a colour the image has
/// rather than a blend of its colours. A wholly transparent image gives its mean.
pub fn dominant_colour(rgba: &[u8]) -> [u8; 3] {
    let bin = |p: &[u8]| {
        (usize::from(p[0] >> 4) << 8) | (usize::from(p[1] >> 4) << 4) | usize::from(p[2] >> 4)
    };
    let opaque = || rgba.chunks_exact(4).filter(|p| p[3] >= 128);
    let mut counts = vec![0u32; 4096];
    for p in opaque() {
        counts[bin(p)] += 1;
    }
    let fullest = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))
        .map(|(i, _)| i);
    let chosen: Vec<&[u8]> = match fullest {
        Some(b) if counts[b] > 0 => opaque().filter(|p| bin(p) == b).collect(),
        _ => rgba.chunks_exact(4).collect(),
    };
    mean(&chosen)
}

fn mean(pixels: &[&[u8]]) -> [u8; 3] {
    let n = pixels.len().max(1) as u64;
    let mut sum = [0u64; 3];
    for p in pixels {
        for (s, &v) in sum.iter_mut().zip(p.iter()) {
            *s += u64::from(v);
        }
    }
    sum.map(|s| u8::try_from((s + n / 2) / n).unwrap_or(u8::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fullest_bin_wins_over_the_mean() {
        // Three red pixels and one blue: the mean is purple, the dominant colour red.
        let mut rgba = Vec::new();
        for _ in 0..3 {
            rgba.extend_from_slice(&[250, 10, 10, 255]);
        }
        rgba.extend_from_slice(&[0, 0, 250, 255]);
        assert_eq!(dominant_colour(&rgba), [250, 10, 10]);
    }

    #[test]
    fn transparent_pixels_do_not_count() {
        let mut rgba = Vec::new();
        for _ in 0..5 {
            rgba.extend_from_slice(&[0, 0, 0, 0]);
        }
        rgba.extend_from_slice(&[20, 200, 20, 255]);
        assert_eq!(dominant_colour(&rgba), [20, 200, 20]);
        assert_eq!(dominant_colour(&[9, 9, 9, 0]), [9, 9, 9]);
    }
}
