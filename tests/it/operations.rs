//! Every operation of the spec on every input format, at three sizes: no resize, a small
//! shrink (under 2×, where a JPEG decodes whole) and a large one (where it shrinks on load).
//! Each must render and give the size the spec says, through the engine here and once
//! through the edge (`delivery.rs`). A rotation or a flip of an unshrunk JPEG or PNG once
//! answered 500: its pixels came from a sequential decode that cannot be read out of order.

use imgedge::error::PublicError as _;
use imgedge_engine::Rendered;
use imgedge_url::Format;

use crate::support::{decode, engine, gif, photo, spec};

/// An original and its upright size.
pub(crate) struct Input {
    pub(crate) name: &'static str,
    pub(crate) bytes: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// detail.jpg (1024×682) re-encoded by the engine as `format`, at `width`.
fn detail_as(format: &str, width: u32) -> Vec<u8> {
    let query = format!("width={width}&format={format}");
    engine()
        .render(&photo("detail.jpg"), &spec(&query))
        .unwrap_or_else(|e| panic!("encoding the fixture {query}: {e}"))
        .bytes
}

/// One input of each accepted format. HEIC is read from `testdata/photos/` (libvips cannot
/// encode it here unless its HEIF library has an HEVC encoder).
pub(crate) fn input(format: &str) -> Input {
    let (name, bytes, width, height) = match format {
        "jpeg" => ("detail.jpg", photo("detail.jpg"), 1024, 682),
        // Stored 600×800 with EXIF orientation 6: upright it is 800×600.
        "jpeg-oriented" => ("oriented-6-gps.jpg", photo("oriented-6-gps.jpg"), 800, 600),
        "png" => ("detail.png", detail_as("png", 1024), 1024, 682),
        "webp" => ("detail.webp", detail_as("webp", 1024), 1024, 682),
        "avif" => ("detail.avif", detail_as("avif", 480), 480, 320),
        "gif" => ("ramp.gif", gif(300, 200, true), 300, 200),
        "heic" => ("detail.heic", photo("detail.heic"), 640, 426),
        other => panic!("no input {other}"),
    };
    Input {
        name,
        bytes,
        width,
        height,
    }
}

/// Every operation of the spec, as the query that names it without a size. The fits need
/// both dimensions, which [`Size::query`] adds.
pub(crate) const OPERATIONS: [&str; 28] = [
    "",
    "rotate=90",
    "rotate=180",
    "rotate=270",
    "rotate=45",
    "flip=1",
    "mirror=1",
    "flip=1&mirror=1&rotate=90",
    "grayscale=1",
    "blur=2",
    "quality=40",
    "format=jpeg",
    "format=png",
    "format=webp",
    "format=avif",
    "watermarkText=imgedge",
    "fit=cover",
    "fit=contain",
    "fit=fill",
    "fit=inside",
    "fit=outside",
    // Transform URLs 1.1.
    "crop=10,20,160,100",
    "dpr=2",
    "fit=cover&gravity=attention",
    "fit=cover&gravity=0.2,0.8",
    "sharpen=1",
    "background=ff000080",
    "palette=1&format=png",
];

/// How much a render shrinks its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    /// No width or height (for a fit, the original's own size as the box).
    Unchanged,
    /// 4/5 of the original (1.25×: a JPEG decodes whole).
    SmallShrink,
    /// 1/5 of the original (5×: a JPEG shrinks on load).
    LargeShrink,
}

pub(crate) const SIZES: [Size; 3] = [Size::Unchanged, Size::SmallShrink, Size::LargeShrink];

impl Size {
    /// The box for a fit (its sides shrunk unevenly, so cover crops and contain pads).
    fn dimensions(self, input: &Input) -> (u32, u32) {
        let (w, h) = (input.width, input.height);
        match self {
            Size::Unchanged => (w, h),
            Size::SmallShrink => (w * 4 / 5, h * 3 / 4),
            Size::LargeShrink => (w / 5, h / 6),
        }
    }

    /// `operation` at this size, as a query (any order: the engine canonicalises).
    pub(crate) fn query(self, operation: &str, input: &Input) -> String {
        let (width, height) = self.dimensions(input);
        let size = if operation.starts_with("fit=") {
            format!("width={width}&height={height}")
        } else if self == Size::Unchanged {
            String::new()
        } else {
            format!("width={width}")
        };
        [operation, size.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Checks a render of `operation` at `size`: its format's bytes, decodable (independently of
/// libvips for every format but AVIF), at the size the spec says.
pub(crate) fn check(input: &Input, operation: &str, size: Size, out: &Rendered) {
    let (bw, bh) = size.dimensions(input);
    let (w, h) = (out.width, out.height);
    let what = format!(
        "{} with {:?}: {w}x{h}",
        input.name,
        size.query(operation, input)
    );
    if out.format == Format::Avif {
        assert!(out.bytes.len() > 100, "{what}: an AVIF file");
    } else {
        decode(out);
    }
    let close = |a: u32, b: u32| a.abs_diff(b) <= 1;
    // The size after the resize, before what the operation does to it.
    let scaled_to = |width: u32| {
        let scaled = f64::from(input.height) * f64::from(width) / f64::from(input.width);
        (width, scaled.round() as u32)
    };
    let (rw, rh) = match operation {
        "fit=cover"
        | "fit=contain"
        | "fit=fill"
        | "fit=cover&gravity=attention"
        | "fit=cover&gravity=0.2,0.8" => (bw, bh),
        // A 160×100 region, then the width (never enlarged).
        "crop=10,20,160,100" if size == Size::Unchanged => (160, 100),
        "crop=10,20,160,100" => {
            let width = bw.min(160);
            (width, (100.0 * f64::from(width) / 160.0).round() as u32)
        }
        // Twice the width, never past the source's.
        "dpr=2" if size != Size::Unchanged => scaled_to((bw * 2).min(input.width)),
        "fit=inside" => {
            assert!(
                w <= bw && h <= bh && (w == bw || h == bh),
                "{what}: not inside"
            );
            return;
        }
        "fit=outside" => {
            assert!(
                w >= bw && h >= bh && (w == bw || h == bh),
                "{what}: not outside"
            );
            return;
        }
        _ if size == Size::Unchanged => (input.width, input.height),
        _ => scaled_to(bw),
    };
    match operation {
        "rotate=90" | "rotate=270" | "flip=1&mirror=1&rotate=90" => {
            assert!(close(w, rh) && close(h, rw), "{what}, not {rh}x{rw}");
        }
        "rotate=45" => assert!(w > rw && h > rh, "{what} does not hold {rw}x{rh} turned"),
        _ => assert!(close(w, rw) && close(h, rh), "{what}, not {rw}x{rh}"),
    }
}

/// Renders every operation at every size on `format`'s input.
fn renders_everything(format: &str) {
    let input = input(format);
    let engine = engine();
    let mut failures = Vec::new();
    for operation in OPERATIONS {
        for size in SIZES {
            let query = size.query(operation, &input);
            match engine.render(&input.bytes, &spec(&query)) {
                Ok(out) => check(&input, operation, size, &out),
                Err(e) => failures.push(format!("{query}: {} ({e})", e.code())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}x{} failed to render:\n{}",
        input.name,
        input.width,
        input.height,
        failures.join("\n")
    );
}

#[test]
fn every_operation_renders_a_jpeg() {
    renders_everything("jpeg");
}

#[test]
fn every_operation_renders_a_jpeg_with_exif_orientation() {
    renders_everything("jpeg-oriented");
}

#[test]
fn every_operation_renders_a_png() {
    renders_everything("png");
}

#[test]
fn every_operation_renders_a_webp() {
    renders_everything("webp");
}

#[test]
fn every_operation_renders_an_avif() {
    renders_everything("avif");
}

#[test]
fn every_operation_renders_a_gif() {
    renders_everything("gif");
}

#[test]
fn every_operation_renders_a_heic() {
    renders_everything("heic");
}
