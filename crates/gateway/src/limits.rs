//! A plan's rate limit and quota, enforced per subscription on every call,
//! and the `RateLimit-Policy` / `RateLimit` fields that tell the consumer
//! where it stands (draft-ietf-httpapi-ratelimit-headers).
//!
//! Each limit counts calls in a counter of its own per window
//! ([`count_in_window`]): the rate limit in fixed windows aligned to the
//! epoch (`sub/{sub}/rate/{seconds}/{window}`), the quota per UTC day or
//! month (`sub/{sub}/quota/{yyyymmdd | yyyymm}`). A call is admitted when its
//! position in each counter is at most the limit: increments are atomic on
//! every store, so of a concurrent burst exactly the limit passes. The rate
//! limit is counted first; a call it refuses does not touch the quota. A
//! refused call takes its count back out of the limit that refused it. A
//! call the platform then answers itself because the upstream failed (502,
//! 504) or its body was too large (413) is taken back out of the quota
//! ([`Counted::give_back`]).

use qmarket_core::time::DAY_MILLIS;
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{PlanLimits, Quota, QuotaPeriod, RateLimit, Subscription};
use qmarket_store::{count_in_window, uncount_in_window, DailyExpiry, KeyValue};

/// The expiry of rate-limit counters: kept the day after theirs, so a window
/// that spans midnight keeps its count.
fn rate_expiry() -> DailyExpiry {
    DailyExpiry::new("expiry/subscription-rate", 1)
}

/// The expiry of quota counters: a month's counter, created on its first
/// day at the earliest, is kept past the month's end.
fn quota_expiry(period: QuotaPeriod) -> DailyExpiry {
    match period {
        QuotaPeriod::Day => DailyExpiry::new("expiry/subscription-quota-day", 0),
        QuotaPeriod::Month => DailyExpiry::new("expiry/subscription-quota-month", 31),
    }
}

/// Where a call stands against one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyState {
    /// The policy's name in the fields: `rate` or `quota`.
    pub name: &'static str,
    /// Calls admitted per window.
    pub quota: u64,
    /// The window's length in seconds (a quota's: the current day or
    /// month).
    pub window_seconds: u64,
    /// Calls left in the current window after this one.
    pub remaining: u64,
    /// Seconds until the current window ends (at least 1).
    pub reset_seconds: u64,
    /// Whether this call was over the limit.
    pub exceeded: bool,
    /// Whether this call was counted against it (not when an earlier
    /// limit refused it).
    pub counted: bool,
    key: String,
}

/// The limits a call was counted against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted {
    /// One state per limit of the plan, rate limit first.
    pub policies: Vec<PolicyState>,
}

/// Counts the call of `subscription` at `now` against its plan's limits:
/// the states of the limits when it is admitted, a 429 (with the seconds to
/// wait and the states, for the fields) when a limit refuses it.
pub fn count_call(
    kv: &dyn KeyValue,
    subscription: &Subscription,
    now: Timestamp,
) -> std::result::Result<Counted, Refusal> {
    let limits = subscription.limits.unwrap_or_default();
    let mut counted = Counted::default();
    let mut expiries = Vec::new();
    if let Some(rate) = limits.rate_limit {
        counted
            .policies
            .push(rate_state(&subscription.id, rate, now));
        expiries.push(rate_expiry());
    }
    if let Some(quota) = limits.quota {
        counted
            .policies
            .push(quota_state(&subscription.id, quota, now));
        expiries.push(quota_expiry(quota.per));
    }
    for (state, expiry) in counted.policies.iter_mut().zip(&expiries) {
        count(kv, state, expiry, now).map_err(Refusal::Failed)?;
        if state.exceeded {
            return Err(Refusal::over(&counted, &limits));
        }
    }
    Ok(counted)
}

fn count(
    kv: &dyn KeyValue,
    state: &mut PolicyState,
    expiry: &DailyExpiry,
    now: Timestamp,
) -> Result<()> {
    state.counted = true;
    let position = count_in_window(kv, &state.key, expiry, now)?;
    state.exceeded = position > state.quota;
    state.remaining = state.quota.saturating_sub(position);
    if state.exceeded {
        // A refused call takes its count back out, so the window's count
        // stays that of the calls admitted, and a call given back later
        // frees a place.
        uncount_in_window(kv, &state.key)?;
    }
    Ok(())
}

/// Seconds from `now` to `end`, at least 1.
fn seconds_until(now: Timestamp, end_millis: i64) -> u64 {
    u64::try_from((end_millis - now.millis()).max(0))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1)
}

fn rate_state(subscription_id: &str, rate: RateLimit, now: Timestamp) -> PolicyState {
    let seconds = rate.per.seconds();
    let size = i64::try_from(seconds * 1000).unwrap_or(i64::MAX);
    let window = now.millis().div_euclid(size);
    PolicyState {
        name: "rate",
        quota: rate.requests,
        window_seconds: seconds,
        remaining: rate.requests,
        reset_seconds: seconds_until(now, (window + 1) * size),
        exceeded: false,
        counted: false,
        key: Subscription::rate_key(subscription_id, seconds, window),
    }
}

fn quota_state(subscription_id: &str, quota: Quota, now: Timestamp) -> PolicyState {
    let (period, start, end) = match quota.per {
        QuotaPeriod::Day => {
            let start = now.day() * DAY_MILLIS;
            (now.utc_date().to_string(), start, start + DAY_MILLIS)
        }
        QuotaPeriod::Month => (
            now.utc_month().to_string(),
            now.month_start().millis(),
            now.next_month_start().millis(),
        ),
    };
    PolicyState {
        name: "quota",
        quota: quota.requests,
        window_seconds: u64::try_from((end - start) / 1000).unwrap_or(0),
        remaining: quota.requests,
        reset_seconds: seconds_until(now, end),
        exceeded: false,
        counted: false,
        key: Subscription::quota_key(subscription_id, &period),
    }
}

impl Counted {
    /// Takes the call back out of the quota: it does not count (the
    /// platform answered it itself with 502, 504 or 413). The rate limit
    /// keeps it: it was a request all the same.
    pub fn give_back(&self, kv: &dyn KeyValue) {
        for state in self
            .policies
            .iter()
            .filter(|s| s.name == "quota" && s.counted)
        {
            if let Err(e) = uncount_in_window(kv, &state.key) {
                eprintln!("gateway: giving a call back to its quota failed: {e}");
            }
        }
    }

    /// The `RateLimit-Policy` (every limit of the plan) and `RateLimit`
    /// (the limits the call was counted against) fields for the answer;
    /// none when no limit applies.
    pub fn fields(&self) -> Vec<(String, String)> {
        if self.policies.is_empty() {
            return Vec::new();
        }
        let policy = self
            .policies
            .iter()
            .map(|s| format!("\"{}\";q={};w={}", s.name, s.quota, s.window_seconds))
            .collect::<Vec<_>>()
            .join(", ");
        let current = self
            .policies
            .iter()
            .filter(|s| s.counted)
            .map(|s| format!("\"{}\";r={};t={}", s.name, s.remaining, s.reset_seconds))
            .collect::<Vec<_>>()
            .join(", ");
        vec![
            ("ratelimit-policy".to_string(), policy),
            ("ratelimit".to_string(), current),
        ]
    }
}

/// Why a call was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over a limit: the 429 and the fields to send with it.
    Over {
        /// The 429 problem.
        error: Error,
        /// The limits as counted.
        counted: Counted,
    },
    /// The store failed.
    Failed(Error),
}

impl Refusal {
    fn over(counted: &Counted, limits: &PlanLimits) -> Self {
        let state = counted
            .policies
            .iter()
            .find(|s| s.exceeded)
            .expect("a refusal names the limit it exceeded");
        let what = match state.name {
            "rate" => {
                let rate = limits
                    .rate_limit
                    .expect("a rate state comes from a rate limit");
                format!(
                    "rate limit of {} requests per {}",
                    rate.requests,
                    rate.per.word()
                )
            }
            _ => {
                let quota = limits.quota.expect("a quota state comes from a quota");
                format!(
                    "quota of {} requests per {}",
                    quota.requests,
                    quota.per.word()
                )
            }
        };
        Refusal::Over {
            error: Error::TooManyRequests {
                detail: format!(
                    "the subscription's {what} is used up; retry in {} s",
                    state.reset_seconds
                ),
                retry_after_seconds: state.reset_seconds,
            },
            counted: counted.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::subscription;
    use qmarket_http::StatusOf;
    use qmarket_model::RateWindow;
    use qmarket_store::MemoryStore;
    use std::sync::Arc;

    /// 2027-01-15T08:00:00Z, a whole hour.
    const START: i64 = 1_800_000_000_000;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(START + millis)
    }

    fn limited(rate: Option<(u64, RateWindow)>, quota: Option<(u64, QuotaPeriod)>) -> Subscription {
        Subscription {
            limits: Some(PlanLimits {
                rate_limit: rate.map(|(requests, per)| RateLimit { requests, per }),
                quota: quota.map(|(requests, per)| Quota { requests, per }),
            }),
            ..subscription()
        }
    }

    fn admitted(kv: &dyn KeyValue, sub: &Subscription, now: Timestamp) -> bool {
        match count_call(kv, sub, now) {
            Ok(_) => true,
            Err(Refusal::Over { .. }) => false,
            Err(Refusal::Failed(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn a_subscription_without_limits_is_counted_nowhere() {
        let kv = MemoryStore::new();
        let counted = count_call(&kv, &subscription(), at(0)).unwrap();
        assert_eq!(counted, Counted::default());
        assert!(counted.fields().is_empty());
        assert!(kv.dump().is_empty());
    }

    #[test]
    fn of_a_concurrent_burst_exactly_the_rate_limit_passes() {
        let kv = Arc::new(MemoryStore::new());
        let sub = limited(Some((5, RateWindow::Minute)), None);
        let passed = (0..32)
            .map(|_| {
                let (kv, sub) = (kv.clone(), sub.clone());
                std::thread::spawn(move || admitted(&*kv, &sub, at(1_000)))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn a_new_window_admits_again_and_the_refusal_says_when() {
        let kv = MemoryStore::new();
        let sub = limited(Some((2, RateWindow::Second)), None);
        assert!(admitted(&kv, &sub, at(100)));
        assert!(admitted(&kv, &sub, at(200)));
        match count_call(&kv, &sub, at(300)) {
            Err(Refusal::Over { error, counted }) => {
                assert_eq!(error.status(), 429);
                assert!(matches!(
                    error,
                    Error::TooManyRequests {
                        retry_after_seconds: 1,
                        ..
                    }
                ));
                assert_eq!(
                    counted.fields(),
                    [
                        (
                            "ratelimit-policy".to_string(),
                            "\"rate\";q=2;w=1".to_string()
                        ),
                        ("ratelimit".to_string(), "\"rate\";r=0;t=1".to_string()),
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(admitted(&kv, &sub, at(1_000)), "the next second");
    }

    #[test]
    fn a_quota_counts_per_utc_day_and_says_how_much_is_left_until_midnight() {
        let kv = MemoryStore::new();
        let sub = limited(Some((100, RateWindow::Hour)), Some((3, QuotaPeriod::Day)));
        let counted = count_call(&kv, &sub, at(0)).unwrap();
        // 08:00 UTC: 16 hours to midnight; the hour window ends at 09:00.
        assert_eq!(
            counted.fields(),
            [
                (
                    "ratelimit-policy".to_string(),
                    "\"rate\";q=100;w=3600, \"quota\";q=3;w=86400".to_string()
                ),
                (
                    "ratelimit".to_string(),
                    "\"rate\";r=99;t=3600, \"quota\";r=2;t=57600".to_string()
                ),
            ]
        );
        assert!(admitted(&kv, &sub, at(1)));
        assert!(admitted(&kv, &sub, at(2)));
        assert!(!admitted(&kv, &sub, at(3)));
        assert!(admitted(&kv, &sub, at(16 * 3_600_000)), "the next day");
    }

    #[test]
    fn a_call_given_back_frees_its_quota_but_not_its_rate() {
        let kv = MemoryStore::new();
        let sub = limited(Some((3, RateWindow::Minute)), Some((1, QuotaPeriod::Month)));
        let counted = count_call(&kv, &sub, at(0)).unwrap();
        assert!(!admitted(&kv, &sub, at(1)), "the month's quota is used up");
        counted.give_back(&kv);
        let again = count_call(&kv, &sub, at(2)).unwrap();
        // Three calls counted by the rate limit, one by the quota. From
        // 15 January 08:00 to 1 February: 16 days 16 hours = 1,440,000 s;
        // January has 31 days = 2,678,400 s.
        assert_eq!(
            again.fields()[1].1,
            "\"rate\";r=0;t=60, \"quota\";r=0;t=1440000"
        );
        assert_eq!(
            again.fields()[0].1,
            "\"rate\";q=3;w=60, \"quota\";q=1;w=2678400"
        );
    }

    #[test]
    fn a_call_the_rate_limit_refuses_does_not_touch_the_quota() {
        let kv = MemoryStore::new();
        let sub = limited(Some((1, RateWindow::Minute)), Some((2, QuotaPeriod::Day)));
        assert!(admitted(&kv, &sub, at(0)));
        match count_call(&kv, &sub, at(1)) {
            Err(Refusal::Over { counted, .. }) => assert_eq!(
                counted.fields(),
                [
                    (
                        "ratelimit-policy".to_string(),
                        "\"rate\";q=1;w=60, \"quota\";q=2;w=86400".to_string()
                    ),
                    ("ratelimit".to_string(), "\"rate\";r=0;t=60".to_string()),
                ],
                "every policy is declared, the one that refused is reported"
            ),
            other => panic!("{other:?}"),
        }
        assert!(admitted(&kv, &sub, at(60_000)), "the quota still has one");
        assert!(!admitted(&kv, &sub, at(120_000)), "and then none");
    }
}
