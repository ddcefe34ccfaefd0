//! Accounts and sessions: registration, login, refresh-token rotation, and the extractor
//! that turns a bearer token into the calling user.

use std::net::SocketAddr;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, http::header};
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{ApiError, Invalid};
use super::{AppState, limited, with_limit_headers};
use crate::db::{NewRefreshToken, TokenRotation};
use crate::error::ErrorBody;

/// Email and password, for registration and login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Compared case-insensitively.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    // MAX_EMAIL_CHARS (a literal here)
    pub email: String,
    /// 10 to 256 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 10,
        max_length = 256
    )]
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub user_id: Uuid,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A session: a short-lived access token and a single-use refresh token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange it at `/v1/auth/refresh` for a new session; each one works once.
    pub refresh_token: String,
}

// Secrets never reach a log by accident: these types print without them.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

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

/// The authenticated caller, from `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthUser(pub(crate) Uuid);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        state
            .0
            .jwt
            .verify(token.trim())
            .map(AuthUser)
            .ok_or(ApiError::Unauthorized)
    }
}

/// Parses a JSON body, mapping axum's rejections to this API's errors.
pub(super) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(JsonRejection::MissingJsonContentType(_)) => {
            Err(ApiError::UnsupportedMediaType("application/json"))
        }
        Err(other) => Err(ApiError::BadJson(other.body_text())),
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy (the edge, a load
/// balancer), in which case the nearest untrusted address of `X-Forwarded-For`, read from the
/// right (entries further left were written by the client and prove nothing).
pub(super) struct ClientIp(pub(super) std::net::IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            .ok_or_else(|| ApiError::Internal("no peer address".into()))?;
        let trusted = &state.0.settings.trusted_proxies;
        let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Ok(ClientIp(peer));
        }
        let mut client = peer;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.trim().parse::<std::net::IpAddr>() else {
                break;
            };
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        Ok(ClientIp(client))
    }
}

/// The network a per-address limit counts against: the IPv4 address, or the IPv6 /64 (one
/// subscriber usually holds a whole /64, so per-address keys would be free to rotate).
fn client_net(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_string();
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The longest email accepted: the longest path an address can have (RFC 5321).
const MAX_EMAIL_CHARS: usize = 254;

/// Lowercased and trimmed as the database stores it, so that one mailbox is one account,
/// and checked to look like an address.
fn normalise_email(email: &str) -> Result<String, ApiError> {
    let email = crate::db::normalize_email(email);
    let valid = email.len() <= MAX_EMAIL_CHARS
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.len() > 2 && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(Invalid::Email.into())
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if (10..=256).contains(&length) {
        Ok(())
    } else {
        Err(Invalid::Password.into())
    }
}

/// Argon2id at OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Bounds concurrent Argon2 work to the cores: each hash holds 19 MiB and a core, and
/// logins are what an attacker can send most of.
fn argon2_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores)
    })
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    let _slot = argon2_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Checks `password` against `stored`; with no stored hash (unknown email) it checks against
/// a fixed dummy hash, so both cases take the same time and do not reveal which emails exist.
async fn password_matches(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _slot = argon2_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::encode_b64(&[7u8; 16]).expect("valid salt");
                    argon2()
                        .hash_password(b"imgedge-dummy-password", &salt)
                        .expect("hashing the dummy password")
                        .to_string()
                })
                .clone()
        });
        let matches = PasswordHash::new(&stored)
            .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok());
        known && matches
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
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

fn session_for(state: &AppState, user: Uuid, refresh_token: String) -> Session {
    Session {
        access_token: state.0.jwt.issue(user),
        token_type: "Bearer",
        expires_in: state.0.jwt.ttl().as_secs(),
        refresh_token,
    }
}

fn refresh_row(state: &AppState, user: Uuid, family: Uuid, hash: [u8; 32]) -> NewRefreshToken {
    NewRefreshToken {
        id: Uuid::new_v4(),
        user_id: user,
        family_id: family,
        token_hash: hash,
        expires_at: OffsetDateTime::now_utc() + state.0.settings.refresh_token_ttl,
    }
}

#[utoipa::path(post, path = "/v1/auth/register", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = Registered),
        (status = 400, description = "Invalid email or password, or malformed JSON", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
    ))]
pub(super) async fn register(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = limited(
        &state,
        &format!("register:ip:{}", client_net(peer)),
        state.0.settings.quotas.register_ip,
    )
    .await?;
    let Credentials { email, password } = json_body(body)?;
    let email = normalise_email(&email)?;
    check_password(&password)?;
    let hash = hash_password(password).await?;
    let user_id = Uuid::new_v4();
    match state.0.db.create_user(user_id, &email, &hash).await {
        Ok(()) => {}
        Err(crate::db::DbError::Conflict) => return Err(ApiError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    Ok(with_limit_headers(
        &decision,
        (StatusCode::CREATED, Json(Registered { user_id })),
    ))
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 200, description = "A new session", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address or email", body = ErrorBody),
    ))]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let quotas = state.0.settings.quotas;
    limited(
        &state,
        &format!("login:ip:{}", client_net(peer)),
        quotas.login_ip,
    )
    .await?;
    let Credentials { email, password } = json_body(body)?;
    let email = normalise_email(&email).map_err(|_| ApiError::InvalidCredentials)?;
    let decision = limited(&state, &format!("login:email:{email}"), quotas.login_email).await?;
    let user = state.0.db.user_by_email(&email).await?;
    let (user_id, stored) = match user {
        Some(user) => (Some(user.id), Some(user.password_hash)),
        None => (None, None),
    };
    if !password_matches(password, stored).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let user_id = user_id.ok_or(ApiError::InvalidCredentials)?;
    let (token, hash) = new_refresh_token();
    state
        .0
        .db
        .insert_refresh_token(&refresh_row(&state, user_id, Uuid::new_v4(), hash))
        .await?;
    Ok(with_limit_headers(
        &decision,
        Json(session_for(&state, user_id, token)),
    ))
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new session; the presented refresh token is spent", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Invalid, expired or reused refresh token (reuse revokes the session)", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ))]
pub(super) async fn refresh(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let decision = limited(
        &state,
        &format!("refresh:ip:{}", client_net(peer)),
        state.0.settings.quotas.login_ip,
    )
    .await?;
    let RefreshRequest { refresh_token } = json_body(body)?;
    let presented = refresh_token_hash(&refresh_token);
    let (token, hash) = new_refresh_token();
    // The family and user of the new token are taken from the presented one.
    let next = refresh_row(&state, Uuid::nil(), Uuid::nil(), hash);
    match state.0.db.rotate_refresh_token(&presented, &next).await? {
        TokenRotation::Rotated { user_id } => Ok(with_limit_headers(
            &decision,
            Json(session_for(&state, user_id, token)),
        )
        .into_response()),
        TokenRotation::Reused => Err(ApiError::RefreshTokenReused),
        TokenRotation::Expired | TokenRotation::Unknown => Err(ApiError::InvalidRefreshToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").ok(),
            Some("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a da@example.com",
            "a@b@example.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: std::net::IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(client_net(a), client_net(b));
        assert_eq!(
            client_net("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7"
        );
        assert_eq!(client_net("192.0.2.7".parse().expect("ip")), "192.0.2.7");
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("ééééééééé").is_err());
        assert!(check_password("éééééééééé").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }
}
