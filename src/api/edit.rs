//! `PATCH /v1/images/{id}`: what an owner says about an image (alt text, title, tags, their
//! own metadata, the focal point), as a JSON merge patch (RFC 7396) on those fields,
//! conditional on `If-Match`.
//!
//! The patch is applied to the stored fields as a JSON document, then the result is parsed
//! into typed values with each field's rule: a patch cannot store what the rules refuse,
//! whatever it merges into.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::caller::WriteUser;
use super::error::{ApiError, Invalid};
use super::images::{ImagePath, document_of};
use super::representation::{Focus, check_if_match, document_response, etag_of};
use super::{AppState, UserClass, with_limit_headers};
use crate::cache::MetaCache;
use crate::db::{Image, ImageDetails, ImageEdit};
use crate::error::ErrorBody;

/// The longest alt text, in characters.
const MAX_ALT: usize = 1000;
/// The longest title, in characters.
const MAX_TITLE: usize = 200;
/// Most tags on one image.
const MAX_TAGS: usize = 32;
/// The longest tag, in characters.
const MAX_TAG: usize = 64;
/// The client's own metadata, at most this many bytes of JSON.
const MAX_METADATA_BYTES: usize = 8 * 1024;
/// How often an edit without `If-Match` retries when another change came first.
const RETRIES: usize = 3;

/// The editable fields, for the OpenAPI document (the handler reads the body as a merge
/// patch; `null` removes a field, or empties `tags` and `metadata`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ImagePatch {
    /// Up to 1,000 characters, none of them NUL; `""` marks a decorative image.
    #[schema(max_length = 1000, pattern = "^[^\\x00]*$")]
    alt: Option<String>,
    /// Up to 200 characters, none of them NUL.
    #[schema(max_length = 200, pattern = "^[^\\x00]*$")]
    title: Option<String>,
    /// Up to 32 slugs (`a-z`, `0-9`, single `-` between words, up to 64 characters);
    /// uppercase is lowered, duplicates dropped, the list sorted.
    #[schema(max_items = 32, inline)]
    tags: Option<Vec<TagSlug>>,
    /// Your own JSON object, up to 8 KiB; merged (RFC 7396).
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    /// The focal point, `{"x": 0..1, "y": 0..1}`, or `null`.
    focus: Option<Focus>,
}

/// A tag as a patch may send it (uppercase is lowered).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(pattern = "^(?=.{1,64}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")]
#[allow(dead_code)]
pub struct TagSlug(String);

/// The stored fields as the document a merge patch applies to.
fn editable(image: &Image) -> Value {
    json!({
        "alt": image.alt,
        "title": image.title,
        "tags": image.tags,
        "metadata": serde_json::from_str::<Value>(&image.metadata).unwrap_or_else(|_| json!({})),
        "focus": image.focus().map(Focus::from_thousandths),
    })
}

/// The patch, checked to be an object naming only editable fields.
fn parse_patch(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))?;
    let Value::Object(patch) = patch else {
        return Err(ApiError::BadJson(
            "a merge patch here is a JSON object".into(),
        ));
    };
    if let Some(unknown) = patch
        .keys()
        .find(|k| !matches!(k.as_str(), "alt" | "title" | "tags" | "metadata" | "focus"))
    {
        tracing::debug!(field = %unknown, "unknown field in a patch");
        return Err(Invalid::Field("fields", "are alt, title, tags, metadata and focus").into());
    }
    Ok(patch)
}

/// The merged document, as typed values within each field's rule.
fn details(merged: &Value) -> Result<ImageDetails, ApiError> {
    let text =
        |name: &'static str, max: usize, rule: &'static str| -> Result<Option<String>, ApiError> {
            match &merged[name] {
                Value::Null => Ok(None),
                // PostgreSQL's text holds no NUL; anything else is the owner's to write.
                Value::String(s) if s.chars().count() <= max && !s.contains('\0') => {
                    Ok(Some(s.clone()))
                }
                _ => Err(Invalid::Field(name, rule).into()),
            }
        };
    let alt = text(
        "alt",
        MAX_ALT,
        "is a string of at most 1000 characters, or null",
    )?;
    let title = text(
        "title",
        MAX_TITLE,
        "is a string of at most 200 characters, or null",
    )?;
    let tags = tags(&merged["tags"])?;
    let metadata = match &merged["metadata"] {
        Value::Null => "{}".to_owned(),
        object @ Value::Object(_) => object.to_string(),
        _ => return Err(Invalid::Field("metadata", "is a JSON object, or null").into()),
    };
    if metadata.len() > MAX_METADATA_BYTES {
        return Err(Invalid::Field("metadata", "is at most 8 KiB of JSON").into());
    }
    let focus = match &merged["focus"] {
        Value::Null => None,
        value => {
            let bad = || Invalid::Field("focus", "is {\"x\": 0..1, \"y\": 0..1}, or null");
            let point = Focus::deserialize(value).map_err(|_| bad())?;
            let thousandths = |v: f64| {
                (0.0..=1.0)
                    .contains(&v)
                    .then(|| (v * 1000.0).round() as u16)
            };
            Some((
                thousandths(point.x).ok_or_else(bad)?,
                thousandths(point.y).ok_or_else(bad)?,
            ))
        }
    };
    Ok(ImageDetails {
        alt,
        title,
        tags,
        metadata,
        focus,
    })
}

/// Tags as stored: lowercase slugs, deduplicated and sorted.
pub(super) fn tags(value: &Value) -> Result<Vec<String>, ApiError> {
    const RULE: &str = "is a list of at most 32 slugs (a-z, 0-9 and single hyphens, at most 64 characters), or null";
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(Invalid::Field("tags", RULE).into()),
    };
    let mut tags = Vec::with_capacity(items.len());
    for item in items {
        let tag = item
            .as_str()
            .map(str::to_lowercase)
            .filter(|t| is_slug(t))
            .ok_or(Invalid::Field("tags", RULE))?;
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(Invalid::Field("tags", RULE).into());
    }
    Ok(tags)
}

/// `a-z` and `0-9` words joined by single hyphens, 1 to 64 characters.
pub(super) fn is_slug(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_TAG
        && tag.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[utoipa::path(patch, path = "/v1/images/{id}", tag = "images", operation_id = "edit",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Image id"),
        ("If-Match" = Option<String>, Header, description = "The image's `ETag`: the edit happens only if the image is still as read"),
    ),
    request_body(content = ImagePatch, content_type = "application/merge-patch+json",
        description = "A JSON merge patch (RFC 7396) of the editable fields; `application/json` is taken too"),
    responses(
        (status = 200, description = "Edited: the image's metadata, with its new `ETag`", body = super::ImageMetadata),
        (status = 400, description = "Malformed JSON, an unknown field, or a field outside its rule (`invalid_field`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
        (status = 412, description = "`If-Match` does not match the image's `ETag` (`precondition_failed`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
pub(super) async fn patch(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    ImagePath(id): ImagePath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/merge-patch+json" || t == "application/json"
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "application/merge-patch+json or application/json",
        ));
    }
    let patch = Value::Object(parse_patch(&body)?);
    for _ in 0..RETRIES {
        // Read from the database, not the cache: the revision compared must be the row's.
        let image = state
            .0
            .db
            .image(user, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let mut merged = editable(&image);
        json_patch::merge(&mut merged, &patch);
        // An edit outside the rules is a 400 whatever the `If-Match`.
        let details = details(&merged)?;
        let conditional = check_if_match(
            &headers,
            &etag_of(&document_of(&state, user, &image).await?),
        )?;
        match state
            .0
            .db
            .edit_image(user, id, image.revision, &details)
            .await?
        {
            ImageEdit::Done(edited) => {
                state
                    .0
                    .cache
                    .delete(&[&MetaCache::image_key(id), &MetaCache::first_page_key(user)])
                    .await;
                let document = document_of(&state, user, &edited).await?;
                return Ok(with_limit_headers(
                    &decision,
                    document_response(StatusCode::OK, document),
                ));
            }
            ImageEdit::Missing => return Err(ApiError::NotFound),
            // Another change came first: with `If-Match` that is a mismatch; without, the
            // patch applies to what is there now.
            ImageEdit::Stale if conditional => return Err(ApiError::PreconditionFailed),
            ImageEdit::Stale => {}
        }
    }
    Err(ApiError::Unavailable(
        super::error::Dependency::Database,
        "edits kept racing".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowered_sorted_and_deduplicated() {
        assert_eq!(
            tags(&json!(["Sunset", "beach", "sunset", "a-b-2"])).expect("valid"),
            ["a-b-2", "beach", "sunset"]
        );
        for bad in [
            json!(["a b"]),
            json!(["-a"]),
            json!(["a--b"]),
            json!([""]),
            json!([7]),
            json!("a"),
        ] {
            assert!(tags(&bad).is_err(), "{bad}");
        }
        assert!(tags(&json!(["x".repeat(65)])).is_err());
        let many: Vec<String> = (0..33).map(|i| format!("t{i}")).collect();
        assert!(tags(&json!(many)).is_err());
    }

    #[test]
    fn a_merge_patch_keeps_what_it_does_not_name() {
        let mut doc = json!({"alt": "a", "title": null, "tags": ["x"], "metadata": {"k": 1, "j": 2}, "focus": null});
        json_patch::merge(
            &mut doc,
            &json!({"metadata": {"k": null, "n": true}, "focus": {"x": 0.25, "y": 1}}),
        );
        let d = details(&doc).expect("valid");
        assert_eq!(d.alt.as_deref(), Some("a"));
        assert_eq!(d.tags, ["x"]);
        assert_eq!(
            serde_json::from_str::<Value>(&d.metadata).expect("json"),
            json!({"j": 2, "n": true})
        );
        assert_eq!(d.focus, Some((250, 1000)));
    }

    #[test]
    fn fields_outside_their_rules_are_refused() {
        for bad in [
            json!({"alt": "x".repeat(1001), "title": null, "tags": [], "metadata": {}, "focus": null}),
            json!({"alt": null, "title": "t".repeat(201), "tags": [], "metadata": {}, "focus": null}),
            json!({"alt": null, "title": null, "tags": [], "metadata": [1], "focus": null}),
            json!({"alt": null, "title": null, "tags": [], "metadata": {"k": "v".repeat(9000)}, "focus": null}),
            json!({"alt": null, "title": null, "tags": [], "metadata": {}, "focus": {"x": 1.5, "y": 0}}),
            json!({"alt": null, "title": null, "tags": [], "metadata": {}, "focus": {"x": 0.5}}),
        ] {
            assert!(details(&bad).is_err(), "{bad}");
        }
    }
}
