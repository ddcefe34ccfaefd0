//! Sessions: the refresh token a sign-in starts, its rotation, sign-out, and where the token
//! travels (the JSON body for API clients, an `HttpOnly` cookie for the web client).
//!
//! A sign-in starts a family of refresh tokens that ends at the session's absolute lifetime
//! (`ApiSettings::session_lifetime`), whatever the refreshes: each rotation's successor
//! expires at the earlier of its own TTL and the family's end (the database keeps both).
//!
//! Cookie mode exists so that a script injected into the page cannot read the refresh
//! token. The cookie is `HttpOnly`, `SameSite=Strict`, scoped to `/v1/auth`, and `Secure`
//! when the service's public base URL is HTTPS. Cross-site request forgery is answered
//! twice: a `SameSite=Strict` cookie is not sent on cross-site requests, and refresh and
//! logout take only `application/json` bodies, which a cross-site form cannot send and a
//! cross-site script cannot send without a CORS preflight this API never grants.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::json_body;
use super::client_ip::{ClientIp, client_net};
use super::error::ApiError;
use super::{AppState, limited, with_limit_headers};
use crate::db::{NewRefreshToken, TokenRotation};
use crate::error::ErrorBody;

/// The cookie that carries the refresh token in cookie mode.
pub const REFRESH_COOKIE: &str = "imgedge_refresh";
/// The only path the cookie is sent to: the endpoints that take it.
const REFRESH_COOKIE_PATH: &str = "/v1/auth";

/// Presents a refresh token: in the body, or (an empty object) the cookie's.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct RefreshRequest {
    /// The refresh token. Leave it out to present the `imgedge_refresh` cookie instead
    /// (cookie mode, see `/v1/auth/login`).
    pub refresh_token: Option<String>,
}

/// Only a JSON object: serde would also take a struct whose fields are all optional from
/// an array (`[]` would mean "the cookie's"), which the schema does not allow.
impl TryFrom<serde_json::Map<String, serde_json::Value>> for RefreshRequest {
    type Error = &'static str;

    fn try_from(
        mut object: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Self::Error> {
        let refresh_token = match object.remove("refresh_token") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(token)) => Some(token),
            Some(_) => return Err("refresh_token must be a string"),
        };
        Ok(RefreshRequest { refresh_token })
    }
}

/// A session: a short-lived access token and a single-use refresh token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange it at `/v1/auth/refresh` for a new session; each one works once. Absent in
    /// cookie mode, where it travels in the `imgedge_refresh` cookie instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

// Secrets never reach a log by accident: these types print without them.
impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Where a session's refresh token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delivery {
    Body,
    Cookie,
}

/// A new refresh token: 32 random bytes, base64url. Only its BLAKE3 hash is stored.
fn new_refresh_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_token_hash(&token);
    (token, hash)
}

fn refresh_token_hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// Starts a session for `user` (a sign-in): a new family, ending one session lifetime from
/// now.
pub(super) async fn start(
    state: &AppState,
    user: Uuid,
    delivery: Delivery,
) -> Result<Response, ApiError> {
    let settings = &state.0.settings;
    let now = OffsetDateTime::now_utc();
    let session_expires_at = now + settings.session_lifetime;
    let (token, hash) = new_refresh_token();
    state
        .0
        .db
        .insert_refresh_token(&NewRefreshToken {
            id: Uuid::new_v4(),
            user_id: user,
            family_id: Uuid::new_v4(),
            token_hash: hash,
            expires_at: (now + settings.refresh_token_ttl).min(session_expires_at),
            session_expires_at,
        })
        .await?;
    respond(state, user, token, delivery).await
}

/// The session's answer, with the refresh token where `delivery` says.
/// The access token carries the account's session epoch now: ending every session later
/// refuses it.
async fn respond(
    state: &AppState,
    user: Uuid,
    refresh_token: String,
    delivery: Delivery,
) -> Result<Response, ApiError> {
    let epoch = super::caller::session_epoch(state, user)
        .await?
        .ok_or(ApiError::InvalidRefreshToken)?;
    Ok(respond_at(state, user, refresh_token, delivery, epoch))
}

/// The session's answer at the account's session `epoch`.
fn respond_at(
    state: &AppState,
    user: Uuid,
    refresh_token: String,
    delivery: Delivery,
    epoch: i32,
) -> Response {
    let (in_body, cookie) = match delivery {
        Delivery::Body => (Some(refresh_token), None),
        Delivery::Cookie => (None, Some(set_cookie(state, &refresh_token))),
    };
    let session = Session {
        access_token: state.0.jwt.issue(user, u32::try_from(epoch).unwrap_or(0)),
        token_type: "Bearer",
        expires_in: state.0.jwt.ttl().as_secs(),
        refresh_token: in_body,
    };
    let mut response = Json(session).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    no_store(&mut response);
    response
}

/// Sessions are secrets: no cache keeps them.
fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The cookie that holds `value` (empty and expired to clear it).
fn cookie(state: &AppState, value: &str, max_age: time::Duration) -> HeaderValue {
    let secure = state.0.settings.cdn_base.starts_with("https://");
    let cookie = cookie::Cookie::build((REFRESH_COOKIE, value))
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(max_age)
        .build();
    // A base64url token and fixed attributes: always a valid header value.
    HeaderValue::from_str(&cookie.to_string()).expect("a cookie of visible ASCII")
}

fn set_cookie(state: &AppState, token: &str) -> HeaderValue {
    let ttl = state
        .0
        .settings
        .refresh_token_ttl
        .min(state.0.settings.session_lifetime);
    let max_age = time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX);
    cookie(state, token, max_age)
}

fn clear_cookie(state: &AppState) -> HeaderValue {
    cookie(state, "", time::Duration::ZERO)
}

/// The refresh token a request presents, and where it came from: the body's when it has
/// one, else the cookie's.
fn presented(headers: &HeaderMap, body: RefreshRequest) -> Option<(String, Delivery)> {
    if let Some(token) = body.refresh_token {
        return Some((token, Delivery::Body));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == REFRESH_COOKIE && !c.value().is_empty())
        .map(|c| (c.value().to_owned(), Delivery::Cookie))
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth",
    request_body(content = RefreshRequest, description = "The refresh token, or `{}` to present the `imgedge_refresh` cookie (cookie mode). Always `application/json`, which a cross-site form cannot send."),
    responses(
        (status = 200, description = "A new session; the presented refresh token is spent. In cookie mode the new token replaces the cookie (`Set-Cookie`) and is not in the body.", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Invalid, expired or reused refresh token, or a session past its absolute lifetime (reuse revokes the session)", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ))]
pub(super) async fn refresh(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    headers: HeaderMap,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = limited(
        &state,
        &format!("refresh:ip:{}", client_net(peer)),
        state.0.settings.quotas.login_ip,
    )
    .await?;
    let (token, delivery) =
        presented(&headers, json_body(body)?).ok_or(ApiError::InvalidRefreshToken)?;
    let (next, hash) = new_refresh_token();
    let now = OffsetDateTime::now_utc();
    // The user, family and session end of the successor are the presented token's; the
    // database caps its expiry at the session's end.
    let successor = NewRefreshToken {
        id: Uuid::new_v4(),
        user_id: Uuid::nil(),
        family_id: Uuid::nil(),
        token_hash: hash,
        expires_at: now + state.0.settings.refresh_token_ttl,
        session_expires_at: now + state.0.settings.session_lifetime,
    };
    let rotation = state
        .0
        .db
        .rotate_refresh_token(&refresh_token_hash(&token), &successor)
        .await?;
    let refused = match rotation {
        TokenRotation::Rotated {
            user_id,
            session_epoch,
        } => {
            return Ok(with_limit_headers(
                &decision,
                respond_at(&state, user_id, next, delivery, session_epoch),
            ));
        }
        TokenRotation::Reused => ApiError::RefreshTokenReused,
        TokenRotation::Expired | TokenRotation::Unknown => ApiError::InvalidRefreshToken,
    };
    // A cookie that no longer works is cleared, so the browser stops presenting it.
    let mut response = refused.into_response();
    if delivery == Delivery::Cookie {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, clear_cookie(&state));
    }
    Ok(response)
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    request_body(content = RefreshRequest, description = "The session's refresh token, or `{}` to present the `imgedge_refresh` cookie. Always `application/json`."),
    responses(
        (status = 204, description = "Signed out: the session's whole token family is revoked and the cookie cleared. The same answer for a token that was unknown, spent or already signed out, so it reveals nothing."),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ))]
pub(super) async fn logout(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    headers: HeaderMap,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    limited(
        &state,
        &format!("refresh:ip:{}", client_net(peer)),
        state.0.settings.quotas.login_ip,
    )
    .await?;
    if let Some((token, _)) = presented(&headers, json_body(body)?) {
        state
            .0
            .db
            .revoke_refresh_family(&refresh_token_hash(&token))
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(&state));
    no_store(&mut response);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).expect("value"));
        headers
    }

    #[test]
    fn a_refresh_request_is_an_object() {
        let parse = serde_json::from_str::<RefreshRequest>;
        assert!(parse("[]").is_err() && parse(r#"["t"]"#).is_err());
        assert!(parse(r#"{"refresh_token": 5}"#).is_err());
        assert_eq!(parse("{}").expect("object").refresh_token, None);
        let token = parse(r#"{"refresh_token": "t", "other": 1}"#).expect("object");
        assert_eq!(token.refresh_token.as_deref(), Some("t"));
    }

    #[test]
    fn the_body_token_wins_over_the_cookie() {
        let headers = cookie_header("a=b; imgedge_refresh=from-cookie");
        let body = RefreshRequest {
            refresh_token: Some("from-body".into()),
        };
        assert_eq!(
            presented(&headers, body),
            Some(("from-body".into(), Delivery::Body))
        );
        let empty = RefreshRequest {
            refresh_token: None,
        };
        assert_eq!(
            presented(&headers, empty),
            Some(("from-cookie".into(), Delivery::Cookie))
        );
    }

    #[test]
    fn an_empty_or_missing_cookie_presents_nothing() {
        for value in ["a=b", "imgedge_refresh=", "imgedge_refreshx=y"] {
            let none = RefreshRequest {
                refresh_token: None,
            };
            assert_eq!(presented(&cookie_header(value), none), None, "{value}");
        }
    }
}
