//! `format=auto`'s accept classes: a request's `Accept` header reduced to the one fact the
//! output depends on, which the edges key their caches by and S3 keys carry (spec 1.1).

use std::fmt;

use super::Format;

/// What a browser takes, as far as `format=auto` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptClass {
    /// Lists `image/avif`: gets AVIF.
    Avif,
    /// Lists `image/webp` but not `image/avif`: gets WebP.
    Webp,
    /// Neither: gets JPEG, or PNG for an image with alpha.
    Basic,
}

impl AcceptClass {
    pub const ALL: [AcceptClass; 3] = [AcceptClass::Avif, AcceptClass::Webp, AcceptClass::Basic];

    /// The class of an `Accept` header (`None`: no header, which is `basic`). Media types
    /// compare case-insensitively; an element whose `q` is zero does not list its type;
    /// other parameters, and `*/*` or `image/*`, choose nothing.
    pub fn from_accept(header: Option<&str>) -> AcceptClass {
        let (mut avif, mut webp) = (false, false);
        for element in header.unwrap_or_default().split(',') {
            let mut parts = element.split(';');
            let media_type = parts.next().unwrap_or_default().trim_matches([' ', '\t']);
            let listed = || !parts.clone().any(is_zero_q);
            if media_type.eq_ignore_ascii_case("image/avif") {
                avif = avif || listed();
            } else if media_type.eq_ignore_ascii_case("image/webp") {
                webp = webp || listed();
            }
        }
        if avif {
            AcceptClass::Avif
        } else if webp {
            AcceptClass::Webp
        } else {
            AcceptClass::Basic
        }
    }

    /// The name in `X-Imgedge-Accept` and the S3 key suffix: `avif`, `webp`, `basic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AcceptClass::Avif => "avif",
            AcceptClass::Webp => "webp",
            AcceptClass::Basic => "basic",
        }
    }

    /// The class named `name` (as [`AcceptClass::as_str`] spells it).
    pub fn from_name(name: &str) -> Option<AcceptClass> {
        AcceptClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The output format this class gets, for a source that has alpha or not.
    pub const fn format(self, has_alpha: bool) -> Format {
        match self {
            AcceptClass::Avif => Format::Avif,
            AcceptClass::Webp => Format::Webp,
            AcceptClass::Basic if has_alpha => Format::Png,
            AcceptClass::Basic => Format::Jpeg,
        }
    }
}

impl fmt::Display for AcceptClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a media-range parameter is `q` with an RFC 9110 qvalue of zero (`0`, `0.`,
/// `0.0` … `0.000`).
fn is_zero_q(parameter: &str) -> bool {
    let Some((name, value)) = parameter.split_once('=') else {
        return false;
    };
    if !name.trim_matches([' ', '\t']).eq_ignore_ascii_case("q") {
        return false;
    }
    let value = value.trim_matches([' ', '\t']);
    match value.strip_prefix('0') {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|zeros| zeros.len() <= 3 && zeros.bytes().all(|b| b == b'0')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_their_best_format() {
        let class = |h: &str| AcceptClass::from_accept(Some(h));
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        assert_eq!(class(chrome), AcceptClass::Avif);
        assert_eq!(class("image/webp,*/*"), AcceptClass::Webp);
        assert_eq!(class("*/*"), AcceptClass::Basic);
        assert_eq!(class("image/*"), AcceptClass::Basic);
        assert_eq!(class(""), AcceptClass::Basic);
        assert_eq!(AcceptClass::from_accept(None), AcceptClass::Basic);
        assert_eq!(class(" IMAGE/AVIF ;\tq=1"), AcceptClass::Avif);
        assert_eq!(class("image/avif;q=0,image/webp"), AcceptClass::Webp);
        assert_eq!(class("image/avif; Q = 0.000"), AcceptClass::Basic);
        assert_eq!(class("image/avif;q=0.0001"), AcceptClass::Avif);
        assert_eq!(class("image/avif;q=0.001"), AcceptClass::Avif);
        assert_eq!(class("image/avif;q=0,image/avif"), AcceptClass::Avif);
        assert_eq!(class("image/avifx,image/webpx"), AcceptClass::Basic);
    }

    #[test]
    fn basic_is_png_only_with_alpha() {
        assert_eq!(AcceptClass::Basic.format(true), Format::Png);
        assert_eq!(AcceptClass::Basic.format(false), Format::Jpeg);
        for class in AcceptClass::ALL {
            assert_eq!(AcceptClass::from_name(class.as_str()), Some(class));
        }
    }
}
