//! Accounts.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Db, DbError};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    /// Normalised ([`normalize_email`]).
    pub email: String,
    /// An Argon2id PHC string.
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

/// The stored form of an email: trimmed and lowercased, so that uniqueness and lookups
/// ignore case. [`Db::create_user`] and [`Db::user_by_email`] apply it themselves;
/// applying it twice changes nothing.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Db {
    /// Creates an account. `password_hash` must be an Argon2id PHC string (the schema
    /// refuses anything else). [`DbError::Conflict`] when the email, normalised, exists.
    pub async fn create_user(
        &self,
        id: Uuid,
        email: &str,
        password_hash: &str,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(normalize_email(email))
            .bind(password_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The account with this email (normalised before the lookup).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        let user = sqlx::query_as::<_, User>(
            "SELECT id, email, password_hash, created_at FROM users WHERE email = $1",
        )
        .bind(normalize_email(email))
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }

    /// The account with this id.
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, DbError> {
        let user = sqlx::query_as::<_, User>(
            "SELECT id, email, password_hash, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn normalisation_trims_and_lowercases_idempotently() {
        assert_eq!(
            normalize_email("  Alice@Example.COM\n"),
            "alice@example.com"
        );
        let once = normalize_email(" ÉLODIE@exemple.fr ");
        assert_eq!(once, "élodie@exemple.fr");
        assert_eq!(normalize_email(&once), once);
    }
}
