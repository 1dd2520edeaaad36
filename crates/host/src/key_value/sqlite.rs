//! The SQLite backend: one table `spin_key_value(store, key, value)`, as Spin
//! lays it out, in WAL mode with a busy timeout.
//!
//! **Durable, with group commit.** Writes go to one writer thread per
//! database, which takes every write waiting when it is free, applies them
//! in order in one `BEGIN IMMEDIATE` transaction (a write of several rows
//! under a savepoint of its own, so one that fails — incrementing a value
//! that is not a counter — fails alone) and commits once. Under load the
//! writes of concurrent requests share one commit and one sync; alone, a
//! write costs one. Atomic operations (increment, compare-and-swap, the
//! batches) stay atomic: they run inside the transaction, and `BEGIN
//! IMMEDIATE` also holds off other processes that share the file. Reads use
//! a connection of their own and see every committed write (WAL readers
//! never wait for the writer).
//!
//! **When a write is answered.** Every write but an increment is answered
//! once its commit is synced to disk: an OS crash or a power cut loses
//! nothing that was answered. An increment is answered as soon as its
//! commit is done, before the sync: its value is final and visible to every
//! request, and the WAL orders it before every later write, so it becomes
//! durable with the next sync — that of any later write, one that a request
//! asks for with [`Store::sync_answered`], or at the latest [`SYNC_DELAY`]
//! after its commit. A power cut can only lose increments whose effects
//! never left the host: the host syncs a request's increments before it
//! lets anything of that request out (its response, an outbound request;
//! see `crate::durability`). This spares an increment — a reservation, a
//! claim, a rate-limit counter — the wait for a sync of its own before the
//! request goes on. (`QMARKET_SQLITE_SYNCHRONOUS=normal` gives up syncing
//! altogether, see [`SYNCHRONOUS_ENV`].)
//!
//! **As Spin sets it up.** `QMARKET_SQLITE_JOURNAL=delete` ([`JOURNAL_ENV`])
//! gives the store Spin's default set-up instead: a rollback journal and
//! every write committed and synced alone. It is there to measure what
//! `spin up` users get, not for use.

use super::{KvError, Store};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an answered increment may stay unsynced when no request asks
/// for a sync and no other write brings one.
pub const SYNC_DELAY: Duration = Duration::from_millis(5);
/// How long a statement waits for another writer before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The most writes one commit takes (the rest wait for the next).
const MAX_GROUP: usize = 1024;
/// Chooses the `synchronous` setting: `normal` trades durability for speed
/// (a process crash still loses nothing; an OS crash or a power cut may lose
/// the last answered writes). Anything else, or unset, is `FULL`.
pub const SYNCHRONOUS_ENV: &str = "QMARKET_SQLITE_SYNCHRONOUS";

/// `delete` sets the store up as Spin's default one is (a rollback
/// journal, and every write a transaction of its own, committed and synced
/// alone): what `spin up` users get, for comparison. Anything else, or
/// unset, is WAL with group commit.
pub const JOURNAL_ENV: &str = "QMARKET_SQLITE_JOURNAL";

/// How a database is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteSetup {
    /// `synchronous=FULL` (durable) rather than `NORMAL`.
    pub durable: bool,
    /// A rollback journal and one write per transaction (Spin's default
    /// store) rather than WAL with group commit.
    pub rollback_journal: bool,
}

impl SqliteSetup {
    /// The set-up `QMARKET_SQLITE_SYNCHRONOUS` and `QMARKET_SQLITE_JOURNAL`
    /// ask for: durable WAL with group commit unless they say otherwise.
    pub fn from_env() -> Self {
        let is = |name: &str, value: &str| {
            std::env::var(name).is_ok_and(|v| v.eq_ignore_ascii_case(value))
        };
        SqliteSetup {
            durable: !is(SYNCHRONOUS_ENV, "normal"),
            rollback_journal: is(JOURNAL_ENV, "delete"),
        }
    }
}

/// An open SQLite key-value database (shared by every label stored in it).
#[derive(Clone)]
pub struct SqliteDatabase {
    reader: Arc<Mutex<Connection>>,
    writer: Arc<Writer>,
}

/// The way to the writer thread, and what it counted.
struct Writer {
    queue: mpsc::Sender<Write>,
    counts: Arc<WriteCounts>,
    /// Whether increments are answered before their sync (WAL with
    /// durable commits).
    defers_increments: bool,
}

/// How many writes were committed, in how many commits and syncs.
#[derive(Debug, Default)]
pub struct WriteCounts {
    writes: AtomicU64,
    commits: AtomicU64,
    syncs: AtomicU64,
    /// How many of the commits are synced: every one up to this number is
    /// durable.
    synced: AtomicU64,
    /// Held by tests to keep the writer from starting a commit.
    #[cfg(test)]
    gate: Mutex<()>,
    /// Held by tests to keep the writer from syncing.
    #[cfg(test)]
    sync_hold: Mutex<()>,
}

impl WriteCounts {
    /// Writes committed so far (an operation of a batch counts once).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
    /// Commits (transactions) so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
    /// Syncs so far: with increments answered before their sync, those
    /// the writer made itself; otherwise each commit is one.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
    /// Whether every commit so far is synced.
    fn all_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire) >= self.commits.load(Ordering::Acquire)
    }
}

/// One write waiting for the writer.
struct Write {
    label: Arc<str>,
    op: WriteOp,
    reply: tokio::sync::oneshot::Sender<Result<Done, KvError>>,
}

/// What a write does.
enum WriteOp {
    Set(String, Vec<u8>),
    Delete(String),
    SetMany(Vec<(String, Vec<u8>)>),
    DeleteMany(Vec<String>),
    Increment(String, i64),
    CompareAndSwap {
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    },
    /// Writes nothing: answered once every earlier commit is synced.
    Sync,
}

impl WriteOp {
    /// Whether the write is answered before its commit is synced.
    fn answered_before_sync(&self, defers_increments: bool) -> bool {
        defers_increments && matches!(self, WriteOp::Increment(..))
    }
}

/// What a write answers.
enum Done {
    Nothing,
    Counter(i64),
    Swapped(bool),
}

impl SqliteDatabase {
    /// Opens (creating when needed) the database at `path`, with its writer.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        Self::open_with(path, SqliteSetup::from_env())
    }

    /// Opens the database at `path` set up as `setup` says.
    pub fn open_with(path: &Path, setup: SqliteSetup) -> Result<Self, rusqlite::Error> {
        if let Some(dir) = path.parent() {
            // A failure here surfaces as the open error below.
            let _ = std::fs::create_dir_all(dir);
        }
        let connect = || -> Result<Connection, rusqlite::Error> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let journal = if setup.rollback_journal {
                "DELETE"
            } else {
                "WAL"
            };
            conn.pragma_update(None, "journal_mode", journal)?;
            let synchronous = if setup.durable { "FULL" } else { "NORMAL" };
            conn.pragma_update(None, "synchronous", synchronous)?;
            Ok(conn)
        };
        let writer = connect()?;
        writer.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        let reader = connect()?;
        // With durable WAL commits, the writer syncs the WAL itself (so it
        // can answer increments before the sync): SQLite's own commits need
        // not (`NORMAL` still syncs around checkpoints and when the WAL is
        // reused). The WAL exists once the table statement above ran.
        let wal = if setup.durable && !setup.rollback_journal {
            let mut name = path.as_os_str().to_owned();
            name.push("-wal");
            match std::fs::File::open(std::path::PathBuf::from(name)) {
                Ok(wal) => {
                    writer.pragma_update(None, "synchronous", "NORMAL")?;
                    Some(wal)
                }
                Err(_) => None,
            }
        } else {
            None
        };
        let defers_increments = wal.is_some();
        let counts = Arc::new(WriteCounts::default());
        let (queue, writes) = mpsc::channel();
        let group = if setup.rollback_journal { 1 } else { MAX_GROUP };
        {
            let counts = counts.clone();
            let thread = WriterThread {
                conn: writer,
                wal,
                counts,
                most: group,
                unsynced_since: std::cell::Cell::new(None),
            };
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || thread.write_until_closed(&writes))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        }
        Ok(Self {
            reader: Arc::new(Mutex::new(reader)),
            writer: Arc::new(Writer {
                queue,
                counts,
                defers_increments,
            }),
        })
    }

    /// The store named `label` in this database.
    pub fn store(&self, label: &str) -> SqliteStore {
        SqliteStore {
            label: Arc::from(label),
            database: self.clone(),
        }
    }

    /// What the writer counted.
    pub fn counts(&self) -> &WriteCounts {
        &self.writer.counts
    }

    /// The `synchronous` setting of the database's connections (2 = FULL);
    /// the reader and the writer are opened alike.
    pub fn synchronous(&self) -> Result<i64, rusqlite::Error> {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        reader.pragma_query_value(None, "synchronous", |r| r.get(0))
    }
}

/// The writer thread's connection and what it counts.
struct WriterThread {
    conn: Connection,
    /// The WAL, synced by the writer itself when increments are answered
    /// before their sync; `None` when SQLite syncs each commit (or nothing).
    wal: Option<std::fs::File>,
    counts: Arc<WriteCounts>,
    /// The most writes one commit takes.
    most: usize,
    /// When the oldest commit not synced yet was made.
    unsynced_since: std::cell::Cell<Option<std::time::Instant>>,
}

impl WriterThread {
    /// How long until the oldest unsynced commit must be synced, if any
    /// waits.
    fn sync_due_in(&self) -> Option<Duration> {
        self.unsynced_since
            .get()
            .map(|since| SYNC_DELAY.saturating_sub(since.elapsed()))
    }

    /// Commits groups of writes until every sender is gone; syncs commits
    /// left unsynced for [`SYNC_DELAY`] (and before it ends).
    fn write_until_closed(&self, writes: &mpsc::Receiver<Write>) {
        loop {
            let first = if let Some(due) = self.sync_due_in() {
                match writes.recv_timeout(due) {
                    Ok(write) => write,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Nobody waits for it: a failure shows at the next sync.
                        let _ = self.sync();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match writes.recv() {
                    Ok(write) => write,
                    Err(_) => break,
                }
            };
            let mut group = vec![first];
            while group.len() < self.most {
                match writes.try_recv() {
                    Ok(write) => group.push(write),
                    Err(_) => break,
                }
            }
            #[cfg(test)]
            let _gate = self.counts.gate.lock().unwrap_or_else(|p| p.into_inner());
            self.commit_group(group);
        }
        let _ = self.sync();
    }

    /// Syncs the WAL when a commit is not synced yet.
    fn sync(&self) -> std::io::Result<()> {
        let Some(wal) = &self.wal else { return Ok(()) };
        let committed = self.counts.commits.load(Ordering::Acquire);
        if self.counts.synced.load(Ordering::Acquire) >= committed {
            return Ok(());
        }
        #[cfg(test)]
        let _hold = self
            .counts
            .sync_hold
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        wal.sync_data()?;
        self.counts.syncs.fetch_add(1, Ordering::Relaxed);
        self.counts.synced.store(committed, Ordering::Release);
        // Only this thread commits: everything committed is synced now.
        self.unsynced_since.set(None);
        Ok(())
    }

    /// Applies `group` in one transaction and answers each write: an
    /// increment once committed (when the WAL is synced here), every other
    /// write once the commit is synced; all with the error when the
    /// transaction fails.
    fn commit_group(&self, group: Vec<Write>) {
        let defers = self.wal.is_some();
        let fail_all = |group: Vec<Write>, why: String| {
            for write in group {
                let _ = write.reply.send(Err(KvError::Other(why.clone())));
            }
        };
        let writes = group
            .iter()
            .filter(|w| !matches!(w.op, WriteOp::Sync))
            .count();
        let mut results = Vec::with_capacity(group.len());
        if writes > 0 {
            if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
                return fail_all(group, format!("sqlite: {e}"));
            }
            for write in &group {
                results.push(apply_alone(&self.conn, &write.label, &write.op));
            }
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                let _ = self.conn.execute_batch("ROLLBACK");
                return fail_all(group, format!("sqlite: {e}"));
            }
            let number = self.counts.commits.fetch_add(1, Ordering::AcqRel) + 1;
            self.counts
                .writes
                .fetch_add(writes as u64, Ordering::Relaxed);
            if defers && self.unsynced_since.get().is_none() {
                self.unsynced_since.set(Some(std::time::Instant::now()));
            }
            if !defers {
                // SQLite synced it (or nothing is synced at all).
                self.counts.syncs.fetch_add(1, Ordering::Relaxed);
                self.counts.synced.store(number, Ordering::Release);
            }
        } else {
            results.resize_with(group.len(), || Ok(Done::Nothing));
        }
        let mut after_sync = Vec::new();
        for (write, result) in group.into_iter().zip(results) {
            if write.op.answered_before_sync(defers) {
                let _ = write.reply.send(result);
            } else {
                after_sync.push((write, result));
            }
        }
        if after_sync.is_empty() {
            // Commits of increments alone, one after another, still get
            // synced in time.
            if self.sync_due_in() == Some(Duration::ZERO) {
                let _ = self.sync();
            }
            return;
        }
        match self.sync() {
            Ok(()) => {
                for (write, result) in after_sync {
                    let _ = write.reply.send(result);
                }
            }
            Err(e) => fail_all(
                after_sync.into_iter().map(|(write, _)| write).collect(),
                format!("sqlite: syncing the WAL: {e}"),
            ),
        }
    }
}

/// Does one write inside the open transaction so that, when it fails, none
/// of it stays: a write of several rows runs in a savepoint of its own; a
/// write that changes at most one row with one statement is atomic by
/// itself (SQLite undoes a failed statement), and saves the savepoint's two
/// statements, which are most of a small write's cost.
fn apply_alone(conn: &Connection, label: &str, op: &WriteOp) -> Result<Done, KvError> {
    let several = match op {
        WriteOp::SetMany(entries) => entries.len() > 1,
        WriteOp::DeleteMany(keys) => keys.len() > 1,
        _ => false,
    };
    if !several {
        return apply(conn, label, op);
    }
    let run = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(sql_error)
    };
    run("SAVEPOINT write")?;
    let result = apply(conn, label, op);
    if result.is_err() {
        let _ = run("ROLLBACK TO write");
    }
    let _ = run("RELEASE write");
    result
}

/// Does one write inside the open transaction.
fn apply(conn: &Connection, label: &str, op: &WriteOp) -> Result<Done, KvError> {
    let upsert = |key: &str, value: &[u8]| {
        conn.prepare_cached(UPSERT)
            .and_then(|mut s| s.execute((label, key, value)))
            .map(drop)
            .map_err(sql_error)
    };
    let delete = |key: &str| {
        conn.prepare_cached(DELETE)
            .and_then(|mut s| s.execute((label, key)))
            .map(drop)
            .map_err(sql_error)
    };
    let current = |key: &str| -> Result<Option<Vec<u8>>, KvError> {
        conn.prepare_cached(SELECT)
            .and_then(|mut s| s.query_row((label, key), |r| r.get(0)).optional())
            .map_err(sql_error)
    };
    match op {
        WriteOp::Set(key, value) => upsert(key, value).map(|()| Done::Nothing),
        WriteOp::Delete(key) => delete(key).map(|()| Done::Nothing),
        WriteOp::SetMany(entries) => {
            for (key, value) in entries {
                upsert(key, value)?;
            }
            Ok(Done::Nothing)
        }
        WriteOp::DeleteMany(keys) => {
            for key in keys {
                delete(key)?;
            }
            Ok(Done::Nothing)
        }
        WriteOp::Increment(key, delta) => {
            let now = current(key)?
                .as_deref()
                .map(decode_counter)
                .transpose()?
                .unwrap_or(0);
            let new = now
                .checked_add(*delta)
                .ok_or_else(|| KvError::Other("counter overflow".into()))?;
            upsert(key, &new.to_le_bytes())?;
            Ok(Done::Counter(new))
        }
        WriteOp::CompareAndSwap { key, expected, new } => {
            if current(key)? != *expected {
                return Ok(Done::Swapped(false));
            }
            upsert(key, new)?;
            Ok(Done::Swapped(true))
        }
        WriteOp::Sync => Ok(Done::Nothing),
    }
}

/// One label of a [`SqliteDatabase`].
pub struct SqliteStore {
    label: Arc<str>,
    database: SqliteDatabase,
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                      ON CONFLICT(store, key) DO UPDATE SET value = excluded.value";
const SELECT: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const DELETE: &str = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2";

fn sql_error(e: rusqlite::Error) -> KvError {
    KvError::Other(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Runs a read on the reading connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection, &str) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        // One indexed read on a local WAL database takes microseconds:
        // running it on the calling worker costs less than handing it to the
        // blocking pool and back.
        let guard = self
            .database
            .reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&guard, &self.label)
    }

    /// Hands `op` to the writer; answers once its group is committed.
    async fn write(&self, op: WriteOp) -> Result<Done, KvError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let write = Write {
            label: self.label.clone(),
            op,
            reply,
        };
        let stopped = || KvError::Other("sqlite: the database's writer has stopped".into());
        self.database
            .writer
            .queue
            .send(write)
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
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
        self.read(|c, label| {
            c.prepare_cached(SELECT)
                .and_then(|mut s| s.query_row((label, key), |r| r.get(0)).optional())
                .map_err(sql_error)
        })
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.write(WriteOp::Set(key.to_owned(), value.to_vec()))
            .await
            .map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.write(WriteOp::Delete(key.to_owned())).await.map(drop)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.read(|c, label| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")
                .and_then(|mut s| s.exists((label, key)))
                .map_err(sql_error)
        })
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.read(|c, label| {
            let mut s = c
                .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")
                .map_err(sql_error)?;
            let rows = s.query_map([label], |r| r.get(0)).map_err(sql_error)?;
            rows.collect::<Result<Vec<String>, _>>().map_err(sql_error)
        })
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        self.read(|c, label| {
            // One read transaction: every value from the same snapshot.
            c.execute_batch("BEGIN").map_err(sql_error)?;
            let read = (|| {
                let mut s = c.prepare_cached(SELECT).map_err(sql_error)?;
                let mut out = Vec::with_capacity(keys.len());
                for key in keys {
                    let value = s
                        .query_row((label, &key), |r| r.get(0))
                        .optional()
                        .map_err(sql_error)?;
                    out.push((key, value));
                }
                Ok(out)
            })();
            c.execute_batch("COMMIT").map_err(sql_error)?;
            read
        })
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.write(WriteOp::SetMany(entries)).await.map(drop)
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.write(WriteOp::DeleteMany(keys)).await.map(drop)
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        match self
            .write(WriteOp::Increment(key.to_owned(), delta))
            .await?
        {
            Done::Counter(value) => Ok(value),
            _ => Err(KvError::Other(
                "sqlite: an increment answered no counter".into(),
            )),
        }
    }

    fn defers_increment_syncs(&self) -> bool {
        self.database.writer.defers_increments
    }

    async fn sync_answered(&self) -> Result<(), KvError> {
        if !self.database.writer.defers_increments || self.database.writer.counts.all_synced() {
            return Ok(());
        }
        self.write(WriteOp::Sync).await.map(drop)
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let op = WriteOp::CompareAndSwap {
            key: key.to_owned(),
            expected: expected.map(<[u8]>::to_vec),
            new: new.to_vec(),
        };
        match self.write(op).await? {
            Done::Swapped(swapped) => Ok(swapped),
            _ => Err(KvError::Other(
                "sqlite: a compare-and-swap answered no outcome".into(),
            )),
        }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The gate is held across awaits on purpose: it keeps the writer waiting.
    #[allow(clippy::await_holding_lock)]
    async fn set_up_as_spins_default_store_every_write_commits_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let setup = SqliteSetup {
            durable: true,
            rollback_journal: true,
        };
        let db = SqliteDatabase::open_with(&dir.path().join("kv.db"), setup).expect("opens");
        let journal: String = {
            let reader = db.reader.lock().unwrap();
            reader
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .expect("journal mode")
        };
        assert_eq!(journal, "delete");
        let store = Arc::new(db.store("default"));
        let gate = db.counts().gate.lock().unwrap();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.increment("n", 1).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(gate);
        for task in tasks {
            task.await.expect("joins").expect("increments");
        }
        assert_eq!(db.counts().commits(), 10);
        assert_eq!(
            store.get("n").await.unwrap(),
            Some(10i64.to_le_bytes().to_vec())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The gate is held across awaits on purpose: it keeps the writer waiting.
    #[allow(clippy::await_holding_lock)]
    async fn commits_are_durable_and_concurrent_writes_share_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        assert_eq!(db.synchronous(), Ok(2), "synchronous=FULL");
        let store = Arc::new(db.store("default"));
        // The writer is held while 50 increments queue up behind it.
        let gate = db.counts().gate.lock().unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.increment("n", 1).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(gate);
        let mut values = Vec::new();
        for task in tasks {
            values.push(task.await.expect("joins").expect("increments"));
        }
        values.sort_unstable();
        assert_eq!(
            values,
            (1..=50).collect::<Vec<i64>>(),
            "each saw its own value"
        );
        assert_eq!(db.counts().writes(), 50);
        assert!(
            db.counts().commits() <= 2,
            "{} commits",
            db.counts().commits()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The gate is held across awaits on purpose: it keeps the writer waiting.
    #[allow(clippy::await_holding_lock)]
    async fn a_failing_write_fails_alone_in_its_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        let store = Arc::new(db.store("default"));
        store.set("text", b"abc").await.expect("set");
        let gate = db.counts().gate.lock().unwrap();
        let bad = {
            let store = store.clone();
            tokio::spawn(async move { store.increment("text", 1).await })
        };
        let good = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .set_many(vec![
                        ("a".into(), b"1".to_vec()),
                        ("b".into(), b"2".to_vec()),
                    ])
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(gate);
        assert!(matches!(bad.await.unwrap(), Err(KvError::Other(_))));
        assert_eq!(good.await.unwrap(), Ok(()));
        assert_eq!(store.get("text").await, Ok(Some(b"abc".to_vec())));
        assert_eq!(store.get("b").await, Ok(Some(b"2".to_vec())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The hold is kept across awaits on purpose: it keeps the writer from syncing.
    #[allow(clippy::await_holding_lock)]
    async fn an_increment_is_answered_before_its_sync_and_every_other_write_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        let store = Arc::new(db.store("default"));
        assert!(store.defers_increment_syncs());
        let hold = db.counts().sync_hold.lock().unwrap();
        // With no sync possible, an increment is still answered...
        let counted = tokio::time::timeout(Duration::from_secs(5), store.increment("n", 1)).await;
        assert_eq!(counted.expect("answered without a sync"), Ok(1));
        assert!(!db.counts().all_synced());
        // ... and visible to readers at once,
        assert_eq!(store.get("n").await, Ok(Some(1i64.to_le_bytes().to_vec())));
        // while a set, and a request for the sync, wait for it.
        let set = {
            let store = store.clone();
            tokio::spawn(async move { store.set("k", b"v").await })
        };
        let synced = {
            let store = store.clone();
            tokio::spawn(async move { store.sync_answered().await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!set.is_finished() && !synced.is_finished());
        drop(hold);
        assert_eq!(set.await.expect("joins"), Ok(()));
        assert_eq!(synced.await.expect("joins"), Ok(()));
        assert!(db.counts().all_synced());
        assert!(db.counts().syncs() >= 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answered_increment_is_synced_within_the_delay_unasked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        let store = db.store("default");
        store.increment("n", 1).await.expect("increments");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !db.counts().all_synced() {
            assert!(std::time::Instant::now() < deadline, "never synced");
            tokio::time::sleep(SYNC_DELAY).await;
        }
        assert_eq!(db.counts().syncs(), 1);
        // Nothing left to sync: asking costs no sync.
        store.sync_answered().await.expect("synced");
        assert_eq!(db.counts().syncs(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_stream_of_increments_is_synced_every_delay_not_only_when_it_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SqliteDatabase::open(&dir.path().join("kv.db")).expect("opens");
        let store = db.store("default");
        let until = std::time::Instant::now() + 20 * SYNC_DELAY;
        while std::time::Instant::now() < until {
            store.increment("n", 1).await.expect("increments");
        }
        // Syncs were due while increments kept coming: not one at the end.
        assert!(db.counts().syncs() >= 2, "{} syncs", db.counts().syncs());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_durable_commits_every_write_is_answered_at_its_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        for setup in [
            SqliteSetup {
                durable: false,
                rollback_journal: false,
            },
            SqliteSetup {
                durable: true,
                rollback_journal: true,
            },
        ] {
            let db = SqliteDatabase::open_with(&dir.path().join(format!("{setup:?}.db")), setup)
                .expect("opens");
            let store = db.store("default");
            assert!(!store.defers_increment_syncs());
            store.increment("n", 1).await.expect("increments");
            assert!(db.counts().all_synced(), "{setup:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_acknowledged_write_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kv.db");
        {
            let db = SqliteDatabase::open(&path).expect("opens");
            db.store("default").set("k", b"v").await.expect("set");
        }
        let again = SqliteDatabase::open(&path).expect("opens again");
        assert_eq!(
            again.store("default").get("k").await,
            Ok(Some(b"v".to_vec()))
        );
        assert!(
            again.store("default").defers_increment_syncs(),
            "the reopened database syncs its WAL itself too"
        );
    }
}
