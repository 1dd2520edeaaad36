//! Correlations: one per request the gateway forwards.

use qmarket_core::{Error, Result, Timestamp};
use qmarket_store::{DailyExpiry, Entries, KeyValue};
use serde::{Deserialize, Serialize};

use crate::record::record;
use crate::Record;

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

/// One correlation in this many also runs a step of the correlations' sweep.
const SWEEP_EVERY: u64 = 64;

impl Correlation {
    /// Whole days a correlation is kept after the day of its call: metering
    /// accepts usage up to 35 days back.
    pub const KEEP_DAYS: i64 = 36;

    /// Where correlations are registered to expire.
    pub fn expiry() -> DailyExpiry {
        DailyExpiry::new("expiry/correlations", Self::KEEP_DAYS)
    }

    /// The writes that make this correlation durable and registered to
    /// expire [`Self::KEEP_DAYS`] after `now`'s day (the record and its
    /// expiry slot), for the caller's one `set_many`; and the expiry slot's
    /// number, for [`Correlation::recorded`].
    pub fn entries(&self, kv: &dyn KeyValue, now: Timestamp) -> Result<(Entries, u64)> {
        let key = Self::key(&self.id);
        let slot = Self::expiry().slot(kv, now, &[&key])?;
        let record = serde_json::to_vec(self)
            .map_err(|e| Error::Internal(format!("cannot encode a correlation: {e}")))?;
        Ok((vec![(key, record), slot.entry], slot.seq))
    }

    /// After the correlation with expiry slot `slot` was written: one call
    /// in [`SWEEP_EVERY`] deletes a chunk of expired correlations.
    /// Housekeeping: a failure is logged, never the caller's.
    pub fn recorded(kv: &dyn KeyValue, slot: u64, now: Timestamp) {
        if slot.is_multiple_of(SWEEP_EVERY) {
            if let Err(e) = Self::expiry().sweep_step(kv, now) {
                eprintln!("sweeping expired correlations failed: {e}");
            }
        }
    }
}
