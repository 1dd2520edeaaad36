//! Secrets: generation, one-way hashing for lookup, constant-time comparison.
//!
//! Token values and consumer secrets carry 256 random bits, so a plain SHA-256
//! is a sound lookup hash: it cannot be brute-forced, and the stored hash
//! reveals nothing usable.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::id::random_bytes;
use crate::Result;

/// A secret value (token, consumer secret, password): shown where the
/// platform means to show it (serialised as the plain string, once, at
/// creation), never in a `Debug` rendering, so it cannot reach a log
/// through `{:?}`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the few places that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

/// A new secret: `prefix` then 256 random bits in unpadded base64url.
pub fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Hex SHA-256 of `value`: how secrets are stored and looked up.
pub fn hash(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Whether `value` hashes to `expected_hash`, compared in constant time.
pub fn verify(value: &str, expected_hash: &str) -> bool {
    constant_time_eq(hash(value).as_bytes(), expected_hash.as_bytes())
}

/// Byte-wise equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_but_serialises_as_itself() {
        let s = Secret::new("qmp_value");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"qmp_value\"");
        let back: Secret = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(back.expose(), "x");
    }

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let a = new_secret("qmp_").unwrap();
        let b = new_secret("qmp_").unwrap();
        assert!(a.starts_with("qmp_"));
        assert_eq!(a.len(), 4 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn a_secret_verifies_against_its_hash_only() {
        let s = new_secret("x").unwrap();
        let h = hash(&s);
        assert!(verify(&s, &h));
        assert!(!verify("guess", &h));
        assert!(!h.contains(&s));
    }

    #[test]
    fn sha256_of_abc_is_the_known_digest() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
