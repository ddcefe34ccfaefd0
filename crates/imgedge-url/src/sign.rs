//! Keys and signatures: `url_key = BLAKE3-keyed(url_secret, image_id)`,
//! `sig = first 16 bytes of BLAKE3-keyed(url_key, canonical query)`, spelt base64url.

use std::fmt;
use std::str::FromStr;

use super::{ImageId, TransformSpec, UrlError};

/// A 32-byte key given as 64 hexadecimal characters was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key must be 64 hexadecimal characters (32 bytes)")]
pub struct BadHexKey;

fn key_from_hex(s: &str) -> Result<[u8; 32], BadHexKey> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| BadHexKey)?;
    Ok(out)
}

/// The server-wide secret from which every image's [`UrlKey`] derives. It never leaves
/// the backend; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlSecret([u8; 32]);

impl UrlSecret {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// From 64 hexadecimal characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, BadHexKey> {
        key_from_hex(s).map(Self)
    }
}

impl FromStr for UrlSecret {
    type Err = BadHexKey;
    fn from_str(s: &str) -> Result<Self, BadHexKey> {
        Self::from_hex(s)
    }
}

impl fmt::Debug for UrlSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UrlSecret(<redacted>)")
    }
}

/// The generation of an image's URL key: 0 when the image is created, one more at each
/// rotation. URLs do not carry it; a sig verifies only under the current epoch's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct KeyEpoch(pub u32);

impl KeyEpoch {
    /// An image's first epoch, whose key is v1's.
    pub const FIRST: KeyEpoch = KeyEpoch(0);
}

/// One image's signing key, given to the image's owner only (as 64 lowercase hex).
/// Whoever holds it can mint any variant URL of that image; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlKey([u8; 32]);

impl UrlKey {
    /// `BLAKE3-keyed(url_secret, image_id as ASCII)`.
    pub fn derive(secret: &UrlSecret, image_id: &ImageId) -> Self {
        Self(*blake3::keyed_hash(&secret.0, &image_id.to_ascii()).as_bytes())
    }

    /// The image's key at `epoch` (spec 1.1's key rotation): epoch 0's is
    /// [`UrlKey::derive`]'s, a later one's is keyed over `{image_id}:{epoch}`.
    pub fn derive_at(secret: &UrlSecret, image_id: &ImageId, epoch: KeyEpoch) -> Self {
        if epoch == KeyEpoch::FIRST {
            return Self::derive(secret, image_id);
        }
        let mut hasher = blake3::Hasher::new_keyed(&secret.0);
        hasher.update(&image_id.to_ascii());
        hasher.update(format!(":{}", epoch.0).as_bytes());
        Self(*hasher.finalize().as_bytes())
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From 64 hexadecimal characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, BadHexKey> {
        key_from_hex(s).map(Self)
    }

    /// 64 lowercase hexadecimal characters, the form the API gives to the owner.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for UrlKey {
    type Err = BadHexKey;
    fn from_str(s: &str) -> Result<Self, BadHexKey> {
        Self::from_hex(s)
    }
}

impl fmt::Debug for UrlKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UrlKey(<redacted>)")
    }
}

/// A URL signature: 16 bytes, spelt as exactly 22 base64url characters without padding
/// whose unused low bits are zero (one spelling per signature).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sig([u8; 16]);

/// Length of the spelling.
pub(crate) const SIG_LEN: usize = 22;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Feeds written text into a keyed BLAKE3 hasher (streams the canonical query).
struct HashSink(blake3::Hasher);

impl fmt::Write for HashSink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

impl Sig {
    /// The signature of `canonical_query` under `key`.
    pub fn compute(key: &UrlKey, canonical_query: &str) -> Self {
        Self::from_hash(&blake3::keyed_hash(&key.0, canonical_query.as_bytes()))
    }

    /// The signature of `spec`'s canonical query, streamed into the hash (no allocation).
    pub fn for_spec(key: &UrlKey, spec: &TransformSpec) -> Self {
        let mut sink = HashSink(blake3::Hasher::new_keyed(&key.0));
        // Writing into a `HashSink` cannot fail.
        let written = spec.write_canonical(&mut sink);
        debug_assert!(written.is_ok());
        Self::from_hash(&sink.0.finalize())
    }

    fn from_hash(hash: &blake3::Hash) -> Self {
        let mut out = [0u8; 16];
        out.copy_from_slice(&hash.as_bytes()[..16]);
        Self(out)
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Whether this is the signature of `canonical_query` under `key`, compared in
    /// constant time.
    pub fn verify(&self, key: &UrlKey, canonical_query: &str) -> bool {
        ct_eq(&self.0, &Self::compute(key, canonical_query).0)
    }

    /// Whether this is the signature of `spec`'s canonical query under `key`, compared
    /// in constant time.
    pub fn verify_spec(&self, key: &UrlKey, spec: &TransformSpec) -> bool {
        ct_eq(&self.0, &Self::for_spec(key, spec).0)
    }

    /// The 22-character spelling, without allocating.
    pub fn encode(&self) -> [u8; SIG_LEN] {
        let mut out = [0u8; SIG_LEN];
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut o = 0;
        for &b in &self.0 {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 6 {
                bits -= 6;
                out[o] = B64[((acc >> bits) & 63) as usize];
                o += 1;
            }
        }
        // 128 bits = 21 full sextets + 2 bits, padded with four zero bits.
        out[o] = B64[((acc << (6 - bits)) & 63) as usize];
        out
    }
}

/// Constant-time equality of two signatures: no early exit on the first difference.
fn ct_eq(a: &[u8; 16], b: &[u8; 16]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl FromStr for Sig {
    type Err = UrlError;

    /// Strict: exactly 22 characters of `[A-Za-z0-9_-]`, the last one's 4 unused bits zero.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        let b = s.as_bytes();
        if b.len() != SIG_LEN {
            return Err(UrlError::BadSig);
        }
        let mut out = [0u8; 16];
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut o = 0;
        for &c in b {
            let v = b64_value(c).ok_or(UrlError::BadSig)?;
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                if o < out.len() {
                    out[o] = (acc >> bits) as u8;
                    o += 1;
                }
            }
        }
        // 22 * 6 = 132 bits: 128 used, the last 4 must be zero.
        if bits != 4 || acc & 0xF != 0 {
            return Err(UrlError::BadSig);
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let buf = self.encode();
        // The alphabet is ASCII.
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sig({self})")
    }
}

/// `/i/{image_id}/{sig}` plus `?{canonical_query}` when the query is not empty.
pub fn path_with_query(image_id: &ImageId, sig: &Sig, canonical_query: &str) -> String {
    let mut out = String::with_capacity(3 + 36 + 1 + SIG_LEN + 1 + canonical_query.len());
    out.push_str("/i/");
    push_id_sig(&mut out, image_id, sig);
    if !canonical_query.is_empty() {
        out.push('?');
        out.push_str(canonical_query);
    }
    out
}

fn push_id_sig(out: &mut String, image_id: &ImageId, sig: &Sig) {
    use fmt::Write as _;
    // Writing into a `String` cannot fail.
    let written = write!(out, "{image_id}/{sig}");
    debug_assert!(written.is_ok());
}

/// Mints the URL path of `spec` applied to `image_id`: `/i/{image_id}/{sig}[?{canonical}]`,
/// signed with the image's `key`.
pub fn signed_path(key: &UrlKey, image_id: &ImageId, spec: &TransformSpec) -> String {
    spec_path(image_id, &Sig::for_spec(key, spec), spec)
}

/// `/i/{image_id}/{sig}` plus `?` and the canonical query of `spec` when it is not empty.
pub(crate) fn spec_path(image_id: &ImageId, sig: &Sig, spec: &TransformSpec) -> String {
    let mut out = String::with_capacity(96);
    out.push_str("/i/");
    push_id_sig(&mut out, image_id, sig);
    if !spec.is_default() {
        out.push('?');
        // Writing into a `String` cannot fail.
        let written = spec.write_canonical(&mut out);
        debug_assert!(written.is_ok());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_spelling_round_trips_and_is_strict() {
        for bytes in [[0u8; 16], [0xff; 16], *b"0123456789abcdef"] {
            let sig = Sig::from_bytes(bytes);
            let s = sig.to_string();
            assert_eq!(s.len(), 22);
            assert_eq!(s.parse::<Sig>(), Ok(sig));
        }
        let good = "AAAAAAAAAAAAAAAAAAAAAA";
        assert!(good.parse::<Sig>().is_ok());
        for bad in [
            "AAAAAAAAAAAAAAAAAAAAAB", // non-zero trailing bits
            "AAAAAAAAAAAAAAAAAAAAAP",
            "AAAAAAAAAAAAAAAAAAAAA",   // 21
            "AAAAAAAAAAAAAAAAAAAAAAA", // 23
            "AAAAAAAAAAAAAAAAAAAA+A",
            "AAAAAAAAAAAAAAAAAAAA/A",
            "AAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAé",
            "",
        ] {
            assert_eq!(bad.parse::<Sig>(), Err(UrlError::BadSig), "{bad}");
        }
        // Last character may only be one of A, Q, g, w (low four bits zero).
        for (c, ok) in [
            ('A', true),
            ('Q', true),
            ('g', true),
            ('w', true),
            ('R', false),
        ] {
            let s = format!("AAAAAAAAAAAAAAAAAAAAA{c}");
            assert_eq!(s.parse::<Sig>().is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn sig_matches_base64_crate() {
        use base64::Engine as _;
        let sig = Sig::from_bytes(*b"\x00\x10\x83\x10Q\x87 \x92\x8b0\xd3\x8f\x41\x14\x93\xfe");
        assert_eq!(
            sig.to_string(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_bytes())
        );
    }

    #[test]
    fn debug_hides_keys() {
        let secret = UrlSecret::from_bytes([0xab; 32]);
        let key = UrlKey::from_bytes([0xcd; 32]);
        assert!(!format!("{secret:?}").contains("ab"));
        assert!(!format!("{secret:?}").contains("171"));
        assert!(!format!("{key:?}").contains("cd"));
        assert!(!format!("{key:?}").contains("205"));
    }

    #[test]
    fn hex_keys() {
        let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let key = UrlKey::from_hex(hex).expect("valid");
        assert_eq!(key.to_hex(), hex);
        assert_eq!(UrlKey::from_hex(&hex.to_uppercase()), Ok(key));
        assert_eq!(UrlKey::from_hex(&hex[..62]), Err(BadHexKey));
        assert_eq!(UrlSecret::from_hex(&format!("{hex}00")), Err(BadHexKey));
        assert!(UrlSecret::from_hex(&hex.replace('a', "g")).is_err());
    }

    #[test]
    fn empty_query_signs_empty_bytes() {
        let key = UrlKey::from_bytes([7; 32]);
        let expected = blake3::keyed_hash(&[7; 32], b"");
        assert_eq!(
            &Sig::compute(&key, "").as_bytes()[..],
            &expected.as_bytes()[..16]
        );
        assert_eq!(
            Sig::for_spec(&key, &TransformSpec::default()),
            Sig::compute(&key, "")
        );
    }
}
