//! Transform URLs (spec `transform-url-v1`): the one module that parses them.
//!
//! Parse, then act: a request path and query become typed values here, before any work
//! is done, and every type holds only what the spec accepts. [`TransformRequest::parse`]
//! turns `/i/{image_id}/{sig}?{query}` into an [`ImageId`], a [`Sig`] and a
//! [`TransformSpec`], telling whether the query was canonical (else: 301 to
//! [`TransformRequest::redirect_location`]) and, with [`TransformRequest::verify`],
//! whether the signature holds (else: 403). Every invalid URL is a [`UrlError`] with a
//! stable public code (400).
//!
//! Minting goes the other way: [`UrlKey::derive`] gives an image's key from the server's
//! [`UrlSecret`], and [`signed_path`] builds the path and canonical query.
//!
//! Invariants: a [`TransformSpec`] has exactly one canonical query
//! ([`TransformSpec::canonical_query`]), and parsing that query gives the same spec back,
//! flagged canonical. No I/O, no floats while parsing; the hot path (a canonical request
//! without watermark) does not allocate until the caller asks for a string.

mod decode;
mod error;
mod image_id;
mod params;
mod request;
mod sign;
mod spec;

#[cfg(test)]
mod tests;

pub use error::{Param, UrlError};
pub use image_id::ImageId;
pub use params::{
    Blur, Dimension, Fit, Format, Height, Quality, Resize, Rotation, UnknownValue, WatermarkError,
    WatermarkText, Width,
};
pub use request::{Decision, TransformRequest};
pub use sign::{BadHexKey, Sig, UrlKey, UrlSecret, path_with_query, sign, signed_path};
pub use spec::{Canonical, ParsedQuery, TransformSpec, known_query};
