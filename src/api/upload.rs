//! `POST /v1/images`, the upload protocol: admit the upload (the owner's uploads in flight,
//! the process's budget of upload bytes: [`super::admission`]), read the body within its size
//! and time limits ([`super::body`]), run the upload checks ([`imgedge_upload::check`]) off
//! the async threads, then S3 first and the row second, so that a 201 means both are durable
//! and a failure leaves at most an object that `imgedge reconcile` removes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts as _, Multipart, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use imgedge_upload::{Accepted, UploadLimits};
use imgedge_url::ImageId;
use serde::Deserialize;
use uuid::Uuid;

use super::admission::{Charge, OwnerSlot};
use super::body;
use super::caller::WriteUser;
use super::error::{ApiError, Invalid};
use super::representation::{self, ImageMetadata, document_response};
use super::{AppState, UserClass, with_limit_headers};
use super::{images, presets};
use crate::cache::MetaCache;
use crate::db::{NewImage, Placeholder};
use crate::error::ErrorBody;

/// A file name safe to store and show: its last path component, no control characters,
/// at most 255 characters; `None` when nothing is left.
fn clean_filename(raw: Option<&str>) -> Option<String> {
    let last = raw?.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(crate::db::MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

/// The multipart form of an upload, for the OpenAPI document: [`read_upload`] reads it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct UploadForm {
    /// The image; its bytes decide its format, whatever its Content-Type says.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Debug, Deserialize)]
struct RawUploadParams {
    filename: Option<String>,
}

/// Room for a multipart form's framing around its file.
const MULTIPART_FRAMING: u64 = 1024 * 1024;

/// What the upload's `Content-Type` says its body is.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Multipart,
    Raw,
}

impl Framing {
    /// From the request's `Content-Type`; `None` for one the upload does not take.
    fn of(headers: &axum::http::HeaderMap) -> Option<Framing> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            Some(Framing::Multipart)
        } else if content_type.starts_with("image/") {
            Some(Framing::Raw)
        } else {
            None
        }
    }

    /// The most bytes of body for a file of at most `limit` bytes.
    fn body_limit(self, limit: u64) -> u64 {
        match self {
            Framing::Multipart => limit.saturating_add(MULTIPART_FRAMING),
            Framing::Raw => limit,
        }
    }
}

/// An upload's body and what it holds while it is read and checked.
struct Received {
    filename: Option<String>,
    bytes: Bytes,
    /// The budget the bytes hold, until nothing uses them.
    charge: Arc<Charge>,
}

/// Admits and reads the upload: multipart field `file` or a raw `image/*` body, refused at
/// once past the owner's or the process's uploads in flight or when its declared size is
/// over the limit, and as soon as it passes the limit while read. The slot is held by the
/// caller for the whole upload.
async fn read_upload(
    state: &AppState,
    parts: Parts,
    framing: Framing,
    mut incoming: body::Incoming,
    owner: uuid::Uuid,
) -> Result<(OwnerSlot, Received), ApiError> {
    let limit = state.0.settings.max_upload_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let slot = state.0.admission.enter(owner)?;
    if declared.is_some_and(|d| d > framing.body_limit(limit)) {
        return Err(ApiError::TooLarge(limit));
    }
    let charge = state.0.admission.charge(declared.unwrap_or(0))?;
    let mut buffer = body::Buffer::new(declared, limit, charge);
    let filename = match framing {
        Framing::Raw => {
            while let Some(chunk) = incoming.next().await {
                buffer.push(&chunk?)?;
            }
            parts
                .uri
                .query()
                .and_then(serde_urlencoded_filename)
                .and_then(|f| clean_filename(Some(&f)))
        }
        Framing::Multipart => {
            let too_large = incoming.was_too_large_flag();
            let request = Request::from_parts(parts, incoming.into_body());
            read_form(state, request, &mut buffer, limit, &too_large).await?
        }
    };
    let (bytes, charge) = buffer.finish();
    Ok((
        slot,
        Received {
            filename,
            bytes,
            charge: Arc::new(charge),
        },
    ))
}

/// Reads a multipart form of exactly one field, `file`, into `buffer`; its file name.
async fn read_form(
    state: &AppState,
    request: Request,
    buffer: &mut body::Buffer,
    limit: u64,
    too_large: &body::TooLargeFlag,
) -> Result<Option<String>, ApiError> {
    let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
        tracing::debug!(error = %e.body_text(), "malformed multipart form");
        ApiError::Invalid(Invalid::Multipart)
    })?;
    let form_error = |e: &axum::extract::multipart::MultipartError| {
        if too_large.is_set() || e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(limit)
        } else {
            tracing::debug!(error = %e.body_text(), "malformed multipart form");
            ApiError::Invalid(Invalid::Multipart)
        }
    };
    // The form is exactly one field, `file`: anything else is a client's mistake worth
    // hearing about (a misspelt field would otherwise read as a missing file).
    let mut filename = None;
    let mut seen = false;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| form_error(&e))? {
        if field.name() != Some("file") || seen {
            return Err(Invalid::UnexpectedField.into());
        }
        seen = true;
        filename = clean_filename(field.file_name());
        while let Some(chunk) = field.chunk().await.map_err(|e| form_error(&e))? {
            buffer.push(&chunk)?;
        }
    }
    if seen {
        Ok(filename)
    } else {
        Err(Invalid::MissingFile.into())
    }
}

fn serde_urlencoded_filename(query: &str) -> Option<String> {
    Query::<RawUploadParams>::try_from_uri(&format!("/?{query}").parse().ok()?)
        .ok()
        .and_then(|Query(p)| p.filename)
}

/// The upload's checks ([`imgedge_upload::check`]): its type from its bytes, its metadata
/// against its bound, then libvips' header (format, pixel limit, frame count) before any
/// pixel is decoded, then a full decode as proof the file is whole. Off the async threads,
/// bounded to one per core, and within the engine's render deadline. The decode slot and the
/// budget the bytes hold go with the decode, not with the request: a request dropped at its
/// deadline leaves them held until the decode (killed at its own deadline) really ends.
/// With the checks passed, the placeholder is computed from the same bytes in the same
/// slot (a small render; an image it fails on is still accepted, without one).
async fn check_upload(
    state: &AppState,
    received: &Received,
) -> Result<(Accepted, Option<Placeholder>), ApiError> {
    let slot = Arc::clone(&state.0.decode_slots)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let engine = state.0.engine.clone();
    let limits = UploadLimits {
        max_frames: state.0.settings.max_frames,
        max_metadata_bytes: state.0.settings.max_metadata_bytes,
    };
    let bytes = received.bytes.clone();
    let charge = Arc::clone(&received.charge);
    tokio::task::spawn_blocking(move || {
        let checked = imgedge_upload::check(&engine, &bytes, limits).map(|accepted| {
            let placeholder = match engine.placeholder(&bytes) {
                Ok(p) => Some(Placeholder {
                    dominant_color: p.dominant_hex(),
                    thumbhash: p.thumbhash,
                }),
                Err(err) => {
                    tracing::warn!(error = %err, "no placeholder for an accepted upload");
                    None
                }
            };
            (accepted, placeholder)
        });
        drop((slot, charge));
        checked
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/v1/images", tag = "images",
    security(("bearer" = [])),
    params(("filename" = Option<String>, Query, description = "File name, for a raw `image/*` body")),
    request_body(description = "`multipart/form-data` with the file in field `file`, or the raw file with an `image/*` Content-Type",
        content((UploadForm = "multipart/form-data"), ("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif"), ("image/heif"), ("image/avif"))),
    responses(
        (status = 201, description = "Stored", body = ImageMetadata,
            headers(("Location" = String, description = "The image's `/v1/images/{id}`")),
            links(
                ("GetImage" = (operation_id = "get", parameters(("id" = "$response.body#/id")))),
                ("MintUrl" = (operation_id = "mint_url", parameters(("id" = "$response.body#/id")))),
                ("DeleteImage" = (operation_id = "delete", parameters(("id" = "$response.body#/id")))),
                ("EditImage" = (operation_id = "edit", parameters(("id" = "$response.body#/id")))),
                ("ListVariants" = (operation_id = "list_variants", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 400, description = "Empty file or malformed request", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The account's storage quota is used up (`storage_quota_exceeded`): delete images first", body = ErrorBody),
        (status = 408, description = "The body did not arrive within the upload timeout", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
        (status = 415, description = "Not an accepted image format", body = ErrorBody),
        (status = 422, description = "Corrupt (decoding warnings included), truncated, too many pixels or frames, or metadata over its bound", body = ErrorBody),
        (status = 429, description = "Upload rate limit (`rate_limited`), or this account's uploads in flight at their limit (`too_many_uploads`), with `Retry-After`", body = ErrorBody),
        (status = 503, description = "Storage or database unavailable, the server's upload budget full (`uploads_busy`), or the check's decode past its deadline (`render_timeout`), with `Retry-After`", body = ErrorBody),
    ))]
pub(super) async fn upload(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let framing = Framing::of(&parts.headers);
    // From here the body is read by its own task, which drains it for a moment after any
    // refusal, this handler's first checks included (a lingering close). A body of a
    // Content-Type the upload does not take may not have a byte.
    let limit = state.0.settings.max_upload_bytes;
    let incoming = body::Incoming::spawn(body, framing.map_or(0, |f| f.body_limit(limit)));
    let WriteUser(user) = WriteUser::from_request_parts(&mut parts, &state).await?;
    let decision = state.limit_user(UserClass::Upload, user).await?;
    let framing = framing.ok_or(ApiError::UnsupportedMediaType(
        "multipart/form-data, or image/* with the raw file",
    ))?;
    let deadline = state.0.settings.upload_timeout;
    let reading = read_upload(&state, parts, framing, incoming, user);
    let (_slot, received) = tokio::time::timeout(deadline, reading)
        .await
        .map_err(|_| ApiError::UploadTimeout(deadline))??;
    let (Accepted { sniffed, info }, placeholder) = check_upload(&state, &received).await?;
    let Received {
        filename,
        bytes,
        charge: _charge,
    } = received;

    // A first look at the quota, so that an account past it costs no PUT; the insert below
    // is what holds it under concurrent uploads.
    let quota = state.0.settings.storage_quota;
    let size = bytes.len() as u64;
    if !state.0.db.storage_usage(user).await?.fits(size, &quota) {
        return Err(ApiError::StorageQuotaExceeded(quota));
    }
    let id = Uuid::new_v4();
    let key = ImageId::from_uuid(id).original_key();
    state
        .0
        .store
        .put(&key, bytes.clone(), sniffed.mime())
        .await?;
    let new = NewImage {
        id,
        owner_id: user,
        filename,
        format: info.format.as_str().to_owned(),
        width: info.width,
        height: info.height,
        frames: info.frames,
        bytes: size,
        blake3: *blake3::hash(&bytes).as_bytes(),
        placeholder,
    };
    // The renders ahead of the owner's eager presets are owed with the row, in its
    // transaction: a 201 means they will happen.
    let jobs = presets::eager_jobs(&state, user).await?;
    let refused = match state.0.db.insert_image_within(&new, &quota, &jobs).await {
        Ok(Ok(image)) => Ok(image),
        Ok(Err(over)) => {
            tracing::debug!(?over, "upload past the storage quota");
            Err(ApiError::StorageQuotaExceeded(quota))
        }
        // Unavailable: the INSERT may have committed before the connection broke, so the
        // object may have a row; leave it to `imgedge reconcile`, which checks.
        Err(err @ crate::db::DbError::Unavailable(_)) => return Err(err.into()),
        Err(err) => Err(err.into()),
    };
    let image = match refused {
        Ok(image) => image,
        Err(err) => {
            // Nothing is kept for a refused upload; if this delete fails too, the object is
            // an orphan that `imgedge reconcile` removes.
            if let Err(cleanup) = state.0.store.delete(&key).await {
                tracing::warn!(%key, error = %cleanup, "could not remove the original of a failed upload");
            }
            return Err(err);
        }
    };
    state
        .0
        .cache
        .delete(&[&MetaCache::first_page_key(user)])
        .await;
    metrics::counter!("imgedge_uploads_total").increment(1);
    if !jobs.is_empty() {
        state.0.prerender.wake();
    }
    // The upload is committed: a failure to read the presets' links now must not turn its
    // 201 into an error a client would retry (storing the image twice).
    let document = match images::document_of(&state, user, &image).await {
        Ok(document) => document,
        Err(err) => {
            tracing::warn!(%id, error = %err, "upload answered without its presets' links");
            representation::metadata(&state, &image, std::collections::BTreeMap::new())
        }
    };
    let mut response = document_response(StatusCode::CREATED, document);
    let location = header::HeaderValue::from_str(&format!("/v1/images/{id}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(with_limit_headers(&decision, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        let clean = |raw| clean_filename(Some(raw));
        assert_eq!(clean("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean("C:\\photos\\cat.jpg").as_deref(), Some("cat.jpg"));
        assert_eq!(clean("a\u{0}b\nc.png").as_deref(), Some("abc.png"));
        assert_eq!(clean("   "), None);
        assert_eq!(clean_filename(None), None);
        assert_eq!(clean(&"x".repeat(300)).map(|f| f.len()), Some(255));
    }
}
