//! `background`: the colour that fills bars, corners and flattened alpha (spec 1.1).

use std::fmt;

/// An sRGB colour with alpha, 8 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Colour {
    pub red: u8,
    pub green: u8,
    pub blue: u8,
    pub alpha: u8,
}

impl Colour {
    /// `RRGGBB` or `RRGGBBAA` in hex digits of either case, nothing else.
    pub fn from_hex(hex: &[u8]) -> Option<Colour> {
        if !matches!(hex.len(), 6 | 8) {
            return None;
        }
        let byte = |i: usize| {
            let digit = |c: u8| char::from(c).to_digit(16);
            Some((digit(hex[i])? * 16 + digit(hex[i + 1])?) as u8)
        };
        Some(Colour {
            red: byte(0)?,
            green: byte(2)?,
            blue: byte(4)?,
            alpha: if hex.len() == 8 { byte(6)? } else { 255 },
        })
    }
}

impl fmt::Display for Colour {
    /// The canonical form: lowercase, `RRGGBB` when opaque.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{:02x}{:02x}", self.red, self.green, self.blue)?;
        if self.alpha != 255 {
            write!(f, "{:02x}", self.alpha)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours() {
        let canon = |s: &str| Colour::from_hex(s.as_bytes()).map(|c| c.to_string());
        assert_eq!(canon("FFaa00").as_deref(), Some("ffaa00"));
        assert_eq!(canon("ffaa00FF").as_deref(), Some("ffaa00"));
        assert_eq!(canon("ffaa0080").as_deref(), Some("ffaa0080"));
        for bad in ["fff", "#ffffff", "fffffff", "gggggg", "ffffff0", "+fffff"] {
            assert_eq!(canon(bad), None, "{bad:?}");
        }
    }
}
