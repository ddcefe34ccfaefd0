//! Access tokens: short-lived JWTs signed with HS256 under a rotating key set.
//!
//! Every token names its key (`kid`); verification accepts any key in the configured set,
//! signing uses the active one, so keys rotate by adding a new key, making it active, and
//! dropping the old one after the access-token lifetime. Only HS256 is accepted: the
//! algorithm in a token's header never chooses how it is checked.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) const ISSUER: &str = "imgedge";
pub(crate) const AUDIENCE: &str = "imgedge-api";

/// A key set parsed from `kid=base64key,kid2=base64key`.
#[derive(Clone)]
pub struct JwtKeys {
    active: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<_> = self.decoding.keys().collect();
        kids.sort();
        f.debug_struct("JwtKeys")
            .field("active", &self.active)
            .field("kids", &kids)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtConfigError {
    #[error("JWT keys must look like kid=base64key[,kid=base64key...]")]
    Malformed,
    #[error("JWT key {0:?} must be at least 32 bytes")]
    TooShort(String),
    #[error("the active JWT key {0:?} is not in the key set")]
    UnknownActive(String),
}

/// Claims of an access token. All five are required and checked.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    /// The account's session epoch at issue (`sep`): a token of an older epoch is refused.
    /// Absent from tokens issued before epochs existed, which count as epoch 0.
    #[serde(default)]
    sep: u32,
}

/// What a valid access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user: Uuid,
    pub session_epoch: u32,
}

impl JwtKeys {
    pub fn parse(keys: &str, active: &str, ttl: Duration) -> Result<JwtKeys, JwtConfigError> {
        let mut decoding = HashMap::new();
        let mut active_secret = None;
        for entry in keys.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, secret) = entry.split_once('=').ok_or(JwtConfigError::Malformed)?;
            let secret = base64::engine::general_purpose::STANDARD
                .decode(secret)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(secret))
                .map_err(|_| JwtConfigError::Malformed)?;
            if secret.len() < 32 {
                return Err(JwtConfigError::TooShort(kid.to_owned()));
            }
            if kid == active {
                active_secret = Some(EncodingKey::from_secret(&secret));
            }
            decoding.insert(kid.to_owned(), DecodingKey::from_secret(&secret));
        }
        let encoding = active_secret.ok_or_else(|| JwtConfigError::UnknownActive(active.into()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Ok(JwtKeys {
            active: active.to_owned(),
            encoding,
            decoding,
            validation,
            ttl,
        })
    }

    /// Lifetime of the tokens this key set issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed access token for `user` in their session epoch `session_epoch`.
    pub fn issue(&self, user: Uuid, session_epoch: u32) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs(),
            sep: session_epoch,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.active.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .expect("HS256 signing with a valid key cannot fail")
    }

    /// The user a valid token was issued to. Any defect (unknown or missing `kid`, another
    /// algorithm, a bad signature, a missing or wrong claim, expiry) is `None`.
    pub fn verify(&self, token: &str) -> Option<VerifiedToken> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let key = self.decoding.get(header.kid.as_deref()?)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok()?;
        Some(VerifiedToken {
            user: data.claims.sub,
            session_epoch: data.claims.sep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(active: &str) -> JwtKeys {
        let a = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        let b = base64::engine::general_purpose::STANDARD.encode([2u8; 32]);
        JwtKeys::parse(&format!("old={a},new={b}"), active, Duration::from_mins(15))
            .expect("valid key set")
    }

    #[test]
    fn tokens_verify_across_rotation() {
        let user = Uuid::new_v4();
        let old_token = keys("old").issue(user, 3);
        let verified = Some(VerifiedToken {
            user,
            session_epoch: 3,
        });
        // After rotation the new key signs, and tokens under the old key still verify.
        assert_eq!(keys("new").verify(&old_token), verified);
        assert_eq!(keys("new").verify(&keys("new").issue(user, 3)), verified);
    }

    #[test]
    fn a_token_under_a_dropped_key_is_refused() {
        let b = base64::engine::general_purpose::STANDARD.encode([2u8; 32]);
        let only_new = JwtKeys::parse(&format!("new={b}"), "new", Duration::from_mins(15))
            .expect("valid key set");
        assert_eq!(only_new.verify(&keys("old").issue(Uuid::new_v4(), 0)), None);
    }

    #[test]
    fn bad_key_sets_are_refused() {
        assert_eq!(
            JwtKeys::parse("k=c2hvcnQ=", "k", Duration::from_secs(1)).err(),
            Some(JwtConfigError::TooShort("k".into()))
        );
        assert_eq!(
            JwtKeys::parse("nokey", "k", Duration::from_secs(1)).err(),
            Some(JwtConfigError::Malformed)
        );
        let a = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(matches!(
            JwtKeys::parse(&format!("a={a}"), "b", Duration::from_secs(1)),
            Err(JwtConfigError::UnknownActive(_))
        ));
    }
}
