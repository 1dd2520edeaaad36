//! Fixed-window rate limits per client, on `increment` only, whose
//! counters do not pile up.
//!
//! A client's requests in the current window are counted in one of
//! [`BUCKETS`] counters (the client's hash picks it), keyed by window:
//! `{name}/{window}/{bucket}`, registered for expiry under
//! `{name}/expiry`. The request that creates a counter also
//! registers it for deletion the day after ([`DailyExpiry`]) and runs one
//! sweep step, so counters never pile up. Clients that share a bucket share
//! its limit: that only ever makes a limit stricter, and with a few
//! thousand buckets it is rare.

use std::time::Duration;

use qmarket_core::{secret, Timestamp};

use crate::{count_in_window, DailyExpiry, KeyValue, Result};

/// Counters per window.
pub const BUCKETS: u64 = 4096;

/// A limit of `limit` requests per `window` per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    /// The limit's name, which prefixes its keys (e.g. `ratelimit/signup`).
    pub name: &'static str,
    /// Requests admitted per window.
    pub limit: u64,
    /// The window.
    pub window: Duration,
}

/// Whether a request may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the limit.
    Admitted,
    /// Over it; the window ends in this many seconds.
    Refused {
        /// Seconds until the next window.
        retry_after_seconds: u64,
    },
}

impl FixedWindow {
    fn window_millis(&self) -> i64 {
        i64::try_from(self.window.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }

    fn key(&self, window: i64, bucket: u64) -> String {
        format!("{}/{window}/{bucket}", self.name)
    }

    /// Counts a request of `client` at `now` and says whether it is admitted.
    pub fn admit(&self, kv: &dyn KeyValue, client: &str, now: Timestamp) -> Result<Admission> {
        let size = self.window_millis();
        let window = now.millis().div_euclid(size);
        let digest = secret::hash(client);
        let bucket = u64::from_str_radix(&digest[..12], 16).unwrap_or(0) % BUCKETS;
        let key = self.key(window, bucket);
        let expiry = DailyExpiry::new(format!("{}/expiry", self.name), 0);
        let count = count_in_window(kv, &key, &expiry, now)?;
        if count <= self.limit {
            return Ok(Admission::Admitted);
        }
        let ends = (window + 1) * size;
        let wait = (ends - now.millis()).max(0) as u64;
        Ok(Admission::Refused {
            retry_after_seconds: wait.div_ceil(1000).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    const LIMIT: FixedWindow = FixedWindow {
        name: "ratelimit/test",
        limit: 3,
        window: Duration::from_secs(60),
    };

    fn at(seconds: i64) -> Timestamp {
        // 1_800_000_000_000 ms is a whole minute.
        Timestamp::from_millis(1_800_000_000_000 + seconds * 1000)
    }

    #[test]
    fn the_limit_admits_n_requests_per_window_and_then_says_when_to_retry() {
        let kv = MemoryStore::new();
        for _ in 0..3 {
            assert_eq!(
                LIMIT.admit(&kv, "1.2.3.4", at(10)).unwrap(),
                Admission::Admitted
            );
        }
        assert_eq!(
            LIMIT.admit(&kv, "1.2.3.4", at(10)).unwrap(),
            Admission::Refused {
                retry_after_seconds: 50
            }
        );
        assert_eq!(
            LIMIT.admit(&kv, "5.6.7.8", at(10)).unwrap(),
            Admission::Admitted
        );
        assert_eq!(
            LIMIT.admit(&kv, "1.2.3.4", at(60)).unwrap(),
            Admission::Admitted
        );
    }

    #[test]
    fn concurrent_requests_admit_exactly_the_limit() {
        let kv = std::sync::Arc::new(MemoryStore::new());
        let admitted: usize = (0..16)
            .map(|_| {
                let kv = kv.clone();
                std::thread::spawn(move || LIMIT.admit(&*kv, "c", at(5)).unwrap())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|a| *a == Admission::Admitted)
            .count();
        assert_eq!(admitted, 3);
    }

    #[test]
    fn old_windows_counters_are_swept_so_keys_stay_bounded() {
        let kv = MemoryStore::new();
        let day = |d: i64| at(d * 86_400);
        for d in 0..5 {
            for client in 0..20 {
                LIMIT
                    .admit(&kv, &format!("client-{client}"), day(d))
                    .unwrap();
            }
        }
        // Only the counters of the last two days are left.
        let counters = kv
            .dump()
            .into_iter()
            .filter(|(key, _)| key.split('/').count() == 4 && !key.contains("/expiry/"))
            .filter(|(key, _)| {
                key.split('/')
                    .nth(2)
                    .is_some_and(|w| w.parse::<i64>().is_ok())
            })
            .count();
        assert!(counters <= 40, "{counters} counters left");
    }
}
