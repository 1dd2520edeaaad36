//! What the gateway records of each call it forwarded, and where the
//! metering events a call caused are found.

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

/// One forwarded call's outcome, recorded by the gateway after it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// The call's `x-correlation-id`.
    pub correlation_id: String,
    /// The subscription it was made under.
    pub subscription_id: String,
    /// The request method.
    pub method: String,
    /// The path after `/gateway/{serviceId}` (no query string).
    pub path: String,
    /// The status the consumer got.
    pub status: u16,
    /// From admission to the answer's last byte, in milliseconds.
    pub duration_ms: u64,
    /// Bytes of the request body.
    pub request_bytes: u64,
    /// Bytes of the answer's body that reached the consumer.
    pub response_bytes: u64,
    /// Whether the answer was complete (false when it was cut off).
    pub complete: bool,
    /// When the gateway admitted it.
    pub started_at: Timestamp,
}

impl CallRecord {
    /// The index of subscription `sub`'s calls on UTC day `date`
    /// (`yyyymmdd`), oldest first (values: call records).
    pub fn day_index(sub: &str, date: u32) -> String {
        format!("sub/{sub}/calls/{date}")
    }

    /// The key of the call with `correlation_id` of subscription `sub`.
    pub fn key(sub: &str, correlation_id: &str) -> String {
        format!("sub/{sub}/call/{correlation_id}")
    }

    /// The index of the metering events the call with `correlation_id`
    /// caused (values: the events as their usage log holds them).
    pub fn events_index(sub: &str, correlation_id: &str) -> String {
        format!("sub/{sub}/call/{correlation_id}/events")
    }
}
