//! `TransformSpec`: the typed transform, its parser and its one canonical query.

use std::fmt;

use super::decode::{decode_small, is_plain};
use super::params::{
    Blur, Dimension, Dpr, Fit, FormatChoice, Height, Quality, Resize, Rotation, Sharpen,
    WatermarkText, Width,
};
use super::values::{
    parse_bool, parse_crop, parse_dimension, parse_dpr, parse_gravity, parse_int, parse_short,
    parse_tenths, parse_watermark,
};
use super::{Colour, Crop, Gravity, Param, UrlError};

/// A transform, every field valid by construction. `TransformSpec::default()` is the
/// original re-encoded (empty canonical query); set fields to build a spec in code.
///
/// Two specs the parser gives are equal exactly when their canonical queries are equal (a
/// spec built in code keeps that only if it sets `dpr` with a dimension, as the parser does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each is one of the spec's independent on/off parameters"
)]
pub struct TransformSpec {
    /// `crop`: the region of the oriented original that every later step sees.
    pub crop: Option<Crop>,
    /// `width`, `height`, `fit` and a cover's `gravity`.
    pub resize: Resize,
    /// `dpr`, which multiplies the resize's dimensions; `None` for a ratio of 1. It counts
    /// only with a width or a height (the parser drops it otherwise, as the canonical
    /// query does).
    pub dpr: Option<Dpr>,
    /// `rotate`, reduced modulo 360.
    pub rotate: Rotation,
    /// `flip`: top-bottom.
    pub flip: bool,
    /// `mirror`: left-right.
    pub mirror: bool,
    /// `grayscale`.
    pub grayscale: bool,
    /// `blur`; `None` is no blur (a rounded sigma of 0).
    pub blur: Option<Blur>,
    /// `sharpen`; `None` is no sharpening (a rounded sigma of 0).
    pub sharpen: Option<Sharpen>,
    /// `background`: the fill of bars, corners and flattened alpha.
    pub background: Option<Colour>,
    /// `quality`; 80 unless given.
    pub quality: Quality,
    /// `palette`: a PNG output is a palette image.
    pub palette: bool,
    /// `format`.
    pub format: FormatChoice,
    /// `watermarkText`; `None` when not given or empty.
    pub watermark: Option<WatermarkText>,
}

/// A parsed query: the spec, and whether the raw query was already canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    spec: TransformSpec,
    canonical: bool,
}

impl ParsedQuery {
    pub fn spec(&self) -> &TransformSpec {
        &self.spec
    }

    pub fn into_spec(self) -> TransformSpec {
        self.spec
    }

    /// Whether the raw query, once unknown pairs and empty pieces are dropped, is byte
    /// for byte the canonical query (otherwise the request is redirected).
    pub fn is_canonical(&self) -> bool {
        self.canonical
    }
}

/// The canonical query of a spec as a `Display` value (formats without allocating).
#[derive(Debug, Clone, Copy)]
pub struct Canonical<'a>(&'a TransformSpec);

impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_canonical(f)
    }
}

impl TransformSpec {
    /// Parses a raw query (without the leading `?`), following the spec's parsing rules:
    /// unknown pairs are dropped first, then any duplicate known name is
    /// `duplicate_param`, then values are checked in query order (the first failure wins).
    pub fn parse(raw_query: &str) -> Result<ParsedQuery, UrlError> {
        // Pass 1: known pairs, in query order, as raw pieces and raw values.
        let mut values: [Option<&str>; Param::ALL.len()] = [None; Param::ALL.len()];
        let mut order = [Param::Width; Param::ALL.len()];
        let mut pieces = [""; Param::ALL.len()];
        let mut count = 0;
        for piece in raw_query.split('&') {
            if piece.is_empty() {
                continue;
            }
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let Some(param) = known_name(name) else {
                continue;
            };
            let slot = &mut values[param.index()];
            if slot.is_some() {
                return Err(UrlError::DuplicateParam(param));
            }
            *slot = Some(value);
            order[count] = param;
            pieces[count] = piece;
            count += 1;
        }

        // Pass 2: values, in query order.
        let mut spec = TransformSpec::default();
        let (mut width, mut height, mut fit) = (None, None, Fit::COVER);
        let mut gravity = Gravity::Center;
        for &param in &order[..count] {
            let raw = values[param.index()].unwrap_or_default();
            match param {
                Param::Crop => spec.crop = Some(parse_crop(raw)?),
                Param::Width => width = Some(parse_dimension(param, raw)?),
                Param::Height => height = Some(parse_dimension(param, raw)?),
                Param::Dpr => spec.dpr = parse_dpr(raw)?,
                Param::Fit => {
                    fit = parse_short(param, raw, Fit::from_bytes)?;
                }
                Param::Gravity => gravity = parse_gravity(raw)?,
                Param::Rotate => {
                    spec.rotate = Rotation::from_degrees(parse_int(param, raw)?);
                }
                Param::Flip => spec.flip = parse_bool(param, raw)?,
                Param::Mirror => spec.mirror = parse_bool(param, raw)?,
                Param::Grayscale => spec.grayscale = parse_bool(param, raw)?,
                Param::Blur => {
                    spec.blur = parse_tenths(param, raw, 1000, |t| {
                        u16::try_from(t).ok().and_then(Blur::from_tenths)
                    })?;
                }
                Param::Sharpen => {
                    spec.sharpen = parse_tenths(param, raw, 100, |t| {
                        u8::try_from(t).ok().and_then(Sharpen::from_tenths)
                    })?;
                }
                Param::Background => {
                    spec.background = Some(
                        decode_small::<8>(raw)
                            .and_then(|(buf, len)| Colour::from_hex(&buf[..len]))
                            .ok_or(UrlError::BadValue(param))?,
                    );
                }
                Param::Palette => spec.palette = parse_bool(param, raw)?,
                Param::Quality => {
                    let q = parse_int(param, raw)?;
                    spec.quality = u8::try_from(q)
                        .ok()
                        .and_then(Quality::new)
                        .ok_or(UrlError::OutOfRange(param))?;
                }
                Param::Format => {
                    spec.format = parse_short(param, raw, FormatChoice::from_bytes)?;
                }
                Param::WatermarkText => spec.watermark = parse_watermark(raw)?,
            }
        }
        if fit == Fit::COVER {
            fit = Fit::Cover(gravity);
        }
        spec.resize = Resize::new(width, height, fit);
        if spec.resize == Resize::Original {
            spec.dpr = None;
        }

        // The canonical check, streaming the canonical query against the filtered pieces.
        let mut matcher = MatchSink::new(&pieces[..count]);
        let canonical = spec.write_canonical(&mut matcher).is_ok() && matcher.is_complete();
        Ok(ParsedQuery { spec, canonical })
    }

    /// The canonical query: `name=value` pairs in table order joined by `&`, defaults
    /// omitted; empty for the default spec.
    pub fn canonical_query(&self) -> String {
        let mut out = String::with_capacity(self.canonical_len_hint());
        // Writing into a `String` cannot fail.
        let written = self.write_canonical(&mut out);
        debug_assert!(written.is_ok());
        out
    }

    /// The canonical query as a `Display` value, e.g. to format it into a buffer.
    pub fn canonical(&self) -> Canonical<'_> {
        Canonical(self)
    }

    /// Writes the canonical query to `out`.
    pub fn write_canonical<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        let mut pairs = Pairs { out, first: true };
        if let Some(crop) = self.crop {
            pairs.start("crop")?;
            write!(pairs.out, "{crop}")?;
        }
        if let Some(w) = self.resize.width() {
            pairs.start("width")?;
            write!(pairs.out, "{w}")?;
        }
        if let Some(h) = self.resize.height() {
            pairs.start("height")?;
            write!(pairs.out, "{h}")?;
        }
        if let Some(dpr) = self.dpr
            && self.resize != Resize::Original
        {
            pairs.start("dpr")?;
            write!(pairs.out, "{dpr}")?;
        }
        match self.resize.fit() {
            Some(Fit::Cover(Gravity::Center)) | None => {}
            Some(Fit::Cover(gravity)) => {
                pairs.start("gravity")?;
                write!(pairs.out, "{gravity}")?;
            }
            Some(fit) => {
                pairs.start("fit")?;
                pairs.out.write_str(fit.as_str())?;
            }
        }
        if !self.rotate.is_none() {
            pairs.start("rotate")?;
            write!(pairs.out, "{}", self.rotate.degrees())?;
        }
        for (on, name) in [
            (self.flip, "flip"),
            (self.mirror, "mirror"),
            (self.grayscale, "grayscale"),
        ] {
            if on {
                pairs.start(name)?;
                pairs.out.write_char('1')?;
            }
        }
        if let Some(blur) = self.blur {
            pairs.start("blur")?;
            write!(pairs.out, "{blur}")?;
        }
        if let Some(sharpen) = self.sharpen {
            pairs.start("sharpen")?;
            write!(pairs.out, "{sharpen}")?;
        }
        if let Some(background) = self.background {
            pairs.start("background")?;
            write!(pairs.out, "{background}")?;
        }
        if self.quality != Quality::DEFAULT {
            pairs.start("quality")?;
            write!(pairs.out, "{}", self.quality.get())?;
        }
        if self.palette {
            pairs.start("palette")?;
            pairs.out.write_char('1')?;
        }
        if let Some(format) = self.format.as_query() {
            pairs.start("format")?;
            pairs.out.write_str(format)?;
        }
        if let Some(text) = &self.watermark {
            pairs.start("watermarkText")?;
            percent_encode(text.as_str(), pairs.out)?;
        }
        Ok(())
    }

    /// Whether this is the default spec (the original re-encoded; empty canonical query).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The requested width, if any.
    pub fn width(&self) -> Option<Width> {
        self.resize.width()
    }

    /// The requested height, if any.
    pub fn height(&self) -> Option<Height> {
        self.resize.height()
    }

    /// The fit, present only when both width and height are.
    pub fn fit(&self) -> Option<Fit> {
        self.resize.fit()
    }

    /// The resize the engine performs: `width` and `height` multiplied by `dpr`.
    pub fn scaled_resize(&self) -> Resize {
        let Some(dpr) = self.dpr else {
            return self.resize;
        };
        let scale = |d: Dimension| Dimension::new(dpr.scale(d.get())).unwrap_or(d);
        match self.resize {
            Resize::Original => Resize::Original,
            Resize::Width(w) => Resize::Width(scale(w)),
            Resize::Height(h) => Resize::Height(scale(h)),
            Resize::Box { width, height, fit } => Resize::Box {
                width: scale(width),
                height: scale(height),
                fit,
            },
        }
    }

    /// This spec with an image's focal point as its `cover` gravity, when it names none:
    /// how an owner's focus (`x`, `y` in thousandths) enters the URLs minted for the image,
    /// so that one intent gives one URL. A spec with another gravity, another fit, a
    /// `crop` (its window is in the cropped region, not in the image the focus is of), or
    /// without both dimensions is unchanged (its canonical query has no `gravity` either way
    /// only when the gravity is the centre, which is also what "names none" means here).
    #[must_use]
    pub fn with_focus(mut self, x: u16, y: u16) -> TransformSpec {
        if self.crop.is_none()
            && let Resize::Box {
                width,
                height,
                fit: Fit::Cover(Gravity::Center),
            } = self.resize
            && let Some(gravity) = Gravity::point(x, y)
        {
            self.resize = Resize::Box {
                width,
                height,
                fit: Fit::Cover(gravity),
            };
        }
        self
    }

    /// Whether the output format is chosen per request (`format=auto`).
    pub fn is_auto(&self) -> bool {
        self.format == FormatChoice::Auto
    }

    fn canonical_len_hint(&self) -> usize {
        128 + self
            .watermark
            .as_ref()
            .map_or(0, |w| 15 + 3 * w.as_str().len())
    }
}

/// Writes `&` between pairs.
struct Pairs<'w, W: ?Sized> {
    out: &'w mut W,
    first: bool,
}

impl<W: fmt::Write + ?Sized> Pairs<'_, W> {
    fn start(&mut self, name: &str) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.out.write_char('&')?;
        }
        self.out.write_str(name)?;
        self.out.write_char('=')
    }
}

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The spec's percent-encoding: `A-Z a-z 0-9 - . _ ~` literal, every other UTF-8 byte
/// `%XX` in uppercase hex.
fn percent_encode<W: fmt::Write + ?Sized>(text: &str, out: &mut W) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        if run_start < i {
            // A run of unreserved ASCII, hence on character boundaries.
            out.write_str(text.get(run_start..i).ok_or(fmt::Error)?)?;
        }
        out.write_char('%')?;
        out.write_char(char::from(HEX[usize::from(b >> 4)]))?;
        out.write_char(char::from(HEX[usize::from(b & 15)]))?;
        run_start = i + 1;
    }
    out.write_str(text.get(run_start..).ok_or(fmt::Error)?)
}

/// The raw query with the pairs the spec does not know, and empty pieces, dropped; the known
/// pairs keep their order and their bytes. This is what a CDN whose cache policy forwards only
/// the spec's names sees, so it is the edge's cache key for a query that is not canonical.
pub fn known_query(raw_query: &str) -> std::borrow::Cow<'_, str> {
    let keep = |piece: &&str| {
        !piece.is_empty() && known_name(piece.split_once('=').map_or(*piece, |(n, _)| n)).is_some()
    };
    if raw_query.split('&').all(|piece| keep(&piece)) {
        return std::borrow::Cow::Borrowed(raw_query);
    }
    let kept: Vec<&str> = raw_query.split('&').filter(keep).collect();
    std::borrow::Cow::Owned(kept.join("&"))
}

/// The parameter that `raw_name` decodes to, if it is exactly one of the table's names.
fn known_name(raw_name: &str) -> Option<Param> {
    if is_plain(raw_name) {
        return Param::from_name(raw_name.as_bytes());
    }
    // "watermarkText" is the longest name.
    let (buf, len) = decode_small::<13>(raw_name)?;
    Param::from_name(&buf[..len])
}

/// Compares written text with the filtered raw query (`pieces` joined by `&`); fails at
/// the first difference or when the text runs past it.
struct MatchSink<'a> {
    pieces: &'a [&'a str],
    /// Current segment: piece `seg / 2` when even, the `&` after it when odd.
    seg: usize,
    rest: &'a [u8],
}

impl<'a> MatchSink<'a> {
    fn new(pieces: &'a [&'a str]) -> Self {
        Self {
            pieces,
            seg: 0,
            rest: pieces.first().map_or(&[], |p| p.as_bytes()),
        }
    }

    fn segments(&self) -> usize {
        (2 * self.pieces.len()).saturating_sub(1)
    }

    /// Whether everything of the filtered query was matched.
    fn is_complete(&self) -> bool {
        self.rest.is_empty() && self.seg + 1 >= self.segments()
    }
}

impl fmt::Write for MatchSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut s = s.as_bytes();
        while !s.is_empty() {
            if self.rest.is_empty() {
                self.seg += 1;
                if self.seg >= self.segments() {
                    return Err(fmt::Error);
                }
                self.rest = if self.seg.is_multiple_of(2) {
                    self.pieces[self.seg / 2].as_bytes()
                } else {
                    b"&"
                };
            }
            let n = s.len().min(self.rest.len());
            if s[..n] != self.rest[..n] {
                return Err(fmt::Error);
            }
            s = &s[n..];
            self.rest = &self.rest[n..];
        }
        Ok(())
    }
}
