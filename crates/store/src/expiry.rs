//! Keys that expire: registered in an index of the day they were written,
//! and deleted a set number of days later by a bounded sweep step that
//! ordinary requests run.
//!
//! Spin's stores have no expiry, and the store must never be scanned, so a
//! writer that creates keys meant to expire (a gateway correlation, a rate
//! counter) also writes one slot of the day's index naming them
//! ([`DailyExpiry::slot`]: a sequence number from an `increment` and one
//! key, which the writer puts in its own `set_many`). Every so often a
//! request runs [`DailyExpiry::sweep_step`]: it finds the oldest expired
//! day not yet swept (one `get_many` over the days' done-markers), claims a
//! chunk of that day's slots with an `increment`, and deletes the keys they
//! name. A day is marked done once its slots are exhausted. A sweeper that
//! dies mid-chunk leaves that chunk's keys behind: at most [`CHUNK`] per
//! crash.

use qmarket_core::time::DAY_MILLIS;
use qmarket_core::Timestamp;

use crate::{Index, KeyValue, Result};

/// Slots deleted per sweep step.
pub const CHUNK: u64 = 256;
/// How many days back a sweep looks for days not yet swept.
pub const LOOKBACK_DAYS: i64 = 400;

/// A reserved slot of a day's expiry index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpirySlot {
    /// Its sequence number in the day (the first is 1).
    pub seq: u64,
    /// The `(key, value)` to write, in the same `set_many` as the keys.
    pub entry: (String, Vec<u8>),
}

/// Keys of one kind that expire `keep_days` after the day they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyExpiry {
    /// The prefix of the day indexes (e.g. `expiry/correlations`).
    pub name: String,
    /// Whole days a key is kept after the day it was written.
    pub keep_days: i64,
}

impl DailyExpiry {
    /// Keys registered under `name`, deleted `keep_days` after their day.
    pub fn new(name: impl Into<String>, keep_days: i64) -> Self {
        DailyExpiry {
            name: name.into(),
            keep_days,
        }
    }

    fn index(&self, day: i64) -> Index {
        Index::new(format!("{}/{day}", self.name))
    }

    fn done_key(&self, day: i64) -> String {
        format!("{}/{day}/done", self.name)
    }

    fn swept_key(&self, day: i64) -> String {
        format!("{}/{day}/swept", self.name)
    }

    /// Reserves a slot in the index of `now`'s day for keys about to be
    /// written: returns the entry to write together with them (`keys` are
    /// kept one per line).
    pub fn slot(&self, kv: &dyn KeyValue, now: Timestamp, keys: &[&str]) -> Result<ExpirySlot> {
        let index = self.index(now.day());
        let seq = index.reserve(kv)?;
        Ok(ExpirySlot {
            seq,
            entry: (index.slot_key(seq), keys.join("\n").into_bytes()),
        })
    }

    /// Deletes one chunk of the oldest expired day not yet swept, if any.
    /// Returns how many slots it looked at (0 when nothing was due).
    pub fn sweep_step(&self, kv: &dyn KeyValue, now: Timestamp) -> Result<u64> {
        let newest_expired = now.day() - self.keep_days - 1;
        let days: Vec<i64> = (newest_expired - LOOKBACK_DAYS + 1..=newest_expired).collect();
        let done_keys: Vec<String> = days.iter().map(|d| self.done_key(*d)).collect();
        let open: Vec<i64> = days
            .iter()
            .zip(kv.get_many(&done_keys)?)
            .filter(|(_, marker)| marker.is_none())
            .map(|(day, _)| *day)
            .collect();
        if open.is_empty() {
            return Ok(0);
        }
        // Days that never had a slot are done at once, all in one write.
        let seq_keys: Vec<String> = open
            .iter()
            .map(|d| format!("{}/{d}/seq", self.name))
            .collect();
        let mut empty = Vec::new();
        let mut oldest = None;
        for (day, seq) in open.iter().zip(kv.get_many(&seq_keys)?) {
            match seq.as_deref().and_then(crate::decode_counter) {
                Some(n) if n > 0 => {
                    oldest = Some((*day, u64::try_from(n).unwrap_or(0)));
                    break;
                }
                _ => empty.push((self.done_key(*day), b"1".to_vec())),
            }
        }
        if !empty.is_empty() {
            kv.set_many(&empty)?;
        }
        let Some((day, last)) = oldest else {
            return Ok(0);
        };
        let index = self.index(day);
        let end = u64::try_from(kv.increment(&self.swept_key(day), CHUNK as i64)?).unwrap_or(0);
        let start = end.saturating_sub(CHUNK) + 1;
        if start > last {
            // Nothing left: the day is done. Its counters go with it, and
            // the marker of the day that just left the look-back.
            kv.set(&self.done_key(day), b"1")?;
            kv.delete_many(&[
                format!("{}/{day}/seq", self.name),
                self.swept_key(day),
                self.done_key(day - LOOKBACK_DAYS),
            ])?;
            return Ok(0);
        }
        let slots = index.slots(kv, start..=end.min(last))?;
        let mut doomed = Vec::with_capacity(slots.len() * 2);
        for (seq, value) in &slots {
            if let Some(bytes) = value {
                doomed.extend(
                    String::from_utf8_lossy(bytes)
                        .lines()
                        .filter(|k| !k.is_empty())
                        .map(str::to_string),
                );
            }
            doomed.push(index.slot_key(*seq));
        }
        kv.delete_many(&doomed)?;
        Ok(slots.len() as u64)
    }

    /// Whether anything of `day` is still waiting to be swept (for tests).
    pub fn pending(&self, kv: &dyn KeyValue, day: i64) -> Result<bool> {
        Ok(kv.get(&self.done_key(day))?.is_none() && self.index(day).last_seq(kv)? > 0)
    }
}

/// The first instant of day `day` (days since the epoch).
pub fn day_start(day: i64) -> Timestamp {
    Timestamp::from_millis(day * DAY_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn expiry() -> DailyExpiry {
        DailyExpiry::new("expiry/test", 2)
    }

    fn write(kv: &MemoryStore, at: Timestamp, key: &str) {
        let slot = expiry().slot(kv, at, &[key]).unwrap();
        kv.set_many(&[(key.to_string(), b"v".to_vec()), slot.entry])
            .unwrap();
    }

    #[test]
    fn keys_are_deleted_only_after_their_days_are_kept() {
        let kv = MemoryStore::new();
        let day = 20_000;
        for i in 0..300 {
            write(&kv, day_start(day), &format!("thing/{i}"));
        }
        // Still kept on the last day of keeping.
        assert_eq!(expiry().sweep_step(&kv, day_start(day + 2)).unwrap(), 0);
        assert!(kv.exists("thing/0").unwrap());
        // Then swept, a chunk per step, until the day is done.
        let later = day_start(day + 3);
        assert_eq!(expiry().sweep_step(&kv, later).unwrap(), CHUNK);
        assert_eq!(expiry().sweep_step(&kv, later).unwrap(), 300 - CHUNK);
        assert_eq!(expiry().sweep_step(&kv, later).unwrap(), 0);
        assert!(!expiry().pending(&kv, day).unwrap());
        let left: Vec<String> = kv
            .dump()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !k.ends_with("/done"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn days_left_behind_by_an_idle_stretch_are_swept_oldest_first() {
        let kv = MemoryStore::new();
        write(&kv, day_start(20_000), "old");
        write(&kv, day_start(20_030), "newer");
        let now = day_start(20_040);
        for _ in 0..100 {
            expiry().sweep_step(&kv, now).unwrap();
        }
        assert!(!kv.exists("old").unwrap());
        assert!(!kv.exists("newer").unwrap());
    }
}
