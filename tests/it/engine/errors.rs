//! Bad inputs: empty, truncated, unsupported or too many pixels, a typed error with its
//! code, never a panic.

use imgedge::error::PublicError as _;
use std::time::{Duration, Instant};

use super::{LIGHT, SVG};
use crate::support::{engine, photo, png_header_only, render, render_err};

fn assert_code(
    result: Result<impl std::fmt::Debug, imgedge_engine::EngineError>,
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
