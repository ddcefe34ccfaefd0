//! Shared helpers for the engine tests: fixtures, rendering, independent decoding (the
//! `image` crate, not libvips) and byte-level checks of encoded outputs.

use imgedge::error::PublicError as _;
use std::path::PathBuf;

use image::{ImageFormat, RgbaImage};
use imgedge_engine::{Engine, EngineConfig, EngineError, Rendered};
use imgedge_url::{Format, TransformSpec};

/// The bytes of a photo in `testdata/photos/`.
pub(crate) fn photo(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "testdata", "photos", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// An engine with the default configuration.
pub(crate) fn engine() -> Engine {
    Engine::new(EngineConfig::default()).expect("libvips starts")
}

/// The spec for a raw query, which must be valid.
pub(crate) fn spec(query: &str) -> TransformSpec {
    TransformSpec::parse(query)
        .unwrap_or_else(|e| panic!("query {query:?} is valid: {e:?}"))
        .into_spec()
}

/// Renders `query` on `bytes` with the default engine; the render must succeed.
pub(crate) fn render(bytes: &[u8], query: &str) -> Rendered {
    engine()
        .render(bytes, &spec(query))
        .unwrap_or_else(|e| panic!("rendering {query:?}: {e} ({})", e.code()))
}

/// Renders `query` on `bytes`, which must fail; returns the error.
pub(crate) fn render_err(engine: &Engine, bytes: &[u8], query: &str) -> EngineError {
    match engine.render(bytes, &spec(query)) {
        Ok(out) => panic!(
            "rendering {query:?} should fail, got {}x{} {:?}",
            out.width, out.height, out.format
        ),
        Err(e) => e,
    }
}

/// The `image` crate's name for an output format it can decode (not AVIF).
fn image_format(format: Format) -> ImageFormat {
    match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Webp => ImageFormat::WebP,
        Format::Avif => panic!("the image crate is built without an AVIF decoder"),
    }
}

/// Decodes a render independently of libvips, checking the format and dimensions it claims.
pub(crate) fn decode(out: &Rendered) -> image::DynamicImage {
    assert_eq!(
        sniff(&out.bytes),
        Some(out.format),
        "the bytes are the format the render reports"
    );
    let decoded = image::load_from_memory_with_format(&out.bytes, image_format(out.format))
        .expect("the output decodes with the image crate");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (out.width, out.height),
        "decoded size matches the size the render reports"
    );
    decoded
}

/// Decodes a render to 8-bit RGBA.
pub(crate) fn rgba(out: &Rendered) -> RgbaImage {
    decode(out).to_rgba8()
}

/// The output format told by the bytes' magic numbers.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if is_avif(bytes) {
        Some(Format::Avif)
    } else {
        None
    }
}

/// An ISO-BMFF file whose first box is `ftyp` with the `avif` brand (major or compatible).
fn is_avif(bytes: &[u8]) -> bool {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = be32(&bytes[..4]) as usize;
    let Some(ftyp) = bytes.get(8..size) else {
        return false;
    };
    // Major brand, minor version, then compatible brands.
    ftyp.chunks_exact(4)
        .enumerate()
        .any(|(i, brand)| i != 1 && brand == b"avif")
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Asserts that an encoded output carries no metadata: no EXIF (so no GPS), no XMP, no IPTC,
/// no ICC profile, and none of the test photo's metadata strings, in any format.
pub(crate) fn assert_no_metadata(bytes: &[u8], what: &str) {
    let forbidden: [&[u8]; 10] = [
        b"Exif\0\0",
        b"http://ns.adobe.com/xap/1.0/",
        b"<x:xmpmeta",
        b"Photoshop 3.0",
        b"ICC_PROFILE",
        // Strings that oriented-6-gps.jpg carries in its EXIF, XMP and IPTC.
        b"Berasategi",
        b"imgedge test fixture",
        b"imgedge-fixture",
        b"picosdeeuropa",
        b"CC-BY-4.0",
    ];
    for needle in forbidden {
        assert!(
            find(bytes, needle).is_none(),
            "{what}: output contains {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    match sniff(bytes) {
        Some(Format::Jpeg) => jpeg_no_metadata(bytes, what),
        Some(Format::Png) => png_no_metadata(bytes, what),
        Some(Format::Webp) => webp_no_metadata(bytes, what),
        Some(Format::Avif) => avif_no_metadata(bytes, what),
        None => panic!("{what}: not a known output format"),
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// JPEG: only JFIF (APP0) may precede the image; no APP1 (EXIF/XMP), APP2 (ICC), APP13
/// (IPTC) or any other application segment.
fn jpeg_no_metadata(bytes: &[u8], what: &str) {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        assert_eq!(bytes[i], 0xFF, "{what}: JPEG marker expected at {i}");
        let marker = bytes[i + 1];
        if marker == 0xDA {
            break; // Start of scan: entropy-coded data follows.
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        assert!(
            !(0xE1..=0xEF).contains(&marker),
            "{what}: JPEG has an APP{} segment",
            marker - 0xE0
        );
        i += 2 + len;
    }
}

/// PNG: no `eXIf`, `iCCP`, `sRGB`-with-profile or text chunks (where XMP lives).
fn png_no_metadata(bytes: &[u8], what: &str) {
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = be32(&bytes[i..i + 4]) as usize;
        let kind = &bytes[i + 4..i + 8];
        assert!(
            !matches!(kind, b"eXIf" | b"iCCP" | b"iTXt" | b"tEXt" | b"zTXt"),
            "{what}: PNG has a {} chunk",
            String::from_utf8_lossy(kind)
        );
        i += 12 + len;
    }
}

/// WebP: no `EXIF`, `XMP ` or `ICCP` chunks.
fn webp_no_metadata(bytes: &[u8], what: &str) {
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let kind = &bytes[i..i + 4];
        let len =
            u32::from_le_bytes([bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]]) as usize;
        assert!(
            !matches!(kind, b"EXIF" | b"XMP " | b"ICCP"),
            "{what}: WebP has a {} chunk",
            String::from_utf8_lossy(kind)
        );
        i += 8 + len + (len & 1);
    }
}

/// AVIF: no `Exif` or `mime` (XMP) item, and any `colr` box is `nclx` (no ICC profile).
fn avif_no_metadata(bytes: &[u8], what: &str) {
    // The metadata lives in the `meta` box, before the coded image (`mdat`).
    let meta_end = find(bytes, b"mdat").unwrap_or(bytes.len());
    let meta = &bytes[..meta_end];
    for needle in [&b"Exif"[..], b"mime", b"application/rdf+xml"] {
        assert!(
            find(meta, needle).is_none(),
            "{what}: AVIF has {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    let mut rest = meta;
    while let Some(at) = find(rest, b"colr") {
        let kind = rest.get(at + 4..at + 8).unwrap_or_default();
        assert_eq!(
            kind, b"nclx",
            "{what}: AVIF colr box is not nclx (an ICC profile)"
        );
        rest = &rest[at + 4..];
    }
}

/// Mean absolute difference per channel between two same-sized RGBA images.
pub(crate) fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(
        a.dimensions(),
        b.dimensions(),
        "images to compare differ in size"
    );
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Sum of absolute differences between horizontally and vertically neighbouring pixels (RGB),
/// per pixel: a measure of high-frequency energy.
pub(crate) fn edge_energy(img: &RgbaImage) -> f64 {
    let (w, h) = img.dimensions();
    let mut total = 0u64;
    for y in 0..h {
        for x in 0..w {
            let p = img.get_pixel(x, y);
            let mut add = |q: &image::Rgba<u8>| {
                total += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
            };
            if x + 1 < w {
                add(img.get_pixel(x + 1, y));
            }
            if y + 1 < h {
                add(img.get_pixel(x, y + 1));
            }
        }
    }
    total as f64 / f64::from(w * h)
}

/// Mean luma (Rec. 601) of a rectangle.
pub(crate) fn mean_luma(img: &RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
    let mut sum = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = img.get_pixel(x, y);
            sum += 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
        }
    }
    sum / f64::from((x1 - x0) * (y1 - y0))
}

/// Writes `bytes` to the system temp directory (to look at an output by eye) when
/// `IMGEDGE_TEST_DUMP` is set; does nothing otherwise.
pub(crate) fn dump(name: &str, bytes: &[u8]) {
    if std::env::var_os("IMGEDGE_TEST_DUMP").is_some() {
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, bytes).expect("writing a dump file");
    }
}

/// A PNG file of `width`×`height` 8-bit RGB whose only chunks are a valid IHDR (with CRC),
/// an IDAT holding one empty zlib stream and IEND: a header that lies about its size.
pub(crate) fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&kind);
        crc.update(data);
        out.extend_from_slice(&kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, *b"IHDR", &ihdr);
    // An empty stored deflate block in a zlib wrapper.
    chunk(
        &mut out,
        *b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    chunk(&mut out, *b"IEND", &[]);
    out
}

/// A `GIF89a` file of `width`×`height` with a 256-colour palette: pixel (x, y)
/// uses colour index `(x + y) % 250`, a grey ramp. With `transparent`, index 0 is transparent
/// (so the pixels on the anti-diagonals where `x + y` is a multiple of 250 are too).
///
/// LZW without compression: every pixel is its own 9-bit code, and a clear code every
/// 254 pixels keeps the decoder's table (and so the code width) from growing.
pub(crate) fn gif(width: u16, height: u16, transparent: bool) -> Vec<u8> {
    const CLEAR: u16 = 256;
    const END: u16 = 257;
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    // Global colour table of 2^(7+1) = 256 entries, 8 bits per primary.
    out.extend_from_slice(&[0xF7, 0, 0]);
    for i in 0..=255u8 {
        out.extend_from_slice(&[i, i, i]);
    }
    if transparent {
        // Graphic control extension: transparent colour flag, index 0.
        out.extend_from_slice(&[0x21, 0xF9, 4, 0x01, 0, 0, 0, 0]);
    }
    out.push(0x2C);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.push(0);
    out.push(8); // LZW minimum code size.

    let mut codes = vec![CLEAR];
    let mut since_clear = 0;
    for y in 0..height {
        for x in 0..width {
            if since_clear == 254 {
                codes.push(CLEAR);
                since_clear = 0;
            }
            codes.push((x + y) % 250);
            since_clear += 1;
        }
    }
    codes.push(END);
    // Pack the 9-bit codes LSB first.
    let mut data = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for code in codes {
        acc |= u32::from(code) << bits;
        bits += 9;
        while bits >= 8 {
            data.push((acc & 0xFF) as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        data.push((acc & 0xFF) as u8);
    }
    for block in data.chunks(255) {
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.push(0); // Block terminator.
    out.push(0x3B); // Trailer.
    out
}

/// Files under `dir`, however deep (the embedded S3 server keeps one file per object); none
/// when it does not exist.
pub(crate) fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map_or_else(
        |_| Vec::new(),
        |entries| {
            entries
                .flatten()
                .flat_map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        files_under(&path)
                    } else {
                        vec![path]
                    }
                })
                .collect()
        },
    )
}
