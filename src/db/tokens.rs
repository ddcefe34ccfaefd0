//! Refresh tokens: rotation with reuse detection.
//!
//! A login starts a family; every refresh marks the presented token used and inserts its
//! successor in the same family. Presenting a token that was already used or revoked means
//! a copy exists somewhere: the whole family is revoked, so neither the thief nor the
//! victim can continue with it and the user logs in again. Signing out revokes the family
//! the same way.
//!
//! A family ends at its session's absolute end (`session_expires_at`, set at login): every
//! successor inherits it and expires no later.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Db, DbError};

/// A refresh token to store. The token itself never reaches the database, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    /// BLAKE3 of the token.
    pub token_hash: [u8; 32],
    pub expires_at: OffsetDateTime,
    /// The end of the token's session: no token of its family is valid after it. At most
    /// `expires_at` is refused by the schema.
    pub session_expires_at: OffsetDateTime,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRotation {
    /// The token was valid: it is now used, and its successor is stored in its family.
    /// `session_epoch` is the account's, read under a share lock in the rotation's
    /// transaction: ending the sessions waits for the rotation (and then revokes its
    /// successor), so an access token issued at this epoch cannot outlive that end.
    Rotated { user_id: Uuid, session_epoch: i32 },
    /// The token had already been used or revoked: its whole family is now revoked.
    Reused,
    /// The token is past its expiry (and was never used): nothing changed.
    Expired,
    /// No token has this hash.
    Unknown,
}

/// The first key of the advisory locks that serialise work on one token family (the
/// two-key lock space, apart from sqlx's own migration lock).
const FAMILY_LOCK_CLASS: i32 = 0x696d_6731;

/// The second key: the family id's first 32 bits. Two families sharing it only serialise
/// with each other, which is harmless.
fn family_lock_key(family_id: Uuid) -> i32 {
    let b = family_id.as_bytes();
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[derive(sqlx::FromRow)]
struct Presented {
    user_id: Uuid,
    family_id: Uuid,
    session_expires_at: OffsetDateTime,
    expired: bool,
    spent: bool,
}

/// A refresh token row; a login starts a family with one, each rotation adds the next.
/// A successor's expiry is capped at its session's end.
const INSERT_TOKEN: &str = "INSERT INTO refresh_tokens \
     (id, user_id, family_id, token_hash, expires_at, session_expires_at) \
     VALUES ($1, $2, $3, $4, LEAST($5, $6), $6)";

impl Db {
    /// Stores the first token of a family (at login). [`DbError::Conflict`] if the hash
    /// exists, which a random token makes practically impossible.
    pub async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), DbError> {
        sqlx::query(INSERT_TOKEN)
            .bind(token.id)
            .bind(token.user_id)
            .bind(token.family_id)
            .bind(token.token_hash.as_slice())
            .bind(token.expires_at)
            .bind(token.session_expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Presents the token whose hash is `presented_hash`; when it is valid, stores `next`
    /// as its successor. `next`'s `user_id`, `family_id` and `session_expires_at` are
    /// ignored: the successor belongs to the presented token's user, family and session, and
    /// expires at the earlier of `next.expires_at` and the session's end.
    ///
    /// Atomic, and serialised per family: of two concurrent rotations of one token exactly
    /// one is `Rotated` and the other `Reused`, and a reuse racing with a legitimate
    /// rotation still revokes the successor that rotation creates. A used or revoked token
    /// is `Reused` even when it has also expired, since it is evidence of a copy either way.
    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &[u8; 32],
        next: &NewRefreshToken,
    ) -> Result<TokenRotation, DbError> {
        let mut tx = self.pool.begin().await?;

        // The family first, to take its lock before reading the token's state: a row lock
        // on the token alone would let a concurrent family revocation miss a successor
        // inserted by a rotation that has not committed yet.
        if lock_family_of(&mut tx, presented_hash).await?.is_none() {
            return Ok(TokenRotation::Unknown);
        }

        let presented = sqlx::query_as::<_, Presented>(
            "SELECT user_id, family_id, session_expires_at, expires_at <= now() AS expired, \
                    (used_at IS NOT NULL OR revoked_at IS NOT NULL) AS spent \
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(presented_hash.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        // Gone in between: its user was deleted.
        let Some(presented) = presented else {
            return Ok(TokenRotation::Unknown);
        };

        if presented.spent {
            revoke_family(&mut tx, presented.family_id).await?;
            tx.commit().await?;
            return Ok(TokenRotation::Reused);
        }
        if presented.expired {
            return Ok(TokenRotation::Expired);
        }

        let session_epoch: i32 =
            sqlx::query_scalar("SELECT session_epoch FROM users WHERE id = $1 FOR SHARE")
                .bind(presented.user_id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1")
            .bind(presented_hash.as_slice())
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_TOKEN)
            .bind(next.id)
            .bind(presented.user_id)
            .bind(presented.family_id)
            .bind(next.token_hash.as_slice())
            .bind(next.expires_at)
            .bind(presented.session_expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TokenRotation::Rotated {
            user_id: presented.user_id,
            session_epoch,
        })
    }

    /// Signs out: revokes the whole family of the token whose hash is `presented_hash`
    /// (every token, used or not), serialised with its rotations so that a successor being
    /// inserted concurrently is revoked too. An unknown token changes nothing; the caller
    /// is not told which it was.
    pub async fn revoke_refresh_family(&self, presented_hash: &[u8; 32]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        if let Some(family_id) = lock_family_of(&mut tx, presented_hash).await? {
            revoke_family(&mut tx, family_id).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Deletes tokens that expired before `cutoff`, returning how many. A deleted used
    /// token presented again is `Unknown` instead of `Reused`, so keep a margin (a cutoff
    /// some days in the past).
    pub async fn delete_refresh_tokens_expired_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The family of the token whose hash is `presented_hash`, locked for the transaction;
/// `None` (and no lock) for an unknown token.
async fn lock_family_of(
    tx: &mut sqlx::PgConnection,
    presented_hash: &[u8; 32],
) -> Result<Option<Uuid>, DbError> {
    let family: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(presented_hash.as_slice())
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(family_id) = family {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(FAMILY_LOCK_CLASS)
            .bind(family_lock_key(family_id))
            .execute(tx)
            .await?;
    }
    Ok(family)
}

/// Revokes every token of the family not revoked yet.
async fn revoke_family(tx: &mut sqlx::PgConnection, family_id: Uuid) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() \
         WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(tx)
    .await?;
    Ok(())
}
