//! Who may subscribe to what, and what subscribing and ending change.

mod support;

use qmarket_catalog::{lifecycle, pricing_plan};
use qmarket_core::id::new_id;
use qmarket_core::IdKind;
use qmarket_http::PageQuery;
use qmarket_http::StatusOf;
use qmarket_identity::application;
use qmarket_identity::subscription::{self, NewSubscription};
use qmarket_model::{Lifecycle, PricingPlan, Service, Subscription};
use qmarket_store::{counter, KeyValue, MemoryStore};
use support::{account, app, now, plan, service};

fn first_page() -> PageQuery {
    PageQuery {
        limit: 50,
        cursor: None,
    }
}

fn subscribe(
    kv: &MemoryStore,
    account_id: &str,
    app_id: &str,
    svc: &str,
    plan_id: &str,
) -> qmarket_core::Result<subscription::SubscriptionView> {
    subscription::subscribe(
        kv,
        account_id,
        app_id,
        NewSubscription {
            service_id: svc.into(),
            pricing_plan_id: plan_id.into(),
        },
        now(),
    )
}

#[test]
fn any_account_may_subscribe_to_a_published_service_outside_test_mode() {
    // Setup
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let consumer = account(&kv, "consumer");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let consumer_app = app(&kv, &consumer.id);
    // Exec
    let sub = subscribe(&kv, &consumer.id, &consumer_app.id, &svc, &plan_id).unwrap();
    // Check
    assert!(!sub.test_mode);
    assert_eq!(sub.application_id, consumer_app.id);
    assert_eq!(sub.service_id, svc);
    assert_eq!(sub.pricing_plan_id, plan_id);
    let gateway_key = Subscription::by_application_and_service_key(&consumer_app.id, &svc);
    assert_eq!(
        kv.get(&gateway_key).unwrap(),
        Some(sub.id.clone().into_bytes())
    );
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        1
    );
    assert_eq!(
        counter(&kv, &PricingPlan::subscription_count_key(&plan_id)).unwrap(),
        1
    );
    let stored = qmarket_model::Record::load(&kv, &sub.id).unwrap();
    let stored: Subscription = stored.unwrap();
    assert_eq!(stored.subscriber_id, consumer.id);
    assert_eq!(stored.provider_id, provider.id);
}

#[test]
fn a_subscription_shows_its_plan_and_service_name_also_once_the_service_is_unpublished() {
    // Setup: a published service with a graduated plan, and a consumer's
    // subscription to it; then the provider takes the service back.
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let consumer = account(&kv, "consumer");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let input = serde_json::from_value(serde_json::json!({
        "name": "graduated",
        "type": "COMMERCIAL",
        "products": [{
            "name": "API", "unit": "call", "pricingModel": "GRADUATED",
            "tiers": [{"upTo": "1000", "unitPrice": "0"}, {"upTo": null, "unitPrice": "0.0001"}]
        }],
        "limits": {"quota": {"requests": 5, "per": "DAY"}}
    }))
    .unwrap();
    let created = pricing_plan::create(&kv, &provider.id, &svc, input, now()).unwrap();
    let consumer_app = app(&kv, &consumer.id);
    let sub = subscribe(&kv, &consumer.id, &consumer_app.id, &svc, &created.id).unwrap();
    lifecycle::unpublish(&kv, &provider.id, &svc, now()).unwrap();
    // Exec
    let shown = subscription::get(&kv, &consumer.id, &sub.id).unwrap();
    let listed = subscription::list(&kv, &consumer.id, &consumer_app.id, &first_page()).unwrap();
    // Check: the single view has the plan exactly as the provider sees it;
    // the listing stays lean.
    assert_eq!(shown.service_name.as_deref(), Some("svc"));
    assert_eq!(shown.pricing_plan.as_ref(), Some(&created));
    let json = serde_json::to_value(&shown).unwrap();
    assert_eq!(json["serviceName"], "svc");
    assert_eq!(
        json["pricingPlan"]["products"][0]["tiers"][1]["unitPrice"],
        "0.0001"
    );
    assert_eq!(json["pricingPlan"]["limits"]["quota"]["requests"], 5);
    assert_eq!(listed.items.len(), 1);
    let item = serde_json::to_value(&listed.items[0]).unwrap();
    assert_eq!(item["id"], sub.id.as_str());
    assert!(item.get("pricingPlan").is_none());
    assert!(item.get("serviceName").is_none());
}

#[test]
fn the_owner_subscribes_to_an_accessible_service_in_test_mode() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Accessible);
    let plan_id = plan(&kv, &svc);
    let own_app = app(&kv, &provider.id);
    let sub = subscribe(&kv, &provider.id, &own_app.id, &svc, &plan_id).unwrap();
    assert!(sub.test_mode);
}

#[test]
fn an_accessible_service_of_another_provider_answers_like_a_missing_one() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let stranger = account(&kv, "stranger");
    let svc = service(&kv, &provider.id, Lifecycle::Accessible);
    let plan_id = plan(&kv, &svc);
    let stranger_app = app(&kv, &stranger.id);
    let err = subscribe(&kv, &stranger.id, &stranger_app.id, &svc, &plan_id).unwrap_err();
    let missing = new_id(IdKind::Service).unwrap();
    let missing_err =
        subscribe(&kv, &stranger.id, &stranger_app.id, &missing, &plan_id).unwrap_err();
    assert_eq!(err.status(), 404);
    assert_eq!(missing_err.status(), 404);
    assert_eq!(
        err.to_string().replace(&svc, "ID"),
        missing_err.to_string().replace(&missing, "ID")
    );
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        0
    );
}

#[test]
fn a_created_service_cannot_be_subscribed_to_even_by_its_owner() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Created);
    let plan_id = plan(&kv, &svc);
    let own_app = app(&kv, &provider.id);
    assert_eq!(
        subscribe(&kv, &provider.id, &own_app.id, &svc, &plan_id)
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn a_plan_of_another_service_is_unprocessable() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let other = service(&kv, &provider.id, Lifecycle::Published);
    let other_plan = plan(&kv, &other);
    let consumer_app = app(&kv, &provider.id);
    let err = subscribe(&kv, &provider.id, &consumer_app.id, &svc, &other_plan).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.field_errors()[0].field, "pricingPlanId");
    let unknown = new_id(IdKind::PricingPlan).unwrap();
    let err = subscribe(&kv, &provider.id, &consumer_app.id, &svc, &unknown).unwrap_err();
    assert_eq!(err.status(), 422);
}

#[test]
fn malformed_ids_in_the_body_are_bad_requests() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let a = app(&kv, &provider.id);
    let err = subscribe(&kv, &provider.id, &a.id, "../../etc", &plan_id).unwrap_err();
    assert_eq!(
        (err.status(), err.field_errors()[0].field.as_str()),
        (400, "serviceId")
    );
    let err = subscribe(&kv, &provider.id, &a.id, &svc, "").unwrap_err();
    assert_eq!(
        (err.status(), err.field_errors()[0].field.as_str()),
        (400, "pricingPlanId")
    );
}

#[test]
fn a_second_subscription_to_the_same_service_conflicts_until_the_first_ends() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let a = app(&kv, &provider.id);
    let first = subscribe(&kv, &provider.id, &a.id, &svc, &plan_id).unwrap();
    assert_eq!(
        subscribe(&kv, &provider.id, &a.id, &svc, &plan_id)
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        1
    );

    subscription::unsubscribe(&kv, &provider.id, &first.id).unwrap();
    let second = subscribe(&kv, &provider.id, &a.id, &svc, &plan_id).unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        1
    );
    assert_eq!(
        counter(&kv, &PricingPlan::subscription_count_key(&plan_id)).unwrap(),
        2
    );
}

#[test]
fn concurrent_subscriptions_of_one_application_to_one_service_admit_exactly_one() {
    let kv = std::sync::Arc::new(MemoryStore::new());
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let a = app(&kv, &provider.id);
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (kv, acc, app_id, svc, plan_id) = (
                kv.clone(),
                provider.id.clone(),
                a.id.clone(),
                svc.clone(),
                plan_id.clone(),
            );
            std::thread::spawn(move || subscribe(&kv, &acc, &app_id, &svc, &plan_id).is_ok())
        })
        .collect();
    let admitted = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|admitted| *admitted)
        .count();
    assert_eq!(admitted, 1);
    assert_eq!(
        counter(&*kv, &Service::subscription_count_key(&svc)).unwrap(),
        1
    );
    let listed = subscription::list(&*kv, &provider.id, &a.id, &first_page()).unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[test]
fn unsubscribing_removes_the_gateway_key_and_the_listing_and_decrements_the_service() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let a = app(&kv, &provider.id);
    let sub = subscribe(&kv, &provider.id, &a.id, &svc, &plan_id).unwrap();

    subscription::unsubscribe(&kv, &provider.id, &sub.id).unwrap();

    let gateway_key = Subscription::by_application_and_service_key(&a.id, &svc);
    assert!(!kv.exists(&gateway_key).unwrap());
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        0
    );
    // The plan counter counts subscriptions ever made: it stays.
    assert_eq!(
        counter(&kv, &PricingPlan::subscription_count_key(&plan_id)).unwrap(),
        1
    );
    assert!(subscription::list(&kv, &provider.id, &a.id, &first_page())
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        subscription::get(&kv, &provider.id, &sub.id)
            .unwrap_err()
            .status(),
        404
    );
    // Ending twice is 404 and moves no counter.
    assert_eq!(
        subscription::unsubscribe(&kv, &provider.id, &sub.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        counter(&kv, &Service::subscription_count_key(&svc)).unwrap(),
        0
    );
}

#[test]
fn another_accounts_subscription_and_application_answer_404() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let consumer = account(&kv, "consumer");
    let svc = service(&kv, &provider.id, Lifecycle::Published);
    let plan_id = plan(&kv, &svc);
    let a = app(&kv, &consumer.id);
    let sub = subscribe(&kv, &consumer.id, &a.id, &svc, &plan_id).unwrap();
    // The provider owns the service, not the subscription.
    assert_eq!(
        subscription::unsubscribe(&kv, &provider.id, &sub.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        subscription::get(&kv, &provider.id, &sub.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        subscription::list(&kv, &provider.id, &a.id, &first_page())
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        subscribe(&kv, &provider.id, &a.id, &svc, &plan_id)
            .unwrap_err()
            .status(),
        404
    );
    assert!(subscription::get(&kv, &consumer.id, &sub.id).is_ok());
}

#[test]
fn deleting_an_application_ends_all_its_subscriptions() {
    let kv = MemoryStore::new();
    let provider = account(&kv, "provider");
    let consumer = account(&kv, "consumer");
    let services: Vec<String> = (0..3)
        .map(|_| service(&kv, &provider.id, Lifecycle::Published))
        .collect();
    let a = app(&kv, &consumer.id);
    let mut subs = Vec::new();
    for svc in &services {
        let plan_id = plan(&kv, svc);
        subs.push(subscribe(&kv, &consumer.id, &a.id, svc, &plan_id).unwrap());
    }

    application::delete(&kv, &consumer.id, &a.id).unwrap();

    for (svc, sub) in services.iter().zip(&subs) {
        assert_eq!(
            counter(&kv, &Service::subscription_count_key(svc)).unwrap(),
            0
        );
        let gateway_key = Subscription::by_application_and_service_key(&a.id, svc);
        assert!(!kv.exists(&gateway_key).unwrap());
        assert_eq!(
            subscription::get(&kv, &consumer.id, &sub.id)
                .unwrap_err()
                .status(),
            404
        );
    }
    assert_eq!(
        application::get(&kv, &consumer.id, &a.id)
            .unwrap_err()
            .status(),
        404
    );
}
