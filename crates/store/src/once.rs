//! Values written once under a key, by whichever caller claims it first,
//! that every later caller reads instead of writing its own.
//!
//! Real Spin stores have no atomic "set if absent", so [`write_once`] builds
//! one from a [`claim`] and a plain write:
//!
//! 1. The caller whose claim of `key` wins makes its value and writes it at
//!    `{key}/value`.
//! 2. Every other caller polls `{key}/value` (for [`Waiting::max`]) and takes
//!    the value found there.
//! 3. A value that never comes means the claimant died (or its store failed)
//!    between its claim and its write. The first caller to claim
//!    `{key}/takeover/1` then writes its own value in the claimant's place;
//!    the others wait for that one, and if it never comes either, the first
//!    to claim `{key}/takeover/2` takes over, and so on up to
//!    [`MAX_TAKEOVERS`] generations, after which callers give up ([`None`]).
//!    Every generation is claimed with an `increment`, so at most one caller
//!    writes per generation.
//!
//! A claimant that is merely stalled for longer than [`Waiting::max`] between
//! its claim and its write can overwrite a taker's value: callers that need
//! one value per key despite that must make such a pair harmless (both
//! values name the same thing, or the second write is never acted on).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{claim, get_json, set_json, KeyValue};

/// How many callers in a row may take over a value whose writer died
/// before a caller gives up: each generation costs a waiter one
/// [`Waiting::max`].
pub const MAX_TAKEOVERS: u32 = 8;

/// How long a caller waits for a value another caller claimed the right to
/// write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// The longest total wait.
    pub max: Duration,
    /// The first pause; pauses double up to 25 ms.
    pub first_step: Duration,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting {
            max: Duration::from_secs(2),
            first_step: Duration::from_millis(1),
        }
    }
}

/// Whose value [`write_once`] settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// This caller's value: it won the claim (or the takeover) and wrote it.
    Mine(T),
    /// The value an earlier caller wrote.
    Theirs(T),
}

impl<T> Written<T> {
    /// The value, whoever wrote it.
    pub fn into_value(self) -> T {
        match self {
            Written::Mine(value) | Written::Theirs(value) => value,
        }
    }
}

/// The value under `key`: the one an earlier caller wrote, or the one
/// `make` returns when this caller is the first (see the module
/// documentation). `None` when a value was claimed but neither it nor a
/// takeover's value appeared within `waiting`: the caller should answer
/// "retry later" rather than guess.
pub fn write_once<T: Serialize + DeserializeOwned>(
    kv: &dyn KeyValue,
    key: &str,
    waiting: Waiting,
    make: impl FnOnce() -> qmarket_core::Result<T>,
) -> qmarket_core::Result<Option<Written<T>>> {
    write_once_by(kv, key, waiting, |value_key| {
        let value = make()?;
        set_json(kv, value_key, &value)?;
        Ok(value)
    })
}

/// [`write_once`] for a caller that writes the value itself: `make` gets
/// the key the value belongs at (`{key}/value`) and must write it as JSON,
/// typically in one `set_many` with other keys that must appear with it.
pub fn write_once_by<T: DeserializeOwned>(
    kv: &dyn KeyValue,
    key: &str,
    waiting: Waiting,
    make: impl FnOnce(&str) -> qmarket_core::Result<T>,
) -> qmarket_core::Result<Option<Written<T>>> {
    Ok(match claim_value(kv, key, waiting)? {
        Claim::Settled(theirs) => Some(Written::Theirs(theirs)),
        Claim::Won => Some(Written::Mine(make(&value_key(key))?)),
        Claim::Undecided => None,
    })
}

/// What [`claim_value`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim<T> {
    /// The value an earlier caller wrote.
    Settled(T),
    /// This caller won the claim (or a takeover): it must write the value at
    /// [`value_key`] now, nothing else running in between if it can help it
    /// (a failure in between leaves the key claimed without a value until a
    /// takeover).
    Won,
    /// A value was claimed but neither it nor a takeover's appeared within
    /// the wait: "retry later" rather than a guess.
    Undecided,
}

/// The first step of [`write_once_by`] on its own, for a caller that claims
/// several keys before it writes their values together in one `set_many`.
/// Such a caller must claim its keys in one order that every caller keeps
/// (sorted, say): two callers then never wait for each other's value.
pub fn claim_value<T: DeserializeOwned>(
    kv: &dyn KeyValue,
    key: &str,
    waiting: Waiting,
) -> qmarket_core::Result<Claim<T>> {
    let value_key = value_key(key);
    // A value already settled is read, not claimed again: later callers
    // write nothing.
    if let Some(theirs) = get_json(kv, &value_key)? {
        return Ok(Claim::Settled(theirs));
    }
    if claim(kv, key)? {
        return Ok(Claim::Won);
    }
    for generation in 1..=MAX_TAKEOVERS {
        if let Some(theirs) = wait_for(kv, &value_key, waiting)? {
            return Ok(Claim::Settled(theirs));
        }
        if claim(kv, &format!("{key}/takeover/{generation}"))? {
            if let Some(theirs) = get_json(kv, &value_key)? {
                return Ok(Claim::Settled(theirs));
            }
            return Ok(Claim::Won);
        }
    }
    Ok(match wait_for(kv, &value_key, waiting)? {
        Some(theirs) => Claim::Settled(theirs),
        None => Claim::Undecided,
    })
}

/// Where [`write_once`] keeps the value settled on for `key`.
pub fn value_key(key: &str) -> String {
    format!("{key}/value")
}

/// Polls `key` until it holds a value or `waiting.max` has passed.
fn wait_for<T: DeserializeOwned>(
    kv: &dyn KeyValue,
    key: &str,
    waiting: Waiting,
) -> qmarket_core::Result<Option<T>> {
    let mut waited = Duration::ZERO;
    let mut step = waiting.first_step.max(Duration::from_micros(100));
    loop {
        if let Some(value) = get_json(kv, key)? {
            return Ok(Some(value));
        }
        if waited >= waiting.max {
            return Ok(None);
        }
        std::thread::sleep(step);
        waited += step;
        step = (step * 2).min(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn quick() -> Waiting {
        Waiting {
            max: Duration::from_millis(30),
            first_step: Duration::from_millis(1),
        }
    }

    #[test]
    fn the_first_caller_writes_and_later_callers_read_its_value() {
        let kv = MemoryStore::new();
        let first = write_once(&kv, "k", quick(), || Ok(1u64)).unwrap();
        let second = write_once(&kv, "k", quick(), || Ok(2u64)).unwrap();
        assert_eq!(first, Some(Written::Mine(1)));
        assert_eq!(second, Some(Written::Theirs(1)));
    }

    #[test]
    fn a_settled_value_is_read_without_any_write() {
        let kv = MemoryStore::new();
        write_once(&kv, "k", quick(), || Ok(1u64)).unwrap();
        let before = kv.dump();
        assert_eq!(
            write_once(&kv, "k", quick(), || Ok(2u64)).unwrap(),
            Some(Written::Theirs(1))
        );
        assert_eq!(kv.dump(), before);
    }

    #[test]
    fn a_claimant_that_never_wrote_is_taken_over_once() {
        let kv = MemoryStore::new();
        claim(&kv, "k").unwrap();
        let taker = write_once(&kv, "k", quick(), || Ok(7u64)).unwrap();
        let later = write_once(&kv, "k", quick(), || Ok(8u64)).unwrap();
        assert_eq!(taker, Some(Written::Mine(7)));
        assert_eq!(later, Some(Written::Theirs(7)));
    }

    #[test]
    fn a_key_whose_claimant_and_first_taker_died_is_taken_over_by_the_next() {
        let kv = MemoryStore::new();
        claim(&kv, "k").unwrap();
        claim(&kv, "k/takeover/1").unwrap();
        let taker = write_once(&kv, "k", quick(), || Ok(5u64)).unwrap();
        assert_eq!(taker, Some(Written::Mine(5)));
        assert_eq!(kv.get("k/takeover/2").unwrap(), Some(b"1".to_vec()));
    }

    #[test]
    fn a_key_whose_claimant_and_every_taker_died_gives_up_without_writing() {
        let kv = MemoryStore::new();
        claim(&kv, "k").unwrap();
        for generation in 1..=MAX_TAKEOVERS {
            claim(&kv, &format!("k/takeover/{generation}")).unwrap();
        }
        let mut made = false;
        let outcome = write_once(&kv, "k", quick(), || {
            made = true;
            Ok(9u64)
        })
        .unwrap();
        assert_eq!(outcome, None);
        assert!(!made, "no value was made for a key it could not write");
        assert_eq!(kv.get("k/value").unwrap(), None);
    }

    #[test]
    fn a_failing_maker_leaves_the_key_to_a_later_taker() {
        let kv = MemoryStore::new();
        let failed = write_once::<u64>(&kv, "k", quick(), || {
            Err(qmarket_core::Error::Unavailable("store down".into()))
        });
        let retry = write_once(&kv, "k", quick(), || Ok(3u64)).unwrap();
        assert!(failed.is_err());
        assert_eq!(retry, Some(Written::Mine(3)));
    }

    #[test]
    fn concurrent_callers_all_settle_on_one_value() {
        let kv = std::sync::Arc::new(MemoryStore::new());
        let handles: Vec<_> = (0..16u64)
            .map(|i| {
                let kv = kv.clone();
                std::thread::spawn(move || {
                    write_once(&*kv, "k", Waiting::default(), || Ok(i))
                        .unwrap()
                        .expect("a value")
                })
            })
            .collect();
        let outcomes: Vec<Written<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mine = outcomes
            .iter()
            .filter(|o| matches!(o, Written::Mine(_)))
            .count();
        let values: std::collections::HashSet<u64> =
            outcomes.into_iter().map(Written::into_value).collect();
        assert_eq!(mine, 1);
        assert_eq!(values.len(), 1);
    }
}
