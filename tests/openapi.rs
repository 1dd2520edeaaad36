//! The platform's OpenAPI document through the embedded host: served at
//! `GET /api/openapi.json` exactly as `openapi.yaml` says, and real answers
//! of the platform validate against the schemas the document declares for
//! them (JSON Schema 2020-12, the dialect of OpenAPI 3.1): bodies, the
//! headers the document names, and the absence of a body where it documents
//! none.

mod support;

use std::time::Duration;

use qmarket_host::TestApp;
use serde_json::{json, Value};
use support::{
    access_token, create_application, create_external_service, create_plan, lifecycle, platform,
    sign_up, start_service, subscribe, Api, Reply,
};

/// `openapi.yaml` from the repository, as JSON.
fn yaml_document() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi.yaml is readable");
    serde_norway::from_str(&text).expect("openapi.yaml is YAML")
}

/// Escapes one JSON-pointer token.
fn token(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer (`/…`) of the response documented for `status` answers
/// of `method path`, following a `$ref` to a shared response, and whether it
/// is the operation's `default` (the status itself is not listed).
fn response_pointer(doc: &Value, path: &str, method: &str, status: u16) -> (String, bool) {
    let responses = format!("/paths/{}/{method}/responses", token(path));
    let listed = format!("{responses}/{status}");
    if doc.pointer(&listed).is_some() {
        return (resolve(doc, listed), false);
    }
    let default = format!("{responses}/default");
    assert!(
        doc.pointer(&default).is_some(),
        "{method} {path} documents no {status} answer"
    );
    (resolve(doc, default), true)
}

/// Where the object at `pointer` refers to when it is a `{"$ref": "#/…"}`,
/// else `pointer` itself.
fn resolve(doc: &Value, pointer: String) -> String {
    match doc
        .pointer(&pointer)
        .and_then(|object| object.get("$ref"))
        .and_then(Value::as_str)
    {
        Some(reference) => reference.trim_start_matches('#').to_string(),
        None => pointer,
    }
}

/// A JSON pointer as a URI fragment (`#/…`, braces percent-encoded).
fn fragment(pointer: &str) -> String {
    format!("#{}", pointer.replace('{', "%7B").replace('}', "%7D"))
}

/// Validates `reply` against what the document says of that answer of
/// `method path`: every documented header the reply carries matches its
/// schema (and a required one is there); the body matches the schema
/// documented for the media type received, or is absent when the answer
/// documents none (a 204). A `default` answer without content (the gateway
/// relaying its upstream's) leaves the body to the upstream.
#[track_caller]
fn check(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let (response, is_default) = response_pointer(doc, path, method, reply.status);
    check_headers(doc, method, path, &response, reply);
    if doc.pointer(&format!("{response}/content")).is_none() {
        assert!(
            is_default || (reply.text.is_empty() && reply.header("content-type").is_none()),
            "{method} {path} {} documents no body but carries one: {:?}",
            reply.status,
            reply.text
        );
        return;
    }
    let media = reply
        .header("content-type")
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_string())
        .expect("a content type");
    let schema = format!("{response}/content/{}/schema", token(&media));
    assert!(
        doc.pointer(&schema).is_some(),
        "{method} {path} {} has no {media} schema",
        reply.status
    );
    let pointer = fragment(&schema);
    let body = reply.json();
    let errors = validation_errors(doc, &pointer, &body);
    assert!(
        errors.is_empty(),
        "{method} {path} {} does not match {pointer}: {errors:?}\nbody: {body}",
        reply.status
    );
}

/// Validates the headers the response at `response` documents.
#[track_caller]
fn check_headers(doc: &Value, method: &str, path: &str, response: &str, reply: &Reply) {
    let Some(headers) = doc.pointer(&format!("{response}/headers")) else {
        return;
    };
    for name in headers.as_object().expect("headers are a map").keys() {
        let header_pointer = resolve(doc, format!("{response}/headers/{}", token(name)));
        match reply.header(&name.to_ascii_lowercase()) {
            Some(value) => {
                let schema = fragment(&format!("{header_pointer}/schema"));
                let errors = validation_errors(doc, &schema, &json!(value));
                assert!(
                    errors.is_empty(),
                    "{method} {path} {}: header {name} {value:?} does not match {schema}: {errors:?}",
                    reply.status
                );
            }
            None => assert!(
                doc.pointer(&format!("{header_pointer}/required")) != Some(&json!(true)),
                "{method} {path} {} lacks the required header {name}",
                reply.status
            ),
        }
    }
}

/// What is wrong with `instance` under the schema at `pointer` of `doc`.
fn validation_errors(doc: &Value, pointer: &str, instance: &Value) -> Vec<String> {
    // The whole document is the schema resource, so every
    // `#/components/schemas/…` reference inside it resolves.
    let mut schema = doc.clone();
    schema["$ref"] = json!(pointer);
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the schema at {pointer} compiles: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_served_document_is_openapi_yaml_as_json() {
    // Setup
    let app = platform();
    // Exec
    let reply = app.get("/api/openapi.json").send().expect(200);
    // Check
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let served = reply.json();
    assert_eq!(served, yaml_document());
    assert!(served["openapi"]
        .as_str()
        .expect("openapi")
        .starts_with("3.1"));
}

#[test]
fn a_response_that_breaks_its_schema_is_caught() {
    // Setup
    let doc = yaml_document();
    let pointer = "#/components/schemas/Service";
    let service = json!({
        "id": "svc_0123456789abcdefghjkmnpqrs", "name": "n", "type": "EXTERNAL",
        "description": "", "quantumBackend": "IBM", "url": null,
        "securityConfiguration": {"type": "NONE", "username": null},
        "lifecycle": "CREATED", "ownerId": "acc_x",
        "createdAt": "2026-11-22T10:15:30.123Z", "updatedAt": "2026-11-22T10:15:30.123Z"
    });
    // Check
    assert!(validation_errors(&doc, pointer, &service).is_empty());
    let mut no_id = service.clone();
    no_id.as_object_mut().expect("an object").remove("id");
    assert!(!validation_errors(&doc, pointer, &no_id).is_empty());
    let mut float_price =
        json!({"id": "prod_0123456789abcdefghjkmnpqrs", "name": "API", "unit": "call"});
    float_price["unitPrice"] = json!(0.5);
    assert!(!validation_errors(&doc, "#/components/schemas/Product", &float_price).is_empty());
    let mut bad_time = service;
    bad_time["createdAt"] = json!("yesterday");
    assert!(!validation_errors(&doc, pointer, &bad_time).is_empty());
    assert!(
        !validation_errors(&doc, "#/components/schemas/Problem", &json!({"title": "x"})).is_empty()
    );
}

#[test]
fn a_body_on_an_answer_documented_without_one_is_caught() {
    // Setup
    let doc = yaml_document();
    let with_body = Reply {
        status: 204,
        headers: vec![("content-type".into(), "application/json".into())],
        text: "{}".into(),
    };
    let empty = Reply {
        text: String::new(),
        headers: Vec::new(),
        ..with_body.clone()
    };
    // Exec
    let caught = std::panic::catch_unwind(|| {
        check(&doc, "delete", "/api/applications/{id}", &with_body);
    });
    // Check
    assert!(caught.is_err(), "a 204 with a body passed");
    check(&doc, "delete", "/api/applications/{id}", &empty);
}

#[test]
fn a_gateway_call_and_its_usage_receipts_match_the_documented_answers() {
    // Setup: the provider's service behind a real upstream, its own
    // application subscribed (test mode), one call through the gateway.
    let app = platform();
    let doc = yaml_document();
    let provider = sign_up(&app, "ada");
    let (url, seen) = start_service(1, |_| r#"{"counts":{"00":51,"11":49}}"#.to_string());
    let service_id = create_external_service(&app, &provider, &url);
    let plan = create_plan(&app, &provider, &service_id, "0.25");
    lifecycle(&app, &provider, &service_id, "publish-internal");
    let application = create_application(&app, &provider);
    subscribe(&app, &provider, &application, &service_id, &plan.id);
    let token = access_token(&app, &application);
    // Exec and check: the gateway's answer, with the correlation id echoed.
    let called = app
        .post(&format!("/gateway/{service_id}/circuits"))
        .bearer(&token)
        .json(&json!({"shots": 100}))
        .send()
        .expect(200);
    check(&doc, "post", "/gateway/{serviceId}/{path}", &called);
    let correlation = called
        .header("x-correlation-id")
        .expect("the correlation id is echoed")
        .to_string();
    let sent = seen
        .recv_timeout(Duration::from_secs(10))
        .expect("the upstream was called");
    assert_eq!(sent, correlation);
    // Exec and check: receipts of both single-report paths, first and replayed.
    for path in ["/api/metering", "/qc-catalog/external-services/metering"] {
        let report = json!({
            "correlationId": correlation, "productId": plan.product_id,
            "count": "1.5", "eventId": format!("{path}-1"),
        });
        for replayed in [false, true] {
            let receipt = app
                .post(path)
                .header("X-Auth-Token", &provider.token)
                .json(&report)
                .send()
                .expect(200);
            check(&doc, "post", path, &receipt);
            assert_eq!(receipt.json()["correlationId"], correlation.as_str());
            assert_eq!(
                receipt.header("idempotent-replayed"),
                replayed.then_some("true"),
                "{path}"
            );
        }
    }
    // Exec and check: a batch whose reports are all recorded.
    let batch = app
        .post("/api/metering/batch")
        .header("X-Auth-Token", &provider.token)
        .json(&json!({"events": [
            {"correlationId": correlation, "productId": plan.product_id, "count": 1, "eventId": "b-1"},
            {"correlationId": correlation, "itemId": plan.product_id, "count": 2, "eventId": "b-2"},
        ]}))
        .send()
        .expect(200);
    check(&doc, "post", "/api/metering/batch", &batch);
    let results = batch.json()["results"].clone();
    assert_eq!(
        results.as_array().map(|items| items
            .iter()
            .map(|item| item["status"].clone())
            .collect::<Vec<_>>()),
        Some(vec![json!(200), json!(200)]),
        "{results}"
    );
}

#[test]
fn deletions_answer_the_documented_204_without_a_body() {
    // Setup
    let app = platform();
    let doc = yaml_document();
    let provider = sign_up(&app, "ada");
    let service_id = create_external_service(&app, &provider, "https://walk.example.org/api");
    let plan = create_plan(&app, &provider, &service_id, "0.25");
    let spare_plan = create_plan(&app, &provider, &service_id, "1");
    lifecycle(&app, &provider, &service_id, "publish-internal");
    let application = create_application(&app, &provider);
    let subscription = subscribe(&app, &provider, &application, &service_id, &plan.id);
    let pat = app
        .post("/api/access-tokens")
        .bearer(&provider.token)
        .json(&json!({"name": "ci", "scopes": ["API"]}))
        .send()
        .expect(201)
        .json();
    // Exec and check: each delete endpoint, in an order that frees the next.
    let deletions = [
        (
            "/api/services/{id}/pricing-plans/{plan_id}",
            format!("/api/services/{service_id}/pricing-plans/{}", spare_plan.id),
        ),
        (
            "/api/subscriptions/{id}",
            format!(
                "/api/subscriptions/{}",
                subscription["id"].as_str().expect("id")
            ),
        ),
        (
            "/api/applications/{id}",
            format!("/api/applications/{}", application.id),
        ),
        ("/api/services/{id}", format!("/api/services/{service_id}")),
        (
            "/api/access-tokens/{id}",
            format!("/api/access-tokens/{}", pat["id"].as_str().expect("id")),
        ),
    ];
    for (documented, path) in deletions {
        let deleted = app.delete(&path).bearer(&provider.token).send().expect(204);
        check(&doc, "delete", documented, &deleted);
    }
}

fn provider_flow(app: &TestApp, doc: &Value) {
    // Sign-up and the caller's account.
    let unique = qmarket_core::id::new_uuid_v4().expect("random");
    let signed_up = app
        .post("/api/accounts")
        .json(&json!({"name": "ada", "email": format!("ada-{unique}@example.org")}))
        .send()
        .expect(201);
    check(doc, "post", "/api/accounts", &signed_up);
    let provider = sign_up(app, "grace");
    let me = app
        .get("/api/me")
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/me", &me);

    // Tokens.
    let token = app
        .post("/api/access-tokens")
        .bearer(&provider.token)
        .json(&json!({"name": "ci", "scopes": ["API"]}))
        .send()
        .expect(201);
    check(doc, "post", "/api/access-tokens", &token);
    let tokens = app
        .get("/api/access-tokens")
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/access-tokens", &tokens);

    // A service, its plan, its specification, its lifecycle.
    let service_id = create_external_service(app, &provider, "https://walk.example.org/api");
    let service_path = format!("/api/services/{service_id}");
    let service = app
        .get(&service_path)
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services/{id}", &service);
    let services = app
        .get("/api/services")
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services", &services);
    assert_eq!(services.json()["items"][0]["id"], service_id.as_str());
    let plan_reply = app
        .post(&format!("{service_path}/pricing-plans"))
        .bearer(&provider.token)
        .json(&json!({
            "name": "Per shot", "type": "COMMERCIAL",
            "products": [{"name": "shot", "unitPrice": 0.00001, "unit": "shot"}]
        }))
        .send()
        .expect(201);
    check(doc, "post", "/api/services/{id}/pricing-plans", &plan_reply);
    let plan = create_plan(app, &provider, &service_id, "0.25");
    let plan_one = app
        .get(&format!("{service_path}/pricing-plans/{}", plan.id))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(
        doc,
        "get",
        "/api/services/{id}/pricing-plans/{plan_id}",
        &plan_one,
    );
    let plans = app
        .get(&format!("{service_path}/pricing-plans"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services/{id}/pricing-plans", &plans);
    let spec = app
        .get(&format!("{service_path}/api-spec"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services/{id}/api-spec", &spec);
    let patched = app
        .patch(&service_path)
        .bearer(&provider.token)
        .json(&json!({"description": null, "quantumBackend": "IONQ"}))
        .send()
        .expect(200);
    check(doc, "patch", "/api/services/{id}", &patched);
    let replaced = app
        .put(&format!("{service_path}/api-spec"))
        .bearer(&provider.token)
        .header("content-type", "application/yaml")
        .body("openapi: 3.0.3\ninfo: {title: walk, version: '1'}\npaths: {}\n")
        .send()
        .expect(200);
    check(doc, "put", "/api/services/{id}/api-spec", &replaced);
    let published = app
        .post(&format!("{service_path}/publish"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "post", "/api/services/{id}/publish", &published);
    let marketplace = app.get("/api/marketplace/services").send().expect(200);
    check(doc, "get", "/api/marketplace/services", &marketplace);
    assert!(!marketplace.json()["items"]
        .as_array()
        .expect("items")
        .is_empty());
    let backends = app.get("/api/quantum-backends").send().expect(200);
    check(doc, "get", "/api/quantum-backends", &backends);

    // The owner's application, subscription, token and usage bill.
    lifecycle(app, &provider, &service_id, "unpublish");
    lifecycle(app, &provider, &service_id, "publish-internal");
    let application = create_application(app, &provider);
    let subscription = app
        .post(&format!(
            "/api/applications/{}/subscriptions",
            application.id
        ))
        .bearer(&provider.token)
        .json(&json!({"serviceId": service_id, "pricingPlanId": plan.id}))
        .send()
        .expect(201);
    check(
        doc,
        "post",
        "/api/applications/{id}/subscriptions",
        &subscription,
    );
    let subscription_id = subscription.json()["id"].as_str().expect("id").to_string();
    let one = app
        .get(&format!("/api/subscriptions/{subscription_id}"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/subscriptions/{id}", &one);
    let usage = app
        .get(&format!("/api/subscriptions/{subscription_id}/usage"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/subscriptions/{id}/usage", &usage);
    let invoices = app
        .get(&format!("/api/subscriptions/{subscription_id}/invoices"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/subscriptions/{id}/invoices", &invoices);
    let month = invoices.json()["items"][0]["month"]
        .as_str()
        .expect("the current month's invoice")
        .to_string();
    let invoice = app
        .get(&format!(
            "/api/subscriptions/{subscription_id}/invoices/{month}"
        ))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(
        doc,
        "get",
        "/api/subscriptions/{id}/invoices/{month}",
        &invoice,
    );
    let revenue = app
        .get(&format!("{service_path}/revenue"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services/{id}/revenue", &revenue);
    let events = app
        .get(&format!("{service_path}/metering-events"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/services/{id}/metering-events", &events);
    let apps = app
        .get("/api/applications")
        .bearer(&provider.token)
        .send()
        .expect(200);
    check(doc, "get", "/api/applications", &apps);
    let issued = app
        .post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            application.consumer_key, application.consumer_secret
        ))
        .send()
        .expect(200);
    check(doc, "post", "/oauth/token", &issued);
}

#[test]
fn real_answers_match_the_documented_response_schemas() {
    // Setup
    let app = platform();
    let doc = yaml_document();
    // Exec and check: every answer of the provider's and consumer's flow.
    provider_flow(&app, &doc);
    let health = app.get("/api/health").send().expect(200);
    check(&doc, "get", "/api/health", &health);
}

#[test]
fn problems_and_oauth_errors_match_the_documented_error_schemas() {
    // Setup
    let app = platform();
    let doc = yaml_document();
    let provider = sign_up(&app, "ada");
    // Exec and check: 401, 404, 400 with field errors, 422, OAuth 401.
    let unauthenticated = app.get("/api/services").send().expect_problem(401);
    check(&doc, "get", "/api/services", &unauthenticated);
    let missing = app
        .get("/api/services/svc_0123456789abcdefghjkmnpqrs")
        .bearer(&provider.token)
        .send()
        .expect_problem(404);
    check(&doc, "get", "/api/services/{id}", &missing);
    let bad_body = app
        .post("/api/services")
        .bearer(&provider.token)
        .json(&json!({"name": "x", "type": "QUANTUM", "quantumBackend": "IBM"}))
        .send();
    assert!(
        bad_body.status == 400 || bad_body.status == 422,
        "{}",
        bad_body.text
    );
    check(&doc, "post", "/api/services", &bad_body);
    let bad_report = app
        .post("/api/metering")
        .bearer(&provider.token)
        .json(&json!({"correlationId": "nope", "productId": "prod_x", "count": "1e3"}))
        .send();
    assert!(
        bad_report.status >= 400 && bad_report.status < 500,
        "{}",
        bad_report.text
    );
    check(&doc, "post", "/api/metering", &bad_report);
    let batch = app
        .post("/api/metering/batch")
        .bearer(&provider.token)
        .json(&json!({"events": [{"correlationId": "nope", "productId": "prod_x", "count": 1}]}))
        .send()
        .expect(200);
    check(&doc, "post", "/api/metering/batch", &batch);
    assert_eq!(batch.json()["results"][0]["status"], 404, "{}", batch.text);
    let wrong_method = app
        .delete("/api/quantum-backends")
        .send()
        .expect_problem(405);
    check(&doc, "get", "/api/quantum-backends", &wrong_method);
    let bad_client = app
        .post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=nobody&client_secret=nothing")
        .send()
        .expect(401);
    check(&doc, "post", "/oauth/token", &bad_client);
    let bad_grant = app
        .post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password")
        .send()
        .expect(400);
    check(&doc, "post", "/oauth/token", &bad_grant);
}
