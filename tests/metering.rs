//! Metering through the embedded host: PlanQK-shaped reports over HTTP,
//! every bad input, and exactly-once counting under 16 concurrent clients on
//! the default SQLite store and on Redis.
//!
//! The provider signs up over HTTP; its service, plan, the consumer's
//! subscription and one gateway correlation are written straight into the
//! store (as the registry, pricing, identity and gateway components would
//! have), so these tests depend on metering and identity only. The flow
//! through all components is `tests/metering_flow.rs`.

mod host_support;
mod support;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::Arc;

use host_support::{Redis, Scratch};
use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};
use support::{manifest, platform, platform_with, sign_up, Account, Api};

const API: &str = "prod_api";
const CPU: &str = "prod_cpu";

/// Where the seeded records go.
enum Store {
    Sqlite(std::path::PathBuf),
    Redis(u16),
}

impl Store {
    fn set(&self, key: &str, value: &Value) {
        let text = value.to_string();
        let status = match self {
            Store::Sqlite(db) => {
                support::sqlite_store_at(db)
                    .execute(
                        "INSERT OR REPLACE INTO spin_key_value (store, key, value) \
                         VALUES ('default', ?1, ?2)",
                        (key, text.as_bytes()),
                    )
                    .expect("seeding the SQLite store");
                return;
            }
            Store::Redis(port) => Command::new("redis-cli")
                .args(["-p", &port.to_string(), "SET", key, &text])
                .stdout(Stdio::null())
                .status(),
        };
        assert!(
            status
                .expect("the store's command-line client runs")
                .success(),
            "seeding {key}"
        );
    }
}

/// The provider's service, plan (API at 0.00001 EUR per call, CPU at
/// 0.0000000001 per ms), a consumer's subscription and correlation `corr`.
struct Seeded {
    provider: Account,
    consumer: Account,
    service: String,
    subscription: String,
    correlation: String,
}

fn seed(app: &TestApp, store: &Store) -> Seeded {
    let provider = sign_up(app, "provider");
    let consumer = sign_up(app, "consumer");
    let now = "2026-11-22T00:00:00.000Z";
    let id = |kind| qmarket_core::id::new_id(kind).expect("id");
    let service = id(qmarket_core::IdKind::Service);
    let plan = id(qmarket_core::IdKind::PricingPlan);
    let subscription = id(qmarket_core::IdKind::Subscription);
    let correlation = qmarket_core::id::new_uuid_v4().expect("uuid");
    store.set(
        &format!("service/{service}"),
        &json!({"id": service, "ownerId": provider.id, "name": "Solver", "type": "EXTERNAL",
                "description": "", "quantumBackend": "NONE", "url": "http://127.0.0.1:9",
                "securityConfiguration": {"type": "NONE", "username": null, "sealedPassword": null},
                "managed": null, "lifecycle": "ACCESSIBLE", "createdAt": now, "updatedAt": now,
                "indexSeq": 1, "marketplaceSeq": null}),
    );
    store.set(
        &format!("service/{service}/lifecycle"),
        &json!({"lifecycle": "ACCESSIBLE", "marketplaceSeq": null, "changedAt": null}),
    );
    store.set(
        &format!("plan/{plan}"),
        &json!({"id": plan, "serviceId": service, "name": "Pay per use", "type": "COMMERCIAL",
                "currency": "EUR", "createdAt": now, "updatedAt": now, "indexSeq": 1,
                "products": [
                    {"id": API, "name": "API", "unitPrice": "0.00001", "unit": "call"},
                    {"id": CPU, "name": "CPU", "unitPrice": "0.0000000001", "unit": "ms"}]}),
    );
    store.set(
        &format!("sub/{subscription}"),
        &json!({"id": subscription, "applicationId": "app_it", "subscriberId": consumer.id,
                "serviceId": service, "providerId": provider.id, "pricingPlanId": plan,
                "testMode": false, "createdAt": now, "indexSeq": 1}),
    );
    store.set(
        &format!("correlation/{correlation}"),
        &json!({"id": correlation, "subscriptionId": subscription, "applicationId": "app_it",
                "consumerId": consumer.id, "serviceId": service, "providerId": provider.id,
                "pricingPlanId": plan, "testMode": false, "createdAt": now}),
    );
    Seeded {
        provider,
        consumer,
        service,
        subscription,
        correlation,
    }
}

fn sqlite_platform() -> (TestApp, Store) {
    let app = platform();
    let db = app.state_dir().join("sqlite_key_value.db");
    // The host creates the table on first use of the store.
    app.get("/api/me").send();
    (app, Store::Sqlite(db))
}

fn redis_platform(redis: &Redis, scratch: &Scratch) -> (TestApp, Store) {
    let mut options = TestAppOptions::new(manifest());
    options.runtime_config = Some(redis.runtime_config(scratch));
    (platform_with(options), Store::Redis(redis.port))
}

fn report(app: &TestApp, token: &str, body: &Value) -> support::Reply {
    app.post("/qc-catalog/external-services/metering")
        .header("X-Auth-Token", token)
        .json(body)
        .send()
}

/// 2,000 reports from 16 clients; every tenth repeats the event id of the one
/// before it, sent by another client at about the same time. The bill and
/// the listing must show each distinct event exactly once.
fn two_thousand_reports_count_exactly_once(app: &TestApp, s: &Seeded) {
    const REPORTS: usize = 2_000;
    const CLIENTS: usize = 16;
    let run = qmarket_core::id::new_uuid_v4().expect("uuid");
    let bodies: Arc<Vec<Value>> = Arc::new(
        (0..REPORTS)
            .map(|i| {
                let id = if i % 10 == 9 { i - 1 } else { i };
                json!({"correlationId": s.correlation, "productId": API,
                       "count": format!("0.{:06}", id % 999 + 1), "eventId": format!("{run}-{id}")})
            })
            .collect(),
    );
    let expected_micro: u64 = (0..REPORTS)
        .filter(|i| i % 10 != 9)
        .map(|i| (i % 999 + 1) as u64)
        .sum();
    let base = app.base_url().to_string();
    let token = s.provider.token.clone();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let bodies = bodies.clone();
            let base = base.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in (c..REPORTS).step_by(CLIENTS) {
                    let reply = support::Call::new("POST", format!("{base}/api/metering"))
                        .header("x-auth-token", &token)
                        .json(&bodies[i])
                        .send()
                        .expect(200);
                    ids.push((
                        i,
                        reply.json()["id"].as_str().expect("event id").to_string(),
                    ));
                }
                ids
            })
        })
        .collect();
    let mut ids = vec![String::new(); REPORTS];
    for client in clients {
        for (i, id) in client.join().expect("client thread") {
            ids[i] = id;
        }
    }
    for i in (9..REPORTS).step_by(10) {
        assert_eq!(
            ids[i],
            ids[i - 1],
            "the copy of report {} got another event",
            i - 1
        );
    }
    let bill = app
        .get(&format!("/api/subscriptions/{}/usage", s.subscription))
        .bearer(&s.consumer.token)
        .send()
        .expect(200)
        .json();
    let expected = format!(
        "{}.{:06}",
        expected_micro / 1_000_000,
        expected_micro % 1_000_000
    );
    let expected = expected.trim_end_matches('0').trim_end_matches('.');
    assert_eq!(bill["lines"][0]["quantity"], expected, "{bill}");
    let mut listed = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/services/{}/metering-events?limit=500", s.service);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app
            .get(&path)
            .bearer(&s.provider.token)
            .send()
            .expect(200)
            .json();
        for item in page["items"].as_array().expect("items") {
            assert!(
                listed.insert(item["id"].as_str().expect("id").to_string()),
                "listed twice"
            );
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(listed.len(), REPORTS - REPORTS / 10);
    let distinct: HashSet<_> = ids.into_iter().collect();
    assert_eq!(listed, distinct);
}

#[test]
fn concurrent_reports_with_duplicates_count_exactly_once_on_sqlite() {
    let (app, store) = sqlite_platform();
    let seeded = seed(&app, &store);
    two_thousand_reports_count_exactly_once(&app, &seeded);
}

#[test]
fn concurrent_reports_with_duplicates_count_exactly_once_on_redis() {
    let redis = Redis::start();
    let scratch = Scratch::new();
    let (app, store) = redis_platform(&redis, &scratch);
    let seeded = seed(&app, &store);
    two_thousand_reports_count_exactly_once(&app, &seeded);
}

#[test]
fn planqk_shaped_reports_are_accepted_as_providers_send_them() {
    let (app, store) = sqlite_platform();
    let s = seed(&app, &store);
    // The tutorial's shape: productId, a numeric count, X-Auth-Token.
    let r = report(
        &app,
        &s.provider.token,
        &json!({"correlationId": s.correlation, "productId": API, "count": 1}),
    )
    .expect(200)
    .json();
    assert_eq!(r["count"], "1");
    assert_eq!(r["testMode"], false);
    assert_eq!(r["correlationId"], s.correlation.as_str());
    // The older docs' shape: itemId and a string count; header in lower case.
    let r = app
        .post("/qc-catalog/external-services/metering")
        .header("x-auth-token", &s.provider.token)
        .json(&json!({"itemId": API, "count": "3", "correlationId": s.correlation}))
        .send()
        .expect(200)
        .json();
    assert_eq!(r["count"], "3");
    let bill = app
        .get(&format!("/api/subscriptions/{}/usage", s.subscription))
        .bearer(&s.provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(bill["lines"][0]["quantity"], "4");
    assert_eq!(bill["lines"][0]["amount"], "0.00004");
    assert_eq!(bill["total"], "0.00004");
}

#[test]
fn every_bad_report_is_a_precise_problem_over_http() {
    let (app, store) = sqlite_platform();
    let s = seed(&app, &store);
    let c = s.correlation.as_str();
    let rows: Vec<(Value, u16)> = vec![
        (
            json!({"correlationId": c, "productId": API, "count": 0}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": -1}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": "NaN"}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": "abc"}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": true}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": [1]}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": null}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": "0.0000001"}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": "1000000000"}),
            400,
        ),
        (json!({"correlationId": c, "productId": API}), 400),
        (json!({"productId": API, "count": 1}), 400),
        (json!({"correlationId": c, "count": 1}), 400),
        (
            json!({"correlationId": c, "productId": API, "itemId": CPU, "count": 1}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "eventId": ""}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "eventId": "e".repeat(201)}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "timestamp": "yesterday"}),
            400,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "cout": 1}),
            400,
        ),
        (
            json!({"correlationId": "00000000-0000-4000-8000-000000000000", "productId": API, "count": 1}),
            404,
        ),
        (
            json!({"correlationId": c, "productId": "prod_nope", "count": 1}),
            422,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "timestamp": "2099-01-01T00:00:00Z"}),
            422,
        ),
        (
            json!({"correlationId": c, "productId": API, "count": 1, "timestamp": "2001-01-01T00:00:00Z"}),
            422,
        ),
    ];
    for (body, status) in rows {
        let r = report(&app, &s.provider.token, &body);
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{body}"
        );
    }
    // Raw bodies JSON cannot express.
    for raw in ["{\"count\": 1e400}", "{not json", ""] {
        app.post("/api/metering")
            .header("x-auth-token", &s.provider.token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .expect_problem(400);
    }
    // Credentials: none, unknown, and another provider's (404 like unknown).
    let body = json!({"correlationId": c, "productId": API, "count": 1});
    app.post("/api/metering")
        .json(&body)
        .send()
        .expect_problem(401);
    report(&app, "pat_nonsense", &body).expect_problem(401);
    let stranger = sign_up(&app, "stranger");
    let r = report(&app, &stranger.token, &body).expect_problem(404);
    let unknown = report(
        &app,
        &stranger.token,
        &json!({"correlationId": "00000000-0000-4000-8000-000000000000", "productId": API, "count": 1}),
    )
    .expect_problem(404);
    assert_eq!(
        r.json()["detail"].as_str().map(|d| d.replace(c, "X")),
        unknown.json()["detail"]
            .as_str()
            .map(|d| d.replace("00000000-0000-4000-8000-000000000000", "X"))
    );
    // The stranger can read neither the events nor the bill.
    app.get(&format!("/api/services/{}/metering-events", s.service))
        .bearer(&stranger.token)
        .send()
        .expect_problem(404);
    app.get(&format!("/api/subscriptions/{}/usage", s.subscription))
        .bearer(&stranger.token)
        .send()
        .expect_problem(404);
    // Nothing above was counted.
    let bill = app
        .get(&format!("/api/subscriptions/{}/usage", s.subscription))
        .bearer(&s.consumer.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(bill["total"], "0");
}

#[test]
fn a_batch_over_http_judges_each_report() {
    let (app, store) = sqlite_platform();
    let s = seed(&app, &store);
    let c = s.correlation.as_str();
    let r = app
        .post("/api/metering/batch")
        .bearer(&s.provider.token)
        .json(&json!({"events": [
            {"correlationId": c, "productId": API, "count": 2, "eventId": "b-1"},
            {"correlationId": c, "productId": API, "count": 2, "eventId": "b-1"},
            {"correlationId": c, "productId": "prod_nope", "count": 1},
            {"correlationId": c, "itemId": CPU, "count": "0.5"},
        ]}))
        .send()
        .expect(200)
        .json();
    let statuses: Vec<_> = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| x["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(200), json!(200), json!(422), json!(200)]);
    assert_eq!(
        r["results"][0]["event"]["id"],
        r["results"][1]["event"]["id"]
    );
    assert_eq!(r["results"][2]["error"]["status"], 422);
    let bill = app
        .get(&format!("/api/subscriptions/{}/usage", s.subscription))
        .bearer(&s.consumer.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(bill["lines"][0]["quantity"], "2");
    assert_eq!(bill["lines"][1]["quantity"], "0.5");
    assert_eq!(bill["total"], "0.00002000005");
}
