//! The store every component shares, as the domain sees it.
//!
//! The platform runs on Spin's key-value store, which many component instances
//! use at once. A read-modify-write of one key races, and Spin's
//! compare-and-swap is not atomic on its real backends, so everything here is
//! built on two safe primitives only: the atomic `increment` and writes to
//! distinct keys.
//!
//! - [`Index`]: an append-only, newest-first list (an account's services, a
//!   service's events) — a sequence number from `increment` and one key per
//!   entry, so concurrent appends never lose each other and listing never
//!   scans the store.
//! - [`claim`]: "first caller wins" on a key, for uniqueness and idempotency.
//! - [`write_once`]: a value written by the first caller and read by all
//!   later ones, which take over if that caller died before writing it.
//! - [`Announcements`]: announce-then-verify between two writers whose
//!   changes exclude each other (Dekker's protocol on `increment`), with
//!   announcements that expire if their writer dies.
//! - counters ([`KeyValue::increment`]) for sequence numbers and claims.
//! - [`Prefetched`]: keys a request will read, fetched ahead in one
//!   `get_many` and then read from memory by whichever crate reads them.
//!
//! A counter key is only ever written through `increment`; its stored
//! encoding belongs to the backend (8 little-endian bytes on Spin's SQLite
//! store, decimal text on Redis). [`counter`] reads it with a plain `get`
//! and decodes either, so reading a counter never writes (an
//! `increment(key, 0)` would be a write transaction on SQLite and would
//! create the key on Redis).
//!
//! The batch operations ([`KeyValue::get_many`], [`KeyValue::set_many`],
//! [`KeyValue::delete_many`]) are `wasi:keyvalue/batch`: one round trip, and
//! on both of Spin's stores one atomic step (a SQLite transaction, Redis
//! `MGET`/`MSET`/`DEL`). The domain relies on `set_many` being atomic: the
//! keys of one `set_many` are all written or none is.
#![deny(missing_docs)]

mod announce;
mod expiry;
mod index;
mod memory;
mod once;
mod prefetch;
mod rate_limit;
mod recording;
mod window_counter;

pub use announce::{Announced, Announcements, ANNOUNCE_PREFIX, MAX_ANNOUNCED, WINDOW};
pub use expiry::{day_start, DailyExpiry, ExpirySlot};
pub use index::{Index, Page};
pub use memory::MemoryStore;
pub use once::{
    claim_value, value_key, write_once, write_once_by, Claim, Waiting, Written, MAX_TAKEOVERS,
};
pub use prefetch::Prefetched;
pub use rate_limit::{Admission, FixedWindow, BUCKETS};
pub use recording::{Operation, Recording};
pub use window_counter::{count_in_window, uncount_in_window};

#[cfg(test)]
mod counter_tests {
    use super::*;

    #[test]
    fn counters_read_in_either_backend_encoding() {
        assert_eq!(decode_counter(b"42"), Some(42));
        assert_eq!(decode_counter(b"-3"), Some(-3));
        assert_eq!(decode_counter(b"12345678"), Some(12_345_678));
        assert_eq!(decode_counter(&7i64.to_le_bytes()), Some(7));
        assert_eq!(decode_counter(&(-1i64).to_le_bytes()), Some(-1));
        assert_eq!(decode_counter(b"abc"), None);
        assert_eq!(decode_counter(b""), None);
    }

    #[test]
    fn reading_a_counter_never_creates_it() {
        let kv = MemoryStore::new();
        assert_eq!(counter(&kv, "c").unwrap(), 0);
        assert!(!kv.exists("c").unwrap());
        kv.increment("c", 5).unwrap();
        assert_eq!(counter(&kv, "c").unwrap(), 5);
    }
}

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failure of the store itself (unreachable, refused): retrying may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for qmarket_core::Error {
    fn from(e: StoreError) -> Self {
        qmarket_core::Error::Unavailable(format!(
            "the platform's store is unavailable, retry later ({})",
            e.0
        ))
    }
}

/// Keys and values to write together in one `set_many`.
pub type Entries = Vec<(String, Vec<u8>)>;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The operations of Spin's key-value store that qmarket relies on.
pub trait KeyValue {
    /// The value at `key`, or `None`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes `value` at `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> Result<()>;
    /// Whether `key` holds a value.
    fn exists(&self, key: &str) -> Result<bool>;
    /// Atomically adds `delta` to the counter at `key` (missing = 0) and
    /// returns the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64>;

    /// The values at `keys`, in order, in one round trip.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Writes every entry in one atomic step: all of them or none.
    /// Implementations must keep that promise; the default writes one by
    /// one and is only for stores that are atomic some other way.
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        entries
            .iter()
            .try_for_each(|(key, value)| self.set(key, value))
    }

    /// Removes every key (missing ones are fine) in one round trip.
    fn delete_many(&self, keys: &[String]) -> Result<()> {
        keys.iter().try_for_each(|key| self.delete(key))
    }
}

/// A borrowed store is a store (so wrappers such as [`Recording`] and
/// [`Prefetched`] can wrap one they do not own).
impl<T: KeyValue + ?Sized> KeyValue for &T {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        (**self).set(key, value)
    }
    fn delete(&self, key: &str) -> Result<()> {
        (**self).delete(key)
    }
    fn exists(&self, key: &str) -> Result<bool> {
        (**self).exists(key)
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        (**self).increment(key, delta)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        (**self).get_many(keys)
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        (**self).set_many(entries)
    }
    fn delete_many(&self, keys: &[String]) -> Result<()> {
        (**self).delete_many(keys)
    }
}

/// Reads the JSON record at `key`.
pub fn get_json<T: DeserializeOwned>(
    kv: &dyn KeyValue,
    key: &str,
) -> qmarket_core::Result<Option<T>> {
    match kv.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            qmarket_core::Error::Internal(format!("record at '{key}' is unreadable: {e}"))
        }),
    }
}

/// Writes `value` as JSON at `key`.
pub fn set_json<T: Serialize>(kv: &dyn KeyValue, key: &str, value: &T) -> qmarket_core::Result<()> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| qmarket_core::Error::Internal(format!("cannot encode '{key}': {e}")))?;
    kv.set(key, &bytes)?;
    Ok(())
}

/// Claims `key` for the caller: `true` for exactly one caller ever (the first
/// to increment it), `false` for everyone after. Claims are never released.
pub fn claim(kv: &dyn KeyValue, key: &str) -> Result<bool> {
    Ok(kv.increment(key, 1)? == 1)
}

/// The current value of the counter at `key` (0 when it was never touched),
/// read without writing: see [`decode_counter`].
pub fn counter(kv: &dyn KeyValue, key: &str) -> Result<i64> {
    match kv.get(key)? {
        None => Ok(0),
        Some(bytes) => decode_counter(&bytes)
            .ok_or_else(|| StoreError(format!("'{key}' does not hold a counter"))),
    }
}

/// A counter's value as a backend stored it: decimal text (Redis `INCRBY`,
/// [`MemoryStore`]) or 8 little-endian bytes (Spin's SQLite store). Text is
/// tried first; the two cannot be confused for any count below 3·10^18,
/// since 8 bytes that are all ASCII digits or `-` encode at least
/// 0x2d2d2d2d2d2d2d2d in little-endian.
pub fn decode_counter(bytes: &[u8]) -> Option<i64> {
    let text_like = !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'-');
    if text_like {
        if let Some(value) = std::str::from_utf8(bytes).ok().and_then(|s| s.parse().ok()) {
            return Some(value);
        }
    }
    <[u8; 8]>::try_from(bytes).ok().map(i64::from_le_bytes)
}
