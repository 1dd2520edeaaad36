//! The records the platform keeps, and the key each lives under.
//!
//! Every component reads and writes the same store, so the record shapes and
//! key layout are defined here once. Rules (who may do what, validation) live
//! in the capability crates; this crate only knows how records are stored.
//!
//! Key layout (one JSON record per key; `…/seq` keys and `…/count` keys are
//! counters touched only through `increment`):
//!
//! | key | holds |
//! |---|---|
//! | `account/{acc}` | [`Account`] |
//! | `account-email/{sha256(email)}` | claim counter: e-mail addresses are unique |
//! | `pat/{pat}` | [`AccessToken`] |
//! | `pat-hash/{sha256(value)}` | the token id, for lookup by value |
//! | `account/{acc}/pats/…` | index of the account's tokens |
//! | `app/{app}` | [`Application`] |
//! | `app-key/{consumerKey}` | the application id |
//! | `account/{acc}/apps/…` | index of the account's applications |
//! | `service/{svc}` | [`Service`] (the fields `PATCH` edits) |
//! | `service/{svc}/lifecycle` | [`ServiceState`]: lifecycle and marketplace position |
//! | `service/{svc}/api-spec` | the service's OpenAPI document (JSON) |
//! | `service/{svc}/api-spec/updated` | when that document last changed |
//! | `account/{acc}/services/…` | index of the provider's services |
//! | `marketplace/…` | index of published services |
//! | `plan/{plan}` | [`PricingPlan`] |
//! | `service/{svc}/plans/…` | index of the service's plans |
//! | `sub/{sub}` | [`Subscription`] |
//! | `app/{app}/subs/…` | index of the application's subscriptions |
//! | `service/{svc}/subs/…` | index of every subscription ever made to the service (ended ones too) |
//! | `app/{app}/service/{svc}` | the application's active subscription id to that service |
//! | `app/{app}/service/{svc}/active` | counter: admits one active subscription of the application to that service |
//! | `sub/{sub}/ended` | claim counter: the subscription has ended (record kept for billing) |
//! | `sub/{sub}/rate/{seconds}/{window}` | counter: the subscription's calls in a rate-limit window |
//! | `sub/{sub}/quota/{yyyymmdd\|yyyymm}` | counter: the subscription's calls in a quota period |
//! | `sub/{sub}/spend-cap` | [`SpendCap`] set by the subscriber |
//! | `sub/{sub}/cap-reached/{yyyymm}` | [`CapReached`]: the month's spending reached the cap |
//! | `sub/{sub}/calls/{yyyymmdd}/…` | index of the subscription's calls of a day ([`CallRecord`]) |
//! | `sub/{sub}/call/{correlationId}` | one call's [`CallRecord`] |
//! | `sub/{sub}/call/{correlationId}/events/…` | index of the metering events the call caused |
//! | `service/{svc}/subscriptions/count` | counter: active subscriptions |
//! | `plan/{plan}/subscriptions/count` | counter: subscriptions ever made to the plan |
//! | `correlation/{execution id}` | [`Correlation`] of a managed execution (a gateway call's is sealed in its id: [`SealedCorrelation`]) |
//! | `service/{svc}/events/…` | index of the service's metering events (each slot holds the event) |
//! | `sub/{sub}/usage/{yyyymm}/…` | the subscription's usage log of a month: one slot per event (the source of truth of its bills) |
//! | `sub/{sub}/usage/{yyyymm}/rollup/{level}/{n}` | a roll-up of a closed block of that log (sums per day and product) |
//! | `metering-idem/{acc}/{sha256(eventId)}` | claim counter of a metering idempotency key |
//! | `metering-idem/{acc}/{sha256(eventId)}/value` | the event that key stands for, with its slots (the one that counts) |
//! | `metering-idem/{acc}/{sha256(eventId)}/takeover/{n}` | claims of callers that took over a key whose first writer died |
#![deny(missing_docs)]

mod account;
mod application;
mod call;
mod correlation;
mod metering_event;
mod plan_limits;
mod pricing;
mod pricing_plan;
mod record;
mod service;
mod subscription;

pub use account::{AccessToken, Account, Scope};
pub use application::Application;
pub use call::CallRecord;
pub use correlation::{resolve_correlation, Correlation, SealedCorrelation, SEALED_ID_LEN};
pub use metering_event::MeteringEvent;
pub use plan_limits::{
    CapReached, PlanLimits, Quota, QuotaPeriod, RateLimit, RateWindow, SpendCap,
};
pub use pricing::{Band, Charge, Pricing, PricingModel, Tier};
pub use pricing_plan::{PlanType, PricingPlan, Product, CURRENCY};
pub use record::Record;
pub use service::{
    Lifecycle, ManagedConfig, Resources, Runtime, SecurityConfiguration, SecurityType, Service,
    ServiceState, ServiceType,
};
pub use subscription::Subscription;
