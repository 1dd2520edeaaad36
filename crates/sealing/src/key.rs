//! Where the sealing key comes from: the configured variable, or one
//! generated once and kept in the store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use qmarket_core::{Error, Result};
use qmarket_store::{claim, KeyValue};

/// The Spin variable holding the key (base64 of 32 bytes).
pub const ENCRYPTION_KEY_VARIABLE: &str = "encryption_key";

/// The store key of the generated key (base64 text), used only when no key
/// is configured.
pub const GENERATED_KEY: &str = "sealing/generated-key";

/// The claim counter deciding which instance generates the key.
pub const GENERATED_KEY_CLAIM: &str = "sealing/generated-key/claim";

/// The length of a key in bytes.
pub(crate) const KEY_LEN: usize = 32;

/// How long an instance that lost the claim waits for the winner's key.
const WAIT_FOR_WINNER: Duration = Duration::from_secs(3);

/// How often it looks while waiting.
const POLL_EVERY: Duration = Duration::from_millis(10);

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

/// The key kept in the store, generating it when no instance has yet.
pub(crate) fn generated(kv: &dyn KeyValue) -> Result<[u8; KEY_LEN]> {
    if let Some(key) = stored(kv)? {
        warn_once();
        return Ok(key);
    }
    if claim(kv, GENERATED_KEY_CLAIM)? {
        let mut key = [0u8; KEY_LEN];
        qmarket_core::id::random_bytes(&mut key)?;
        let text = base64::engine::general_purpose::STANDARD.encode(key);
        kv.set(GENERATED_KEY, text.as_bytes())?;
        warn_once();
        return Ok(key);
    }
    // Another instance claimed it first: its key appears in a moment.
    let mut waited = Duration::ZERO;
    while waited < WAIT_FOR_WINNER {
        std::thread::sleep(POLL_EVERY);
        waited += POLL_EVERY;
        if let Some(key) = stored(kv)? {
            warn_once();
            return Ok(key);
        }
    }
    Err(Error::Unavailable(format!(
        "the generated encryption key is not in the store yet; retry, or configure the '{ENCRYPTION_KEY_VARIABLE}' variable"
    )))
}

fn stored(kv: &dyn KeyValue) -> Result<Option<[u8; KEY_LEN]>> {
    match kv.get(GENERATED_KEY)? {
        None => Ok(None),
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(decode)
            .map(Some)
            .ok_or_else(|| Error::Internal(format!("the key at '{GENERATED_KEY}' is unreadable"))),
    }
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
