//! How much metadata an upload carries once inflated, found by walking the container (PNG
//! chunks, JPEG marker segments, RIFF chunks, HEIF items) before any decoder sees the file.
//!
//! Metadata is the cheap way to make a decoder work: a PNG `zTXt` chunk of 50 KB inflates to
//! 50 MB of text, which libpng inflates while it reads the header, before a pixel is
//! decoded, and imgedge strips every byte of it from its outputs anyway. So an upload whose
//! metadata (PNG text chunks, `iCCP` and `eXIf`; JPEG APP segments and comments; WebP
//! `EXIF`, `XMP ` and `ICCP` chunks; HEIF's metadata items and ICC profile) adds up to more
//! than a bound is refused. Compressed chunks are inflated only up to what is left of the
//! bound, so the walk itself costs at most the bound's worth of inflating. HEIF (HEIC and
//! AVIF) is walked by libheif, through the engine, which parses the container and no pixel:
//! the primary image's items count as stored (an XMP item libheif would inflate counts its
//! compressed size; imgedge never reads one). GIF comments are not counted: libvips reads no
//! metadata from GIF.

use std::io::Read as _;

use crate::Sniffed;

/// The metadata went past the bound, in bytes once inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the image's metadata is larger than {limit} bytes")]
pub struct MetadataTooLarge {
    pub limit: u64,
}

/// Checks that the metadata of `bytes`, a file the sniffer identified as `format`, adds up
/// to at most `limit` bytes once inflated. Malformed structure is not this check's business
/// (the sniffer and the decoder refuse it): the walk stops where the structure ends.
pub fn check_metadata(format: Sniffed, bytes: &[u8], limit: u64) -> Result<(), MetadataTooLarge> {
    let mut budget = Budget { left: limit, limit };
    match format {
        Sniffed::Png => png(bytes, &mut budget),
        Sniffed::Jpeg => jpeg(bytes, &mut budget),
        Sniffed::Webp => webp(bytes, &mut budget),
        Sniffed::Heif => heif(bytes, &mut budget),
        Sniffed::Gif => Ok(()),
    }
}

/// HEIF: the primary image's metadata items and ICC profile, read by libheif. A file it
/// cannot parse is the decoder's to refuse.
fn heif(bytes: &[u8], budget: &mut Budget) -> Result<(), MetadataTooLarge> {
    match imgedge_engine::heif_metadata_bytes(bytes) {
        Ok(size) => budget.take(size),
        Err(_) => Ok(()),
    }
}

/// What is left of the bound.
struct Budget {
    left: u64,
    limit: u64,
}

impl Budget {
    fn take(&mut self, bytes: u64) -> Result<(), MetadataTooLarge> {
        self.left = self
            .left
            .checked_sub(bytes)
            .ok_or(MetadataTooLarge { limit: self.limit })?;
        Ok(())
    }

    /// Takes what the zlib stream `compressed` inflates to, inflating at most one byte
    /// more than is left. A stream that is corrupt counts what it inflated before the
    /// damage (the decoder refuses the file for the damage itself).
    fn take_inflated(&mut self, compressed: &[u8]) -> Result<(), MetadataTooLarge> {
        let mut inflating =
            flate2::read::ZlibDecoder::new(compressed).take(self.left.saturating_add(1));
        let mut buf = [0u8; 16 * 1024];
        let mut inflated = 0u64;
        while let Ok(n @ 1..) = inflating.read(&mut buf) {
            inflated += n as u64;
        }
        self.take(inflated)
    }
}

/// The bytes after the NUL that ends a keyword at the start of `data` (PNG text and ICC
/// chunks start with a 1 to 79 byte keyword).
fn after_keyword(data: &[u8]) -> &[u8] {
    data.iter()
        .position(|&b| b == 0)
        .map_or(&[][..], |nul| &data[nul + 1..])
}

/// PNG: chunks up to IDAT (libpng reads what follows IDAT too, so the walk goes to IEND).
fn png(bytes: &[u8], budget: &mut Budget) -> Result<(), MetadataTooLarge> {
    let mut at = 8usize;
    while let Some(head) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let Some(data) = at
            .checked_add(8 + length)
            .and_then(|end| bytes.get(at + 8..end))
        else {
            return Ok(());
        };
        match kind {
            b"tEXt" | b"eXIf" => budget.take(length as u64)?,
            // Keyword, NUL, compression method (1 byte), zlib stream.
            b"zTXt" | b"iCCP" => {
                let rest = after_keyword(data);
                budget.take((data.len() - rest.len()) as u64)?;
                budget.take_inflated(rest.get(1..).unwrap_or_default())?;
            }
            // Keyword, NUL, compression flag, method, language tag, NUL, translated
            // keyword, NUL, text (a zlib stream when the flag is 1).
            b"iTXt" => {
                let rest = after_keyword(data);
                let compressed = rest.first() == Some(&1);
                let text = after_keyword(after_keyword(rest.get(2..).unwrap_or_default()));
                budget.take((data.len() - text.len()) as u64)?;
                if compressed {
                    budget.take_inflated(text)?;
                } else {
                    budget.take(text.len() as u64)?;
                }
            }
            b"IEND" => return Ok(()),
            _ => {}
        }
        at += 12 + length;
    }
    Ok(())
}

/// JPEG: the marker segments before the first scan (libjpeg keeps APP segments and
/// comments only from there).
fn jpeg(bytes: &[u8], budget: &mut Budget) -> Result<(), MetadataTooLarge> {
    let mut at = 2usize;
    loop {
        // Fill bytes, and anything where a marker should be, as the sniffer skips them.
        while bytes.get(at).is_some_and(|&b| b != 0xff) {
            at += 1;
        }
        while bytes.get(at) == Some(&0xff) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return Ok(());
        };
        at += 1;
        match marker {
            0xda | 0xd9 => return Ok(()),
            0x01 | 0xd0..=0xd7 => {}
            _ => {
                let Some(length) = bytes
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                else {
                    return Ok(());
                };
                if matches!(marker, 0xe0..=0xef | 0xfe) {
                    budget.take(length.saturating_sub(2) as u64)?;
                }
                at += length;
            }
        }
    }
}

/// WebP: the RIFF chunks after the `WEBP` form type, each padded to an even size.
fn webp(bytes: &[u8], budget: &mut Budget) -> Result<(), MetadataTooLarge> {
    let mut at = 12usize;
    while let Some(head) = bytes.get(at..at + 8) {
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        if matches!(&head[..4], b"EXIF" | b"XMP " | b"ICCP") {
            budget.take(size)?;
        }
        let Some(next) = usize::try_from(size + size % 2)
            .ok()
            .and_then(|padded| at.checked_add(8 + padded))
        else {
            return Ok(());
        };
        at = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    const MIB: u64 = 1 << 20;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).expect("compress");
        z.finish().expect("compress")
    }

    fn png_with(kind: [u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&u32::try_from(data.len()).expect("size").to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0; 4]);
        };
        chunk(b"IHDR", &[0; 13]);
        chunk(&kind, data);
        chunk(b"IDAT", &[0; 8]);
        chunk(b"IEND", &[]);
        out
    }

    fn check_png(kind: [u8; 4], data: &[u8], limit: u64) -> Result<(), MetadataTooLarge> {
        check_metadata(Sniffed::Png, &png_with(kind, data), limit)
    }

    #[test]
    fn png_text_and_profiles_count_inflated() {
        let bomb = zlib(&vec![0; 4 * MIB as usize]);
        assert!(bomb.len() < 8 * 1024, "{}", bomb.len());
        let ztxt = [b"Comment\0\0".as_slice(), &bomb].concat();
        assert_eq!(
            check_png(*b"zTXt", &ztxt, MIB),
            Err(MetadataTooLarge { limit: MIB })
        );
        assert_eq!(check_png(*b"zTXt", &ztxt, 5 * MIB), Ok(()));
        let iccp = [b"icc\0\0".as_slice(), &bomb].concat();
        assert!(check_png(*b"iCCP", &iccp, MIB).is_err());
        let itxt = [b"XML:com.adobe.xmp\0\x01\0en\0\0".as_slice(), &bomb].concat();
        assert!(check_png(*b"iTXt", &itxt, MIB).is_err());
        let plain_itxt = [b"Title\0\0\0en\0\0".as_slice(), &[b'x'; 100]].concat();
        assert_eq!(check_png(*b"iTXt", &plain_itxt, MIB), Ok(()));
        assert!(check_png(*b"tEXt", &vec![b'x'; 2 * MIB as usize], MIB).is_err());
        assert_eq!(check_png(*b"tEXt", b"Title\0a cat", MIB), Ok(()));
        // Pixels are not metadata.
        assert_eq!(check_png(*b"IDAT", &vec![0; 2 * MIB as usize], MIB), Ok(()));
    }

    #[test]
    fn png_chunks_add_up() {
        let mut png = png_with(*b"tEXt", &vec![b'x'; 600 * 1024]);
        let again = png_with(*b"tEXt", &vec![b'x'; 600 * 1024]);
        // A second text chunk before IEND: 1.2 MB in all.
        png.truncate(png.len() - 12);
        png.extend_from_slice(&again[8 + 25..]);
        assert!(check_metadata(Sniffed::Png, &png, MIB).is_err());
    }

    #[test]
    fn a_corrupt_stream_counts_what_it_inflated() {
        let mut bomb = zlib(&vec![0; 4 * MIB as usize]);
        let half = bomb.len() / 2;
        bomb.truncate(half);
        let ztxt = [b"Comment\0\0".as_slice(), &bomb].concat();
        assert!(check_png(*b"zTXt", &ztxt, MIB).is_err());
        assert_eq!(check_png(*b"zTXt", b"Comment\0\0not zlib", MIB), Ok(()));
    }

    fn jpeg_with(segments: &[(u8, usize)]) -> Vec<u8> {
        let mut out = vec![0xff, 0xd8];
        for &(marker, size) in segments {
            out.extend_from_slice(&[0xff, marker]);
            out.extend_from_slice(&u16::try_from(size + 2).expect("size").to_be_bytes());
            out.resize(out.len() + size, 0);
        }
        out.extend_from_slice(&[0xff, 0xda, 0, 2, 0xff, 0xd9]);
        out
    }

    #[test]
    fn jpeg_app_segments_and_comments_add_up() {
        let many = vec![(0xe1, 65_000); 20];
        assert!(check_metadata(Sniffed::Jpeg, &jpeg_with(&many), MIB).is_err());
        let some = [(0xe0, 14), (0xe1, 60_000), (0xe2, 3_000), (0xfe, 100)];
        assert_eq!(
            check_metadata(Sniffed::Jpeg, &jpeg_with(&some), MIB),
            Ok(())
        );
        // Tables are not metadata.
        let tables = vec![(0xdb, 65_000); 20];
        assert_eq!(
            check_metadata(Sniffed::Jpeg, &jpeg_with(&tables), MIB),
            Ok(())
        );
    }

    #[test]
    fn webp_metadata_chunks_add_up() {
        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        for kind in [b"VP8X", b"ICCP", b"EXIF", b"XMP "] {
            let size = if kind == b"VP8X" { 10 } else { 400_001 };
            webp.extend_from_slice(kind);
            webp.extend_from_slice(&u32::try_from(size).expect("size").to_le_bytes());
            webp.resize(webp.len() + size + size % 2, 0);
        }
        assert!(check_metadata(Sniffed::Webp, &webp, MIB).is_err());
        assert_eq!(check_metadata(Sniffed::Webp, &webp, 2 * MIB), Ok(()));
    }

    #[test]
    fn truncated_structures_end_the_walk() {
        // The text chunk is counted once it is whole, and a cut anywhere never panics.
        let png = png_with(*b"tEXt", b"Title\0a cat");
        let text_end = 8 + 25 + 8 + 11;
        for cut in 0..=png.len() {
            let verdict = check_metadata(Sniffed::Png, &png[..cut], 10);
            assert_eq!(verdict.is_err(), cut >= text_end, "cut at {cut}");
        }
        let jpeg = jpeg_with(&[(0xe1, 100)]);
        for cut in 0..=jpeg.len() {
            let verdict = check_metadata(Sniffed::Jpeg, &jpeg[..cut], 50);
            // The segment's length is read as soon as its marker is: what follows may be
            // missing, and the file is refused for it all the same.
            assert_eq!(verdict.is_err(), cut >= 6, "cut at {cut}");
        }
    }
}
