//! The SQLite backend: one table `spin_key_value(store, key, value)`, as Spin
//! lays it out, in WAL mode with a busy timeout. Atomic operations run in one
//! `BEGIN IMMEDIATE` transaction, so they stay atomic even when several host
//! processes share the file.

use super::{KvError, Store};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a statement waits for another writer before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open SQLite key-value database (shared by every label stored in it).
#[derive(Clone)]
pub struct SqliteDatabase {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDatabase {
    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        if let Some(dir) = path.parent() {
            // A failure here surfaces as the open error below.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The store named `label` in this database.
    pub fn store(&self, label: &str) -> SqliteStore {
        SqliteStore {
            label: Arc::from(label),
            conn: self.conn.clone(),
        }
    }
}

/// One label of a [`SqliteDatabase`].
pub struct SqliteStore {
    label: Arc<str>,
    conn: Arc<Mutex<Connection>>,
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                      ON CONFLICT(store, key) DO UPDATE SET value = excluded.value";
const SELECT: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";

fn sql_error(e: rusqlite::Error) -> KvError {
    KvError::Other(format!("sqlite: {e}"))
}

impl SqliteStore {
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        // One statement on a local WAL database takes microseconds: running it
        // on the calling worker costs less than handing it to the blocking
        // pool and back, which dominated key-value-heavy requests.
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard, &self.label)
    }
}

fn decode_counter(bytes: &[u8]) -> Result<i64, KvError> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| KvError::Other("value is not a counter (expected 8 bytes)".into()))?;
    Ok(i64::from_le_bytes(array))
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let key = key.to_owned();
        self.run(move |c, label| {
            c.prepare_cached(SELECT)
                .and_then(|mut s| s.query_row((label, &key), |r| r.get(0)).optional())
                .map_err(sql_error)
        })
        .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.run(move |c, label| {
            c.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute((label, &key, &value)))
                .map(drop)
                .map_err(sql_error)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let key = key.to_owned();
        self.run(move |c, label| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")
                .and_then(|mut s| s.execute((label, &key)))
                .map(drop)
                .map_err(sql_error)
        })
        .await
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        let key = key.to_owned();
        self.run(move |c, label| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")
                .and_then(|mut s| s.exists((label, &key)))
                .map_err(sql_error)
        })
        .await
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.run(move |c, label| {
            let mut s = c
                .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")
                .map_err(sql_error)?;
            let rows = s.query_map([label], |r| r.get(0)).map_err(sql_error)?;
            rows.collect::<Result<Vec<String>, _>>().map_err(sql_error)
        })
        .await
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        self.run(move |c, label| {
            let tx = c.transaction().map_err(sql_error)?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let mut s = tx.prepare_cached(SELECT).map_err(sql_error)?;
                for key in keys {
                    let value = s
                        .query_row((label, &key), |r| r.get(0))
                        .optional()
                        .map_err(sql_error)?;
                    out.push((key, value));
                }
            }
            tx.commit().map_err(sql_error)?;
            Ok(out)
        })
        .await
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.run(move |c, label| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_error)?;
            {
                let mut s = tx.prepare_cached(UPSERT).map_err(sql_error)?;
                for (key, value) in &entries {
                    s.execute((label, key, value)).map_err(sql_error)?;
                }
            }
            tx.commit().map_err(sql_error)
        })
        .await
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.run(move |c, label| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_error)?;
            {
                let mut s = tx
                    .prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")
                    .map_err(sql_error)?;
                for key in &keys {
                    s.execute((label, key)).map_err(sql_error)?;
                }
            }
            tx.commit().map_err(sql_error)
        })
        .await
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        let key = key.to_owned();
        self.run(move |c, label| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_error)?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached(SELECT)
                .and_then(|mut s| s.query_row((label, &key), |r| r.get(0)).optional())
                .map_err(sql_error)?;
            let current = current
                .as_deref()
                .map(decode_counter)
                .transpose()?
                .unwrap_or(0);
            let new = current
                .checked_add(delta)
                .ok_or_else(|| KvError::Other("counter overflow".into()))?;
            tx.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute((label, &key, new.to_le_bytes())))
                .map_err(sql_error)?;
            tx.commit().map_err(sql_error)?;
            Ok(new)
        })
        .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let (key, expected, new) = (key.to_owned(), expected.map(<[u8]>::to_vec), new.to_vec());
        self.run(move |c, label| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_error)?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached(SELECT)
                .and_then(|mut s| s.query_row((label, &key), |r| r.get(0)).optional())
                .map_err(sql_error)?;
            if current != expected {
                return Ok(false);
            }
            tx.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute((label, &key, &new)))
                .map_err(sql_error)?;
            tx.commit().map_err(sql_error)?;
            Ok(true)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir, label: &str) -> SqliteStore {
        SqliteDatabase::open(&dir.path().join("kv.db"))
            .expect("opens")
            .store(label)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn increment_stores_the_counter_as_eight_little_endian_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(&dir, "default");
        assert_eq!(s.increment("n", 5).await, Ok(5));
        assert_eq!(s.increment("n", -2).await, Ok(3));
        assert_eq!(s.get("n").await, Ok(Some(3i64.to_le_bytes().to_vec())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn labels_do_not_see_each_others_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        let (a, b) = (db.store("a"), db.store("b"));
        a.set("k", b"1").await.expect("set");
        assert_eq!(b.get("k").await, Ok(None));
        assert_eq!(a.get_keys().await, Ok(vec!["k".to_string()]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compare_and_swap_fails_when_the_value_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(&dir, "default");
        assert_eq!(s.compare_and_swap("k", None, b"1").await, Ok(true));
        assert_eq!(s.compare_and_swap("k", None, b"2").await, Ok(false));
        assert_eq!(s.compare_and_swap("k", Some(b"1"), b"2").await, Ok(true));
        assert_eq!(s.compare_and_swap("k", Some(b"1"), b"3").await, Ok(false));
        assert_eq!(s.get("k").await, Ok(Some(b"2".to_vec())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn incrementing_a_non_counter_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(&dir, "default");
        s.set("k", b"abc").await.expect("set");
        assert!(matches!(s.increment("k", 1).await, Err(KvError::Other(_))));
    }
}
