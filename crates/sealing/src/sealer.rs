//! The sealer: AEAD encryption of short secrets into versioned text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use qmarket_core::{Error, Result};
use qmarket_store::KeyValue;

use crate::key::{self, KEY_LEN};

/// The prefix of every text sealed in the current format.
pub const SEALED_PREFIX: &str = "v1.";

/// ChaCha20-Poly1305's nonce length.
const NONCE_LEN: usize = 12;
/// ChaCha20-Poly1305's tag length.
const TAG_LEN: usize = 16;

/// Seals and opens upstream passwords (ChaCha20-Poly1305, random nonce per
/// seal, versioned text format).
#[derive(Clone)]
pub struct Sealer {
    key: [u8; KEY_LEN],
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    // The key must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer { .. }")
    }
}

impl Sealer {
    /// The key from the `encryption_key` variable (base64 of 32 bytes; a
    /// malformed one is an [`Error::Internal`] naming the variable, never
    /// echoing it), or, when that is `None`, a key generated once and kept in
    /// the store under [`crate::GENERATED_KEY`] (the first instance to claim
    /// it writes it; the others wait briefly and read it), with a warning on
    /// stderr once per instance.
    pub fn load(kv: &dyn KeyValue, configured_key: Option<&str>) -> Result<Sealer> {
        let key = match configured_key.filter(|k| !k.trim().is_empty()) {
            Some(text) => key::configured(text)?,
            None => key::generated(kv)?,
        };
        Ok(Sealer::from_key(&key))
    }

    /// A sealer with the raw 32-byte `key`.
    pub fn from_key(key: &[u8; KEY_LEN]) -> Sealer {
        Sealer {
            key: *key,
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// A sealer with a key of its own for `purpose` (e.g. `oauth-token`),
    /// derived from this one's (SHA-256 of the purpose and the key), so
    /// texts sealed for one purpose never open as another's.
    pub fn for_purpose(&self, purpose: &str) -> Sealer {
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        digest.update(b"qmarket sealing purpose\0");
        digest.update(purpose.as_bytes());
        digest.update([0]);
        digest.update(self.key);
        Sealer::from_key(&digest.finalize().into())
    }

    /// `plaintext` encrypted under a fresh random nonce, as
    /// `v1.<nonce>.<ciphertext>` (unpadded base64url).
    pub fn seal(&self, plaintext: &str) -> Result<String> {
        let sealed = self.seal_bytes(plaintext.as_bytes())?;
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        Ok(format!(
            "{SEALED_PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    /// The plaintext of a text [`Sealer::seal`] produced with the same key.
    /// A malformed, tampered-with or foreign-key text is an
    /// [`Error::Internal`] (stored data the platform cannot use), whose detail
    /// never includes the text.
    pub fn open(&self, sealed: &str) -> Result<String> {
        let unreadable =
            || Error::Internal("a sealed secret could not be opened (wrong key or damaged)".into());
        let rest = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(|| {
            Error::Internal("a sealed secret has an unknown format version".into())
        })?;
        let (nonce, ciphertext) = rest.split_once('.').ok_or_else(unreadable)?;
        let mut bytes = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| unreadable())?;
        if bytes.len() != NONCE_LEN {
            return Err(unreadable());
        }
        bytes.extend(
            URL_SAFE_NO_PAD
                .decode(ciphertext)
                .map_err(|_| unreadable())?,
        );
        let plaintext = self.open_bytes(&bytes).ok_or_else(unreadable)?;
        String::from_utf8(plaintext).map_err(|_| unreadable())
    }

    /// `plaintext` encrypted under a fresh random nonce, in its most
    /// compact form: the nonce, then the ciphertext with its tag
    /// ([`Sealer::SEAL_OVERHEAD`] bytes more than `plaintext`).
    pub fn seal_bytes(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        qmarket_core::id::random_bytes(&mut nonce)?;
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| Error::Internal("sealing failed".into()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend(ciphertext);
        Ok(sealed)
    }

    /// The plaintext of bytes [`Sealer::seal_bytes`] produced with the same
    /// key; `None` for anything else (forged, damaged, another key's).
    pub fn open_bytes(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < Self::SEAL_OVERHEAD {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .ok()
    }

    /// How many bytes [`Sealer::seal_bytes`] adds: the nonce and the tag.
    pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GENERATED_KEY;
    use qmarket_http::StatusOf;
    use qmarket_store::MemoryStore;
    use std::sync::Arc;

    const KEY_A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const KEY_B: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    #[test]
    fn a_sealed_password_opens_to_itself_and_does_not_contain_it() {
        // Setup
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        // Exec
        let sealed = sealer.seal("correct horse battery staple").unwrap();
        // Check
        assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
        assert!(!sealed.contains("horse"));
        assert_eq!(
            sealer.open(&sealed).unwrap(),
            "correct horse battery staple"
        );
    }

    #[test]
    fn sealed_bytes_open_only_whole_and_under_their_key() {
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        let other = Sealer::load(&MemoryStore::new(), Some(KEY_B)).unwrap();
        let sealed = sealer.seal_bytes(b"claims").unwrap();
        assert_eq!(sealed.len(), 6 + Sealer::SEAL_OVERHEAD);
        assert_eq!(sealer.open_bytes(&sealed).unwrap(), b"claims");
        assert_eq!(other.open_bytes(&sealed), None);
        let mut damaged = sealed.clone();
        damaged[NONCE_LEN] ^= 1;
        assert_eq!(sealer.open_bytes(&damaged), None);
        assert_eq!(sealer.open_bytes(&sealed[..sealed.len() - 1]), None);
        assert_eq!(sealer.open_bytes(&[]), None);
    }

    #[test]
    fn sealing_twice_gives_different_texts() {
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        assert_ne!(sealer.seal("pw").unwrap(), sealer.seal("pw").unwrap());
    }

    #[test]
    fn a_text_sealed_under_another_key_does_not_open() {
        let a = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        let b = Sealer::load(&MemoryStore::new(), Some(KEY_B)).unwrap();
        let err = b.open(&a.seal("pw").unwrap()).unwrap_err();
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn a_tampered_or_malformed_text_does_not_open() {
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        let sealed = sealer.seal("pw").unwrap();
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [
            tampered.as_str(),
            "pw",
            "v1.",
            "v1.abc",
            "v2.AAAA.AAAA",
            "v1.!!.!!",
            "",
        ] {
            assert!(sealer.open(bad).is_err(), "{bad:?} opened");
        }
    }

    #[test]
    fn a_malformed_configured_key_names_the_variable_without_echoing_it() {
        for bad in [
            "not base64!",
            "c2hvcnQ=",
            "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
        ] {
            let err = Sealer::load(&MemoryStore::new(), Some(bad)).unwrap_err();
            assert_eq!(err.status(), 500);
            let text = err.to_string();
            assert!(text.contains("encryption_key"), "{text}");
            assert!(!text.contains(bad), "{text}");
        }
    }

    #[test]
    fn without_a_configured_key_one_is_generated_once_and_kept_apart() {
        // Setup
        let kv = MemoryStore::new();
        // Exec
        let first = Sealer::load(&kv, None).unwrap();
        let second = Sealer::load(&kv, Some("  ")).unwrap();
        // Check
        let sealed = first.seal("pw").unwrap();
        assert_eq!(second.open(&sealed).unwrap(), "pw");
        assert!(kv.exists(&qmarket_store::value_key(GENERATED_KEY)).unwrap());
    }

    #[test]
    fn a_configured_key_does_not_touch_the_store() {
        let kv = MemoryStore::new();
        Sealer::load(&kv, Some(KEY_A)).unwrap();
        assert!(kv.dump().is_empty());
    }

    #[test]
    fn instances_racing_to_generate_the_key_all_end_up_with_the_same_one() {
        // Setup
        let kv = Arc::new(MemoryStore::new());
        // Exec
        let sealers: Vec<Sealer> = (0..16)
            .map(|_| {
                let kv = kv.clone();
                std::thread::spawn(move || Sealer::load(&*kv, None).unwrap())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        // Check
        let sealed = sealers[0].seal("pw").unwrap();
        for s in &sealers {
            assert_eq!(s.open(&sealed).unwrap(), "pw");
        }
    }

    #[test]
    fn a_claimant_that_died_before_writing_the_key_is_taken_over() {
        let kv = MemoryStore::new();
        kv.increment(GENERATED_KEY, 1).unwrap();
        let first = Sealer::load(&kv, None).unwrap();
        let second = Sealer::load(&kv, None).unwrap();
        assert_eq!(second.open(&first.seal("pw").unwrap()).unwrap(), "pw");
    }

    #[test]
    fn a_key_whose_every_writer_died_gets_a_retryable_error() {
        let kv = MemoryStore::new();
        kv.increment(GENERATED_KEY, 1).unwrap();
        for generation in 1..=qmarket_store::MAX_TAKEOVERS {
            kv.increment(&format!("{GENERATED_KEY}/takeover/{generation}"), 1)
                .unwrap();
        }
        let quick = qmarket_store::Waiting {
            max: std::time::Duration::from_millis(20),
            first_step: std::time::Duration::from_millis(1),
        };
        let err = crate::key::generated_waiting(&kv, quick).unwrap_err();
        assert_eq!(err.status(), 503);
    }

    #[test]
    fn a_purpose_key_opens_its_own_texts_only() {
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_A)).unwrap();
        let tokens = sealer.for_purpose("oauth-token");
        let sealed = tokens.seal("claims").unwrap();
        assert_eq!(tokens.open(&sealed).unwrap(), "claims");
        assert!(sealer.open(&sealed).is_err());
        assert!(sealer.for_purpose("other").open(&sealed).is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let sealer = Sealer::load(&MemoryStore::new(), Some(KEY_B)).unwrap();
        assert_eq!(format!("{sealer:?}"), "Sealer { .. }");
    }
}
