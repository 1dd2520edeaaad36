//! Announcements: "I am about to change this", seen by anyone who checks
//! while the change may be in flight, and gone by themselves if the
//! announcer dies.
//!
//! Two writers whose changes exclude each other (changing a plan's products
//! and subscribing to the plan; deleting a service and subscribing to it)
//! each *announce, then verify*: one announces with an `increment` and then
//! reads the other's announcements; the other does the same the other way
//! round. Increments and reads are linearizable on Spin's stores, so at
//! least one of the two sees the other and backs off (possibly both: the
//! caller answers "retry"). That is Dekker's protocol, on the two
//! primitives real Spin stores make safe.
//!
//! An announcement is a counter of the current time window (a minute),
//! under `announce/{prefix}/{window}`: the announcer adds 1 and, when done,
//! takes it back. One that dies in between leaves its window's counter
//! above zero, but checks only look at the windows around their own time,
//! so it stops mattering after two windows. The first announcer of a window
//! registers the counter to expire the next day ([`DailyExpiry`]), so the
//! counters do not pile up.
//! The price: an announcer must finish within [`MAX_ANNOUNCED`] of its
//! announcement ([`Announced::still_valid`]), and clocks must agree to well
//! within a window.

use std::time::Duration;

use qmarket_core::Timestamp;

use crate::{DailyExpiry, KeyValue, Result};

/// The prefix of every announcement counter.
pub const ANNOUNCE_PREFIX: &str = "announce";
/// The length of one announcement window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The longest an announcer may act on its announcement.
pub const MAX_ANNOUNCED: Duration = Duration::from_secs(30);

/// The announcements about one thing (e.g. `plan/{id}/changing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcements {
    prefix: String,
}

/// A change announced and not yet taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "take the announcement back when done"]
pub struct Announced {
    key: String,
    at: Timestamp,
}

fn window_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(WINDOW.as_millis() as i64)
}

impl Announcements {
    /// The announcements kept under `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Announcements {
            prefix: prefix.into(),
        }
    }

    fn key(&self, window: i64) -> String {
        format!("{ANNOUNCE_PREFIX}/{}/{window}", self.prefix)
    }

    /// Announces a change at `now`.
    pub fn announce(&self, kv: &dyn KeyValue, now: Timestamp) -> Result<Announced> {
        let key = self.key(window_of(now));
        if kv.increment(&key, 1)? == 1 {
            let expiry = DailyExpiry::new(format!("expiry/{ANNOUNCE_PREFIX}"), 0);
            let (slot, value) = expiry.slot(kv, now, &[&key])?.entry;
            kv.set(&slot, &value)?;
            expiry.sweep_step(kv, now)?;
        }
        Ok(Announced { key, at: now })
    }

    /// Takes `announced` back.
    pub fn retract(&self, kv: &dyn KeyValue, announced: Announced) -> Result<()> {
        kv.increment(&announced.key, -1)?;
        Ok(())
    }

    /// Whether a change announced by someone may be in flight at `now`
    /// (reads only).
    pub fn any(&self, kv: &dyn KeyValue, now: Timestamp) -> Result<bool> {
        let window = window_of(now);
        let keys: Vec<String> = (window - 1..=window + 1).map(|w| self.key(w)).collect();
        for value in kv.get_many(&keys)?.into_iter().flatten() {
            if crate::decode_counter(&value).is_some_and(|n| n > 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Announced {
    /// Whether the announcer may still act at `now`: a change that took
    /// longer than [`MAX_ANNOUNCED`] may no longer be seen by checks.
    pub fn still_valid(&self, now: Timestamp) -> bool {
        now.millis() - self.at.millis() <= MAX_ANNOUNCED.as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + seconds * 1000)
    }

    #[test]
    fn an_announcement_is_seen_until_it_is_taken_back() {
        let kv = MemoryStore::new();
        let a = Announcements::new("thing/changing");
        assert!(!a.any(&kv, at(0)).unwrap());
        let mine = a.announce(&kv, at(0)).unwrap();
        assert!(a.any(&kv, at(10)).unwrap());
        a.retract(&kv, mine).unwrap();
        assert!(!a.any(&kv, at(10)).unwrap());
    }

    #[test]
    fn an_announcer_that_died_stops_mattering_after_two_windows() {
        let kv = MemoryStore::new();
        let a = Announcements::new("thing/changing");
        let _dead = a.announce(&kv, at(0)).unwrap();
        assert!(a.any(&kv, at(30)).unwrap());
        assert!(a.any(&kv, at(119)).unwrap());
        assert!(!a.any(&kv, at(180)).unwrap());
    }

    #[test]
    fn an_announcement_is_valid_for_a_bounded_time_only() {
        let kv = MemoryStore::new();
        let mine = Announcements::new("x").announce(&kv, at(0)).unwrap();
        assert!(mine.still_valid(at(30)));
        assert!(!mine.still_valid(at(31)));
    }
}
