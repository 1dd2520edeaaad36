//! A subscription's gateway calls, newest first, each with the metering
//! events it caused and what they cost.
//!
//! The gateway records each forwarded call after answering it, in its
//! subscription's index of the day (`sub/{sub}/calls/{yyyymmdd}`) and under
//! its correlation id; metering adds every event it records to the index of
//! the event's call (`sub/{sub}/call/{correlationId}/events`), in the same
//! atomic write as the event's other slots. A call's view reads both; the
//! events are the ones the bill counts (a copy written by a stalled writer
//! after a takeover is left out, as the bill leaves it out), and each
//! event's amount is what the bill charges for it: its marginal cost in the
//! order of the month's usage log ([`event_amounts`]), as in the invoice's
//! events export. So the calls of a month add up to its bill, tiers and free
//! allowances included.

use std::collections::{BTreeMap, HashMap};

use qmarket_core::decimal::Amount;
use qmarket_core::time::DAY_MILLIS;
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{CallRecord, PricingPlan, CURRENCY};
use qmarket_store::{decode_counter, Index, KeyValue};
use serde::Serialize;

use crate::bill::billed_subscription;
use crate::marginal::event_amounts;
use crate::placement::{decode, with_settled, LoggedEvent};
use crate::rollup::UsageLog;
use crate::window::Window;

/// The most events a call's view shows.
pub const MAX_EVENTS_PER_CALL: u64 = 100;

/// A call as listed: its record, its events and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// What the gateway recorded.
    #[serde(flatten)]
    pub call: CallRecord,
    /// The metering events reported for it, oldest first.
    pub events: Vec<CallEventView>,
    /// Their amounts' sum.
    pub amount: Amount,
    /// Always `EUR`.
    pub currency: &'static str,
}

/// A metering event as a call's view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEventView {
    /// `evt_…`
    pub id: String,
    /// When the usage happened.
    pub timestamp: Timestamp,
    /// The product.
    pub product_id: String,
    /// The product's name.
    pub product_name: String,
    /// The product's unit.
    pub unit: String,
    /// Units counted.
    pub count: qmarket_core::decimal::Quantity,
    /// What the bill charges for it.
    pub amount: Amount,
}

/// One page of calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPage {
    /// The calls, newest first.
    pub items: Vec<CallView>,
    /// Where the next page starts, if anywhere.
    pub next: Option<String>,
}

/// A listing cursor: the day (`yyyymmdd`) and the index position to
/// continue below.
fn parse_cursor(cursor: &str) -> Result<(u32, u64)> {
    let bad = || Error::invalid_field("cursor", "is not a cursor this listing returned");
    let (date, seq) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((
        date.parse().map_err(|_| bad())?,
        seq.parse().map_err(|_| bad())?,
    ))
}

/// Up to `limit` calls of subscription `subscription_id` in `window`
/// (whole UTC days), newest first, for its subscriber or provider
/// (`caller`; anyone else gets 404), continuing at `cursor`.
pub fn list_calls(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    window: Window,
    limit: usize,
    cursor: Option<&str>,
) -> Result<CallPage> {
    let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
    let start = cursor.map(parse_cursor).transpose()?;
    let days: Vec<u32> = window
        .day_range()
        .rev()
        .map(|day| Timestamp::from_millis(day * DAY_MILLIS).utc_date())
        .filter(|date| start.is_none_or(|(from, _)| *date <= from))
        .collect();
    let indexes: Vec<Index> = days
        .iter()
        .map(|date| Index::new(CallRecord::day_index(&subscription.id, *date)))
        .collect();
    let counters: Vec<String> = indexes.iter().map(Index::seq_key).collect();
    let lasts = kv.get_many(&counters)?;
    let mut records = Vec::new();
    let mut next = None;
    for ((date, index), last) in days.iter().zip(&indexes).zip(lasts) {
        let last = last
            .as_deref()
            .and_then(decode_counter)
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        if last == 0 {
            continue;
        }
        if records.len() == limit {
            next = Some(format!("{date}.{}", last + 1));
            break;
        }
        let before = start.filter(|(from, _)| from == date).map(|(_, seq)| seq);
        let page = index.page_up_to(kv, last, before, limit - records.len())?;
        for (_, text) in &page.entries {
            if let Ok(record) = serde_json::from_str::<CallRecord>(text) {
                records.push(record);
            }
        }
        if let Some(seq) = page.next {
            next = Some(format!("{date}.{seq}"));
            break;
        }
    }
    Ok(CallPage {
        items: with_events(kv, &plan, records)?,
        next,
    })
}

/// The call with `correlation_id` of subscription `subscription_id`, for
/// its subscriber or provider (404 for anyone else, and for an id that is
/// not one of its calls).
pub fn get_call(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    correlation_id: &str,
) -> Result<CallView> {
    let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
    let not_found = || Error::not_found("call", correlation_id);
    let bytes = kv
        .get(&CallRecord::key(&subscription.id, correlation_id))?
        .ok_or_else(not_found)?;
    let record: CallRecord = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Internal(format!("call {correlation_id} is unreadable: {e}")))?;
    with_events(kv, &plan, vec![record])?
        .pop()
        .ok_or_else(|| Error::Internal("a call lost its view".into()))
}

/// The views of `records`: their events read for all of them at once (one
/// round trip for the counters, one for the slots, one for the events'
/// settled copies).
fn with_events(
    kv: &dyn KeyValue,
    plan: &PricingPlan,
    records: Vec<CallRecord>,
) -> Result<Vec<CallView>> {
    let indexes: Vec<Index> = records
        .iter()
        .map(|r| {
            Index::new(CallRecord::events_index(
                &r.subscription_id,
                &r.correlation_id,
            ))
        })
        .collect();
    let counters: Vec<String> = indexes.iter().map(Index::seq_key).collect();
    let counts: Vec<u64> = kv
        .get_many(&counters)?
        .into_iter()
        .map(|v| {
            v.as_deref()
                .and_then(decode_counter)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
                .min(MAX_EVENTS_PER_CALL)
        })
        .collect();
    let slot_keys: Vec<String> = indexes
        .iter()
        .zip(&counts)
        .flat_map(|(index, n)| (1..=*n).map(|seq| index.slot_key(seq)))
        .collect();
    let mut slots = kv.get_many(&slot_keys)?.into_iter();
    let mut logged: Vec<Vec<LoggedEvent>> = Vec::with_capacity(records.len());
    for n in &counts {
        let events: Vec<LoggedEvent> = slots
            .by_ref()
            .take(*n as usize)
            .flatten()
            .filter_map(|bytes| decode(&bytes))
            .collect();
        logged.push(events);
    }
    let all: Vec<LoggedEvent> = logged.iter().flatten().cloned().collect();
    let mut settled = with_settled(kv, all)?.into_iter();
    let mut counted: Vec<Vec<LoggedEvent>> = Vec::with_capacity(records.len());
    for events in &logged {
        let mut shown = Vec::new();
        for _ in 0..events.len() {
            let Some((event, first)) = settled.next() else {
                break;
            };
            if event.counts(first.as_ref()) {
                shown.push(event);
            }
        }
        counted.push(shown);
    }
    let amounts = amounts(kv, plan, counted.iter().flatten())?;
    let mut views = Vec::with_capacity(records.len());
    for (record, shown) in records.into_iter().zip(counted) {
        let events = shown
            .into_iter()
            .map(|logged| view(logged, &amounts))
            .collect::<Result<Vec<_>>>()?;
        let amount = events
            .iter()
            .try_fold(Amount::ZERO, |sum, e| sum.checked_add(e.amount))
            .ok_or_else(|| Error::Internal("a call's amount overflows".into()))?;
        views.push(CallView {
            call: record,
            events,
            amount,
            currency: CURRENCY,
        });
    }
    Ok(views)
}

/// What the bill charges for each of `events` (counted copies), by
/// usage log and slot: one [`event_amounts`] per month's log.
fn amounts<'a>(
    kv: &dyn KeyValue,
    plan: &PricingPlan,
    events: impl Iterator<Item = &'a LoggedEvent>,
) -> Result<HashMap<(String, u64), Amount>> {
    let mut slots: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for logged in events {
        slots
            .entry(logged.placement.log.as_str())
            .or_default()
            .push(logged.placement.log_slot);
    }
    let mut amounts = HashMap::new();
    for (log, slots) in slots {
        for priced in event_amounts(kv, plan, &UsageLog::at(log), &slots)? {
            amounts.insert((log.to_string(), priced.slot), priced.amount);
        }
    }
    Ok(amounts)
}

/// The view of a counted event, with its amount.
fn view(logged: LoggedEvent, amounts: &HashMap<(String, u64), Amount>) -> Result<CallEventView> {
    let key = (logged.placement.log, logged.placement.log_slot);
    let amount = *amounts
        .get(&key)
        .ok_or_else(|| Error::Internal(format!("event {} was not priced", logged.event.id)))?;
    let e = logged.event;
    Ok(CallEventView {
        id: e.id,
        timestamp: e.timestamp,
        product_id: e.product_id,
        product_name: e.product_name,
        unit: e.unit,
        count: e.count,
        amount,
    })
}
