//! Bills by pricing model, invoices, each event's marginal amount and a
//! service's revenue, against the seeded memory store (now is
//! 2026-11-22T10:15:30.123Z).

use qmarket_core::decimal::Quantity;
use qmarket_http::StatusOf;
use qmarket_model::{Correlation, PricingModel, PricingPlan, Product, Record, Subscription, Tier};
use qmarket_store::Index;
use serde_json::{json, Value};

use crate::fixtures::*;
use crate::rollup::rollup;
use crate::*;

fn q(text: &str) -> Quantity {
    text.parse().unwrap()
}

fn tier(up_to: Option<&str>, price: &str) -> Tier {
    Tier {
        up_to: up_to.map(q),
        unit_price: price.parse().unwrap(),
    }
}

/// The seeded world with product [`API`] priced by `model` instead.
fn world_pricing_api(
    model: PricingModel,
    tiers: Vec<Tier>,
    package: Option<&str>,
    free: &str,
) -> World {
    let w = world();
    let mut plan = PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap();
    plan.products[0] = Product {
        unit_price: tiers
            .first()
            .map_or("0.5".parse().unwrap(), |t| t.unit_price),
        pricing_model: model,
        tiers,
        package_size: package.map(q),
        free_allowance: q(free),
        ..plan.products[0].clone()
    };
    plan.save(&*w.kv).unwrap();
    w
}

/// 1,000 calls at 0, the next 9,000 at 0.0001, beyond at 0.00005.
fn graduated() -> World {
    world_pricing_api(
        PricingModel::Graduated,
        vec![
            tier(Some("1000"), "0"),
            tier(Some("10000"), "0.0001"),
            tier(None, "0.00005"),
        ],
        None,
        "0",
    )
}

fn call(count: &str, at: Option<&str>) -> Value {
    let mut body = json!({"correlationId": CORRELATION, "productId": API, "count": count});
    if let Some(at) = at {
        body["timestamp"] = json!(at);
    }
    body
}

fn meter(w: &World, body: Value) -> Recorded {
    let report = UsageReport::from_json(&body, None).unwrap();
    record_usage(&ingest(&*w.kv, PROVIDER, quick()), &report).unwrap()
}

fn billing<'a>(w: &'a World, caller: &'static str) -> Billing<'a> {
    Billing {
        kv: &*w.kv,
        caller,
        now: now(),
        grace: Grace::default(),
    }
}

fn november(w: &World) -> InvoiceView {
    invoice(&billing(w, CONSUMER), SUBSCRIPTION, "2026-11").unwrap()
}

fn amounts(events: &[PricedEvent]) -> Vec<String> {
    events.iter().map(|e| e.amount.to_string()).collect()
}

#[test]
fn a_graduated_product_is_billed_tier_by_tier_and_each_event_at_its_margin() {
    let w = graduated();
    let slots: Vec<u64> = ["999", "2", "8999", "2000"]
        .iter()
        .map(|n| meter(&w, call(n, None)).placement.log_slot)
        .collect();
    let invoice = november(&w);
    let api = &invoice.lines[0];
    // 1,000 × 0 + 9,000 × 0.0001 + 2,000 × 0.00005
    assert_eq!(api.amount.to_string(), "1");
    assert_eq!(api.quantity.to_string(), "12000");
    assert_eq!(api.pricing_model, PricingModel::Graduated);
    let bands: Vec<String> = api
        .breakdown
        .iter()
        .map(|b| format!("{} = {}", b.quantity, b.amount))
        .collect();
    assert_eq!(bands, ["1000 = 0", "9000 = 0.9", "2000 = 0.1"]);
    assert_eq!(invoice.total.to_string(), "1");
    // P(999) − 0, P(1001) − P(999), P(10000) − P(1001), P(12000) − P(10000)
    let all = invoice_events(&billing(&w, CONSUMER), SUBSCRIPTION, "2026-11").unwrap();
    assert_eq!(amounts(&all), ["0", "0.0001", "0.8999", "0.1"]);
    let plan = PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap();
    let log = UsageLog::of(SUBSCRIPTION, 202611);
    let second = event_amounts(&*w.kv, &plan, &log, &[slots[1]]).unwrap();
    assert_eq!(amounts(&second), ["0.0001"]);
    assert_eq!(second[0].units_before.to_string(), "999");
}

#[test]
fn marginal_amounts_from_roll_ups_equal_those_of_a_walk_and_sum_to_the_invoice() {
    let w = graduated();
    let ingest = ingest(&*w.kv, PROVIDER, quick());
    for size in [100, 50] {
        let events: Vec<Value> = (0..size).map(|_| call("100", None)).collect();
        record_batch(&ingest, &json!({ "events": events }), None).unwrap();
    }
    let log = UsageLog::of(SUBSCRIPTION, 202611);
    assert!(
        rollup(&*w.kv, &log, 1, 1).unwrap().is_some(),
        "closed blocks are rolled up"
    );
    let mut walked = Vec::new();
    month_events(
        &*w.kv,
        &PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap(),
        &log,
        |e| {
            walked.push(e);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(walked.len(), 150);
    let sum = walked
        .iter()
        .try_fold(qmarket_core::decimal::Amount::ZERO, |s, e| {
            s.checked_add(e.amount)
        })
        .unwrap();
    // 15,000 calls: 9,000 × 0.0001 + 5,000 × 0.00005
    assert_eq!(sum.to_string(), "1.15");
    assert_eq!(november(&w).total, sum);
    let plan = PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap();
    let picked = event_amounts(&*w.kv, &plan, &log, &[150, 1, 65, 100, 11, 999]).unwrap();
    let expected: Vec<&PricedEvent> = walked
        .iter()
        .filter(|e| [1, 11, 65, 100, 150].contains(&e.slot))
        .collect();
    assert_eq!(picked.iter().collect::<Vec<_>>(), expected);
    // The 11th event crosses 1,000 calls (from 1,000 to 1,100): 100 × 0.0001.
    assert_eq!(picked[1].amount.to_string(), "0.01");
}

#[test]
fn a_volume_window_inside_a_month_is_the_difference_of_its_month_to_date_amounts() {
    let w = world_pricing_api(
        PricingModel::Volume,
        vec![
            tier(Some("1000"), "0.001"),
            tier(Some("10000"), "0.0005"),
            tier(None, "0.0002"),
        ],
        None,
        "0",
    );
    meter(&w, call("999", Some("2026-11-20T10:00:00Z")));
    meter(&w, call("2", Some("2026-11-21T10:00:00Z")));
    let day = |d: &str| {
        let window = Window::for_usage(Some(d), Some(d), now()).unwrap();
        usage(&*w.kv, CONSUMER, SUBSCRIPTION, window).unwrap().lines[0]
            .amount
            .to_string()
    };
    // 999 × 0.001
    assert_eq!(day("2026-11-20"), "0.999");
    // P(1001) − P(999) = 1,001 × 0.0005 − 0.999
    assert_eq!(day("2026-11-21"), "-0.4985");
    // The month: 1,001 × 0.0005, the sum of its days.
    assert_eq!(november(&w).lines[0].amount.to_string(), "0.5005");
}

#[test]
fn a_package_product_with_a_free_allowance_charges_started_packages_beyond_it() {
    let w = world_pricing_api(PricingModel::Package, Vec::new(), Some("1000"), "1000");
    meter(&w, call("2501", None));
    let line = &november(&w).lines[0];
    // 1,501 units beyond the 1,000 free: 2 packages of 1,000 at 0.5
    assert_eq!(line.amount.to_string(), "1");
    assert_eq!(line.free_quantity.to_string(), "1000");
    assert_eq!(line.breakdown[0].packages, Some(q("2")));
}

#[test]
fn a_per_unit_line_is_still_quantity_times_unit_price() {
    let w = world();
    meter(&w, call("3", None));
    let line = &november(&w).lines[0];
    assert_eq!(line.pricing_model, PricingModel::PerUnit);
    assert_eq!(line.amount.to_string(), "0.00003");
    assert_eq!(line.breakdown.len(), 1);
    assert_eq!(line.free_quantity, Quantity::ZERO);
}

#[test]
fn invoices_run_from_the_first_month_with_usage_to_the_current_one_newest_first() {
    let w = world();
    let page = invoices(&billing(&w, CONSUMER), SUBSCRIPTION, 50, None).unwrap();
    let months: Vec<&str> = page.items.iter().map(|i| i.month.as_str()).collect();
    assert_eq!(months, ["2026-11"]);
    assert_eq!(page.items[0].status, InvoiceStatus::Open);
    assert_eq!(
        page.items[0].final_at.to_rfc3339(),
        "2026-12-03T00:00:00.000Z"
    );
    // Usage reported back into October (while it was open) gives October
    // an invoice, final since 2026-11-03.
    let report = UsageReport::from_json(&call("1", Some("2026-10-30T00:00:00Z")), None).unwrap();
    let late = Ingest {
        grace: Grace::days(40).unwrap(),
        ..ingest(&*w.kv, PROVIDER, quick())
    };
    record_usage(&late, &report).unwrap();
    let page = invoices(&billing(&w, PROVIDER), SUBSCRIPTION, 1, None).unwrap();
    assert_eq!(page.items[0].month, "2026-11");
    assert_eq!(page.next.as_deref(), Some("2026-10"));
    let older = invoices(
        &billing(&w, PROVIDER),
        SUBSCRIPTION,
        1,
        page.next.as_deref(),
    )
    .unwrap();
    assert_eq!(older.items[0].month, "2026-10");
    assert_eq!(older.items[0].status, InvoiceStatus::Final);
    assert_eq!(older.items[0].total.to_string(), "0.00001");
    assert_eq!(older.next, None);
}

#[test]
fn an_invoice_is_404_outside_its_months_and_for_strangers() {
    let w = world();
    for month in ["2026-09", "2026-12", "2026-13", "11-2026"] {
        let err = invoice(&billing(&w, CONSUMER), SUBSCRIPTION, month).unwrap_err();
        assert_eq!(err.status(), 404, "{month}");
    }
    let err = invoice(&billing(&w, STRANGER), SUBSCRIPTION, "2026-11").unwrap_err();
    assert_eq!(err.status(), 404);
    let err = invoices(&billing(&w, STRANGER), SUBSCRIPTION, 50, None).unwrap_err();
    assert_eq!(err.status(), 404);
}

#[test]
fn revenue_sums_the_subscriptions_invoices_and_keeps_test_mode_apart() {
    let w = world();
    let test_sub = "sub_00000000000000000000000003";
    let test_corr = "77777777-8888-4999-aaaa-bbbbbbbbbbbb";
    let mut sub = Subscription::load(&*w.kv, SUBSCRIPTION).unwrap().unwrap();
    sub.id = test_sub.into();
    sub.test_mode = true;
    sub.save(&*w.kv).unwrap();
    let mut corr = Correlation::load(&*w.kv, CORRELATION).unwrap().unwrap();
    corr.id = test_corr.into();
    corr.subscription_id = test_sub.into();
    corr.test_mode = true;
    corr.save(&*w.kv).unwrap();
    let index = Index::new(Subscription::service_index(SERVICE));
    index.append(&*w.kv, SUBSCRIPTION).unwrap();
    index.append(&*w.kv, test_sub).unwrap();
    meter(&w, call("3", None));
    meter(
        &w,
        json!({"correlationId": test_corr, "productId": API, "count": 5}),
    );
    let found = revenue(&billing(&w, PROVIDER), SERVICE, 202611).unwrap();
    assert_eq!(found.month, "2026-11");
    let lines: Vec<String> = found
        .subscriptions
        .iter()
        .map(|l| {
            format!(
                "{} {} {} {} {}",
                l.subscription_id, l.pricing_plan_id, l.pricing_plan_name, l.test_mode, l.total
            )
        })
        .collect();
    let plan = PricingPlan::load(&*w.kv, PLAN).unwrap().unwrap();
    assert_eq!(
        lines,
        [
            format!("{test_sub} {PLAN} {} true 0.00005", plan.name),
            format!("{SUBSCRIPTION} {PLAN} {} false 0.00003", plan.name)
        ]
    );
    assert_eq!(found.total.to_string(), "0.00003");
    assert_eq!(found.test_mode_total.to_string(), "0.00005");
    // A month before anything was subscribed lists nobody.
    let before = revenue(&billing(&w, PROVIDER), SERVICE, 202609).unwrap();
    assert!(before.subscriptions.is_empty());
    assert_eq!(before.status, InvoiceStatus::Final);
    for caller in [CONSUMER, STRANGER] {
        let err = revenue(&billing(&w, caller), SERVICE, 202611).unwrap_err();
        assert_eq!(err.status(), 404);
    }
}

#[test]
fn a_repeat_of_an_event_recorded_before_its_month_became_final_still_gets_that_event() {
    let w = world();
    let body = |event_id: &str| {
        json!({"correlationId": CORRELATION, "productId": API, "count": 1,
               "eventId": event_id, "timestamp": "2026-11-20T00:00:00Z"})
    };
    let first = meter(&w, body("run-1"));
    let december = Ingest {
        now: qmarket_core::Timestamp::parse("2026-12-10T00:00:00Z").unwrap(),
        ..ingest(&*w.kv, PROVIDER, quick())
    };
    let repeat = UsageReport::from_json(&body("run-1"), None).unwrap();
    let again = record_usage(&december, &repeat).unwrap();
    assert!(again.replayed);
    assert_eq!(again.event.id, first.event.id);
    let late = UsageReport::from_json(&body("run-2"), None).unwrap();
    assert_eq!(record_usage(&december, &late).unwrap_err().status(), 422);
}
