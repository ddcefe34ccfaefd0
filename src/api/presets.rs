//! Presets: an owner's named transforms (`/v1/presets/{name}`), their signed URL for each
//! image in its metadata, and, for eager ones, the renders ahead queued with each upload
//! (rendered by [`crate::prerender`]).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use imgedge_url::{AcceptClass, ImageId, TransformSpec};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::json_body;
use super::caller::{AuthUser, WriteUser};
use super::error::{ApiError, Invalid};
use super::representation::{signed_url, url_key};
use super::{AppState, UserClass, with_limit_headers};
use crate::cache::MetaCache;
use crate::db::{Image, JobState, NewRenderJob, Preset, PresetSaved};
use crate::error::ErrorBody;

/// Most presets one account keeps.
pub const MAX_PRESETS: u32 = 50;

/// A preset's link in an image's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PresetLink {
    /// The image's signed URL for the preset (with the image's focus, as minting does).
    pub url: String,
    /// For an eager preset, its render ahead: absent for images uploaded before the
    /// preset was eager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<RenderState>,
}

/// Where a render ahead stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RenderState {
    /// Queued or being retried.
    Pending,
    /// Stored: the URL is answered without a render.
    Ready,
    /// Given up (the transform is beyond the image, or retries ran out): the URL still
    /// renders on its first request.
    Failed,
}

/// A preset, as the API shows it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PresetView {
    pub name: String,
    /// Its canonical transform query.
    pub query: String,
    pub eager: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Preset> for PresetView {
    fn from(p: Preset) -> Self {
        PresetView {
            name: p.name,
            query: p.canonical_query,
            eager: p.eager,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PresetList {
    pub items: Vec<PresetView>,
}

/// A preset to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetBody {
    /// A transform query (`width=640&format=auto`), stored canonical; the rules of
    /// transform URLs apply, with their codes.
    #[schema(max_length = 1024, example = "width=640&format=auto")]
    pub query: String,
    /// Render it ahead for every new upload (every accept class for `format=auto`).
    #[serde(default)]
    pub eager: bool,
}

/// The `{name}` of a preset's path: 1 to 64 of `a-z`, `0-9`, `_`, `-`, starting with a
/// letter or digit.
pub(super) struct PresetName(String);

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.len() <= 64
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl<S: Send + Sync> FromRequestParts<S> for PresetName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Invalid(Invalid::PresetName))?;
        if valid_name(&raw) {
            Ok(PresetName(raw))
        } else {
            Err(Invalid::PresetName.into())
        }
    }
}

/// The presets' links for each of `images`: their signed URLs, and their renders' states.
pub(super) async fn links(
    state: &AppState,
    owner: Uuid,
    images: &[&Image],
) -> Result<HashMap<Uuid, BTreeMap<String, PresetLink>>, ApiError> {
    let presets = state.0.db.presets(owner).await?;
    if presets.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = images.iter().map(|i| i.id).collect();
    let mut states: HashMap<(Uuid, String), RenderState> = HashMap::new();
    for JobState {
        image_id,
        preset,
        state: job,
    } in state.0.db.job_states(&ids).await?
    {
        let job = match job.as_str() {
            "ready" => RenderState::Ready,
            "failed" => RenderState::Failed,
            _ => RenderState::Pending,
        };
        // A `format=auto` preset is ready when every class is, failed when one failed.
        let entry = states.entry((image_id, preset)).or_insert(job);
        *entry = match (*entry, job) {
            (RenderState::Failed, _) | (_, RenderState::Failed) => RenderState::Failed,
            (RenderState::Pending, _) | (_, RenderState::Pending) => RenderState::Pending,
            _ => RenderState::Ready,
        };
    }
    let mut all = HashMap::new();
    for image in images {
        let key = url_key(state, image);
        let id = ImageId::from_uuid(image.id);
        let mut map = BTreeMap::new();
        for preset in &presets {
            let query = focused_query(&preset.canonical_query, image);
            let (url, _) = signed_url(state, &id, &key, &query);
            let job = states.get(&(image.id, preset.name.clone())).copied();
            map.insert(preset.name.clone(), PresetLink { url, state: job });
        }
        all.insert(image.id, map);
    }
    Ok(all)
}

/// A stored canonical query with `image`'s focus, as minting would give it.
pub(super) fn focused_query(canonical_query: &str, image: &Image) -> String {
    match (TransformSpec::parse(canonical_query), image.focus()) {
        (Ok(parsed), Some((x, y))) => parsed.into_spec().with_focus(x, y).canonical_query(),
        _ => canonical_query.to_owned(),
    }
}

/// The renders ahead a new upload owes: each eager preset, each accept class of a
/// `format=auto` one. A new image has no focus yet.
pub(super) async fn eager_jobs(
    state: &AppState,
    owner: Uuid,
) -> Result<Vec<NewRenderJob>, ApiError> {
    let mut jobs = Vec::new();
    for preset in state.0.db.presets(owner).await? {
        if !preset.eager {
            continue;
        }
        let auto = TransformSpec::parse(&preset.canonical_query)
            .is_ok_and(|parsed| parsed.spec().is_auto());
        let classes: &[&'static str] = if auto {
            &[
                AcceptClass::Avif.as_str(),
                AcceptClass::Webp.as_str(),
                AcceptClass::Basic.as_str(),
            ]
        } else {
            &[""]
        };
        for class in classes {
            jobs.push(NewRenderJob {
                preset: preset.name.clone(),
                canonical_query: preset.canonical_query.clone(),
                accept_class: class,
            });
        }
    }
    Ok(jobs)
}

#[utoipa::path(get, path = "/v1/presets", tag = "presets", operation_id = "list_presets",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's presets, by name", body = PresetList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let items = state.0.db.presets(user).await?;
    Ok(with_limit_headers(
        &decision,
        Json(PresetList {
            items: items.into_iter().map(PresetView::from).collect(),
        }),
    ))
}

#[utoipa::path(put, path = "/v1/presets/{name}", tag = "presets", operation_id = "put_preset",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "1 to 64 of a-z, 0-9, _ and -", pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")),
    request_body = PresetBody,
    responses(
        (status = 200, description = "Replaced", body = PresetView),
        (status = 201, description = "Created", body = PresetView),
        (status = 400, description = "A bad name, body or transform query (its code says which rule)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 409, description = "The account has its 50 presets (`limit_reached`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
pub(super) async fn put(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    PresetName(name): PresetName,
    body: Result<Json<PresetBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let body = json_body(body)?;
    if body.query.len() > 1024 {
        return Err(Invalid::PresetQuery.into());
    }
    let query = TransformSpec::parse(&body.query)?
        .into_spec()
        .canonical_query();
    let Some((preset, saved)) = state
        .0
        .db
        .save_preset(user, &name, &query, body.eager, MAX_PRESETS)
        .await?
    else {
        return Err(ApiError::LimitReached("presets", MAX_PRESETS));
    };
    // Every image's metadata lists the presets: the cached first page is stale.
    state
        .0
        .cache
        .delete(&[&MetaCache::first_page_key(user)])
        .await;
    let status = match saved {
        PresetSaved::Created => StatusCode::CREATED,
        PresetSaved::Replaced => StatusCode::OK,
    };
    Ok(with_limit_headers(
        &decision,
        (status, Json(PresetView::from(preset))),
    ))
}

#[utoipa::path(delete, path = "/v1/presets/{name}", tag = "presets", operation_id = "delete_preset",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "1 to 64 of a-z, 0-9, _ and -", pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")),
    responses(
        (status = 204, description = "Deleted (its renders still owed are dropped; rendered variants stay)"),
        (status = 400, description = "A bad name", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such preset", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    PresetName(name): PresetName,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    if !state.0.db.delete_preset(user, &name).await? {
        return Err(ApiError::NotFound);
    }
    state
        .0
        .cache
        .delete(&[&MetaCache::first_page_key(user)])
        .await;
    Ok(with_limit_headers(
        &decision,
        (StatusCode::NO_CONTENT, Body::empty()),
    ))
}
