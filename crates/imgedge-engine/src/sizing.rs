//! How a render sizes its source, from the spec and the source's upright size alone
//! (pure arithmetic): what libvips' thumbnail is asked for, the box `contain` pads to, the
//! window a compass or focal-point `cover` cuts, the sizes that result (for estimates made
//! before decoding), and the JPEG shrink-on-load factor.

use super::vips::{Keep, ThumbnailSize};
use super::{ShrinkOnLoad, SourceFormat, SourceInfo};
use imgedge_url::{AcceptClass, Fit, Format, FormatChoice, Gravity, Resize, TransformSpec};

/// A target dimension large enough to mean "no limit" to libvips' thumbnail.
const UNBOUNDED: u32 = 10_000_000;

/// How to decode-and-resize for `resize` on an upright source of `source` pixels (the
/// crop region when there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sizing {
    /// What libvips' thumbnail does.
    pub(super) resize: ThumbnailSize,
    /// The box `contain` pads the resized image to.
    pub(super) pad: Option<(u32, u32)>,
    /// The window a compass or focal-point `cover` cuts from the resized image (which
    /// covers the box): its size, and the point it centres on, in thousandths.
    pub(super) window: Option<Window>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) anchor: (u16, u16),
}

pub(super) fn sizing(resize: Resize, source: (u32, u32)) -> Sizing {
    let (sw, sh) = (u64::from(source.0.max(1)), u64::from(source.1.max(1)));
    let within = |width, height| ThumbnailSize::Within { width, height };
    let just = |resize| Sizing {
        resize,
        pad: None,
        window: None,
    };
    // Scale by the larger of the two ratios, so both sides reach the box: w/sw >= h/sh
    // means the width decides.
    let outside = |w: u32, h: u32| {
        if u64::from(w) * sh >= u64::from(h) * sw {
            within(w, UNBOUNDED)
        } else {
            within(UNBOUNDED, h)
        }
    };
    match resize {
        Resize::Original => just(within(UNBOUNDED, UNBOUNDED)),
        Resize::Width(w) => just(within(w.get(), UNBOUNDED)),
        Resize::Height(h) => just(within(UNBOUNDED, h.get())),
        Resize::Box { width, height, fit } => {
            let (w, h) = (width.get(), height.get());
            let cover = |keep| ThumbnailSize::CoverCrop {
                width: w,
                height: h,
                keep,
            };
            match fit {
                // v1's cover: libvips' own centre crop, so v1 URLs keep their bytes.
                Fit::Cover(Gravity::Center) => just(cover(Keep::Centre)),
                Fit::Cover(Gravity::Attention) => just(cover(Keep::Attention)),
                Fit::Cover(Gravity::Entropy) => just(cover(Keep::Entropy)),
                Fit::Cover(gravity) => Sizing {
                    resize: outside(w, h),
                    pad: None,
                    window: gravity.anchor().map(|anchor| Window {
                        width: w,
                        height: h,
                        anchor,
                    }),
                },
                Fit::Inside => just(within(w, h)),
                Fit::Contain => Sizing {
                    resize: within(w, h),
                    pad: Some((w, h)),
                    window: None,
                },
                Fit::Fill => just(ThumbnailSize::Force {
                    width: w.min(source.0),
                    height: h.min(source.1),
                }),
                Fit::Outside => just(outside(w, h)),
            }
        }
    }
}

/// The sizes a resize gives on a source, before any later step: the resized image, and
/// the box `contain` pads it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub(super) resized: (u32, u32),
    pub(super) pad: Option<(u32, u32)>,
}

/// [`Geometry`] of `resize` on an upright `source`, as libvips' thumbnail computes it
/// (to within a pixel of rounding): pure arithmetic, for estimates made before decoding.
pub(super) fn geometry(resize: Resize, source: (u32, u32)) -> Geometry {
    let Sizing {
        resize: size,
        pad,
        window,
    } = sizing(resize, source);
    let (sw, sh) = (f64::from(source.0.max(1)), f64::from(source.1.max(1)));
    let scaled = |scale: f64| {
        let scale = scale.min(1.0);
        (
            ((sw * scale).round() as u32).max(1),
            ((sh * scale).round() as u32).max(1),
        )
    };
    let mut resized = match size {
        ThumbnailSize::Within { width, height } => {
            scaled((f64::from(width) / sw).min(f64::from(height) / sh))
        }
        ThumbnailSize::CoverCrop { width, height, .. } => {
            let (w, h) = scaled((f64::from(width) / sw).max(f64::from(height) / sh));
            (w.min(width), h.min(height))
        }
        ThumbnailSize::Force { width, height } => (width, height),
    };
    if let Some(window) = window {
        resized = (resized.0.min(window.width), resized.1.min(window.height));
    }
    Geometry { resized, pad }
}

/// The upright size the resize starts from: the crop region's intersection with the
/// source, or the whole source; `None` when the region lies wholly outside it.
pub(super) fn cropped(spec: &TransformSpec, info: &SourceInfo) -> Option<(u32, u32)> {
    match spec.crop {
        None => Some((info.width, info.height)),
        Some(crop) => crop
            .within((info.width, info.height))
            .map(|area| (area.width, area.height)),
    }
}

/// The output format: the URL's, the original's, or for `format=auto` the `basic` class's
/// (the transformer resolves `auto` from the request's accept class before rendering).
pub(super) fn output_format(spec: &TransformSpec, info: &SourceInfo) -> Format {
    match spec.format {
        FormatChoice::Original => info.format.default_output(info.has_alpha),
        FormatChoice::Fixed(format) => format,
        FormatChoice::Auto => AcceptClass::Basic.format(info.has_alpha),
    }
}

/// The JPEG shrink-on-load factor for `spec` on a source of `info`'s size under `policy`
/// (see [`ShrinkOnLoad`]); other formats decode whole (1). A render from an intermediate
/// decoded at this factor is byte-identical to the render from the original (tested in the
/// engine's tests, on the libvips linked).
pub(super) fn shrink_on_load(spec: &TransformSpec, info: &SourceInfo, policy: ShrinkOnLoad) -> u32 {
    if info.format != SourceFormat::Jpeg {
        return 1;
    }
    let source = cropped(spec, info).unwrap_or((info.width, info.height));
    let resize = sizing(spec.scaled_resize(), source).resize;
    let (sw, sh) = (f64::from(source.0), f64::from(source.1));
    let ratios = |w: u32, h: u32| (sw / f64::from(w.max(1)), sh / f64::from(h.max(1)));
    // thumbnail's common shrink: fitting within a box shrinks both sides by the larger
    // ratio; covering a box (or filling it) by the smaller one.
    let shrink = match resize {
        ThumbnailSize::Within { width, height } => {
            let (h, v) = ratios(width, height);
            h.max(v)
        }
        ThumbnailSize::CoverCrop { width, height, .. } | ThumbnailSize::Force { width, height } => {
            let (h, v) = ratios(width, height);
            h.min(v)
        }
    };
    // Each factor with the least common shrink that takes it.
    let thresholds = match policy {
        ShrinkOnLoad::Fast => [(8, 16.0), (4, 4.0), (2, 2.0)],
        ShrinkOnLoad::Margin => [(8, 16.0), (4, 8.0), (2, 4.0)],
    };
    thresholds
        .into_iter()
        .find(|&(_, least)| shrink >= least)
        .map_or(1, |(factor, _)| factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgedge_url::Dimension;

    fn boxed(w: u32, h: u32, fit: Fit) -> Resize {
        let dim = |v| Dimension::new(v).expect("valid dimension");
        Resize::Box {
            width: dim(w),
            height: dim(h),
            fit,
        }
    }

    #[test]
    fn outside_scales_by_the_larger_ratio() {
        // 4000x1000 into 800x800: the height ratio (0.8) is larger than the width's (0.2).
        let Sizing { resize: r, pad, .. } = sizing(boxed(800, 800, Fit::Outside), (4000, 1000));
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: UNBOUNDED,
                height: 800
            }
        );
        assert_eq!(pad, None);
        let r = sizing(boxed(800, 100, Fit::Outside), (1000, 1000)).resize;
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: 800,
                height: UNBOUNDED
            }
        );
    }

    #[test]
    fn fill_never_enlarges() {
        let r = sizing(boxed(5000, 50, Fit::Fill), (1000, 500)).resize;
        assert_eq!(
            r,
            ThumbnailSize::Force {
                width: 1000,
                height: 50
            }
        );
    }

    #[test]
    fn contain_pads_to_the_box() {
        let Sizing { resize: r, pad, .. } = sizing(boxed(300, 200, Fit::Contain), (1000, 1000));
        assert_eq!(
            r,
            ThumbnailSize::Within {
                width: 300,
                height: 200
            }
        );
        assert_eq!(pad, Some((300, 200)));
    }

    #[test]
    fn a_focal_point_cover_covers_then_cuts_its_window() {
        let plan = sizing(
            boxed(
                300,
                300,
                Fit::Cover(Gravity::point(0, 1000).expect("in range")),
            ),
            (1000, 500),
        );
        assert_eq!(
            plan.resize,
            ThumbnailSize::Within {
                width: UNBOUNDED,
                height: 300
            }
        );
        assert_eq!(
            plan.window,
            Some(Window {
                width: 300,
                height: 300,
                anchor: (0, 1000)
            })
        );
        assert_eq!(
            geometry(boxed(300, 300, Fit::Cover(Gravity::North)), (1000, 500)).resized,
            (300, 300)
        );
    }
}
