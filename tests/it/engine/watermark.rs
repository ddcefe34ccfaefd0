//! The watermark: drawn bottom right, legible, its text taken literally, fitting the image.

use image::RgbaImage;

use super::{DARK, LIGHT, diff_bounds};
use crate::support::{dump, mean_luma, photo, render, rgba};

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
