//! GCRA, the algorithm behind [`super::RateLimiter`], written twice with the same names
//! and integer microseconds: in [`Gcra::step`] (the in-process fallback, and the reference
//! the unit tests check) and in [`GCRA_LUA`] (the limiter shared through Redis), line for
//! line, so that the two cannot drift apart unnoticed.

use std::time::Duration;

use super::{Decision, Quota};

/// The Redis side of [`Gcra::step`]. KEYS[1] holds the TAT in microseconds of Redis time;
/// ARGV is `interval_us`, `tolerance_us`, `increment_us` (the request's cost in
/// microseconds of the TAT) and `commit` (`1` counts the request, `0` only says whether it
/// would be allowed). Returns `{allowed (0|1), remaining,
/// reset_after_us, retry_after_us}`.
///
/// Lua numbers are doubles: every value stays an integer below 2^53 (see [`MAX_US`]), and
/// the TAT is written with `%.0f` because `tostring` would switch to an exponent and lose
/// digits.
pub(crate) const GCRA_LUA: &str = r"
-- Needed before Redis 5 to write after reading the non-deterministic TIME; a no-op since.
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local increment = tonumber(ARGV[3])

local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if tat == nil or tat < now then tat = now end
local new_tat = tat + increment
local ahead = new_tat - now
if ahead > tolerance and tat > now then
  return {0, 0, tat - now, ahead - tolerance}
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(ahead / 1000))
end
return {1, math.floor(math.max(tolerance - ahead, 0) / interval), ahead, 0}
";

/// The largest interval or tolerance, in microseconds (about 71 years): keeps every number
/// in the script an exact integer.
const MAX_US: u64 = 1 << 51;

/// A quota in the algorithm's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gcra {
    /// The emission interval: `period / per_period`, at least 1 µs.
    pub(super) interval_us: u64,
    /// How far ahead of now the TAT may run: `burst` intervals.
    pub(super) tolerance_us: u64,
    /// How far one request moves the TAT: its cost in intervals (one for a plain request).
    pub(super) increment_us: u64,
    pub(super) burst: u32,
}

/// The result of one [`Gcra::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GcraStep {
    pub(super) allowed: bool,
    pub(super) remaining: u64,
    pub(super) reset_after_us: u64,
    pub(super) retry_after_us: u64,
    /// The TAT to store (allowed requests only; a refused one changes nothing).
    pub(super) new_tat: Option<u64>,
}

impl Gcra {
    pub(super) fn from_quota(quota: &Quota) -> Gcra {
        let per_period = u64::from(quota.per_period.max(1));
        let period_us = u64::try_from(quota.period.as_micros()).unwrap_or(u64::MAX);
        let interval_us = (period_us / per_period).clamp(1, MAX_US);
        let burst = quota.burst.max(1);
        Gcra {
            interval_us,
            tolerance_us: interval_us.saturating_mul(u64::from(burst)).min(MAX_US),
            increment_us: interval_us,
            burst,
        }
    }

    /// The same quota for a request of `cost` units, at least 1 (see
    /// [`super::RateLimiter::check_cost`]).
    pub(super) fn costing(self, cost: u32) -> Gcra {
        Gcra {
            increment_us: self
                .interval_us
                .saturating_mul(u64::from(cost.max(1)))
                .min(MAX_US),
            ..self
        }
    }

    /// One request at `now` against the stored TAT (None when the key is new or expired).
    /// Mirrors [`GCRA_LUA`] line for line.
    pub(super) fn step(self, now: u64, stored_tat: Option<u64>) -> GcraStep {
        let tat = stored_tat.map_or(now, |tat| tat.max(now));
        let new_tat = tat + self.increment_us;
        let ahead = new_tat - now;
        // A key whose budget is full (its TAT not ahead of now) takes one request whatever
        // it costs: one costing more than the burst runs, and leaves the key in debt.
        if ahead > self.tolerance_us && tat > now {
            return GcraStep {
                allowed: false,
                remaining: 0,
                reset_after_us: tat - now,
                retry_after_us: ahead - self.tolerance_us,
                new_tat: None,
            };
        }
        GcraStep {
            allowed: true,
            remaining: self.tolerance_us.saturating_sub(ahead) / self.interval_us,
            reset_after_us: ahead,
            retry_after_us: 0,
            new_tat: Some(new_tat),
        }
    }

    pub(super) fn decision(self, outcome: GcraStep, degraded: bool) -> Decision {
        Decision {
            allowed: outcome.allowed,
            limit: self.burst,
            remaining: u32::try_from(outcome.remaining)
                .unwrap_or(u32::MAX)
                .min(self.burst),
            reset_after: Duration::from_micros(outcome.reset_after_us),
            retry_after: (!outcome.allowed).then(|| Duration::from_micros(outcome.retry_after_us)),
            degraded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    fn gcra(per_period: u32, period: Duration, burst: u32) -> Gcra {
        Gcra::from_quota(&Quota {
            per_period,
            period,
            burst,
        })
    }

    /// Runs `times` back to back and returns the outcomes, threading the TAT like the store.
    fn run(g: Gcra, tat: &mut Option<u64>, now: u64, times: usize) -> Vec<GcraStep> {
        (0..times)
            .map(|_| {
                let out = g.step(now, *tat);
                if let Some(new_tat) = out.new_tat {
                    *tat = Some(new_tat);
                }
                out
            })
            .collect()
    }

    #[test]
    fn quota_becomes_interval_and_tolerance() {
        let g = gcra(60, Duration::from_mins(1), 10);
        assert_eq!(g.interval_us, 1_000_000);
        assert_eq!(g.tolerance_us, 10_000_000);
        // Zeroes are read as one rather than dividing by zero or refusing everything.
        let z = gcra(0, Duration::from_secs(1), 0);
        assert_eq!(
            (z.interval_us, z.tolerance_us, z.burst),
            (1_000_000, 1_000_000, 1)
        );
        assert_eq!(gcra(1, Duration::ZERO, 1).interval_us, 1);
        assert_eq!(gcra(1, Duration::MAX, u32::MAX).tolerance_us, MAX_US);
    }

    #[test]
    fn a_fresh_key_allows_exactly_burst_at_once() {
        let g = gcra(10, Duration::from_secs(1), 3);
        let mut tat = None;
        let outs = run(g, &mut tat, 5_000 * MS, 4);
        let remaining: Vec<u64> = outs.iter().map(|o| o.remaining).collect();
        assert_eq!(remaining, [2, 1, 0, 0]);
        assert!(outs[..3].iter().all(|o| o.allowed));
        let refused = outs[3];
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_us, 100 * MS, "one interval");
        assert_eq!(
            refused.reset_after_us,
            300 * MS,
            "three intervals to refill"
        );
        assert_eq!(refused.new_tat, None);
        assert_eq!(tat, Some(5_300 * MS));
    }

    #[test]
    fn a_costly_request_spends_its_cost_and_never_more_than_the_burst() {
        let g = gcra(10, Duration::from_secs(1), 10);
        let mut tat = None;
        let outs = run(g.costing(4), &mut tat, 0, 3);
        let seen: Vec<_> = outs.iter().map(|o| (o.allowed, o.remaining)).collect();
        assert_eq!(seen, [(true, 6), (true, 2), (false, 0)]);
        // Two units are left: a request of 2 fits, then nothing does.
        assert!(g.costing(2).step(0, tat).allowed);
        // A cost beyond the burst runs when the key's budget is full, and leaves it in debt
        // for the whole cost: 1000 intervals of 100 ms.
        let huge = g.costing(1000).step(0, None);
        assert!(huge.allowed);
        assert_eq!(huge.remaining, 0);
        let next = g.step(0, huge.new_tat);
        assert!(!next.allowed);
        assert_eq!(next.retry_after_us, 99_100 * MS);
        assert!(!g.costing(1000).step(0, huge.new_tat).allowed);
    }

    #[test]
    fn a_request_is_allowed_again_after_retry_after() {
        let g = gcra(10, Duration::from_secs(1), 2);
        let mut tat = None;
        run(g, &mut tat, 0, 2);
        let refused = g.step(40 * MS, tat);
        assert_eq!(refused.retry_after_us, 60 * MS);
        let just_before = g.step(40 * MS + refused.retry_after_us - 1, tat);
        assert!(!just_before.allowed);
        let at = g.step(40 * MS + refused.retry_after_us, tat);
        assert!(at.allowed);
        assert_eq!(at.remaining, 0);
    }

    #[test]
    fn idle_time_refills_the_budget_up_to_burst_only() {
        let g = gcra(10, Duration::from_secs(1), 5);
        let mut tat = None;
        run(g, &mut tat, 0, 5);
        // Two intervals later, two requests fit again.
        let outs = run(g, &mut tat, 200 * MS, 3);
        assert_eq!(
            outs.iter().map(|o| o.allowed).collect::<Vec<_>>(),
            [true, true, false]
        );
        // Long idle: a stale TAT counts as now, never as saved-up credit beyond burst.
        let outs = run(g, &mut tat, 60_000 * MS, 6);
        assert_eq!(outs.iter().filter(|o| o.allowed).count(), 5);
        assert_eq!(outs[0].remaining, 4);
    }

    #[test]
    fn steady_traffic_at_the_rate_is_always_allowed() {
        let g = gcra(10, Duration::from_secs(1), 1);
        let mut tat = None;
        for i in 0..100 {
            let out = run(g, &mut tat, i * 100 * MS, 1)[0];
            assert!(out.allowed, "request {i}");
            assert_eq!(out.reset_after_us, 100 * MS);
        }
        assert!(
            !run(g, &mut tat, 9_950 * MS, 1)[0].allowed,
            "faster than the rate"
        );
    }

    #[test]
    fn decisions_report_limit_remaining_and_retry() {
        let g = gcra(60, Duration::from_mins(1), 10);
        let allowed = g.decision(g.step(0, None), false);
        assert_eq!(
            allowed,
            Decision {
                allowed: true,
                limit: 10,
                remaining: 9,
                reset_after: Duration::from_secs(1),
                retry_after: None,
                degraded: false,
            }
        );
        let refused = g.decision(g.step(0, Some(10_000_000)), true);
        assert!(!refused.allowed && refused.degraded);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));
    }

    #[test]
    fn headers_round_seconds_up_and_add_retry_after_only_when_refused() {
        let mut d = Decision {
            allowed: true,
            limit: 10,
            remaining: 3,
            reset_after: Duration::from_millis(2_001),
            retry_after: None,
            degraded: false,
        };
        let text = |d: &Decision| -> Vec<(String, String)> {
            d.headers()
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.to_str().expect("ascii").to_owned()))
                .collect()
        };
        assert_eq!(
            text(&d),
            [
                ("ratelimit-limit".into(), "10".into()),
                ("ratelimit-remaining".into(), "3".into()),
                ("ratelimit-reset".into(), "3".into()),
            ]
        );
        d.allowed = false;
        d.remaining = 0;
        d.reset_after = Duration::from_secs(4);
        d.retry_after = Some(Duration::from_millis(10));
        let h = text(&d);
        assert_eq!(h[2], ("ratelimit-reset".into(), "4".into()));
        assert_eq!(h[3], ("retry-after".into(), "1".into()));
    }
}
