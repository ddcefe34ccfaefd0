//! The engine end to end, as a user of the image service sees it: real photos in, encoded
//! variants out, checked with an independent decoder (the `image` crate) rather than libvips.
//!
//! One submodule per concern:
//! - [`resize`]: width, height, the five fits, never enlarging.
//! - [`formats`]: output formats, the default format, GIF and PNG alpha, quality.
//! - [`operations`]: grayscale, mirror, flip, rotations, blur.
//! - [`watermark`]: where the watermark goes, its legibility, literal text.
//! - [`metadata`]: no metadata in outputs, EXIF orientation.
//! - [`order`]: the fixed pipeline order, whatever the query order.
//! - [`errors`]: bad inputs give a typed error with its code, never a panic.
//! - [`limits`]: render timeouts and the output pixel limit.
//! - [`kept_decode`]: shrink-on-load policies and kept intermediates that render the same
//!   bytes as the original.
//! - [`v1_1`]: the parameters of transform URLs 1.1 (crop, dpr, gravity, sharpen,
//!   background, palette, `format=auto`'s basic rendering).
//! - [`heic`]: HEIC through libheif: pixels against an independent decoder, `irot`, ICC,
//!   limits, kept decodes, beside AVIF in one process, the upload's metadata bound.
//!
//! The fixtures and helpers several of them share live here.

mod errors;
mod formats;
mod heic;
mod kept_decode;
mod limits;
mod metadata;
mod operations;
mod order;
mod resize;
mod v1_1;
mod watermark;

use image::{Rgba, RgbaImage};

use crate::support::{decode, photo, render};

/// light.jpg, dark.jpg: 1024×576. detail.jpg: 1024×682. oriented-6-gps.jpg: 800×600 upright.
const LIGHT: &str = "light.jpg";
const DARK: &str = "dark.jpg";
const DETAIL: &str = "detail.jpg";
const ORIENTED: &str = "oriented-6-gps.jpg";

/// The decoded size of rendering light.jpg with `query`.
fn size(query: &str) -> (u32, u32) {
    let out = render(&photo(LIGHT), query);
    let decoded = decode(&out);
    (decoded.width(), decoded.height())
}

fn is_white(p: Rgba<u8>) -> bool {
    p[0] >= 245 && p[1] >= 245 && p[2] >= 245 && p[3] == 255
}

fn is_transparent(p: Rgba<u8>) -> bool {
    p[3] == 0
}

/// Asserts `out(map(x, y)) == plain(x, y)` for every pixel of `plain` (lossless outputs).
fn assert_moves(
    plain: &RgbaImage,
    out: &RgbaImage,
    what: &str,
    map: impl Fn(u32, u32) -> (u32, u32),
) {
    for (x, y, p) in plain.enumerate_pixels() {
        let (tx, ty) = map(x, y);
        assert_eq!(
            out.get_pixel(tx, ty),
            p,
            "{what}: pixel ({x}, {y}) should land on ({tx}, {ty})"
        );
    }
}

/// The decoded size of rendering `bytes` with `query`.
fn size_of(bytes: &[u8], query: &str) -> (u32, u32) {
    let out = render(bytes, query);
    let img = decode(&out);
    (img.width(), img.height())
}

/// The rectangle (x0, y0, x1, y1) holding every pixel that differs between two renders.
fn diff_bounds(a: &RgbaImage, b: &RgbaImage) -> Option<(u32, u32, u32, u32)> {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in a.enumerate_pixels() {
        if p != b.get_pixel(x, y) {
            bounds = Some(match bounds {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    bounds
}

/// An SVG document: a format the engine refuses.
const SVG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">
  <rect width="100" height="100" fill="red"/>
</svg>
"#;
