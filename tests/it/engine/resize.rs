//! Resize: width, height, the five fits, never enlarging.

use imgedge_url::Format;

use super::{LIGHT, is_transparent, is_white, size};
use crate::support::{mean_abs_diff, photo, render, rgba};

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
