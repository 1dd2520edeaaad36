//! `POST /api/metering/batch`: many reports, each judged on its own.

use qmarket_core::{Error, Result, Timestamp};
use qmarket_store::KeyValue;
use serde_json::Value;

use crate::ingest::{record_usage, Recorded, Waiting};
use crate::report::UsageReport;

/// The most reports one batch may carry.
pub const MAX_BATCH: usize = 100;

/// Reads the batch body `{"events": [...]}` (1 to [`MAX_BATCH`] objects)
/// and records each report; the outer error is for a malformed batch, the
/// inner results are per report, in order.
pub fn record_batch(
    kv: &dyn KeyValue,
    caller: &str,
    body: &Value,
    now: Timestamp,
    waiting: Waiting,
) -> Result<Vec<Result<Recorded>>> {
    let object = body
        .as_object()
        .ok_or_else(|| Error::bad_request("the body must be a JSON object {\"events\": [...]}"))?;
    if let Some(unknown) = object.keys().find(|k| k.as_str() != "events") {
        return Err(Error::invalid_field(
            unknown.chars().take(100).collect::<String>(),
            "is not a field of a batch (expected events)",
        ));
    }
    let events = match object.get("events") {
        None | Some(Value::Null) => return Err(Error::invalid_field("events", "is required")),
        Some(Value::Array(events)) => events,
        Some(_) => return Err(Error::invalid_field("events", "must be an array")),
    };
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(Error::invalid_field(
            "events",
            format!("must hold 1 to {MAX_BATCH} reports, not {}", events.len()),
        ));
    }
    Ok(events
        .iter()
        .map(|event| {
            let report = UsageReport::from_json(event, None)?;
            record_usage(kv, caller, &report, now, waiting)
        })
        .collect())
}
