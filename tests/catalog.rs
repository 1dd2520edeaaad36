//! Services, API specifications, pricing plans and the marketplace through
//! the embedded host: the provider's flow over real HTTP, bad input, the
//! store as it is on disk (no plaintext upstream password), and 50
//! concurrent creations all listed.

mod support;

use qmarket_host::TestApp;
use serde_json::{json, Value};
use support::{
    create_plan, platform, post_that_keeps_writing, raw_chunked_post, sign_up, Account, Api,
};

const PASSWORD: &str = "upstream-pa55word-do-not-store";

fn external(name: &str) -> Value {
    json!({
        "name": name,
        "type": "EXTERNAL",
        "description": "Samples quantum walks",
        "quantumBackend": "IBM",
        "url": "https://walk.example.org/api",
        "securityConfiguration": {"type": "BASIC", "username": "gateway", "password": PASSWORD}
    })
}

fn create(app: &TestApp, provider: &Account, body: &Value) -> String {
    let reply = app
        .post("/api/services")
        .bearer(&provider.token)
        .json(body)
        .send()
        .expect(201);
    reply.json()["id"].as_str().expect("service id").to_string()
}

/// Every key and value of the platform's SQLite store, values as text.
fn stored_rows(app: &TestApp) -> Vec<(String, String)> {
    let conn = support::sqlite_store(app);
    let mut rows = conn
        .prepare("SELECT key, value FROM spin_key_value")
        .expect("the store's table");
    rows.query_map([], |row| {
        let value: Vec<u8> = row.get(1)?;
        Ok((row.get(0)?, String::from_utf8_lossy(&value).into_owned()))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("readable rows")
}

#[test]
fn a_provider_creates_prices_publishes_and_deletes_a_service_over_http() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "ada");
    let visitor = sign_up(&app, "bob");
    // Exec: create
    let created = app
        .post("/api/services")
        .bearer(&provider.token)
        .json(&external("Quantum walk"))
        .send()
        .expect(201)
        .json();
    let id = created["id"].as_str().unwrap().to_string();
    // Check
    assert_eq!(
        created["securityConfiguration"],
        json!({"type": "BASIC", "username": "gateway"})
    );
    assert_eq!(created["lifecycle"], "CREATED");
    assert_eq!(created["ownerId"], provider.id.as_str());
    assert!(!created.to_string().contains(PASSWORD));
    let listed = app
        .get("/api/services")
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["nextCursor"], Value::Null);

    // the api spec: default, then YAML
    let spec_path = format!("/api/services/{id}/api-spec");
    let default = app
        .get(&spec_path)
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(default["servers"][0]["url"], format!("/gateway/{id}"));
    app.put(&spec_path)
        .bearer(&provider.token)
        .header("content-type", "application/yaml")
        .body("openapi: 3.0.3\ninfo: {title: Walk, version: '1'}\npaths:\n  /walk:\n    post:\n      responses:\n        200: {description: ok}\n")
        .send()
        .expect(200);
    let spec = app
        .get(&spec_path)
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(
        spec["paths"]["/walk"]["post"]["responses"]["200"]["description"],
        "ok"
    );
    app.put(&spec_path)
        .bearer(&provider.token)
        .header("content-type", "application/yaml")
        .body("swagger: '2.0'\npaths: {}\n")
        .send()
        .expect_problem(422);

    // publish: refused without a plan, then listed in the marketplace
    let publish = format!("/api/services/{id}/publish");
    app.post(&publish)
        .bearer(&provider.token)
        .send()
        .expect_problem(409);
    let plan = create_plan(&app, &provider, &id, "0.00001");
    let published = app
        .post(&publish)
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(published["lifecycle"], "PUBLISHED");
    let market = app
        .get("/api/marketplace/services?q=WALK&quantumBackend=IBM")
        .send()
        .expect(200)
        .json();
    assert_eq!(market["items"][0]["id"], id.as_str());
    assert_eq!(
        market["items"][0]["pricingPlans"][0]["id"],
        plan.id.as_str()
    );
    assert_eq!(
        market["items"][0]["pricingPlans"][0]["products"][0]["unitPrice"],
        "0.00001"
    );
    assert!(market["items"][0].get("url").is_none());
    assert!(market["items"][0].get("securityConfiguration").is_none());
    // another account reads the published plans but cannot touch the service
    let plans = app
        .get(&format!("/api/services/{id}/pricing-plans"))
        .bearer(&visitor.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(plans["items"][0]["id"], plan.id.as_str());
    app.get(&format!("/api/services/{id}"))
        .bearer(&visitor.token)
        .send()
        .expect_problem(404);
    app.delete(&format!("/api/services/{id}"))
        .bearer(&visitor.token)
        .send()
        .expect_problem(404);
    app.delete(&format!("/api/services/{id}/pricing-plans/{}", plan.id))
        .bearer(&visitor.token)
        .send()
        .expect_problem(404);
    // the last plan of a published service stays
    app.delete(&format!("/api/services/{id}/pricing-plans/{}", plan.id))
        .bearer(&provider.token)
        .send()
        .expect_problem(409);

    // unpublish, delete
    app.post(&format!("/api/services/{id}/unpublish"))
        .bearer(&provider.token)
        .send()
        .expect(200);
    let market = app
        .get("/api/marketplace/services")
        .send()
        .expect(200)
        .json();
    assert_eq!(market["items"], json!([]));
    app.delete(&format!("/api/services/{id}"))
        .bearer(&provider.token)
        .send()
        .expect(204);
    app.get(&format!("/api/services/{id}"))
        .bearer(&provider.token)
        .send()
        .expect_problem(404);
}

#[test]
fn bad_input_gets_precise_problems_and_never_a_5xx() {
    let app = platform();
    let provider = sign_up(&app, "ada");
    let id = create(&app, &provider, &external("Walk"));
    let with = |key: &str, value: Value| {
        let mut body = external("Walk");
        body[key] = value;
        body
    };
    for (body, status) in [
        (with("url", json!("ftp://example.org")), 400),
        (with("url", json!("javascript:alert(1)")), 400),
        (with("url", json!("/relative")), 400),
        (with("name", json!("x".repeat(101))), 400),
        (with("description", json!("x".repeat(10_001))), 400),
        (with("quantumBackend", json!("GOOGLE")), 400),
        (
            with("apiSpecification", json!({"swagger": "2.0", "paths": {}})),
            422,
        ),
        (with("apiSpecification", json!("openapi: [unclosed")), 400),
    ] {
        app.post("/api/services")
            .bearer(&provider.token)
            .json(&body)
            .send()
            .expect_problem(status);
    }
    let plans = format!("/api/services/{id}/pricing-plans");
    let priced = |price: Value| json!({"name": "p", "products": [{"name": "API", "unitPrice": price, "unit": "call"}]});
    for body in [
        priced(json!("-1")),
        priced(json!("1e5")),
        priced(json!("0.123456789012")),
        priced(json!("NaN")),
        priced(json!(true)),
        priced(json!("9".repeat(5000))),
        json!({"name": "p", "products": [
            {"name": "API", "unitPrice": 1, "unit": "call"},
            {"name": "api", "unitPrice": 1, "unit": "call"}]}),
        json!({"name": "p", "products": []}),
    ] {
        let reply = app
            .post(&plans)
            .bearer(&provider.token)
            .json(&body)
            .send()
            .expect_problem(400);
        assert!(reply.json()["errors"].is_array(), "{}", reply.text);
    }
    app.get("/api/services").send().expect_problem(401);
    app.get("/api/services/svc_unknown")
        .bearer(&provider.token)
        .send()
        .expect_problem(404);
}

#[test]
fn the_store_on_disk_holds_no_plaintext_upstream_password() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "ada");
    // Exec
    let id = create(&app, &provider, &external("Walk"));
    app.patch(&format!("/api/services/{id}"))
        .bearer(&provider.token)
        .json(&json!({"securityConfiguration": {"type": "BASIC", "username": "gateway", "password": format!("{PASSWORD}-2")}}))
        .send()
        .expect(200);
    // Check
    let rows = stored_rows(&app);
    let record = rows
        .iter()
        .find(|(k, _)| *k == format!("service/{id}"))
        .map(|(_, v)| v.clone())
        .expect("the service record is in the store");
    assert!(record.contains("sealedPassword"), "{record}");
    for (key, value) in &rows {
        assert!(
            !value.contains("pa55word"),
            "plaintext password under {key}"
        );
    }
}

#[test]
fn fifty_concurrent_creations_over_http_are_all_listed() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "ada");
    // Exec
    let mut created: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let (app, provider) = (&app, &provider);
                scope.spawn(move || create(app, provider, &external(&format!("Service {i}"))))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("creation thread"))
            .collect()
    });
    // Check
    let listed = app
        .get("/api/services?limit=500")
        .bearer(&provider.token)
        .send()
        .expect(200)
        .json();
    let mut ids: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    created.sort();
    ids.sort();
    assert_eq!(ids, created);
}

#[test]
fn bodies_over_the_api_limit_are_refused_while_they_are_read() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "provider");
    // Exec: a chunked body states no length; one that declares 1 GiB and
    // keeps writing never stops by itself.
    let chunked = raw_chunked_post(
        app.addr(),
        "/api/services",
        &provider.token,
        &vec![b' '; 3 << 20],
    );
    let started = std::time::Instant::now();
    let (endless, written) =
        post_that_keeps_writing(app.addr(), "/api/services", &provider.token, 1 << 30);
    // Check: both answered 413 problems; the endless one was read on only
    // to the host's bound and cut off.
    for raw in [&chunked, &endless] {
        assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
        assert!(raw.contains("application/problem+json"), "{raw}");
        assert!(
            raw.contains("larger than the API's limit of 1048576 bytes"),
            "{raw}"
        );
    }
    assert!(written >> 20 <= 80, "{} MiB written", written >> 20);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    app.get("/api/services")
        .bearer(&provider.token)
        .send()
        .expect(200);
}
