//! Metadata and orientation: no metadata in outputs, EXIF orientation applied.

use super::{LIGHT, ORIENTED, size_of};
use crate::support::{
    assert_no_metadata, engine, find, mean_abs_diff, mean_luma, photo, render, rgba,
};

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
