//! Fixtures shared by the identity tests: accounts, services and plans
//! written straight into a memory store.
#![allow(dead_code)]

use qmarket_core::id::new_id;
use qmarket_core::{IdKind, Timestamp};
use qmarket_http::{Method, Request};
use qmarket_identity::account::{self, CreatedAccount, NewAccount};
use qmarket_identity::application::{self, CreatedApplication, NewApplication};
use qmarket_model::{Lifecycle, PlanType, PricingPlan, Record, Service, ServiceType, CURRENCY};
use qmarket_store::MemoryStore;

/// A fixed "now": 2026-11-22T10:15:30.123Z.
pub fn now() -> Timestamp {
    Timestamp::from_millis(1_795_342_530_123)
}

/// A new account named `name` with e-mail `{name}@example.org`.
pub fn account(kv: &MemoryStore, name: &str) -> CreatedAccount {
    account::sign_up(
        kv,
        NewAccount {
            name: name.into(),
            email: format!("{name}@example.org"),
        },
        now(),
    )
    .expect("sign-up")
}

/// A new application of `account_id`.
pub fn app(kv: &MemoryStore, account_id: &str) -> CreatedApplication {
    application::create(kv, account_id, NewApplication { name: "app".into() }, now())
        .expect("application")
}

/// A service of `owner` in `lifecycle`, stored directly.
pub fn service(kv: &MemoryStore, owner: &str, lifecycle: Lifecycle) -> String {
    let id = new_id(IdKind::Service).unwrap();
    Service {
        name: "svc".into(),
        quantum_backend: "SIMULATOR".into(),
        url: Some("http://localhost:9/".into()),
        lifecycle,
        index_seq: 1,
        ..Service::draft(id.clone(), owner, ServiceType::External, now())
    }
    .save_with_state(kv)
    .unwrap();
    id
}

/// A free plan of service `svc`, stored directly.
pub fn plan(kv: &MemoryStore, svc: &str) -> String {
    let id = new_id(IdKind::PricingPlan).unwrap();
    PricingPlan {
        id: id.clone(),
        service_id: svc.into(),
        name: "free".into(),
        kind: PlanType::Free,
        currency: CURRENCY.into(),
        products: Vec::new(),
        created_at: now(),
        updated_at: now(),
        index_seq: 1,
        limits: None,
    }
    .save(kv)
    .unwrap();
    id
}

/// A GET of `path` with `Authorization: Bearer {token}`.
pub fn bearer(path: &str, token: &str) -> Request {
    Request::new(Method::Get, path).with_header("Authorization", &format!("Bearer {token}"))
}

/// The sealer of OAuth2 access tokens in these tests.
pub fn tokens() -> qmarket_sealing::Sealer {
    qmarket_sealing::Sealer::from_key(&[3; 32]).for_purpose(qmarket_identity::oauth::TOKEN_PURPOSE)
}
