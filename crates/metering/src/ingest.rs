//! Accepting usage reports: checks against the store, the once-only claim
//! of an `eventId`, and the one atomic write that makes an event count.

use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{secret, Error, Result, Timestamp};
use qmarket_model::{Correlation, MeteringEvent, PricingPlan, Record};
use qmarket_store::{write_once_by, Index, KeyValue, Written};

use crate::placement::{LoggedEvent, Placement};
use crate::report::UsageReport;
use crate::rollup::{close_step, UsageLog};
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

/// An accepted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The event: the new one, or the first one recorded under the same id.
    pub event: MeteringEvent,
    /// Where it is kept.
    pub placement: Placement,
    /// Whether this report repeated an `eventId` already recorded.
    pub replayed: bool,
}

/// Checks `report` from provider `caller` against the store and records it
/// (once per `eventId`): see the crate documentation.
pub fn record_usage(
    kv: &dyn KeyValue,
    caller: &str,
    report: &UsageReport,
    now: Timestamp,
    waiting: Waiting,
) -> Result<Recorded> {
    let event = prepare(kv, caller, report, now)?;
    let recorded = match &report.event_id {
        None => {
            let logged = place(kv, event, None)?;
            Recorded {
                event: logged.event,
                placement: logged.placement,
                replayed: false,
            }
        }
        Some(event_id) => record_once(kv, caller, event_id, event, waiting)?,
    };
    // The event is durable and answered for; rolling up is the next
    // writer's to finish if this one fails here.
    let log = UsageLog::at(&recorded.placement.log);
    if let Err(e) = close_step(kv, &log, recorded.placement.log_slot, Timestamp::now()) {
        eprintln!("metering: rolling up {} failed: {e}", log.prefix());
    }
    Ok(recorded)
}

/// Builds the event `report` stands for, refusing what may not be metered.
fn prepare(
    kv: &dyn KeyValue,
    caller: &str,
    report: &UsageReport,
    now: Timestamp,
) -> Result<MeteringEvent> {
    let unknown = || Error::not_found("correlation", &truncated(&report.correlation_id));
    let correlation = Correlation::load(kv, &report.correlation_id)?.ok_or_else(unknown)?;
    if correlation.provider_id != caller {
        return Err(unknown());
    }
    let plan = PricingPlan::load(kv, &correlation.pricing_plan_id)?.ok_or_else(|| {
        Error::unprocessable(format!(
            "the pricing plan of correlation '{}' no longer exists",
            correlation.id
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
    let amount = report
        .count
        .times(product.unit_price)
        .ok_or_else(|| Error::unprocessable_field("count", "times the unit price is too large"))?;
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

/// The report with an event id: its key is claimed once, and the claimant
/// (or, if it died before writing, a taker) writes the event together with
/// the key's value; every other copy answers with that event.
fn record_once(
    kv: &dyn KeyValue,
    caller: &str,
    event_id: &str,
    event: MeteringEvent,
    waiting: Waiting,
) -> Result<Recorded> {
    let key = MeteringEvent::idempotency_key(caller, &secret::hash(event_id));
    let written = write_once_by(kv, &key, waiting, |value_key| {
        place(kv, event, Some((&key, value_key)))
    })?;
    let (logged, replayed) = match written {
        Some(Written::Mine(logged)) => (logged, false),
        Some(Written::Theirs(first)) => (first, true),
        None => {
            return Err(Error::Conflict(format!(
                "event '{}' is being recorded by an earlier request; retry later",
                truncated(event_id)
            )))
        }
    };
    Ok(Recorded {
        event: logged.event,
        placement: logged.placement,
        replayed,
    })
}

/// Reserves the event's slots in its usage log and its service's listing
/// and writes them — with the value of its idempotency key
/// (`(key, value_key)`), if any — in one atomic `set_many`.
fn place(
    kv: &dyn KeyValue,
    event: MeteringEvent,
    idempotency: Option<(&str, &str)>,
) -> Result<LoggedEvent> {
    let log = UsageLog::of(&event.subscription_id, month_of(event.timestamp)?);
    let listing = Index::new(MeteringEvent::service_index(&event.service_id));
    let log_slot = log.index().reserve(kv)?;
    let listing_slot = listing.reserve(kv)?;
    let reserved_at = Timestamp::now();
    let logged = LoggedEvent {
        event,
        placement: Placement {
            log: log.prefix().to_string(),
            log_slot,
            listing_slot,
            reserved_at,
            idempotency_key: idempotency.map(|(key, _)| key.to_string()),
        },
    };
    let bytes = serde_json::to_vec(&logged)
        .map_err(|e| Error::Internal(format!("cannot encode an event: {e}")))?;
    let mut entries = vec![
        (log.index().slot_key(log_slot), bytes.clone()),
        (listing.slot_key(listing_slot), bytes.clone()),
    ];
    if let Some((_, value_key)) = idempotency {
        entries.push((value_key.to_string(), bytes));
    }
    if Timestamp::now() > reserved_at.plus_seconds(WRITE_DEADLINE_SECONDS) {
        return Err(Error::Unavailable(
            "the store is too slow to record usage right now; retry".into(),
        ));
    }
    kv.set_many(&entries)?;
    Ok(logged)
}

fn truncated(text: &str) -> String {
    text.chars().take(100).collect()
}
