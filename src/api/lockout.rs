//! The sign-in failure budgets: what stops password guessing without handing anyone a way
//! to lock another person out.
//!
//! Only failures are counted; a correct password spends nothing. Two budgets, both checked
//! before the password is (a refused attempt does no Argon2 work and reveals nothing about
//! the password) and both spent after a wrong one:
//! - per email and client network (`Quotas::login_failures`): the guesser's own budget. A
//!   guesser exhausts it for the networks they send from, never for the owner's.
//! - per email, from anywhere (`Quotas::login_email`): a higher ceiling on guesses against
//!   one account from many networks. Past it, every network is slowed to its rate (a 429
//!   with a `Retry-After` of about one interval, a second by default), not locked out. An
//!   attacker guessing from many networks at once can keep this ceiling spent, and the
//!   owner then competes with them for each interval's attempt: the ceiling bounds
//!   distributed guessing at the price of slowing the owner. Exempting networks the owner
//!   signed in from before is left to do.
//!
//! The budgets are checked, then spent: concurrent wrong guesses from one network can
//! overshoot by the few that pass the check together, which the per-network request limit
//! (`Quotas::login_ip`) and the bounded Argon2 slots keep small.

use super::AppState;
use super::error::ApiError;
use crate::ratelimit::Quota;

/// The two budgets of one sign-in: this network's guesses at `email`, and everyone's.
pub(super) struct FailureBudgets {
    here: String,
    anywhere: String,
}

impl FailureBudgets {
    /// `email` normalised, `net` as [`super::client_ip::client_net`] gives it. The keys name
    /// the email by a hash of fixed length, last: an email may contain `:`, and spelt out
    /// it could make one account's key equal to another's on another network (the email
    /// `203.0.113.7:ada@example.com` against `ada@example.com` from 203.0.113.7). The hash
    /// also keeps addresses out of Redis.
    pub(super) fn new(email: &str, net: &str) -> FailureBudgets {
        let email = blake3::hash(email.as_bytes()).to_hex();
        FailureBudgets {
            here: format!("login:fail:net:{net}:{email}"),
            anywhere: format!("login:fail:any:{email}"),
        }
    }

    fn quotas(state: &AppState) -> [Quota; 2] {
        let quotas = &state.0.settings.quotas;
        [quotas.login_failures, quotas.login_email]
    }

    /// Refuses the attempt when either budget is spent ([`ApiError::RateLimited`], with the
    /// time until one more guess is allowed); counts nothing.
    pub(super) async fn admit(&self, state: &AppState) -> Result<(), ApiError> {
        let [here, anywhere] = Self::quotas(state);
        for (key, quota) in [(&self.here, here), (&self.anywhere, anywhere)] {
            let decision = state.0.limiter.peek(key, &quota).await;
            if !decision.allowed {
                return Err(ApiError::RateLimited(decision));
            }
        }
        Ok(())
    }

    /// Spends one failure from both budgets.
    pub(super) async fn failed(&self, state: &AppState) {
        let [here, anywhere] = Self::quotas(state);
        state.0.limiter.check(&self.here, &here).await;
        state.0.limiter.check(&self.anywhere, &anywhere).await;
    }
}

#[cfg(test)]
mod tests {
    use super::FailureBudgets;

    #[test]
    fn no_email_spends_another_accounts_budget() {
        let victim = FailureBudgets::new("ada@example.com", "203.0.113.7");
        let forged = FailureBudgets::new("203.0.113.7:ada@example.com", "198.51.100.1");
        let keys = [&victim.here, &victim.anywhere];
        assert!(!keys.contains(&&forged.here) && !keys.contains(&&forged.anywhere));
        assert!(!victim.here.contains("ada@"), "no email in Redis keys");
    }
}
