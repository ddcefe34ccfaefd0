//! Feeds arbitrary bytes to the upload type sniffer, `imgedge_upload::sniff`.
//!
//! The sniffer walks each format's structure by offsets and lengths read from the file, so
//! besides never panicking (no slice out of range, no overflow: the fuzz build has overflow
//! checks on) its verdict must follow the rules it documents:
//! - `Empty` exactly for an empty file;
//! - an accepted format, or trailing data after one, only when the file starts with that
//!   format's magic number, and `Unknown` exactly when it starts with none;
//! - `TrailingData(n)` counts bytes that are really there: `0 < n`, and at most the file's
//!   length without its trailing zeros (a malformed first box or RIFF size may make the
//!   magic number itself count);
//! - zero padding appended never changes the verdict (it is tolerated, and zeros cannot
//!   carry a second file), except that it may complete a file whose structure ran past its
//!   end (`NoEnd`); taking trailing zeros away may only make a file `NoEnd`.
#![no_main]

use imgedge_upload::{SniffError, Sniffed, sniff};
use libfuzzer_sys::fuzz_target;

/// The format whose magic number `bytes` starts with, written from the formats' own
/// specifications rather than from the sniffer.
fn magic(bytes: &[u8]) -> Option<Sniffed> {
    const HEIF_BRANDS: [&[u8]; 11] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"avif",
        b"avis",
    ];
    if bytes.starts_with(b"\xff\xd8\xff") {
        Some(Sniffed::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Sniffed::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Sniffed::Gif)
    } else if bytes.get(..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(Sniffed::Webp)
    } else if bytes.get(4..8) == Some(b"ftyp")
        && bytes
            .get(8..12)
            .is_some_and(|brand| HEIF_BRANDS.contains(&brand))
        // ISO/IEC 14496-12: a box's size counts its 8-byte header; a file-type box holds a
        // major brand, a version and its compatible brands (4 bytes each), a few dozen bytes.
        && (12..=4096).contains(&u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    {
        Some(Sniffed::Heif)
    } else {
        None
    }
}

/// The length of `bytes` without its trailing zeros.
fn len_without_padding(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)
}

fuzz_target!(|data: &[u8]| {
    let verdict = sniff(data);
    let expected = magic(data);
    match verdict {
        Err(SniffError::Empty) => assert!(data.is_empty(), "Empty for {} bytes", data.len()),
        Err(SniffError::Unknown) => {
            assert!(!data.is_empty(), "an empty file is Empty, not Unknown");
            assert_eq!(
                expected, None,
                "Unknown, but the file starts with a magic number"
            );
        }
        Ok(format) => {
            assert_eq!(expected, Some(format), "accepted as {format:?}");
            assert!(format.mime().starts_with("image/"));
        }
        Err(SniffError::NoEnd) => {
            let format = expected.expect("NoEnd for a file with no magic number");
            // HEIF's boxes tile the file (what does not fit is trailing data); the others
            // have an end to find, which may be missing or past the file.
            assert_ne!(format, Sniffed::Heif, "NoEnd for HEIF");
        }
        Err(SniffError::TrailingData(n)) => {
            let format = expected.expect("TrailingData for a file with no magic number");
            assert!(n > 0, "TrailingData(0) for {format:?}");
            assert!(
                n <= len_without_padding(data),
                "TrailingData({n}) for {format:?} of {} bytes",
                data.len()
            );
        }
    }
    if data.is_empty() {
        return;
    }

    // Zero padding: appending zeros never changes the verdict. Taking the file's trailing
    // zeros away may cut into its structure (a WebP's pad byte, pixel data that ends in
    // zeros), which may only make it `NoEnd`.
    let trimmed = &data[..len_without_padding(data)];
    if !trimmed.is_empty() {
        let cut = sniff(trimmed);
        assert!(
            cut == verdict || cut == Err(SniffError::NoEnd),
            "trailing zeros removed: {cut:?}, was {verdict:?}"
        );
    }
    let mut padded = data.to_vec();
    padded.extend_from_slice(&[0; 16]);
    // Zeros may complete a structure that ran past the end (they are its data then); any
    // other verdict stays.
    if verdict != Err(SniffError::NoEnd) {
        assert_eq!(sniff(&padded), verdict, "16 zero bytes appended");
    }
});
