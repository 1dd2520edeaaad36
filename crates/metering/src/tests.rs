//! Metering against a memory store seeded with a provider's service, plan,
//! a consumer's subscription and a gateway correlation.

use std::collections::HashSet;
use std::sync::Arc;

use qmarket_core::decimal::{Price, Quantity};
use qmarket_core::{secret, Timestamp};
use qmarket_model::{Correlation, MeteringEvent, Record};
use qmarket_store::{counter, KeyValue};
use serde_json::{json, Value};

use crate::fixtures::*;
use crate::*;

fn report(body: Value) -> UsageReport {
    UsageReport::from_json(&body, None).unwrap()
}

fn meter(w: &World, caller: &str, body: Value) -> qmarket_core::Result<Recorded> {
    let report = UsageReport::from_json(&body, None)?;
    record_usage(&*w.kv, caller, &report, now(), quick())
}

fn api_usage(w: &World) -> i64 {
    counter(
        &*w.kv,
        &MeteringEvent::usage_key(&w.subscription, API, now().day()),
    )
    .unwrap()
}

fn whole_days() -> Window {
    Window::for_usage(Some("2026-11-01"), Some("2026-11-30"), now()).unwrap()
}

fn all_events(w: &World) -> Vec<EventView> {
    let filter = EventFilter {
        window: Window::for_listing(None, None).unwrap(),
        test_mode: None,
    };
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = list_events(&*w.kv, PROVIDER, &w.service, filter, 500, cursor).unwrap();
        items.extend(page.items);
        match page.next {
            None => return items,
            Some(next) => cursor = Some(next),
        }
    }
}

#[test]
fn a_report_is_recorded_priced_and_counted() {
    let w = world();
    let recorded = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1}),
    )
    .unwrap();
    let e = &recorded.event;
    assert!(e.id.starts_with("evt_"));
    assert!(!recorded.replayed);
    assert_eq!(e.timestamp, now());
    assert_eq!(e.amount.to_string(), "0.00001");
    assert_eq!(e.subscription_id, "sub_1");
    assert_eq!(
        MeteringEvent::load(&*w.kv, &e.id).unwrap().as_ref(),
        Some(e)
    );
    assert_eq!(api_usage(&w), 1_000_000);
    let receipt = serde_json::to_value(Receipt::from(e)).unwrap();
    assert_eq!(
        receipt,
        json!({"id": e.id, "testMode": false, "count": "1", "productId": API,
               "correlationId": "corr-1", "timestamp": "2026-11-22T10:15:30.123Z"})
    );
}

#[test]
fn the_planqk_item_id_shape_with_a_string_count_is_recorded() {
    let w = world();
    let recorded = meter(
        &w,
        PROVIDER,
        json!({"itemId": API, "count": "3", "correlationId": "corr-1"}),
    )
    .unwrap();
    assert_eq!(recorded.event.count.to_string(), "3");
    assert_eq!(recorded.event.amount.to_string(), "0.00003");
}

#[test]
fn an_unknown_correlation_and_another_providers_correlation_answer_the_same_404() {
    let w = world();
    let unknown = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "nope", "productId": API, "count": 1}),
    )
    .unwrap_err();
    let foreign = meter(
        &w,
        STRANGER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1}),
    )
    .unwrap_err();
    assert_eq!(unknown.status(), 404);
    assert_eq!(foreign.status(), 404);
    assert_eq!(foreign.to_string(), "correlation 'corr-1' does not exist");
    assert_eq!(api_usage(&w), 0);
}

#[test]
fn a_product_outside_the_subscriptions_plan_is_422() {
    let w = world();
    let err = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": "prod_other", "count": 1}),
    )
    .unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.field_errors()[0].field, "productId");
}

#[test]
fn timestamps_more_than_5_minutes_ahead_or_35_days_back_are_422() {
    let w = world();
    let at = |t: Timestamp| json!({"correlationId": "corr-1", "productId": API, "count": 1, "timestamp": t.to_rfc3339()});
    for bad in [
        now().plus_seconds(301),
        now().plus_seconds(-35 * 86_400 - 1),
    ] {
        let err = meter(&w, PROVIDER, at(bad)).unwrap_err();
        assert_eq!(err.status(), 422, "{bad}");
        assert_eq!(err.field_errors()[0].field, "timestamp");
    }
    for good in [
        now().plus_seconds(299),
        now().plus_seconds(-35 * 86_400 + 1),
    ] {
        let e = meter(&w, PROVIDER, at(good)).unwrap().event;
        assert_eq!(e.timestamp, good);
    }
}

#[test]
fn a_repeated_event_id_returns_the_first_event_and_counts_once() {
    let w = world();
    let body = json!({"correlationId": "corr-1", "productId": API, "count": 2, "eventId": "e-1"});
    let first = meter(&w, PROVIDER, body.clone()).unwrap();
    let second = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 5, "eventId": "e-1"}),
    )
    .unwrap();
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!(first.event, second.event);
    assert_eq!(api_usage(&w), 2_000_000);
    assert_eq!(all_events(&w).len(), 1);
}

#[test]
fn event_ids_are_scoped_to_the_reporting_account() {
    let w = world();
    seed_service(&*w.kv, STRANGER, "svc_2");
    seed_subscription(&*w.kv, STRANGER, "svc_2", "plan_2", "sub_2");
    seed_correlation(&*w.kv, "corr-2", STRANGER, "svc_2", "plan_2", "sub_2");
    let a = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "same"}),
    )
    .unwrap();
    let b = meter(
        &w,
        STRANGER,
        json!({"correlationId": "corr-2", "productId": API, "count": 1, "eventId": "same"}),
    )
    .unwrap();
    assert_ne!(a.event.id, b.event.id);
    assert!(!b.replayed);
    assert_eq!(
        counter(&*w.kv, &MeteringEvent::usage_key("sub_2", API, now().day())).unwrap(),
        1_000_000
    );
}

#[test]
fn concurrent_copies_of_one_event_count_once_and_all_get_the_first_event() {
    for round in 0..20 {
        let w = world();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let kv = w.kv.clone();
                std::thread::spawn(move || {
                    let r = report(json!({"correlationId": "corr-1", "productId": API, "count": "0.5", "eventId": format!("dup-{round}")}));
                    record_usage(&*kv, PROVIDER, &r, now(), Waiting::default()).unwrap()
                })
            })
            .collect();
        let results: Vec<Recorded> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let ids: HashSet<_> = results.iter().map(|r| r.event.id.clone()).collect();
        assert_eq!(ids.len(), 1, "round {round}");
        assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
        assert_eq!(api_usage(&w), 500_000);
        assert_eq!(all_events(&w).len(), 1);
    }
}

#[test]
fn two_thousand_events_from_16_threads_with_duplicates_are_all_counted_once() {
    // Setup: 2,000 reports; every tenth repeats the event id of the one
    // before it, and the copy is sent from another thread (so some copies
    // race their originals).
    let w = world();
    let reports: Vec<Value> = (0..2_000)
        .map(|i| {
            let id = if i % 10 == 9 { i - 1 } else { i };
            let count = format!("0.{:06}", (id % 999) + 1);
            json!({"correlationId": "corr-1", "productId": API, "count": count, "eventId": format!("ev-{id}")})
        })
        .collect();
    let expected_micro: i64 = (0..2_000)
        .filter(|i| i % 10 != 9)
        .map(|i: i64| (i % 999) + 1)
        .sum();
    let distinct = 1_800;
    let reports = Arc::new(reports);
    // Exec
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let kv = w.kv.clone();
            let reports = reports.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for (i, body) in reports.iter().enumerate() {
                    if i % 16 == t {
                        let r = UsageReport::from_json(body, None).unwrap();
                        let rec =
                            record_usage(&*kv, PROVIDER, &r, now(), Waiting::default()).unwrap();
                        ids.push((i, rec.event.id));
                    }
                }
                ids
            })
        })
        .collect();
    let mut by_report = vec![String::new(); 2_000];
    for t in threads {
        for (i, id) in t.join().unwrap() {
            by_report[i] = id;
        }
    }
    // Check: totals exact, every distinct event listed once, copies agree.
    assert_eq!(api_usage(&w), expected_micro);
    let listed = all_events(&w);
    assert_eq!(listed.len(), distinct);
    let listed_ids: HashSet<_> = listed.iter().map(|e| e.id.clone()).collect();
    assert_eq!(listed_ids.len(), distinct);
    for i in (9..2_000).step_by(10) {
        assert_eq!(by_report[i], by_report[i - 1], "copy {i}");
    }
    let bill = usage(&*w.kv, PROVIDER, &w.subscription, whole_days()).unwrap();
    assert_eq!(
        bill.lines[0].quantity,
        Quantity::from_units(i128::from(expected_micro))
    );
}

/// The state a first copy of report `event_id` left when it died after
/// writing its intent and record: returns the intent and the report's
/// idempotency key.
fn died_after_its_intent(w: &World, event_id: &str) -> (MeteringEvent, String) {
    let mut intent = meter(
        &world(),
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1}),
    )
    .unwrap()
    .event;
    intent.event_id = Some(event_id.into());
    let base = MeteringEvent::idempotency_key(PROVIDER, &secret::hash(event_id));
    let written = qmarket_store::write_once(&*w.kv, &base, quick(), || Ok(intent.clone()));
    assert!(matches!(written, Ok(Some(qmarket_store::Written::Mine(_)))));
    intent.save(&*w.kv).unwrap();
    (intent, base)
}

/// Like [`died_after_its_intent`], past choosing the listing slot too,
/// without filling it: returns the intent and the slot.
fn died_after_choosing_a_slot(w: &World, event_id: &str) -> (MeteringEvent, u64) {
    let (intent, base) = died_after_its_intent(w, event_id);
    let index = qmarket_store::Index::new(MeteringEvent::service_index("svc_1"));
    let slot = qmarket_store::write_once(&*w.kv, &format!("{base}/listed"), quick(), || {
        Ok(index.reserve(&*w.kv)?)
    })
    .unwrap()
    .unwrap()
    .into_value();
    (intent, slot)
}

/// The ids of every listed event of `svc_1`, newest first.
fn listed_ids(w: &World) -> Vec<String> {
    all_events(w).into_iter().map(|e| e.id).collect()
}

#[test]
fn a_retry_after_a_crash_past_the_intent_finishes_the_event_once() {
    // Setup: the first copy died after choosing its slot in the listing.
    let w = world();
    let (intent, _) = died_after_choosing_a_slot(&w, "crash-1");
    let body =
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "crash-1"});
    // Exec
    let retry = meter(&w, PROVIDER, body.clone()).unwrap();
    let again = meter(&w, PROVIDER, body).unwrap();
    // Check
    assert_eq!(retry.event.id, intent.id);
    assert_eq!(again.event.id, intent.id);
    assert_eq!(api_usage(&w), 1_000_000);
    assert_eq!(listed_ids(&w), [intent.id]);
}

#[test]
fn a_retry_after_the_listing_slot_was_filled_but_not_acknowledged_lists_the_event_once() {
    let w = world();
    let (intent, slot) = died_after_choosing_a_slot(&w, "crash-3");
    qmarket_store::Index::new(MeteringEvent::service_index("svc_1"))
        .put(&*w.kv, slot, &intent.id)
        .unwrap();
    let retry = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "crash-3"}),
    )
    .unwrap();
    assert!(retry.replayed);
    assert_eq!(listed_ids(&w), [intent.id]);
    assert_eq!(api_usage(&w), 1_000_000);
}

#[test]
fn a_retry_after_a_store_failure_between_claiming_the_slot_and_choosing_it_lists_the_event() {
    // Setup: the first copy claimed the listing slot, then its store failed.
    let w = world();
    let body =
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "crash-4"});
    let (intent, base) = died_after_its_intent(&w, "crash-4");
    assert!(qmarket_store::claim(&*w.kv, &format!("{base}/listed")).unwrap());
    // Exec
    let retry = meter(&w, PROVIDER, body.clone()).unwrap();
    let again = meter(&w, PROVIDER, body).unwrap();
    // Check
    assert_eq!(
        (retry.event.id.as_str(), again.event.id.as_str()),
        (intent.id.as_str(), intent.id.as_str())
    );
    assert_eq!(listed_ids(&w), [intent.id]);
    assert_eq!(api_usage(&w), 1_000_000);
}

#[test]
fn a_retry_after_a_crash_between_claim_and_intent_records_the_event_once() {
    let w = world();
    let base = MeteringEvent::idempotency_key(PROVIDER, &secret::hash("crash-2"));
    w.kv.increment(&base, 1).unwrap();
    let body =
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "crash-2"});
    let retry = meter(&w, PROVIDER, body.clone()).unwrap();
    let again = meter(&w, PROVIDER, body).unwrap();
    assert!(!retry.replayed);
    assert!(again.replayed);
    assert_eq!(retry.event.id, again.event.id);
    assert_eq!(api_usage(&w), 1_000_000);
}

#[test]
fn a_copy_that_cannot_see_the_first_event_answers_409_rather_than_count_twice() {
    let w = world();
    let base = MeteringEvent::idempotency_key(PROVIDER, &secret::hash("stuck"));
    w.kv.increment(&base, 1).unwrap();
    w.kv.increment(&format!("{base}/takeover"), 1).unwrap();
    let err = meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "stuck"}),
    )
    .unwrap_err();
    assert_eq!(err.status(), 409);
    assert_eq!(api_usage(&w), 0);
}

#[test]
fn usage_is_priced_exactly_per_product() {
    let w = world();
    meter(
        &w,
        PROVIDER,
        json!({"correlationId": "corr-1", "productId": API, "count": 3}),
    )
    .unwrap();
    for _ in 0..10 {
        meter(
            &w,
            PROVIDER,
            json!({"correlationId": "corr-1", "productId": CPU, "count": "0.1"}),
        )
        .unwrap();
    }
    for _ in 0..7 {
        meter(
            &w,
            PROVIDER,
            json!({"correlationId": "corr-1", "itemId": CPU, "count": "0.000001"}),
        )
        .unwrap();
    }
    let bill = usage(&*w.kv, CONSUMER, "sub_1", whole_days()).unwrap();
    let v = serde_json::to_value(&bill).unwrap();
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["from"], "2026-11-01T00:00:00.000Z");
    assert_eq!(v["to"], "2026-12-01T00:00:00.000Z");
    assert_eq!(
        v["lines"][0],
        json!({"productId": API, "productName": "API", "unit": "call",
        "unitPrice": "0.00001", "quantity": "3", "amount": "0.00003"})
    );
    assert_eq!(v["lines"][1]["quantity"], "1.000007");
    assert_eq!(v["lines"][1]["amount"], "0.0000000001000007");
    assert_eq!(v["total"], "0.0000300001000007");
    let price: Price = "0.00001".parse().unwrap();
    assert_eq!(
        bill.lines[0].amount,
        Quantity::from_units(3_000_000).times(price).unwrap()
    );
}

#[test]
fn usage_counts_only_the_days_of_the_window() {
    let w = world();
    let day =
        |d: &str| json!({"correlationId": "corr-1", "productId": API, "count": 1, "timestamp": d});
    meter(&w, PROVIDER, day("2026-11-20T23:59:59.999Z")).unwrap();
    meter(&w, PROVIDER, day("2026-11-21T00:00:00Z")).unwrap();
    meter(&w, PROVIDER, day("2026-11-22T08:00:00Z")).unwrap();
    let window =
        Window::for_usage(Some("2026-11-21T12:00:00Z"), Some("2026-11-21"), now()).unwrap();
    let bill = usage(&*w.kv, PROVIDER, "sub_1", window).unwrap();
    assert_eq!(bill.lines[0].quantity.to_string(), "1");
    assert_eq!(bill.from.to_rfc3339(), "2026-11-21T00:00:00.000Z");
    assert_eq!(bill.to.to_rfc3339(), "2026-11-22T00:00:00.000Z");
}

#[test]
fn usage_is_visible_to_subscriber_and_provider_only() {
    let w = world();
    assert!(usage(&*w.kv, CONSUMER, "sub_1", whole_days()).is_ok());
    assert!(usage(&*w.kv, PROVIDER, "sub_1", whole_days()).is_ok());
    assert_eq!(
        usage(&*w.kv, STRANGER, "sub_1", whole_days())
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        usage(&*w.kv, CONSUMER, "sub_nope", whole_days())
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn listings_are_newest_received_first_with_cursors() {
    let w = world();
    let ids: Vec<String> = (0..7)
        .map(|_| {
            meter(
                &w,
                PROVIDER,
                json!({"correlationId": "corr-1", "productId": API, "count": 1}),
            )
            .unwrap()
            .event
            .id
        })
        .collect();
    let filter = EventFilter {
        window: Window::for_listing(None, None).unwrap(),
        test_mode: None,
    };
    let p1 = list_events(&*w.kv, PROVIDER, "svc_1", filter, 3, None).unwrap();
    let p2 = list_events(&*w.kv, PROVIDER, "svc_1", filter, 3, p1.next).unwrap();
    let p3 = list_events(&*w.kv, PROVIDER, "svc_1", filter, 3, p2.next).unwrap();
    let got: Vec<String> = [&p1, &p2, &p3]
        .iter()
        .flat_map(|p| p.items.iter().map(|e| e.id.clone()))
        .collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(got, expected);
    assert_eq!(p3.next, None);
    let item = serde_json::to_value(&p1.items[0]).unwrap();
    assert_eq!(item["currency"], "EUR");
    assert_eq!(item["unitPrice"], "0.00001");
    assert_eq!(item["amount"], "0.00001");
    assert_eq!(item["applicationId"], "app_1");
}

#[test]
fn listing_filters_by_time_and_test_mode_while_walking() {
    let w = world();
    seed_correlation(&*w.kv, "corr-live", PROVIDER, "svc_1", "plan_1", "sub_1");
    let mut test_corr = Correlation::load(&*w.kv, "corr-1").unwrap().unwrap();
    test_corr.id = "corr-test".into();
    test_corr.test_mode = true;
    test_corr.save(&*w.kv).unwrap();
    let at = |c: &str, t: &str| json!({"correlationId": c, "productId": API, "count": 1, "timestamp": t});
    meter(&w, PROVIDER, at("corr-test", "2026-11-20T10:00:00Z")).unwrap();
    meter(&w, PROVIDER, at("corr-live", "2026-11-20T11:00:00Z")).unwrap();
    meter(&w, PROVIDER, at("corr-live", "2026-11-21T11:00:00Z")).unwrap();
    meter(&w, PROVIDER, at("corr-test", "2026-11-22T09:00:00Z")).unwrap();
    let list = |from: Option<&str>, to: Option<&str>, test_mode, limit| {
        let filter = EventFilter {
            window: Window::for_listing(from, to).unwrap(),
            test_mode,
        };
        list_events(&*w.kv, PROVIDER, "svc_1", filter, limit, None).unwrap()
    };
    assert_eq!(list(None, None, Some(true), 50).items.len(), 2);
    assert!(list(None, None, Some(true), 50)
        .items
        .iter()
        .all(|e| e.test_mode));
    assert_eq!(list(None, None, Some(false), 50).items.len(), 2);
    let day = list(Some("2026-11-20"), Some("2026-11-20"), None, 50);
    assert_eq!(day.items.len(), 2);
    let first_live = list(None, None, Some(false), 1);
    assert_eq!(
        first_live.items[0].timestamp.to_rfc3339(),
        "2026-11-21T11:00:00.000Z"
    );
    assert!(first_live.next.is_some());
}

#[test]
fn another_provider_cannot_list_a_services_events() {
    let w = world();
    let filter = EventFilter {
        window: Window::for_listing(None, None).unwrap(),
        test_mode: None,
    };
    let err = list_events(&*w.kv, STRANGER, "svc_1", filter, 10, None).unwrap_err();
    assert_eq!(err.status(), 404);
    let err = list_events(&*w.kv, PROVIDER, "svc_nope", filter, 10, None).unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn a_batch_judges_each_report_on_its_own() {
    let w = world();
    let body = json!({"events": [
        {"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "b-1"},
        {"correlationId": "corr-1", "productId": API, "count": 0},
        {"correlationId": "nope", "productId": API, "count": 1},
        {"correlationId": "corr-1", "productId": "prod_x", "count": 1},
        {"correlationId": "corr-1", "productId": API, "count": 1, "eventId": "b-1"},
    ]});
    let results = record_batch(&*w.kv, PROVIDER, &body, now(), quick()).unwrap();
    let statuses: Vec<u16> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.status(), |_| 200))
        .collect();
    assert_eq!(statuses, [200, 400, 404, 422, 200]);
    assert_eq!(api_usage(&w), 1_000_000);
}

#[test]
fn malformed_batches_are_400s() {
    let w = world();
    let one = json!({"correlationId": "corr-1", "productId": API, "count": 1});
    for body in [
        json!({}),
        json!({"events": []}),
        json!({"events": {}}),
        json!({"events": vec![one.clone(); 101]}),
        json!({"events": [one.clone()], "extra": 1}),
        json!([one]),
    ] {
        let err = record_batch(&*w.kv, PROVIDER, &body, now(), quick()).unwrap_err();
        assert_eq!(err.status(), 400, "{body}");
    }
    assert_eq!(api_usage(&w), 0);
}
