//! Reads fetched ahead in one round trip.
//!
//! A request often knows early which keys it will read (an application, a
//! service, a subscription pointer) while the code that reads them lives in
//! several crates, each with its own `get`. [`Prefetched`] wraps the store:
//! [`Prefetched::prefetch`] reads a set of keys with one `get_many`, and the
//! next read of each of those keys is answered from memory, wherever it is
//! made. A value is handed out once: a second read of the key goes to the
//! store, so code that polls a key for another writer's value sees it
//! arrive. Writes go to the store and are kept for the next read, so a
//! request reads its own writes; a counter's `increment` forgets the key
//! (the store alone knows the new encoding). Nothing is kept between
//! requests.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::{KeyValue, Result};

/// A store whose prefetched keys are read from memory.
pub struct Prefetched<'a> {
    inner: &'a dyn KeyValue,
    known: RefCell<HashMap<String, Option<Vec<u8>>>>,
}

impl<'a> Prefetched<'a> {
    /// Wraps `inner`; nothing is fetched yet.
    pub fn new(inner: &'a dyn KeyValue) -> Self {
        Prefetched {
            inner,
            known: RefCell::new(HashMap::new()),
        }
    }

    /// Reads every key of `keys` not yet known with one `get_many`.
    pub fn prefetch<S: AsRef<str>>(&self, keys: &[S]) -> Result<()> {
        let missing: Vec<String> = {
            let known = self.known.borrow();
            keys.iter()
                .map(|k| k.as_ref())
                .filter(|k| !known.contains_key(*k))
                .map(str::to_string)
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let values = self.inner.get_many(&missing)?;
        self.known
            .borrow_mut()
            .extend(missing.into_iter().zip(values));
        Ok(())
    }

    fn remember(&self, key: &str, value: Option<Vec<u8>>) {
        self.known.borrow_mut().insert(key.to_string(), value);
    }

    fn forget(&self, key: &str) {
        self.known.borrow_mut().remove(key);
    }
}

impl KeyValue for Prefetched<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        if let Some(value) = self.known.borrow_mut().remove(key) {
            return Ok(value);
        }
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.inner.set(key, value)?;
        self.remember(key, Some(value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key)?;
        self.remember(key, None);
        Ok(())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        if let Some(value) = self.known.borrow_mut().remove(key) {
            return Ok(value.is_some());
        }
        self.inner.exists(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        self.forget(key);
        self.inner.increment(key, delta)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.prefetch(keys)?;
        let mut known = self.known.borrow_mut();
        Ok(keys.iter().map(|key| known.remove(key).flatten()).collect())
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        self.inner.set_many(entries)?;
        for (key, value) in entries {
            self.remember(key, Some(value.clone()));
        }
        Ok(())
    }

    fn delete_many(&self, keys: &[String]) -> Result<()> {
        self.inner.delete_many(keys)?;
        for key in keys {
            self.remember(key, None);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recording;

    fn recording() -> Recording {
        let store: Recording = Recording::default();
        store.inner.set("a", b"1").unwrap();
        store.inner.set("b", b"2").unwrap();
        store
    }

    #[test]
    fn prefetched_keys_present_or_missing_are_read_in_one_round_trip() {
        let store = recording();
        let kv = Prefetched::new(&store);
        kv.prefetch(&["a", "b", "missing"]).unwrap();
        assert_eq!(kv.get("a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(kv.get("missing").unwrap(), None);
        assert_eq!(
            kv.get_many(&["b".to_string()]).unwrap(),
            [Some(b"2".to_vec())]
        );
        assert_eq!(store.reads().len(), 1);
        assert_eq!(kv.get("other").unwrap(), None);
        assert_eq!(store.reads().len(), 2);
    }

    #[test]
    fn a_second_read_sees_what_another_writer_wrote_since() {
        let store = recording();
        let kv = Prefetched::new(&store);
        kv.prefetch(&["later"]).unwrap();
        assert_eq!(kv.get("later").unwrap(), None);
        store.inner.set("later", b"written").unwrap();
        assert_eq!(kv.get("later").unwrap(), Some(b"written".to_vec()));
    }

    #[test]
    fn a_request_reads_its_own_writes() {
        let store = recording();
        let kv = Prefetched::new(&store);
        kv.prefetch(&["a", "b", "c"]).unwrap();
        kv.set("a", b"new").unwrap();
        kv.delete("b").unwrap();
        kv.set_many(&[("c".to_string(), b"3".to_vec())]).unwrap();
        assert_eq!(kv.get("a").unwrap(), Some(b"new".to_vec()));
        assert_eq!(kv.get("b").unwrap(), None);
        assert_eq!(kv.get("c").unwrap(), Some(b"3".to_vec()));
        assert_eq!(store.inner.get("a").unwrap(), Some(b"new".to_vec()));
        assert_eq!(store.inner.get("b").unwrap(), None);
    }

    #[test]
    fn an_incremented_counter_is_read_from_the_store_again() {
        let store = recording();
        let kv = Prefetched::new(&store);
        kv.prefetch(&["n"]).unwrap();
        assert_eq!(kv.increment("n", 2).unwrap(), 2);
        assert_eq!(crate::counter(&kv, "n").unwrap(), 2);
    }
}
