//! The database layer (Postgres through sqlx): the one module where SQL lives.
//!
//! [`Db`] wraps a connection pool and exposes typed operations for accounts, refresh
//! tokens, image metadata and rendered variants. Every image query is scoped to its owner,
//! so another owner's id behaves exactly like an id that does not exist. The schema is in
//! `migrations/`, embedded in the binary and applied by [`Db::migrate`].
//!
//! Errors are reduced to what a caller acts on ([`DbError`]): a unique violation
//! (`Conflict`), the database being unreachable (`Unavailable`, answered with 503), and
//! everything else (`Other`). The cause is kept for logs.

mod accounts;
mod cursor;
mod images;
mod presets;
mod purges;
mod search;
mod tokens;
mod usage;
mod users;
mod variants;

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use accounts::ApiKey;
pub use cursor::PageCursor;
pub use images::{Image, ImageDetails, ImageEdit, ImageRef, NewImage, Placeholder};
pub use presets::{JobState, NewRenderJob, Preset, PresetSaved, RenderJob};
pub use purges::PendingPurge;
pub use search::{ImageFilter, SortOrder};
pub use tokens::{NewRefreshToken, TokenRotation};
pub use usage::{OverQuota, StorageQuota, StorageUsage, UsageSummary};
pub use users::{User, normalize_email};
pub use variants::{ClassObject, NewVariant, StoredVariant, VariantRecorded};

/// The longest filename the schema accepts, in characters; the API truncates longer ones.
pub const MAX_FILENAME_CHARS: usize = 255;

/// How long a query waits for a pooled connection before the database counts as
/// unavailable. Short, so a request answers 503 quickly instead of hanging while
/// Postgres is down.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The migrations in `migrations/`, compiled into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A data-layer failure, reduced to what the caller does about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint was violated (a duplicate email, for instance).
    #[error("unique constraint violated")]
    Conflict,
    /// The database cannot be reached or refuses work for now (pool timeout, connection
    /// refused or lost, shutdown in progress, too many connections, statement timeout).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug, a constraint the caller should have prevented, a failed
    /// migration.
    #[error("database error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DbError {
    fn other(message: impl Into<String>) -> DbError {
        DbError::Other(message.into().into())
    }
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> DbError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Conflict,
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(unavailable_code) => {
                DbError::Unavailable(err)
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => DbError::Unavailable(err),
            _ => DbError::Other(Box::new(err)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(err: sqlx::migrate::MigrateError) -> DbError {
        use sqlx::migrate::MigrateError;
        match err {
            // The connection failing mid-migration is an outage, not a broken migration.
            MigrateError::Execute(e) => DbError::from(e),
            other => DbError::Other(Box::new(other)),
        }
    }
}

/// SQLSTATEs that mean "not now" rather than "wrong": connection exceptions (08),
/// insufficient resources (53), operator intervention (57P0x: shutdown, starting up,
/// database dropped) and a statement timeout (57014).
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "57014"
}

/// How to reach PostgreSQL: what every role that uses the database is given.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// The connection URL (it may hold a password: `Debug` does not show it).
    pub url: String,
    /// The most connections the pool opens.
    pub max_connections: u32,
}

impl DatabaseSettings {
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

    /// `url` with the default pool size.
    pub fn new(url: impl Into<String>) -> DatabaseSettings {
        DatabaseSettings {
            url: url.into(),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// The database: a Postgres connection pool and the operations on it.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// A pool for `url` that connects lazily, so the API starts (and answers 503) while
    /// Postgres is down; each query waits at most [`ACQUIRE_TIMEOUT`] for a connection.
    #[allow(
        clippy::unused_async,
        reason = "async in the interface, so an eager connect can replace the lazy one"
    )]
    pub async fn connect(settings: &DatabaseSettings) -> Result<Db, DbError> {
        // A statement that hangs (locks, a stalled server) fails instead of holding the
        // request until its deadline; it maps to `Unavailable` (SQLSTATE 57014).
        let options = PgConnectOptions::from_str(&settings.url)?
            .application_name("imgedge")
            .options([("statement_timeout", "10s")]);
        let max_connections = settings.max_connections.max(1);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        tracing::info!(max_connections, "database pool");
        Ok(Db { pool })
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// Wraps an existing pool (tests get one per database from `#[sqlx::test]`).
    pub fn from_pool(pool: PgPool) -> Db {
        Db { pool }
    }

    /// Applies the embedded migrations that are not applied yet. Safe to run concurrently
    /// from several processes (sqlx holds an advisory lock) and to run again.
    pub async fn migrate(&self) -> Result<(), DbError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool's connections, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `imgedge migrate`: connects to the database and applies the migrations, retrying for
/// up to `wait` while the database is unavailable (a container that starts with its
/// database); `Duration::ZERO` tries once.
pub async fn migrate_command(settings: &DatabaseSettings, wait: Duration) -> Result<(), DbError> {
    let db = Db::connect(settings).await?;
    let started = Instant::now();
    let result = loop {
        match db.migrate().await {
            Err(DbError::Unavailable(err)) if started.elapsed() < wait => {
                tracing::warn!(error = %err, "database unavailable, retrying the migration");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => break other,
        }
    };
    db.close().await;
    result?;
    tracing::info!(
        migrations = MIGRATOR.iter().count(),
        "database migrations are up to date"
    );
    Ok(())
}

/// Creates the database that `database_url` names when it does not exist yet (development:
/// `imgedge dev` on a server that has only its default database).
pub async fn create_database_if_missing(database_url: &str) -> Result<(), DbError> {
    use sqlx::migrate::MigrateDatabase as _;
    if !sqlx::Postgres::database_exists(database_url).await? {
        sqlx::Postgres::create_database(database_url).await?;
        tracing::info!("database created");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_sqlstates() {
        for code in ["08006", "08001", "53300", "57P01", "57P03", "57014"] {
            assert!(unavailable_code(code), "{code}");
        }
        for code in ["23505", "23503", "23514", "40001", "42P01"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn pool_errors_are_unavailable() {
        assert!(matches!(
            DbError::from(sqlx::Error::PoolTimedOut),
            DbError::Unavailable(_)
        ));
        assert!(matches!(
            DbError::from(sqlx::Error::RowNotFound),
            DbError::Other(_)
        ));
    }
}
