//! Typed transform parameters: each type holds only values the spec accepts.

use std::fmt;
use std::str::FromStr;

use unicode_normalization::{IsNormalized, UnicodeNormalization as _, is_nfc_quick};

use super::number::write_decimal;
use super::{Gravity, Param, UrlError};

/// A width or height in pixels, 1..=8192.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dimension(u16);

/// The requested output width.
pub type Width = Dimension;
/// The requested output height.
pub type Height = Dimension;

impl Dimension {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 8192;

    /// `Some` for 1..=8192.
    pub const fn new(pixels: u32) -> Option<Self> {
        if pixels >= Self::MIN && pixels <= Self::MAX {
            Some(Self(pixels as u16))
        } else {
            None
        }
    }

    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// How an image is fitted into a box given by both width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Fill the box, cropping the overflow (the default), keeping the part that
    /// [`Gravity`] names.
    Cover(Gravity),
    /// Fit inside the box, letterboxing the rest.
    Contain,
    /// Stretch to the box, ignoring the aspect ratio.
    Fill,
    /// Fit inside the box, keeping the aspect ratio, no letterbox.
    Inside,
    /// Cover the box, keeping the aspect ratio, no crop.
    Outside,
}

impl Default for Fit {
    fn default() -> Self {
        Fit::COVER
    }
}

impl Fit {
    /// `cover` keeping the centre (v1's only cover).
    pub const COVER: Fit = Fit::Cover(Gravity::Center);

    /// Every fit, `cover` with the default gravity.
    pub const ALL: [Fit; 5] = [
        Fit::COVER,
        Fit::Contain,
        Fit::Fill,
        Fit::Inside,
        Fit::Outside,
    ];

    /// The query spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fit::Cover(_) => "cover",
            Fit::Contain => "contain",
            Fit::Fill => "fill",
            Fit::Inside => "inside",
            Fit::Outside => "outside",
        }
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"cover" => Fit::COVER,
            b"contain" => Fit::Contain,
            b"fill" => Fit::Fill,
            b"inside" => Fit::Inside,
            b"outside" => Fit::Outside,
            _ => return None,
        })
    }
}

impl FromStr for Fit {
    type Err = UrlError;
    /// The query's spellings; anything else is the query's own error for `fit`.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::from_bytes(s.as_bytes()).ok_or(UrlError::BadValue(Param::Fit))
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to resize to: nothing, one dimension (the other follows the aspect ratio), or a
/// box with a [`Fit`]. A fit exists only together with both dimensions, so a spec has one
/// canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resize {
    /// Keep the source size.
    #[default]
    Original,
    /// Scale to this width.
    Width(Width),
    /// Scale to this height.
    Height(Height),
    /// Fit into a `width` × `height` box.
    Box {
        width: Width,
        height: Height,
        fit: Fit,
    },
}

impl Resize {
    /// From the query's parts: `fit` (and a cover's gravity) is kept only when both
    /// dimensions are given.
    pub const fn new(width: Option<Width>, height: Option<Height>, fit: Fit) -> Self {
        match (width, height) {
            (None, None) => Resize::Original,
            (Some(w), None) => Resize::Width(w),
            (None, Some(h)) => Resize::Height(h),
            (Some(width), Some(height)) => Resize::Box { width, height, fit },
        }
    }

    pub const fn width(self) -> Option<Width> {
        match self {
            Resize::Width(w) | Resize::Box { width: w, .. } => Some(w),
            Resize::Original | Resize::Height(_) => None,
        }
    }

    pub const fn height(self) -> Option<Height> {
        match self {
            Resize::Height(h) | Resize::Box { height: h, .. } => Some(h),
            Resize::Original | Resize::Width(_) => None,
        }
    }

    /// The fit, meaningful only (hence `Some` only) with both dimensions.
    pub const fn fit(self) -> Option<Fit> {
        match self {
            Resize::Box { fit, .. } => Some(fit),
            Resize::Original | Resize::Width(_) | Resize::Height(_) => None,
        }
    }
}

/// A clockwise rotation in whole degrees, 0..=359 (0 is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Rotation(u16);

impl Rotation {
    pub const NONE: Self = Self(0);

    /// `Some` for 0..=359.
    pub const fn new(degrees: u16) -> Option<Self> {
        if degrees < 360 {
            Some(Self(degrees))
        } else {
            None
        }
    }

    /// Any angle, reduced modulo 360 (`-90` is 270).
    pub const fn from_degrees(degrees: i64) -> Self {
        Self(degrees.rem_euclid(360) as u16)
    }

    pub const fn degrees(self) -> u16 {
        self.0
    }

    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// A Gaussian blur, sigma in tenths: 3..=1000 (0.3 to 100). No blur is `None` in a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Blur(u16);

impl Blur {
    pub const MIN_TENTHS: u16 = 3;
    pub const MAX_TENTHS: u16 = 1000;

    /// `Some` for 3..=1000 tenths.
    pub const fn from_tenths(tenths: u16) -> Option<Self> {
        if tenths >= Self::MIN_TENTHS && tenths <= Self::MAX_TENTHS {
            Some(Self(tenths))
        } else {
            None
        }
    }

    pub const fn tenths(self) -> u16 {
        self.0
    }

    /// The sigma for the engine.
    pub fn sigma(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Blur {
    /// Shortest decimal: `2`, `2.5`, `0.3`, `100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, u64::from(self.0), 1)
    }
}

/// A device pixel ratio in tenths, 1.1 to 4 (a ratio of 1 is `None` in a spec): `width`
/// and `height` are multiplied by it before the resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dpr(u8);

impl Dpr {
    pub const MAX_TENTHS: u8 = 40;

    /// `Some` for 11..=40 tenths.
    pub const fn from_tenths(tenths: u8) -> Option<Self> {
        if tenths > 10 && tenths <= Self::MAX_TENTHS {
            Some(Self(tenths))
        } else {
            None
        }
    }

    pub const fn tenths(self) -> u8 {
        self.0
    }

    /// `pixels` times the ratio, rounded to the nearest integer (halves up) and capped at
    /// [`Dimension::MAX`].
    pub const fn scale(self, pixels: u32) -> u32 {
        let scaled = (pixels as u64 * self.0 as u64 + 5) / 10;
        if scaled > Dimension::MAX as u64 {
            Dimension::MAX
        } else {
            scaled as u32
        }
    }
}

impl fmt::Display for Dpr {
    /// Shortest decimal: `2`, `1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, u64::from(self.0), 1)
    }
}

/// An unsharp mask's sigma in tenths: 3..=100 (0.3 to 10). No sharpening is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sharpen(u8);

impl Sharpen {
    pub const MIN_TENTHS: u8 = 3;
    pub const MAX_TENTHS: u8 = 100;

    /// `Some` for 3..=100 tenths.
    pub const fn from_tenths(tenths: u8) -> Option<Self> {
        if tenths >= Self::MIN_TENTHS && tenths <= Self::MAX_TENTHS {
            Some(Self(tenths))
        } else {
            None
        }
    }

    pub const fn tenths(self) -> u8 {
        self.0
    }

    /// The sigma for the engine.
    pub fn sigma(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Sharpen {
    /// Shortest decimal: `1`, `0.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, u64::from(self.0), 1)
    }
}

/// Encoder quality, 1..=100; 80 by default for every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quality(u8);

impl Quality {
    pub const DEFAULT: Self = Self(80);

    /// `Some` for 1..=100.
    pub const fn new(q: u8) -> Option<Self> {
        if q >= 1 && q <= 100 {
            Some(Self(q))
        } else {
            None
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for Quality {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Avif,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Jpeg, Format::Png, Format::Webp, Format::Avif];

    /// The canonical query spelling (`jpeg`, never `jpg`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
        }
    }

    /// The `Content-Type`.
    pub const fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
        }
    }

    /// The format whose `Content-Type` is `mime`.
    pub fn from_mime(mime: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.mime() == mime)
    }

    /// Whether the format can carry an alpha channel.
    pub const fn has_alpha(self) -> bool {
        !matches!(self, Format::Jpeg)
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"jpeg" | b"jpg" => Format::Jpeg,
            b"png" => Format::Png,
            b"webp" => Format::Webp,
            b"avif" => Format::Avif,
            _ => return None,
        })
    }
}

impl FromStr for Format {
    type Err = UrlError;
    /// Accepts the query spellings, `jpg` included; anything else is the query's own error
    /// for `format`.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::from_bytes(s.as_bytes()).ok_or(UrlError::BadValue(Param::Format))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `format` a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FormatChoice {
    /// No `format`: the original's (JPEG for a JPEG, PNG for a PNG...).
    #[default]
    Original,
    /// `format=auto`: chosen per request from its [`AcceptClass`](crate::AcceptClass).
    Auto,
    /// This format.
    Fixed(Format),
}

impl FormatChoice {
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        if b == b"auto" {
            Some(FormatChoice::Auto)
        } else {
            Format::from_bytes(b).map(FormatChoice::Fixed)
        }
    }

    /// The query spelling, `None` for [`FormatChoice::Original`] (no `format`).
    pub const fn as_query(self) -> Option<&'static str> {
        match self {
            FormatChoice::Original => None,
            FormatChoice::Auto => Some("auto"),
            FormatChoice::Fixed(format) => Some(format.as_str()),
        }
    }
}

/// Why a text cannot be a watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WatermarkError {
    #[error("watermark text is empty")]
    Empty,
    #[error("watermark text contains a control character")]
    Control,
    #[error("watermark text is longer than 64 characters")]
    TooLong,
}

/// Watermark text: NFC-normalised, 1..=64 Unicode scalar values, no control character
/// (general category Cc).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatermarkText(String);

impl WatermarkText {
    /// Most scalar values after NFC.
    pub const MAX_CHARS: usize = 64;

    /// NFC-normalises `text` and checks it: control characters first, then emptiness,
    /// then length.
    pub fn new(text: &str) -> Result<Self, WatermarkError> {
        let s = match is_nfc_quick(text.chars()) {
            IsNormalized::Yes => text.to_owned(),
            IsNormalized::No | IsNormalized::Maybe => text.nfc().collect(),
        };
        Self::check(Self(s))
    }

    /// Like [`WatermarkText::new`] but taking ownership (no copy when already NFC).
    pub fn from_string(text: String) -> Result<Self, WatermarkError> {
        let s = match is_nfc_quick(text.chars()) {
            IsNormalized::Yes => text,
            IsNormalized::No | IsNormalized::Maybe => text.nfc().collect(),
        };
        Self::check(Self(s))
    }

    fn check(self) -> Result<Self, WatermarkError> {
        if self.0.chars().any(char::is_control) {
            return Err(WatermarkError::Control);
        }
        if self.0.is_empty() {
            return Err(WatermarkError::Empty);
        }
        if self.0.chars().count() > Self::MAX_CHARS {
            return Err(WatermarkError::TooLong);
        }
        Ok(self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WatermarkText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(Dimension::new(0), None);
        assert_eq!(Dimension::new(8192).map(Dimension::get), Some(8192));
        assert_eq!(Dimension::new(8193), None);
        assert_eq!(Rotation::from_degrees(-90).degrees(), 270);
        assert_eq!(Rotation::from_degrees(i64::MIN).degrees(), 352);
        assert_eq!(Rotation::from_degrees(720), Rotation::NONE);
        assert_eq!(Rotation::new(360), None);
        assert_eq!(Blur::from_tenths(2), None);
        assert_eq!(Blur::from_tenths(1001), None);
        assert_eq!(
            Blur::from_tenths(25).map(|b| b.to_string()).as_deref(),
            Some("2.5")
        );
        assert_eq!(
            Blur::from_tenths(1000).map(|b| b.to_string()).as_deref(),
            Some("100")
        );
        assert_eq!(
            Blur::from_tenths(3).map(|b| b.to_string()).as_deref(),
            Some("0.3")
        );
        assert!((Blur::from_tenths(25).map_or(0.0, Blur::sigma) - 2.5).abs() < 1e-9);
        assert_eq!(Quality::new(0), None);
        assert_eq!(Quality::new(101), None);
        assert_eq!(Quality::default().get(), 80);
    }

    #[test]
    fn formats() {
        assert_eq!("jpg".parse::<Format>(), Ok(Format::Jpeg));
        assert_eq!(
            "JPEG".parse::<Format>(),
            Err(UrlError::BadValue(Param::Format))
        );
        assert_eq!(Format::Avif.mime(), "image/avif");
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        for f in Fit::ALL {
            assert_eq!(f.as_str().parse::<Fit>(), Ok(f));
        }
    }

    #[test]
    fn resize_drops_fit_without_both_dimensions() {
        let w = Dimension::new(10);
        assert_eq!(Resize::new(w, None, Fit::Fill).fit(), None);
        assert_eq!(Resize::new(w, w, Fit::Fill).fit(), Some(Fit::Fill));
        assert_eq!(
            Resize::new(None, w, Fit::Fill),
            Resize::Height(Dimension(10))
        );
    }

    #[test]
    fn watermark_rules() {
        // NFD "é" becomes NFC.
        assert_eq!(
            WatermarkText::new("e\u{301}").map(|w| w.0),
            Ok("\u{e9}".to_owned())
        );
        assert_eq!(WatermarkText::new(""), Err(WatermarkError::Empty));
        assert_eq!(WatermarkText::new("a\u{7f}"), Err(WatermarkError::Control));
        assert_eq!(WatermarkText::new("a\u{85}"), Err(WatermarkError::Control));
        assert_eq!(WatermarkText::new("a\t"), Err(WatermarkError::Control));
        assert!(WatermarkText::new("a\u{200b}\u{ad}").is_ok()); // Cf is allowed
        assert!(WatermarkText::new(&"é".repeat(64)).is_ok());
        assert_eq!(
            WatermarkText::new(&"x".repeat(65)),
            Err(WatermarkError::TooLong)
        );
        // 64 NFD pairs compose to 64 scalars.
        assert!(WatermarkText::new(&"e\u{301}".repeat(64)).is_ok());
        assert!(WatermarkText::new("👍🏽").is_ok());
        assert_eq!(
            WatermarkText::from_string("e\u{301}".to_owned()).map(|w| w.0),
            Ok("\u{e9}".to_owned())
        );
    }
}
