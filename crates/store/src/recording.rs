//! A store that keeps a log of the operations made on it, for tests that
//! count round trips and writes: each call is one entry, a batch call too.

use std::sync::Mutex;

use crate::{KeyValue, MemoryStore, Result};

/// One operation as [`Recording`] logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Its name: `get`, `get_many`, `exists`, `set`, `set_many`, `delete`,
    /// `delete_many` or `increment`.
    pub name: &'static str,
    /// The keys it named, in order.
    pub keys: Vec<String>,
}

impl Operation {
    /// Whether it changes the store (one write round trip).
    pub fn writes(&self) -> bool {
        !matches!(self.name, "get" | "get_many" | "exists")
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.keys.join(","))
    }
}

/// A [`MemoryStore`] (or another store) that logs every operation.
#[derive(Debug, Default)]
pub struct Recording<S = MemoryStore> {
    /// The store operations go to.
    pub inner: S,
    log: Mutex<Vec<Operation>>,
}

impl<S: KeyValue> Recording<S> {
    /// Logs the operations made on `inner`.
    pub fn new(inner: S) -> Self {
        Recording {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    /// The operations so far, oldest first.
    pub fn operations(&self) -> Vec<Operation> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// The operations that wrote.
    pub fn writes(&self) -> Vec<Operation> {
        self.operations()
            .into_iter()
            .filter(Operation::writes)
            .collect()
    }

    /// The operations that read.
    pub fn reads(&self) -> Vec<Operation> {
        self.operations()
            .into_iter()
            .filter(|op| !op.writes())
            .collect()
    }

    /// Forgets the operations so far.
    pub fn clear(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
    }

    fn note<K: AsRef<str>>(&self, name: &'static str, keys: &[K]) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Operation {
                name,
                keys: keys.iter().map(|k| k.as_ref().to_string()).collect(),
            });
        }
    }
}

impl<S: KeyValue> KeyValue for Recording<S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.note("get", &[key]);
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.note("set", &[key]);
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.note("delete", &[key]);
        self.inner.delete(key)
    }

    fn exists(&self, key: &str) -> Result<bool> {
        self.note("exists", &[key]);
        self.inner.exists(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        self.note("increment", &[key]);
        self.inner.increment(key, delta)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.note("get_many", keys);
        self.inner.get_many(keys)
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        self.note("set_many", &keys);
        self.inner.set_many(entries)
    }

    fn delete_many(&self, keys: &[String]) -> Result<()> {
        self.note("delete_many", keys);
        self.inner.delete_many(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_one_entry_with_its_keys() {
        let kv: Recording = Recording::default();
        kv.set_many(&[("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())])
            .unwrap();
        kv.increment("n", 1).unwrap();
        kv.get_many(&["a".into(), "b".into()]).unwrap();
        let ops: Vec<String> = kv.operations().iter().map(ToString::to_string).collect();
        assert_eq!(ops, ["set_many a,b", "increment n", "get_many a,b"]);
        assert_eq!(kv.writes().len(), 2);
        assert_eq!(kv.reads().len(), 1);
        kv.clear();
        assert!(kv.operations().is_empty());
    }
}
