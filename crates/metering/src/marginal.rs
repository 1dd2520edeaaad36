//! What each event of a month costs: its marginal amount.
//!
//! A product's amount is a function `P(q)` of the month's quantity, so an
//! event's own cost depends on the usage before it. The events of a
//! subscription's month are taken in the order of their slots in the
//! month's usage log, and each event costs
//! `P(units before it + its count) − P(units before it)` of its product.
//! These amounts add up, per product, to `P(the month's units)` exactly,
//! so the events of an invoice always sum to its total, and recomputing
//! them gives the same amounts: the slots, and which copy of an event
//! counts, never change once written (while a month is open, a slot
//! reserved before an event may still be filled in the seconds after it
//! was reserved, which moves the event's place in the month's usage; once
//! the month is final nothing moves).
//!
//! ```
//! use qmarket_metering::fixtures::*;
//! use qmarket_metering::{event_amounts, month_events, record_usage, UsageLog, UsageReport};
//! use qmarket_model::{PricingPlan, Record};
//!
//! let w = world();
//! let report = UsageReport::from_json(
//!     &serde_json::json!({"correlationId": CORRELATION, "productId": API, "count": 3}),
//!     None,
//! ).unwrap();
//! let recorded = record_usage(&ingest(&*w.kv, PROVIDER, quick()), &report).unwrap();
//! let plan = PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap();
//! let log = UsageLog::at(&recorded.placement.log);
//! // The cost of the events a gateway call caused, by their slots:
//! let priced = event_amounts(&*w.kv, &plan, &log, &[recorded.placement.log_slot]).unwrap();
//! assert_eq!(priced[0].amount.to_string(), "0.00003");
//! // Every event of the month, in slot order, with its amount:
//! let mut all = Vec::new();
//! month_events(&*w.kv, &plan, &log, |e| { all.push(e); Ok(()) }).unwrap();
//! assert_eq!(all.len(), 1);
//! ```

use std::collections::{BTreeSet, HashMap};

use qmarket_core::decimal::{Amount, Quantity};
use qmarket_core::{Error, Result};
use qmarket_model::{MeteringEvent, PricingPlan};
use qmarket_store::KeyValue;

use crate::placement::{with_settled, LoggedEvent};
use crate::rollup::{block_slots, blocks_total, UsageLog, BLOCK};

/// Slots read per round trip while walking a whole month.
const WALK_BATCH: u64 = 256;

/// A counted event with its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedEvent {
    /// The event.
    pub event: MeteringEvent,
    /// Its slot in the month's usage log.
    pub slot: u64,
    /// The units of its product counted in the month before it.
    pub units_before: Quantity,
    /// `P(units_before + count) − P(units_before)`: what it costs (may be
    /// negative for a `VOLUME` product whose cheaper tier it reaches).
    pub amount: Amount,
}

/// Running month-to-date units per product, pricing each counted event.
struct Meter<'a> {
    plan: &'a PricingPlan,
    units: HashMap<String, Quantity>,
}

impl Meter<'_> {
    /// Prices `event` after everything seen so far, and counts it in.
    fn price(&mut self, logged: LoggedEvent) -> Result<PricedEvent> {
        let (event, plan) = (logged.event, self.plan);
        let product = plan.product(&event.product_id).ok_or_else(|| {
            Error::Internal(format!(
                "product {} of event {} is not in plan {}",
                event.product_id, event.id, plan.id
            ))
        })?;
        let before = self.units.get(&product.id).copied().unwrap_or_default();
        let after = before
            .checked_add(event.count)
            .ok_or_else(|| Error::Internal("usage does not fit a quantity".into()))?;
        let amount = product.pricing().charge_between(before, after)?.amount;
        self.units.insert(product.id.clone(), after);
        Ok(PricedEvent {
            event,
            slot: logged.placement.log_slot,
            units_before: before,
            amount,
        })
    }
}

/// The counted events of `log` (a subscription's month, billed under
/// `plan`) among `slots`, each with its marginal amount, in slot order.
/// Slots that are empty, or hold a copy of an event that does not count,
/// are left out.
///
/// Efficient for a few slots anywhere in a long month: per block of
/// [`BLOCK`] slots asked about, the usage before the block comes from the
/// roll-ups of closed blocks (a handful of `get_many` calls) and only that
/// block's slots are read. Read-only.
pub fn event_amounts(
    kv: &dyn KeyValue,
    plan: &PricingPlan,
    log: &UsageLog,
    slots: &[u64],
) -> Result<Vec<PricedEvent>> {
    let last_seq = log.index().last_seq(kv)?;
    let wanted: BTreeSet<u64> = slots
        .iter()
        .copied()
        .filter(|s| (1..=last_seq).contains(s))
        .collect();
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    for slot in &wanted {
        let block = (slot - 1) / BLOCK;
        match blocks.last_mut() {
            Some((b, last)) if *b == block => *last = *slot,
            _ => blocks.push((block, *slot)),
        }
    }
    let mut priced = Vec::new();
    for (block, last) in blocks {
        let before = blocks_total(kv, log, block)?;
        let mut meter = Meter {
            plan,
            units: HashMap::new(),
        };
        for product in &plan.products {
            meter
                .units
                .insert(product.id.clone(), before.product_units(&product.id)?);
        }
        let first = *block_slots(block).start();
        for (event, settled) in with_settled(kv, log.events(kv, first..=last)?)? {
            if event.counts(settled.as_ref()) {
                let slot = event.placement.log_slot;
                let event = meter.price(event)?;
                if wanted.contains(&slot) {
                    priced.push(event);
                }
            }
        }
    }
    Ok(priced)
}

/// Calls `each` with every counted event of `log` (a subscription's month,
/// billed under `plan`) and its marginal amount, in slot order: the rows
/// of an invoice's events, whose amounts add up to its total exactly.
/// Reads every slot of the month, [`WALK_BATCH`] at a time. Read-only.
pub fn month_events(
    kv: &dyn KeyValue,
    plan: &PricingPlan,
    log: &UsageLog,
    mut each: impl FnMut(PricedEvent) -> Result<()>,
) -> Result<()> {
    let last_seq = log.index().last_seq(kv)?;
    let mut meter = Meter {
        plan,
        units: HashMap::new(),
    };
    let mut start = 1;
    while start <= last_seq {
        let end = (start + WALK_BATCH - 1).min(last_seq);
        for (event, settled) in with_settled(kv, log.events(kv, start..=end)?)? {
            if event.counts(settled.as_ref()) {
                each(meter.price(event)?)?;
            }
        }
        start = end + 1;
    }
    Ok(())
}
