//! The fixed pipeline order: the steps run in one order, whatever the order of the query.

use image::RgbaImage;

use super::{DETAIL, LIGHT, ORIENTED, assert_moves, diff_bounds, size, size_of};
use crate::support::{edge_energy, photo, render, rgba};

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
