//! Pricing plans and their products.

use qmarket_core::decimal::Price;
use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;
use crate::PlanLimits;

/// The only currency.
pub const CURRENCY: &str = "EUR";

/// Whether a plan charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanType {
    /// Free of charge.
    Free,
    /// Charged per product unit.
    Commercial,
}

/// Something a plan charges for, e.g. `API` at `0.00001` EUR per `call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `prod_…`
    pub id: String,
    /// Unique within the plan.
    pub name: String,
    /// EUR per unit, exact.
    pub unit_price: Price,
    /// The unit, e.g. `call`.
    pub unit: String,
}

/// A service's pricing plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingPlan {
    /// `plan_…`
    pub id: String,
    /// The service it prices.
    pub service_id: String,
    /// Display name.
    pub name: String,
    /// `FREE` or `COMMERCIAL`.
    #[serde(rename = "type")]
    pub kind: PlanType,
    /// Always [`CURRENCY`].
    pub currency: String,
    /// What it charges for.
    pub products: Vec<Product>,
    /// The rate limit and quota of each subscription's gateway calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<PlanLimits>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Sequence number in the service's plan index.
    pub index_seq: u64,
}
record!(PricingPlan, "plan");

impl PricingPlan {
    /// The counter of subscriptions ever made to plan `id` (a plan with
    /// subscriptions is immutable).
    pub fn subscription_count_key(id: &str) -> String {
        format!("plan/{id}/subscriptions/count")
    }

    /// The announcements of changes to plan `id`'s products, type or
    /// existence (see `qmarket_store::Announcements`): a subscriber checks
    /// them after counting itself in.
    pub fn changing_key(id: &str) -> String {
        format!("plan/{id}/changing")
    }

    /// The product with `product_id`, if the plan has it.
    pub fn product(&self, product_id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == product_id)
    }
}
