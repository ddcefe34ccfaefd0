//! An image's variants as resources: listed (`GET /v1/images/{id}/variants`) and deleted
//! one at a time (`DELETE /v1/images/{id}/variants/{sig}`), which frees its place under the
//! per-image cap, removes its objects and purges its URL at the CDN through the outbox.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use imgedge_url::{ImageId, Sig, UrlError, path_with_query};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::caller::{AuthUser, WriteUser};
use super::error::{ApiError, Invalid};
use super::images::{ImagePath, owned_image};
use super::{AppState, UserClass, with_limit_headers};
use crate::db::{PageCursor, StoredVariant};
use crate::error::ErrorBody;

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

/// A stored variant.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VariantView {
    pub sig: String,
    pub canonical_query: String,
    /// Its URL at the CDN (signed with the key it was rendered under, the current one).
    pub url: String,
    /// The format of its object; for `format=auto`, the first class's (see `objects`).
    pub format: String,
    /// Bytes of every object it has.
    pub bytes: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// A `format=auto` variant's objects, one per accept class rendered so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ClassObjectView>,
}

/// One accept class's object of a `format=auto` variant.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClassObjectView {
    /// `avif`, `webp` or `basic`.
    pub class: String,
    pub format: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VariantList {
    pub items: Vec<VariantView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct VariantListParams {
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The `{id}` and `{sig}` of a variant's path.
pub(super) struct VariantPath(Uuid, Sig);

impl<S: Send + Sync> FromRequestParts<S> for VariantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((id, sig)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Url(UrlError::BadImageId))?;
        let id = id
            .parse::<ImageId>()
            .map_err(|_| ApiError::Url(UrlError::BadImageId))?;
        let sig = sig
            .parse::<Sig>()
            .map_err(|_| ApiError::Url(UrlError::BadSig))?;
        Ok(VariantPath(*id.as_uuid(), sig))
    }
}

fn view(state: &AppState, id: &ImageId, variant: StoredVariant) -> VariantView {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let sig: Option<Sig> = variant.sig.parse().ok();
    let url = sig.map_or_else(String::new, |sig| {
        format!(
            "{}{}",
            state.0.settings.cdn_base,
            path_with_query(id, &sig, &variant.canonical_query)
        )
    });
    VariantView {
        sig: variant.sig,
        canonical_query: variant.canonical_query,
        url,
        format: variant.format,
        bytes: n(variant.bytes),
        created_at: variant.created_at,
        objects: variant
            .objects
            .into_iter()
            .map(|o| ClassObjectView {
                class: o.class,
                format: o.format,
                bytes: n(o.bytes),
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/v1/images/{id}/variants", tag = "variants", operation_id = "list_variants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"), VariantListParams),
    responses(
        (status = 200, description = "The image's stored variants, newest first", body = VariantList),
        (status = 400, description = "Malformed id, limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ImagePath(id): ImagePath,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let mut limit = DEFAULT_PAGE;
    let mut cursor = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_PAGE).contains(l))
                    .ok_or(Invalid::Limit(MAX_PAGE))?;
            }
            "cursor" => cursor = Some(PageCursor::decode(&value).ok_or(Invalid::Cursor)?),
            _ => {}
        }
    }
    owned_image(&state, user, id).await?;
    let mut rows = state
        .0
        .db
        .list_variants(id, limit + 1, cursor.as_ref())
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .and_then(StoredVariant::cursor)
            .map(|c| c.encode())
    } else {
        None
    };
    let image_id = ImageId::from_uuid(id);
    Ok(with_limit_headers(
        &decision,
        Json(VariantList {
            items: rows
                .into_iter()
                .map(|v| view(&state, &image_id, v))
                .collect(),
            next_cursor,
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/images/{id}/variants/{sig}", tag = "variants", operation_id = "delete_variant",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Image id"),
        ("sig" = String, Path, description = "The variant's signature (22 base64url characters of 16 bytes)", pattern = "^[A-Za-z0-9_-]{21}[AQgw]$"),
    ),
    responses(
        (status = 204, description = "Deleted: its objects removed, its URL purged at the CDN, its place under the image's cap free; the URL renders afresh on its next request"),
        (status = 400, description = "Malformed id or sig", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such variant of an image of this user", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    VariantPath(id, sig): VariantPath,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let image_id = ImageId::from_uuid(id);
    let Some(owed) = state
        .0
        .db
        .delete_variant_owing_purge(
            user,
            id,
            &sig.to_string(),
            &image_id.variant_invalidation_path(&sig),
            state.0.purges.policy().lease,
            crate::protocol::ROTATION_SWEEP_AGAIN,
        )
        .await?
    else {
        return Err(ApiError::NotFound);
    };
    state
        .0
        .purges
        .send_detached(owed, "a variant's delete's")
        .await;
    Ok(with_limit_headers(
        &decision,
        (StatusCode::NO_CONTENT, Body::empty()),
    ))
}
