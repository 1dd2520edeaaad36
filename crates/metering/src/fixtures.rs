//! A seeded store for tests of metering (this crate's and the component's):
//! a provider's service with a two-product plan, a consumer's subscription
//! and a gateway correlation, as the other components would have written them.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use qmarket_core::Timestamp;
use qmarket_model::{
    Correlation, Lifecycle, PlanType, PricingPlan, Product, Record, Service, ServiceType,
    Subscription,
};
use qmarket_store::{KeyValue, MemoryStore};

use crate::Waiting;

/// The provider owning `svc_1`.
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
/// one correlation (`corr-1`) per call.
pub struct World {
    /// The store.
    pub kv: Arc<MemoryStore>,
    /// `svc_1`
    pub service: String,
    /// `sub_1`
    pub subscription: String,
}

/// A product at 0.00001 EUR per call.
pub const API: &str = "prod_api";
/// A product at 0.0000000001 EUR per ms.
pub const CPU: &str = "prod_cpu";

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
    .save(kv)
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
            Product {
                id: API.into(),
                name: "API".into(),
                unit_price: "0.00001".parse().unwrap(),
                unit: "call".into(),
            },
            Product {
                id: CPU.into(),
                name: "CPU".into(),
                unit_price: "0.0000000001".parse().unwrap(),
                unit: "ms".into(),
            },
        ],
        created_at: now(),
        updated_at: now(),
        index_seq: 1,
    }
    .save(kv)
    .unwrap();
    Subscription {
        id: sub.into(),
        application_id: "app_1".into(),
        subscriber_id: CONSUMER.into(),
        service_id: service.into(),
        provider_id: provider.into(),
        pricing_plan_id: plan.into(),
        test_mode: false,
        created_at: now(),
        index_seq: 1,
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
        application_id: "app_1".into(),
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

/// `PROVIDER`'s `svc_1` with `plan_1`, `sub_1` and correlation `corr-1`.
pub fn world() -> World {
    let kv = Arc::new(MemoryStore::new());
    seed_service(&*kv, PROVIDER, "svc_1");
    seed_subscription(&*kv, PROVIDER, "svc_1", "plan_1", "sub_1");
    seed_correlation(&*kv, "corr-1", PROVIDER, "svc_1", "plan_1", "sub_1");
    World {
        kv,
        service: "svc_1".into(),
        subscription: "sub_1".into(),
    }
}
