//! Accounts: registration, sign-in (with its failure budgets, `lockout`), and the extractor
//! that turns a bearer token into the calling user. The sessions a sign-in starts are
//! `sessions`'.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::client_ip::{ClientIp, client_net};
use super::error::{ApiError, Invalid};
use super::lockout::FailureBudgets;
use super::sessions::{self, Delivery, Session};
use super::{AppState, limited, with_limit_headers};
use crate::error::ErrorBody;

/// Email and password, for registration.
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

/// Email and password, for sign-in, and where the session's refresh token should travel.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignIn {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(example = "correct horse battery staple", max_length = 256)]
    pub password: String,
    /// Cookie mode, for browsers: the refresh token is set in an `HttpOnly`,
    /// `SameSite=Strict` cookie, `imgedge_refresh`, scoped to `/v1/auth` (and `Secure` over
    /// HTTPS) instead of the body, where no script can read it. Refresh and logout then
    /// take `{}` and present the cookie. Default `false`: the token is in the body.
    #[serde(default)]
    pub refresh_cookie: bool,
}

/// The answer to every well-formed registration, whether the email was new or already had
/// an account: the same status and the same body, so registration reveals no account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The email as stored (trimmed, lowercased): sign in with it.
    #[schema(example = "ada@example.com")]
    pub email: String,
}

// Secrets never reach a log by accident: these types print without them.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("email", &self.email)
            .field("refresh_cookie", &self.refresh_cookie)
            .finish_non_exhaustive()
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

pub(super) fn check_password(password: &str) -> Result<(), ApiError> {
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

pub(super) async fn hash_password(password: String) -> Result<String, ApiError> {
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
pub(super) async fn password_matches(
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
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

#[utoipa::path(post, path = "/v1/auth/register", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, description = "Registered, or the email already had an account: the same answer either way (an existing account is left as it is, and signing in is the next step for both)", body = Registered),
        (status = 400, description = "Invalid email or password, or malformed JSON", body = ErrorBody),
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
    // Hashed on both paths, so a taken email takes as long as a new one.
    let hash = hash_password(password).await?;
    match state.0.db.create_user(Uuid::new_v4(), &email, &hash).await {
        // A taken email changes nothing and answers like a new one: the API does not say
        // which emails have accounts (the owner is not told either; see docs/reliability.md).
        Ok(()) | Err(crate::db::DbError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(with_limit_headers(
        &decision,
        (StatusCode::CREATED, Json(Registered { email })),
    ))
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body = SignIn,
    responses(
        (status = 200, description = "A new session. In cookie mode (`refresh_cookie`), the refresh token is in the `imgedge_refresh` cookie (`Set-Cookie`), not the body.", body = Session),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 429, description = "Too many requests from this address, or too many failed sign-ins for this email (from this address, or from everywhere: then `Retry-After` is short)", body = ErrorBody),
    ))]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let net = client_net(peer);
    limited(
        &state,
        &format!("login:ip:{net}"),
        state.0.settings.quotas.login_ip,
    )
    .await?;
    let SignIn {
        email,
        password,
        refresh_cookie,
    } = json_body(body)?;
    let email = normalise_email(&email).map_err(|_| ApiError::InvalidCredentials)?;
    let budgets = FailureBudgets::new(&email, &net);
    budgets.admit(&state).await?;
    let user = state.0.db.user_by_email(&email).await?;
    let (user_id, stored) = match user {
        Some(user) => (Some(user.id), Some(user.password_hash)),
        None => (None, None),
    };
    let matches = password_matches(password, stored).await?;
    let (true, Some(user_id)) = (matches, user_id) else {
        budgets.failed(&state).await;
        return Err(ApiError::InvalidCredentials);
    };
    let delivery = if refresh_cookie {
        Delivery::Cookie
    } else {
        Delivery::Body
    };
    sessions::start(&state, user_id, delivery).await
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
    fn passwords_are_counted_in_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("ééééééééé").is_err());
        assert!(check_password("éééééééééé").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }
}
