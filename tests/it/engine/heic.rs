//! HEIC, decoded by Debian's libheif beside whichever libvips is linked: its header, its
//! pixels checked against an independent decoder of an independent file, libheif's
//! transforms and colour profile, the limits, and the decode kept for a `srcset`.

use std::time::Duration;

use image::RgbaImage;
use imgedge::error::PublicError as _;
use imgedge_engine::{Engine, EngineConfig, SourceFormat};
use imgedge_url::Format;

use super::{DETAIL, LIGHT};
use crate::support::{engine, mean_abs_diff, photo, render, render_err, rgba, spec};

/// `detail.jpg` as HEIC, 640×426 (testdata/photos/README.md).
const HEIC: &str = "detail.heic";
/// `detail.heic` halved, stored turned 90° clockwise, with an `irot` turning it back.
const ROTATED: &str = "rotated-irot.heic";
/// `detail.heic` halved, red and blue swapped, with an ICC profile swapping them back.
const SWAPPED: &str = "swapped-icc.heic";
/// `oriented-6-gps.jpg` as HEIC: Exif with orientation 6 (no `irot`), GPS and XMP.
const EXIF: &str = "oriented-6-exif.heic";

/// Mean of each colour channel.
fn channel_means(img: &RgbaImage) -> [f64; 3] {
    let mut sums = [0u64; 3];
    for p in img.pixels() {
        for (sum, value) in sums.iter_mut().zip(p.0) {
            *sum += u64::from(value);
        }
    }
    let n = f64::from(img.width() * img.height());
    sums.map(|sum| sum as f64 / n)
}

/// Whether `got` looks like `want`: close pixel by pixel (`mean_abs_diff` below `max_diff`)
/// and with the same colour balance (each channel's mean within 2.5 levels). The reasons
/// it does not, if not.
fn resembles(got: &RgbaImage, want: &RgbaImage, max_diff: f64) -> Result<(), String> {
    let diff = mean_abs_diff(got, want);
    let (g, w) = (channel_means(got), channel_means(want));
    let balanced = g.iter().zip(&w).all(|(a, b)| (a - b).abs() < 2.5);
    if diff < max_diff && balanced {
        Ok(())
    } else {
        Err(format!(
            "mean difference {diff:.2} (limit {max_diff}), channel means {g:.1?} against {w:.1?}"
        ))
    }
}

/// R and B exchanged: what a decoder that mixed up BGR and RGB would show.
fn swap_red_blue(img: &RgbaImage) -> RgbaImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0.swap(0, 2);
    }
    out
}

/// Asserts that `heic` rendered with `query` resembles `detail.jpg` rendered the same way,
/// and that the check would catch swapped channels or an upside-down image.
fn assert_matches_detail_jpg(heic: &str, query: &str, max_diff: f64) {
    let want = rgba(&render(&photo(DETAIL), query));
    let got = rgba(&render(&photo(heic), query));
    assert_eq!(got.dimensions(), want.dimensions(), "{heic}: size");
    if let Err(why) = resembles(&got, &want, max_diff) {
        panic!("{heic} {query:?} does not look like {DETAIL}: {why}");
    }
    // The check has the power to see the mistakes it is there for.
    assert!(
        resembles(&swap_red_blue(&got), &want, max_diff).is_err(),
        "{heic}: swapped channels would pass"
    );
    assert!(
        resembles(&image::imageops::rotate180(&got), &want, max_diff).is_err(),
        "{heic}: an upside-down image would pass"
    );
}

#[test]
fn heic_looks_like_the_jpeg_it_was_made_from_decoded_independently() {
    // detail.heic was made from detail.jpg; libjpeg (inside libvips) decodes the JPEG,
    // libheif with libde265 the HEIC, and the `image` crate reads both PNG outputs. The
    // two lossy encodings differ by about 3 levels on average.
    assert_matches_detail_jpg(HEIC, "width=640&format=png", 6.0);
}

#[test]
fn heic_header_comes_from_libheif_and_the_decode_is_whole() {
    let engine = engine();
    let info = engine.verify(&photo(HEIC)).expect("a whole HEIC");
    assert_eq!(info.format, SourceFormat::Heic);
    assert_eq!((info.width, info.height, info.frames), (640, 426, 1));
    assert!(!info.has_alpha);
    let out = render(&photo(HEIC), "");
    assert_eq!(
        out.format,
        Format::Jpeg,
        "a HEIC without alpha becomes JPEG"
    );
    assert_eq!((out.width, out.height), (640, 426));
}

#[test]
fn an_irot_rotation_is_applied_by_libheif() {
    let engine = engine();
    let info = engine.inspect(&photo(ROTATED)).expect("reads");
    // Stored 213×320 (a grid of one tile, cropped), shown 320×213.
    assert_eq!((info.width, info.height), (320, 213), "the displayed size");
    // Halved and encoded twice: about 7 levels from the JPEG on average.
    assert_matches_detail_jpg(ROTATED, "width=320&format=png", 9.0);
    // Steps after the decode turn what is displayed, as for any format.
    let turned = render(&photo(ROTATED), "rotate=90&format=png");
    assert_eq!((turned.width, turned.height), (213, 320));
}

#[test]
fn an_icc_profile_is_applied_before_the_output_is_srgb() {
    // The pixels have red and blue swapped, and the profile's red and blue colorants are
    // swapped too: only a decode that converts with the profile gets the colours back.
    assert_matches_detail_jpg(SWAPPED, "width=320&format=png", 9.0);
}

#[test]
fn exif_orientation_in_a_heic_is_ignored_and_its_metadata_never_reaches_an_output() {
    let engine = engine();
    let bytes = photo(EXIF);
    // HEIF's own transforms decide; the Exif orientation (6) inside is not applied.
    let info = engine.inspect(&bytes).expect("reads");
    assert_eq!((info.width, info.height), (600, 800));
    for format in ["jpeg", "png", "webp", "avif"] {
        let out = render(&bytes, &format!("width=300&format={format}"));
        assert_eq!((out.width, out.height), (300, 400), "{format}");
        crate::support::assert_no_metadata(&out.bytes, &format!("HEIC to {format}"));
    }
}

#[test]
fn one_process_renders_avif_and_heic_originals() {
    // Sharp's libvips decodes the AVIF, Debian's libheif the HEIC, in one process.
    let engine = engine();
    let avif = render(&photo(LIGHT), "width=300&format=avif").bytes;
    let heic = photo(HEIC);
    for _ in 0..2 {
        let info = engine.inspect(&avif).expect("AVIF reads");
        assert_eq!(info.format, SourceFormat::Avif);
        let out = engine
            .render(&avif, &spec("width=200&format=png"))
            .expect("AVIF");
        assert_eq!((out.width, out.height), (200, 113));
        rgba(&out);
        let info = engine.inspect(&heic).expect("HEIC reads");
        assert_eq!(info.format, SourceFormat::Heic);
        let out = engine
            .render(&heic, &spec("width=200&format=png"))
            .expect("HEIC");
        assert_eq!((out.width, out.height), (200, 133));
        rgba(&out);
    }
}

/// `detail.heic` with its `ispe` saying `width`×`height`: a header libheif reads, over coded
/// data of another size.
fn with_size(width: u32, height: u32) -> Vec<u8> {
    let mut out = photo(HEIC);
    let ispe = crate::support::find(&out, b"ispe").expect("ispe in detail.heic");
    out[ispe + 8..ispe + 12].copy_from_slice(&width.to_be_bytes());
    out[ispe + 12..ispe + 16].copy_from_slice(&height.to_be_bytes());
    out
}

#[test]
fn too_many_pixels_in_a_heic_header_is_refused_before_any_decode() {
    let engine = engine();
    let bytes = with_size(10_000, 6_000);
    let e = engine.inspect(&bytes).expect_err("60 MP is over the limit");
    assert_eq!(e.code(), "too_many_pixels", "{e}");
    assert_eq!(
        render_err(&engine, &bytes, "width=100").code(),
        "too_many_pixels"
    );
    assert_eq!(
        engine.verify(&bytes).expect_err("refused").code(),
        "too_many_pixels"
    );
    // Within the limit, the same header reads, and the coded data, of another size, is
    // then found corrupt (libheif 1.15 reads the item locations with the header: a file cut
    // before its data does not even read; see `a_truncated_heic_is_corrupt_image`).
    let small = with_size(320, 200);
    assert_eq!(engine.inspect(&small).expect("a header").width, 320);
    assert_eq!(
        engine.verify(&small).expect_err("sizes disagree").code(),
        "corrupt_image"
    );
    // libheif's own bound (65,535 a side) refuses what it will not parse.
    let long = with_size(70_000, 10);
    assert_eq!(
        engine.inspect(&long).expect_err("refused").code(),
        "corrupt_image"
    );
}

#[test]
fn a_truncated_heic_is_corrupt_image() {
    let engine = engine();
    let full = photo(HEIC);
    for cut in [full.len() / 2, full.len() - 1] {
        let cut = &full[..cut];
        assert_eq!(
            engine.verify(cut).expect_err("truncated").code(),
            "corrupt_image"
        );
        assert_eq!(
            render_err(&engine, cut, "width=100").code(),
            "corrupt_image"
        );
    }
}

#[test]
fn a_heic_render_past_its_deadline_is_render_timeout() {
    // libheif's decode cannot be stopped; the deadline is checked before and after it.
    let engine = Engine::new(EngineConfig {
        render_timeout: Duration::from_millis(1),
        ..EngineConfig::default()
    })
    .expect("starts");
    let e = render_err(&engine, &photo(HEIC), "blur=20&format=avif");
    assert_eq!(e.code(), "render_timeout", "{e}");
}

#[test]
fn a_heic_decode_is_kept_for_more_widths_and_renders_the_same_bytes() {
    let engine = engine();
    let bytes = photo(HEIC);
    let first = spec("width=400&format=webp");
    let (out, kept) = engine
        .render_keeping(&bytes, &first, 10 << 20)
        .expect("renders");
    let kept = kept.expect("a 640×426 HEIC decode is kept");
    assert_eq!(kept.shrink(), 1);
    assert_eq!(
        out.bytes,
        engine.render(&bytes, &first).expect("renders").bytes
    );
    for query in ["width=200&format=png", "width=320&rotate=90&format=jpeg"] {
        let s = spec(query);
        assert!(kept.serves(&s), "{query}");
        let from_kept = engine.render_decoded(&kept, &s).expect("renders");
        let from_bytes = engine.render(&bytes, &s).expect("renders");
        assert_eq!(from_kept.bytes, from_bytes.bytes, "{query}");
    }
    // Over the budget it is not kept, and the render is the same.
    let (again, none) = engine
        .render_keeping(&bytes, &first, 1000)
        .expect("renders");
    assert!(none.is_none());
    assert_eq!(again.bytes, out.bytes);
}

#[test]
fn the_upload_metadata_bound_counts_a_heif_s_exif_xmp_and_icc() {
    use imgedge_upload::{Refusal, Sniffed, UploadLimits, check, check_metadata};
    // heif-info: Exif 394 bytes, XMP 3095 bytes.
    let exif = photo(EXIF);
    assert!(check_metadata(Sniffed::Heif, &exif, 3489).is_ok());
    assert!(check_metadata(Sniffed::Heif, &exif, 3488).is_err());
    // The ICC profile alone (a few hundred bytes).
    let icc = photo(SWAPPED);
    assert!(check_metadata(Sniffed::Heif, &icc, 100).is_err());
    assert!(check_metadata(Sniffed::Heif, &icc, 4096).is_ok());
    assert!(check_metadata(Sniffed::Heif, &photo(HEIC), 0).is_ok());
    // The whole upload check refuses before any decode.
    let limits = UploadLimits {
        max_frames: 1,
        max_metadata_bytes: 3000,
    };
    match check(&engine(), &exif, limits) {
        Err(Refusal::Metadata(_)) => {}
        other => panic!("expected metadata_too_large, got {other:?}"),
    }
    let accepted = check(&engine(), &photo(ROTATED), limits).expect("accepted");
    assert_eq!(accepted.info.format, SourceFormat::Heic);
}
