//! A subscription's usage log of one month, and the roll-ups bills are made
//! of.
//!
//! The log is a [`qmarket_store::Index`]: one slot per accepted event,
//! numbered by an atomic `increment`, written once. Bills could sum the
//! slots, but a busy subscription has many, so closed stretches of the log
//! are summed once into roll-ups:
//!
//! - a *block* is [`BLOCK`] consecutive slots (`1..=64`, `65..=128`, …); its
//!   level-1 roll-up holds the units per UTC day and product of the events
//!   in it that count ([`crate::LoggedEvent::counts`]);
//! - [`BLOCK`] consecutive level-*k* roll-ups make one level-*k+1* roll-up.
//!
//! A roll-up is written only for a block whose contents can no longer
//! change: every slot in it reserved, every filled slot's copy settled, and
//! every empty slot abandoned — reserved by a writer that died or gave up
//! before writing it, which is known once an event reserved *after* that
//! slot is more than [`HOLE_GRACE_SECONDS`] old (a writer never fills a
//! slot later than [`crate::WRITE_DEADLINE_SECONDS`] after reserving it).
//! Its value is then a function of the slots alone, so every writer computes
//! the same value, and writing it twice is harmless: no claim is needed and
//! a writer that dies half-way leaves nothing for anyone to finish.
//!
//! Roll-ups are written by the metering requests themselves, as a bounded
//! step ([`close_step`]) after recording an event that ends a block. A bill
//! ([`total`]) is read-only: the roll-ups that exist, and the slots of the
//! blocks that have none yet (the open end of the log, and blocks not yet
//! closed), evaluated the same way. Its cost is a handful of `get_many`
//! calls whatever the length of the log.

use std::collections::BTreeMap;

use qmarket_core::decimal::Quantity;
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::MeteringEvent;
use qmarket_store::{get_json, set_json, Index, KeyValue};
use serde::{Deserialize, Serialize};

use crate::placement::{decode, with_settled, LoggedEvent};

/// Slots per block, and roll-ups per roll-up of the next level.
pub const BLOCK: u64 = 64;
/// How old an event reserved after an empty slot must be before that slot
/// counts as abandoned.
pub const HOLE_GRACE_SECONDS: i64 = 60;

/// A usage log: its slots and roll-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLog {
    prefix: String,
    index: Index,
}

/// Units per UTC day (days since the epoch) and product, and the number of
/// events they come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    /// Units used per day and product id.
    pub days: BTreeMap<i64, BTreeMap<String, Quantity>>,
    /// How many events were counted.
    pub events: u64,
}

impl Rollup {
    fn overflow() -> Error {
        Error::Internal("usage does not fit a quantity".into())
    }

    /// Adds one event.
    pub fn add(&mut self, event: &MeteringEvent) -> Result<()> {
        let units = self
            .days
            .entry(event.timestamp.day())
            .or_default()
            .entry(event.product_id.clone())
            .or_default();
        *units = units.checked_add(event.count).ok_or_else(Self::overflow)?;
        self.events += 1;
        Ok(())
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Rollup) -> Result<()> {
        for (day, products) in &other.days {
            let mine = self.days.entry(*day).or_default();
            for (product, units) in products {
                let sum = mine.entry(product.clone()).or_default();
                *sum = sum.checked_add(*units).ok_or_else(Self::overflow)?;
            }
        }
        self.events += other.events;
        Ok(())
    }

    /// The units of `product` on every day.
    pub fn product_units(&self, product: &str) -> Result<Quantity> {
        self.units(product, i64::MIN..i64::MAX)
    }

    /// The units of `product` on the days in `days`.
    pub fn units(&self, product: &str, days: std::ops::Range<i64>) -> Result<Quantity> {
        self.days
            .range(days)
            .filter_map(|(_, products)| products.get(product))
            .try_fold(Quantity::ZERO, |sum, units| sum.checked_add(*units))
            .ok_or_else(Self::overflow)
    }
}

impl UsageLog {
    /// The log under `prefix` (see [`MeteringEvent::usage_log`]).
    pub fn at(prefix: &str) -> Self {
        UsageLog {
            prefix: prefix.to_string(),
            index: Index::new(prefix),
        }
    }

    /// Subscription `sub`'s log of month `month` (`yyyymm`).
    pub fn of(sub: &str, month: u32) -> Self {
        Self::at(&MeteringEvent::usage_log(sub, month))
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The slots.
    pub fn index(&self) -> &Index {
        &self.index
    }

    fn rollup_key(&self, level: u32, n: u64) -> String {
        format!("{}/rollup/{level}/{n}", self.prefix)
    }

    /// The events in slots `seqs` (empty and unreadable slots left out).
    pub(crate) fn events(
        &self,
        kv: &dyn KeyValue,
        seqs: impl IntoIterator<Item = u64>,
    ) -> Result<Vec<LoggedEvent>> {
        Ok(self
            .index
            .slots(kv, seqs)?
            .into_iter()
            .filter_map(|(_, bytes)| bytes.as_deref().and_then(decode))
            .collect())
    }
}

/// The slots of block `block`.
pub(crate) fn block_slots(block: u64) -> std::ops::RangeInclusive<u64> {
    block * BLOCK + 1..=(block + 1) * BLOCK
}

/// The sum of the events in `events` that count (a read-only evaluation:
/// copies that do not count and unsettled ones are left out).
fn sum_counted(kv: &dyn KeyValue, events: Vec<LoggedEvent>) -> Result<Rollup> {
    let mut sum = Rollup::default();
    for (event, settled) in with_settled(kv, events)? {
        if event.counts(settled.as_ref()) {
            sum.add(&event.event)?;
        }
    }
    Ok(sum)
}

/// Block `block`'s roll-up if its contents can no longer change (see the
/// module documentation), `None` while they can.
fn final_block(
    kv: &dyn KeyValue,
    log: &UsageLog,
    block: u64,
    last_seq: u64,
    now: Timestamp,
) -> Result<Option<Rollup>> {
    let slots = block_slots(block);
    if *slots.end() > last_seq {
        return Ok(None);
    }
    let read = log.index.slots(kv, slots.clone())?;
    let last_hole = read
        .iter()
        .filter(|(_, bytes)| bytes.is_none())
        .map(|(seq, _)| *seq)
        .max();
    let events: Vec<LoggedEvent> = read
        .iter()
        .filter_map(|(_, bytes)| bytes.as_deref().and_then(decode))
        .collect();
    if let Some(hole) = last_hole {
        let abandoned_before = now.plus_seconds(-HOLE_GRACE_SECONDS);
        let later_and_old = |e: &LoggedEvent| {
            e.placement.log_slot > hole && e.placement.reserved_at <= abandoned_before
        };
        let mut abandoned = events.iter().any(later_and_old);
        if !abandoned {
            let next = block_slots(block + 1);
            let next = *next.start()..=(*next.end()).min(last_seq);
            abandoned = log.events(kv, next)?.iter().any(later_and_old);
        }
        if !abandoned {
            return Ok(None);
        }
    }
    let mut sum = Rollup::default();
    for (event, settled) in with_settled(kv, events)? {
        if event.placement.idempotency_key.is_some() && settled.is_none() {
            return Ok(None);
        }
        if event.counts(settled.as_ref()) {
            sum.add(&event.event)?;
        }
    }
    Ok(Some(sum))
}

/// After slot `slot` of `log` was written: when it ends a block, roll up
/// that block and the one before it if they are final, and retry the
/// oldest block of their group still without a roll-up; then complete the
/// roll-ups of the levels above. Bounded work: a few blocks, once per
/// [`BLOCK`] events.
pub fn close_step(kv: &dyn KeyValue, log: &UsageLog, slot: u64, now: Timestamp) -> Result<()> {
    if slot == 0 || !slot.is_multiple_of(BLOCK) {
        return Ok(());
    }
    let block = slot / BLOCK - 1;
    let last_seq = log.index.last_seq(kv)?;
    // This block's group, and the block before it (which may end the
    // previous group).
    let first = (block - block % BLOCK).min(block.saturating_sub(1));
    let keys: Vec<String> = (first..=block).map(|b| log.rollup_key(1, b)).collect();
    let missing: Vec<u64> = (first..=block)
        .zip(kv.get_many(&keys)?)
        .filter(|(_, value)| value.is_none())
        .map(|(b, _)| b)
        .collect();
    let mut candidates: Vec<u64> = missing
        .iter()
        .copied()
        .filter(|b| *b + 1 >= block)
        .collect();
    if let Some(oldest) = missing.iter().copied().find(|b| *b + 1 < block) {
        candidates.insert(0, oldest);
    }
    for candidate in candidates {
        if let Some(rollup) = final_block(kv, log, candidate, last_seq, now)? {
            set_json(kv, &log.rollup_key(1, candidate), &rollup)?;
            complete_parents(kv, log, 1, candidate)?;
        }
    }
    Ok(())
}

/// Writes the roll-up of the level above `(level, n)` once all of its
/// [`BLOCK`] parts exist, and so on upwards.
fn complete_parents(kv: &dyn KeyValue, log: &UsageLog, level: u32, n: u64) -> Result<()> {
    let (mut level, mut n) = (level, n);
    loop {
        let group = n / BLOCK;
        let keys: Vec<String> = (group * BLOCK..(group + 1) * BLOCK)
            .map(|part| log.rollup_key(level, part))
            .collect();
        let mut sum = Rollup::default();
        for value in kv.get_many(&keys)? {
            let Some(bytes) = value else {
                return Ok(());
            };
            let part: Rollup = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!("unreadable roll-up in {}: {e}", log.prefix))
            })?;
            sum.merge(&part)?;
        }
        set_json(kv, &log.rollup_key(level + 1, group), &sum)?;
        level += 1;
        n = group;
    }
}

/// Everything counted in `log` so far (read-only): the roll-ups that cover
/// it, and the slots of what no roll-up covers yet.
pub fn total(kv: &dyn KeyValue, log: &UsageLog) -> Result<Rollup> {
    let last_seq = log.index.last_seq(kv)?;
    let complete_blocks = last_seq / BLOCK;
    let mut sum = blocks_total(kv, log, complete_blocks)?;
    let tail = complete_blocks * BLOCK + 1..=last_seq;
    if !tail.is_empty() {
        sum.merge(&sum_counted(kv, log.events(kv, tail)?)?)?;
    }
    Ok(sum)
}

/// Everything counted in the first `blocks` blocks of `log` (read-only):
/// the largest roll-ups that fit, and the slots of the blocks that have
/// none yet. A handful of `get_many` calls whatever `blocks` is.
pub(crate) fn blocks_total(kv: &dyn KeyValue, log: &UsageLog, blocks: u64) -> Result<Rollup> {
    // The largest roll-ups that fit, from the start: the digits of the
    // number of blocks in base BLOCK.
    let mut wanted: Vec<(u32, u64)> = Vec::new();
    let mut level = 1u32;
    while BLOCK.saturating_pow(level) <= blocks {
        level += 1;
    }
    let mut position = 0u64;
    while level >= 1 {
        let size = BLOCK.saturating_pow(level - 1);
        while position + size <= blocks {
            wanted.push((level, position / size));
            position += size;
        }
        level -= 1;
    }
    let mut sum = Rollup::default();
    let mut open_blocks = Vec::new();
    while !wanted.is_empty() {
        let keys: Vec<String> = wanted.iter().map(|(l, n)| log.rollup_key(*l, *n)).collect();
        let mut next = Vec::new();
        for ((level, n), value) in wanted.into_iter().zip(kv.get_many(&keys)?) {
            match value {
                Some(bytes) => {
                    let part: Rollup = serde_json::from_slice(&bytes).map_err(|e| {
                        Error::Internal(format!("unreadable roll-up in {}: {e}", log.prefix))
                    })?;
                    sum.merge(&part)?;
                }
                None if level > 1 => {
                    next.extend((n * BLOCK..(n + 1) * BLOCK).map(|p| (level - 1, p)))
                }
                None => open_blocks.push(n),
            }
        }
        wanted = next;
    }
    for block in open_blocks {
        sum.merge(&sum_counted(kv, log.events(kv, block_slots(block))?)?)?;
    }
    Ok(sum)
}

/// The roll-up at `(level, n)`, if written (for tests and diagnostics).
pub fn rollup(kv: &dyn KeyValue, log: &UsageLog, level: u32, n: u64) -> Result<Option<Rollup>> {
    get_json(kv, &log.rollup_key(level, n))
}
