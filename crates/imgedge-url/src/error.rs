//! The one error type of transform-URL parsing, with its stable public codes.

use std::fmt;

/// A query parameter of the transform URL, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    Crop,
    Width,
    Height,
    Dpr,
    Fit,
    Gravity,
    Rotate,
    Flip,
    Mirror,
    Grayscale,
    Blur,
    Sharpen,
    Background,
    Quality,
    Palette,
    Format,
    WatermarkText,
}

impl Param {
    /// Every parameter, in canonical order (the spec's table order).
    pub const ALL: [Param; 17] = [
        Param::Crop,
        Param::Width,
        Param::Height,
        Param::Dpr,
        Param::Fit,
        Param::Gravity,
        Param::Rotate,
        Param::Flip,
        Param::Mirror,
        Param::Grayscale,
        Param::Blur,
        Param::Sharpen,
        Param::Background,
        Param::Quality,
        Param::Palette,
        Param::Format,
        Param::WatermarkText,
    ];

    /// The parameter's name in the query (case-sensitive).
    pub const fn name(self) -> &'static str {
        match self {
            Param::Crop => "crop",
            Param::Width => "width",
            Param::Height => "height",
            Param::Dpr => "dpr",
            Param::Fit => "fit",
            Param::Gravity => "gravity",
            Param::Rotate => "rotate",
            Param::Flip => "flip",
            Param::Mirror => "mirror",
            Param::Grayscale => "grayscale",
            Param::Blur => "blur",
            Param::Sharpen => "sharpen",
            Param::Background => "background",
            Param::Quality => "quality",
            Param::Palette => "palette",
            Param::Format => "format",
            Param::WatermarkText => "watermarkText",
        }
    }

    /// The parameter whose name is exactly `name` (decoded bytes), if any.
    pub fn from_name(name: &[u8]) -> Option<Param> {
        Some(match name {
            b"crop" => Param::Crop,
            b"width" => Param::Width,
            b"height" => Param::Height,
            b"dpr" => Param::Dpr,
            b"fit" => Param::Fit,
            b"gravity" => Param::Gravity,
            b"rotate" => Param::Rotate,
            b"flip" => Param::Flip,
            b"mirror" => Param::Mirror,
            b"grayscale" => Param::Grayscale,
            b"blur" => Param::Blur,
            b"sharpen" => Param::Sharpen,
            b"background" => Param::Background,
            b"quality" => Param::Quality,
            b"palette" => Param::Palette,
            b"format" => Param::Format,
            b"watermarkText" => Param::WatermarkText,
            _ => return None,
        })
    }

    /// What the parameter accepts, as the end of a sentence starting with its name.
    pub const fn requirement(self) -> &'static str {
        match self {
            Param::Crop => {
                "must be x,y,w,h: four integers, x and y from 0 to 65535, w and h from 1 to 65535"
            }
            Param::Width | Param::Height => "must be an integer from 1 to 8192",
            Param::Dpr => "must be a decimal from 1 to 4 (rounded to one fractional digit)",
            Param::Fit => "must be one of cover, contain, fill, inside, outside",
            Param::Gravity => {
                "must be a compass direction (north, northeast... center), attention, entropy, \
                 or a focal point X,Y of decimals from 0 to 1"
            }
            Param::Rotate => "must be an integer number of degrees",
            Param::Flip | Param::Mirror | Param::Grayscale | Param::Palette => {
                "must be 1, true, 0 or false"
            }
            Param::Blur => {
                "must be a decimal sigma of 0 or from 0.3 to 100 (rounded to one fractional digit)"
            }
            Param::Sharpen => {
                "must be a decimal sigma of 0 or from 0.3 to 10 (rounded to one fractional digit)"
            }
            Param::Background => "must be a colour RRGGBB or RRGGBBAA in hexadecimal digits",
            Param::Quality => "must be an integer from 1 to 100",
            Param::Format => "must be one of auto, jpeg, jpg, png, webp, avif",
            Param::WatermarkText => {
                "must be UTF-8 text of at most 64 characters (after NFC) without control characters"
            }
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a transform URL is invalid (answered with 400 and `{"error": code, "message": text}`).
///
/// `Display` is the human message; [`UrlError::code`] is the stable public code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum UrlError {
    /// A known parameter appears more than once.
    #[error("{0} must be given at most once")]
    DuplicateParam(Param),
    /// A value is not in the parameter's accepted input (syntax).
    #[error("{0} {req}", req = .0.requirement())]
    BadValue(Param),
    /// A value is well-formed but outside the parameter's range.
    #[error("{0} {req}", req = .0.requirement())]
    OutOfRange(Param),
    /// The path's image id is not a lowercase hyphenated UUID (or the path has none).
    #[error("the image id must be a lowercase hyphenated UUID")]
    BadImageId,
    /// The path's signature is not 22 base64url characters encoding 16 bytes.
    #[error("the signature must be 22 base64url characters (no padding)")]
    BadSig,
}

impl UrlError {
    /// The stable public error code.
    pub const fn code(self) -> &'static str {
        match self {
            UrlError::DuplicateParam(_) => "duplicate_param",
            UrlError::BadValue(_) => "bad_value",
            UrlError::OutOfRange(_) => "out_of_range",
            UrlError::BadImageId => "bad_image_id",
            UrlError::BadSig => "bad_sig",
        }
    }

    /// The parameter at fault, for query errors.
    pub const fn param(self) -> Option<Param> {
        match self {
            UrlError::DuplicateParam(p) | UrlError::BadValue(p) | UrlError::OutOfRange(p) => {
                Some(p)
            }
            UrlError::BadImageId | UrlError::BadSig => None,
        }
    }

    /// The HTTP status for this error: always 400.
    pub const fn status(self) -> u16 {
        400
    }
}
