//! Accepting usage reports: checks against the store, exactly-once claims,
//! and the writes that make an event count.

use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{secret, Error, Result, Timestamp};
use qmarket_model::{Correlation, MeteringEvent, PricingPlan, Record};
use qmarket_store::{claim, write_once, Index, KeyValue, Written};

use crate::report::UsageReport;

/// How far in the future a reported `timestamp` may lie (clock skew).
pub const MAX_FUTURE_SECONDS: i64 = 5 * 60;
/// How far in the past a reported `timestamp` may lie (correlations live 35 days).
pub const MAX_PAST_SECONDS: i64 = 35 * 24 * 60 * 60;

/// How long a copy of a report waits for the first copy's writes.
pub use qmarket_store::Waiting;

/// An accepted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The event: the new one, or the first one recorded under the same id.
    pub event: MeteringEvent,
    /// Whether this report repeated an `eventId` already recorded.
    pub replayed: bool,
}

/// Checks `report` from provider `caller` against the store and records it
/// once: see the crate documentation for the guarantees and their limits.
pub fn record_usage(
    kv: &dyn KeyValue,
    caller: &str,
    report: &UsageReport,
    now: Timestamp,
    waiting: Waiting,
) -> Result<Recorded> {
    let event = prepare(kv, caller, report, now)?;
    match &report.event_id {
        None => {
            event.save(kv)?;
            service_index(&event).append(kv, &event.id)?;
            add_usage(kv, &event)?;
            Ok(Recorded {
                event,
                replayed: false,
            })
        }
        Some(event_id) => record_once(kv, caller, event_id, event, waiting),
    }
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

/// The exactly-once path for a report with an event id: the event is
/// written once as the id's intent, then every copy of the report finishes
/// it (see the crate documentation).
fn record_once(
    kv: &dyn KeyValue,
    caller: &str,
    event_id: &str,
    event: MeteringEvent,
    waiting: Waiting,
) -> Result<Recorded> {
    let base = MeteringEvent::idempotency_key(caller, &secret::hash(event_id));
    let busy = || {
        Error::Conflict(format!(
            "event '{}' is being recorded by an earlier request; retry later",
            truncated(event_id)
        ))
    };
    let (event, replayed) = match write_once(kv, &base, waiting, || Ok(event))? {
        Some(Written::Mine(event)) => (event, false),
        Some(Written::Theirs(first)) => (first, true),
        None => return Err(busy()),
    };
    event.save(kv)?;
    // The slot is chosen once and filled by every copy, so an append cut
    // off after its slot was chosen is finished by the next copy, and the
    // event is listed once however many copies fill it.
    let index = service_index(&event);
    let slot = write_once(kv, &format!("{base}/listed"), waiting, || {
        Ok(index.reserve(kv)?)
    })?
    .ok_or_else(busy)?;
    index.put(kv, slot.into_value(), &event.id)?;
    if claim(kv, &format!("{base}/applied/usage"))? {
        add_usage(kv, &event)?;
    }
    Ok(Recorded { event, replayed })
}

/// The index listing the events of the event's service.
fn service_index(event: &MeteringEvent) -> Index {
    Index::new(MeteringEvent::service_index(&event.service_id))
}

/// Adds the event's count, in micro-units, to its subscription's counter
/// for the product and day.
fn add_usage(kv: &dyn KeyValue, event: &MeteringEvent) -> Result<()> {
    let micro_units = i64::try_from(event.count.units())
        .map_err(|_| Error::Internal(format!("count of {} does not fit a counter", event.id)))?;
    kv.increment(
        &MeteringEvent::usage_key(
            &event.subscription_id,
            &event.product_id,
            event.timestamp.day(),
        ),
        micro_units,
    )?;
    Ok(())
}

fn truncated(text: &str) -> String {
    text.chars().take(100).collect()
}
