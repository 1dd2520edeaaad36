//! A seeded store for tests of metering (this crate's and the component's):
//! a provider's service with a two-product plan, a consumer's subscription
//! and a gateway correlation, as the other components would have written them.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use qmarket_core::Timestamp;
use qmarket_model::{
    Correlation, Lifecycle, PlanType, PricingPlan, Product, Record, SealedCorrelation, Service,
    ServiceType, Subscription,
};
use qmarket_sealing::Sealer;
use qmarket_store::{KeyValue, MemoryStore};

use crate::{Grace, Ingest, Waiting};

/// The sealer gateway correlation ids of the fixtures are sealed with.
pub static CORRELATIONS: LazyLock<Sealer> =
    LazyLock::new(|| Sealer::from_key(&[42; 32]).for_purpose(SealedCorrelation::PURPOSE));

/// The context of reports by `caller` at [`now`], opening sealed
/// correlations with [`CORRELATIONS`].
pub fn ingest<'a>(kv: &'a dyn KeyValue, caller: &'a str, waiting: Waiting) -> Ingest<'a> {
    Ingest {
        kv,
        caller,
        correlations: Some(&CORRELATIONS),
        now: now(),
        waiting,
        grace: Grace::default(),
    }
}

/// A gateway call's correlation id for a call under `sub` at [`now`].
pub fn sealed_correlation(sub: &str) -> String {
    SealedCorrelation {
        subscription_id: sub.into(),
        created_at: now(),
    }
    .seal(&CORRELATIONS)
    .unwrap()
}

/// The provider owning [`SERVICE`].
pub const PROVIDER: &str = "acc_provider";
/// The consumer subscribed through `app_1`.
pub const CONSUMER: &str = "acc_consumer";
/// An account with no part in the seeded world.
pub const STRANGER: &str = "acc_stranger";
/// The fixed clock of the tests: 2026-11-22T10:15:30.123Z.
pub const NOW: i64 = 1_795_342_530_123;

/// [`NOW`] as a timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

/// A short wait for duplicates, so tests of stuck ids finish fast.
pub fn quick() -> Waiting {
    Waiting {
        max: Duration::from_millis(50),
        first_step: Duration::from_millis(1),
    }
}

/// One provider's service with a plan of two products, one subscription and
/// one correlation ([`CORRELATION`]).
pub struct World {
    /// The store.
    pub kv: Arc<MemoryStore>,
    /// [`SERVICE`]
    pub service: String,
    /// [`SUBSCRIPTION`]
    pub subscription: String,
}

/// A product at 0.00001 EUR per call.
pub const API: &str = "prod_0000000000000000000000000a";
/// A product at 0.0000000001 EUR per ms.
pub const CPU: &str = "prod_0000000000000000000000000c";
/// The provider's service.
pub const SERVICE: &str = "svc_00000000000000000000000001";
/// Its pricing plan.
pub const PLAN: &str = "plan_00000000000000000000000001";
/// The consumer's subscription to it.
pub const SUBSCRIPTION: &str = "sub_00000000000000000000000001";
/// The consumer's application.
pub const APPLICATION: &str = "app_00000000000000000000000001";
/// A call made under [`SUBSCRIPTION`].
pub const CORRELATION: &str = "0f2d9c1e-7b4a-4c3d-9e8f-1a2b3c4d5e6f";
/// A second service, of [`STRANGER`].
pub const SERVICE_2: &str = "svc_00000000000000000000000002";
/// Its plan.
pub const PLAN_2: &str = "plan_00000000000000000000000002";
/// A subscription to it.
pub const SUBSCRIPTION_2: &str = "sub_00000000000000000000000002";
/// A call made under [`SUBSCRIPTION_2`].
pub const CORRELATION_2: &str = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";

/// Saves service `id` of `owner` (internally published).
pub fn seed_service(kv: &dyn KeyValue, owner: &str, id: &str) {
    Service {
        name: "Solver".into(),
        quantum_backend: "NONE".into(),
        url: Some("http://localhost:1".into()),
        lifecycle: Lifecycle::Accessible,
        index_seq: 1,
        ..Service::draft(id.into(), owner, ServiceType::External, now())
    }
    .save_with_state(kv)
    .unwrap();
}

/// Saves `plan` (products [`API`] and [`CPU`]) of `service` and `CONSUMER`'s live subscription `sub` to it.
pub fn seed_subscription(kv: &dyn KeyValue, provider: &str, service: &str, plan: &str, sub: &str) {
    PricingPlan {
        id: plan.into(),
        service_id: service.into(),
        name: "Pay per use".into(),
        kind: PlanType::Commercial,
        currency: "EUR".into(),
        products: vec![
            Product::per_unit(API, "API", "0.00001".parse().unwrap(), "call"),
            Product::per_unit(CPU, "CPU", "0.0000000001".parse().unwrap(), "ms"),
        ],
        created_at: now(),
        updated_at: now(),
        index_seq: 1,
        limits: None,
    }
    .save(kv)
    .unwrap();
    Subscription {
        id: sub.into(),
        application_id: APPLICATION.into(),
        subscriber_id: CONSUMER.into(),
        service_id: service.into(),
        provider_id: provider.into(),
        pricing_plan_id: plan.into(),
        test_mode: false,
        created_at: now(),
        index_seq: 1,
        limits: None,
    }
    .save(kv)
    .unwrap();
}

/// Saves correlation `id` of a call under `sub`.
pub fn seed_correlation(
    kv: &dyn KeyValue,
    id: &str,
    provider: &str,
    service: &str,
    plan: &str,
    sub: &str,
) {
    Correlation {
        id: id.into(),
        subscription_id: sub.into(),
        application_id: APPLICATION.into(),
        consumer_id: CONSUMER.into(),
        service_id: service.into(),
        provider_id: provider.into(),
        pricing_plan_id: plan.into(),
        test_mode: false,
        created_at: now(),
    }
    .save(kv)
    .unwrap();
}

/// `PROVIDER`'s [`SERVICE`] with [`PLAN`], [`SUBSCRIPTION`] and
/// [`CORRELATION`].
pub fn world() -> World {
    let kv = Arc::new(MemoryStore::new());
    seed_service(&*kv, PROVIDER, SERVICE);
    seed_subscription(&*kv, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    seed_correlation(&*kv, CORRELATION, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    World {
        kv,
        service: SERVICE.into(),
        subscription: SUBSCRIPTION.into(),
    }
}
