//! The catalogue's rules straight on the domain functions, over a memory
//! store: concurrency, lifecycle, marketplace consistency, plan immutability.

use qmarket_http::StatusOf;
use std::sync::Arc;

use qmarket_catalog::marketplace::{self, MarketplaceQuery};
use qmarket_catalog::{
    lifecycle, pricing_plan, service, NewPricingPlan, NewService, UpdateService,
};
use qmarket_core::Timestamp;
use qmarket_model::{Lifecycle, PricingPlan, Record, Service, ServiceType};
use qmarket_sealing::Sealer;
use qmarket_store::{KeyValue, MemoryStore};
use serde_json::json;

fn sealer() -> Sealer {
    Sealer::from_key(&[9; 32])
}

fn new_service(name: &str) -> NewService {
    serde_json::from_value(json!({
        "name": name, "type": "EXTERNAL", "quantumBackend": "IBM",
        "url": "https://walk.example.org",
        "securityConfiguration": {"type": "BASIC", "username": "u", "password": "plain-secret"}
    }))
    .unwrap()
}

fn new_plan() -> NewPricingPlan {
    serde_json::from_value(json!({
        "name": "Pay per use",
        "products": [{"name": "API", "unitPrice": "0.00001", "unit": "call"}]
    }))
    .unwrap()
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[test]
fn fifty_concurrent_creations_by_one_account_are_all_listed() {
    // Setup
    let kv = Arc::new(MemoryStore::new());
    // Exec
    let mut created: Vec<String> = (0..50)
        .map(|i| {
            let kv = kv.clone();
            std::thread::spawn(move || {
                service::create(
                    &*kv,
                    &sealer(),
                    "acc_1",
                    new_service(&format!("S{i}")),
                    now(),
                )
                .unwrap()
                .id
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    // Check
    let mut listed: Vec<String> = service::list(&*kv, "acc_1", None, 500)
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.id)
        .collect();
    created.sort();
    listed.sort();
    assert_eq!(listed, created);
}

#[test]
fn no_stored_key_holds_the_plaintext_password() {
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    let raw = kv.get(&Service::key(&id)).unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("plain-secret"));
    let stored = Service::load(&kv, &id).unwrap().unwrap();
    let sealed = stored.security_configuration.sealed_password.unwrap();
    assert_eq!(sealer().open(&sealed).unwrap(), "plain-secret");
}

#[test]
fn a_stale_marketplace_entry_does_not_list_a_service_twice() {
    // Setup: a publish that lost a race left a second entry behind.
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    pricing_plan::create(&kv, "acc_1", &id, new_plan(), now()).unwrap();
    marketplace::index().append(&kv, &id).unwrap();
    lifecycle::publish(&kv, "acc_1", &id, now()).unwrap();
    marketplace::index().append(&kv, &id).unwrap();
    // Exec
    let page = marketplace::browse(
        &kv,
        &MarketplaceQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    // Check
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, id);
}

#[test]
fn internal_publication_takes_a_service_out_of_the_marketplace() {
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    pricing_plan::create(&kv, "acc_1", &id, new_plan(), now()).unwrap();
    lifecycle::publish(&kv, "acc_1", &id, now()).unwrap();
    let view = lifecycle::publish_internal(&kv, "acc_1", &id, now()).unwrap();
    assert_eq!(view.lifecycle, Lifecycle::Accessible);
    assert_eq!(
        Service::load(&kv, &id).unwrap().unwrap().marketplace_seq,
        None
    );
    let page = marketplace::browse(
        &kv,
        &MarketplaceQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(page.items.is_empty());
}

#[test]
fn lifecycle_changes_of_another_accounts_service_are_not_found() {
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    for result in [
        lifecycle::publish_internal(&kv, "acc_2", &id, now()),
        lifecycle::publish(&kv, "acc_2", &id, now()),
        lifecycle::unpublish(&kv, "acc_2", &id, now()),
    ] {
        assert_eq!(result.unwrap_err().status(), 404);
    }
}

#[test]
fn a_service_turned_managed_loses_its_url_and_upstream_credentials() {
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    let patch = UpdateService {
        kind: Some(ServiceType::Managed),
        ..Default::default()
    };
    let view = service::update(&kv, &sealer(), "acc_1", &id, patch, now()).unwrap();
    assert_eq!(view.url, None);
    assert_eq!(view.security_configuration.username, None);
    assert!(view.runtime.is_some());
    let stored = Service::load(&kv, &id).unwrap().unwrap();
    assert_eq!(stored.security_configuration.sealed_password, None);
    // and back: EXTERNAL needs its URL again
    let back = UpdateService {
        kind: Some(ServiceType::External),
        ..Default::default()
    };
    let err = service::update(&kv, &sealer(), "acc_1", &id, back, now()).unwrap_err();
    assert_eq!(err.field_errors()[0].field, "url");
}

#[test]
fn deleting_a_service_keeps_the_plans_that_had_subscriptions() {
    // Setup
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    let used = pricing_plan::create(&kv, "acc_1", &id, new_plan(), now())
        .unwrap()
        .id;
    let unused = pricing_plan::create(&kv, "acc_1", &id, new_plan(), now())
        .unwrap()
        .id;
    kv.increment(&PricingPlan::subscription_count_key(&used), 1)
        .unwrap();
    // Exec
    service::delete(&kv, "acc_1", &id).unwrap();
    // Check
    assert!(PricingPlan::load(&kv, &used).unwrap().is_some());
    assert!(PricingPlan::load(&kv, &unused).unwrap().is_none());
    assert!(Service::load(&kv, &id).unwrap().is_none());
}

#[test]
fn a_plan_with_subscriptions_cannot_change_its_products() {
    let kv = MemoryStore::new();
    let id = service::create(&kv, &sealer(), "acc_1", new_service("S"), now())
        .unwrap()
        .id;
    let plan = pricing_plan::create(&kv, "acc_1", &id, new_plan(), now()).unwrap();
    kv.increment(&PricingPlan::subscription_count_key(&plan.id), 1)
        .unwrap();
    let change =
        serde_json::from_value(json!({"products": [{"name": "CPU", "unitPrice": 1, "unit": "s"}]}))
            .unwrap();
    let err = pricing_plan::update(&kv, "acc_1", &id, &plan.id, change, now()).unwrap_err();
    assert_eq!(err.status(), 409);
    assert_eq!(
        pricing_plan::delete(&kv, "acc_1", &id, &plan.id)
            .unwrap_err()
            .status(),
        409
    );
    let stored = PricingPlan::load(&kv, &plan.id).unwrap().unwrap();
    assert_eq!(stored.products[0].name, "API");
}

#[test]
fn the_marketplace_continues_past_a_long_run_of_non_matching_services() {
    // Setup: 600 published services, only the oldest matches.
    let kv = MemoryStore::new();
    let mut ids = Vec::new();
    for i in 0..600 {
        let name = if i == 0 {
            "needle".to_string()
        } else {
            format!("hay {i}")
        };
        let id = service::create(&kv, &sealer(), "acc_1", new_service(&name), now())
            .unwrap()
            .id;
        pricing_plan::create(&kv, "acc_1", &id, new_plan(), now()).unwrap();
        lifecycle::publish(&kv, "acc_1", &id, now()).unwrap();
        ids.push(id);
    }
    // Exec: follow the cursor
    let mut query = MarketplaceQuery {
        q: Some("NEEDLE".into()),
        limit: 10,
        ..Default::default()
    };
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        let page = marketplace::browse(&kv, &query).unwrap();
        pages += 1;
        found.extend(page.items.into_iter().map(|s| s.id));
        match page.next {
            Some(next) => query.before = Some(next),
            None => break,
        }
    }
    // Check
    assert_eq!(found, vec![ids[0].clone()]);
    assert!(pages >= 2, "one page may not visit every entry");
}
