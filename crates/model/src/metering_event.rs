//! Metering events: usage reported by providers.

use qmarket_core::decimal::{Amount, Price, Quantity};
use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;

/// One accepted usage report, priced at the plan's price when it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeteringEvent {
    /// `evt_…`
    pub id: String,
    /// The reporting provider's account.
    pub provider_id: String,
    /// The client's idempotency key, if it sent one.
    pub event_id: Option<String>,
    /// When the usage happened (given, or the time it was received).
    pub timestamp: Timestamp,
    /// When it was received.
    pub received_at: Timestamp,
    /// The product.
    pub product_id: String,
    /// The product's name.
    pub product_name: String,
    /// The product's unit.
    pub unit: String,
    /// The product's unit price.
    pub unit_price: Price,
    /// How many units.
    pub count: Quantity,
    /// `count × unit_price`, exact.
    pub amount: Amount,
    /// The correlation it was reported for.
    pub correlation_id: String,
    /// The service.
    pub service_id: String,
    /// The subscription billed.
    pub subscription_id: String,
    /// The calling application.
    pub application_id: String,
    /// The plan.
    pub pricing_plan_id: String,
    /// Whether it is test usage.
    pub test_mode: bool,
}
record!(MeteringEvent, "event");

impl MeteringEvent {
    /// The index of service `svc`'s events (arrival order).
    pub fn service_index(svc: &str) -> String {
        format!("service/{svc}/events")
    }

    /// The prefix of subscription `sub`'s usage log for UTC month `month`
    /// (`yyyymm`, the month of the events' usage timestamps): its slots,
    /// sequence counter and roll-ups live below it.
    pub fn usage_log(sub: &str, month: u32) -> String {
        format!("sub/{sub}/usage/{month}")
    }

    /// The claim counter of idempotency key `key_hash` (SHA-256 hex of the
    /// client's `eventId`) of account `acc`; the keys of that report's
    /// settled placement (`…/value`) and takeover claims (`…/takeover/{n}`)
    /// live below it.
    pub fn idempotency_key(acc: &str, key_hash: &str) -> String {
        format!("metering-idem/{acc}/{key_hash}")
    }

    /// The claim key of a batch's `Idempotency-Key` (SHA-256 `key_hash`) of
    /// account `acc`; the batch's kept answer is at `…/value`.
    pub fn batch_idempotency_key(acc: &str, key_hash: &str) -> String {
        format!("metering-batch/{acc}/{key_hash}")
    }
}
