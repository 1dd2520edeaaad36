//! What one request cost: the store operations its guest made, by kind, and
//! where its time went (instantiation, the store, outbound HTTP, the rest).
//!
//! Every request's [`RequestStats`] is shared by the key-value host functions
//! and the outbound hooks of its `Store`, and written into the request's log
//! line when its guest has finished (see [`RequestStats::log_fields`]), as
//! `key=value` fields a script can add up per endpoint:
//!
//! ```text
//! POST /api/metering metering 200 1.234ms done=1.301ms inst=0.052ms store=0.210ms
//!   out=0.000ms guest=1.039ms reads=2 writes=3 get=1 get_many=1 increment=2 set_many=1
//! ```
//!
//! A *write* is one store operation that changes it (a transaction on
//! SQLite, a command on Redis): `set`, `set_many`, `delete`, `delete_many`,
//! `increment` and a compare-and-swap's `swap`, however many keys it holds.
//! A *read* is `get`, `get_many`, `exists`, `get_keys` or a
//! compare-and-swap's `new`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One kind of store operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    /// `get`
    Get,
    /// `get_many` (`wasi:keyvalue/batch`)
    GetMany,
    /// `exists`
    Exists,
    /// `get_keys` / `list_keys`
    GetKeys,
    /// A compare-and-swap's `new` (reads the current value)
    CasRead,
    /// `set`
    Set,
    /// `set_many`
    SetMany,
    /// `delete`
    Delete,
    /// `delete_many`
    DeleteMany,
    /// `increment`
    Increment,
    /// A compare-and-swap's `swap`
    Swap,
}

impl StoreOp {
    const ALL: [StoreOp; 11] = [
        StoreOp::Get,
        StoreOp::GetMany,
        StoreOp::Exists,
        StoreOp::GetKeys,
        StoreOp::CasRead,
        StoreOp::Set,
        StoreOp::SetMany,
        StoreOp::Delete,
        StoreOp::DeleteMany,
        StoreOp::Increment,
        StoreOp::Swap,
    ];

    /// Its name in a log line.
    pub fn name(self) -> &'static str {
        match self {
            StoreOp::Get => "get",
            StoreOp::GetMany => "get_many",
            StoreOp::Exists => "exists",
            StoreOp::GetKeys => "get_keys",
            StoreOp::CasRead => "cas",
            StoreOp::Set => "set",
            StoreOp::SetMany => "set_many",
            StoreOp::Delete => "delete",
            StoreOp::DeleteMany => "delete_many",
            StoreOp::Increment => "increment",
            StoreOp::Swap => "swap",
        }
    }

    /// Whether it changes the store.
    pub fn writes(self) -> bool {
        !matches!(
            self,
            StoreOp::Get | StoreOp::GetMany | StoreOp::Exists | StoreOp::GetKeys | StoreOp::CasRead
        )
    }
}

/// The counters of one request, shared by the host functions of its store.
#[derive(Debug, Default)]
pub struct RequestStats {
    ops: [AtomicU64; StoreOp::ALL.len()],
    store_nanos: AtomicU64,
    outbound: AtomicU64,
    outbound_nanos: AtomicU64,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

impl RequestStats {
    /// Counts one `op` that took `took`.
    pub fn store(&self, op: StoreOp, took: Duration) {
        self.ops[op as usize].fetch_add(1, Ordering::Relaxed);
        self.store_nanos.fetch_add(nanos(took), Ordering::Relaxed);
    }

    /// Counts one outbound request that took `took` up to its response head
    /// (or its failure).
    pub fn outbound(&self, took: Duration) {
        self.outbound.fetch_add(1, Ordering::Relaxed);
        self.outbound_nanos
            .fetch_add(nanos(took), Ordering::Relaxed);
    }

    /// How many `op`s were counted.
    pub fn count(&self, op: StoreOp) -> u64 {
        self.ops[op as usize].load(Ordering::Relaxed)
    }

    /// Store operations that read.
    pub fn reads(&self) -> u64 {
        StoreOp::ALL
            .iter()
            .filter(|op| !op.writes())
            .map(|op| self.count(*op))
            .sum()
    }

    /// Store operations that wrote.
    pub fn writes(&self) -> u64 {
        StoreOp::ALL
            .iter()
            .filter(|op| op.writes())
            .map(|op| self.count(*op))
            .sum()
    }

    /// The request's fields for its log line, given the time its guest took
    /// from the start of instantiation to its end (`done`) and the
    /// instantiation's share (`instantiation`). `guest` is what remains
    /// after the store and outbound HTTP: the guest's own work and its other
    /// host calls.
    pub fn log_fields(&self, done: Duration, instantiation: Duration) -> String {
        let store = self.store_nanos.load(Ordering::Relaxed);
        let outbound = self.outbound_nanos.load(Ordering::Relaxed);
        let guest = nanos(done)
            .saturating_sub(nanos(instantiation))
            .saturating_sub(store)
            .saturating_sub(outbound);
        let mut line = format!(
            "done={:.3}ms inst={:.3}ms store={:.3}ms out={:.3}ms guest={:.3}ms reads={} writes={} outbound={}",
            millis(nanos(done)),
            millis(nanos(instantiation)),
            millis(store),
            millis(outbound),
            millis(guest),
            self.reads(),
            self.writes(),
            self.outbound.load(Ordering::Relaxed),
        );
        for op in StoreOp::ALL {
            let n = self.count(op);
            if n > 0 {
                let _ = write!(line, " {}={n}", op.name());
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_are_counted_by_kind() {
        let stats = RequestStats::default();
        let ms = Duration::from_millis(1);
        stats.store(StoreOp::Get, ms);
        stats.store(StoreOp::GetMany, ms);
        stats.store(StoreOp::Increment, ms);
        stats.store(StoreOp::Increment, ms);
        stats.store(StoreOp::SetMany, ms);
        assert_eq!(stats.reads(), 2);
        assert_eq!(stats.writes(), 3);
        assert_eq!(stats.count(StoreOp::Increment), 2);
    }

    #[test]
    fn the_log_fields_split_the_time_and_name_only_kinds_that_occurred() {
        let stats = RequestStats::default();
        stats.store(StoreOp::Get, Duration::from_millis(2));
        stats.outbound(Duration::from_millis(3));
        let fields = stats.log_fields(Duration::from_millis(10), Duration::from_millis(1));
        assert_eq!(
            fields,
            "done=10.000ms inst=1.000ms store=2.000ms out=3.000ms guest=4.000ms \
             reads=1 writes=0 outbound=1 get=1"
        );
    }
}
