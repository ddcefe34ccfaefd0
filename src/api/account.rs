//! `GET /v1/me`: the signed-in account, with what it stores against its storage quota.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use uuid::Uuid;

use super::auth::AuthUser;
use super::error::ApiError;
use super::{AppState, UserClass, with_limit_headers};
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
