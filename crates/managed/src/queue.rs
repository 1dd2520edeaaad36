//! The work queue of builds and executions, and the leases under which
//! workers run them.
//!
//! Jobs are appended to one [`Index`] (`managed/queue`). A worker asks for
//! work; the platform walks the queue from its first unfinished job and
//! hands out the first job the worker can run whose current attempt is
//! free or dead, claiming the next attempt for it:
//!
//! - **Claims** are `increment`s of `job/{id}/attempt/{n}`: whoever gets 1
//!   owns attempt *n*, so two workers never run the same attempt.
//! - **Leases**: the owner of an attempt beats every couple of seconds
//!   (`…/attempt/{n}/beat`). An attempt whose beat is older than
//!   [`LEASE_SECONDS`] is dead, and the next worker to ask claims attempt
//!   *n + 1*; a worker that comes back from the dead learns on its next
//!   beat that it is no longer current and stops. After
//!   [`MAX_ATTEMPTS`] dead attempts the job fails.
//! - **Progress through the queue** without a counter that could be
//!   advanced twice: a job found finished at the head gets a done marker
//!   (`{slot}/done`), set only when every slot before it has one, so the
//!   markers always form a prefix that the next walk skips (a worker passes
//!   the position it reached as a hint).
//!
//! Everything is an `increment`, a write to a key of its own, or a read.

use qmarket_core::{Result, Timestamp};
use qmarket_model::Runtime;
use qmarket_store::{claim, decode_counter, Index, KeyValue};
use serde::{Deserialize, Serialize};

/// How long an attempt lives without a beat.
pub const LEASE_SECONDS: i64 = 10;
/// How often a worker beats.
pub const BEAT_SECONDS: u64 = 2;
/// How many attempts a job gets before it fails.
pub const MAX_ATTEMPTS: u64 = 3;
/// Slots looked at per round trip while walking the queue.
const WINDOW: u64 = 64;
/// Windows looked at per request.
const MAX_WINDOWS: u64 = 8;
/// How long a reserved but empty queue slot may stay empty before it is
/// taken for abandoned (its writer died before writing it).
const EMPTY_SLOT_SECONDS: i64 = 60;

/// What a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    /// A build of an uploaded archive (`bld_…`).
    Build,
    /// An execution (`exe_…`).
    Execution,
}

/// A queued job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRef {
    /// What it is.
    pub kind: JobKind,
    /// Its build or execution id.
    pub id: String,
    /// The runtime it needs.
    pub runtime: Runtime,
}

/// The queue.
pub fn queue() -> Index {
    Index::new("managed/queue")
}

/// Reserves a queue slot for `job`: the entry to write in the caller's
/// `set_many`, with the job's record.
pub fn enqueue_entry(kv: &dyn KeyValue, job: &JobRef) -> Result<(String, Vec<u8>)> {
    let seq = queue().reserve(kv)?;
    let bytes = serde_json::to_vec(job)
        .map_err(|e| qmarket_core::Error::Internal(format!("cannot encode a job: {e}")))?;
    Ok((queue().slot_key(seq), bytes))
}

fn done_key(seq: u64) -> String {
    format!("{}/done", queue().slot_key(seq))
}

fn empty_since_key(seq: u64) -> String {
    format!("{}/empty-since", queue().slot_key(seq))
}

/// The claim counter of attempt `n` of job `id`.
pub fn attempt_key(id: &str, n: u64) -> String {
    format!("job/{id}/attempt/{n}")
}

fn beat_key(id: &str, n: u64) -> String {
    format!("{}/beat", attempt_key(id, n))
}

fn suspect_key(id: &str, n: u64) -> String {
    format!("{}/suspect", attempt_key(id, n))
}

/// Who holds a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Nobody ever claimed it.
    Nobody,
    /// Attempt `n` is alive.
    Live(u64),
    /// Attempt `n` stopped beating.
    Dead(u64),
}

fn timestamp(bytes: Option<Vec<u8>>) -> Option<Timestamp> {
    bytes.and_then(|b| serde_json::from_slice(&b).ok())
}

/// The highest claimed attempt of job `id` (0 when none), read only.
pub fn current_attempt(kv: &dyn KeyValue, id: &str) -> Result<u64> {
    let keys: Vec<String> = (1..=MAX_ATTEMPTS + 1).map(|n| attempt_key(id, n)).collect();
    let mut current = 0;
    for (n, value) in (1..).zip(kv.get_many(&keys)?) {
        if value.as_deref().and_then(decode_counter).unwrap_or(0) > 0 {
            current = n;
        }
    }
    Ok(current)
}

/// Who holds job `id` at `now`. A claimed attempt that never beat is
/// marked suspect the first time it is seen so (a write), and dead once
/// that is older than the lease.
pub fn holder(kv: &dyn KeyValue, id: &str, now: Timestamp) -> Result<Holder> {
    let current = current_attempt(kv, id)?;
    if current == 0 {
        return Ok(Holder::Nobody);
    }
    let mut values = kv
        .get_many(&[beat_key(id, current), suspect_key(id, current)])?
        .into_iter();
    let (beat, suspect) = (
        timestamp(values.next().flatten()),
        timestamp(values.next().flatten()),
    );
    let since = match (beat, suspect) {
        (Some(beat), _) => beat,
        (None, Some(suspect)) => suspect,
        (None, None) => {
            qmarket_store::set_json(kv, &suspect_key(id, current), &now)?;
            now
        }
    };
    Ok(if now.millis() - since.millis() > LEASE_SECONDS * 1000 {
        Holder::Dead(current)
    } else {
        Holder::Live(current)
    })
}

/// Claims attempt `n` of job `id` and beats at once; whether it was ours.
pub fn claim_attempt(kv: &dyn KeyValue, id: &str, n: u64, now: Timestamp) -> Result<bool> {
    if !claim(kv, &attempt_key(id, n))? {
        return Ok(false);
    }
    beat(kv, id, n, now)?;
    Ok(true)
}

/// Attempt `n` of job `id` is alive at `now`.
pub fn beat(kv: &dyn KeyValue, id: &str, n: u64, now: Timestamp) -> Result<()> {
    qmarket_store::set_json(kv, &beat_key(id, n), &now)
}

/// Whether attempt `n` is still the current attempt of job `id` (nobody
/// claimed a later one).
pub fn is_current(kv: &dyn KeyValue, id: &str, n: u64) -> Result<bool> {
    Ok(n >= 1 && current_attempt(kv, id)? == n)
}

/// What the platform decides about one job while walking the queue.
pub trait Jobs {
    /// Whether job `job` has ended (its final record exists).
    fn finished(&self, kv: &dyn KeyValue, job: &JobRef) -> Result<bool>;
    /// Called when this walk claimed `attempt` of `job`: `true` to hand it
    /// out, `false` when the job turned out not to be runnable (cancelled
    /// meanwhile: the callee records that).
    fn claimed(
        &self,
        kv: &dyn KeyValue,
        job: &JobRef,
        attempt: u64,
        now: Timestamp,
    ) -> Result<bool>;
    /// Called when `job` used up its attempts and its last one is dead:
    /// the callee records the failure (once: it holds the claim of the
    /// attempt after the last).
    fn lost(&self, kv: &dyn KeyValue, job: &JobRef, now: Timestamp) -> Result<()>;
}

/// What a walk found for a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The job and the attempt now owned, if any.
    pub job: Option<(JobRef, u64)>,
    /// Where the next walk may start.
    pub hint: u64,
}

/// The first queue position at or after `hint` without a done marker.
fn first_open(kv: &dyn KeyValue, hint: u64, last: u64) -> Result<u64> {
    let mut position = hint.max(1);
    while position <= last {
        let keys: Vec<String> = (position..=(position + WINDOW - 1).min(last))
            .map(done_key)
            .collect();
        for marker in kv.get_many(&keys)? {
            if marker.is_none() {
                return Ok(position);
            }
            position += 1;
        }
    }
    Ok(position)
}

/// Walks the queue from `hint` and claims the first job a worker with
/// `runtimes` can run (see the module documentation).
pub fn claim_next(
    kv: &dyn KeyValue,
    jobs: &dyn Jobs,
    runtimes: &[Runtime],
    hint: u64,
    now: Timestamp,
) -> Result<Claimed> {
    let last = queue().last_seq(kv)?;
    let start = first_open(kv, hint, last)?;
    let mut next_done = start;
    let mut prefix = true;
    let mut low = start;
    for _ in 0..MAX_WINDOWS {
        if low > last {
            break;
        }
        let high = (low + WINDOW - 1).min(last);
        for (seq, value) in queue().slots(kv, low..=high)? {
            let job: Option<JobRef> = value.and_then(|b| serde_json::from_slice(&b).ok());
            let Some(job) = job else {
                if prefix && seq == next_done && abandoned_slot(kv, seq, now)? {
                    kv.set(&done_key(seq), b"1")?;
                    next_done += 1;
                } else {
                    prefix = false;
                }
                continue;
            };
            if jobs.finished(kv, &job)? {
                if prefix && seq == next_done {
                    kv.set(&done_key(seq), b"1")?;
                    next_done += 1;
                }
                continue;
            }
            prefix = false;
            if !runtimes.contains(&job.runtime) {
                continue;
            }
            let attempt = match holder(kv, &job.id, now)? {
                Holder::Live(_) => continue,
                Holder::Nobody => 1,
                Holder::Dead(n) if n >= MAX_ATTEMPTS => {
                    if claim(kv, &attempt_key(&job.id, n + 1))? {
                        jobs.lost(kv, &job, now)?;
                    }
                    continue;
                }
                Holder::Dead(n) => n + 1,
            };
            if claim_attempt(kv, &job.id, attempt, now)? && jobs.claimed(kv, &job, attempt, now)? {
                return Ok(Claimed {
                    job: Some((job, attempt)),
                    hint: next_done,
                });
            }
        }
        low = high + 1;
    }
    Ok(Claimed {
        job: None,
        hint: next_done,
    })
}

/// Whether the empty queue slot `seq` has been empty for long enough to be
/// abandoned (noting when it was first seen empty).
fn abandoned_slot(kv: &dyn KeyValue, seq: u64, now: Timestamp) -> Result<bool> {
    match timestamp(kv.get(&empty_since_key(seq))?) {
        Some(since) => Ok(now.millis() - since.millis() > EMPTY_SLOT_SECONDS * 1000),
        None => {
            qmarket_store::set_json(kv, &empty_since_key(seq), &now)?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_store::MemoryStore;
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    /// Jobs whose finished set and claims the tests control.
    #[derive(Default)]
    struct Fake {
        finished: Mutex<HashSet<String>>,
        lost: Mutex<Vec<String>>,
    }

    impl Jobs for Fake {
        fn finished(&self, _: &dyn KeyValue, job: &JobRef) -> Result<bool> {
            Ok(self.finished.lock().unwrap().contains(&job.id))
        }
        fn claimed(&self, _: &dyn KeyValue, _: &JobRef, _: u64, _: Timestamp) -> Result<bool> {
            Ok(true)
        }
        fn lost(&self, _: &dyn KeyValue, job: &JobRef, _: Timestamp) -> Result<()> {
            self.lost.lock().unwrap().push(job.id.clone());
            Ok(())
        }
    }

    fn job(id: &str, runtime: Runtime) -> JobRef {
        JobRef {
            kind: JobKind::Execution,
            id: id.into(),
            runtime,
        }
    }

    fn push(kv: &MemoryStore, job: &JobRef) {
        let (key, value) = enqueue_entry(kv, job).unwrap();
        kv.set(&key, &value).unwrap();
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + seconds * 1000)
    }

    const ALL: [Runtime; 3] = [Runtime::Wasm, Runtime::PythonTemplate, Runtime::Docker];

    #[test]
    fn jobs_are_handed_out_in_order_once_each() {
        let kv = MemoryStore::new();
        let fake = Fake::default();
        push(&kv, &job("a", Runtime::Wasm));
        push(&kv, &job("b", Runtime::Wasm));
        let first = claim_next(&kv, &fake, &ALL, 0, at(0)).unwrap();
        let second = claim_next(&kv, &fake, &ALL, first.hint, at(0)).unwrap();
        let third = claim_next(&kv, &fake, &ALL, second.hint, at(0)).unwrap();
        assert_eq!(first.job.unwrap().0.id, "a");
        assert_eq!(second.job.unwrap().0.id, "b");
        assert_eq!(third.job, None);
    }

    #[test]
    fn a_worker_gets_only_jobs_of_its_runtimes() {
        let kv = MemoryStore::new();
        let fake = Fake::default();
        push(&kv, &job("docker", Runtime::Docker));
        push(&kv, &job("wasm", Runtime::Wasm));
        let claimed = claim_next(&kv, &fake, &[Runtime::Wasm], 0, at(0)).unwrap();
        assert_eq!(claimed.job.unwrap().0.id, "wasm");
    }

    #[test]
    fn a_dead_attempt_is_taken_over_and_the_old_holder_is_no_longer_current() {
        let kv = MemoryStore::new();
        let fake = Fake::default();
        push(&kv, &job("a", Runtime::Wasm));
        let (_, first) = claim_next(&kv, &fake, &ALL, 0, at(0)).unwrap().job.unwrap();
        assert_eq!(first, 1);
        // Still alive a few seconds later: nobody else gets it.
        beat(&kv, "a", 1, at(5)).unwrap();
        assert_eq!(claim_next(&kv, &fake, &ALL, 0, at(12)).unwrap().job, None);
        // Silent for longer than the lease: the next attempt goes out.
        let (_, second) = claim_next(&kv, &fake, &ALL, 0, at(16))
            .unwrap()
            .job
            .unwrap();
        assert_eq!(second, 2);
        assert!(!is_current(&kv, "a", 1).unwrap());
        assert!(is_current(&kv, "a", 2).unwrap());
    }

    #[test]
    fn a_job_whose_attempts_all_died_is_lost_once() {
        let kv = MemoryStore::new();
        let fake = Fake::default();
        push(&kv, &job("a", Runtime::Wasm));
        let mut t = 0;
        for n in 1..=MAX_ATTEMPTS {
            let (_, attempt) = claim_next(&kv, &fake, &ALL, 0, at(t)).unwrap().job.unwrap();
            assert_eq!(attempt, n);
            t += LEASE_SECONDS + 1;
        }
        assert_eq!(claim_next(&kv, &fake, &ALL, 0, at(t)).unwrap().job, None);
        assert_eq!(
            claim_next(&kv, &fake, &ALL, 0, at(t + 1)).unwrap().job,
            None
        );
        assert_eq!(*fake.lost.lock().unwrap(), ["a"]);
    }

    #[test]
    fn finished_jobs_at_the_head_are_skipped_by_later_walks() {
        let kv = MemoryStore::new();
        let fake = Fake::default();
        for id in ["a", "b", "c"] {
            push(&kv, &job(id, Runtime::Wasm));
        }
        fake.finished
            .lock()
            .unwrap()
            .extend(["a".to_string(), "b".to_string()]);
        let claimed = claim_next(&kv, &fake, &ALL, 0, at(0)).unwrap();
        assert_eq!(claimed.job.unwrap().0.id, "c");
        assert_eq!(claimed.hint, 3);
        assert!(kv.exists(&done_key(2)).unwrap());
        assert!(!kv.exists(&done_key(3)).unwrap());
    }

    #[test]
    fn racing_workers_hand_out_each_job_exactly_once() {
        let kv = Arc::new(MemoryStore::new());
        let fake = Arc::new(Fake::default());
        for i in 0..100 {
            push(&kv, &job(&format!("j{i}"), Runtime::Wasm));
        }
        let handed: Vec<String> = (0..4)
            .map(|_| {
                let (kv, fake) = (kv.clone(), fake.clone());
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    let mut hint = 0;
                    loop {
                        let c = claim_next(&*kv, &*fake, &ALL, hint, at(0)).unwrap();
                        hint = c.hint;
                        match c.job {
                            Some((job, _)) => {
                                fake.finished.lock().unwrap().insert(job.id.clone());
                                mine.push(job.id);
                            }
                            None => return mine,
                        }
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let distinct: HashSet<&String> = handed.iter().collect();
        assert_eq!(handed.len(), 100);
        assert_eq!(distinct.len(), 100);
    }
}
