//! Correlations: one per request the gateway forwards.

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;

/// Everything metering needs to attribute usage reported for one forwarded
/// request; written before the request leaves the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Correlation {
    /// The `x-correlation-id` (a UUID v4).
    pub id: String,
    /// The subscription the call was made under.
    pub subscription_id: String,
    /// The calling application.
    pub application_id: String,
    /// The application's owner.
    pub consumer_id: String,
    /// The called service.
    pub service_id: String,
    /// The service's owner.
    pub provider_id: String,
    /// The subscription's plan.
    pub pricing_plan_id: String,
    /// Whether usage is test usage.
    pub test_mode: bool,
    /// When the call was forwarded.
    pub created_at: Timestamp,
}
record!(Correlation, "correlation");
