//! `gravity`: which part of the source a `cover` resize keeps (spec 1.1).

use std::fmt;

use super::number::write_decimal;

/// Where a `cover` crop's window sits: a compass word, libvips' saliency or entropy
/// search, or a focal point. [`Gravity::Center`] is the default (and v1's behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gravity {
    #[default]
    Center,
    North,
    NorthEast,
    East,
    SouthEast,
    South,
    SouthWest,
    West,
    NorthWest,
    /// The most salient window (libvips `smartcrop`, `attention`).
    Attention,
    /// The window with the most information (libvips `smartcrop`, `entropy`).
    Entropy,
    /// A focal point other than the centre.
    Focal(FocalPoint),
}

/// A focal point in thousandths of the source's width and height, each 0..=1000, never
/// the centre (500, 500), which is [`Gravity::Center`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FocalPoint {
    x: u16,
    y: u16,
}

impl FocalPoint {
    pub const fn x_thousandths(self) -> u16 {
        self.x
    }

    pub const fn y_thousandths(self) -> u16 {
        self.y
    }
}

impl Gravity {
    /// The gravity of a point in thousandths: `None` when a coordinate is above 1000;
    /// the centre is [`Gravity::Center`].
    pub const fn point(x: u16, y: u16) -> Option<Gravity> {
        if x > 1000 || y > 1000 {
            None
        } else if x == 500 && y == 500 {
            Some(Gravity::Center)
        } else {
            Some(Gravity::Focal(FocalPoint { x, y }))
        }
    }

    /// The word's gravity (`centre` is `center`); `None` for anything else.
    pub(crate) fn from_word(word: &[u8]) -> Option<Gravity> {
        Some(match word {
            b"center" | b"centre" => Gravity::Center,
            b"north" => Gravity::North,
            b"northeast" => Gravity::NorthEast,
            b"east" => Gravity::East,
            b"southeast" => Gravity::SouthEast,
            b"south" => Gravity::South,
            b"southwest" => Gravity::SouthWest,
            b"west" => Gravity::West,
            b"northwest" => Gravity::NorthWest,
            b"attention" => Gravity::Attention,
            b"entropy" => Gravity::Entropy,
            _ => return None,
        })
    }

    /// The point the window is centred on, in thousandths of the source's width and
    /// height (a compass word is the point on that edge or corner); `None` for the
    /// content-aware searches.
    pub const fn anchor(self) -> Option<(u16, u16)> {
        Some(match self {
            Gravity::Center => (500, 500),
            Gravity::North => (500, 0),
            Gravity::NorthEast => (1000, 0),
            Gravity::East => (1000, 500),
            Gravity::SouthEast => (1000, 1000),
            Gravity::South => (500, 1000),
            Gravity::SouthWest => (0, 1000),
            Gravity::West => (0, 500),
            Gravity::NorthWest => (0, 0),
            Gravity::Focal(FocalPoint { x, y }) => (x, y),
            Gravity::Attention | Gravity::Entropy => return None,
        })
    }
}

/// The left (or top) edge of a `window`-long window on a `source`-long side, centred as
/// near as the side allows on the point `anchor` thousandths along it (spec 1.1:
/// `clamp(floor(X·W − w/2), 0, W − w)`), in exact integer arithmetic.
pub fn window_start(anchor: u16, source: u32, window: u32) -> u32 {
    let window = window.min(source);
    // floor(anchor/1000 · source − window/2) = floor((2·anchor·source − 1000·window) / 2000)
    let twice = 2 * i64::from(anchor) * i64::from(source) - 1000 * i64::from(window);
    let start = twice.div_euclid(2000);
    u32::try_from(start.clamp(0, i64::from(source - window))).unwrap_or(0)
}

impl fmt::Display for Gravity {
    /// The canonical form: the word, or the point as two shortest decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            Gravity::Center => "center",
            Gravity::North => "north",
            Gravity::NorthEast => "northeast",
            Gravity::East => "east",
            Gravity::SouthEast => "southeast",
            Gravity::South => "south",
            Gravity::SouthWest => "southwest",
            Gravity::West => "west",
            Gravity::NorthWest => "northwest",
            Gravity::Attention => "attention",
            Gravity::Entropy => "entropy",
            Gravity::Focal(FocalPoint { x, y }) => {
                write_decimal(f, u64::from(*x), 3)?;
                f.write_str(",")?;
                return write_decimal(f, u64::from(*y), 3);
            }
        };
        f.write_str(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_print_as_shortest_decimals() {
        let point = |x, y| Gravity::point(x, y).map(|g| g.to_string());
        assert_eq!(point(250, 400).as_deref(), Some("0.25,0.4"));
        assert_eq!(point(0, 1000).as_deref(), Some("0,1"));
        assert_eq!(point(500, 500), Some("center".to_owned()));
        assert_eq!(point(1001, 0), None);
    }

    #[test]
    fn the_window_follows_the_spec_formula() {
        // The centre is libvips' centre crop, (W - w) / 2 rounded down.
        assert_eq!(window_start(500, 1000, 301), 349);
        assert_eq!(window_start(500, 1001, 300), 350);
        // Clamped at both ends.
        assert_eq!(window_start(0, 1000, 300), 0);
        assert_eq!(window_start(1000, 1000, 300), 700);
        // floor(0.25 * 1000 - 150) = 100.
        assert_eq!(window_start(250, 1000, 300), 100);
        // A window as large as the side starts at 0.
        assert_eq!(window_start(900, 300, 300), 0);
    }
}
