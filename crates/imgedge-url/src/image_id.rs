//! `ImageId`: an image's UUID in its one URL spelling (lowercase, hyphenated).

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::UrlError;

/// An image's id. Its only accepted spelling is the lowercase hyphenated UUID
/// (`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, no version check),
/// and that is also how it displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId(Uuid);

/// Length of the spelling, `8-4-4-4-12`.
const LEN: usize = 36;

impl ImageId {
    /// The id of `uuid` (every UUID is a valid id).
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 36 ASCII bytes of the canonical spelling, without allocating.
    pub fn to_ascii(&self) -> [u8; LEN] {
        let mut buf = [0u8; LEN];
        self.0.hyphenated().encode_lower(&mut buf);
        buf
    }
}

impl From<Uuid> for ImageId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for ImageId {
    type Err = UrlError;

    /// Strict: lowercase hex only, hyphens at 8, 13, 18, 23, exactly 36 bytes.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        let b = s.as_bytes();
        if b.len() != LEN {
            return Err(UrlError::BadImageId);
        }
        let mut bytes = [0u8; 16];
        let mut hi: Option<u8> = None;
        let mut out = 0;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(UrlError::BadImageId);
                }
                continue;
            }
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return Err(UrlError::BadImageId),
            };
            match hi.take() {
                None => hi = Some(v),
                Some(h) => {
                    bytes[out] = (h << 4) | v;
                    out += 1;
                }
            }
        }
        Ok(Self(Uuid::from_bytes(bytes)))
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; LEN];
        f.write_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_lowercase_only() {
        let s = "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a";
        let id: ImageId = s.parse().expect("valid");
        assert_eq!(id.to_string(), s);
        assert_eq!(&id.to_ascii(), s.as_bytes());
        for bad in [
            "0B7F3C2E-9D41-4A8E-B6C5-2F1E0D9C8B7A",
            "0b7f3c2e9d414a8eb6c52f1e0d9c8b7a",
            "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7",
            "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a0",
            "{b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a",
            "0b7f3c2e-9d41-4a8e-b6c5+2f1e0d9c8b7a",
            "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7g",
            "0b7f3c2e-9d41-4a8e-b6c52-f1e0d9c8b7a",
            "",
        ] {
            assert_eq!(bad.parse::<ImageId>(), Err(UrlError::BadImageId), "{bad}");
        }
    }

    #[test]
    fn no_version_check() {
        let s = "00000000-0000-0000-0000-000000000000";
        assert_eq!(
            s.parse::<ImageId>().map(|i| i.to_string()),
            Ok(s.to_owned())
        );
    }
}
