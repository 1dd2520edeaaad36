//! Subscriptions of applications to services.

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;
use crate::PlanLimits;

/// An application's subscription to a service under one pricing plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `sub_…`
    pub id: String,
    /// The subscribing application.
    pub application_id: String,
    /// The application's owner (the consumer).
    pub subscriber_id: String,
    /// The service.
    pub service_id: String,
    /// The service's owner (the provider).
    pub provider_id: String,
    /// The plan usage is billed under.
    pub pricing_plan_id: String,
    /// Usage is test usage (internal publication, owner's own application).
    pub test_mode: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// Sequence number in the application's subscription index.
    pub index_seq: u64,
    /// The plan's limits as they were when it subscribed (a plan with
    /// subscriptions cannot change them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<PlanLimits>,
}
record!(Subscription, "sub");

impl Subscription {
    /// The key holding the id of application `app`'s active subscription to
    /// service `svc`.
    pub fn by_application_and_service_key(app: &str, svc: &str) -> String {
        format!("app/{app}/service/{svc}")
    }

    /// The index of application `app`'s active subscriptions (values:
    /// subscription ids). Ended subscriptions are removed from it.
    pub fn application_index(app: &str) -> String {
        format!("app/{app}/subs")
    }

    /// The index of every subscription ever made to service `svc` (values:
    /// subscription ids), ended ones included: their usage is still
    /// billed, and the service's revenue is read from it.
    pub fn service_index(svc: &str) -> String {
        format!("service/{svc}/subs")
    }

    /// The counter that admits one active subscription of application `app`
    /// to service `svc`: the subscriber whose increment returns 1 holds it,
    /// and ending the subscription gives it back (decrement).
    pub fn active_claim_key(app: &str, svc: &str) -> String {
        format!("app/{app}/service/{svc}/active")
    }

    /// The claim counter marking subscription `sub` as ended (unsubscribed,
    /// or its application deleted). An ended subscription keeps its record,
    /// so usage metered under it can still be billed; it is no longer listed
    /// and no longer admits gateway calls.
    pub fn ended_key(sub: &str) -> String {
        format!("sub/{sub}/ended")
    }

    /// The counter of subscription `sub`'s calls in rate-limit window
    /// number `window` of `seconds` seconds.
    pub fn rate_key(sub: &str, seconds: u64, window: i64) -> String {
        format!("sub/{sub}/rate/{seconds}/{window}")
    }

    /// The counter of subscription `sub`'s calls in quota period `period`
    /// (`yyyymmdd` or `yyyymm`).
    pub fn quota_key(sub: &str, period: &str) -> String {
        format!("sub/{sub}/quota/{period}")
    }

    /// The subscriber's spend cap of subscription `sub` (a
    /// [`crate::SpendCap`]).
    pub fn spend_cap_key(sub: &str) -> String {
        format!("sub/{sub}/spend-cap")
    }

    /// Written when subscription `sub`'s spending in month `month`
    /// (`yyyymm`) reached its cap (a [`crate::CapReached`]).
    pub fn cap_reached_key(sub: &str, month: u32) -> String {
        format!("sub/{sub}/cap-reached/{month}")
    }
}
