//! `crop`: a region of the oriented original, cut before anything else (spec 1.1).

use std::fmt;
use std::num::NonZeroU16;

/// The region `x,y,w,h` in pixels of the original after EXIF orientation: `x` and `y` in
/// 0..=65535, `w` and `h` in 1..=65535. The image's size is unknown to a URL, so a region
/// may reach past the image (it is intersected with it) or lie wholly outside it (answered
/// `crop_outside` when rendered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Crop {
    x: u16,
    y: u16,
    width: NonZeroU16,
    height: NonZeroU16,
}

/// A crop region's intersection with an image, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropArea {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

impl Crop {
    pub const fn new(x: u16, y: u16, width: NonZeroU16, height: NonZeroU16) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// From the four query numbers, `None` when one is out of its range.
    pub fn from_numbers([x, y, w, h]: [i64; 4]) -> Option<Self> {
        let coordinate = |v: i64| u16::try_from(v).ok();
        let extent = |v: i64| u16::try_from(v).ok().and_then(NonZeroU16::new);
        Some(Self::new(
            coordinate(x)?,
            coordinate(y)?,
            extent(w)?,
            extent(h)?,
        ))
    }

    pub const fn x(self) -> u32 {
        self.x as u32
    }

    pub const fn y(self) -> u32 {
        self.y as u32
    }

    pub const fn width(self) -> u32 {
        self.width.get() as u32
    }

    pub const fn height(self) -> u32 {
        self.height.get() as u32
    }

    /// The region's intersection with an image of `size`, `None` when they do not overlap.
    pub fn within(self, size: (u32, u32)) -> Option<CropArea> {
        let (image_width, image_height) = size;
        if self.x() >= image_width || self.y() >= image_height {
            return None;
        }
        Some(CropArea {
            left: self.x(),
            top: self.y(),
            width: self.width().min(image_width - self.x()),
            height: self.height().min(image_height - self.y()),
        })
    }
}

impl fmt::Display for Crop {
    /// The canonical form, `x,y,w,h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{},{}", self.x, self.y, self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_intersected_with_the_image() {
        let crop = Crop::from_numbers([100, 50, 1000, 20]).expect("in range");
        assert_eq!(crop.to_string(), "100,50,1000,20");
        assert_eq!(
            crop.within((400, 300)),
            Some(CropArea {
                left: 100,
                top: 50,
                width: 300,
                height: 20
            })
        );
        assert_eq!(crop.within((100, 300)), None);
        assert_eq!(crop.within((400, 50)), None);
        assert_eq!(Crop::from_numbers([0, 0, 0, 10]), None);
        assert_eq!(Crop::from_numbers([65536, 0, 1, 1]), None);
        assert!(Crop::from_numbers([65535, 65535, 65535, 65535]).is_some());
    }
}
