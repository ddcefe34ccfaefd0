//! Who a request is from, and what they may do: a person signed in (an access token of
//! their account's current session epoch) or a server with an API key (`ik_…`, `read` or
//! `write`). Handlers name what they need by their extractor: [`AuthUser`] (anyone of the
//! account), [`WriteUser`] (not a `read` key), [`SessionUser`] (a person, not a key: for
//! what controls the account itself).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::error::ApiError;
use super::{AppState, limited};
use crate::cache::MetaCache;

/// The prefix of every API key's secret.
pub const API_KEY_PREFIX: &str = "ik_";

/// How often a key's `last_used_at` is written at most.
const LAST_USE_GRANULARITY: std::time::Duration = std::time::Duration::from_mins(1);

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Read,
    Write,
}

/// How a request proved who it is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Session,
    Key { id: Uuid, scope: Scope },
}

/// The caller: an account, and how it signed the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub(crate) user: Uuid,
    pub(crate) via: Via,
}

/// Any caller of the account (reads).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthUser(pub(crate) Uuid);

/// A caller that may change the account's images and presets: a session or a `write` key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteUser(pub(crate) Uuid);

/// A person signed in (no API key): password, sessions, keys, the account's deletion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionUser(pub(crate) Uuid);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(*caller);
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let caller = if token.starts_with(API_KEY_PREFIX) {
            by_key(state, token).await?
        } else {
            by_session(state, token).await?
        };
        parts.extensions.insert(caller);
        Ok(caller)
    }
}

/// An access token, valid only in its account's current session epoch.
async fn by_session(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let claims = state.0.jwt.verify(token).ok_or(ApiError::Unauthorized)?;
    let current = session_epoch(state, claims.user)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if u32::try_from(current).ok() != Some(claims.session_epoch) {
        return Err(ApiError::Unauthorized);
    }
    Ok(Caller {
        user: claims.user,
        via: Via::Session,
    })
}

/// The account's session epoch, cached: a sign-out everywhere deletes the cached value
/// in the transaction's wake, so every process sees it on its next request.
pub(crate) async fn session_epoch(state: &AppState, user: Uuid) -> Result<Option<i32>, ApiError> {
    let key = MetaCache::session_epoch_key(user);
    if let Some(epoch) = state.0.cache.get::<i32>(&key).await {
        return Ok(Some(epoch));
    }
    let epoch = state.0.db.session_epoch(user).await?;
    if let Some(epoch) = epoch {
        state.0.cache.put(&key, &epoch).await;
    }
    Ok(epoch)
}

/// An API key: looked up by its hash on every request, so a revoked key is refused on
/// its next one; each key has its own rate limit besides its account's.
async fn by_key(state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let hash = key_hash(secret);
    let key = state
        .0
        .db
        .use_api_key(&hash, LAST_USE_GRANULARITY)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    limited(
        state,
        &format!("key:{}", key.id),
        state.0.settings.quotas.api_key,
    )
    .await?;
    let scope = if key.scope == "write" {
        Scope::Write
    } else {
        Scope::Read
    };
    Ok(Caller {
        user: key.user_id,
        via: Via::Key { id: key.id, scope },
    })
}

/// What is stored of a key's secret: its BLAKE3 hash (the secret is 256 random bits, so a
/// slow hash would add nothing).
pub(crate) fn key_hash(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(AuthUser(
            Caller::from_request_parts(parts, state).await?.user,
        ))
    }
}

impl FromRequestParts<AppState> for WriteUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.via {
            Via::Key {
                scope: Scope::Read, ..
            } => Err(ApiError::InsufficientScope),
            _ => Ok(WriteUser(caller.user)),
        }
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.via {
            Via::Session => Ok(SessionUser(caller.user)),
            Via::Key { .. } => Err(ApiError::InsufficientScope),
        }
    }
}
