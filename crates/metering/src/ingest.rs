//! Accepting usage reports: checks against the store, exactly-once claims,
//! and the writes that make an event count.

use std::time::Duration;

use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{secret, Error, Result, Timestamp};
use qmarket_model::{Correlation, MeteringEvent, PricingPlan, Record};
use qmarket_store::{claim, get_json, set_json, Index, KeyValue};

use crate::report::UsageReport;

/// How far in the future a reported `timestamp` may lie (clock skew).
pub const MAX_FUTURE_SECONDS: i64 = 5 * 60;
/// How far in the past a reported `timestamp` may lie (correlations live 35 days).
pub const MAX_PAST_SECONDS: i64 = 35 * 24 * 60 * 60;

/// How long a duplicate waits for the first copy of its event to be written.
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

/// An accepted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The event: the new one, or the first one recorded under the same id.
    pub event: MeteringEvent,
    /// Whether this report repeated an `eventId` already recorded.
    pub replayed: bool,
}

/// The writes that make an event count; each is done once per idempotency key.
#[derive(Debug, Clone, Copy)]
enum Effect {
    ServiceIndex,
    Usage,
}

impl Effect {
    const ALL: [Effect; 2] = [Effect::ServiceIndex, Effect::Usage];

    fn name(self) -> &'static str {
        match self {
            Effect::ServiceIndex => "service-index",
            Effect::Usage => "usage",
        }
    }

    fn apply(self, kv: &dyn KeyValue, event: &MeteringEvent) -> Result<()> {
        match self {
            Effect::ServiceIndex => {
                Index::new(MeteringEvent::service_index(&event.service_id))
                    .append(kv, &event.id)?;
            }
            Effect::Usage => {
                let micro_units = i64::try_from(event.count.units()).map_err(|_| {
                    Error::Internal(format!("count of {} does not fit a counter", event.id))
                })?;
                kv.increment(
                    &MeteringEvent::usage_key(
                        &event.subscription_id,
                        &event.product_id,
                        event.timestamp.day(),
                    ),
                    micro_units,
                )?;
            }
        }
        Ok(())
    }
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
            apply(kv, &event, None)?;
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

/// The exactly-once path for a report with an event id.
fn record_once(
    kv: &dyn KeyValue,
    caller: &str,
    event_id: &str,
    event: MeteringEvent,
    waiting: Waiting,
) -> Result<Recorded> {
    let base = MeteringEvent::idempotency_key(caller, &secret::hash(event_id));
    let intent = format!("{base}/intent");
    if claim(kv, &base)? {
        // Nothing is computed between the claim and this write: it is the
        // only window in which a crash leaves the key claimed but empty.
        set_json(kv, &intent, &event)?;
        return finish(kv, &base, event, false);
    }
    if let Some(first) = wait_for(kv, &intent, waiting)? {
        return finish(kv, &base, first, true);
    }
    // The claimant wrote nothing for `waiting.max`: it died between its claim
    // and its intent. One later copy (the first to claim the takeover) records
    // its own event instead; nothing was applied for the dead claimant, so
    // nothing counts twice.
    if claim(kv, &format!("{base}/takeover"))? {
        if let Some(first) = get_json::<MeteringEvent>(kv, &intent)? {
            return finish(kv, &base, first, true);
        }
        set_json(kv, &intent, &event)?;
        return finish(kv, &base, event, false);
    }
    match wait_for(kv, &intent, waiting)? {
        Some(first) => finish(kv, &base, first, true),
        None => Err(Error::Conflict(format!(
            "event '{}' is being recorded by an earlier request; retry later",
            truncated(event_id)
        ))),
    }
}

fn finish(kv: &dyn KeyValue, base: &str, event: MeteringEvent, replayed: bool) -> Result<Recorded> {
    apply(kv, &event, Some(base))?;
    Ok(Recorded { event, replayed })
}

/// Writes the event record, then each effect; with `guard` (the idempotency
/// key) every effect is claimed first, so the first copy and any copy that
/// helps finish it apply each effect once between them.
fn apply(kv: &dyn KeyValue, event: &MeteringEvent, guard: Option<&str>) -> Result<()> {
    // The record is written first (and rewriting it is harmless), so index
    // entries always resolve.
    event.save(kv)?;
    for effect in Effect::ALL {
        let mine = match guard {
            None => true,
            Some(base) => claim(kv, &format!("{base}/applied/{}", effect.name()))?,
        };
        if mine {
            effect.apply(kv, event)?;
        }
    }
    Ok(())
}

/// Polls `key` until it holds a record or `waiting.max` has passed.
fn wait_for(kv: &dyn KeyValue, key: &str, waiting: Waiting) -> Result<Option<MeteringEvent>> {
    let mut waited = Duration::ZERO;
    let mut step = waiting.first_step.max(Duration::from_micros(100));
    loop {
        if let Some(event) = get_json::<MeteringEvent>(kv, key)? {
            return Ok(Some(event));
        }
        if waited >= waiting.max {
            return Ok(None);
        }
        std::thread::sleep(step);
        waited += step;
        step = (step * 2).min(Duration::from_millis(25));
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(100).collect()
}
