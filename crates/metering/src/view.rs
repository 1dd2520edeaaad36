//! The JSON shapes metering answers with (never the stored records as such).

use qmarket_core::decimal::{Amount, Price, Quantity};
use qmarket_core::Timestamp;
use qmarket_model::{Band, MeteringEvent, PricingModel, CURRENCY};
use serde::Serialize;

/// The answer to an accepted usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// `evt_…`
    pub id: String,
    /// Whether the usage is test usage.
    pub test_mode: bool,
    /// The units counted, as a decimal string.
    pub count: Quantity,
    /// The product.
    pub product_id: String,
    /// The correlation reported for.
    pub correlation_id: String,
    /// When the usage happened.
    pub timestamp: Timestamp,
}

impl From<&MeteringEvent> for Receipt {
    fn from(e: &MeteringEvent) -> Self {
        Receipt {
            id: e.id.clone(),
            test_mode: e.test_mode,
            count: e.count,
            product_id: e.product_id.clone(),
            correlation_id: e.correlation_id.clone(),
            timestamp: e.timestamp,
        }
    }
}

/// One item of a service's metering-event listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
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
    /// The unit price charged.
    pub unit_price: Price,
    /// Always `EUR`.
    pub currency: &'static str,
    /// Units counted.
    pub count: Quantity,
    /// `count × unitPrice`, exact: what the event costs for a `PER_UNIT`
    /// product without a free allowance. For other products an event's
    /// cost depends on the month's usage before it: see the events of an
    /// invoice.
    pub amount: Amount,
    /// The correlation reported for.
    pub correlation_id: String,
    /// The subscription billed.
    pub subscription_id: String,
    /// The calling application.
    pub application_id: String,
    /// Whether it is test usage.
    pub test_mode: bool,
}

impl From<&MeteringEvent> for EventView {
    fn from(e: &MeteringEvent) -> Self {
        EventView {
            id: e.id.clone(),
            timestamp: e.timestamp,
            product_id: e.product_id.clone(),
            product_name: e.product_name.clone(),
            unit: e.unit.clone(),
            unit_price: e.unit_price,
            currency: CURRENCY,
            count: e.count,
            amount: e.amount,
            correlation_id: e.correlation_id.clone(),
            subscription_id: e.subscription_id.clone(),
            application_id: e.application_id.clone(),
            test_mode: e.test_mode,
        }
    }
}

/// A subscription's usage bill over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// The subscription.
    pub subscription_id: String,
    /// Start of the effective window (inclusive, UTC midnight).
    pub from: Timestamp,
    /// End of the effective window (exclusive, UTC midnight).
    pub to: Timestamp,
    /// Always `EUR`.
    pub currency: &'static str,
    /// Whether the subscription's usage is test usage.
    pub test_mode: bool,
    /// One line per product of the plan.
    pub lines: Vec<UsageLine>,
    /// The exact sum of the lines' amounts.
    pub total: Amount,
}

/// The usage of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageLine {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub product_name: String,
    /// Its unit.
    pub unit: String,
    /// Its unit price under the subscription's plan (per package for
    /// `PACKAGE`, the first tier's for `GRADUATED` and `VOLUME`).
    pub unit_price: Price,
    /// Units used in the window.
    pub quantity: Quantity,
    /// The exact amount by the product's pricing model: `quantity ×
    /// unitPrice` for `PER_UNIT` without a free allowance; the sum of the
    /// breakdown's amounts always.
    pub amount: Amount,
    /// How the product is priced.
    pub pricing_model: PricingModel,
    /// The units of the window that fell into the monthly free allowance.
    pub free_quantity: Quantity,
    /// How the amount was reached, tier by tier (one band for `PER_UNIT`
    /// and `PACKAGE`).
    pub breakdown: Vec<Band>,
}
