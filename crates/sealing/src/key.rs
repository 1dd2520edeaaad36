//! Where the sealing key comes from: the configured variable, or one
//! generated once and kept in the store.

use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use qmarket_core::{Error, Result};
use qmarket_store::{write_once, KeyValue, Waiting, Written};

/// The Spin variable holding the key (base64 of 32 bytes).
pub const ENCRYPTION_KEY_VARIABLE: &str = "encryption_key";

/// The store key of the generated key, used only when no key is
/// configured: a [`write_once`] key (its claim counter; the key itself,
/// base64 text as JSON, is at `{GENERATED_KEY}/value`).
pub const GENERATED_KEY: &str = "sealing/generated-key";

/// The length of a key in bytes.
pub(crate) const KEY_LEN: usize = 32;

/// Whether this instance has already warned about the generated key.
static WARNED: AtomicBool = AtomicBool::new(false);

/// The key configured in the variable: a malformed one is an operator
/// error, reported by name without echoing the value.
pub(crate) fn configured(text: &str) -> Result<[u8; KEY_LEN]> {
    decode(text.trim()).ok_or_else(|| {
        Error::Internal(format!(
            "the '{ENCRYPTION_KEY_VARIABLE}' variable must be the base64 encoding of exactly {KEY_LEN} bytes"
        ))
    })
}

/// The key kept in the store, generating it when no instance has yet: a
/// [`write_once`] value, so an instance that dies between claiming the key
/// and writing it is taken over instead of leaving every instance without
/// a key.
pub(crate) fn generated(kv: &dyn KeyValue) -> Result<[u8; KEY_LEN]> {
    generated_waiting(kv, Waiting::default())
}

/// [`generated`], waiting for another instance's key as `waiting` says.
pub(crate) fn generated_waiting(kv: &dyn KeyValue, waiting: Waiting) -> Result<[u8; KEY_LEN]> {
    let written = write_once(kv, GENERATED_KEY, waiting, || {
        let mut key = [0u8; KEY_LEN];
        qmarket_core::id::random_bytes(&mut key)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(key))
    })?;
    let text = written.map(Written::into_value).ok_or_else(|| {
        Error::Unavailable(format!(
            "the generated encryption key is not in the store yet; retry, or configure the '{ENCRYPTION_KEY_VARIABLE}' variable"
        ))
    })?;
    warn_once();
    decode(&text)
        .ok_or_else(|| Error::Internal(format!("the key at '{GENERATED_KEY}' is unreadable")))
}

fn decode(text: &str) -> Option<[u8; KEY_LEN]> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes.as_slice()).ok())
}

fn warn_once() {
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "warning: no '{ENCRYPTION_KEY_VARIABLE}' configured; upstream passwords are sealed with a key kept in the store itself. Configure the variable for any real deployment."
        );
    }
}
