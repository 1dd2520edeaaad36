//! Counters of requests in a time window, on `increment` only, that do not
//! pile up.
//!
//! A window's counter is a key of its own (the window's number is part of
//! it): the request that creates it (its increment returns 1) registers it
//! for deletion with a [`DailyExpiry`] and runs one sweep step, so counters
//! of past windows are deleted without anyone scanning for them. Concurrent
//! requests never read, modify and write back: each one's increment gives
//! it a distinct position, so a limit of N admits exactly N.

use qmarket_core::Timestamp;

use crate::{DailyExpiry, KeyValue, Result};

/// Counts one request in the window counter `key` and returns its position
/// in the window (1 for the first). The first request of a window registers
/// `key` with `expiry`, which must keep it at least until the window ends.
pub fn count_in_window(
    kv: &dyn KeyValue,
    key: &str,
    expiry: &DailyExpiry,
    now: Timestamp,
) -> Result<u64> {
    let count = kv.increment(key, 1)?;
    if count == 1 {
        let (slot, value) = expiry.slot(kv, now, &[key])?.entry;
        kv.set(&slot, &value)?;
        expiry.sweep_step(kv, now)?;
    }
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Takes a counted request back out of `key` (a request the limit admitted
/// but that does not count after all).
pub fn uncount_in_window(kv: &dyn KeyValue, key: &str) -> Result<()> {
    kv.increment(key, -1).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[test]
    fn each_request_gets_the_next_position_and_a_take_back_frees_one() {
        let kv = MemoryStore::new();
        let expiry = DailyExpiry::new("expiry/test-window", 0);
        let now = Timestamp::from_millis(1_800_000_000_000);
        assert_eq!(count_in_window(&kv, "w/1", &expiry, now).unwrap(), 1);
        assert_eq!(count_in_window(&kv, "w/1", &expiry, now).unwrap(), 2);
        uncount_in_window(&kv, "w/1").unwrap();
        assert_eq!(count_in_window(&kv, "w/1", &expiry, now).unwrap(), 2);
        assert_eq!(count_in_window(&kv, "w/2", &expiry, now).unwrap(), 1);
    }

    #[test]
    fn a_window_counter_is_deleted_once_its_expiry_has_passed() {
        let kv = MemoryStore::new();
        let expiry = DailyExpiry::new("expiry/test-window", 0);
        let day = Timestamp::from_millis(1_800_000_000_000);
        count_in_window(&kv, "w/old", &expiry, day).unwrap();
        assert!(kv.get("w/old").unwrap().is_some());
        // Requests two days later sweep the old day's registrations.
        let later = day.plus_seconds(2 * 86_400);
        for n in 0..10 {
            count_in_window(&kv, &format!("w/new/{n}"), &expiry, later).unwrap();
        }
        assert_eq!(kv.get("w/old").unwrap(), None);
    }
}
