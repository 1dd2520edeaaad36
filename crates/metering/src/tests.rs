//! Metering against a memory store seeded with a provider's service, plan,
//! a consumer's subscription and a gateway correlation.

use std::collections::HashSet;
use std::sync::Arc;

use qmarket_core::decimal::{Price, Quantity};
use qmarket_core::{secret, Timestamp};
use qmarket_http::StatusOf;
use qmarket_model::{Correlation, MeteringEvent, Record};
use qmarket_store::{value_key, Index, KeyValue, MemoryStore, Recording};
use serde_json::{json, Value};

use crate::fixtures::*;
use crate::rollup::{rollup, total};
use crate::*;

fn report(body: Value) -> UsageReport {
    UsageReport::from_json(&body, None).unwrap()
}

fn meter(w: &World, caller: &str, body: Value) -> qmarket_core::Result<Recorded> {
    let report = UsageReport::from_json(&body, None)?;
    record_usage(&ingest(&*w.kv, caller, quick()), &report)
}

/// Meters as [`meter`], with months open for 40 days after their end (so
/// reports 35 days back are still admitted).
fn meter_late(w: &World, caller: &str, body: Value) -> qmarket_core::Result<Recorded> {
    let report = UsageReport::from_json(&body, None)?;
    let ingest = Ingest {
        grace: Grace::days(40).unwrap(),
        ..ingest(&*w.kv, caller, quick())
    };
    record_usage(&ingest, &report)
}

fn api_call(count: impl Into<Value>) -> Value {
    json!({"correlationId": CORRELATION, "productId": API, "count": count.into()})
}

fn api_event(count: impl Into<Value>, event_id: &str) -> Value {
    json!({"correlationId": CORRELATION, "productId": API, "count": count.into(), "eventId": event_id})
}

fn whole_days() -> Window {
    Window::for_usage(Some("2026-11-01"), Some("2026-11-30"), now()).unwrap()
}

/// The quantity of [`API`] billed to the subscription in November 2026.
fn api_billed(kv: &MemoryStore) -> String {
    usage(kv, PROVIDER, SUBSCRIPTION, whole_days())
        .unwrap()
        .lines[0]
        .quantity
        .to_string()
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

fn listed_ids(w: &World) -> Vec<String> {
    all_events(w).into_iter().map(|e| e.id).collect()
}

fn november_log() -> UsageLog {
    UsageLog::of(SUBSCRIPTION, 202611)
}

#[test]
fn a_report_is_recorded_priced_listed_and_billed() {
    let w = world();
    let recorded = meter(&w, PROVIDER, api_call(1)).unwrap();
    let e = &recorded.event;
    assert!(e.id.starts_with("evt_"));
    assert!(!recorded.replayed);
    assert_eq!(e.timestamp, now());
    assert_eq!(e.amount.to_string(), "0.00001");
    assert_eq!(e.subscription_id, SUBSCRIPTION);
    assert_eq!(recorded.placement.log, november_log().prefix());
    assert_eq!(recorded.placement.log_slot, 1);
    assert_eq!(listed_ids(&w), std::slice::from_ref(&e.id));
    assert_eq!(api_billed(&w.kv), "1");
    let receipt = serde_json::to_value(Receipt::from(e)).unwrap();
    assert_eq!(
        receipt,
        json!({"id": e.id, "testMode": false, "count": "1", "productId": API,
               "correlationId": CORRELATION, "timestamp": "2026-11-22T10:15:30.123Z"})
    );
}

#[test]
fn recording_a_report_makes_two_reads_five_writes_and_no_read_modify_write() {
    // Setup: a store that logs its operations.
    let kv: Recording = Recording::default();
    seed_service(&kv, PROVIDER, SERVICE);
    seed_subscription(&kv, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    seed_correlation(&kv, CORRELATION, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    kv.clear();
    // Exec
    record_usage(
        &ingest(&kv, PROVIDER, quick()),
        &report(api_event(1, "w-1")),
    )
    .unwrap();
    // Check: claim, three reservations (usage log, listing, the call's
    // events), one atomic write of the four keys.
    let writes: Vec<String> = kv.writes().iter().map(ToString::to_string).collect();
    assert_eq!(writes.len(), 5, "{writes:?}");
    assert!(
        writes[0].starts_with("increment metering-idem/"),
        "{writes:?}"
    );
    assert_eq!(kv.writes()[4].name, "set_many");
    assert_eq!(kv.writes()[4].keys.len(), 4);
    // Reads: the correlation with the claim's value in one round trip,
    // then the plan, then the subscription's spend cap (a sealed gateway
    // correlation names its subscription, so its cap comes with the first
    // round trip instead).
    let reads: Vec<String> = kv.reads().iter().map(ToString::to_string).collect();
    assert_eq!(reads.len(), 3, "{reads:?}");
    assert!(reads[0].starts_with("get_many correlation/"), "{reads:?}");
    assert!(reads[2].ends_with("/spend-cap"), "{reads:?}");
    kv.clear();
    record_usage(&ingest(&kv, PROVIDER, quick()), &report(api_call(1))).unwrap();
    assert_eq!(kv.writes().len(), 4);
}

#[test]
fn a_batch_of_a_hundred_reports_of_one_call_is_four_writes_without_event_ids() {
    // Setup
    let kv: Recording = Recording::default();
    seed_service(&kv, PROVIDER, SERVICE);
    seed_subscription(&kv, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    let correlation = sealed_correlation(SUBSCRIPTION);
    let call = json!({"correlationId": correlation, "productId": API, "count": 1});
    kv.clear();
    // Exec: 100 reports; the 64th slot ends a block, whose roll-up is
    // written too.
    let body = json!({ "events": vec![call; 100] });
    let answered = record_batch(&ingest(&kv, PROVIDER, quick()), &body, None).unwrap();
    // Check: three reservations, one write of 300 slots, one roll-up.
    assert!(answered.items.iter().all(Result::is_ok));
    let writes = kv.writes();
    let names: Vec<&str> = writes.iter().map(|w| w.name).collect();
    assert_eq!(
        names,
        ["increment", "increment", "increment", "set_many", "set"],
        "{writes:?}"
    );
    assert_eq!(writes[3].keys.len(), 300);
    // Reads: the subscription and its spend cap in the first round trip,
    // then the plan (the rest close the block's roll-up).
    let reads = kv.reads();
    assert_eq!(
        reads[0].keys,
        [
            format!("sub/{SUBSCRIPTION}"),
            format!("sub/{SUBSCRIPTION}/spend-cap")
        ],
        "{reads:?}"
    );
    assert_eq!(reads[1].keys, [format!("plan/{PLAN}")], "{reads:?}");
    assert!(
        reads[2..]
            .iter()
            .all(|r| r.keys.iter().all(|k| k.contains("/usage/"))),
        "{reads:?}"
    );
    assert!(writes[4].keys[0].contains("/rollup/1/0"), "{writes:?}");
    assert_eq!(api_billed(&kv.inner), "100");
}

#[test]
fn a_batch_with_event_ids_claims_each_and_writes_once() {
    let w = world();
    let body =
        json!({ "events": (0..100).map(|i| api_event(1, &format!("e-{i}"))).collect::<Vec<_>>() });
    let kv = Recording::new(&*w.kv);
    let answered = record_batch(&ingest(&kv, PROVIDER, quick()), &body, None).unwrap();
    assert!(answered
        .items
        .iter()
        .all(|r| matches!(r, Ok(r) if !r.replayed)));
    let writes = kv.writes();
    assert_eq!(writes.iter().filter(|w| w.name == "increment").count(), 103);
    assert_eq!(writes.iter().filter(|w| w.name == "set_many").count(), 1);
    assert_eq!(api_billed(&w.kv), "100");
    // The same batch again: every report answered with its first event.
    let again = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, None).unwrap();
    for (first, second) in answered.items.iter().zip(&again.items) {
        let (first, second) = (first.as_ref().unwrap(), second.as_ref().unwrap());
        assert!(second.replayed);
        assert_eq!(first.event.id, second.event.id);
    }
    assert_eq!(api_billed(&w.kv), "100");
}

#[test]
fn a_batch_under_an_idempotency_key_counts_once_and_repeats_its_answer() {
    let w = world();
    let body = json!({"events": [api_call(2), api_call(3), {"correlationId": "nope", "productId": API, "count": 1}]});
    let first = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, Some("batch-1")).unwrap();
    assert!(!first.replayed);
    let again = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, Some("batch-1")).unwrap();
    assert!(again.replayed);
    assert_eq!(again.items, first.items);
    assert_eq!(api_billed(&w.kv), "5");
    // Another account's key of the same name is its own.
    let err = record_batch(&ingest(&*w.kv, STRANGER, quick()), &body, Some("batch-1"))
        .unwrap()
        .items;
    assert!(err.iter().all(|r| r.as_ref().unwrap_err().status() == 404));
    // The key again with another body is refused, and nothing is counted.
    let other = json!({"events": [api_call(7)]});
    let refused =
        record_batch(&ingest(&*w.kv, PROVIDER, quick()), &other, Some("batch-1")).unwrap_err();
    assert_eq!(refused.status(), 422);
    assert_eq!(api_billed(&w.kv), "5");
}

#[test]
fn a_repeated_event_id_within_a_batch_is_counted_once() {
    let w = world();
    let body = json!({"events": [api_event(1, "twice"), api_call(1), api_event(5, "twice")]});
    let answered = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, None).unwrap();
    let first = answered.items[0].as_ref().unwrap();
    let copy = answered.items[2].as_ref().unwrap();
    assert!(!first.replayed && copy.replayed);
    assert_eq!(first.event.id, copy.event.id);
    assert_eq!(copy.event.count.to_string(), "1");
    assert_eq!(api_billed(&w.kv), "2");
}

#[test]
fn a_sealed_correlation_is_metered_under_its_subscription() {
    let w = world();
    let correlation = sealed_correlation(SUBSCRIPTION);
    let recorded = meter(
        &w,
        PROVIDER,
        json!({"correlationId": correlation, "productId": API, "count": 1}),
    )
    .unwrap();
    assert_eq!(recorded.event.subscription_id, SUBSCRIPTION);
    assert_eq!(recorded.event.application_id, APPLICATION);
    assert_eq!(recorded.event.correlation_id, correlation);
    assert_eq!(api_billed(&w.kv), "1");
    // Another provider sees the same 404 as for an unknown correlation.
    let err = meter(
        &w,
        STRANGER,
        json!({"correlationId": correlation, "productId": API, "count": 1}),
    )
    .unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn the_planqk_item_id_shape_with_a_string_count_is_recorded() {
    let w = world();
    let recorded = meter(
        &w,
        PROVIDER,
        json!({"itemId": API, "count": "3", "correlationId": CORRELATION}),
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
    let foreign = meter(&w, STRANGER, api_call(1)).unwrap_err();
    assert_eq!(unknown.status(), 404);
    assert_eq!(foreign.status(), 404);
    assert_eq!(
        foreign.to_string(),
        format!("correlation '{CORRELATION}' does not exist")
    );
    assert_eq!(api_billed(&w.kv), "0");
}

#[test]
fn a_product_outside_the_subscriptions_plan_is_422() {
    let w = world();
    let err = meter(
        &w,
        PROVIDER,
        json!({"correlationId": CORRELATION, "productId": "prod_other", "count": 1}),
    )
    .unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.field_errors()[0].field, "productId");
}

#[test]
fn timestamps_more_than_5_minutes_ahead_or_35_days_back_are_422() {
    let w = world();
    let at = |t: Timestamp| json!({"correlationId": CORRELATION, "productId": API, "count": 1, "timestamp": t.to_rfc3339()});
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
        let e = meter_late(&w, PROVIDER, at(good)).unwrap().event;
        assert_eq!(e.timestamp, good);
    }
}

#[test]
fn a_report_for_a_month_whose_invoices_are_final_is_422_on_timestamp() {
    let w = world();
    let at = |t: &str| json!({"correlationId": CORRELATION, "productId": API, "count": 1, "timestamp": t});
    // October 2026 is final since 2026-11-03 (now is 2026-11-22).
    let err = meter(&w, PROVIDER, at("2026-10-31T23:59:59.999Z")).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.field_errors()[0].field, "timestamp");
    assert!(err.to_string().contains("2026-10"), "{err}");
    assert!(
        err.to_string().contains("2026-11-03T00:00:00.000Z"),
        "{err}"
    );
    assert!(meter(&w, PROVIDER, at("2026-11-01T00:00:00Z")).is_ok());
    // In a batch, the late report alone is refused.
    let batch = json!({"events": [at("2026-10-20T00:00:00Z"), at("2026-11-20T00:00:00Z")]});
    let answered = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &batch, None).unwrap();
    assert_eq!(answered.items[0].as_ref().unwrap_err().status(), 422);
    assert!(answered.items[1].is_ok());
}

#[test]
fn events_are_logged_in_the_month_of_their_usage() {
    let w = world();
    let at = |t: &str| json!({"correlationId": CORRELATION, "productId": API, "count": 1, "timestamp": t});
    let october = meter_late(&w, PROVIDER, at("2026-10-31T23:59:59.999Z")).unwrap();
    let november = meter(&w, PROVIDER, at("2026-11-01T00:00:00Z")).unwrap();
    assert_eq!(
        october.placement.log,
        UsageLog::of(SUBSCRIPTION, 202610).prefix()
    );
    assert_eq!(november.placement.log, november_log().prefix());
    let both = Window::for_usage(Some("2026-10-31"), Some("2026-11-01"), now()).unwrap();
    let bill = usage(&*w.kv, PROVIDER, SUBSCRIPTION, both).unwrap();
    assert_eq!(bill.lines[0].quantity.to_string(), "2");
}

#[test]
fn a_repeated_event_id_returns_the_first_event_and_counts_once() {
    let w = world();
    let first = meter(&w, PROVIDER, api_event(2, "e-1")).unwrap();
    let second = meter(&w, PROVIDER, api_event(5, "e-1")).unwrap();
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!(first.event, second.event);
    assert_eq!(api_billed(&w.kv), "2");
    assert_eq!(all_events(&w).len(), 1);
}

#[test]
fn event_ids_are_scoped_to_the_reporting_account() {
    let w = world();
    seed_service(&*w.kv, STRANGER, SERVICE_2);
    seed_subscription(&*w.kv, STRANGER, SERVICE_2, PLAN_2, SUBSCRIPTION_2);
    seed_correlation(
        &*w.kv,
        CORRELATION_2,
        STRANGER,
        SERVICE_2,
        PLAN_2,
        SUBSCRIPTION_2,
    );
    let a = meter(&w, PROVIDER, api_event(1, "same")).unwrap();
    let b = meter(
        &w,
        STRANGER,
        json!({"correlationId": CORRELATION_2, "productId": API, "count": 1, "eventId": "same"}),
    )
    .unwrap();
    assert_ne!(a.event.id, b.event.id);
    assert!(!b.replayed);
    let bill = usage(&*w.kv, STRANGER, SUBSCRIPTION_2, whole_days()).unwrap();
    assert_eq!(bill.lines[0].quantity.to_string(), "1");
}

#[test]
fn concurrent_copies_of_one_event_count_once_and_all_get_the_first_event() {
    for round in 0..20 {
        let w = world();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let kv = w.kv.clone();
                std::thread::spawn(move || {
                    let r = report(api_event("0.5", &format!("dup-{round}")));
                    record_usage(&ingest(&*kv, PROVIDER, Waiting::default()), &r).unwrap()
                })
            })
            .collect();
        let results: Vec<Recorded> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let ids: HashSet<_> = results.iter().map(|r| r.event.id.clone()).collect();
        assert_eq!(ids.len(), 1, "round {round}");
        assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
        assert_eq!(api_billed(&w.kv), "0.5");
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
            api_event(count, &format!("ev-{id}"))
        })
        .collect();
    let expected_micro: i128 = (0..2_000)
        .filter(|i| i % 10 != 9)
        .map(|i: i128| (i % 999) + 1)
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
                            record_usage(&ingest(&*kv, PROVIDER, Waiting::default()), &r).unwrap();
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
    // Check: the bill exact, every distinct event listed once, copies agree,
    // and most of the log rolled up.
    let listed = all_events(&w);
    assert_eq!(listed.len(), distinct);
    let listed_ids: HashSet<_> = listed.iter().map(|e| e.id.clone()).collect();
    assert_eq!(listed_ids.len(), distinct);
    for i in (9..2_000).step_by(10) {
        assert_eq!(by_report[i], by_report[i - 1], "copy {i}");
    }
    let bill = usage(&*w.kv, PROVIDER, &w.subscription, whole_days()).unwrap();
    assert_eq!(bill.lines[0].quantity, Quantity::from_units(expected_micro));
    let closed = (0..distinct as u64 / BLOCK)
        .filter(|b| rollup(&*w.kv, &november_log(), 1, *b).unwrap().is_some())
        .count();
    assert!(
        closed as u64 >= distinct as u64 / BLOCK - 2,
        "{closed} blocks rolled up"
    );
}

/// A first copy of `event_id` that claimed its key and died before
/// writing anything; `reserved` slots it had reserved are left empty.
fn died_after_claiming(w: &World, event_id: &str, reserved: bool) {
    let key = MeteringEvent::idempotency_key(PROVIDER, &secret::hash(event_id));
    assert!(qmarket_store::claim(&*w.kv, &key).unwrap());
    if reserved {
        november_log().index().reserve(&*w.kv).unwrap();
        Index::new(MeteringEvent::service_index(SERVICE))
            .reserve(&*w.kv)
            .unwrap();
    }
}

#[test]
fn a_retry_after_the_claimant_died_takes_over_and_counts_once() {
    for reserved in [false, true] {
        let w = world();
        died_after_claiming(&w, "crash-1", reserved);
        let retry = meter(&w, PROVIDER, api_event(1, "crash-1")).unwrap();
        let again = meter(&w, PROVIDER, api_event(1, "crash-1")).unwrap();
        assert!(!retry.replayed);
        assert!(again.replayed);
        assert_eq!(retry.event.id, again.event.id);
        assert_eq!(listed_ids(&w), std::slice::from_ref(&retry.event.id));
        assert_eq!(api_billed(&w.kv), "1");
    }
}

#[test]
fn a_stalled_claimant_writing_after_a_takeover_is_not_counted_twice() {
    // Setup: the taker recorded the event; then the claimant, which was
    // only stalled, writes its own copy and the key's value after it.
    let w = world();
    died_after_claiming(&w, "stall", false);
    let taker = meter(&w, PROVIDER, api_event(1, "stall")).unwrap();
    let key = MeteringEvent::idempotency_key(PROVIDER, &secret::hash("stall"));
    let mut late = meter(&w, PROVIDER, api_call(1)).unwrap();
    // The late copy: a second event in other slots, claiming the key.
    late.event.event_id = Some("stall".into());
    let late_logged = LoggedEvent {
        event: late.event.clone(),
        placement: Placement {
            idempotency_key: Some(key.clone()),
            ..late.placement.clone()
        },
    };
    let bytes = serde_json::to_vec(&late_logged).unwrap();
    w.kv.set_many(&[
        (
            november_log().index().slot_key(late.placement.log_slot),
            bytes.clone(),
        ),
        (
            Index::new(MeteringEvent::service_index(SERVICE)).slot_key(late.placement.listing_slot),
            bytes.clone(),
        ),
        (value_key(&key), bytes),
    ])
    .unwrap();
    // Check: one of the two copies, and only that one, is listed and billed.
    assert_eq!(listed_ids(&w), [late.event.id.clone()]);
    assert_eq!(api_billed(&w.kv), "1");
    assert_ne!(taker.event.id, late.event.id);
}

#[test]
fn a_copy_that_cannot_see_the_first_event_answers_409_rather_than_count_twice() {
    let w = world();
    let key = MeteringEvent::idempotency_key(PROVIDER, &secret::hash("stuck"));
    w.kv.increment(&key, 1).unwrap();
    for generation in 1..=qmarket_store::MAX_TAKEOVERS {
        w.kv.increment(&format!("{key}/takeover/{generation}"), 1)
            .unwrap();
    }
    let err = meter(&w, PROVIDER, api_event(1, "stuck")).unwrap_err();
    assert_eq!(err.status(), 409);
    assert_eq!(api_billed(&w.kv), "0");
}

#[test]
fn full_blocks_are_rolled_up_and_the_bill_equals_the_sum_of_the_slots() {
    let w = world();
    for i in 0..(3 * BLOCK + 5) {
        meter(&w, PROVIDER, api_call(format!("0.{:06}", i + 1))).unwrap();
    }
    let log = november_log();
    // The step at the end of each block rolls up the block before it (the
    // last one may still be in flight when it runs) and the block itself.
    for block in 0..3 {
        let r = rollup(&*w.kv, &log, 1, block).unwrap().expect("rolled up");
        assert_eq!(r.events, BLOCK, "block {block}");
    }
    let expected: i128 = (1..=(3 * BLOCK as i128 + 5)).sum();
    assert_eq!(
        total(&*w.kv, &log)
            .unwrap()
            .units(API, i64::MIN..i64::MAX)
            .unwrap(),
        Quantity::from_units(expected)
    );
    assert_eq!(
        api_billed(&w.kv),
        Quantity::from_units(expected).to_string()
    );
}

#[test]
fn roll_ups_of_roll_ups_cover_long_logs_and_a_bill_reads_few_keys() {
    // Setup: 64 blocks and a bit, so a level-2 roll-up exists.
    let w = world();
    let n = BLOCK * BLOCK + 10;
    for _ in 0..n {
        meter(&w, PROVIDER, api_call(1)).unwrap();
    }
    let log = november_log();
    let level2 = rollup(&*w.kv, &log, 2, 0)
        .unwrap()
        .expect("level 2 written");
    assert_eq!(level2.events, BLOCK * BLOCK);
    // Exec: a bill on a store that counts reads.
    struct Reads<'a>(&'a MemoryStore, std::sync::Mutex<usize>);
    impl KeyValue for Reads<'_> {
        fn get(&self, key: &str) -> qmarket_store::Result<Option<Vec<u8>>> {
            *self.1.lock().unwrap() += 1;
            self.0.get(key)
        }
        fn get_many(&self, keys: &[String]) -> qmarket_store::Result<Vec<Option<Vec<u8>>>> {
            *self.1.lock().unwrap() += 1;
            keys.iter().map(|k| self.0.get(k)).collect()
        }
        fn set(&self, _: &str, _: &[u8]) -> qmarket_store::Result<()> {
            panic!("a bill writes nothing")
        }
        fn delete(&self, _: &str) -> qmarket_store::Result<()> {
            panic!("a bill writes nothing")
        }
        fn exists(&self, key: &str) -> qmarket_store::Result<bool> {
            self.0.exists(key)
        }
        fn increment(&self, _: &str, _: i64) -> qmarket_store::Result<i64> {
            panic!("a bill writes nothing")
        }
    }
    let reads = Reads(&w.kv, std::sync::Mutex::new(0));
    let bill = usage(&reads, PROVIDER, SUBSCRIPTION, whole_days()).unwrap();
    // Check
    assert_eq!(bill.lines[0].quantity.to_string(), n.to_string());
    let round_trips = *reads.1.lock().unwrap();
    assert!(round_trips <= 10, "{round_trips} store round trips");
}

#[test]
fn an_empty_slot_is_abandoned_only_once_a_later_event_is_old_enough() {
    // Setup: a block whose third slot was reserved by a writer that died.
    let w = world();
    let log = november_log();
    for i in 1..=BLOCK {
        if i == 3 {
            log.index().reserve(&*w.kv).unwrap();
        } else {
            meter(&w, PROVIDER, api_call(1)).unwrap();
        }
    }
    // Check: not rolled up while the events after the hole are recent…
    assert!(rollup(&*w.kv, &log, 1, 0).unwrap().is_none());
    assert_eq!(api_billed(&w.kv), (BLOCK - 1).to_string());
    // …and rolled up by the next block's step once they are old.
    let later = Timestamp::now().plus_seconds(HOLE_GRACE_SECONDS + 1);
    for _ in 0..BLOCK {
        meter(&w, PROVIDER, api_call(1)).unwrap();
    }
    crate::rollup::close_step(&*w.kv, &log, 2 * BLOCK, later).unwrap();
    let r = rollup(&*w.kv, &log, 1, 0).unwrap().expect("rolled up");
    assert_eq!(r.events, BLOCK - 1);
    assert_eq!(api_billed(&w.kv), (2 * BLOCK - 1).to_string());
}

#[test]
fn a_bill_and_a_listing_write_nothing() {
    let w = world();
    for i in 0..70 {
        meter(&w, PROVIDER, api_event(1, &format!("ev-{i}"))).unwrap();
    }
    let before = w.kv.dump();
    api_billed(&w.kv);
    all_events(&w);
    assert_eq!(w.kv.dump(), before);
}

#[test]
fn usage_is_priced_exactly_per_product() {
    let w = world();
    meter(&w, PROVIDER, api_call(3)).unwrap();
    let cpu = |count: &str| json!({"correlationId": CORRELATION, "itemId": CPU, "count": count});
    for _ in 0..10 {
        meter(&w, PROVIDER, cpu("0.1")).unwrap();
    }
    for _ in 0..7 {
        meter(&w, PROVIDER, cpu("0.000001")).unwrap();
    }
    let bill = usage(&*w.kv, CONSUMER, SUBSCRIPTION, whole_days()).unwrap();
    let v = serde_json::to_value(&bill).unwrap();
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["from"], "2026-11-01T00:00:00.000Z");
    assert_eq!(v["to"], "2026-12-01T00:00:00.000Z");
    assert_eq!(
        v["lines"][0],
        json!({"productId": API, "productName": "API", "unit": "call",
        "unitPrice": "0.00001", "quantity": "3", "amount": "0.00003",
        "pricingModel": "PER_UNIT", "freeQuantity": "0",
        "breakdown": [{"from": "0", "upTo": null, "quantity": "3", "unitPrice": "0.00001", "amount": "0.00003"}]})
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
    let day = |d: &str| json!({"correlationId": CORRELATION, "productId": API, "count": 1, "timestamp": d});
    meter(&w, PROVIDER, day("2026-11-20T23:59:59.999Z")).unwrap();
    meter(&w, PROVIDER, day("2026-11-21T00:00:00Z")).unwrap();
    meter(&w, PROVIDER, day("2026-11-22T08:00:00Z")).unwrap();
    let window =
        Window::for_usage(Some("2026-11-21T12:00:00Z"), Some("2026-11-21"), now()).unwrap();
    let bill = usage(&*w.kv, PROVIDER, SUBSCRIPTION, window).unwrap();
    assert_eq!(bill.lines[0].quantity.to_string(), "1");
    assert_eq!(bill.from.to_rfc3339(), "2026-11-21T00:00:00.000Z");
    assert_eq!(bill.to.to_rfc3339(), "2026-11-22T00:00:00.000Z");
}

#[test]
fn usage_is_visible_to_subscriber_and_provider_only() {
    let w = world();
    assert!(usage(&*w.kv, CONSUMER, SUBSCRIPTION, whole_days()).is_ok());
    assert!(usage(&*w.kv, PROVIDER, SUBSCRIPTION, whole_days()).is_ok());
    assert_eq!(
        usage(&*w.kv, STRANGER, SUBSCRIPTION, whole_days())
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        usage(&*w.kv, CONSUMER, SUBSCRIPTION_2, whole_days())
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn listings_are_newest_received_first_with_cursors() {
    let w = world();
    let ids: Vec<String> = (0..7)
        .map(|_| meter(&w, PROVIDER, api_call(1)).unwrap().event.id)
        .collect();
    let filter = EventFilter {
        window: Window::for_listing(None, None).unwrap(),
        test_mode: None,
    };
    let p1 = list_events(&*w.kv, PROVIDER, SERVICE, filter, 3, None).unwrap();
    let p2 = list_events(&*w.kv, PROVIDER, SERVICE, filter, 3, p1.next).unwrap();
    let p3 = list_events(&*w.kv, PROVIDER, SERVICE, filter, 3, p2.next).unwrap();
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
    assert_eq!(item["applicationId"], APPLICATION);
}

#[test]
fn listing_filters_by_time_and_test_mode_while_walking() {
    let w = world();
    let live = "11111111-2222-4333-8444-555555555555";
    let test = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    seed_correlation(&*w.kv, live, PROVIDER, SERVICE, PLAN, SUBSCRIPTION);
    let mut test_corr = Correlation::load(&*w.kv, CORRELATION).unwrap().unwrap();
    test_corr.id = test.into();
    test_corr.test_mode = true;
    test_corr.save(&*w.kv).unwrap();
    let at = |c: &str, t: &str| json!({"correlationId": c, "productId": API, "count": 1, "timestamp": t});
    meter(&w, PROVIDER, at(test, "2026-11-20T10:00:00Z")).unwrap();
    meter(&w, PROVIDER, at(live, "2026-11-20T11:00:00Z")).unwrap();
    meter(&w, PROVIDER, at(live, "2026-11-21T11:00:00Z")).unwrap();
    meter(&w, PROVIDER, at(test, "2026-11-22T09:00:00Z")).unwrap();
    let list = |from: Option<&str>, to: Option<&str>, test_mode, limit| {
        let filter = EventFilter {
            window: Window::for_listing(from, to).unwrap(),
            test_mode,
        };
        list_events(&*w.kv, PROVIDER, SERVICE, filter, limit, None).unwrap()
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
    let err = list_events(&*w.kv, STRANGER, SERVICE, filter, 10, None).unwrap_err();
    assert_eq!(err.status(), 404);
    let err = list_events(&*w.kv, PROVIDER, SERVICE_2, filter, 10, None).unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn a_batch_judges_each_report_on_its_own() {
    let w = world();
    let body = json!({"events": [
        api_event(1, "b-1"),
        api_call(0),
        {"correlationId": "nope", "productId": API, "count": 1},
        {"correlationId": CORRELATION, "productId": "prod_x", "count": 1},
        api_event(1, "b-1"),
    ]});
    let results = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, None).unwrap();
    let statuses: Vec<u16> = results
        .items
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.status(), |_| 200))
        .collect();
    assert_eq!(statuses, [200, 400, 404, 422, 200]);
    assert_eq!(api_billed(&w.kv), "1");
}

#[test]
fn malformed_batches_are_400s() {
    let w = world();
    let one = api_call(1);
    for body in [
        json!({}),
        json!({"events": []}),
        json!({"events": {}}),
        json!({"events": vec![one.clone(); 101]}),
        json!({"events": [one.clone()], "extra": 1}),
        json!([one]),
    ] {
        let err = record_batch(&ingest(&*w.kv, PROVIDER, quick()), &body, None).unwrap_err();
        assert_eq!(err.status(), 400, "{body}");
    }
    assert_eq!(api_billed(&w.kv), "0");
}

// ------------------------------------------------------- calls and spend caps

fn call_record(correlation_id: &str, at: Timestamp) -> qmarket_model::CallRecord {
    qmarket_model::CallRecord {
        correlation_id: correlation_id.into(),
        subscription_id: SUBSCRIPTION.into(),
        method: "POST".into(),
        path: "/solve".into(),
        status: 200,
        duration_ms: 3,
        request_bytes: 2,
        response_bytes: 5,
        complete: true,
        started_at: at,
    }
}

/// Saves `record` as the gateway does: in the day's index and under its id.
fn seed_call(kv: &dyn KeyValue, record: &qmarket_model::CallRecord) {
    let index = Index::new(qmarket_model::CallRecord::day_index(
        &record.subscription_id,
        record.started_at.utc_date(),
    ));
    let bytes = serde_json::to_vec(record).unwrap();
    let seq = index.reserve(kv).unwrap();
    kv.set_many(&[
        (index.slot_key(seq), bytes.clone()),
        (
            qmarket_model::CallRecord::key(&record.subscription_id, &record.correlation_id),
            bytes,
        ),
    ])
    .unwrap();
}

#[test]
fn a_call_shows_the_events_reported_for_it_and_what_they_cost() {
    let w = world();
    seed_call(&*w.kv, &call_record(CORRELATION, now()));
    meter(&w, PROVIDER, api_call(3)).unwrap();
    meter(&w, PROVIDER, api_event(2, "once")).unwrap();
    meter(&w, PROVIDER, api_event(2, "once")).unwrap();
    let call = get_call(&*w.kv, CONSUMER, SUBSCRIPTION, CORRELATION).unwrap();
    let counts: Vec<String> = call.events.iter().map(|e| e.count.to_string()).collect();
    assert_eq!(
        counts,
        ["3", "2"],
        "the replayed report is not a second event"
    );
    // 5 calls at 0.00001 EUR.
    assert_eq!(call.amount.to_string(), "0.00005");
    assert_eq!(call.call.status, 200);
    assert_eq!(
        get_call(&*w.kv, STRANGER, SUBSCRIPTION, CORRELATION)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        get_call(&*w.kv, CONSUMER, SUBSCRIPTION, "unknown")
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn calls_are_listed_newest_first_across_days_and_pages() {
    let w = world();
    let day = 86_400;
    let times = [
        now().plus_seconds(-2 * day),
        now().plus_seconds(-day),
        now(),
    ];
    for (n, at) in times.iter().enumerate() {
        seed_call(&*w.kv, &call_record(&format!("c{n}"), *at));
        seed_call(&*w.kv, &call_record(&format!("d{n}"), *at));
    }
    let window = Window::for_usage(None, None, now()).unwrap();
    let window = Window {
        from: now().plus_seconds(-3 * day),
        ..window
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page =
            list_calls(&*w.kv, PROVIDER, SUBSCRIPTION, window, 4, cursor.as_deref()).unwrap();
        seen.extend(page.items.iter().map(|c| c.call.correlation_id.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["d2", "c2", "d1", "c1", "d0", "c0"]);
}

#[test]
fn usage_that_reaches_the_spend_cap_marks_the_month() {
    let w = world();
    let cap = json!({"monthlyCap": "0.00002"});
    let set = set_spend_cap(&*w.kv, CONSUMER, SUBSCRIPTION, &cap, now()).unwrap();
    assert!(!set.reached);
    let mark = qmarket_model::Subscription::cap_reached_key(SUBSCRIPTION, now().utc_month());
    meter(&w, PROVIDER, api_call(1)).unwrap();
    assert_eq!(w.kv.get(&mark).unwrap(), None, "0.00001 is below the cap");
    meter(&w, PROVIDER, api_call(1)).unwrap();
    let reached: qmarket_model::CapReached =
        serde_json::from_slice(&w.kv.get(&mark).unwrap().expect("the cap is reached")).unwrap();
    assert_eq!(reached.spent.to_string(), "0.00002");
    let shown = spend_cap(&*w.kv, PROVIDER, SUBSCRIPTION, now()).unwrap();
    assert!(shown.reached);
    assert_eq!(
        set_spend_cap(&*w.kv, PROVIDER, SUBSCRIPTION, &cap, now())
            .unwrap_err()
            .status(),
        403,
        "only the subscriber sets it"
    );
    for bad in [json!({"monthlyCap": "-1"}), json!({"monthlyCap": "x"})] {
        assert_eq!(
            set_spend_cap(&*w.kv, CONSUMER, SUBSCRIPTION, &bad, now())
                .unwrap_err()
                .status(),
            422
        );
    }
    assert_eq!(
        set_spend_cap(&*w.kv, CONSUMER, SUBSCRIPTION, &json!({"cap": 1}), now())
            .unwrap_err()
            .status(),
        400
    );
}
