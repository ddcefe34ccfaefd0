//! The engine end to end, as a user of the image service sees it: real photos in, encoded
//! variants out, checked with an independent decoder (the `image` crate) rather than libvips.

use std::time::{Duration, Instant};

use image::{Rgba, RgbaImage};
use imgedge::engine::{Engine, EngineConfig, ShrinkOnLoad, SourceFormat};
use imgedge::url::Format;

use crate::support::{
    assert_no_metadata, decode, dump, edge_energy, engine, find, gif, mean_abs_diff, mean_luma,
    photo, png_header_only, render, render_err, rgba, sniff, spec,
};

/// light.jpg, dark.jpg: 1024×576. detail.jpg: 1024×682. oriented-6-gps.jpg: 800×600 upright.
const LIGHT: &str = "light.jpg";
const DARK: &str = "dark.jpg";
const DETAIL: &str = "detail.jpg";
const ORIENTED: &str = "oriented-6-gps.jpg";

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

// ---------------------------------------------------------------------------------------
// Resize: width, height, the five fits, never enlarging.

#[test]
fn width_only_keeps_the_aspect_ratio() {
    assert_eq!(size("width=400"), (400, 225));
    assert_eq!(size("width=512"), (512, 288));
}

#[test]
fn height_only_keeps_the_aspect_ratio() {
    assert_eq!(size("height=288"), (512, 288));
    let (w, h) = size("height=300");
    assert_eq!(h, 300);
    assert!(
        (533..=534).contains(&w),
        "1024x576 at height 300 is 533.3 wide, got {w}"
    );
}

#[test]
fn fit_cover_crops_to_exactly_the_box() {
    for (w, h) in [(300, 300), (400, 100), (100, 400)] {
        let out = render(
            &photo(LIGHT),
            &format!("width={w}&height={h}&fit=cover&format=png"),
        );
        let img = rgba(&out);
        assert_eq!(img.dimensions(), (w, h), "cover {w}x{h}");
        assert!(
            img.pixels().all(|p| p[3] == 255),
            "cover {w}x{h} is cropped, never padded"
        );
    }
    // cover is the default fit.
    assert_eq!(size("width=300&height=300"), (300, 300));
}

#[test]
fn fit_contain_pads_to_exactly_the_box() {
    // 1024x576 in 300x300: the photo is 300x169, centred with bands above and below.
    for format in ["png", "webp"] {
        let out = render(
            &photo(LIGHT),
            &format!("width=300&height=300&fit=contain&format={format}"),
        );
        let img = rgba(&out);
        assert_eq!(img.dimensions(), (300, 300), "contain {format}");
        let opaque_rows = (0..300)
            .filter(|&y| img.get_pixel(150, y)[3] == 255)
            .count();
        assert!(
            (168..=170).contains(&opaque_rows),
            "contain {format}: the photo keeps its aspect (≈169 rows), got {opaque_rows}"
        );
        for (x, y) in [(0, 0), (150, 10), (299, 60), (0, 299), (150, 290)] {
            assert!(
                is_transparent(*img.get_pixel(x, y)),
                "contain {format}: padding at ({x}, {y}) is transparent"
            );
        }
        assert_eq!(
            img.get_pixel(150, 150)[3],
            255,
            "contain {format}: the photo is opaque"
        );
    }
    let out = render(&photo(LIGHT), "width=300&height=300&fit=contain");
    assert_eq!(out.format, Format::Jpeg);
    let img = rgba(&out);
    assert_eq!(img.dimensions(), (300, 300));
    for (x, y) in [(0, 0), (150, 10), (299, 60), (0, 299), (150, 290)] {
        assert!(
            is_white(*img.get_pixel(x, y)),
            "contain jpeg: padding at ({x}, {y}) is white, got {:?}",
            img.get_pixel(x, y)
        );
    }
    // The photo's centre is not padding (the sky there is blue, not white).
    assert!(!is_white(*img.get_pixel(150, 150)));
}

#[test]
fn fit_fill_stretches_to_exactly_the_box() {
    let source = image::load_from_memory(&photo(LIGHT))
        .expect("light.jpg decodes")
        .to_rgba8();
    for (w, h) in [(300, 300), (512, 576), (1024, 100)] {
        let out = render(
            &photo(LIGHT),
            &format!("width={w}&height={h}&fit=fill&format=png"),
        );
        let img = rgba(&out);
        assert_eq!(img.dimensions(), (w, h), "fill {w}x{h}");
        // The whole photo, squeezed: it matches an independent stretch of the source.
        let expected =
            image::imageops::resize(&source, w, h, image::imageops::FilterType::Triangle);
        let diff = mean_abs_diff(&img, &expected);
        assert!(
            diff < 6.0,
            "fill {w}x{h} is the stretched photo (mean diff {diff:.2})"
        );
    }
}

#[test]
fn fit_inside_fits_within_keeping_the_aspect_ratio() {
    assert_eq!(size("width=300&height=300&fit=inside"), (300, 169));
    let (w, h) = size("width=400&height=100&fit=inside");
    assert_eq!(h, 100);
    assert!((177..=178).contains(&w), "177.8 wide expected, got {w}");
}

#[test]
fn fit_outside_covers_keeping_the_aspect_ratio() {
    let (w, h) = size("width=300&height=300&fit=outside");
    assert_eq!(h, 300);
    assert!((533..=534).contains(&w), "533.3 wide expected, got {w}");
    assert_eq!(size("width=400&height=100&fit=outside"), (400, 225));
}

#[test]
fn resizing_never_enlarges_beyond_the_source() {
    assert_eq!(size("width=4000"), (1024, 576));
    assert_eq!(size("height=2000"), (1024, 576));
    assert_eq!(size("width=3000&height=3000&fit=inside"), (1024, 576));
    assert_eq!(size("width=2000&height=300&fit=outside"), (1024, 576));
    assert_eq!(size("width=2000&height=300&fit=fill"), (1024, 300));
    // cover: the crop never exceeds the source nor the box.
    assert_eq!(size("width=2000&height=300"), (1024, 300));
    assert_eq!(size("width=2000&height=2000"), (1024, 576));
    // contain: the canvas is the box, but the photo in it keeps its own size.
    let img = rgba(&render(
        &photo(LIGHT),
        "width=2000&height=1000&fit=contain&format=png",
    ));
    assert_eq!(img.dimensions(), (2000, 1000));
    let opaque_cols = (0..2000)
        .filter(|&x| img.get_pixel(x, 500)[3] == 255)
        .count();
    let opaque_rows = (0..1000)
        .filter(|&y| img.get_pixel(1000, y)[3] == 255)
        .count();
    assert_eq!((opaque_cols, opaque_rows), (1024, 576));
}

// ---------------------------------------------------------------------------------------
// Formats and quality.

#[test]
fn every_format_value_gives_that_format() {
    let engine = engine();
    let bytes = photo(LIGHT);
    for (value, format) in [
        ("jpeg", Format::Jpeg),
        ("jpg", Format::Jpeg),
        ("png", Format::Png),
        ("webp", Format::Webp),
        ("avif", Format::Avif),
    ] {
        let out = render(&bytes, &format!("width=320&format={value}"));
        assert_eq!(out.format, format, "format={value}");
        assert_eq!(
            sniff(&out.bytes),
            Some(format),
            "format={value}: magic bytes"
        );
        assert_eq!((out.width, out.height), (320, 180), "format={value}");
        if format == Format::Avif {
            assert_eq!(&out.bytes[4..8], b"ftyp");
        } else {
            decode(&out);
        }
        // libvips reads every output back with the right format and size.
        let info = engine.inspect(&out.bytes).expect("the output reads back");
        assert_eq!((info.width, info.height), (320, 180), "format={value}");
        let expected = match format {
            Format::Jpeg => SourceFormat::Jpeg,
            Format::Png => SourceFormat::Png,
            Format::Webp => SourceFormat::Webp,
            Format::Avif => SourceFormat::Avif,
        };
        assert_eq!(info.format, expected, "format={value}");
        engine.verify(&out.bytes).expect("the output decodes fully");
    }
}

#[test]
fn default_format_keeps_the_source_format() {
    let engine = engine();
    let jpeg = photo(LIGHT);
    assert_eq!(render(&jpeg, "width=200").format, Format::Jpeg);
    for format in [Format::Png, Format::Webp, Format::Avif] {
        let source = render(&jpeg, &format!("width=300&format={}", format.as_str())).bytes;
        let out = render(&source, "width=200");
        assert_eq!(out.format, format, "a {format:?} original stays {format:?}");
        assert_eq!(sniff(&out.bytes), Some(format));
        let info = engine.inspect(&out.bytes).expect("reads back");
        assert_eq!((info.width, info.height), (200, 113));
    }
}

#[test]
fn gif_originals_become_jpeg_or_png_with_alpha() {
    let engine = engine();
    let opaque = gif(64, 48, false);
    let info = engine.verify(&opaque).expect("a valid GIF");
    assert_eq!(info.format, SourceFormat::Gif);
    assert_eq!((info.width, info.height), (64, 48));
    let out = render(&opaque, "");
    assert_eq!(
        out.format,
        Format::Jpeg,
        "a GIF without transparency becomes JPEG"
    );
    let img = rgba(&out);
    assert_eq!(img.dimensions(), (64, 48));
    // The grey ramp survives: (x + y) grey levels, within JPEG tolerance.
    for (x, y) in [(0, 0), (40, 5), (63, 47)] {
        let p = img.get_pixel(x, y);
        let want = i32::from((x + y) as u8);
        assert!(
            (i32::from(p[0]) - want).abs() <= 12,
            "GIF pixel ({x}, {y}) should be grey {want}, got {p:?}"
        );
    }

    let transparent = gif(64, 48, true);
    let info = engine.inspect(&transparent).expect("a valid GIF");
    assert!(info.has_alpha, "a GIF with a transparent index has alpha");
    let out = render(&transparent, "");
    assert_eq!(
        out.format,
        Format::Png,
        "a GIF with transparency becomes PNG"
    );
    let img = rgba(&out);
    assert_eq!(img.get_pixel(0, 0)[3], 0, "index 0 is transparent");
    assert_eq!(img.get_pixel(10, 10)[3], 255);
}

#[test]
fn png_with_alpha_stays_png_with_alpha() {
    let engine = engine();
    let with_alpha = render(&photo(LIGHT), "width=300&rotate=30&format=png");
    let info = engine.inspect(&with_alpha.bytes).expect("reads back");
    assert_eq!(info.format, SourceFormat::Png);
    assert!(info.has_alpha, "rotate=30 in PNG has transparent corners");

    let out = render(&with_alpha.bytes, "");
    assert_eq!(out.format, Format::Png);
    let img = rgba(&out);
    assert_eq!(img.dimensions(), (with_alpha.width, with_alpha.height));
    assert!(
        is_transparent(*img.get_pixel(0, 0)),
        "corners stay transparent"
    );
    let (w, h) = img.dimensions();
    assert_eq!(img.get_pixel(w / 2, h / 2)[3], 255);

    // Resized, blurred and watermarked, it keeps its transparency.
    let out = render(&with_alpha.bytes, "width=200&blur=2&watermarkText=hi");
    assert_eq!(out.format, Format::Png);
    let img = rgba(&out);
    assert!(is_transparent(*img.get_pixel(0, 0)));
    // Asking for JPEG flattens it onto white.
    let out = render(&with_alpha.bytes, "format=jpeg");
    assert!(is_white(*rgba(&out).get_pixel(0, 0)));
}

#[test]
fn lower_quality_gives_smaller_files() {
    for format in ["jpeg", "webp", "avif"] {
        let low = render(
            &photo(DETAIL),
            &format!("width=600&format={format}&quality=30"),
        );
        let high = render(
            &photo(DETAIL),
            &format!("width=600&format={format}&quality=90"),
        );
        assert!(
            low.bytes.len() < high.bytes.len(),
            "{format}: quality=30 gave {} bytes, quality=90 {} bytes",
            low.bytes.len(),
            high.bytes.len()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Operations.

#[test]
fn grayscale_gives_equal_channels() {
    for format in ["jpeg", "png", "webp"] {
        let out = render(
            &photo(LIGHT),
            &format!("width=400&grayscale=1&format={format}"),
        );
        let img = decode(&out).to_rgb8();
        // WebP is always Y'CbCr: even with neutral chroma, the decoder's integer conversion
        // (libwebp's and the image crate's alike) rounds green one step off now and then.
        let tolerance = u8::from(format == "webp");
        let coloured = img
            .pixels()
            .filter(|p| {
                p[0].abs_diff(p[1])
                    .max(p[1].abs_diff(p[2]))
                    .max(p[0].abs_diff(p[2]))
                    > tolerance
            })
            .count();
        assert_eq!(coloured, 0, "{format}: every pixel is grey");
    }
    let plain = decode(&render(&photo(LIGHT), "width=400")).to_rgb8();
    assert!(
        plain.pixels().any(|p| p[0] != p[2]),
        "the photo has colour to begin with"
    );
    let avif = render(&photo(LIGHT), "width=400&grayscale=1&format=avif");
    let info = engine().inspect(&avif.bytes).expect("AVIF reads back");
    assert_eq!((info.width, info.height), (400, 225));
}

#[test]
fn mirror_swaps_left_and_right() {
    let plain = rgba(&render(&photo(LIGHT), "width=300&format=png"));
    let out = rgba(&render(&photo(LIGHT), "width=300&mirror=1&format=png"));
    let (w, _) = plain.dimensions();
    assert_eq!(out.dimensions(), plain.dimensions());
    assert_moves(&plain, &out, "mirror", |x, y| (w - 1 - x, y));
}

#[test]
fn flip_swaps_top_and_bottom() {
    let plain = rgba(&render(&photo(LIGHT), "width=300&format=png"));
    let out = rgba(&render(&photo(LIGHT), "width=300&flip=1&format=png"));
    let (_, h) = plain.dimensions();
    assert_eq!(out.dimensions(), plain.dimensions());
    assert_moves(&plain, &out, "flip", |x, y| (x, h - 1 - y));
}

#[test]
fn quarter_turns_are_exact_and_clockwise() {
    let plain = rgba(&render(&photo(LIGHT), "width=300&format=png"));
    let (w, h) = plain.dimensions();

    let r90 = rgba(&render(&photo(LIGHT), "width=300&rotate=90&format=png"));
    assert_eq!(r90.dimensions(), (h, w), "rotate=90 swaps width and height");
    // Clockwise: the top-left corner goes to the top right.
    assert_moves(&plain, &r90, "rotate=90", |x, y| (h - 1 - y, x));

    let r180 = rgba(&render(&photo(LIGHT), "width=300&rotate=180&format=png"));
    assert_eq!(r180.dimensions(), (w, h));
    assert_moves(&plain, &r180, "rotate=180", |x, y| (w - 1 - x, h - 1 - y));

    let r270 = render(&photo(LIGHT), "width=300&rotate=270&format=png");
    let img = rgba(&r270);
    assert_eq!(img.dimensions(), (h, w));
    assert_moves(&plain, &img, "rotate=270", |x, y| (y, w - 1 - x));
    // -90 is 270.
    let minus = render(&photo(LIGHT), "width=300&rotate=-90&format=png");
    assert_eq!(minus.bytes, r270.bytes);
}

#[test]
fn rotate_30_enlarges_the_canvas_with_transparent_or_white_corners() {
    let (w, h) = (300.0_f64, 169.0_f64);
    let (sin, cos) = 30.0_f64.to_radians().sin_cos();
    let (ew, eh) = (w * cos + h * sin, w * sin + h * cos);
    for format in ["png", "webp", "jpeg"] {
        let out = render(
            &photo(LIGHT),
            &format!("width=300&rotate=30&format={format}"),
        );
        let img = rgba(&out);
        let (iw, ih) = img.dimensions();
        assert!(
            (f64::from(iw) - ew).abs() <= 3.0 && (f64::from(ih) - eh).abs() <= 3.0,
            "{format}: rotated canvas {iw}x{ih}, expected about {ew:.0}x{eh:.0}"
        );
        for (x, y) in [(0, 0), (iw - 1, 0), (0, ih - 1), (iw - 1, ih - 1)] {
            let p = *img.get_pixel(x, y);
            if format == "jpeg" {
                assert!(
                    is_white(p),
                    "{format}: corner ({x}, {y}) is white, got {p:?}"
                );
            } else {
                assert!(
                    is_transparent(p),
                    "{format}: corner ({x}, {y}) is clear, got {p:?}"
                );
            }
        }
        assert_eq!(
            img.get_pixel(iw / 2, ih / 2)[3],
            255,
            "{format}: the photo is opaque"
        );
    }
    // Clockwise on screen: the photo's top-left corner moves right, so the canvas's top
    // edge meets the photo right of the middle (its top-left corner), not left of it.
    let img = rgba(&render(&photo(LIGHT), "width=300&rotate=30&format=png"));
    let (iw, _) = img.dimensions();
    let top_opaque: Vec<u32> = (0..iw).filter(|&x| img.get_pixel(x, 1)[3] > 128).collect();
    assert!(!top_opaque.is_empty(), "the photo touches the top edge");
    let mean_x = top_opaque.iter().map(|&x| f64::from(x)).sum::<f64>() / top_opaque.len() as f64;
    let expected_x = h * sin; // The top-left corner after a clockwise turn.
    assert!(
        (mean_x - expected_x).abs() < 8.0,
        "top edge touched at x≈{mean_x:.0}, a clockwise turn puts it at {expected_x:.0}"
    );
}

#[test]
fn blur_removes_fine_detail() {
    let plain = rgba(&render(&photo(DETAIL), "format=png"));
    let blurred = rgba(&render(&photo(DETAIL), "blur=3&format=png"));
    assert_eq!(plain.dimensions(), blurred.dimensions());
    let (before, after) = (edge_energy(&plain), edge_energy(&blurred));
    assert!(
        after < before * 0.35,
        "blur=3 should remove most high-frequency energy: {before:.1} -> {after:.1}"
    );
    let more = edge_energy(&rgba(&render(&photo(DETAIL), "blur=10&format=png")));
    assert!(
        more < after,
        "a larger sigma blurs more: {after:.1} -> {more:.1}"
    );
    // The average colour stays (a blur, not a fade).
    let (w, h) = plain.dimensions();
    let (a, b) = (
        mean_luma(&plain, 0, 0, w, h),
        mean_luma(&blurred, 0, 0, w, h),
    );
    assert!((a - b).abs() < 3.0, "mean luma {a:.1} vs {b:.1}");
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

#[test]
fn watermark_changes_the_bottom_right_only_and_is_legible() {
    for name in [LIGHT, DARK] {
        let plain = rgba(&render(&photo(name), "width=800&format=png"));
        let out = render(
            &photo(name),
            "width=800&format=png&watermarkText=%C2%A9%20imgedge",
        );
        dump(&format!("imgedge-watermark-{name}.png"), &out.bytes);
        let marked = rgba(&out);
        let (w, h) = plain.dimensions();
        let (x0, y0, x1, y1) =
            diff_bounds(&plain, &marked).unwrap_or_else(|| panic!("{name}: no watermark drawn"));
        assert!(
            x0 >= w / 2 && y0 >= h / 2,
            "{name}: the watermark strays outside the bottom-right quadrant: ({x0}, {y0})-({x1}, {y1}) in {w}x{h}"
        );
        // A sizeable mark, not a speck.
        assert!(
            x1 - x0 >= w / 10 && y1 - y0 >= h / 30,
            "{name}: watermark only {}x{} pixels",
            x1 - x0,
            y1 - y0
        );
        let (letters, surround) = legibility(&plain, &marked);
        assert!(
            letters.0 >= 300,
            "{name}: only {} pixels of white letters",
            letters.0
        );
        assert!(
            letters.1 - surround.1 >= 80.0,
            "{name}: letters (luma {:.0}) hardly stand out from what surrounds them ({:.0})",
            letters.1,
            surround.1
        );
    }
}

/// Legibility of a white watermark: (count, mean luma) of its letters (changed pixels now
/// white, luma >= 220) and of the changed pixels within 2 pixels of a letter (the outline
/// the eye reads the letters against).
fn legibility(plain: &RgbaImage, marked: &RgbaImage) -> ((u32, f64), (u32, f64)) {
    let (w, h) = plain.dimensions();
    let luma = |x, y| mean_luma(marked, x, y, x + 1, y + 1);
    let changed = |x, y| plain.get_pixel(x, y) != marked.get_pixel(x, y);
    let letter = |x, y| changed(x, y) && luma(x, y) >= 220.0;
    let (mut letters, mut surround) = ((0, 0.0), (0, 0.0));
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            if !changed(x, y) {
                continue;
            }
            if letter(x, y) {
                letters = (letters.0 + 1, letters.1 + luma(x, y));
            } else if (x - 2..=x + 2).any(|a| (y - 2..=y + 2).any(|b| letter(a, b))) {
                surround = (surround.0 + 1, surround.1 + luma(x, y));
            }
        }
    }
    let mean = |(n, sum): (u32, f64)| (n, sum / f64::from(n.max(1)));
    (mean(letters), mean(surround))
}

#[test]
fn watermark_with_markup_characters_renders_literally() {
    let plain = rgba(&render(&photo(LIGHT), "width=600&format=png"));
    for text in [
        "%3Cb%3E%26",
        "%3Cspan%20foreground%3D%22red%22%3Ex",
        "a%26amp%3Bb%27%22",
        "%26",
    ] {
        let out = render(
            &photo(LIGHT),
            &format!("width=600&format=png&watermarkText={text}"),
        );
        let marked = rgba(&out);
        assert!(
            diff_bounds(&plain, &marked).is_some(),
            "watermark {text} draws something"
        );
    }
    // `<b>` is drawn as three characters, not taken as bold markup around nothing.
    let tags = rgba(&render(
        &photo(LIGHT),
        "width=600&format=png&watermarkText=%3Cb%3E",
    ));
    let (x0, _, x1, _) = diff_bounds(&plain, &tags).expect("`<b>` is drawn");
    let letter = rgba(&render(
        &photo(LIGHT),
        "width=600&format=png&watermarkText=b",
    ));
    let (l0, _, l1, _) = diff_bounds(&plain, &letter).expect("`b` is drawn");
    assert!(x1 - x0 > (l1 - l0) * 2, "`<b>` is wider than `b`");
}

#[test]
fn long_watermarks_fit_in_the_image() {
    let text = "imgedge%20".repeat(6) + "1234";
    let out = render(
        &photo(LIGHT),
        &format!("width=400&format=png&watermarkText={text}"),
    );
    let plain = rgba(&render(&photo(LIGHT), "width=400&format=png"));
    let (x0, y0, x1, y1) = diff_bounds(&plain, &rgba(&out)).expect("drawn");
    assert!(
        x0 > 0 && x1 <= 400 && y0 > 225 / 2 && y1 <= 225,
        "within the image, at the bottom"
    );
}

// ---------------------------------------------------------------------------------------
// Metadata and orientation.

#[test]
fn outputs_carry_no_metadata() {
    let source = photo(ORIENTED);
    // The fixture does carry all of it, so the checks below can fail.
    for needle in [
        &b"Exif\0\0"[..],
        b"<x:xmpmeta",
        b"Photoshop 3.0",
        b"Berasategi",
    ] {
        assert!(find(&source, needle).is_some(), "fixture lacks {needle:?}");
    }
    for query in [
        "",
        "width=300",
        "format=png",
        "format=webp",
        "format=avif",
        "width=300&format=jpeg&grayscale=1",
        "width=300&format=png&rotate=30&watermarkText=hi",
        "width=300&format=webp&blur=2",
        "width=200&format=avif&quality=50",
    ] {
        for name in [ORIENTED, LIGHT] {
            let out = render(&photo(name), query);
            assert_no_metadata(&out.bytes, &format!("{name}?{query}"));
        }
    }
}

#[test]
fn exif_orientation_is_applied() {
    let engine = engine();
    let source = photo(ORIENTED);
    let info = engine.inspect(&source).expect("reads");
    assert_eq!(
        (info.width, info.height),
        (800, 600),
        "inspect reports the upright size"
    );

    let out = render(&source, "format=png");
    let upright = rgba(&out);
    assert_eq!(upright.dimensions(), (800, 600), "landscape, as displayed");
    // Same pixels as the stored ones turned 90° clockwise (EXIF orientation 6).
    let stored = image::load_from_memory(&source)
        .expect("decodes")
        .to_rgba8();
    assert_eq!(
        stored.dimensions(),
        (600, 800),
        "the image crate ignores EXIF here"
    );
    let turned = image::imageops::rotate90(&stored);
    let diff = mean_abs_diff(&upright, &turned);
    assert!(
        diff < 3.0,
        "orientation 6 is a clockwise turn (mean diff {diff:.2})"
    );
    // And the sky is at the top.
    assert!(mean_luma(&upright, 0, 0, 800, 100) > mean_luma(&upright, 0, 500, 800, 600));

    assert_eq!(size_of(&source, "width=400"), (400, 300));
    assert_eq!(size_of(&source, "height=300"), (400, 300));
    assert_eq!(size_of(&source, "width=200&height=200"), (200, 200));
    assert_eq!(
        size_of(&source, "width=400&height=100&fit=inside"),
        (133, 100)
    );
    assert_eq!(size_of(&source, ""), (800, 600));
}

fn size_of(bytes: &[u8], query: &str) -> (u32, u32) {
    let out = render(bytes, query);
    let img = decode(&out);
    (img.width(), img.height())
}

// ---------------------------------------------------------------------------------------
// The fixed pipeline order.

#[test]
fn resize_happens_before_rotate() {
    // Resize to 200 wide (200x113), then turn: the output is 113 wide and 200 high.
    assert_eq!(size("width=200&rotate=90"), (113, 200));
    assert_eq!(size("rotate=90&width=200"), (113, 200));
    assert_eq!(size("height=100&rotate=270"), (100, 178));
    // A box applies to the unrotated photo too.
    assert_eq!(size("width=300&height=100&rotate=90"), (100, 300));
    assert_eq!(size_of(&photo(ORIENTED), "width=400&rotate=90"), (300, 400));
}

#[test]
fn steps_run_in_the_spec_order_whatever_the_query_order() {
    let plain = rgba(&render(&photo(LIGHT), "width=240&format=png"));
    let (w, h) = plain.dimensions();
    let a = render(
        &photo(LIGHT),
        "width=240&format=png&rotate=90&flip=1&mirror=1",
    );
    let b = render(
        &photo(LIGHT),
        "mirror=1&flip=1&format=png&rotate=90&width=240",
    );
    assert_eq!(a.bytes, b.bytes, "the query order does not matter");
    // rotate (clockwise) then flip: (x, y) -> (h-1-y, x) -> (h-1-y, w-1-x); then mirror:
    // -> (y, w-1-x). Flip or mirror before the turn would land elsewhere.
    assert_moves(&plain, &rgba(&a), "rotate, flip, mirror", |x, y| {
        (y, w - 1 - x)
    });

    let rf = rgba(&render(
        &photo(LIGHT),
        "width=240&format=png&flip=1&rotate=90",
    ));
    assert_moves(&plain, &rf, "rotate then flip", |x, y| {
        (h - 1 - y, w - 1 - x)
    });
}

#[test]
fn watermark_is_drawn_after_blur_and_grayscale() {
    let blurred = rgba(&render(
        &photo(DETAIL),
        "width=600&blur=8&grayscale=1&format=png",
    ));
    let marked = rgba(&render(
        &photo(DETAIL),
        "watermarkText=imgedge&grayscale=1&blur=8&width=600&format=png",
    ));
    let (x0, y0, x1, y1) = diff_bounds(&blurred, &marked).expect("watermark drawn");
    let crop =
        |img: &RgbaImage| image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    let (soft, sharp) = (edge_energy(&crop(&blurred)), edge_energy(&crop(&marked)));
    assert!(
        sharp > soft * 3.0,
        "the watermark is not blurred: edge energy {soft:.1} -> {sharp:.1}"
    );
    // The watermark is white and black, so the output stays grey.
    assert!(marked.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
}

#[test]
fn watermark_follows_rotation() {
    // The watermark goes in the bottom-right corner of the output, after the turn.
    let plain = rgba(&render(&photo(LIGHT), "width=400&rotate=90&format=png"));
    let marked = rgba(&render(
        &photo(LIGHT),
        "width=400&rotate=90&format=png&watermarkText=imgedge",
    ));
    let (w, h) = plain.dimensions();
    assert_eq!((w, h), (225, 400));
    let (x0, y0, _, _) = diff_bounds(&plain, &marked).expect("drawn");
    assert!(
        x0 >= w / 2 && y0 >= h / 2,
        "bottom right of the rotated output: ({x0}, {y0})"
    );
}

// ---------------------------------------------------------------------------------------
// Bad inputs: a typed error with its code, never a panic.

fn assert_code(
    result: Result<impl std::fmt::Debug, imgedge::engine::EngineError>,
    code: &str,
    what: &str,
) {
    match result {
        Ok(v) => panic!("{what}: expected {code}, got {v:?}"),
        Err(e) => assert_eq!(e.code(), code, "{what}: {e}"),
    }
}

#[test]
fn an_empty_file_is_empty_file() {
    let engine = engine();
    assert_code(engine.inspect(&[]), "empty_file", "inspect");
    assert_code(engine.verify(&[]), "empty_file", "verify");
    assert_eq!(render_err(&engine, &[], "width=100").code(), "empty_file");
}

#[test]
fn a_truncated_jpeg_is_corrupt_image() {
    let engine = engine();
    let full = photo(LIGHT);
    let half = &full[..full.len() / 2];
    assert_code(engine.verify(half), "corrupt_image", "verify");
    for query in [
        "",
        "width=300",
        "format=png",
        "width=200&format=webp",
        "blur=2&format=avif",
    ] {
        let e = render_err(&engine, half, query);
        assert_eq!(e.code(), "corrupt_image", "render {query:?}: {e}");
    }
}

#[test]
fn a_truncated_png_is_corrupt_image() {
    let engine = engine();
    let png = render(&photo(LIGHT), "format=png").bytes;
    let half = &png[..png.len() / 2];
    assert_code(engine.verify(half), "corrupt_image", "verify");
    let e = render_err(&engine, half, "width=300");
    assert_eq!(e.code(), "corrupt_image", "render: {e}");
}

const SVG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">
  <rect width="100" height="100" fill="red"/>
</svg>
"#;

const PDF: &str = "%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >> endobj
trailer << /Root 1 0 R >>
%%EOF
";

#[test]
fn svg_and_pdf_are_unsupported_format() {
    let engine = engine();
    let svg_no_decl = SVG.split_once('\n').expect("two lines").1;
    for (what, bytes) in [
        ("svg", SVG.as_bytes()),
        ("svg without xml declaration", svg_no_decl.as_bytes()),
        ("pdf", PDF.as_bytes()),
    ] {
        assert_code(engine.inspect(bytes), "unsupported_format", what);
        assert_code(engine.verify(bytes), "unsupported_format", what);
        let e = render_err(&engine, bytes, "width=100&format=png");
        assert_eq!(e.code(), "unsupported_format", "{what}: {e}");
    }
}

#[test]
fn random_bytes_are_unsupported_format() {
    let engine = engine();
    // xorshift64: the same "random" bytes every run.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert_code(engine.inspect(&bytes), "unsupported_format", "inspect");
    assert_code(engine.verify(&bytes), "unsupported_format", "verify");
    assert_eq!(render_err(&engine, &bytes, "").code(), "unsupported_format");
    let text = b"hello, this is not an image\n";
    assert_eq!(render_err(&engine, text, "").code(), "unsupported_format");
}

#[test]
fn a_huge_png_header_is_too_many_pixels_and_fails_fast() {
    let engine = engine();
    let bomb = png_header_only(30_000, 30_000);
    let started = Instant::now();
    assert_code(engine.inspect(&bomb), "too_many_pixels", "inspect");
    assert_code(engine.verify(&bomb), "too_many_pixels", "verify");
    for query in ["", "width=100", "width=100&height=100&fit=fill&format=avif"] {
        let e = render_err(&engine, &bomb, query);
        assert_eq!(e.code(), "too_many_pixels", "render {query:?}: {e}");
    }
    // Six refusals from the header alone: nothing near 30000x30000x3 bytes is decoded.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // The same file with a small header is a readable (if empty) PNG: the limit is what
    // refused it.
    let small = png_header_only(2, 2);
    assert_eq!(engine.inspect(&small).expect("header reads").width, 2);
}

// ---------------------------------------------------------------------------------------
// Limits.

#[test]
fn a_render_past_its_timeout_is_render_timeout() {
    let engine = Engine::new(EngineConfig {
        render_timeout: Duration::from_millis(1),
        ..EngineConfig::default()
    })
    .expect("starts");
    let bytes = photo(DETAIL);
    let started = Instant::now();
    let e = render_err(&engine, &bytes, "blur=50&format=avif");
    let elapsed = started.elapsed();
    assert_eq!(e.code(), "render_timeout", "{e}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn a_timeout_during_encoding_stops_the_encoder() {
    // Enough time to decode and plan, not to blur and encode: the watchdog has to stop
    // libvips mid-render.
    let bytes = photo(DETAIL);
    let slow = spec("blur=50&format=png");
    let full = engine()
        .render(&bytes, &slow)
        .expect("renders with the default timeout");
    let budget = Duration::from_millis(30);
    assert!(
        full.timings.encode > budget * 3,
        "the full render should be slow enough to test with: {:?}",
        full.timings
    );
    let engine = Engine::new(EngineConfig {
        render_timeout: budget,
        ..EngineConfig::default()
    })
    .expect("starts");
    let started = Instant::now();
    let e = engine.render(&bytes, &slow).expect_err("times out");
    let elapsed = started.elapsed();
    assert_eq!(e.code(), "render_timeout", "{e}");
    assert!(
        elapsed < full.timings.encode / 2 + budget,
        "stopped after {elapsed:?}; the full encode takes {:?}",
        full.timings.encode
    );
}

#[test]
fn a_normal_render_with_the_default_timeout_succeeds() {
    let out = render(&photo(DETAIL), "width=800&blur=2&format=avif");
    assert_eq!(out.format, Format::Avif);
    assert_eq!((out.width, out.height), (800, 533));
    let info = engine().inspect(&out.bytes).expect("reads back");
    assert_eq!((info.width, info.height), (800, 533));
}

#[test]
fn an_output_over_the_pixel_limit_is_output_too_large() {
    let engine = Engine::new(EngineConfig {
        max_output_pixels: 10_000,
        ..EngineConfig::default()
    })
    .expect("starts");
    let e = render_err(&engine, &photo(LIGHT), "width=400");
    assert_eq!(e.code(), "output_too_large", "{e}");
    // Within the limit it renders: 100x56 = 5600 pixels.
    let out = engine
        .render(&photo(LIGHT), &spec("width=100"))
        .expect("small enough");
    assert_eq!((out.width, out.height), (100, 56));
    // The padded canvas counts, not just the photo in it.
    let e = render_err(&engine, &photo(LIGHT), "width=200&height=200&fit=contain");
    assert_eq!(e.code(), "output_too_large", "{e}");
}

// ---------------------------------------------------------------------------------------
// Kept intermediates: the several widths of a srcset from one decode.

/// A budget every test image fits in.
const KEEP: u64 = 64 << 20;

/// An engine that shrinks JPEGs on load under `policy`.
fn engine_with(policy: ShrinkOnLoad) -> Engine {
    Engine::new(EngineConfig {
        shrink_on_load: policy,
        ..EngineConfig::default()
    })
    .expect("libvips starts")
}

#[test]
fn a_kept_intermediate_renders_the_same_bytes_as_the_original() {
    let sources = [
        (DETAIL, photo(DETAIL)),
        (ORIENTED, photo(ORIENTED)),
        ("png", render(&photo(LIGHT), "format=png").bytes),
        ("gif", gif(300, 200, true)),
    ];
    // Every JPEG shrink-on-load factor (1, 2, 4, 8 for detail.jpg's 1024 pixels, under
    // either policy), each fit, and the steps after the resize.
    let queries = [
        "",
        "width=40",
        "width=100",
        "width=200",
        "width=300",
        "width=600",
        "width=2000",
        "height=90",
        "width=120&height=120&fit=cover",
        "width=300&height=50&fit=fill",
        "width=200&height=200&fit=contain&format=png",
        "width=100&height=300&fit=outside",
        "width=256&rotate=90&grayscale=1&format=webp",
        "width=150&mirror=1&blur=1.5&watermarkText=kept&format=png",
    ];
    for policy in [ShrinkOnLoad::Fast, ShrinkOnLoad::Margin] {
        let engine = engine_with(policy);
        for (name, bytes) in &sources {
            for query in queries {
                let spec = spec(query);
                let direct = engine.render(bytes, &spec).expect("renders");
                let (first, kept) = engine
                    .render_keeping(bytes, &spec, KEEP)
                    .expect("renders keeping");
                let kept =
                    kept.unwrap_or_else(|| panic!("{policy:?} {name} {query:?}: an intermediate"));
                assert!(
                    first.bytes == direct.bytes,
                    "{policy:?} {name} {query:?}: first render"
                );
                assert!(kept.serves(&spec), "{policy:?} {name} {query:?}");
                let again = engine.render_decoded(&kept, &spec).expect("renders");
                assert!(
                    again.bytes == direct.bytes,
                    "{policy:?} {name} {query:?}: from the intermediate"
                );
            }
        }
    }
}

#[test]
fn one_intermediate_serves_the_widths_that_decode_alike() {
    let bytes = photo(DETAIL);
    // detail.jpg is 1024 pixels wide. `Fast` decodes widths 65 to 256 at 1/4; `Margin`
    // decodes 129 to 256 at 1/2 and 65 to 128 at 1/4.
    let cases = [
        (
            ShrinkOnLoad::Fast,
            4,
            [
                "width=100&format=png",
                "width=256",
                "width=180&grayscale=1&format=webp",
            ],
            ["width=300", "width=60", "width=40&height=40&fit=cover"],
        ),
        (
            ShrinkOnLoad::Margin,
            2,
            [
                "width=129&format=png",
                "width=256",
                "width=180&grayscale=1&format=webp",
            ],
            ["width=128", "width=300", "width=60&height=60&fit=cover"],
        ),
    ];
    for (policy, factor, served, not_served) in cases {
        let engine = engine_with(policy);
        let (_, kept) = engine
            .render_keeping(&bytes, &spec("width=200"), KEEP)
            .expect("renders");
        let kept = kept.expect("kept");
        assert_eq!(kept.shrink(), factor, "{policy:?}");
        for query in served {
            let spec = spec(query);
            assert!(kept.serves(&spec), "{policy:?} {query}");
            let from_kept = engine.render_decoded(&kept, &spec).expect("renders");
            let direct = engine.render(&bytes, &spec).expect("renders");
            assert!(from_kept.bytes == direct.bytes, "{policy:?} {query}");
        }
        // Another factor decodes differently (more or fewer pixels): not served.
        for query in not_served {
            assert!(!kept.serves(&spec(query)), "{policy:?} {query}");
        }
    }
}

#[test]
fn a_fast_shrink_on_load_looks_like_the_careful_one() {
    // The same variants under both policies, compared pixel by pixel: the fast decode is a
    // cheaper route to nearly the same image. Measured (libvips 8.14): a mean difference of
    // 0.3 to 0.6 of 255 on light.jpg and 1.2 to 4.2 on detail.jpg's fine texture, with 2 to
    // 7 % less edge energy: a little softer, never a different picture.
    let fast = engine_with(ShrinkOnLoad::Fast);
    let margin = engine_with(ShrinkOnLoad::Margin);
    for name in [DETAIL, LIGHT] {
        let bytes = photo(name);
        for query in [
            "width=300&format=png",
            "width=200&format=png",
            "width=150&format=png",
        ] {
            let spec = spec(query);
            let (a, b) = (
                fast.render(&bytes, &spec).expect("renders"),
                margin.render(&bytes, &spec).expect("renders"),
            );
            let (a, b) = (rgba(&a), rgba(&b));
            assert_eq!(a.dimensions(), b.dimensions(), "{name} {query}");
            let diff = mean_abs_diff(&a, &b);
            assert!(
                diff < 5.0,
                "{name} {query}: mean difference {diff:.2} of 255"
            );
            let sharpness = edge_energy(&a) / edge_energy(&b);
            assert!(
                (0.9..1.02).contains(&sharpness),
                "{name} {query}: edge energy {sharpness:.3} of the careful render's"
            );
        }
    }
}

#[test]
fn intermediates_are_kept_only_where_worth_keeping() {
    let engine = engine();
    let jpeg = photo(DETAIL);
    // 1024 → 600: too little shrinking to shrink on load, so the whole image is decoded.
    let spec = spec("width=600&format=webp");
    let direct = engine.render(&jpeg, &spec).expect("renders");
    // Larger than the budget, or keeping switched off: rendered as `render` does.
    for budget in [0, 1024 * 682 * 3 - 1] {
        let (out, kept) = engine
            .render_keeping(&jpeg, &spec, budget)
            .expect("renders");
        assert!(kept.is_none(), "budget {budget}");
        assert!(out.bytes == direct.bytes, "budget {budget}");
    }
    let (_, kept) = engine
        .render_keeping(&jpeg, &spec, 1024 * 682 * 3)
        .expect("renders");
    assert_eq!(
        kept.expect("kept at the budget").size_in_bytes(),
        1024 * 682 * 3
    );
    // WebP decodes differently inside thumbnail: streamed, never kept.
    let webp = render(&jpeg, "format=webp").bytes;
    let (_, kept) = engine.render_keeping(&webp, &spec, KEEP).expect("renders");
    assert!(kept.is_none());
}

#[test]
fn keeping_refuses_what_render_refuses() {
    let engine = engine();
    let full = photo(LIGHT);
    let half = &full[..full.len() / 2];
    for (bytes, code) in [
        (half, "corrupt_image"),
        (&[][..], "empty_file"),
        (SVG.as_bytes(), "unsupported_format"),
        (&png_header_only(30_000, 30_000)[..], "too_many_pixels"),
    ] {
        let e = engine
            .render_keeping(bytes, &spec("width=300"), KEEP)
            .expect_err("refused");
        assert_eq!(e.code(), code, "{e}");
    }
    let slow = Engine::new(EngineConfig {
        render_timeout: Duration::from_millis(1),
        ..EngineConfig::default()
    })
    .expect("starts");
    let e = slow
        .render_keeping(&photo(DETAIL), &spec("blur=50&format=png"), KEEP)
        .expect_err("times out");
    assert_eq!(e.code(), "render_timeout", "{e}");
}
