//! The pricing routes over a memory store, as a client sees them.

use super::*;
use qmarket_catalog::NewService;
use qmarket_http::StatusOf;
use qmarket_identity::fixtures::signed_up as account;
use qmarket_model::PricingPlan;
use qmarket_sealing::Sealer;
use qmarket_store::MemoryStore;
use serde_json::{json, Value};

fn service(kv: &dyn KeyValue, owner: &str) -> String {
    let input: NewService = serde_json::from_value(json!({
        "name": "Walk", "type": "EXTERNAL", "quantumBackend": "IBM", "url": "https://walk.example.org"
    }))
    .unwrap();
    qmarket_catalog::service::create(
        kv,
        &Sealer::from_key(&[1; 32]),
        owner,
        input,
        Timestamp::now(),
    )
    .unwrap()
    .id
}

fn call(
    kv: &dyn KeyValue,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut req = Request::new(method, path).with_header("X-Auth-Token", token);
    if let Some(b) = body {
        req = req
            .with_header("content-type", "application/json")
            .with_body(b.to_string());
    }
    route(&req, kv, Timestamp::now()).unwrap_or_else(|e| qmarket_http::problem(&e))
}

fn plan_body() -> Value {
    json!({"name": "Pay per use", "products": [
        {"name": "API", "unitPrice": "0.00001", "unit": "call"},
        {"name": "CPU", "unitPrice": 0.5, "unit": "second"}
    ]})
}

#[test]
fn a_provider_creates_lists_reads_renames_and_deletes_a_plan() {
    // Setup
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let svc = service(&kv, &owner);
    let plans = format!("/api/services/{svc}/pricing-plans");
    // Exec
    let r = call(&kv, &token, Method::Post, &plans, Some(plan_body()));
    // Check
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let plan = r.json_value();
    let id = plan["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("plan_"));
    assert_eq!(plan["serviceId"], svc.as_str());
    assert_eq!(plan["type"], "COMMERCIAL");
    assert_eq!(plan["currency"], "EUR");
    assert!(plan["products"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("prod_"));
    assert_eq!(plan["products"][0]["unitPrice"], "0.00001");
    assert_eq!(plan["products"][1]["unitPrice"], "0.5");
    assert_eq!(plan["products"][1]["unit"], "second");

    let list = call(&kv, &token, Method::Get, &plans, None).json_value();
    assert_eq!(list["items"][0]["id"], id.as_str());
    let one = format!("{plans}/{id}");
    assert_eq!(
        call(&kv, &token, Method::Get, &one, None).json_value(),
        plan
    );

    let keep_api = json!({"name": "Cheaper", "products": [
        {"id": plan["products"][0]["id"], "name": "API", "unitPrice": "0.000001", "unit": "call"}
    ]});
    let r = call(&kv, &token, Method::Patch, &one, Some(keep_api));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let changed = r.json_value();
    assert_eq!(changed["name"], "Cheaper");
    assert_eq!(changed["products"][0]["id"], plan["products"][0]["id"]);
    assert_eq!(changed["products"][0]["unitPrice"], "0.000001");
    assert_eq!(changed["products"].as_array().unwrap().len(), 1);

    assert_eq!(call(&kv, &token, Method::Delete, &one, None).status, 204);
    assert_eq!(call(&kv, &token, Method::Get, &one, None).status, 404);
    assert_eq!(
        call(&kv, &token, Method::Get, &plans, None).json_value()["items"],
        json!([])
    );
}

#[test]
fn invalid_plans_are_refused_with_a_precise_4xx() {
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let plans = format!("/api/services/{}/pricing-plans", service(&kv, &owner));
    let product = |price: Value| json!({"name": "p", "products": [{"name": "API", "unitPrice": price, "unit": "call"}]});
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"name": format!("p{i}"), "unitPrice": "1", "unit": "call"}))
        .collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "negative price",
            product(json!("-1")),
            "products[0].unitPrice",
        ),
        (
            "negative number",
            product(json!(-1)),
            "products[0].unitPrice",
        ),
        (
            "exponent string",
            product(json!("1e5")),
            "products[0].unitPrice",
        ),
        (
            "exponent number",
            serde_json::from_str(
                r#"{"name":"p","products":[{"name":"API","unitPrice":1e5,"unit":"call"}]}"#,
            )
            .unwrap(),
            "products[0].unitPrice",
        ),
        (
            "too many fraction digits",
            product(json!("0.123456789012")),
            "products[0].unitPrice",
        ),
        ("NaN", product(json!("NaN")), "products[0].unitPrice"),
        ("boolean", product(json!(true)), "products[0].unitPrice"),
        ("null price", product(Value::Null), "products[0].unitPrice"),
        (
            "too large",
            product(json!("1234567890")),
            "products[0].unitPrice",
        ),
        (
            "huge string price",
            product(json!("9".repeat(100_000))),
            "products[0].unitPrice",
        ),
        (
            "empty plan name",
            json!({"name": "", "products": [{"name": "A", "unitPrice": 1, "unit": "u"}]}),
            "name",
        ),
        (
            "long plan name",
            json!({"name": "n".repeat(101), "products": [{"name": "A", "unitPrice": 1, "unit": "u"}]}),
            "name",
        ),
        (
            "long unit",
            json!({"name": "p", "products": [{"name": "A", "unitPrice": 1, "unit": "u".repeat(101)}]}),
            "products[0].unit",
        ),
        (
            "empty product name",
            json!({"name": "p", "products": [{"name": "", "unitPrice": 1, "unit": "u"}]}),
            "products[0].name",
        ),
        (
            "duplicate product names",
            json!({"name": "p", "products": [
            {"name": "API", "unitPrice": 1, "unit": "u"}, {"name": "api", "unitPrice": 2, "unit": "u"}]}),
            "products[1].name",
        ),
        (
            "commercial without products",
            json!({"name": "p", "products": []}),
            "products",
        ),
        (
            "too many products",
            json!({"name": "p", "products": many}),
            "products",
        ),
        (
            "free with a price",
            json!({"name": "p", "type": "FREE", "products": [{"name": "A", "unitPrice": "0.1", "unit": "u"}]}),
            "products[0].unitPrice",
        ),
        (
            "unknown type",
            json!({"name": "p", "type": "CHEAP", "products": []}),
            "type",
        ),
        (
            "client-chosen product id",
            json!({"name": "p", "products": [{"id": "prod_x", "name": "A", "unitPrice": 1, "unit": "u"}]}),
            "products[0].id",
        ),
        (
            "unknown field",
            json!({"name": "p", "currency": "USD", "products": []}),
            "currency",
        ),
    ];
    for (case, body, field) in cases {
        let r = call(&kv, &token, Method::Post, &plans, Some(body));
        assert_eq!(
            r.status,
            400,
            "{case}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let problem = r.json_value();
        let named = problem["errors"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["field"] == field))
            || problem["detail"].as_str().unwrap().contains(field);
        assert!(named, "{case}: {problem}");
    }
    assert_eq!(
        call(&kv, &token, Method::Get, &plans, None).json_value()["items"],
        json!([])
    );
    let r = call(
        &kv,
        &token,
        Method::Post,
        &plans,
        Some(json!({"name": "Free", "type": "FREE"})),
    );
    assert_eq!(r.status, 201, "a FREE plan needs no products");
    let exact = call(
        &kv,
        &token,
        Method::Post,
        &plans,
        Some(product(json!("123456789.0123456789"))),
    );
    assert_eq!(
        exact.json_value()["products"][0]["unitPrice"],
        "123456789.0123456789"
    );
}

#[test]
fn a_plan_with_subscriptions_cannot_change_its_products_or_be_deleted_but_can_be_renamed() {
    // Setup
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let svc = service(&kv, &owner);
    let plan = call(
        &kv,
        &token,
        Method::Post,
        &format!("/api/services/{svc}/pricing-plans"),
        Some(plan_body()),
    )
    .json_value();
    let id = plan["id"].as_str().unwrap();
    let one = format!("/api/services/{svc}/pricing-plans/{id}");
    kv.increment(&PricingPlan::subscription_count_key(id), 1)
        .unwrap();
    // Exec / Check
    let r = call(
        &kv,
        &token,
        Method::Patch,
        &one,
        Some(json!({"products": [{"name": "API", "unitPrice": "1", "unit": "call"}]})),
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        call(
            &kv,
            &token,
            Method::Patch,
            &one,
            Some(json!({"type": "FREE"}))
        )
        .status,
        400,
        "a FREE plan cannot keep its prices"
    );
    assert_eq!(call(&kv, &token, Method::Delete, &one, None).status, 409);
    let r = call(
        &kv,
        &token,
        Method::Patch,
        &one,
        Some(json!({"name": "Renamed"})),
    );
    assert_eq!(r.status, 200);
    let after = r.json_value();
    assert_eq!(after["name"], "Renamed");
    assert_eq!(after["products"], plan["products"]);
    // Re-sending the same products is no change.
    let same = json!({"products": plan["products"]});
    assert_eq!(
        call(&kv, &token, Method::Patch, &one, Some(same)).status,
        200
    );
}

#[test]
fn the_last_plan_of_a_published_service_cannot_be_deleted() {
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let svc = service(&kv, &owner);
    let plans = format!("/api/services/{svc}/pricing-plans");
    let first = call(&kv, &token, Method::Post, &plans, Some(plan_body())).json_value();
    let second = call(&kv, &token, Method::Post, &plans, Some(plan_body())).json_value();
    qmarket_catalog::lifecycle::publish(&kv, &owner, &svc, Timestamp::now()).unwrap();
    let delete = |plan: &Value| {
        call(
            &kv,
            &token,
            Method::Delete,
            &format!("{plans}/{}", plan["id"].as_str().unwrap()),
            None,
        )
        .status
    };
    assert_eq!(delete(&first), 204);
    assert_eq!(delete(&second), 409);
}

#[test]
fn plans_of_other_accounts_and_other_services_answer_404() {
    // Setup
    let kv = MemoryStore::new();
    let (ada_id, ada) = account(&kv, "ada");
    let (bob_id, bob) = account(&kv, "bob");
    let ada_svc = service(&kv, &ada_id);
    let other_svc = service(&kv, &ada_id);
    let bob_svc = service(&kv, &bob_id);
    let plan = call(
        &kv,
        &ada,
        Method::Post,
        &format!("/api/services/{ada_svc}/pricing-plans"),
        Some(plan_body()),
    )
    .json_value();
    let id = plan["id"].as_str().unwrap();
    // Exec / Check: bob on ada's (unpublished) service
    for (method, path, body) in [
        (
            Method::Get,
            format!("/api/services/{ada_svc}/pricing-plans"),
            None,
        ),
        (
            Method::Post,
            format!("/api/services/{ada_svc}/pricing-plans"),
            Some(plan_body()),
        ),
        (
            Method::Get,
            format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            None,
        ),
        (
            Method::Patch,
            format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::Delete,
            format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            None,
        ),
        (
            Method::Get,
            format!("/api/services/{bob_svc}/pricing-plans/{id}"),
            None,
        ),
    ] {
        assert_eq!(
            call(&kv, &bob, method.clone(), &path, body).status,
            404,
            "{} {path}",
            method.as_str()
        );
    }
    // ada's plan under ada's other service
    assert_eq!(
        call(
            &kv,
            &ada,
            Method::Get,
            &format!("/api/services/{other_svc}/pricing-plans/{id}"),
            None
        )
        .status,
        404
    );
    assert_eq!(
        call(
            &kv,
            &ada,
            Method::Get,
            &format!("/api/services/{ada_svc}/pricing-plans/plan_nope"),
            None
        )
        .status,
        404
    );
    // once published, bob may read ada's plans but not change them
    qmarket_catalog::lifecycle::publish(&kv, &ada_id, &ada_svc, Timestamp::now()).unwrap();
    assert_eq!(
        call(
            &kv,
            &bob,
            Method::Get,
            &format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            None
        )
        .status,
        200
    );
    assert_eq!(
        call(
            &kv,
            &bob,
            Method::Get,
            &format!("/api/services/{ada_svc}/pricing-plans"),
            None
        )
        .json_value()["items"][0]["id"],
        id
    );
    assert_eq!(
        call(
            &kv,
            &bob,
            Method::Patch,
            &format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            Some(json!({"name": "x"}))
        )
        .status,
        404
    );
    assert_eq!(
        call(
            &kv,
            &bob,
            Method::Delete,
            &format!("/api/services/{ada_svc}/pricing-plans/{id}"),
            None
        )
        .status,
        404
    );
}

#[test]
fn callers_without_a_valid_token_get_401() {
    let kv = MemoryStore::new();
    let req = Request::new(Method::Get, "/api/services/svc_x/pricing-plans");
    assert_eq!(
        route(&req, &kv, Timestamp::now()).unwrap_err().status(),
        401
    );
}
