//! The spec's two number shapes, read one decoded byte at a time (so values of any length,
//! leading zeros included, are checked without allocating): integers `-?[0-9]+` and
//! decimals `-?[0-9]+(\.[0-9]+)?` rounded half-up on their decimal digits, never through
//! binary floating point.

/// A value that is not of the number's shape (`bad_value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadShape;

/// An integer of the shape `-?[0-9]+`: fed with [`IntShape::push`], read with
/// [`IntShape::finish`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntShape {
    negative: bool,
    digits: usize,
    /// `None` once the magnitude overflows.
    magnitude: Option<u64>,
    bad: bool,
    len: usize,
}

impl Default for IntShape {
    fn default() -> Self {
        Self {
            negative: false,
            digits: 0,
            magnitude: Some(0),
            bad: false,
            len: 0,
        }
    }
}

impl IntShape {
    pub(crate) fn push(&mut self, b: u8) {
        match b {
            b'-' if self.len == 0 => self.negative = true,
            d @ b'0'..=b'9' => {
                self.digits += 1;
                self.magnitude = self
                    .magnitude
                    .and_then(|m| m.checked_mul(10))
                    .and_then(|m| m.checked_add(u64::from(d - b'0')));
            }
            _ => self.bad = true,
        }
        self.len += 1;
    }

    /// Whether the value has a leading `-` (`-0` included).
    pub(crate) const fn is_negative(&self) -> bool {
        self.negative
    }

    /// The value, `Ok(None)` when it has the shape but does not fit an `i64`.
    pub(crate) fn finish(self) -> Result<Option<i64>, BadShape> {
        if self.bad || self.digits == 0 {
            return Err(BadShape);
        }
        Ok(self.magnitude.and_then(|m| {
            if self.negative {
                0i64.checked_sub_unsigned(m)
            } else {
                i64::try_from(m).ok()
            }
        }))
    }
}

/// A decimal of the shape `-?[0-9]+(\.[0-9]+)?`, rounded half-up to `PLACES` fractional
/// digits: fed with [`DecimalShape::push`], read with [`DecimalShape::finish`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DecimalShape<const PLACES: u32> {
    state: State,
    negative: bool,
    /// The integer part, saturated: every range the spec gives is far below.
    int: u64,
    /// The first `PLACES` fractional digits, as an integer.
    frac: u64,
    frac_digits: u32,
    /// The digit after them, which decides the rounding.
    next_digit: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Start,
    Sign,
    Int,
    Dot,
    Frac,
    Bad,
}

/// A decimal read by [`DecimalShape`]: its rounded value in units of `10^-PLACES`, and
/// whether it had a leading `-` (which the spec answers with `out_of_range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub(crate) negative: bool,
    pub(crate) units: u64,
}

impl<const PLACES: u32> DecimalShape<PLACES> {
    const SATURATE: u64 = 1_000_000;

    pub(crate) fn push(&mut self, b: u8) {
        self.state = match (self.state, b) {
            (State::Start, b'-') => {
                self.negative = true;
                State::Sign
            }
            (State::Start | State::Sign | State::Int, b'0'..=b'9') => {
                self.int = (self.int * 10 + u64::from(b - b'0')).min(Self::SATURATE);
                State::Int
            }
            (State::Int, b'.') => State::Dot,
            (State::Dot | State::Frac, b'0'..=b'9') => {
                if self.frac_digits < PLACES {
                    self.frac = self.frac * 10 + u64::from(b - b'0');
                } else if self.frac_digits == PLACES {
                    self.next_digit = b - b'0';
                }
                self.frac_digits = self.frac_digits.saturating_add(1);
                State::Frac
            }
            _ => State::Bad,
        };
    }

    pub(crate) fn finish(self) -> Result<Decimal, BadShape> {
        if !matches!(self.state, State::Int | State::Frac) {
            return Err(BadShape);
        }
        // Pad the kept fractional digits to PLACES.
        let kept = self.frac_digits.min(PLACES);
        let frac = self.frac * 10u64.pow(PLACES - kept);
        let units = self.int * 10u64.pow(PLACES) + frac + u64::from(self.next_digit >= 5);
        Ok(Decimal {
            negative: self.negative,
            units,
        })
    }
}

/// Writes `units` of `10^-places` as the shortest decimal (`2`, `1.5`, `0.25`, `0.001`).
pub(crate) fn write_decimal<W: std::fmt::Write + ?Sized>(
    out: &mut W,
    units: u64,
    places: u32,
) -> std::fmt::Result {
    let scale = 10u64.pow(places);
    let (int, mut frac) = (units / scale, units % scale);
    write!(out, "{int}")?;
    if frac == 0 {
        return Ok(());
    }
    let mut width = places as usize;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    write!(out, ".{frac:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal<const P: u32>(s: &str) -> Result<Decimal, BadShape> {
        let mut shape = DecimalShape::<P>::default();
        s.bytes().for_each(|b| shape.push(b));
        shape.finish()
    }

    fn int(s: &str) -> Result<Option<i64>, BadShape> {
        let mut shape = IntShape::default();
        s.bytes().for_each(|b| shape.push(b));
        shape.finish()
    }

    fn shortest(units: u64, places: u32) -> String {
        let mut s = String::new();
        write_decimal(&mut s, units, places).expect("a String takes any text");
        s
    }

    #[test]
    fn decimals_round_half_up_on_their_digits() {
        let units = |s| decimal::<1>(s).map(|d| d.units);
        assert_eq!(units("1.05"), Ok(11));
        assert_eq!(units("1.049999"), Ok(10));
        assert_eq!(units("0.25"), Ok(3));
        assert_eq!(units("4.04"), Ok(40));
        assert_eq!(units("007"), Ok(70));
        assert_eq!(decimal::<3>("1.0004").map(|d| d.units), Ok(1000));
        assert_eq!(decimal::<3>("0.0005").map(|d| d.units), Ok(1));
        assert_eq!(decimal::<3>("0.25").map(|d| d.units), Ok(250));
        assert_eq!(
            decimal::<1>("-0.5"),
            Ok(Decimal {
                negative: true,
                units: 5
            })
        );
        for bad in [
            "", "-", ".5", "1.", "1..2", "1.2.3", "+1", "1e3", " 1", "--1",
        ] {
            assert_eq!(decimal::<1>(bad), Err(BadShape), "{bad:?}");
        }
    }

    #[test]
    fn integers_keep_v1s_shape() {
        assert_eq!(int("0800"), Ok(Some(800)));
        assert_eq!(int("-90"), Ok(Some(-90)));
        assert_eq!(int("99999999999999999999"), Ok(None));
        for bad in ["", "-", "1-", "1.0", "+1", "1 "] {
            assert_eq!(int(bad), Err(BadShape), "{bad:?}");
        }
    }

    #[test]
    fn shortest_decimals() {
        assert_eq!(shortest(20, 1), "2");
        assert_eq!(shortest(15, 1), "1.5");
        assert_eq!(shortest(250, 3), "0.25");
        assert_eq!(shortest(1, 3), "0.001");
        assert_eq!(shortest(0, 3), "0");
        assert_eq!(shortest(1000, 3), "1");
    }
}
