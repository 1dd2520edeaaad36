//! Accepting usage reports: checks against the store, the once-only claim
//! of each `eventId`, and the one atomic write that makes a request's
//! events count.
//!
//! A request — one report, or a batch of up to [`crate::MAX_BATCH`] — is
//! recorded in four steps, whatever its size:
//!
//! 1. every report is checked (correlation, product, timestamp; each
//!    correlation and plan read once per request, and what can be known
//!    ahead — subscriptions, the values of eventId claims — read together
//!    in one round trip);
//! 2. every `eventId` is claimed, in one order all requests keep (sorted
//!    keys), so that two requests never wait for each other; a copy of an
//!    event already recorded is answered with that event instead;
//! 3. the new events' slots are reserved, one `increment` per usage log and
//!    one per service listing for the whole request;
//! 4. all of it — slots, the values of the claimed keys, and the value of a
//!    batch's own `Idempotency-Key` — is written in **one** `set_many`.
//!
//! So a report with an `eventId` costs four writes (its claim, two
//! reservations, the write) and one without three; a batch of 100 reports
//! under one correlation costs three plus one claim per `eventId`.

use std::collections::{BTreeMap, HashMap};

use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{secret, Error, Result, Timestamp};
use qmarket_model::{
    resolve_correlation, CallRecord, Correlation, MeteringEvent, PricingPlan, Record,
    SealedCorrelation, Subscription,
};
use qmarket_sealing::Sealer;
use qmarket_store::{claim_value, value_key, Claim, Index, KeyValue, Prefetched};
use serde::{Deserialize, Serialize};

use crate::finality::Grace;
use crate::placement::{LoggedEvent, Placement};
use crate::report::UsageReport;
use crate::rollup::{close_step, UsageLog, BLOCK};
use crate::spend_cap::note_spending;
use crate::window::month_of;

/// How far in the future a reported `timestamp` may lie (clock skew).
pub const MAX_FUTURE_SECONDS: i64 = 5 * 60;
/// How far in the past a reported `timestamp` may lie (correlations live 35 days).
pub const MAX_PAST_SECONDS: i64 = 35 * 24 * 60 * 60;
/// The longest a writer may take from reserving its slots to writing them;
/// one that is later gives up (503) and leaves the slots empty, so that an
/// empty slot older than [`crate::HOLE_GRACE_SECONDS`] is known abandoned.
pub const WRITE_DEADLINE_SECONDS: i64 = 10;

/// How long a copy of a report waits for the first copy's write.
pub use qmarket_store::Waiting;

/// Who records usage, against which store and when.
#[derive(Clone, Copy)]
pub struct Ingest<'a> {
    /// The store.
    pub kv: &'a dyn KeyValue,
    /// The reporting provider's account.
    pub caller: &'a str,
    /// Opens gateway correlation ids: the platform's sealer for
    /// [`qmarket_model::SealedCorrelation::PURPOSE`]; `None` where only
    /// stored correlations (managed executions) are metered.
    pub correlations: Option<&'a Sealer>,
    /// The time the reports arrived.
    pub now: Timestamp,
    /// How long a copy waits for its first copy's write.
    pub waiting: Waiting,
    /// When a month becomes final: a report of usage in a final month is
    /// refused (422 on `timestamp`).
    pub grace: Grace,
}

/// An accepted report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// The event: the new one, or the first one recorded under the same id.
    pub event: MeteringEvent,
    /// Where it is kept.
    pub placement: Placement,
    /// Whether this report repeated an `eventId` already recorded.
    pub replayed: bool,
}

/// The outcome of every report of a request, in order, and whether the
/// whole request repeated one already answered (a batch's
/// `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answered {
    /// Per report: recorded, or why not.
    pub items: Vec<std::result::Result<Recorded, Error>>,
    /// Whether this is the stored answer of an earlier request with the
    /// same key.
    pub replayed: bool,
}

/// Checks `report` from `ingest.caller` against the store and records it
/// (once per `eventId`): see the module documentation.
pub fn record_usage(ingest: &Ingest, report: &UsageReport) -> Result<Recorded> {
    let answered = record_reports(ingest, vec![Ok(report.clone())], None)?;
    answered
        .items
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(Error::Internal("a report went unanswered".into())))
}

/// A request's idempotency key for its reports as a whole (a batch's
/// `Idempotency-Key` header), with a fingerprint of what it covers.
#[derive(Debug, Clone)]
pub struct RequestKey {
    /// The client's key.
    pub key: String,
    /// A hash of the request body: a key used again for another body is
    /// refused (422).
    pub body_hash: String,
}

/// What a request key keeps: the answer and the body it was for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeptAnswer {
    body_hash: String,
    answered: Answered,
}

/// Records the reports of one request (`reports` as parsed, a parse error
/// answered in its place), in the four steps of the module documentation.
/// With `request_key`, the whole request is recorded once per key and
/// account: a repeat gets the first answer (`replayed`).
pub fn record_reports(
    ingest: &Ingest,
    reports: Vec<Result<UsageReport>>,
    request_key: Option<&RequestKey>,
) -> Result<Answered> {
    let kept_key = request_key
        .map(|k| MeteringEvent::batch_idempotency_key(ingest.caller, &secret::hash(&k.key)));
    let prefetched = Prefetched::new(ingest.kv);
    prefetched.prefetch(&first_reads(ingest, &reports, kept_key.as_deref()))?;
    let ingest = &Ingest {
        kv: &prefetched,
        ..*ingest
    };
    if let (Some(key), Some(request)) = (&kept_key, request_key) {
        match claim_value::<KeptAnswer>(ingest.kv, key, ingest.waiting)? {
            Claim::Settled(kept) if kept.body_hash == request.body_hash => {
                return Ok(Answered {
                    replayed: true,
                    ..kept.answered
                });
            }
            Claim::Settled(_) => {
                return Err(Error::unprocessable_field(
                    "Idempotency-Key",
                    "was used before for another batch; use a new key for new reports",
                ))
            }
            Claim::Undecided => {
                return Err(Error::Conflict(
                    "a batch with this Idempotency-Key is being recorded by an earlier request; retry later"
                        .into(),
                ))
            }
            Claim::Won => {}
        }
    }
    let mut checks = Checks::new(ingest);
    let mut items: Vec<Item> = reports
        .into_iter()
        .map(
            |report| match report.and_then(|r| checks.event(&r).map(|e| (r, e))) {
                Ok((report, event)) => Item::Fresh(report.event_id.clone(), event),
                Err(error) => Item::Done(Err(error)),
            },
        )
        .collect();
    claim_events(ingest, &mut items);
    let written = write(ingest, &mut items, kept_key.as_deref(), request_key)?;
    // The events are durable and answered for; rolling up is the next
    // writer's to finish if this one fails here.
    for (log, slots) in written {
        let log = UsageLog::at(&log);
        for slot in slots.filter(|s| s % BLOCK == 0) {
            if let Err(e) = close_step(ingest.kv, &log, slot, Timestamp::now()) {
                eprintln!("metering: rolling up {} failed: {e}", log.prefix());
            }
        }
    }
    let mut subscriptions: Vec<&str> = items
        .iter()
        .filter_map(|item| match item {
            Item::Done(Ok(recorded)) if !recorded.replayed => {
                Some(recorded.event.subscription_id.as_str())
            }
            _ => None,
        })
        .collect();
    subscriptions.sort_unstable();
    subscriptions.dedup();
    for subscription_id in subscriptions {
        if let Err(e) = note_spending(ingest.kv, ingest.caller, subscription_id, ingest.now) {
            eprintln!("metering: checking the spend cap of {subscription_id} failed: {e}");
        }
    }
    Ok(Answered {
        items: items.iter().map(Item::result).collect(),
        replayed: false,
    })
}

/// The keys the reports of a request read first, for one round trip: the
/// subscription each sealed correlation id names (or each stored
/// correlation), the values of their eventIds' claims, and the value of
/// the request's own key.
fn first_reads(
    ingest: &Ingest,
    reports: &[Result<UsageReport>],
    kept_key: Option<&str>,
) -> Vec<String> {
    let mut keys: Vec<String> = kept_key.map(value_key).into_iter().collect();
    let mut correlations: Vec<&str> = Vec::new();
    for report in reports.iter().flatten() {
        if !correlations.contains(&report.correlation_id.as_str()) {
            correlations.push(&report.correlation_id);
            let sealed = ingest
                .correlations
                .and_then(|sealer| SealedCorrelation::open(sealer, &report.correlation_id));
            match sealed {
                Some(claims) => keys.extend([
                    Subscription::key(&claims.subscription_id),
                    Subscription::spend_cap_key(&claims.subscription_id),
                ]),
                None => keys.push(Correlation::key(&report.correlation_id)),
            }
        }
        if let Some(event_id) = &report.event_id {
            let key = MeteringEvent::idempotency_key(ingest.caller, &secret::hash(event_id));
            keys.push(value_key(&key));
        }
    }
    keys
}

/// Where one report of a request stands.
enum Item {
    /// Checked, not yet claimed or written: its `eventId` and event.
    Fresh(Option<String>, MeteringEvent),
    /// Its `eventId` claimed (or it has none): to be written.
    ToWrite(Option<String>, MeteringEvent),
    /// The same `eventId` as the item at this position, earlier in the
    /// request: answered as that one is, replayed.
    CopyOf(usize),
    /// Answered: written, replayed, or refused.
    Done(Result<Recorded>),
    /// Moved out while being worked on.
    Taken,
}

impl Item {
    fn take(&mut self) -> Item {
        std::mem::replace(self, Item::Taken)
    }

    fn result(&self) -> Result<Recorded> {
        match self {
            Item::Done(result) => result.clone(),
            _ => Err(Error::Internal("a report was left unrecorded".into())),
        }
    }
}

/// The checks of step 1, reading each correlation and plan once.
struct Checks<'a> {
    ingest: &'a Ingest<'a>,
    correlations: HashMap<String, Option<Correlation>>,
    plans: HashMap<String, Option<PricingPlan>>,
}

impl<'a> Checks<'a> {
    fn new(ingest: &'a Ingest<'a>) -> Self {
        Checks {
            ingest,
            correlations: HashMap::new(),
            plans: HashMap::new(),
        }
    }

    fn correlation(&mut self, id: &str) -> Result<Option<Correlation>> {
        if let Some(found) = self.correlations.get(id) {
            return Ok(found.clone());
        }
        let Ingest {
            kv,
            correlations,
            now,
            ..
        } = *self.ingest;
        let found = match correlations {
            Some(sealer) => resolve_correlation(kv, sealer, id, now)?,
            None => Correlation::load(kv, id)?,
        };
        self.correlations.insert(id.to_string(), found.clone());
        Ok(found)
    }

    fn plan(&mut self, id: &str) -> Result<Option<PricingPlan>> {
        if let Some(found) = self.plans.get(id) {
            return Ok(found.clone());
        }
        let found = PricingPlan::load(self.ingest.kv, id)?;
        self.plans.insert(id.to_string(), found.clone());
        Ok(found)
    }

    /// Whether `report`'s `eventId` was recorded already (its claim's
    /// value is written; read with the request's first reads).
    fn recorded_before(&self, report: &UsageReport) -> Result<bool> {
        let Some(event_id) = &report.event_id else {
            return Ok(false);
        };
        let key = MeteringEvent::idempotency_key(self.ingest.caller, &secret::hash(event_id));
        Ok(self.ingest.kv.get(&value_key(&key))?.is_some())
    }

    /// The event `report` stands for, refusing what may not be metered.
    fn event(&mut self, report: &UsageReport) -> Result<MeteringEvent> {
        let (caller, now) = (self.ingest.caller, self.ingest.now);
        let unknown = || Error::not_found("correlation", &truncated(&report.correlation_id));
        let correlation = self
            .correlation(&report.correlation_id)?
            .filter(|c| c.provider_id == caller)
            .ok_or_else(unknown)?;
        let plan = self.plan(&correlation.pricing_plan_id)?.ok_or_else(|| {
            Error::unprocessable(format!(
                "the pricing plan of correlation '{}' no longer exists",
                truncated(&correlation.id)
            ))
        })?;
        let product = plan.product(&report.product_id).ok_or_else(|| {
            Error::unprocessable_field(
                "productId",
                format!(
                    "'{}' is not a product of the pricing plan '{}' of this subscription",
                    truncated(&report.product_id),
                    plan.id
                ),
            )
        })?;
        let timestamp = report.timestamp.unwrap_or(now);
        if timestamp > now.plus_seconds(MAX_FUTURE_SECONDS) {
            return Err(Error::unprocessable_field(
                "timestamp",
                "lies more than 5 minutes in the future",
            ));
        }
        if timestamp < now.plus_seconds(-MAX_PAST_SECONDS) {
            return Err(Error::unprocessable_field(
                "timestamp",
                "lies more than 35 days in the past",
            ));
        }
        if let Err(late) = self.ingest.grace.admit(month_of(timestamp)?, now) {
            // A repeat of an event recorded while its month was open is
            // answered with that event (step 2), not refused.
            if !self.recorded_before(report)? {
                return Err(late);
            }
        }
        let amount = report.count.times(product.unit_price).ok_or_else(|| {
            Error::unprocessable_field("count", "times the unit price is too large")
        })?;
        Ok(MeteringEvent {
            id: new_id(IdKind::MeteringEvent)?,
            provider_id: caller.to_string(),
            event_id: report.event_id.clone(),
            timestamp,
            received_at: now,
            product_id: product.id.clone(),
            product_name: product.name.clone(),
            unit: product.unit.clone(),
            unit_price: product.unit_price,
            count: report.count,
            amount,
            correlation_id: correlation.id.clone(),
            service_id: correlation.service_id.clone(),
            subscription_id: correlation.subscription_id.clone(),
            application_id: correlation.application_id.clone(),
            pricing_plan_id: correlation.pricing_plan_id.clone(),
            test_mode: correlation.test_mode,
        })
    }
}

/// Step 2: claims the `eventId` of every fresh item, in sorted key order.
/// A copy of an event already recorded (earlier, or earlier in this
/// request) is answered with it; an event whose claim cannot be decided is
/// answered 409.
fn claim_events(ingest: &Ingest, items: &mut [Item]) {
    let mut order: Vec<(String, usize)> = Vec::new();
    for (n, item) in items.iter_mut().enumerate() {
        match item.take() {
            Item::Fresh(Some(event_id), event) => {
                let key = MeteringEvent::idempotency_key(ingest.caller, &secret::hash(&event_id));
                order.push((key, n));
                *item = Item::Fresh(Some(event_id), event);
            }
            Item::Fresh(None, event) => *item = Item::ToWrite(None, event),
            other => *item = other,
        }
    }
    order.sort();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (key, n) in order {
        if let Some(&first) = first_of.get(&key) {
            items[n] = Item::CopyOf(first);
            continue;
        }
        first_of.insert(key.clone(), n);
        let Item::Fresh(event_id, event) = items[n].take() else {
            continue;
        };
        items[n] = match claim_value::<LoggedEvent>(ingest.kv, &key, ingest.waiting) {
            Ok(Claim::Won) => Item::ToWrite(event_id, event),
            Ok(Claim::Settled(first)) => Item::Done(Ok(Recorded {
                event: first.event,
                placement: first.placement,
                replayed: true,
            })),
            Ok(Claim::Undecided) => Item::Done(Err(Error::Conflict(format!(
                "event '{}' is being recorded by an earlier request; retry later",
                truncated(event_id.as_deref().unwrap_or_default())
            )))),
            Err(error) => Item::Done(Err(error)),
        };
    }
}

/// Steps 3 and 4: reserves the slots of the items to write and writes
/// them, with their claims' values and the request key's answer, in one
/// `set_many`. Returns the usage logs written with the slots taken in each.
fn write(
    ingest: &Ingest,
    items: &mut [Item],
    kept_key: Option<&str>,
    request_key: Option<&RequestKey>,
) -> Result<Vec<(String, std::ops::RangeInclusive<u64>)>> {
    let pending: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item, Item::ToWrite(..)))
        .map(|(n, _)| n)
        .collect();
    // One reservation per usage log, per listing and per call, in sorted
    // order.
    let mut logs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut listings: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut calls: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &n in &pending {
        if let Item::ToWrite(_, event) = &items[n] {
            logs.entry(MeteringEvent::usage_log(
                &event.subscription_id,
                month_of(event.timestamp)?,
            ))
            .or_default()
            .push(n);
            listings
                .entry(MeteringEvent::service_index(&event.service_id))
                .or_default()
                .push(n);
            calls
                .entry(CallRecord::events_index(
                    &event.subscription_id,
                    &event.correlation_id,
                ))
                .or_default()
                .push(n);
        }
    }
    let mut log_slots: HashMap<usize, (String, u64)> = HashMap::new();
    let mut written = Vec::new();
    for (log, members) in &logs {
        let range = Index::new(log.as_str()).reserve_many(ingest.kv, members.len() as u64)?;
        for (n, slot) in members.iter().zip(range.clone()) {
            log_slots.insert(*n, (log.clone(), slot));
        }
        written.push((log.clone(), range));
    }
    let mut listing_slots: HashMap<usize, u64> = HashMap::new();
    for (listing, members) in &listings {
        let range = Index::new(listing.as_str()).reserve_many(ingest.kv, members.len() as u64)?;
        listing_slots.extend(members.iter().copied().zip(range));
    }
    let mut call_slots: HashMap<usize, (String, u64)> = HashMap::new();
    for (call, members) in &calls {
        let range = Index::new(call.as_str()).reserve_many(ingest.kv, members.len() as u64)?;
        for (n, slot) in members.iter().zip(range) {
            call_slots.insert(*n, (call.clone(), slot));
        }
    }
    let reserved_at = Timestamp::now();

    let mut entries: Vec<(String, Vec<u8>)> = Vec::with_capacity(pending.len() * 3 + 1);
    for &n in &pending {
        let Item::ToWrite(event_id, event) = items[n].take() else {
            continue;
        };
        let (log, log_slot) = log_slots
            .remove(&n)
            .ok_or_else(|| Error::Internal("a report lost its slot".into()))?;
        let listing_slot = listing_slots
            .remove(&n)
            .ok_or_else(|| Error::Internal("a report lost its listing slot".into()))?;
        let idempotency_key = event_id
            .as_deref()
            .map(|id| MeteringEvent::idempotency_key(ingest.caller, &secret::hash(id)));
        let listing = Index::new(MeteringEvent::service_index(&event.service_id));
        let logged = LoggedEvent {
            event,
            placement: Placement {
                log: log.clone(),
                log_slot,
                listing_slot,
                reserved_at,
                idempotency_key: idempotency_key.clone(),
            },
        };
        let bytes = serde_json::to_vec(&logged)
            .map_err(|e| Error::Internal(format!("cannot encode an event: {e}")))?;
        entries.push((Index::new(log).slot_key(log_slot), bytes.clone()));
        entries.push((listing.slot_key(listing_slot), bytes.clone()));
        if let Some((call, slot)) = call_slots.remove(&n) {
            entries.push((Index::new(call).slot_key(slot), bytes.clone()));
        }
        if let Some(key) = idempotency_key {
            entries.push((value_key(&key), bytes));
        }
        items[n] = Item::Done(Ok(Recorded {
            event: logged.event,
            placement: logged.placement,
            replayed: false,
        }));
    }
    // Copies within the request answer as their first did, replayed.
    for n in 0..items.len() {
        if let Item::CopyOf(first) = items[n] {
            items[n] = Item::Done(items[first].result().map(|recorded| Recorded {
                replayed: true,
                ..recorded
            }));
        }
    }
    if let (Some(key), Some(request)) = (kept_key, request_key) {
        let answered = Answered {
            items: items.iter().map(Item::result).collect(),
            replayed: false,
        };
        let kept = KeptAnswer {
            body_hash: request.body_hash.clone(),
            answered,
        };
        let bytes = serde_json::to_vec(&kept)
            .map_err(|e| Error::Internal(format!("cannot encode a batch answer: {e}")))?;
        entries.push((value_key(key), bytes));
    }
    if entries.is_empty() {
        return Ok(written);
    }
    if Timestamp::now() > reserved_at.plus_seconds(WRITE_DEADLINE_SECONDS) {
        return Err(Error::Unavailable(
            "the store is too slow to record usage right now; retry".into(),
        ));
    }
    ingest.kv.set_many(&entries)?;
    Ok(written)
}

fn truncated(text: &str) -> String {
    text.chars().take(100).collect()
}
