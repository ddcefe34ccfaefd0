//! Each parameter's value, from its raw (percent-encoded) text to its typed value or its
//! error: the spec's value rules, one function per shape.
//! [`TransformSpec::parse`](crate::TransformSpec::parse) calls them in query order.

use super::decode::{FormDecoder, decode_owned, decode_small};
use super::number::{BadShape, Decimal, DecimalShape, IntShape};
use super::params::{Dimension, Dpr, WatermarkError, WatermarkText};
use super::{Crop, Gravity, Param, UrlError};

/// Longest decoded value of a boolean, `fit` or `format` (`outside`, `contain`).
const SHORT_VALUE_MAX: usize = 7;

/// `^-?[0-9]+$` (after decoding) as an `i64`: `bad_value` when not matching,
/// `out_of_range` when it does not fit.
pub(crate) fn parse_int(param: Param, raw: &str) -> Result<i64, UrlError> {
    let mut shape = IntShape::default();
    for b in FormDecoder::new(raw) {
        shape.push(b.map_err(|_| UrlError::BadValue(param))?);
    }
    shape
        .finish()
        .map_err(|BadShape| UrlError::BadValue(param))?
        .ok_or(UrlError::OutOfRange(param))
}

pub(crate) fn parse_dimension(param: Param, raw: &str) -> Result<Dimension, UrlError> {
    let v = parse_int(param, raw)?;
    u32::try_from(v)
        .ok()
        .and_then(Dimension::new)
        .ok_or(UrlError::OutOfRange(param))
}

/// A short keyword value (`fit`, `format`, booleans), decoded on the stack.
pub(crate) fn parse_short<T>(
    param: Param,
    raw: &str,
    from: fn(&[u8]) -> Option<T>,
) -> Result<T, UrlError> {
    decode_small::<SHORT_VALUE_MAX>(raw)
        .and_then(|(buf, len)| from(&buf[..len]))
        .ok_or(UrlError::BadValue(param))
}

pub(crate) fn parse_bool(param: Param, raw: &str) -> Result<bool, UrlError> {
    parse_short(param, raw, |b| match b {
        b"1" | b"true" => Some(true),
        b"0" | b"false" => Some(false),
        _ => None,
    })
}

/// A decimal (after decoding) rounded half-up to `PLACES` digits: `bad_value` when not of
/// the shape, `out_of_range` for a leading `-`.
pub(crate) fn parse_decimal<const PLACES: u32>(param: Param, raw: &str) -> Result<u64, UrlError> {
    let mut shape = DecimalShape::<PLACES>::default();
    for b in FormDecoder::new(raw) {
        shape.push(b.map_err(|_| UrlError::BadValue(param))?);
    }
    match shape.finish() {
        Err(BadShape) => Err(UrlError::BadValue(param)),
        Ok(Decimal { negative: true, .. }) => Err(UrlError::OutOfRange(param)),
        Ok(Decimal { units, .. }) => Ok(units),
    }
}

/// A sigma in tenths (`blur`, `sharpen`): `None` when it rounds to 0, else what `make`
/// accepts, else `out_of_range`. `max` saturates the value before `make` sees it.
pub(crate) fn parse_tenths<T>(
    param: Param,
    raw: &str,
    max: u64,
    make: impl Fn(u64) -> Option<T>,
) -> Result<Option<T>, UrlError> {
    match parse_decimal::<1>(param, raw)? {
        0 => Ok(None),
        tenths => make(tenths.min(max + 1))
            .map(Some)
            .ok_or(UrlError::OutOfRange(param)),
    }
}

/// `dpr`: 1 to 4 after rounding to tenths; a ratio of 1 is `None`.
pub(crate) fn parse_dpr(raw: &str) -> Result<Option<Dpr>, UrlError> {
    match parse_decimal::<1>(Param::Dpr, raw)? {
        10 => Ok(None),
        tenths => u8::try_from(tenths)
            .ok()
            .and_then(Dpr::from_tenths)
            .map(Some)
            .ok_or(UrlError::OutOfRange(Param::Dpr)),
    }
}

/// `crop`: four integers joined by `,`. The whole value's shape is checked before any
/// range; a negative number (even `-0`) is out of range.
pub(crate) fn parse_crop(raw: &str) -> Result<Crop, UrlError> {
    let bad = UrlError::BadValue(Param::Crop);
    let mut parts = [IntShape::default(); 4];
    let mut index = 0;
    for b in FormDecoder::new(raw) {
        match b.map_err(|_| bad)? {
            b',' if index < 3 => index += 1,
            b',' => return Err(bad),
            b => parts[index].push(b),
        }
    }
    if index != 3 {
        return Err(bad);
    }
    let mut numbers = [None; 4];
    for (number, part) in numbers.iter_mut().zip(parts) {
        *number = part.finish().map_err(|BadShape| bad)?;
    }
    let out_of_range = UrlError::OutOfRange(Param::Crop);
    // A leading `-` is out of range, `-0` included, as for the spec's decimals.
    if parts.iter().any(IntShape::is_negative) {
        return Err(out_of_range);
    }
    let [Some(x), Some(y), Some(w), Some(h)] = numbers else {
        return Err(out_of_range);
    };
    Crop::from_numbers([x, y, w, h]).ok_or(out_of_range)
}

/// `gravity`: a word (case-sensitive), or a focal point `X,Y` of two decimals rounded to
/// thousandths, each 0 to 1. The whole value's shape is checked before any range.
pub(crate) fn parse_gravity(raw: &str) -> Result<Gravity, UrlError> {
    /// "northwest" and "southeast", the longest words.
    const WORD_MAX: usize = 9;
    let bad = UrlError::BadValue(Param::Gravity);
    let mut word = [0u8; WORD_MAX];
    let mut len = 0usize;
    let mut coordinates = [DecimalShape::<3>::default(); 2];
    let mut commas = 0usize;
    for b in FormDecoder::new(raw) {
        let b = b.map_err(|_| bad)?;
        if let Some(slot) = word.get_mut(len) {
            *slot = b;
        }
        len = len.saturating_add(1);
        match b {
            b',' if commas == 0 => commas = 1,
            b',' => return Err(bad),
            b => coordinates[commas].push(b),
        }
    }
    if commas == 0 {
        return word.get(..len).and_then(Gravity::from_word).ok_or(bad);
    }
    let [x, y] = coordinates.map(DecimalShape::finish);
    let (x, y) = (x.map_err(|BadShape| bad)?, y.map_err(|BadShape| bad)?);
    let out_of_range = UrlError::OutOfRange(Param::Gravity);
    if x.negative || y.negative {
        return Err(out_of_range);
    }
    let thousandths = |units: u64| u16::try_from(units).ok();
    thousandths(x.units)
        .zip(thousandths(y.units))
        .and_then(|(x, y)| Gravity::point(x, y))
        .ok_or(out_of_range)
}

pub(crate) fn parse_watermark(raw: &str) -> Result<Option<WatermarkText>, UrlError> {
    let bad = UrlError::BadValue(Param::WatermarkText);
    let bytes = decode_owned(raw).ok_or(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad)?;
    match WatermarkText::from_string(text) {
        Ok(w) => Ok(Some(w)),
        Err(WatermarkError::Empty) => Ok(None),
        Err(WatermarkError::Control) => Err(bad),
        Err(WatermarkError::TooLong) => Err(UrlError::OutOfRange(Param::WatermarkText)),
    }
}
