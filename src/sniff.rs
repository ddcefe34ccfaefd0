//! What an upload really is, from its bytes: magic numbers, never the file name or the
//! declared Content-Type.
//!
//! Besides recognising the five accepted formats, it refuses files that carry something
//! after the image's own end marker (a JPEG with a ZIP appended, a PNG followed by HTML):
//! such polyglots are a classic way to smuggle content through an image host.

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
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_IEND: &[u8] = b"\0\0\0\0IEND\xae\x42\x60\x82";
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
    {
        Sniffed::Heif
    } else {
        return Err(SniffError::Unknown);
    };
    match trailing_bytes(format, bytes) {
        0 => Ok(format),
        n => Err(SniffError::TrailingData(n)),
    }
}

/// How many bytes follow the image's end marker. Zero padding is tolerated: some encoders
/// and cameras pad files, and zeros cannot carry a second file.
fn trailing_bytes(format: Sniffed, bytes: &[u8]) -> usize {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let body = &bytes[..end];
    match format {
        Sniffed::Jpeg if body.ends_with(b"\xff\xd9") => 0,
        Sniffed::Png if body.ends_with(PNG_IEND) => 0,
        Sniffed::Gif if body.ends_with(b";") => 0,
        Sniffed::Webp => {
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            // RIFF chunks are padded to an even size.
            let riff_end = declared.saturating_add(8);
            end.saturating_sub(riff_end + (riff_end % 2))
        }
        // ISO-BMFF: the top-level boxes must tile the file exactly.
        Sniffed::Heif => bmff_trailing(body),
        // The end marker is missing: either truncated (the full decode will say so) or
        // followed by something else. Count what follows the last marker, if any.
        Sniffed::Jpeg => after_last(body, b"\xff\xd9"),
        Sniffed::Png => after_last(body, PNG_IEND),
        Sniffed::Gif => 0,
    }
}

/// Bytes after the last occurrence of `marker`; 0 when there is none (a truncated file is
/// the decoder's to reject, not a polyglot).
fn after_last(body: &[u8], marker: &[u8]) -> usize {
    body.windows(marker.len())
        .rposition(|w| w == marker)
        .map_or(0, |i| body.len() - (i + marker.len()))
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
                usize::try_from(u64::from_be_bytes(large)).unwrap_or(usize::MAX)
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

    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0rest\xff\xd9";

    #[test]
    fn recognises_each_format_by_its_bytes() {
        assert_eq!(sniff(JPEG), Ok(Sniffed::Jpeg));
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(PNG_IEND);
        assert_eq!(sniff(&png), Ok(Sniffed::Png));
        assert_eq!(sniff(b"GIF89a....;"), Ok(Sniffed::Gif));
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

    #[test]
    fn tolerates_zero_padding() {
        let mut padded = JPEG.to_vec();
        padded.extend_from_slice(&[0; 64]);
        assert_eq!(sniff(&padded), Ok(Sniffed::Jpeg));
    }
}
