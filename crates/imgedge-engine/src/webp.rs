//! WebP metadata stripping, on the encoded bytes: pure, no libvips.

/// Drops the metadata chunks (`EXIF`, `XMP `, `ICCP`) of a WebP file and clears their flags in
/// `VP8X`. libvips 8.14's webpsave ignores `strip`: it writes the source's EXIF (GPS included)
/// and XMP, or a fresh EXIF when the source had none.
pub(crate) fn strip_webp_metadata(webp: Vec<u8>) -> Vec<u8> {
    const DROPPED: [&[u8]; 3] = [b"EXIF", b"XMP ", b"ICCP"];
    // VP8X flag bits: ICC profile, EXIF, XMP.
    const METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;
    if webp.len() < 12 || &webp[..4] != b"RIFF" || &webp[8..12] != b"WEBP" {
        return webp;
    }
    let mut out = Vec::with_capacity(webp.len());
    out.extend_from_slice(&webp[..12]);
    let mut at = 12;
    while at + 8 <= webp.len() {
        let kind = &webp[at..at + 4];
        let len = u32::from_le_bytes([webp[at + 4], webp[at + 5], webp[at + 6], webp[at + 7]]);
        // Chunks are padded to an even size.
        let end = (at + 8)
            .saturating_add(len as usize)
            .saturating_add(len as usize & 1)
            .min(webp.len());
        if !DROPPED.contains(&kind) {
            let start = out.len();
            out.extend_from_slice(&webp[at..end]);
            if kind == b"VP8X" && out.len() > start + 8 {
                out[start + 8] &= !METADATA_FLAGS;
            }
        }
        at = end;
    }
    let riff_size = u32::try_from(out.len() - 8).unwrap_or(u32::MAX);
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::strip_webp_metadata;

    fn chunk(kind: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = kind.to_vec();
        out.extend_from_slice(&u32::try_from(payload.len()).expect("small").to_le_bytes());
        out.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::try_from(body.len() + 4).expect("small").to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend_from_slice(&body);
        out
    }

    /// VP8X with the ICC, EXIF, XMP and alpha flags set, and a 1×1 canvas.
    fn vp8x() -> Vec<u8> {
        chunk(
            *b"VP8X",
            &[0x20 | 0x10 | 0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
    }

    #[test]
    fn metadata_chunks_and_their_flags_go_the_image_stays() {
        let image = chunk(*b"VP8L", b"pixels!");
        let with = riff(&[
            vp8x(),
            chunk(*b"ICCP", b"profile"),
            image.clone(),
            chunk(*b"EXIF", b"GPS 43.1N"),
            chunk(*b"XMP ", b"<x:xmpmeta/>"),
        ]);
        let stripped = strip_webp_metadata(with);
        let mut flags_cleared = vp8x();
        flags_cleared[8] = 0x10; // alpha stays
        assert_eq!(stripped, riff(&[flags_cleared, image]));
        let declared = u32::from_le_bytes(stripped[4..8].try_into().expect("4 bytes"));
        assert_eq!(declared as usize, stripped.len() - 8, "RIFF size");
    }

    #[test]
    fn a_file_without_metadata_is_unchanged() {
        let plain = riff(&[chunk(*b"VP8 ", b"odd")]);
        assert_eq!(strip_webp_metadata(plain.clone()), plain);
    }

    #[test]
    fn anything_but_webp_is_left_alone() {
        for bytes in [
            &b""[..],
            b"RIFF",
            b"RIFF\x04\0\0\0AVI LIST",
            b"\x89PNG\r\n\x1a\n",
        ] {
            assert_eq!(strip_webp_metadata(bytes.to_vec()), bytes);
        }
    }

    #[test]
    fn a_chunk_running_past_the_end_is_cut_at_the_end() {
        let mut truncated = riff(&[chunk(*b"VP8L", b"pixels"), chunk(*b"EXIF", b"abcdef")]);
        truncated.truncate(truncated.len() - 3);
        let stripped = strip_webp_metadata(truncated);
        assert_eq!(stripped, riff(&[chunk(*b"VP8L", b"pixels")]));
    }
}
