//! A usage report as a provider sends it, read and checked field by field.

use qmarket_core::decimal::{Quantity, Sign};
use qmarket_core::{Error, Result, Timestamp};
use serde_json::{Map, Value};

/// The most integer digits a reported `count` may have (counts stay below
/// one billion units per report).
pub const MAX_COUNT_INTEGER_DIGITS: usize = 9;
/// The longest accepted `eventId` / `Idempotency-Key`.
pub const MAX_EVENT_ID_CHARS: usize = 200;
/// The longest `correlationId` / `productId` looked up (longer ones cannot exist).
const MAX_ID_CHARS: usize = 200;
/// The fields a report may carry; anything else is refused (400) so a typo
/// (`cout`) is reported instead of silently ignored.
const FIELDS: [&str; 6] = [
    "correlationId",
    "productId",
    "itemId",
    "count",
    "eventId",
    "timestamp",
];

/// A well-formed usage report (not yet checked against the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    /// The `x-correlation-id` the gateway sent with the call.
    pub correlation_id: String,
    /// The product (`productId`, or PlanQK's older `itemId`).
    pub product_id: String,
    /// How many units, > 0, at most 6 fractional digits.
    pub count: Quantity,
    /// The client's idempotency key (`eventId` or the `Idempotency-Key` header).
    pub event_id: Option<String>,
    /// When the usage happened, if the client said so.
    pub timestamp: Option<Timestamp>,
}

impl UsageReport {
    /// Reads a report from a JSON body value. `idempotency_key` is the
    /// `Idempotency-Key` header, if any: it is the event id when the body has
    /// none, and must agree with the body's `eventId` when both are given.
    pub fn from_json(value: &Value, idempotency_key: Option<&str>) -> Result<Self> {
        let body = value
            .as_object()
            .ok_or_else(|| Error::bad_request("the body must be a JSON object"))?;
        if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(Error::invalid_field(
                truncate(unknown, 100),
                format!(
                    "is not a field of a usage report (expected {})",
                    FIELDS.join(", ")
                ),
            ));
        }
        let correlation_id = required_id(body, "correlationId")?;
        let product_id = product_id(body)?;
        let count = match body.get("count") {
            None => return Err(Error::invalid_field("count", "is required")),
            Some(v) => Quantity::from_json(v, MAX_COUNT_INTEGER_DIGITS, Sign::Positive)
                .map_err(|e| Error::invalid_field("count", e.to_string()))?,
        };
        let event_id = event_id(body, idempotency_key)?;
        let timestamp = match body.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(Timestamp::parse(text).ok_or_else(|| {
                Error::invalid_field(
                    "timestamp",
                    "is not an RFC 3339 timestamp such as 2026-11-22T10:15:30.123Z",
                )
            })?),
            Some(_) => {
                return Err(Error::invalid_field(
                    "timestamp",
                    "must be an RFC 3339 timestamp string",
                ))
            }
        };
        Ok(UsageReport {
            correlation_id,
            product_id,
            count,
            event_id,
            timestamp,
        })
    }
}

fn required_id(body: &Map<String, Value>, field: &str) -> Result<String> {
    match body.get(field) {
        None | Some(Value::Null) => Err(Error::invalid_field(field, "is required")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(Error::invalid_field(field, "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > MAX_ID_CHARS => Err(Error::invalid_field(
            field,
            format!("is longer than {MAX_ID_CHARS} characters"),
        )),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(Error::invalid_field(field, "must be a string")),
    }
}

/// `productId`, or its PlanQK alias `itemId`; both given must agree.
fn product_id(body: &Map<String, Value>) -> Result<String> {
    let has = |f: &str| !matches!(body.get(f), None | Some(Value::Null));
    match (has("productId"), has("itemId")) {
        (false, false) => Err(Error::invalid_field(
            "productId",
            "is required (PlanQK's 'itemId' is accepted as well)",
        )),
        (true, false) => required_id(body, "productId"),
        (false, true) => required_id(body, "itemId"),
        (true, true) => {
            let product = required_id(body, "productId")?;
            let item = required_id(body, "itemId")?;
            if product == item {
                Ok(product)
            } else {
                Err(Error::invalid_field(
                    "itemId",
                    "differs from productId; send one of them (itemId is an alias)",
                ))
            }
        }
    }
}

fn event_id(body: &Map<String, Value>, header: Option<&str>) -> Result<Option<String>> {
    let from_body = match body.get("eventId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(checked_event_id("eventId", s)?),
        Some(_) => return Err(Error::invalid_field("eventId", "must be a string")),
    };
    let from_header = header
        .map(|h| checked_event_id("Idempotency-Key", h))
        .transpose()?;
    match (from_body, from_header) {
        (Some(b), Some(h)) if b != h => Err(Error::invalid_field(
            "eventId",
            "differs from the Idempotency-Key header; send one of them",
        )),
        (b, h) => Ok(b.or(h)),
    }
}

fn checked_event_id(field: &str, value: &str) -> Result<String> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_EVENT_ID_CHARS {
        return Err(Error::invalid_field(
            field,
            format!("must have 1 to {MAX_EVENT_ID_CHARS} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;
    use serde_json::json;

    fn parse(text: &str) -> Result<UsageReport> {
        let value: Value = serde_json::from_str(text).expect("test JSON");
        UsageReport::from_json(&value, None)
    }

    #[test]
    fn planqk_item_id_and_string_counts_are_read() {
        let r = parse(r#"{"itemId":"prod_a","count":"3","correlationId":"c"}"#).unwrap();
        assert_eq!(r.product_id, "prod_a");
        assert_eq!(r.count.to_string(), "3");
        assert_eq!(r.correlation_id, "c");
        assert_eq!(r.event_id, None);
    }

    #[test]
    fn numeric_counts_keep_every_fractional_digit() {
        let r = parse(r#"{"productId":"p","count":0.000001,"correlationId":"c"}"#).unwrap();
        assert_eq!(r.count.units(), 1);
    }

    #[test]
    fn bad_inputs_are_400s_naming_the_field() {
        let rows: &[(&str, &str)] = &[
            (
                r#"{"productId":"p","count":0,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":-1,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":"-0.5","correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":"NaN","correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":1e400,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":1e3,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":"abc","correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":true,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":[1],"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":null,"correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":"0.0000001","correlationId":"c"}"#,
                "count",
            ),
            (
                r#"{"productId":"p","count":"1234567890","correlationId":"c"}"#,
                "count",
            ),
            (r#"{"productId":"p","correlationId":"c"}"#, "count"),
            (r#"{"productId":"p","count":1}"#, "correlationId"),
            (
                r#"{"productId":"p","count":1,"correlationId":""}"#,
                "correlationId",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":7}"#,
                "correlationId",
            ),
            (r#"{"count":1,"correlationId":"c"}"#, "productId"),
            (
                r#"{"productId":5,"count":1,"correlationId":"c"}"#,
                "productId",
            ),
            (
                r#"{"productId":"a","itemId":"b","count":1,"correlationId":"c"}"#,
                "itemId",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":"c","eventId":""}"#,
                "eventId",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":"c","eventId":3}"#,
                "eventId",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":"c","timestamp":"now"}"#,
                "timestamp",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":"c","timestamp":5}"#,
                "timestamp",
            ),
            (
                r#"{"productId":"p","count":1,"correlationId":"c","cout":1}"#,
                "cout",
            ),
        ];
        for (body, field) in rows {
            let err = parse(body).expect_err(body);
            assert_eq!(err.status(), 400, "{body}");
            assert_eq!(err.field_errors()[0].field, *field, "{body}");
        }
        let long = format!(
            r#"{{"productId":"p","count":1,"correlationId":"c","eventId":"{}"}}"#,
            "x".repeat(201)
        );
        assert_eq!(parse(&long).unwrap_err().status(), 400);
        assert_eq!(parse("[1]").unwrap_err().status(), 400);
    }

    #[test]
    fn the_idempotency_header_is_the_event_id_unless_the_body_disagrees() {
        let body = json!({"productId": "p", "count": 1, "correlationId": "c"});
        let r = UsageReport::from_json(&body, Some("k-1")).unwrap();
        assert_eq!(r.event_id.as_deref(), Some("k-1"));
        let body = json!({"productId": "p", "count": 1, "correlationId": "c", "eventId": "k-1"});
        assert!(UsageReport::from_json(&body, Some("k-1")).is_ok());
        let err = UsageReport::from_json(&body, Some("k-2")).unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn equal_product_and_item_ids_are_accepted() {
        let r =
            parse(r#"{"productId":"p","itemId":"p","count":"2.5","correlationId":"c"}"#).unwrap();
        assert_eq!(r.product_id, "p");
        assert_eq!(r.count.to_string(), "2.5");
    }
}
