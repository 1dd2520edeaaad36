//! [`KeyValue`] on Spin's store through `wasi:keyvalue`, whose `atomics`
//! interface gives the atomic increment the domain builds on.

use qmarket_store::{KeyValue, Result, StoreError};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};

/// An open bucket of the Spin key-value store.
pub struct SpinStore {
    bucket: store::Bucket,
}

fn store_error(e: store::Error) -> StoreError {
    StoreError(match e {
        store::Error::NoSuchStore => "no such store".into(),
        store::Error::AccessDenied => "access denied".into(),
        store::Error::Other(detail) => detail,
    })
}

impl SpinStore {
    /// Opens the store labelled `label` (listed in the component's
    /// `key_value_stores`).
    pub fn open(label: &str) -> Result<Self> {
        store::open(label)
            .map(|bucket| SpinStore { bucket })
            .map_err(store_error)
    }
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.bucket.get(key).map_err(store_error)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.bucket.set(key, value).map_err(store_error)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.bucket.delete(key).map_err(store_error)
    }

    fn exists(&self, key: &str) -> Result<bool> {
        self.bucket.exists(key).map_err(store_error)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        atomics::increment(&self.bucket, key, delta).map_err(store_error)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let found = batch::get_many(&self.bucket, keys).map_err(store_error)?;
        // The answer is (key, value) pairs; match them to the keys asked,
        // whatever order a store returns them in.
        let by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            found.into_iter().collect();
        Ok(keys
            .iter()
            .map(|key| by_key.get(key).cloned().flatten())
            .collect())
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        batch::set_many(&self.bucket, entries).map_err(store_error)
    }

    fn delete_many(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        batch::delete_many(&self.bucket, keys).map_err(store_error)
    }
}
