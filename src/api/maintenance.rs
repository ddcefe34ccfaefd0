//! The API role's background upkeep: pruning expired refresh tokens.
//!
//! A refresh token expires, but its row stays: every login and every refresh inserts one, and
//! nothing else deletes them. A table that only grows slows sign-in and refresh (their
//! lookups and inserts work on ever larger indexes) and costs storage for rows nobody can use.
//! So every API process deletes them on a schedule ([`super::ApiSettings`]'s
//! `token_pruning_interval`), counting the rows in `imgedge_refresh_tokens_pruned_total`.
//! Several replicas pruning the same table is harmless: the delete is idempotent.

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::AppState;
use crate::db::Db;

const PRUNED_TOTAL: &str = "imgedge_refresh_tokens_pruned_total";

/// The running pruning task. It ends by itself when the shutdown signal completes; dropping
/// this handle stops it too, so it never outlives the [`super::run`] that started it.
#[derive(Debug)]
pub(super) struct Pruning(JoinHandle<()>);

impl Drop for Pruning {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts pruning expired refresh tokens every `token_pruning_interval` until `shutdown`
/// completes; `None` when the interval is zero (pruning off).
pub(super) fn start(
    state: &AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<Pruning> {
    let settings = &state.0.settings;
    let every = settings.token_pruning_interval;
    if every.is_zero() {
        return None;
    }
    metrics::describe_counter!(
        PRUNED_TOTAL,
        "Expired refresh tokens deleted by the API's pruning task"
    );
    // Why not prune at the instant of expiry: reuse detection needs the spent rows.
    // Presenting a token that was already used revokes its whole family, and
    // `Db::rotate_refresh_token` checks "spent" before "expired" precisely so that a used
    // token still counts as evidence of a copy after it has expired. A deleted row is
    // `Unknown` instead: the replay gets a plain 401 and the family (say, a thief's copy that
    // rotated first) lives on. So rows stay for one more refresh-token lifetime after their
    // expiry: by then the token that replaced a used one has expired too, and a replay can
    // only matter to a family that kept rotating for a whole lifetime past it. That bounds
    // the table at about twice the tokens alive, and follows `refresh_token_ttl` when it is
    // configured shorter or longer.
    let keep_expired_for = settings.refresh_token_ttl;
    let db = state.0.db.clone();
    Some(Pruning(tokio::spawn(prune_every(
        db,
        every,
        keep_expired_for,
        shutdown,
    ))))
}

/// Prunes at once, then every `every`, until `shutdown`. Pruning at start means that an API
/// restarted more often than `every` (frequent deploys) still prunes.
async fn prune_every(
    db: Db,
    every: Duration,
    keep_expired_for: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticks.tick() => {}
        }
        prune_once(&db, keep_expired_for).await;
    }
}

/// Deletes the tokens that expired more than `keep_expired_for` ago. A failure (the database
/// down) is logged, and the next tick tries again.
async fn prune_once(db: &Db, keep_expired_for: Duration) {
    let Some(cutoff) = cutoff(OffsetDateTime::now_utc(), keep_expired_for) else {
        // Before any representable expiry: nothing is old enough.
        return;
    };
    match db.delete_refresh_tokens_expired_before(cutoff).await {
        Ok(pruned) => {
            metrics::counter!(PRUNED_TOTAL).increment(pruned);
            if pruned > 0 {
                tracing::info!(pruned, "pruned expired refresh tokens");
            }
        }
        Err(e) => tracing::warn!(
            error = %e,
            "could not prune expired refresh tokens; trying again at the next tick"
        ),
    }
}

/// `now - keep_expired_for`, or `None` when that is out of range.
fn cutoff(now: OffsetDateTime, keep_expired_for: Duration) -> Option<OffsetDateTime> {
    now.checked_sub(time::Duration::try_from(keep_expired_for).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_keeps_expired_rows_for_the_grace_and_never_overflows() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            cutoff(now, Duration::from_hours(1)),
            Some(now - time::Duration::hours(1))
        );
        assert_eq!(cutoff(now, Duration::ZERO), Some(now));
        assert_eq!(cutoff(now, Duration::MAX), None);
        assert_eq!(cutoff(now, Duration::from_secs(u64::MAX / 2)), None);
    }
}
