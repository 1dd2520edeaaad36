//! An in-process store for native tests of the domain crates.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::{KeyValue, Result, StoreError};

/// A thread-safe in-memory [`KeyValue`]; counters are stored as decimal text.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every key and value, in key order (for tests that inspect raw state).
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        self.lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>>> {
        self.entries
            .lock()
            .map_err(|_| StoreError("memory store poisoned".into()))
    }
}

impl KeyValue for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.lock()?.insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.lock()?.remove(key);
        Ok(())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.lock()?.contains_key(key))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        // One lock for all of them: atomic, as the trait promises.
        let mut map = self.lock()?;
        for (key, value) in entries {
            map.insert(key.clone(), value.clone());
        }
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let mut map = self.lock()?;
        let current = match map.get(key) {
            None => 0,
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| StoreError(format!("'{key}' is not a counter")))?,
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| StoreError(format!("counter '{key}' overflowed")))?;
        map.insert(key.to_string(), next.to_string().into_bytes());
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn increments_from_many_threads_all_count() {
        let store = Arc::new(MemoryStore::new());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        store.increment("c", 1).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.increment("c", 0).unwrap(), 800);
    }

    #[test]
    fn deleting_a_missing_key_is_fine_and_get_returns_none() {
        let store = MemoryStore::new();
        store.delete("nothing").unwrap();
        assert_eq!(store.get("nothing").unwrap(), None);
        assert!(!store.exists("nothing").unwrap());
    }
}
