//! `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2` on the
//! same stores. The outer `Result` of each function traps; the inner one is
//! the error the guest sees.

use super::{KvError, Store};
use crate::bindings::fermyon::spin::key_value as spin_kv;
use crate::bindings::wasi::keyvalue::{atomics, batch, store as wasi_kv};
use crate::request_stats::{RequestStats, StoreOp};
use crate::state::RequestState;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Resource;
use wasmtime::Result;

/// An open store (Spin `store`, WASI `bucket`).
pub struct StoreHandle {
    store: Arc<dyn Store>,
}

/// A compare-and-swap in progress: the value seen when it was created.
pub struct CasHandle {
    store: Arc<dyn Store>,
    key: String,
    seen: Option<Vec<u8>>,
}

impl From<KvError> for spin_kv::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => Self::NoSuchStore,
            KvError::AccessDenied => Self::AccessDenied,
            KvError::Other(m) => Self::Other(m),
        }
    }
}

impl From<KvError> for wasi_kv::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => Self::NoSuchStore,
            KvError::AccessDenied => Self::AccessDenied,
            KvError::Other(m) => Self::Other(m),
        }
    }
}

impl RequestState {
    fn open_store(&mut self, label: &str) -> Result<Result<Resource<StoreHandle>, KvError>> {
        match self.key_value.open(label) {
            Ok(store) => Ok(Ok(self.table.push(StoreHandle { store })?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn store_of(&self, handle: &Resource<StoreHandle>) -> Result<Arc<dyn Store>> {
        Ok(self.table.get(handle)?.store.clone())
    }
}

/// Runs one store operation, counted in the request's `stats`.
async fn measured<T>(stats: &RequestStats, op: StoreOp, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let outcome = work.await;
    stats.store(op, started.elapsed());
    outcome
}

impl spin_kv::Host for RequestState {}

impl spin_kv::HostStore for RequestState {
    async fn open(
        &mut self,
        label: String,
    ) -> Result<Result<Resource<StoreHandle>, spin_kv::Error>> {
        Ok(self.open_store(&label)?.map_err(Into::into))
    }

    async fn get(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<Option<Vec<u8>>, spin_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Get, store.get(&key))
            .await
            .map_err(Into::into))
    }

    async fn set(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> Result<Result<(), spin_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Set, store.set(&key, &value))
            .await
            .map_err(Into::into))
    }

    async fn delete(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<(), spin_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Delete, store.delete(&key))
            .await
            .map_err(Into::into))
    }

    async fn exists(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<bool, spin_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Exists, store.exists(&key))
            .await
            .map_err(Into::into))
    }

    async fn get_keys(
        &mut self,
        this: Resource<StoreHandle>,
    ) -> Result<Result<Vec<String>, spin_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::GetKeys, store.get_keys())
            .await
            .map_err(Into::into))
    }

    async fn drop(&mut self, this: Resource<StoreHandle>) -> Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl wasi_kv::Host for RequestState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> Result<Result<Resource<StoreHandle>, wasi_kv::Error>> {
        Ok(self.open_store(&identifier)?.map_err(Into::into))
    }
}

impl wasi_kv::HostBucket for RequestState {
    async fn get(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Get, store.get(&key))
            .await
            .map_err(Into::into))
    }

    async fn set(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> Result<Result<(), wasi_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Set, store.set(&key, &value))
            .await
            .map_err(Into::into))
    }

    async fn delete(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<(), wasi_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Delete, store.delete(&key))
            .await
            .map_err(Into::into))
    }

    async fn exists(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<bool, wasi_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::Exists, store.exists(&key))
            .await
            .map_err(Into::into))
    }

    async fn list_keys(
        &mut self,
        this: Resource<StoreHandle>,
        _cursor: Option<String>,
    ) -> Result<Result<wasi_kv::KeyResponse, wasi_kv::Error>> {
        let store = self.store_of(&this)?;
        Ok(measured(&self.stats, StoreOp::GetKeys, store.get_keys())
            .await
            .map(|keys| wasi_kv::KeyResponse { keys, cursor: None })
            .map_err(Into::into))
    }

    async fn drop(&mut self, this: Resource<StoreHandle>) -> Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl atomics::Host for RequestState {
    async fn increment(
        &mut self,
        bucket: Resource<StoreHandle>,
        key: String,
        delta: i64,
    ) -> Result<Result<i64, wasi_kv::Error>> {
        let store = self.store_of(&bucket)?;
        let counted = measured(
            &self.stats,
            StoreOp::Increment,
            store.increment(&key, delta),
        )
        .await;
        if counted.is_ok() && store.defers_increment_syncs() {
            self.gate.note(&store);
        }
        Ok(counted.map_err(Into::into))
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> Result<Result<(), atomics::CasError>> {
        let cas = self.table.delete(cas)?;
        let swapped = measured(
            &self.stats,
            StoreOp::Swap,
            cas.store
                .compare_and_swap(&cas.key, cas.seen.as_deref(), &value),
        )
        .await;
        match swapped {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Hand back a fresh CAS on the current value so the guest can retry.
                let seen =
                    match measured(&self.stats, StoreOp::CasRead, cas.store.get(&cas.key)).await {
                        Ok(seen) => seen,
                        Err(e) => return Ok(Err(atomics::CasError::StoreError(e.into()))),
                    };
                let retry = self.table.push(CasHandle {
                    store: cas.store,
                    key: cas.key,
                    seen,
                })?;
                Ok(Err(atomics::CasError::CasFailed(retry)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(e.into()))),
        }
    }
}

impl atomics::HostCas for RequestState {
    async fn new(
        &mut self,
        bucket: Resource<StoreHandle>,
        key: String,
    ) -> Result<Result<Resource<CasHandle>, wasi_kv::Error>> {
        let store = self.store_of(&bucket)?;
        let seen = match measured(&self.stats, StoreOp::CasRead, store.get(&key)).await {
            Ok(seen) => seen,
            Err(e) => return Ok(Err(e.into())),
        };
        Ok(Ok(self.table.push(CasHandle { store, key, seen })?))
    }

    async fn current(
        &mut self,
        this: Resource<CasHandle>,
    ) -> Result<Result<Option<Vec<u8>>, wasi_kv::Error>> {
        Ok(Ok(self.table.get(&this)?.seen.clone()))
    }

    async fn drop(&mut self, this: Resource<CasHandle>) -> Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl batch::Host for RequestState {
    async fn get_many(
        &mut self,
        bucket: Resource<StoreHandle>,
        keys: Vec<String>,
    ) -> Result<Result<Vec<(String, Option<Vec<u8>>)>, wasi_kv::Error>> {
        let store = self.store_of(&bucket)?;
        Ok(
            measured(&self.stats, StoreOp::GetMany, store.get_many(keys))
                .await
                .map_err(Into::into),
        )
    }

    async fn set_many(
        &mut self,
        bucket: Resource<StoreHandle>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<Result<(), wasi_kv::Error>> {
        let store = self.store_of(&bucket)?;
        Ok(
            measured(&self.stats, StoreOp::SetMany, store.set_many(key_values))
                .await
                .map_err(Into::into),
        )
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<StoreHandle>,
        keys: Vec<String>,
    ) -> Result<Result<(), wasi_kv::Error>> {
        let store = self.store_of(&bucket)?;
        Ok(
            measured(&self.stats, StoreOp::DeleteMany, store.delete_many(keys))
                .await
                .map_err(Into::into),
        )
    }
}
