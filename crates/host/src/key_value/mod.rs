//! Key-value stores shared by `fermyon:spin/key-value@2.0.0` and
//! `wasi:keyvalue@0.2.0-draft2`.
//!
//! Both interfaces reach the same [`Store`] for a label, so a key written
//! through one is read back through the other. Counters are encoded as Spin
//! encodes them: 8 little-endian bytes on SQLite, a decimal string on Redis
//! (`INCRBY`).

pub(crate) mod host;
pub mod redis;
pub mod sqlite;

use crate::runtime_config::{KeyValueStoreConfig, RuntimeConfig};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The label every application may use without runtime configuration.
pub const DEFAULT_LABEL: &str = "default";
/// The file name of the default SQLite database inside the state directory.
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_key_value.db";

/// A failure a store reports to the guest (not a trap).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The label is not defined.
    #[error("no such store")]
    NoSuchStore,
    /// The component may not open the label.
    #[error("access denied")]
    AccessDenied,
    /// The backend failed.
    #[error("{0}")]
    Other(String),
}

/// Why the stores could not be set up at start-up.
#[derive(Debug, thiserror::Error)]
pub enum KvSetupError {
    /// A SQLite database could not be opened.
    #[error("cannot open key-value database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A Redis URL is invalid.
    #[error("invalid Redis URL for key-value store `{label}`: {source}")]
    Redis {
        /// The store label.
        label: String,
        /// The client error.
        source: ::redis::RedisError,
    },
    /// A component lists a label that no store provides.
    #[error("component `{component}` uses key-value store `{label}`, which is not defined (only `default` exists unless the runtime config adds more)")]
    UndefinedLabel {
        /// The component id.
        component: String,
        /// The label.
        label: String,
    },
}

/// One key-value store (one label) of a backend.
#[async_trait]
pub trait Store: Send + Sync {
    /// The value of `key`, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Sets `key` to `value`.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), KvError>;
    /// Whether `key` exists.
    async fn exists(&self, key: &str) -> Result<bool, KvError>;
    /// Every key of the store.
    async fn get_keys(&self) -> Result<Vec<String>, KvError>;
    /// The values of `keys`, in order, `None` for the missing ones.
    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError>;
    /// Sets every pair, atomically.
    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError>;
    /// Removes every key.
    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError>;
    /// Atomically adds `delta` to the counter at `key` (missing = 0); returns the new value.
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError>;
    /// Whether an increment may be answered before it is durable (SQLite
    /// with durable WAL commits); [`Store::sync_answered`] then makes it so.
    /// Every other write is durable when answered.
    fn defers_increment_syncs(&self) -> bool {
        false
    }
    /// Waits until every write this store answered so far is durable:
    /// nothing to wait for unless [`Store::defers_increment_syncs`].
    async fn sync_answered(&self) -> Result<(), KvError> {
        Ok(())
    }
    /// Atomically sets `key` to `new` if its value is still `expected`
    /// (`None` = absent); returns whether it did.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError>;
}

/// Every configured store, by label.
#[derive(Clone, Default)]
pub struct KeyValueStores {
    stores: HashMap<String, Arc<dyn Store>>,
}

impl std::fmt::Debug for KeyValueStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyValueStores")
            .field("labels", &self.stores.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyValueStores {
    /// Opens the stores of `config`; `default` is SQLite in `state_dir` unless configured.
    pub fn open(config: &RuntimeConfig, state_dir: &Path) -> Result<Self, KvSetupError> {
        let mut configs = config.key_value_stores.clone();
        configs
            .entry(DEFAULT_LABEL.to_string())
            .or_insert(KeyValueStoreConfig::Sqlite { path: None });

        let mut databases: HashMap<PathBuf, sqlite::SqliteDatabase> = HashMap::new();
        let mut redis_clients: HashMap<String, Arc<redis::RedisBackend>> = HashMap::new();
        let mut stores: HashMap<String, Arc<dyn Store>> = HashMap::new();
        for (label, cfg) in configs {
            let store: Arc<dyn Store> = match cfg {
                KeyValueStoreConfig::Sqlite { path } => {
                    let path = path.unwrap_or_else(|| state_dir.join(DEFAULT_SQLITE_FILE));
                    let db = match databases.get(&path) {
                        Some(db) => db.clone(),
                        None => {
                            let db = sqlite::SqliteDatabase::open(&path).map_err(|source| {
                                KvSetupError::Sqlite {
                                    path: path.clone(),
                                    source,
                                }
                            })?;
                            databases.insert(path.clone(), db.clone());
                            db
                        }
                    };
                    Arc::new(db.store(&label))
                }
                KeyValueStoreConfig::Redis { url } => {
                    let backend = match redis_clients.get(&url) {
                        Some(b) => b.clone(),
                        None => {
                            let b = Arc::new(redis::RedisBackend::new(&url).map_err(|source| {
                                KvSetupError::Redis {
                                    label: label.clone(),
                                    source,
                                }
                            })?);
                            redis_clients.insert(url.clone(), b.clone());
                            b
                        }
                    };
                    backend
                }
            };
            stores.insert(label, store);
        }
        Ok(Self { stores })
    }

    /// The store for `label`, if defined.
    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).cloned()
    }

    /// Whether `label` is defined.
    pub fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }
}

/// What one component instance may reach: the stores and its allowed labels.
#[derive(Clone)]
pub(crate) struct KeyValueAccess {
    pub(crate) stores: Arc<KeyValueStores>,
    pub(crate) allowed: Arc<[String]>,
}

impl KeyValueAccess {
    /// Opens `label` for the component, applying its `key_value_stores`.
    pub(crate) fn open(&self, label: &str) -> Result<Arc<dyn Store>, KvError> {
        if !self.allowed.iter().any(|l| l == label) {
            return Err(KvError::AccessDenied);
        }
        self.stores.get(label).ok_or(KvError::NoSuchStore)
    }
}
