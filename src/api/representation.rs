//! An image as the API shows it: its metadata document, the `ETag` of that document, and the
//! conditional requests (`If-Match`, `If-None-Match`) compared against it.
//!
//! The `ETag` is a hash of the JSON the client receives, so it changes exactly when what a
//! client sees changes (an edit, a key rotation, a preset's state). Edits are conditioned on
//! the row's `revision` as read when the `ETag` was compared, so two concurrent edits cannot
//! both pass one `If-Match`.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use headers::{ETag, Header as _, IfMatch, IfNoneMatch};
use imgedge_url::{ImageId, KeyEpoch, Sig, UrlKey, path_with_query};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::presets::PresetLink;
use crate::db::Image;

/// An image's metadata, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImageMetadata {
    pub id: Uuid,
    /// The uploaded file's name, when it had one.
    pub filename: Option<String>,
    /// Source format: `jpeg`, `png`, `webp`, `gif`, `heic` or `avif`.
    pub format: String,
    /// Upright width (EXIF orientation applied), in pixels.
    pub width: u32,
    pub height: u32,
    /// `width / height`, for a placeholder's box before the image loads.
    pub aspect_ratio: f64,
    pub frames: u32,
    /// Size of the original, in bytes.
    pub bytes: u64,
    /// BLAKE3 of the original's bytes, hex.
    pub blake3: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The key that signs this image's transform URLs (hex). Keep it to your frontend.
    pub url_key: String,
    /// The generation of `url_key`: 0 until the key is first rotated
    /// (`POST /v1/images/{id}/rotate-key`).
    pub key_epoch: u32,
    /// The canonical URL of the original, re-encoded (no transform).
    pub url: String,
    /// Alt text (up to 1,000 characters); `""` marks a decorative image.
    pub alt: Option<String>,
    /// Up to 200 characters.
    pub title: Option<String>,
    /// Up to 32 lowercase slugs, sorted.
    pub tags: Vec<String>,
    /// The client's own JSON object (up to 8 KiB).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The focal point: minted `cover` URLs without a `gravity` keep it (`gravity=X,Y`).
    pub focus: Option<Focus>,
    /// A `ThumbHash` of the image, base64 (<https://evanw.github.io/thumbhash/>); absent only
    /// for images uploaded before placeholders, until `imgedge backfill` runs.
    pub thumbhash: Option<String>,
    /// The colour most of the image is, `#rrggbb`.
    pub dominant_color: Option<String>,
    /// Each of the owner's presets: its signed URL for this image and, for an eager one,
    /// the state of its render ahead.
    pub presets: BTreeMap<String, PresetLink>,
}

/// A point of the upright image, each coordinate 0 to 1 (kept to thousandths).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Focus {
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub x: f64,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub y: f64,
}

impl Focus {
    pub(super) fn from_thousandths((x, y): (u16, u16)) -> Focus {
        Focus {
            x: f64::from(x) / 1000.0,
            y: f64::from(y) / 1000.0,
        }
    }
}

/// The CDN URL of `image_id`'s variant for `canonical_query`, and its signature.
pub(super) fn signed_url(
    state: &AppState,
    image_id: &ImageId,
    key: &UrlKey,
    canonical_query: &str,
) -> (String, Sig) {
    let sig = Sig::compute(key, canonical_query);
    let path = path_with_query(image_id, &sig, canonical_query);
    (format!("{}{path}", state.0.settings.cdn_base), sig)
}

/// The key that signs `image`'s URLs now.
pub(super) fn url_key(state: &AppState, image: &Image) -> UrlKey {
    let id = ImageId::from_uuid(image.id);
    UrlKey::derive_at(&state.0.url_secret, &id, KeyEpoch(image.key_epoch))
}

/// `image` as the API shows it, with `presets`' links.
pub(super) fn metadata(
    state: &AppState,
    image: &Image,
    presets: BTreeMap<String, PresetLink>,
) -> ImageMetadata {
    let id = ImageId::from_uuid(image.id);
    let key = url_key(state, image);
    let (url, _) = signed_url(state, &id, &key, "");
    ImageMetadata {
        id: image.id,
        filename: image.filename.clone(),
        format: image.format.clone(),
        width: image.width,
        height: image.height,
        aspect_ratio: f64::from(image.width) / f64::from(image.height.max(1)),
        frames: image.frames,
        bytes: image.bytes,
        blake3: hex::encode(image.blake3),
        created_at: image.created_at,
        url_key: key.to_hex(),
        key_epoch: image.key_epoch,
        url,
        alt: image.alt.clone(),
        title: image.title.clone(),
        tags: image.tags.clone(),
        metadata: serde_json::from_str(&image.metadata)
            .unwrap_or_else(|_| serde_json::Value::Object(serde_json::Map::new())),
        focus: image.focus().map(Focus::from_thousandths),
        thumbhash: image.thumbhash.as_ref().map(|h| STANDARD.encode(h)),
        dominant_color: image.dominant_color.clone(),
        presets,
    }
}

/// The strong `ETag` of a metadata document: what the client receives, hashed.
pub(super) fn etag_of(document: &ImageMetadata) -> ETag {
    let json = serde_json::to_vec(document).unwrap_or_default();
    let hash = blake3::hash(&json);
    format!("\"{}\"", &hash.to_hex()[..32])
        .parse()
        .expect("a quoted hex string is an entity tag")
}

/// The metadata document as a response, with its `ETag`.
pub(super) fn document_response(status: StatusCode, document: ImageMetadata) -> Response {
    let etag = etag_of(&document);
    let mut response = (status, Json(document)).into_response();
    insert_etag(response.headers_mut(), &etag);
    response
}

fn insert_etag(headers: &mut HeaderMap, etag: &ETag) {
    let mut values = Vec::new();
    etag.encode(&mut values);
    if let Some(value) = values.pop() {
        headers.insert(header::ETAG, value);
    }
}

/// A `304 Not Modified` for a client that holds `etag` already (`If-None-Match`), if so.
pub(super) fn not_modified(headers: &HeaderMap, etag: &ETag) -> Option<Response> {
    let if_none_match = decode::<IfNoneMatch>(headers)?;
    if if_none_match.precondition_passes(etag) {
        return None;
    }
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    insert_etag(response.headers_mut(), etag);
    Some(response)
}

/// Refuses the request (`412`) unless its `If-Match` (when it has one) names `etag`.
/// Whether it had one, so the caller conditions its write on what it compared.
pub(super) fn check_if_match(headers: &HeaderMap, etag: &ETag) -> Result<bool, ApiError> {
    if !headers.contains_key(header::IF_MATCH) {
        return Ok(false);
    }
    // An `If-Match` that does not parse matches nothing (RFC 9110 §13.1.1).
    match decode::<IfMatch>(headers) {
        Some(if_match) if if_match.precondition_passes(etag) => Ok(true),
        _ => Err(ApiError::PreconditionFailed),
    }
}

fn decode<H: headers::Header>(headers: &HeaderMap) -> Option<H> {
    let mut values = headers.get_all(H::name()).iter();
    H::decode(&mut values).ok()
}
