//! `POST /v1/images`, the upload protocol: read the body within its size and time limits,
//! run the upload checks ([`imgedge_upload::check`]) off the async threads, then S3 first
//! and the row second, so that a 201 means both are durable and a failure leaves at most
//! an object that `imgedge reconcile` removes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::StreamExt as _;
use imgedge_upload::{Accepted, UploadLimits};
use imgedge_url::ImageId;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::AuthUser;
use super::error::{ApiError, Invalid};
use super::images::{ImageMetadata, metadata};
use super::{AppState, UserClass, with_limit_headers};
use crate::cache::MetaCache;
use crate::db::NewImage;
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

/// Reads the upload, multipart field `file` or a raw `image/*` body, refusing it as soon as
/// it passes the size limit.
async fn read_upload(
    state: &AppState,
    request: Request,
) -> Result<(Option<String>, Bytes), ApiError> {
    let limit = state.0.settings.max_upload_bytes;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
            tracing::debug!(error = %e.body_text(), "malformed multipart form");
            ApiError::Invalid(Invalid::Multipart)
        })?;
        // The form is exactly one field, `file`: anything else is a client's mistake worth
        // hearing about (a misspelt field would otherwise read as a missing file).
        let mut upload = None;
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(&e, limit))?
        {
            if field.name() != Some("file") || upload.is_some() {
                return Err(Invalid::UnexpectedField.into());
            }
            let filename = clean_filename(field.file_name());
            let mut body = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| multipart_error(&e, limit))?
            {
                append_within(&mut body, &chunk, limit)?;
            }
            upload = Some((filename, Bytes::from(body)));
        }
        upload.ok_or(ApiError::Invalid(Invalid::MissingFile))
    } else if content_type.starts_with("image/") {
        let filename = request
            .uri()
            .query()
            .and_then(serde_urlencoded_filename)
            .and_then(|f| clean_filename(Some(&f)));
        let mut stream = request.into_body().into_data_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                tracing::debug!(error = %e, "upload body unreadable");
                ApiError::Invalid(Invalid::Body)
            })?;
            append_within(&mut body, &chunk, limit)?;
        }
        Ok((filename, Bytes::from(body)))
    } else {
        Err(ApiError::UnsupportedMediaType(
            "multipart/form-data, or image/* with the raw file",
        ))
    }
}

fn serde_urlencoded_filename(query: &str) -> Option<String> {
    Query::<RawUploadParams>::try_from_uri(&format!("/?{query}").parse().ok()?)
        .ok()
        .and_then(|Query(p)| p.filename)
}

fn append_within(body: &mut Vec<u8>, chunk: &[u8], limit: u64) -> Result<(), ApiError> {
    if (body.len() + chunk.len()) as u64 > limit {
        return Err(ApiError::TooLarge(limit));
    }
    body.extend_from_slice(chunk);
    Ok(())
}

fn multipart_error(e: &axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(limit)
    } else {
        tracing::debug!(error = %e.body_text(), "malformed multipart form");
        ApiError::Invalid(Invalid::Multipart)
    }
}

/// The upload's checks ([`imgedge_upload::check`]): its type from its bytes, then libvips'
/// header (format, pixel limit, frame count) before any pixel is decoded, then a full decode
/// as proof the file is whole. Off the async threads, and bounded to one per core.
async fn check_upload(state: &AppState, bytes: Bytes) -> Result<Accepted, ApiError> {
    let _slot = state
        .0
        .decode_slots
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let engine = state.0.engine.clone();
    let limits = UploadLimits {
        max_frames: state.0.settings.max_frames,
    };
    tokio::task::spawn_blocking(move || imgedge_upload::check(&engine, &bytes, limits))
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
            )),
        (status = 400, description = "Empty file or malformed request", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 408, description = "The body did not arrive within the upload timeout", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
        (status = 415, description = "Not an accepted image format", body = ErrorBody),
        (status = 422, description = "Corrupt, truncated, too many pixels or frames", body = ErrorBody),
        (status = 429, description = "Upload rate limit", body = ErrorBody),
        (status = 503, description = "Storage or database unavailable", body = ErrorBody),
    ))]
pub(super) async fn upload(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    request: Request,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Upload, user).await?;
    let deadline = state.0.settings.upload_timeout;
    let (filename, bytes) = tokio::time::timeout(deadline, read_upload(&state, request))
        .await
        .map_err(|_| ApiError::UploadTimeout(deadline))??;
    let Accepted { sniffed, info } = check_upload(&state, bytes.clone()).await?;

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
        bytes: bytes.len() as u64,
        blake3: *blake3::hash(&bytes).as_bytes(),
    };
    let image = match state.0.db.insert_image(&new).await {
        Ok(image) => image,
        // Unavailable: the INSERT may have committed before the connection broke, so the
        // object may have a row; leave it to `imgedge reconcile`, which checks.
        Err(err @ crate::db::DbError::Unavailable(_)) => return Err(err.into()),
        Err(err) => {
            // Nothing is kept for a refused upload; if this delete fails too, the object is
            // an orphan that `imgedge reconcile` removes.
            if let Err(cleanup) = state.0.store.delete(&key).await {
                tracing::warn!(%key, error = %cleanup, "could not remove the original of a failed upload");
            }
            return Err(err.into());
        }
    };
    state
        .0
        .cache
        .delete(&[&MetaCache::first_page_key(user)])
        .await;
    metrics::counter!("imgedge_uploads_total").increment(1);
    let location = format!("/v1/images/{id}");
    Ok(with_limit_headers(
        &decision,
        (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(metadata(&state, &image)),
        ),
    ))
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
