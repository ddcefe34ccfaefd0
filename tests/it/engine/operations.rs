//! Operations: grayscale, mirror, flip, rotations, blur.

use super::{DETAIL, LIGHT, assert_moves, is_transparent, is_white};
use crate::support::{decode, edge_energy, engine, mean_luma, photo, render, rgba};

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
