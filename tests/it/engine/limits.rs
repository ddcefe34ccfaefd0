//! Limits: render timeouts and the output pixel limit.

use imgedge::error::PublicError as _;
use std::time::{Duration, Instant};

use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::Format;

use super::{DETAIL, LIGHT};
use crate::support::{engine, photo, render, render_err, spec};

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
    // A budget past decoding and planning and well short of blurring and encoding: the
    // watchdog has to stop libvips mid-render. The budget is taken from this machine's own
    // full render, since a faster libvips or a quieter machine changes every figure.
    // A 6 MP original blurred: a few hundred milliseconds of encoding on any machine (a blur
    // of the 0.7 MP test photo took 56 ms on a quiet one, too short to stop reliably).
    let bytes = six_megapixel_jpeg();
    let slow = spec("blur=100&format=png");
    let full = engine()
        .render(&bytes, &slow)
        .expect("renders with the default timeout");
    let before_encode = full.timings.decode + full.timings.transform;
    let budget = (full.timings.encode / 4).max(before_encode * 2);
    assert!(
        full.timings.encode >= budget * 3 && full.timings.encode >= Duration::from_millis(60),
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
    println!(
        "encode timeout: the full encode takes {:?}; with a budget of {budget:?} stopped after {elapsed:?}",
        full.timings.encode
    );
    assert!(
        elapsed < full.timings.encode / 2 + budget,
        "stopped after {elapsed:?} with a budget of {budget:?}; the full encode takes {:?}",
        full.timings.encode
    );
}

/// A 3000×2000 JPEG of smooth gradients with some texture, made here.
fn six_megapixel_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(3000, 2000, |x, y| {
        let texture = ((x * 7 + y * 13) % 31) as u8;
        image::Rgb([
            (x / 12) as u8 ^ texture,
            (y / 8) as u8,
            ((x + y) / 20) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("encodes");
    out
}

/// A blur reads a window of lines around each line it writes: with a large sigma, wider than
/// a sequential decode's line cache, which several libvips threads then read out of order
/// ("out of order read": 5 of 6 such renders failed on four threads before blurs read from
/// memory).
#[test]
fn a_large_blur_of_a_large_jpeg_renders_on_many_threads() {
    let engine = Engine::new(EngineConfig {
        vips_concurrency: 4,
        ..EngineConfig::default()
    })
    .expect("starts");
    let bytes = six_megapixel_jpeg();
    for _ in 0..4 {
        let out = engine
            .render(&bytes, &spec("blur=100&format=png"))
            .expect("renders");
        assert_eq!((out.width, out.height), (3000, 2000));
    }
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
