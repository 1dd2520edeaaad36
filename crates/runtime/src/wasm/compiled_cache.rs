//! Compiled components on disk, so an execution in another process (or
//! after a restart) does not compile `program.wasm` again.
//!
//! A file is `<key>.cwasm`, the key a SHA-256 over the engine's
//! compatibility hash and the component's bytes: another wasmtime or other
//! engine settings give another key, and wasmtime checks the file's header
//! again when loading it.
//!
//! Loading a compiled file runs its native code, so the directory must be
//! one only the platform writes: never inside the service's unpacked
//! archive, whose files the provider chose.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// The cache key of `wasm` compiled by `engine`, as hex.
pub(crate) fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut digest = DigestHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut digest);
    let mut digest = digest.0;
    digest.update(wasm);
    digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Feeds what a [`Hash`] impl writes into a SHA-256, which (unlike the
/// std hashers) is the same in every process and build.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(std::array::from_fn(|i| digest[i]))
    }
}

fn path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.cwasm"))
}

/// The compiled component of `key`, if the cache holds a loadable one.
pub(crate) fn load(engine: &Engine, dir: &Path, key: &str) -> Option<Component> {
    let path = path(dir, key);
    if !path.is_file() {
        return None;
    }
    // SAFETY: files in the cache directory are written by `store` below from
    // `Component::serialize` of an engine whose compatibility hash is part
    // of the key, and only the platform writes that directory (see the
    // module docs); wasmtime still checks the header and refuses a file of
    // other settings, and then the caller compiles afresh.
    unsafe { Component::deserialize_file(engine, &path) }.ok()
}

/// Writes `component` under `key`; a cache that cannot be written only
/// costs a compilation later, so failures are ignored.
pub(crate) fn store(dir: &Path, key: &str, component: &Component) {
    let Ok(bytes) = component.serialize() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Written aside and renamed, so a concurrent reader never sees half a file.
    let partial = dir.join(format!(".{key}.{}.partial", std::process::id()));
    if std::fs::write(&partial, bytes).is_ok() && std::fs::rename(&partial, path(dir, key)).is_err()
    {
        let _ = std::fs::remove_file(&partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_the_bytes_and_is_stable() {
        let engine = Engine::default();
        assert_eq!(key(&engine, b"a"), key(&engine, b"a"));
        assert_ne!(key(&engine, b"a"), key(&engine, b"b"));
        assert_eq!(key(&engine, b"a").len(), 64);
    }

    #[test]
    fn the_key_depends_on_the_engine_settings() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert_ne!(key(&Engine::default(), b"a"), key(&other, b"a"));
    }
}
