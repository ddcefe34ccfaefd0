//! imgedge's transform URL contract (spec `transform-url-v1` and its extension `v1.1`), for the service and for any
//! Rust client that builds URLs: the one place that parses and signs them. No I/O.
//!
//! Parse, then act: a request path and query become typed values here, before any work
//! is done, and every type holds only what the spec accepts. [`TransformRequest::parse`]
//! turns `/i/{image_id}/{sig}?{query}` into an [`ImageId`], a [`Sig`] and a
//! [`TransformSpec`]; [`TransformRequest::decide`] is the spec's decision for it (301 to
//! the canonical URL, 403 for a signature that does not verify, or serve), which the
//! transformer takes with the image's key and an edge without one. Every invalid URL is a
//! [`UrlError`] with a stable public code (400).
//!
//! Minting goes the other way: [`UrlKey::derive`] gives an image's key from the server's
//! [`UrlSecret`], and [`signed_path`] builds the path and canonical query.
//!
//! Storage and the CDN follow the spec's S3 key layout, spelt only here: [`ImageId`]'s
//! `original_key`, `variant_key`, `variants_prefix` and `invalidation_path`, and
//! [`ObjectKey`] to read a key back.
//!
//! Invariants: a [`TransformSpec`] has exactly one canonical query
//! ([`TransformSpec::canonical_query`]), and parsing that query gives the same spec back,
//! flagged canonical. No I/O, no floats while parsing; the hot path (a canonical request
//! without watermark) does not allocate until the caller asks for a string.

mod accept;
mod colour;
mod decode;
mod error;
mod gravity;
mod image_id;
mod keys;
mod number;
mod params;
mod region;
mod request;
mod sign;
mod spec;
mod values;

#[cfg(test)]
mod tests;

pub use accept::AcceptClass;
pub use colour::Colour;
pub use error::{Param, UrlError};
pub use gravity::{FocalPoint, Gravity, window_start};
pub use image_id::ImageId;
pub use keys::{ORIGINALS_PREFIX, ObjectKey, VARIANTS_PREFIX};
pub use params::{
    Blur, Dimension, Dpr, Fit, Format, FormatChoice, Height, Quality, Resize, Rotation, Sharpen,
    WatermarkError, WatermarkText, Width,
};
pub use region::{Crop, CropArea};
pub use request::{Decision, TransformRequest};
pub use sign::{BadHexKey, KeyEpoch, Sig, UrlKey, UrlSecret, path_with_query, signed_path};
pub use spec::{Canonical, ParsedQuery, TransformSpec, known_query};
