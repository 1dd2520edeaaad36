//! Plans that sell, end to end: products priced by tiers, packages and free
//! allowances, usage bills that show how they were reached, monthly
//! invoices that become final (and refuse late reports), the events behind
//! an invoice as CSV adding up to it exactly, and a provider's revenue.
//!
//! The tests report usage themselves, as a provider's service does, with
//! the correlation id of one gateway call.

mod support;

use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};
use support::{
    access_token, create_application, create_external_service, lifecycle, manifest, platform,
    platform_with, sign_up, start_service, subscribe, Account, Api, Reply,
};

/// A provider's service with one plan, subscribed to, and one gateway
/// call's correlation id to report usage with.
struct Sold {
    provider: Account,
    service: String,
    products: Vec<String>,
    subscription: String,
    correlation: String,
}

/// A service of a new provider priced by `products`, published internally
/// and subscribed by the provider's own application (test mode).
fn sold(app: &TestApp, products: Value) -> Sold {
    let provider = sign_up(app, "provider");
    // Two calls: one for the provider's application, one for a consumer's.
    let (upstream, _) = start_service(2, |_| "{}".to_string());
    let service = create_external_service(app, &provider, &upstream);
    let plan = app
        .post(&format!("/api/services/{service}/pricing-plans"))
        .bearer(&provider.token)
        .json(&json!({"name": "Tiered", "products": products}))
        .send()
        .expect(201)
        .json();
    lifecycle(app, &provider, &service, "publish-internal");
    let application = create_application(app, &provider);
    let plan_id = plan["id"].as_str().expect("plan id");
    let subscription = subscribe(app, &provider, &application, &service, plan_id);
    let correlation = call_once(app, &service, &access_token(app, &application));
    Sold {
        products: plan["products"]
            .as_array()
            .expect("products")
            .iter()
            .map(|p| p["id"].as_str().expect("product id").to_string())
            .collect(),
        subscription: subscription["id"].as_str().expect("id").to_string(),
        provider,
        service,
        correlation,
    }
}

/// One call through the gateway; its correlation id.
fn call_once(app: &TestApp, service: &str, token: &str) -> String {
    app.post(&format!("/gateway/{service}/run"))
        .bearer(token)
        .json(&json!({}))
        .send()
        .expect(200)
        .header("x-correlation-id")
        .expect("a correlation id")
        .to_string()
}

impl Sold {
    /// Reports `count` units of product number `product`, at `timestamp`
    /// (now when `None`); the answer's status.
    fn report(&self, app: &TestApp, product: usize, count: &str, timestamp: Option<&str>) -> Value {
        let mut body = json!({"correlationId": self.correlation, "productId": self.products[product], "count": count});
        if let Some(t) = timestamp {
            body["timestamp"] = json!(t);
        }
        let reply = app
            .post("/qc-catalog/external-services/metering")
            .header("X-Auth-Token", &self.provider.token)
            .json(&body)
            .send();
        let mut answer = reply.json();
        answer["status"] = json!(reply.status);
        answer
    }

    fn get(&self, app: &TestApp, path: &str) -> Value {
        self.fetch(app, path).json()
    }

    /// The provider's `GET /api/subscriptions/{sub}{path}`, answered 200.
    fn fetch(&self, app: &TestApp, path: &str) -> Reply {
        app.get(&format!("/api/subscriptions/{}{path}", self.subscription))
            .bearer(&self.provider.token)
            .send()
            .expect(200)
    }
}

fn graduated_api() -> Value {
    json!({"name": "API", "unit": "call", "pricingModel": "GRADUATED", "tiers": [
        {"upTo": "1000", "unitPrice": "0"},
        {"upTo": "10000", "unitPrice": "0.0001"},
        {"upTo": null, "unitPrice": "0.00005"}]})
}

/// The current month as `YYYY-MM`, and the month 34 days ago (always a
/// month whose grace period of 2 days has ended).
fn months() -> (String, String, String) {
    let now = qmarket_core::Timestamp::now().to_rfc3339();
    let past = qmarket_core::Timestamp::now()
        .plus_seconds(-34 * 86_400)
        .to_rfc3339();
    (now[..7].to_string(), past[..7].to_string(), past)
}

/// Sums the `amount` column of an invoice's CSV export, exactly (as the
/// platform's decimals: 16 fractional digits).
fn csv_amounts(csv: &str) -> (Vec<String>, i128) {
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some("id,timestamp,productId,productName,unit,count,amount,correlationId")
    );
    let amounts: Vec<String> = lines
        .map(|l| l.split(',').nth(6).expect("amount").to_string())
        .collect();
    let sum = amounts
        .iter()
        .map(|a| {
            a.parse::<qmarket_core::decimal::Amount>()
                .expect("an exact amount")
                .units()
        })
        .sum();
    (amounts, sum)
}

fn units(amount: &Value) -> i128 {
    amount
        .as_str()
        .expect("a decimal string")
        .parse::<qmarket_core::decimal::Amount>()
        .expect("an exact amount")
        .units()
}

#[test]
fn a_graduated_plan_is_billed_across_its_tiers_and_its_events_add_up_to_the_invoice() {
    // Setup
    let app = platform();
    let sold = sold(&app, json!([graduated_api()]));
    // Exec: 999, 2, 8,999 and 2,000 calls: 12,000 in the month.
    for count in ["999", "2", "8999", "2000"] {
        assert_eq!(sold.report(&app, 0, count, None)["status"], 200);
    }
    // Check: the product's view, the bill, the invoice and its events.
    let plan = app
        .get(&format!("/api/services/{}/pricing-plans", sold.service))
        .bearer(&sold.provider.token)
        .send()
        .expect(200)
        .json();
    let product = &plan["items"][0]["products"][0];
    assert_eq!(product["pricingModel"], "GRADUATED");
    assert_eq!(product["unitPrice"], "0", "the first tier's price");
    assert_eq!(product["freeAllowance"], "0");
    assert_eq!(
        product["tiers"][2],
        json!({"upTo": null, "unitPrice": "0.00005"})
    );
    let bill = sold.get(&app, "/usage");
    let line = &bill["lines"][0];
    assert_eq!(line["quantity"], "12000");
    // 1,000 × 0 + 9,000 × 0.0001 + 2,000 × 0.00005 = 0 + 0.9 + 0.1
    assert_eq!(line["amount"], "1");
    assert_eq!(line["pricingModel"], "GRADUATED");
    assert_eq!(
        line["breakdown"],
        json!([
            {"from": "0", "upTo": "1000", "quantity": "1000", "unitPrice": "0", "amount": "0"},
            {"from": "1000", "upTo": "10000", "quantity": "9000", "unitPrice": "0.0001", "amount": "0.9"},
            {"from": "10000", "upTo": null, "quantity": "2000", "unitPrice": "0.00005", "amount": "0.1"}])
    );
    assert_eq!(bill["total"], "1");
    let (current, _, _) = months();
    let invoices = sold.get(&app, "/invoices");
    let items = invoices["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{invoices}");
    assert_eq!(items[0]["month"], current.as_str());
    assert_eq!(items[0]["status"], "OPEN");
    assert_eq!(items[0]["total"], "1");
    assert_eq!(
        sold.get(&app, &format!("/invoices/{current}"))["total"],
        "1"
    );
    let csv = sold.fetch(&app, &format!("/invoices/{current}/events.csv"));
    assert!(csv
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/csv"));
    let (amounts, sum) = csv_amounts(&csv.text);
    // P(999) − 0, P(1001) − P(999), P(10000) − P(1001), P(12000) − P(10000)
    assert_eq!(amounts, ["0", "0.0001", "0.8999", "0.1"]);
    assert_eq!(sum, units(&items[0]["total"]));
}

#[test]
fn volume_package_and_free_allowance_products_are_billed_by_their_models() {
    // Setup: three products of one plan.
    let app = platform();
    let sold = sold(
        &app,
        json!([
            {"name": "API", "unit": "call", "pricingModel": "VOLUME", "tiers": [
                {"upTo": 1000, "unitPrice": "0.001"},
                {"upTo": 10000, "unitPrice": "0.0005"},
                {"upTo": null, "unitPrice": "0.0002"}]},
            {"name": "Shots", "unit": "shot", "pricingModel": "PACKAGE", "packageSize": "1000", "unitPrice": "0.5"},
            {"name": "CPU", "unit": "second", "unitPrice": "0.01", "freeAllowance": "60"}]),
    );
    // Exec
    sold.report(&app, 0, "1001", None);
    sold.report(&app, 1, "2501", None);
    sold.report(&app, 2, "100.5", None);
    // Check
    let bill = sold.get(&app, "/usage");
    let amounts: Vec<&Value> = (0..3).map(|n| &bill["lines"][n]["amount"]).collect();
    // 1,001 calls reach the second tier: 1,001 × 0.0005
    assert_eq!(amounts[0], "0.5005");
    // 2,501 shots: 3 packages of 1,000 at 0.5
    assert_eq!(amounts[1], "1.5");
    assert_eq!(bill["lines"][1]["breakdown"][0]["packages"], "3");
    // 100.5 s, the first 60 free: 40.5 × 0.01
    assert_eq!(amounts[2], "0.405");
    assert_eq!(bill["lines"][2]["freeQuantity"], "60");
    // 0.5005 + 1.5 + 0.405
    assert_eq!(bill["total"], "2.4055");
}

#[test]
fn invalid_pricing_fields_are_problems_naming_the_field() {
    let app = platform();
    let provider = sign_up(&app, "provider");
    let service = create_external_service(&app, &provider, "http://127.0.0.1:9");
    let plan_with = |product: Value| json!({"name": "p", "products": [product]});
    for (product, field) in [
        (
            json!({"name": "API", "unit": "call", "pricingModel": "GRADUATED", "tiers": [
                {"upTo": "1000", "unitPrice": "0"}, {"upTo": "500", "unitPrice": "0"}, {"upTo": null, "unitPrice": "0"}]}),
            "products[0].tiers[1].upTo",
        ),
        (
            json!({"name": "API", "unit": "call", "pricingModel": "VOLUME"}),
            "products[0].tiers",
        ),
        (
            json!({"name": "API", "unit": "call", "pricingModel": "PACKAGE", "unitPrice": 1}),
            "products[0].packageSize",
        ),
        (
            json!({"name": "API", "unit": "call", "pricingModel": "FLAT", "unitPrice": 1}),
            "products[0].pricingModel",
        ),
        (
            json!({"name": "API", "unit": "call", "unitPrice": 1, "freeAllowance": "-1"}),
            "products[0].freeAllowance",
        ),
    ] {
        let reply = app
            .post(&format!("/api/services/{service}/pricing-plans"))
            .bearer(&provider.token)
            .json(&plan_with(product))
            .send()
            .expect_problem(400);
        let fields: Vec<Value> = reply.json()["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].clone())
            .collect();
        assert!(fields.contains(&json!(field)), "{field}: {}", reply.text);
    }
}

#[test]
fn a_month_past_its_grace_period_is_final_and_refuses_late_reports() {
    // Setup: a platform whose months stay open 40 days after their end, so
    // usage 34 days back is still admitted.
    let long_grace = |state_dir: Option<std::path::PathBuf>, days: Option<&str>| TestAppOptions {
        env: days
            .map(|d| {
                vec![(
                    "SPIN_VARIABLE_INVOICE_GRACE_DAYS".to_string(),
                    d.to_string(),
                )]
            })
            .unwrap_or_default(),
        state_dir,
        ..TestAppOptions::new(manifest())
    };
    let mut first = platform_with(long_grace(None, Some("40")));
    let sold = sold(&first, json!([graduated_api()]));
    let (current, past, past_timestamp) = months();
    assert_eq!(
        sold.report(&first, 0, "1500", Some(&past_timestamp))["status"],
        200
    );
    assert_eq!(sold.report(&first, 0, "1", None)["status"], 200);
    let open = sold.get(&first, &format!("/invoices/{past}"));
    assert_eq!(open["status"], "OPEN");
    // Exec: the same store under the default grace period of 2 days.
    first.stop().expect("the first platform stops");
    let app = platform_with(long_grace(Some(first.state_dir().to_path_buf()), None));
    // Check: that month is final, its invoice unchanged, late reports refused.
    let invoices = sold.get(&app, "/invoices");
    let months_listed: Vec<&Value> = invoices["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["month"])
        .collect();
    assert_eq!(months_listed.first(), Some(&&json!(current)));
    assert_eq!(months_listed.last(), Some(&&json!(past)));
    let closed = sold.get(&app, &format!("/invoices/{past}"));
    assert_eq!(closed["status"], "FINAL");
    // 500 calls beyond the free first tier: 500 × 0.0001
    assert_eq!(closed["total"], "0.05");
    assert_eq!(closed["total"], open["total"]);
    assert_eq!(sold.get(&app, "/invoices")["items"][0]["status"], "OPEN");
    let refused = sold.report(&app, 0, "1", Some(&past_timestamp));
    assert_eq!(refused["status"], 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "timestamp");
    let detail = refused["detail"].as_str().expect("detail");
    assert!(
        detail.contains(&past) && detail.contains("final since"),
        "{detail}"
    );
    let batch = app
        .post("/api/metering/batch")
        .bearer(&sold.provider.token)
        .json(&json!({"events": [{"correlationId": sold.correlation, "productId": sold.products[0], "count": 1, "timestamp": past_timestamp}]}))
        .send()
        .expect(200)
        .json();
    assert_eq!(batch["results"][0]["status"], 422);
    let csv = sold.fetch(&app, &format!("/invoices/{past}/events.csv"));
    let (amounts, sum) = csv_amounts(&csv.text);
    assert_eq!(amounts, ["0.05"]);
    assert_eq!(sum, units(&closed["total"]));
}

#[test]
fn revenue_sums_the_invoices_of_a_services_subscriptions_without_test_mode() {
    // Setup: the provider's own test-mode subscription, then a consumer's
    // live one once the service is published.
    let app = platform();
    let sold = sold(
        &app,
        json!([{"name": "API", "unit": "call", "unitPrice": "0.01"}]),
    );
    lifecycle(&app, &sold.provider, &sold.service, "publish");
    let consumer = sign_up(&app, "consumer");
    let application = create_application(&app, &consumer);
    let plans = app
        .get(&format!("/api/services/{}/pricing-plans", sold.service))
        .bearer(&consumer.token)
        .send()
        .expect(200)
        .json();
    let plan_id = plans["items"][0]["id"].as_str().expect("plan id");
    let live = subscribe(&app, &consumer, &application, &sold.service, plan_id);
    let live_correlation = call_once(&app, &sold.service, &access_token(&app, &application));
    // Exec: 3 test calls, 7 live ones.
    sold.report(&app, 0, "3", None);
    app.post("/api/metering")
        .bearer(&sold.provider.token)
        .json(
            &json!({"correlationId": live_correlation, "productId": sold.products[0], "count": 7}),
        )
        .send()
        .expect(200);
    // Check
    let revenue = app
        .get(&format!("/api/services/{}/revenue", sold.service))
        .bearer(&sold.provider.token)
        .send()
        .expect(200)
        .json();
    let (current, _, _) = months();
    assert_eq!(revenue["month"], current.as_str());
    assert_eq!(revenue["status"], "OPEN");
    let lines: Vec<(Value, Value, Value)> = revenue["subscriptions"]
        .as_array()
        .expect("subscriptions")
        .iter()
        .map(|l| {
            (
                l["subscriptionId"].clone(),
                l["testMode"].clone(),
                l["total"].clone(),
            )
        })
        .collect();
    // Newest subscription first: 7 × 0.01 live, 3 × 0.01 in test mode.
    assert_eq!(
        lines,
        [
            (live["id"].clone(), json!(false), json!("0.07")),
            (json!(sold.subscription), json!(true), json!("0.03"))
        ]
    );
    assert_eq!(
        revenue["subscriptions"][0]["applicationId"],
        application.id.as_str()
    );
    assert_eq!(revenue["total"], "0.07");
    assert_eq!(revenue["testModeTotal"], "0.03");
    app.get(&format!("/api/services/{}/revenue", sold.service))
        .bearer(&consumer.token)
        .send()
        .expect_problem(404);
    app.get(&format!(
        "/api/services/{}/revenue?month=2026-13",
        sold.service
    ))
    .bearer(&sold.provider.token)
    .send()
    .expect_problem(400);
}
