//! `POST /api/metering/batch`: many reports, each judged on its own, all
//! recorded with one write ([`crate::record_reports`]).

use qmarket_core::{secret, Error, Result};
use serde_json::Value;

use crate::ingest::{record_reports, Answered, Ingest, RequestKey};
use crate::report::UsageReport;

/// The most reports one batch may carry.
pub const MAX_BATCH: usize = 100;

/// Reads the batch body `{"events": [...]}` (1 to [`MAX_BATCH`] objects)
/// and records each report; the outer error is for a malformed batch (or a
/// batch key used before for another body), the inner results are per
/// report, in order. With `idempotency_key` (the request's
/// `Idempotency-Key`), the batch is recorded once per key and account: a
/// repeat of the same body gets the first answer.
pub fn record_batch(
    ingest: &Ingest,
    body: &Value,
    idempotency_key: Option<&str>,
) -> Result<Answered> {
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
    let request_key = match idempotency_key {
        Some(key) if key.is_empty() || key.chars().count() > crate::MAX_EVENT_ID_CHARS => {
            return Err(Error::invalid_field(
                "Idempotency-Key",
                format!("must hold 1 to {} characters", crate::MAX_EVENT_ID_CHARS),
            ))
        }
        Some(key) => Some(RequestKey {
            key: key.to_string(),
            body_hash: secret::hash(&body.to_string()),
        }),
        None => None,
    };
    let reports = events
        .iter()
        .map(|event| UsageReport::from_json(event, None))
        .collect();
    record_reports(ingest, reports, request_key.as_ref())
}
