//! The signed-in account: what it stores against its quota (`GET /v1/me`), its usage
//! (`GET /v1/usage`), and what its owner controls: the password, every session, the
//! account itself.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::{check_password, hash_password, json_body, password_matches};
use super::caller::{AuthUser, SessionUser};
use super::error::ApiError;
use super::sessions::{self, Delivery};
use super::{AppState, UserClass, with_limit_headers};
use crate::cache::MetaCache;
use crate::db::{StorageQuota, StorageUsage};
use crate::error::ErrorBody;

/// The signed-in account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: Uuid,
    /// As stored: trimmed and lowercased.
    pub email: String,
    /// What the account stores now: bytes of originals and images.
    pub usage: StorageUsage,
    /// What it may store; an upload past either figure is `403 storage_quota_exceeded`.
    pub quota: StorageQuota,
}

/// What the account stores and renders.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    pub originals: Counted,
    /// Every stored variant (a `format=auto` one counts once, with all its classes' bytes).
    pub variants: Counted,
    /// Renders stored this calendar month (UTC), each class of a `format=auto` variant one.
    pub renders_this_month: u64,
}

/// A count and the bytes of what it counts.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counted {
    pub count: u64,
    pub bytes: u64,
}

/// A password change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 256)]
    pub current_password: String,
    /// 10 to 256 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
    /// Where the new session's refresh token travels, as at sign-in.
    #[serde(default)]
    pub refresh_cookie: bool,
}

/// The password, again, to confirm an account's deletion.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    #[schema(max_length = 256)]
    pub password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PasswordConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordConfirmation")
            .finish_non_exhaustive()
    }
}

#[utoipa::path(get, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, its storage usage and its quota", body = Account),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub(super) async fn me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    // A valid token for an account that is gone is no session at all.
    let account = state
        .0
        .db
        .user_by_id(user)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let usage = state.0.db.storage_usage(user).await?;
    Ok(with_limit_headers(
        &decision,
        Json(Account {
            id: account.id,
            email: account.email,
            usage,
            quota: state.0.settings.storage_quota,
        }),
    ))
}

#[utoipa::path(get, path = "/v1/usage", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Originals and variants stored (count and bytes), renders this month", body = Usage),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub(super) async fn usage(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let summary = state.0.db.usage_summary(user).await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(with_limit_headers(
        &decision,
        Json(Usage {
            originals: Counted {
                count: n(summary.images),
                bytes: n(summary.bytes),
            },
            variants: Counted {
                count: n(summary.variants),
                bytes: n(summary.variant_bytes),
            },
            renders_this_month: n(summary.renders_this_month),
        }),
    ))
}

/// The account's password, checked (a wrong one counts against the sign-in budgets of no
/// one: the caller is signed in already, and the write quota bounds the guesses). What
/// outlasts a session (a new password, a key, the account's end) asks for it, so a stolen
/// access token alone cannot take the account.
pub(super) async fn confirm_password(
    state: &AppState,
    user: Uuid,
    password: String,
) -> Result<(), ApiError> {
    let stored = state
        .0
        .db
        .user_by_id(user)
        .await?
        .ok_or(ApiError::Unauthorized)?
        .password_hash;
    if password_matches(password, Some(stored)).await? {
        Ok(())
    } else {
        Err(ApiError::InvalidCredentials)
    }
}

#[utoipa::path(post, path = "/v1/me/password", tag = "account",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed. Every session ended, this one included; this answer is the caller's new session. API keys stay valid (servers keep working): revoke a key with `DELETE /v1/api-keys/{id}`", body = sessions::Session),
        (status = 400, description = "The new password is not 10 to 256 characters, or malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in, or the current password is wrong (`invalid_credentials`)", body = ErrorBody),
        (status = 403, description = "An API key cannot (`insufficient_scope`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
pub(super) async fn change_password(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    body: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let change = json_body(body)?;
    check_password(&change.new_password)?;
    confirm_password(&state, user, change.current_password).await?;
    let hash = hash_password(change.new_password).await?;
    state.0.db.change_password(user, &hash).await?;
    forget_sessions(&state, user).await;
    let delivery = if change.refresh_cookie {
        Delivery::Cookie
    } else {
        Delivery::Body
    };
    let session = sessions::start(&state, user, delivery).await?;
    Ok(with_limit_headers(&decision, session))
}

#[utoipa::path(delete, path = "/v1/me/sessions", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out everywhere: every access and refresh token of the account is refused from now on, this one included (API keys are not sessions: revoke them one by one)"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An API key cannot (`insufficient_scope`): revoke the key instead", body = ErrorBody),
    ))]
pub(super) async fn end_sessions(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    state.0.db.end_sessions(user).await?;
    forget_sessions(&state, user).await;
    Ok(with_limit_headers(
        &decision,
        (StatusCode::NO_CONTENT, Body::empty()),
    ))
}

#[utoipa::path(delete, path = "/v1/me", tag = "account", operation_id = "delete_account",
    security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses(
        (status = 204, description = "Deleted: the account, its sessions, keys, presets, images and variants; the objects are removed from S3 and the CDN purged, through the outbox, within moments"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in, or the password is wrong (`invalid_credentials`)", body = ErrorBody),
        (status = 403, description = "An API key cannot (`insufficient_scope`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    body: Result<Json<PasswordConfirmation>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let confirmation = json_body(body)?;
    confirm_password(&state, user, confirmation.password).await?;
    // Owed now: the outbox's next poll sweeps and purges every image, retrying until done.
    let owed = state
        .0
        .db
        .delete_account_owing_purges(user, std::time::Duration::ZERO)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    tracing::info!(%user, images = owed, "account deleted");
    forget_sessions(&state, user).await;
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

/// Drops the cached session epoch, so every process refuses the old tokens at once.
async fn forget_sessions(state: &AppState, user: Uuid) {
    state
        .0
        .cache
        .delete(&[&MetaCache::session_epoch_key(user)])
        .await;
}
