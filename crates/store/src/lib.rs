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
//! - counters ([`KeyValue::increment`]) for totals.
//!
//! A counter key is only ever touched through `increment` (read it with a
//! delta of 0): its stored encoding belongs to the backend.
#![deny(missing_docs)]

mod index;
mod memory;
mod once;

pub use index::{Index, Page};
pub use memory::MemoryStore;
pub use once::{write_once, Waiting, Written};

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

/// The current value of the counter at `key` (0 when it was never touched).
pub fn counter(kv: &dyn KeyValue, key: &str) -> Result<i64> {
    kv.increment(key, 0)
}
