//! What an upload really is, from its bytes: magic numbers, never the file name or the
//! declared Content-Type.
//!
//! Besides recognising the five accepted formats, it refuses files that carry something
//! after the image's own end marker (a JPEG with a ZIP appended, a PNG followed by HTML):
//! such polyglots are a classic way to smuggle content through an image host.

use imgedge_engine::SourceFormat;

/// An accepted upload format, as sniffed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// An ISO-BMFF HEIF container (HEIC or AVIF); the engine tells which from the brand.
    Heif,
}

impl Sniffed {
    /// Whether libvips decoding the file as `decoded` agrees with what its bytes say it is:
    /// a file that is one thing to the sniffer and another to the decoder is refused.
    pub fn agrees_with(self, decoded: SourceFormat) -> bool {
        matches!(
            (self, decoded),
            (Sniffed::Jpeg, SourceFormat::Jpeg)
                | (Sniffed::Png, SourceFormat::Png)
                | (Sniffed::Gif, SourceFormat::Gif)
                | (Sniffed::Webp, SourceFormat::Webp)
                | (Sniffed::Heif, SourceFormat::Heic | SourceFormat::Avif)
        )
    }

    /// The Content-Type stored with the original.
    pub fn mime(self) -> &'static str {
        match self {
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Png => "image/png",
            Sniffed::Gif => "image/gif",
            Sniffed::Webp => "image/webp",
            Sniffed::Heif => "image/heif",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("the file is empty")]
    Empty,
    #[error("not a JPEG, PNG, GIF, WebP or HEIF/AVIF image")]
    Unknown,
    #[error("the file has {0} bytes after the end of the image")]
    TrailingData(usize),
    /// The format's structure never reaches its end marker. Decoders stop once the first
    /// image is complete, so what follows could be anything: the file is refused as
    /// truncated rather than trusted.
    #[error("the image has no end: it is truncated or malformed")]
    NoEnd,
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The largest `ftyp` box accepted; real ones hold a handful of brands.
const FTYP_MAX: usize = 4096;
const HEIF_BRANDS: [&[u8; 4]; 11] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"avif",
    b"avis",
];

/// Identifies `bytes` and checks that nothing follows the image's end marker.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, SniffError> {
    if bytes.is_empty() {
        return Err(SniffError::Empty);
    }
    let format = if bytes.starts_with(b"\xff\xd8\xff") {
        Sniffed::Jpeg
    } else if bytes.starts_with(PNG_MAGIC) {
        Sniffed::Png
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Sniffed::Gif
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Sniffed::Webp
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && HEIF_BRANDS.iter().any(|brand| &bytes[8..12] == *brand)
        // An `ftyp` box is a few dozen bytes: another format's magic number where its size
        // goes (`GIF8` is 1.2 GB) is not HEIF, and a decoder would read it as that format.
        && (12..=FTYP_MAX).contains(&be32(bytes, 0))
    {
        Sniffed::Heif
    } else {
        return Err(SniffError::Unknown);
    };
    match trailing_bytes(format, bytes)? {
        0 => Ok(format),
        n => Err(SniffError::TrailingData(n)),
    }
}

/// How many bytes follow the image's end. The end is found by walking the format's own
/// structure (chunks, blocks, segments), not by looking for an end marker at the end of the
/// file: `<html>…</html>` followed by `FF D9` must not pass for a JPEG's tail. Zero padding
/// is tolerated: some encoders and cameras pad files, and zeros cannot carry a second file.
fn trailing_bytes(format: Sniffed, bytes: &[u8]) -> Result<usize, SniffError> {
    let len = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let end = match format {
        Sniffed::Jpeg => jpeg_end(bytes),
        Sniffed::Png => png_end(bytes),
        Sniffed::Gif => gif_end(bytes),
        Sniffed::Webp => {
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            // RIFF chunks are padded to an even size.
            let riff_end = declared.saturating_add(8);
            Some(riff_end + (riff_end % 2))
        }
        // ISO-BMFF: the top-level boxes must tile the file exactly.
        Sniffed::Heif => return Ok(bmff_trailing(&bytes[..len])),
    };
    // No end found: a JPEG, PNG or GIF decodes without its end marker, and a second file
    // could hide after the image, unseen by both this walk and the decoder.
    // An end past the file (a chunk or RIFF size larger than what is there) is no end
    // either: it would otherwise swallow whatever follows.
    end.filter(|&end| end <= bytes.len())
        .map(|end| len.saturating_sub(end))
        .ok_or(SniffError::NoEnd)
}

/// A big-endian u32 at `at` (0 past the end).
fn be32(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// A big-endian u16 at `at`.
fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *bytes.get(at)?,
        *bytes.get(at + 1)?,
    ])))
}

/// Offset just past the EOI marker: segments, and after each SOS the entropy-coded data,
/// where `FF 00` is a stuffed byte and `FF D0`–`FF D7` are restart markers.
fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 2;
    loop {
        // Bytes where a marker should be are skipped, as libjpeg skips them (a warning, which
        // does not fail the decode): giving up here would leave what follows the image unchecked.
        while *bytes.get(at)? != 0xff {
            at += 1;
        }
        while *bytes.get(at)? == 0xff {
            at += 1;
        }
        let marker = bytes[at];
        at += 1;
        match marker {
            0xd9 => return Some(at),
            0x01 | 0xd0..=0xd7 => {}
            0xda => {
                at += be16(bytes, at)?;
                loop {
                    match (bytes.get(at)?, bytes.get(at + 1)?) {
                        (0xff, 0x00 | 0xd0..=0xd7) => at += 2,
                        (0xff, _) => break,
                        _ => at += 1,
                    }
                }
            }
            _ => at += be16(bytes, at)?,
        }
    }
}

/// Offset just past the IEND chunk.
fn png_end(bytes: &[u8]) -> Option<usize> {
    let mut at = PNG_MAGIC.len();
    loop {
        let length = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        at = at.checked_add(12)?.checked_add(length)?;
        if kind == b"IEND" {
            return Some(at);
        }
    }
}

/// Offset just past the `;` trailer: header, colour table, then image and extension blocks
/// made of length-prefixed sub-blocks.
fn gif_end(bytes: &[u8]) -> Option<usize> {
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let size = usize::from(*bytes.get(at)?);
            at += 1 + size;
            if size == 0 {
                return Some(at);
            }
        }
    };
    let mut at = 13 + table(*bytes.get(10)?);
    loop {
        match *bytes.get(at)? {
            b';' => return Some(at + 1),
            0x21 => at = sub_blocks(at + 2)?,
            b',' => {
                at += 10 + table(*bytes.get(at + 9)?);
                at = sub_blocks(at + 1)?;
            }
            _ => return None,
        }
    }
}

fn bmff_trailing(body: &[u8]) -> usize {
    let mut at = 0usize;
    while at + 8 <= body.len() {
        let size =
            u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]) as usize;
        let size = match size {
            // A size of 0 means "to the end of the file".
            0 => return 0,
            // A 64-bit size follows the type.
            1 if at + 16 <= body.len() => {
                let mut large = [0u8; 8];
                large.copy_from_slice(&body[at + 8..at + 16]);
                let large = usize::try_from(u64::from_be_bytes(large)).unwrap_or(usize::MAX);
                // Smaller than its own 16-byte header: malformed, like `s < 8` below (and a
                // size of 0 here would never move on).
                if large < 16 {
                    return body.len() - at;
                }
                large
            }
            s if s < 8 => return body.len() - at,
            s => s,
        };
        match at.checked_add(size) {
            Some(next) if next <= body.len() => at = next,
            // Runs past the end: truncated, which the decoder reports.
            _ => return 0,
        }
    }
    body.len() - at
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = include_bytes!("../../../testdata/photos/light.jpg");
    const PNG_IEND: &[u8] = b"\0\0\0\0IEND\xae\x42\x60\x82";

    #[test]
    fn recognises_each_format_by_its_bytes() {
        assert_eq!(sniff(JPEG), Ok(Sniffed::Jpeg));
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(PNG_IEND);
        assert_eq!(sniff(&png), Ok(Sniffed::Png));
        assert_eq!(sniff(GIF), Ok(Sniffed::Gif));
        let mut webp = b"RIFF\x04\0\0\0WEBP".to_vec();
        webp.truncate(12);
        assert_eq!(sniff(&webp), Ok(Sniffed::Webp));
        let heif = b"\0\0\0\x10ftypheic\0\0\0\0";
        assert_eq!(sniff(heif), Ok(Sniffed::Heif));
    }

    #[test]
    fn refuses_what_is_not_an_accepted_image() {
        assert_eq!(sniff(b""), Err(SniffError::Empty));
        assert_eq!(sniff(b"%PDF-1.7\n"), Err(SniffError::Unknown));
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(SniffError::Unknown)
        );
        assert_eq!(sniff(b"<!doctype html><html>"), Err(SniffError::Unknown));
        assert_eq!(
            sniff(b"\0\0\0\x10ftypqt  \0\0\0\0"),
            Err(SniffError::Unknown)
        );
    }

    #[test]
    fn refuses_polyglots() {
        let mut zip = JPEG.to_vec();
        zip.extend_from_slice(b"PK\x03\x04zip-content PK\x05\x06\0\0");
        assert_eq!(sniff(&zip), Err(SniffError::TrailingData(20)));
        let mut png_html = PNG_MAGIC.to_vec();
        png_html.extend_from_slice(PNG_IEND);
        png_html.extend_from_slice(b"<script>alert(1)</script>");
        assert!(matches!(sniff(&png_html), Err(SniffError::TrailingData(_))));
        let heif_extra = b"\0\0\0\x10ftypavif\0\0\0\0<html>";
        assert!(matches!(
            sniff(heif_extra),
            Err(SniffError::TrailingData(6))
        ));
    }

    /// A 1×1 `GIF89a` with a colour table, a graphic control extension and one image block.
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0;";

    #[test]
    fn real_files_end_where_their_structure_ends() {
        let photo = include_bytes!("../../../testdata/photos/light.jpg");
        assert_eq!(sniff(photo), Ok(Sniffed::Jpeg));
        assert_eq!(sniff(GIF), Ok(Sniffed::Gif));
    }

    #[test]
    fn an_end_marker_at_the_end_does_not_hide_what_precedes_it() {
        let mut jpeg = include_bytes!("../../../testdata/photos/light.jpg").to_vec();
        jpeg.extend_from_slice(b"<html><script>alert(1)</script></html>PK\x03\x04\xff\xd9");
        assert!(matches!(sniff(&jpeg), Err(SniffError::TrailingData(_))));
        let mut gif = GIF.to_vec();
        gif.extend_from_slice(b"<script>alert(1);</script>x=1;");
        assert!(matches!(sniff(&gif), Err(SniffError::TrailingData(_))));
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(PNG_IEND);
        png.extend_from_slice(b"<html>");
        png.extend_from_slice(PNG_IEND);
        assert!(matches!(sniff(&png), Err(SniffError::TrailingData(_))));
    }

    #[test]
    fn stray_bytes_between_jpeg_segments_do_not_hide_a_polyglot() {
        // libjpeg skips the stray byte and decodes the image, so the walk must go on too.
        let dqt_end = 4 + usize::from(u16::from_be_bytes([JPEG[4], JPEG[5]]));
        let mut jpeg = JPEG[..dqt_end].to_vec();
        jpeg.push(0);
        jpeg.extend_from_slice(&JPEG[dqt_end..]);
        assert_eq!(sniff(&jpeg), Ok(Sniffed::Jpeg));
        jpeg.extend_from_slice(b"<html>");
        assert_eq!(sniff(&jpeg), Err(SniffError::TrailingData(6)));
    }

    #[test]
    fn a_bmff_box_with_a_64_bit_size_below_its_header_is_malformed() {
        // Found by fuzzing: a 64-bit size of 0 looped forever.
        let heif = b"\0\0\0\x10ftypheic\0\0\0\0\0\0\0\x01mdat\0\0\0\0\0\0\0\0\x01";
        assert_eq!(sniff(heif), Err(SniffError::TrailingData(17)));
    }

    #[test]
    fn an_image_without_its_end_is_refused_whatever_follows() {
        // Found by fuzzing: the decoders stop after the first image and never need the end
        // marker, so what follows a missing one would pass unseen.
        let no_eoi = &JPEG[..JPEG.len() - 2];
        assert_eq!(sniff(no_eoi), Err(SniffError::NoEnd));
        assert_eq!(
            sniff(&[no_eoi, b"<html>".as_slice()].concat()),
            Err(SniffError::NoEnd)
        );
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(b"\0\0\0\x0dIHDR");
        assert_eq!(sniff(&png), Err(SniffError::NoEnd));
        // A GIF comment block that claims 255 bytes and never ends.
        let mut gif = GIF[..GIF.len() - 1].to_vec();
        gif.extend_from_slice(b"!\xfe\xff<html><script>alert(1)</script></html>");
        assert_eq!(sniff(&gif), Err(SniffError::NoEnd));
    }

    #[test]
    fn a_heif_brand_behind_another_format_s_magic_is_not_heif() {
        // Found by fuzzing: libvips reads this as a GIF.
        let gif_heif = b"GIF8ftyphevm\0,\0\0\0\0\x02\0\x02\0\0\x02\0;";
        assert_eq!(sniff(gif_heif), Err(SniffError::Unknown));
    }

    #[test]
    fn an_end_chunk_that_claims_the_rest_of_the_file_is_no_end() {
        // Found by fuzzing: an IEND whose length covers what follows it.
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(b"\xff\xff\xff\xffIEND<html>");
        assert_eq!(sniff(&png), Err(SniffError::NoEnd));
        let mut webp = b"RIFF\xff\xff\0\0WEBP".to_vec();
        webp.extend_from_slice(b"<html>");
        assert_eq!(sniff(&webp), Err(SniffError::NoEnd));
    }

    #[test]
    fn tolerates_zero_padding() {
        let mut padded = JPEG.to_vec();
        padded.extend_from_slice(&[0; 64]);
        assert_eq!(sniff(&padded), Ok(Sniffed::Jpeg));
    }
}
