//! The PlanQK tutorial end to end: a provider creates an external service
//! with a pay-per-use plan, publishes it internally, subscribes its own
//! application, calls it through the gateway; the service reports one API
//! call per request to the PlanQK metering path with the correlation id the
//! gateway sent, while the call is still open. The events and the bill show
//! the usage, in test mode.

mod support;

use std::sync::mpsc;

use serde_json::{json, Value};
use support::{
    access_token, create_application, create_external_service, create_plan, lifecycle, platform,
    sign_up, start_service, subscribe, Api, Call,
};

/// A provider's service: for each of `calls` requests it reports
/// `{"correlationId", "productId", "count": 1}` to `metering_url` with
/// `X-Auth-Token` before answering with the metering status.
fn start_metered_service(
    metering_url: String,
    token: String,
    product_id: String,
    calls: usize,
) -> (String, mpsc::Receiver<String>) {
    start_service(calls, move |correlation| {
        // The tutorial's metering call, made before answering.
        let reply = Call::new("POST", metering_url.clone())
            .header("X-Auth-Token", &token)
            .json(&json!({"correlationId": correlation, "productId": product_id, "count": 1}))
            .send();
        json!({"metered": reply.status}).to_string()
    })
}

#[test]
fn usage_reported_by_a_service_through_the_gateway_is_listed_and_billed() {
    // Setup: the tutorial's service, plan and internal publication.
    let app = platform();
    let provider = sign_up(&app, "provider");
    // The service needs its product id before it starts: create the real
    // service with a placeholder URL, then point it at the upstream.
    let service = create_external_service(&app, &provider, "http://127.0.0.1:9");
    let plan = create_plan(&app, &provider, &service, "0.00001");
    let (upstream, seen) = start_metered_service(
        app.url("/qc-catalog/external-services/metering"),
        provider.token.clone(),
        plan.product_id.clone(),
        3,
    );
    app.patch(&format!("/api/services/{service}"))
        .bearer(&provider.token)
        .json(&json!({"url": upstream}))
        .send()
        .expect(200);
    lifecycle(&app, &provider, &service, "publish-internal");
    let application = create_application(&app, &provider);
    let subscription = subscribe(&app, &provider, &application, &service, &plan.id);
    assert_eq!(subscription["testMode"], true);
    let subscription_id = subscription["id"]
        .as_str()
        .expect("subscription id")
        .to_string();
    let token = access_token(&app, &application);

    // Exec: three calls through the gateway.
    let mut echoed = Vec::new();
    for _ in 0..3 {
        let reply = app
            .post(&format!("/gateway/{service}/run"))
            .bearer(&token)
            .json(&json!({"data": {}}))
            .send()
            .expect(200);
        assert_eq!(
            reply.json(),
            json!({"metered": 200}),
            "the service's metering call"
        );
        echoed.push(
            reply
                .header("x-correlation-id")
                .expect("echoed correlation id")
                .to_string(),
        );
    }

    // Check: the service saw the ids the consumer got back, and the usage is there.
    let sent: Vec<String> = seen.try_iter().collect();
    assert_eq!(sent, echoed);
    let events = app
        .get(&format!(
            "/api/services/{service}/metering-events?testMode=true"
        ))
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    let items = events["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    let newest = &items[0];
    assert_eq!(newest["correlationId"], echoed[2].as_str());
    assert_eq!(newest["productId"], plan.product_id.as_str());
    assert_eq!(newest["productName"], "API");
    assert_eq!(newest["unit"], "call");
    assert_eq!(newest["unitPrice"], "0.00001");
    assert_eq!(newest["currency"], "EUR");
    assert_eq!(newest["count"], "1");
    assert_eq!(newest["amount"], "0.00001");
    assert_eq!(newest["subscriptionId"], subscription_id.as_str());
    assert_eq!(newest["applicationId"], application.id.as_str());
    assert_eq!(newest["testMode"], true);
    let live = app
        .get(&format!(
            "/api/services/{service}/metering-events?testMode=false"
        ))
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(live["items"], json!([]));
    let bill: Value = app
        .get(&format!("/api/subscriptions/{subscription_id}/usage"))
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(bill["testMode"], true);
    assert_eq!(bill["currency"], "EUR");
    // The fields a per-unit line always had, unchanged, and how it was
    // priced: one band, nothing free.
    let lines = bill["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1);
    for (field, value) in [
        ("productId", json!(plan.product_id)),
        ("productName", json!("API")),
        ("unit", json!("call")),
        ("unitPrice", json!("0.00001")),
        ("quantity", json!("3")),
        ("amount", json!("0.00003")),
        ("pricingModel", json!("PER_UNIT")),
        ("freeQuantity", json!("0")),
    ] {
        assert_eq!(lines[0][field], value, "{field}");
    }
    assert_eq!(
        lines[0]["breakdown"],
        json!([{"from": "0", "upTo": null, "quantity": "3", "unitPrice": "0.00001", "amount": "0.00003"}])
    );
    assert_eq!(bill["total"], "0.00003");
}
