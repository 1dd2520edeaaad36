//! Sealing of upstream passwords at rest.
//!
//! A provider's upstream password must be usable by the gateway (it sends it
//! as HTTP Basic) yet never readable from the store alone, so it is kept
//! encrypted with an AEAD (ChaCha20-Poly1305) under a platform key and opened
//! only when a request is forwarded.
//!
//! The sealed text is `v1.<base64url(nonce)>.<base64url(ciphertext+tag)>`:
//! the version prefix lets a later format (or key rotation) coexist with
//! values already stored, and a fresh random nonce per seal means equal
//! passwords never seal to equal texts.
//!
//! The key comes from the `encryption_key` variable (base64 of 32 bytes).
//! Without one, a key is generated once and kept in the store under
//! [`GENERATED_KEY`], apart from every service record — convenient for local
//! use, but whoever can read the store can then read that key too.
//!
//! ```
//! use qmarket_sealing::Sealer;
//! use qmarket_store::MemoryStore;
//!
//! let kv = MemoryStore::new();
//! let sealer = Sealer::load(&kv, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
//! let sealed = sealer.seal("s3cret").unwrap();
//! assert!(!sealed.contains("s3cret"));
//! assert_eq!(sealer.open(&sealed).unwrap(), "s3cret");
//! ```
#![deny(missing_docs)]

mod key;
mod sealer;

pub use key::{ENCRYPTION_KEY_VARIABLE, GENERATED_KEY};
pub use sealer::{Sealer, SEALED_PREFIX};
