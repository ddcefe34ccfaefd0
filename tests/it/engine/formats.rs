//! Formats and quality: every output format, the default format, GIF and PNG alpha, quality.

use imgedge_engine::SourceFormat;
use imgedge_url::Format;

use super::{DETAIL, LIGHT, is_transparent, is_white};
use crate::support::{decode, engine, gif, photo, render, rgba, sniff};

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

#[test]
fn a_cmyk_jpeg_passes_the_upload_check_and_renders_in_srgb() {
    // Print workflows write CMYK JPEGs (Adobe APP14): the strict entropy walk cannot map them
    // to one grey band, and must leave them to libvips rather than refuse a valid file.
    let engine = engine();
    let cmyk = photo("cmyk.jpg");
    let info = engine.verify(&cmyk).expect("a valid CMYK JPEG is accepted");
    assert_eq!(info.format, SourceFormat::Jpeg);
    assert_eq!((info.width, info.height), (320, 213));
    let got = rgba(&render(&cmyk, "width=160&format=png"));
    let want = rgba(&render(&photo(DETAIL), "width=160&format=png"));
    assert_eq!(got.dimensions(), want.dimensions());
    // The same picture, through a CMYK round trip: close, not exact.
    let diff = crate::support::mean_abs_diff(&got, &want);
    assert!(
        diff < 12.0,
        "mean difference from the sRGB original: {diff:.2}"
    );
}
