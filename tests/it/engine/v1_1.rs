//! Transform URLs 1.1 in the engine: `crop`, `dpr`, `gravity` (compass, focal point,
//! saliency), `sharpen`, `background`, `palette`, and `format=auto`'s `basic` rendering,
//! each checked on the decoded output with an independent decoder.

use image::{GenericImageView as _, Rgba, RgbaImage};
use imgedge::error::PublicError as _;

use super::{DETAIL, LIGHT, ORIENTED, is_transparent};
use crate::support::{decode, edge_energy, engine, photo, render, render_err, rgba};

/// A PNG of `width`×`height`, grey, with a red `size`² square whose top left corner is at
/// (`x`, `y`).
fn with_square(width: u32, height: u32, x: u32, y: u32, size: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |px, py| {
        if (x..x + size).contains(&px) && (y..y + size).contains(&py) {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([128, 128, 128, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

fn is_red(p: Rgba<u8>) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] < 60
}

/// The share of red pixels in a render.
fn red_share(img: &RgbaImage) -> f64 {
    let red = img.pixels().filter(|p| is_red(**p)).count();
    red as f64 / f64::from(img.width() * img.height())
}

#[test]
fn crop_cuts_exactly_its_region() {
    // A red square at (300, 200), 100 pixels: cropping exactly it gives only red.
    let bytes = with_square(1000, 600, 300, 200, 100);
    let out = rgba(&render(&bytes, "crop=300,200,100,100&format=png"));
    assert_eq!(out.dimensions(), (100, 100));
    assert!(out.pixels().all(|p| is_red(*p)), "only the square");
    // One pixel more on the left: a grey column, then the square.
    let out = rgba(&render(&bytes, "crop=299,200,101,100&format=png"));
    assert!(!is_red(*out.get_pixel(0, 50)) && is_red(*out.get_pixel(1, 50)));
    // A region past the image's edge ends at the edge.
    let out = decode(&render(&bytes, "crop=900,500,400,400&format=png"));
    assert_eq!(out.dimensions(), (100, 100));
    // Wholly outside: 422 crop_outside.
    let e = render_err(&engine(), &bytes, "crop=1000,0,10,10");
    assert_eq!(e.code().as_str(), "crop_outside");
    assert_eq!(e.code().status().as_u16(), 422);
}

#[test]
fn crop_is_in_pixels_of_the_upright_original() {
    // oriented-6-gps.jpg is stored 600×800 and shown 800×600: a region wider than 600
    // exists only upright.
    let out = decode(&render(&photo(ORIENTED), "crop=0,0,700,100"));
    assert_eq!(out.dimensions(), (700, 100));
}

#[test]
fn dpr_multiplies_the_size_up_to_the_source() {
    assert_eq!(
        decode(&render(&photo(LIGHT), "width=300&dpr=2")).width(),
        600
    );
    assert_eq!(decode(&render(&photo(LIGHT), "width=3&dpr=1.5")).width(), 5);
    // light.jpg is 1024 wide: never enlarged.
    assert_eq!(
        decode(&render(&photo(LIGHT), "width=800&dpr=3")).width(),
        1024
    );
    let out = decode(&render(&photo(LIGHT), "width=100&height=100&dpr=2.5"));
    assert_eq!(out.dimensions(), (250, 250));
}

#[test]
fn gravity_keeps_the_named_corner_and_the_focal_point() {
    // The feature in the bottom right corner of a wide image, a square crop.
    let bytes = with_square(1200, 400, 1100, 300, 100);
    // The cover scales by 1/2 (600×200): the square is 50 pixels, 1/16 of a 200×200 window.
    let keeps = |query: &str| red_share(&rgba(&render(&bytes, query)));
    let square = "width=200&height=200&format=png";
    assert!(keeps(&format!("{square}&gravity=southeast")) > 0.05);
    assert!(keeps(&format!("{square}&gravity=east")) > 0.05);
    assert!(keeps(square) < 0.001, "the centre misses it");
    assert!(keeps(&format!("{square}&gravity=west")) < 0.001);
    // A focal point on the square keeps it; the window is the spec's formula: for a
    // 600×200 cover of 1200×400 the point 0.95 of the width is 570, and the window's left
    // edge clamp(570 − 100, 0, 400) = 400, which holds the square (550..600).
    assert!(keeps(&format!("{square}&gravity=0.95,0.5")) > 0.05);
    assert!(keeps(&format!("{square}&gravity=0.05,0.5")) < 0.001);
}

#[test]
fn attention_keeps_a_salient_subject() {
    // A saturated subject on a flat background, off centre: 50 pixels once the cover
    // scales by 1/2, 1/16 of the window when wholly kept.
    let bytes = with_square(1200, 400, 60, 150, 100);
    let out = rgba(&render(
        &bytes,
        "width=200&height=200&gravity=attention&format=png",
    ));
    assert!(red_share(&out) > 0.05, "the subject is kept");
    let out = rgba(&render(
        &bytes,
        "width=200&height=200&gravity=entropy&format=png",
    ));
    assert!(red_share(&out) > 0.05, "the detailed part is kept");
}

#[test]
fn sharpen_raises_high_frequency_energy() {
    let plain = rgba(&render(&photo(DETAIL), "width=400&format=png"));
    let sharp = rgba(&render(&photo(DETAIL), "width=400&sharpen=2&format=png"));
    assert_eq!(plain.dimensions(), sharp.dimensions());
    let (a, b) = (edge_energy(&plain), edge_energy(&sharp));
    assert!(b > a * 1.05, "edge energy {a} -> {b}");
}

#[test]
fn background_fills_bars_corners_and_flattened_alpha() {
    let blue = |p: Rgba<u8>| p[2] > 200 && p[0] < 60 && p[1] < 60 && p[3] == 255;
    // contain's bars.
    let out = rgba(&render(
        &photo(LIGHT),
        "width=400&height=400&fit=contain&background=0000FF&format=png",
    ));
    assert!(blue(*out.get_pixel(200, 2)), "{:?}", out.get_pixel(200, 2));
    // A rotation's corners.
    let out = rgba(&render(
        &photo(LIGHT),
        "width=300&rotate=30&background=0000ff",
    ));
    assert!(blue(*out.get_pixel(1, 1)), "{:?}", out.get_pixel(1, 1));
    // Transparent areas flattened onto the colour when the output has no alpha.
    let transparent = transparent_png();
    let out = rgba(&render(&transparent, "background=0000ff&format=jpeg"));
    assert!(blue(*out.get_pixel(25, 25)), "{:?}", out.get_pixel(25, 25));
    // Where the output keeps alpha, the background's alpha is the bars'.
    let out = rgba(&render(
        &photo(LIGHT),
        "width=400&height=400&fit=contain&background=0000ff00&format=png",
    ));
    assert!(is_transparent(*out.get_pixel(200, 2)));
}

#[test]
fn palette_gives_a_smaller_png_of_at_most_256_colours() {
    let truecolour = render(&photo(DETAIL), "width=400&format=png");
    let palette = render(&photo(DETAIL), "width=400&format=png&palette=1");
    assert!(palette.bytes.len() < truecolour.bytes.len());
    // The PNG's IHDR colour type is 3, indexed.
    assert_eq!(palette.bytes.get(25), Some(&3), "an indexed PNG");
    let colours: std::collections::HashSet<_> = rgba(&palette).pixels().map(|p| p.0).collect();
    assert!(colours.len() <= 256, "{} colours", colours.len());
    let image = decode(&palette);
    assert_eq!(image.dimensions(), decode(&truecolour).dimensions());
}

#[test]
fn format_auto_renders_basic_without_an_accept_class() {
    // The transformer resolves AVIF and WebP from the request; unresolved, `auto` is the
    // basic class: JPEG, or PNG for an image with alpha.
    assert_eq!(
        render(&photo(LIGHT), "width=100&format=auto")
            .format
            .as_str(),
        "jpeg"
    );
    assert_eq!(
        render(&transparent_png(), "format=auto").format.as_str(),
        "png"
    );
}

/// A 50×50 PNG, wholly transparent.
fn transparent_png() -> Vec<u8> {
    let img = RgbaImage::from_pixel(50, 50, Rgba([0, 0, 0, 0]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

#[test]
fn attention_keeps_the_subject_of_a_real_photo() {
    // subject.jpg, 1024×576: a nuthatch on a tree trunk near the left edge, on a blurred
    // background. Its labelled box in the fixture's pixels (testdata/photos/README.md):
    // x 97..309, y 149..423.
    let (x0, y0, x1, y1): (f64, f64, f64, f64) = (97.0, 149.0, 309.0, 423.0);
    let bytes = photo("subject.jpg");
    // A 200×200 cover scales by 200/576 (to 356×200) and keeps a 200-wide window of that:
    // `height=200` is the same resize, uncropped.
    let scale = 200.0 / 576.0;
    let cover = rgba(&render(&bytes, "height=200&format=png"));
    assert_eq!(cover.height(), 200);
    // Each column's mean colour: where a window's columns match the cover's is its offset.
    let columns = |img: &RgbaImage| -> Vec<[f64; 3]> {
        (0..img.width())
            .map(|x| {
                let mut sum = [0.0; 3];
                for y in 0..img.height() {
                    let p = img.get_pixel(x, y);
                    for (s, v) in sum.iter_mut().zip(p.0) {
                        *s += f64::from(v);
                    }
                }
                sum.map(|s| s / f64::from(img.height()))
            })
            .collect()
    };
    let cover_columns = columns(&cover);
    // The share of the box's area inside a 200×200 render, found in the cover by matching.
    let kept = |extra: &str| -> f64 {
        let query = format!("width=200&height=200&format=png{extra}");
        let out = rgba(&render(&bytes, &query));
        assert_eq!(out.dimensions(), (200, 200));
        let out_columns = columns(&out);
        let mismatch = |offset: usize| -> f64 {
            out_columns
                .iter()
                .zip(&cover_columns[offset..])
                .map(|(a, b)| a.iter().zip(b).map(|(a, b)| (a - b).abs()).sum::<f64>())
                .sum()
        };
        let offset = (0..=cover_columns.len() - 200)
            .min_by(|&a, &b| mismatch(a).total_cmp(&mismatch(b)))
            .expect("the cover is at least as wide as the square");
        // It is that window of the cover, pixel for pixel.
        let left = u32::try_from(offset).expect("small");
        let window = cover.view(left, 0, 200, 200).to_image();
        let diff = crate::support::mean_abs_diff(&out, &window);
        assert!(diff < 1.0, "{query}: window at x={left}, mean diff {diff}");
        // The window in the fixture's pixels: all of its height, this range of its width.
        let (from, to) = (f64::from(left) / scale, f64::from(left + 200) / scale);
        let inside = (x1.min(to) - x0.max(from)).max(0.0) * (y1 - y0);
        inside / ((x1 - x0) * (y1 - y0))
    };
    let attention = kept("&gravity=attention");
    let centre = kept("");
    assert!(
        attention >= 0.8,
        "attention keeps {attention:.2} of the subject"
    );
    // The centre crop cuts most of it away: attention is what keeps it.
    assert!(
        centre < 0.8 && centre < attention,
        "centre keeps {centre:.2}, attention {attention:.2}"
    );
}

#[test]
fn a_colour_background_colours_the_bars_of_a_grey_image() {
    let grey = {
        let img = image::GrayImage::from_pixel(100, 50, image::Luma([128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encodes");
        out.into_inner()
    };
    let out = rgba(&render(
        &grey,
        "width=100&height=100&fit=contain&background=ff0000&format=png",
    ));
    assert!(is_red(*out.get_pixel(50, 2)), "{:?}", out.get_pixel(50, 2));
    let middle = out.get_pixel(50, 50);
    assert!(
        middle[0] == middle[1] && middle[1] == middle[2],
        "{middle:?}"
    );
}
