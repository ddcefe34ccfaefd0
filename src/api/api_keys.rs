//! API keys for servers (`/v1/api-keys`): created by a signed-in person, the secret shown
//! once and stored only as a hash, listed with their last use, revoked at once.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::json_body;
use super::caller::{API_KEY_PREFIX, SessionUser, key_hash};
use super::error::{ApiError, Invalid};
use super::{AppState, UserClass, with_limit_headers};
use crate::db::ApiKey;
use crate::error::ErrorBody;

/// Most keys one account holds.
pub const MAX_API_KEYS: u32 = 20;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyScope {
    /// Read images, presets, variants and usage; mint URLs.
    Read,
    /// Also upload, edit, delete, and manage presets and variants.
    Write,
}

impl KeyScope {
    fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::Write => "write",
        }
    }
}

/// A key to create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// The account's password: a key outlasts every session, so a stolen access token
    /// alone cannot make one.
    #[schema(max_length = 256)]
    pub password: String,
    /// What it is for, 1 to 100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f]*$",
        example = "build server"
    )]
    pub name: String,
    pub scope: KeyScope,
}

/// A key, as listed: never its secret.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub scope: KeyScope,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// To the minute; absent until first used.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        ApiKeyView {
            id: key.id,
            name: key.name,
            scope: if key.scope == "write" {
                KeyScope::Write
            } else {
                KeyScope::Read
            },
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

/// A created key, with its secret: shown this once.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub id: Uuid,
    /// Send as `Authorization: Bearer ik_…`. Not stored: keep it now.
    pub secret: String,
    pub name: String,
    pub scope: KeyScope,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}

/// The `{id}` of a key's path.
pub(super) struct KeyPath(Uuid);

impl<S: Send + Sync> FromRequestParts<S> for KeyPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Invalid(Invalid::KeyId))?;
        raw.parse::<imgedge_url::ImageId>()
            .map(|id| KeyPath(*id.as_uuid()))
            .map_err(|_| Invalid::KeyId.into())
    }
}

#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", operation_id = "create_api_key",
    security(("bearer" = [])),
    request_body = NewApiKey,
    responses(
        (status = 201, description = "Created: the secret is in this answer only", body = CreatedApiKey),
        (status = 400, description = "A bad name or scope, or malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in, or the password is wrong (`invalid_credentials`)", body = ErrorBody),
        (status = 403, description = "An API key cannot create keys (`insufficient_scope`)", body = ErrorBody),
        (status = 409, description = "The account has its 20 keys (`limit_reached`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
pub(super) async fn create(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    body: Result<Json<NewApiKey>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let new = json_body(body)?;
    let name = new.name.as_str();
    let control = |c: char| c.is_ascii_control();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(control) {
        return Err(Invalid::KeyName.into());
    }
    super::account::confirm_password(&state, user, new.password).await?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let Some(key) = state
        .0
        .db
        .create_api_key(
            user,
            name,
            new.scope.as_str(),
            &key_hash(&secret),
            MAX_API_KEYS,
        )
        .await?
    else {
        return Err(ApiError::LimitReached("API keys", MAX_API_KEYS));
    };
    let mut response = with_limit_headers(
        &decision,
        (
            StatusCode::CREATED,
            Json(CreatedApiKey {
                id: key.id,
                secret,
                name: key.name,
                scope: new.scope,
            }),
        ),
    );
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", operation_id = "list_api_keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's keys, oldest first, without secrets", body = ApiKeyList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An API key cannot list keys (`insufficient_scope`)", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let items = state.0.db.api_keys(user).await?;
    Ok(with_limit_headers(
        &decision,
        Json(ApiKeyList {
            items: items.into_iter().map(ApiKeyView::from).collect(),
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", operation_id = "delete_api_key",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked: refused from its next request"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An API key cannot revoke keys (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such key for this account", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    KeyPath(id): KeyPath,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    if !state.0.db.delete_api_key(user, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(with_limit_headers(
        &decision,
        (StatusCode::NO_CONTENT, Body::empty()),
    ))
}
