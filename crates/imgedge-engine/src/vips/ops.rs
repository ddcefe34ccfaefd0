//! The operations a render applies to an [`Image`]: each one libvips call (or a few), giving
//! a new lazily evaluated image.

use std::ffi::{CString, c_int};

use super::ffi::{
    ANGLE_D90, ANGLE_D180, ANGLE_D270, BLEND_MODE_OVER, DIRECTION_HORIZONTAL, DIRECTION_VERTICAL,
    END, EXTEND_BACKGROUND, FORMAT_UCHAR, INTERPRETATION_B_W, INTERPRETATION_SRGB, TRUE, VipsImage,
    vips_autorot, vips_bandjoin, vips_bandjoin_const1, vips_black, vips_cast, vips_colourspace,
    vips_composite, vips_copy, vips_embed, vips_extract_area, vips_extract_band, vips_flatten,
    vips_flip, vips_gaussblur, vips_image_get_format, vips_linear1, vips_premultiply, vips_rot,
    vips_rotate, vips_sharpen, vips_text, vips_unpremultiply,
};
use super::image::{DoubleArray, Image, IntArray, image_op};
use super::setup::VipsError;

/// Which way to turn or reflect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flip {
    /// Top to bottom.
    Vertical,
    /// Left to right.
    Horizontal,
}

impl Image {
    /// Turns clockwise by a multiple of 90 degrees (exact, no resampling).
    pub(crate) fn rot90s(&self, quarter_turns: u8) -> Result<Image, VipsError> {
        let angle = match quarter_turns % 4 {
            0 => return Ok(self.clone()),
            1 => ANGLE_D90,
            2 => ANGLE_D180,
            _ => ANGLE_D270,
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("rot", |out| unsafe {
            vips_rot(self.ptr(), out, angle, END)
        })
    }

    /// Turns clockwise by any angle, growing the canvas to hold the result and filling the
    /// corners with `background` (one value per band).
    pub(crate) fn rotate(&self, degrees: f64, background: &[f64]) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call. libvips' positive angles turn
        // anticlockwise in image coordinates (y down), which is clockwise on screen.
        image_op("rotate", |out| unsafe {
            vips_rotate(self.ptr(), out, degrees, c"background".as_ptr(), bg.0, END)
        })
    }

    pub(crate) fn flip(&self, direction: Flip) -> Result<Image, VipsError> {
        let dir = match direction {
            Flip::Vertical => DIRECTION_VERTICAL,
            Flip::Horizontal => DIRECTION_HORIZONTAL,
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("flip", |out| unsafe {
            vips_flip(self.ptr(), out, dir, END)
        })
    }

    /// Converts to one grey band (alpha kept).
    pub(crate) fn to_grey(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("colourspace", |out| unsafe {
            vips_colourspace(self.ptr(), out, INTERPRETATION_B_W, END)
        })
    }

    /// Converts to 8-bit sRGB, or 8-bit grey when the image is grey.
    pub(crate) fn to_srgb8(&self) -> Result<Image, VipsError> {
        let space = if self.is_grey() {
            INTERPRETATION_B_W
        } else {
            INTERPRETATION_SRGB
        };
        self.to_8bit(space)
    }

    /// Converts to 8-bit sRGB, a grey image included (to take a colour).
    pub(crate) fn to_colour_srgb8(&self) -> Result<Image, VipsError> {
        self.to_8bit(INTERPRETATION_SRGB)
    }

    fn to_8bit(&self, space: c_int) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        let converted = image_op("colourspace", |out| unsafe {
            vips_colourspace(self.ptr(), out, space, END)
        })?;
        // SAFETY: reading the band format of a live image.
        if unsafe { vips_image_get_format(converted.ptr()) } == FORMAT_UCHAR {
            return Ok(converted);
        }
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("cast", |out| unsafe {
            vips_cast(converted.ptr(), out, FORMAT_UCHAR, END)
        })
    }

    /// Gaussian blur. Images with alpha are blurred premultiplied, so transparent pixels do
    /// not bleed their (meaningless) colour into the edges.
    pub(crate) fn blur(&self, sigma: f64) -> Result<Image, VipsError> {
        if !self.has_alpha() {
            // SAFETY: valid input image and out pointer; NULL-terminated options.
            return image_op("gaussblur", |out| unsafe {
                vips_gaussblur(self.ptr(), out, sigma, END)
            });
        }
        // SAFETY: each call gets a live input and a fresh out pointer.
        let pre = image_op("premultiply", |out| unsafe {
            vips_premultiply(self.ptr(), out, END)
        })?;
        let blurred = image_op("gaussblur", |out| unsafe {
            vips_gaussblur(pre.ptr(), out, sigma, END)
        })?;
        let un = image_op("unpremultiply", |out| unsafe {
            vips_unpremultiply(blurred.ptr(), out, END)
        })?;
        image_op("cast", |out| unsafe {
            vips_cast(un.ptr(), out, FORMAT_UCHAR, END)
        })
    }

    /// An unsharp mask of `sigma` on the lightness (libvips' `sharpen`, whose other
    /// settings are its defaults). The alpha band, if any, is kept as it is.
    pub(crate) fn sharpen(&self, sigma: f64) -> Result<Image, VipsError> {
        let colour = if self.has_alpha() {
            self.first_bands(self.bands() - 1)?
        } else {
            self.clone()
        };
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        let sharpened = image_op("sharpen", |out| unsafe {
            vips_sharpen(colour.ptr(), out, c"sigma".as_ptr(), sigma, END)
        })?;
        // sharpen answers in the input's colour space but 16-bit for sRGB input.
        let sharpened = sharpened.to_srgb8()?;
        if !self.has_alpha() {
            return Ok(sharpened);
        }
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        let alpha = image_op("extract_band", |out| unsafe {
            vips_extract_band(self.ptr(), out, self.bands() as c_int - 1, END)
        })?;
        let mut inputs = [sharpened.ptr(), alpha.ptr()];
        // SAFETY: both inputs are live for the call.
        image_op("bandjoin", |out| unsafe {
            vips_bandjoin(inputs.as_mut_ptr(), out, 2, END)
        })
    }

    /// The image turned upright by its EXIF orientation (which it then no longer carries).
    pub(crate) fn upright(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("autorot", |out| unsafe {
            vips_autorot(self.ptr(), out, END)
        })
    }

    /// The `width`×`height` area at (`left`, `top`), which must lie inside the image.
    pub(crate) fn extract_area(
        &self,
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    ) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("extract_area", |out| unsafe {
            vips_extract_area(
                self.ptr(),
                out,
                left as c_int,
                top as c_int,
                width as c_int,
                height as c_int,
                END,
            )
        })
    }

    /// Adds an opaque alpha band.
    pub(crate) fn with_alpha(&self) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("bandjoin_const1", |out| unsafe {
            vips_bandjoin_const1(self.ptr(), out, 255.0, END)
        })
    }

    /// Drops the alpha band, blending onto `background` (one value per colour band).
    pub(crate) fn flatten(&self, background: &[f64]) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call.
        image_op("flatten", |out| unsafe {
            vips_flatten(self.ptr(), out, c"background".as_ptr(), bg.0, END)
        })
    }

    /// Keeps the first `n` bands.
    pub(crate) fn first_bands(&self, n: u32) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("extract_band", |out| unsafe {
            vips_extract_band(self.ptr(), out, 0, c"n".as_ptr(), n as c_int, END)
        })
    }

    /// Places the image at (`x`, `y`) on a `width`×`height` canvas of `background`.
    pub(crate) fn embed(
        &self,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        background: &[f64],
    ) -> Result<Image, VipsError> {
        let bg = DoubleArray::new(background);
        // SAFETY: valid input; `bg` outlives the call.
        image_op("embed", |out| unsafe {
            vips_embed(
                self.ptr(),
                out,
                x as c_int,
                y as c_int,
                width as c_int,
                height as c_int,
                c"extend".as_ptr(),
                EXTEND_BACKGROUND,
                c"background".as_ptr(),
                bg.0,
                END,
            )
        })
    }

    /// `self * a + b`, saturated to 8 bits.
    pub(crate) fn linear_u8(&self, a: f64, b: f64) -> Result<Image, VipsError> {
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("linear", |out| unsafe {
            vips_linear1(self.ptr(), out, a, b, c"uchar".as_ptr(), TRUE, END)
        })
    }

    /// Composites RGBA `layers` over this image, each at its (x, y), with the "over" blend.
    pub(crate) fn composite_over(&self, layers: &[(&Image, i32, i32)]) -> Result<Image, VipsError> {
        let mut inputs: Vec<*mut VipsImage> = Vec::with_capacity(layers.len() + 1);
        inputs.push(self.ptr());
        inputs.extend(layers.iter().map(|(layer, _, _)| layer.ptr()));
        let mut modes = vec![BLEND_MODE_OVER; layers.len()];
        let xs = IntArray::new(&layers.iter().map(|(_, x, _)| *x).collect::<Vec<_>>());
        let ys = IntArray::new(&layers.iter().map(|(_, _, y)| *y).collect::<Vec<_>>());
        // SAFETY: `inputs` holds live images for the call; the arrays outlive the call.
        image_op("composite", |out| unsafe {
            vips_composite(
                inputs.as_mut_ptr(),
                out,
                inputs.len() as c_int,
                modes.as_mut_ptr(),
                c"x".as_ptr(),
                xs.0,
                c"y".as_ptr(),
                ys.0,
                END,
            )
        })
    }

    /// Joins `alpha` (one band) to this image as its alpha band, tagged as sRGB.
    pub(crate) fn join_alpha_srgb(&self, alpha: &Image) -> Result<Image, VipsError> {
        let mut inputs = [self.ptr(), alpha.ptr()];
        // SAFETY: both inputs are live for the call.
        let joined = image_op("bandjoin", |out| unsafe {
            vips_bandjoin(inputs.as_mut_ptr(), out, 2, END)
        })?;
        // SAFETY: valid input image and out pointer; NULL-terminated options.
        image_op("copy", |out| unsafe {
            vips_copy(
                joined.ptr(),
                out,
                c"interpretation".as_ptr(),
                INTERPRETATION_SRGB,
                END,
            )
        })
    }

    /// A 3-band 8-bit image of one constant value.
    pub(crate) fn solid_rgb(width: u32, height: u32, value: f64) -> Result<Image, VipsError> {
        // SAFETY: out pointer and NULL-terminated options.
        let black = image_op("black", |out| unsafe {
            vips_black(
                out,
                width as c_int,
                height as c_int,
                c"bands".as_ptr(),
                3 as c_int,
                END,
            )
        })?;
        black.linear_u8(1.0, value)
    }

    /// Renders Pango `markup` in `font` as a one-band 8-bit coverage mask, scaled to fit
    /// within `max_width`×`max_height` pixels.
    pub(crate) fn text_mask(
        markup: &str,
        font: &str,
        max_width: u32,
        max_height: u32,
    ) -> Result<Image, VipsError> {
        let text = CString::new(markup).map_err(|_| VipsError {
            op: "text",
            detail: "text contains NUL".into(),
        })?;
        let font = CString::new(font).map_err(|_| VipsError {
            op: "text",
            detail: "font name contains NUL".into(),
        })?;
        // SAFETY: the strings outlive the call; NULL-terminated options.
        image_op("text", |out| unsafe {
            vips_text(
                out,
                text.as_ptr(),
                c"font".as_ptr(),
                font.as_ptr(),
                c"width".as_ptr(),
                max_width.max(1) as c_int,
                c"height".as_ptr(),
                max_height.max(1) as c_int,
                END,
            )
        })
    }
}
