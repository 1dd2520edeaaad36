//! Plans that limit and consumers that cap, through the real gateway: a
//! plan's rate limit and quota enforced per subscription (exactly the limit
//! of a concurrent burst passes, on SQLite and on Redis), windows that roll
//! over, the 429 problem with `Retry-After` and the `RateLimit-Policy` /
//! `RateLimit` fields, calls the platform answers itself (502, 504) that do
//! not use up the quota, a spend cap answered with 402, and each call with
//! the metering events it caused, adding up to the bill.

mod host_support;
mod support;

use std::net::TcpListener;
use std::time::Duration;

use host_support::{Redis, Scratch};
use qmarket_core::Timestamp;
use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};
use support::{
    access_token, create_application, create_external_service, lifecycle, manifest, platform,
    platform_with, sign_up, start_service, subscribe, Account, Api, Call, Reply,
};

/// A provider's internally published service at `url` with one plan (the
/// product `API` at `unit_price` per call, and `limits`), and the provider's
/// own application subscribed to it.
struct Scene {
    provider: Account,
    service_id: String,
    plan: Value,
    subscription_id: String,
    token: String,
}

impl Scene {
    fn new(app: &TestApp, url: &str, unit_price: &str, limits: Value) -> Scene {
        let product = json!({"name": "API", "unitPrice": unit_price, "unit": "call"});
        Scene::with_product(app, url, product, limits)
    }

    fn with_product(app: &TestApp, url: &str, product: Value, limits: Value) -> Scene {
        let provider = sign_up(app, "limited-provider");
        let service_id = create_external_service(app, &provider, url);
        let mut body = json!({"name": "Limited", "products": [product]});
        if !limits.is_null() {
            body["limits"] = limits;
        }
        let plan = app
            .post(&format!("/api/services/{service_id}/pricing-plans"))
            .bearer(&provider.token)
            .json(&body)
            .send()
            .expect(201)
            .json();
        lifecycle(app, &provider, &service_id, "publish-internal");
        let application = create_application(app, &provider);
        let plan_id = plan["id"].as_str().unwrap();
        let subscription = subscribe(app, &provider, &application, &service_id, plan_id);
        Scene {
            token: access_token(app, &application),
            subscription_id: subscription["id"].as_str().unwrap().to_string(),
            provider,
            service_id,
            plan,
        }
    }

    fn gateway(&self, app: &TestApp) -> String {
        app.url(&format!("/gateway/{}/solve", self.service_id))
    }

    fn call(&self, app: &TestApp) -> Reply {
        Call::new("POST", self.gateway(app))
            .bearer(&self.token)
            .json(&json!({"n": 1}))
            .send()
    }

    /// The subscription's bill of the current month.
    fn bill(&self, app: &TestApp) -> Value {
        app.get(&format!(
            "/api/subscriptions/{}/usage",
            self.subscription_id
        ))
        .bearer(&self.provider.token)
        .send()
        .expect(200)
        .json()
    }

    /// Reports `count` units of `API` for the call with `correlation_id`,
    /// as the provider's service does.
    fn meter(&self, app: &TestApp, correlation_id: &str, count: u32) {
        app.post("/qc-catalog/external-services/metering")
            .header("X-Auth-Token", &self.provider.token)
            .json(&json!({
                "correlationId": correlation_id,
                "productId": self.plan["products"][0]["id"],
                "count": count,
            }))
            .send()
            .expect(200);
    }
}

/// An upstream that answers every call `{"ok": true}`.
fn upstream() -> String {
    start_service(usize::MAX, |_| json!({"ok": true}).to_string()).0
}

/// The statuses of `calls` calls sent at once, unless the window named by
/// `window` (a function of the time) changed while they ran: then `None`.
fn burst(
    app: &TestApp,
    scene: &Scene,
    calls: usize,
    window: fn(Timestamp) -> i64,
) -> Option<Vec<Reply>> {
    let before = window(Timestamp::now());
    let url = scene.gateway(app);
    let replies: Vec<Reply> = (0..calls)
        .map(|_| {
            let (url, token) = (url.clone(), scene.token.clone());
            std::thread::spawn(move || {
                Call::new("POST", url)
                    .bearer(&token)
                    .json(&json!({"n": 1}))
                    .send()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    (window(Timestamp::now()) == before).then_some(replies)
}

fn hour(t: Timestamp) -> i64 {
    t.millis() / 3_600_000
}

fn day(t: Timestamp) -> i64 {
    t.day()
}

/// Checks that exactly `limit` of a 16-call burst passed and every refusal
/// is a 429 problem saying when to retry, with the limit's fields.
fn exactly_the_limit_passes(
    app: &TestApp,
    limits: Value,
    window: fn(Timestamp) -> i64,
    policy: &str,
) {
    let url = upstream();
    // A burst that straddles a window boundary proves nothing: go again.
    let replies = (0..3)
        .find_map(|_| {
            burst(
                app,
                &Scene::new(app, &url, "0.00001", limits.clone()),
                16,
                window,
            )
        })
        .expect("three bursts in a row crossed a window boundary");
    let passed: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!((passed.len(), refused.len()), (5, 11), "{replies:?}");
    for reply in refused {
        let reply = reply.clone().expect_problem(429);
        let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!(retry >= 1, "{reply:?}");
        assert_eq!(reply.header("ratelimit-policy"), Some(policy));
        let current = reply.header("ratelimit").unwrap();
        assert!(current.contains(";r=0;t="), "{current}");
        assert!(reply.detail().contains("5 requests per"), "{}", reply.text);
    }
    let mut remaining: Vec<String> = passed
        .iter()
        .map(|r| {
            assert_eq!(r.header("ratelimit-policy"), Some(policy));
            let current = r.header("ratelimit").unwrap();
            current
                .split(";r=")
                .nth(1)
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    remaining.sort();
    assert_eq!(
        remaining,
        ["0", "1", "2", "3", "4"],
        "each admitted call knows what is left"
    );
}

fn bursts_admit_exactly_the_limit(app: &TestApp) {
    exactly_the_limit_passes(
        app,
        json!({"rateLimit": {"requests": 5, "per": "HOUR"}}),
        hour,
        "\"rate\";q=5;w=3600",
    );
    exactly_the_limit_passes(
        app,
        json!({"quota": {"requests": 5, "per": "DAY"}}),
        day,
        "\"quota\";q=5;w=86400",
    );
}

#[test]
fn of_a_concurrent_burst_exactly_the_limit_passes_on_sqlite() {
    bursts_admit_exactly_the_limit(&platform());
}

#[test]
fn of_a_concurrent_burst_exactly_the_limit_passes_on_redis() {
    let redis = Redis::start();
    let scratch = Scratch::new();
    let mut options = TestAppOptions::new(manifest());
    options.runtime_config = Some(redis.runtime_config(&scratch));
    bursts_admit_exactly_the_limit(&platform_with(options));
}

#[test]
fn a_rate_limit_admits_again_once_its_window_has_passed() {
    let app = platform();
    let scene = Scene::new(
        &app,
        &upstream(),
        "0",
        json!({"rateLimit": {"requests": 2, "per": "SECOND"}}),
    );
    // Calls until the limit refuses one (at most 2 per second pass).
    let refused = (0..20)
        .map(|_| scene.call(&app))
        .find(|r| r.status == 429)
        .expect("the third call within a second is refused");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(wait, 1);
    std::thread::sleep(Duration::from_secs(wait));
    let again = scene.call(&app).expect(200);
    assert_eq!(again.header("ratelimit-policy"), Some("\"rate\";q=2;w=1"));
}

#[test]
fn a_subscription_without_limits_gets_no_limit_fields() {
    let app = platform();
    let scene = Scene::new(&app, &upstream(), "0", Value::Null);
    let reply = scene.call(&app).expect(200);
    assert_eq!(reply.header("ratelimit-policy"), None);
    assert_eq!(reply.header("ratelimit"), None);
}

/// A URL on which nothing listens.
fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn calls_the_platform_answers_with_502_or_504_do_not_use_up_the_quota() {
    let mut options = TestAppOptions::new(manifest());
    options
        .env
        .push(("SPIN_VARIABLE_GATEWAY_TIMEOUT_MS".into(), "500".into()));
    let app = platform_with(options);
    let quota = json!({"quota": {"requests": 2, "per": "DAY"}});
    // The day must not change in between: go again if it did.
    for _ in 0..2 {
        let today = Timestamp::now().day();
        let scene = Scene::new(&app, &closed_url(), "0", quota.clone());
        for _ in 0..3 {
            let reply = scene.call(&app).expect_problem(502);
            assert_eq!(
                reply.header("ratelimit-policy"),
                Some("\"quota\";q=2;w=86400")
            );
        }
        // An upstream that takes the call and never answers: 504.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent_url = format!("http://{}", silent.local_addr().unwrap());
        app.patch(&format!("/api/services/{}", scene.service_id))
            .bearer(&scene.provider.token)
            .json(&json!({"url": silent_url}))
            .send()
            .expect(200);
        for _ in 0..3 {
            scene.call(&app).expect_problem(504);
        }
        app.patch(&format!("/api/services/{}", scene.service_id))
            .bearer(&scene.provider.token)
            .json(&json!({"url": upstream()}))
            .send()
            .expect(200);
        let statuses: Vec<u16> = (0..3).map(|_| scene.call(&app).status).collect();
        drop(silent);
        if Timestamp::now().day() != today {
            continue;
        }
        assert_eq!(
            statuses,
            [200, 200, 429],
            "the whole quota is left after 6 failures"
        );
        return;
    }
    panic!("the day changed during both attempts");
}

#[test]
fn a_spend_cap_stops_calls_with_402_until_it_is_raised() {
    let app = platform();
    let scene = Scene::new(&app, &upstream(), "1", Value::Null);
    let cap_path = format!("/api/subscriptions/{}/spend-cap", scene.subscription_id);
    let set_cap = |cap: &str| {
        app.put(&cap_path)
            .bearer(&scene.provider.token)
            .json(&json!({ "monthlyCap": cap }))
            .send()
            .expect(200)
            .json()
    };
    let set = set_cap("2.5");
    assert_eq!(set["monthlyCap"], "2.5");
    assert_eq!(set["reached"], false);
    // Three calls of 1 EUR each: the third reaches the cap.
    for _ in 0..3 {
        let reply = scene.call(&app).expect(200);
        scene.meter(&app, reply.header("x-correlation-id").unwrap(), 1);
    }
    let refused = scene.call(&app).expect_problem(402);
    assert!(refused.detail().contains("2.5 EUR"), "{}", refused.text);
    let shown = app
        .get(&cap_path)
        .bearer(&scene.provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(
        (shown["spent"].as_str(), shown["reached"].as_bool()),
        (Some("3"), Some(true))
    );
    // A higher cap lets calls through again.
    set_cap("10");
    scene.call(&app).expect(200);
    // A cap below what was spent stops calls at once; removing it ends that.
    set_cap("1");
    scene.call(&app).expect_problem(402);
    app.delete(&cap_path)
        .bearer(&scene.provider.token)
        .send()
        .expect(204);
    scene.call(&app).expect(200);
    // Nobody else sees or sets it.
    let stranger = sign_up(&app, "stranger");
    app.get(&cap_path)
        .bearer(&stranger.token)
        .send()
        .expect_problem(404);
    app.put(&cap_path)
        .bearer(&stranger.token)
        .json(&json!({"monthlyCap": "1"}))
        .send()
        .expect_problem(404);
}

#[test]
fn each_call_shows_the_events_it_caused_and_the_calls_add_up_to_the_bill() {
    let app = platform();
    let scene = Scene::new(&app, &upstream(), "0.25", Value::Null);
    let mut correlations = Vec::new();
    for count in [1, 2, 3] {
        let reply = scene.call(&app).expect(200);
        let id = reply.header("x-correlation-id").unwrap().to_string();
        scene.meter(&app, &id, count);
        correlations.push(id);
    }
    // A call that was never metered.
    let unmetered = scene.call(&app).expect(200);
    let calls_path = format!("/api/subscriptions/{}/calls", scene.subscription_id);
    // The gateway records a call right after its answer: the last one may
    // take a moment to appear.
    let listed = (0..50)
        .map(|attempt| {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
            app.get(&calls_path)
                .bearer(&scene.provider.token)
                .send()
                .expect(200)
                .json()
        })
        .find(|listed| listed["items"].as_array().is_some_and(|i| i.len() == 4))
        .expect("the four calls are listed within 5 s");
    let items = listed["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|c| c["correlationId"].as_str().unwrap())
        .collect();
    let mut newest_first: Vec<&str> = correlations.iter().map(String::as_str).collect();
    newest_first.push(unmetered.header("x-correlation-id").unwrap());
    newest_first.reverse();
    assert_eq!(ids, newest_first);
    let amounts: Vec<&str> = items
        .iter()
        .map(|c| c["amount"].as_str().unwrap())
        .collect();
    // 0, 3 × 0.25, 2 × 0.25, 1 × 0.25.
    assert_eq!(amounts, ["0", "0.75", "0.5", "0.25"]);
    for call in items {
        assert_eq!(call["status"], 200);
        assert_eq!(call["method"], "POST");
        assert_eq!(call["path"], "/solve");
        assert_eq!(call["requestBytes"], 7);
        assert_eq!(call["responseBytes"], 11);
        assert_eq!(call["complete"], true);
    }
    let bill = scene.bill(&app);
    assert_eq!(
        bill["total"], "1.5",
        "the calls' amounts add up to the bill: {bill}"
    );
    let one = app
        .get(&format!("{calls_path}/{}", correlations[1]))
        .bearer(&scene.provider.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(one["events"][0]["count"], "2");
    assert_eq!(one["events"][0]["amount"], "0.5");
    // Somebody else's subscription, or not one of its calls: 404.
    let stranger = sign_up(&app, "stranger");
    app.get(&calls_path)
        .bearer(&stranger.token)
        .send()
        .expect_problem(404);
    app.get(&format!("{calls_path}/not-a-call"))
        .bearer(&scene.provider.token)
        .send()
        .expect_problem(404);
}

#[test]
fn under_graduated_tiers_with_a_free_allowance_each_call_costs_its_margin_and_they_add_up_to_the_bill(
) {
    let app = platform();
    // 1 call free a month, then 1 EUR each up to 2 billable calls, 0.5 EUR beyond.
    let product = json!({
        "name": "API", "unit": "call", "pricingModel": "GRADUATED", "freeAllowance": "1",
        "tiers": [{"upTo": "2", "unitPrice": "1"}, {"upTo": null, "unitPrice": "0.5"}],
    });
    let scene = Scene::with_product(&app, &upstream(), product, Value::Null);
    let mut correlations = Vec::new();
    for count in [1, 2, 3] {
        let reply = scene.call(&app).expect(200);
        let id = reply.header("x-correlation-id").unwrap().to_string();
        scene.meter(&app, &id, count);
        correlations.push(id);
    }
    // Month to date 1, 3, 6 calls; billable beyond the free one 0, 2, 5;
    // P(0) = 0, P(2) = 2 × 1 = 2, P(5) = 2 × 1 + 3 × 0.5 = 3.5.
    // Margins: 0, 2 − 0 = 2, 3.5 − 2 = 1.5.
    let calls_path = format!("/api/subscriptions/{}/calls", scene.subscription_id);
    let amounts: Vec<String> = correlations
        .iter()
        .map(|id| {
            let call = app
                .get(&format!("{calls_path}/{id}"))
                .bearer(&scene.provider.token)
                .send()
                .expect(200)
                .json();
            call["amount"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(amounts, ["0", "2", "1.5"]);
    let bill = scene.bill(&app);
    assert_eq!(bill["total"], "3.5", "{bill}");
}

#[test]
fn limits_are_checked_shown_with_the_plan_and_frozen_once_subscribed() {
    let app = platform();
    let provider = sign_up(&app, "limits-provider");
    let service_id = create_external_service(&app, &provider, &upstream());
    let plans = format!("/api/services/{service_id}/pricing-plans");
    let product = json!([{"name": "API", "unitPrice": "0", "unit": "call"}]);
    let refused = app
        .post(&plans)
        .bearer(&provider.token)
        .json(&json!({"name": "x", "products": product, "limits": {"rateLimit": {"requests": 0, "per": "SECOND"}}}))
        .send()
        .expect_problem(400);
    assert_eq!(
        refused.json()["errors"][0]["field"],
        "limits.rateLimit.requests"
    );
    app.post(&plans)
        .bearer(&provider.token)
        .json(&json!({"name": "x", "products": product, "limits": {"quota": {"requests": 1, "per": "WEEK"}}}))
        .send()
        .expect_problem(400);
    let limits = json!({"rateLimit": {"requests": 10, "per": "SECOND"}, "quota": {"requests": 1000, "per": "MONTH"}});
    let plan = app
        .post(&plans)
        .bearer(&provider.token)
        .json(&json!({"name": "Limited", "products": product, "limits": limits}))
        .send()
        .expect(201)
        .json();
    assert_eq!(plan["limits"], limits);
    let plan_path = format!("{plans}/{}", plan["id"].as_str().unwrap());
    let changed = json!({"quota": {"requests": 5, "per": "DAY"}});
    app.patch(&plan_path)
        .bearer(&provider.token)
        .json(&json!({"limits": changed}))
        .send()
        .expect(200);
    lifecycle(&app, &provider, &service_id, "publish-internal");
    let application = create_application(&app, &provider);
    let subscription = subscribe(
        &app,
        &provider,
        &application,
        &service_id,
        plan["id"].as_str().unwrap(),
    );
    assert_eq!(subscription["limits"], changed);
    app.patch(&plan_path)
        .bearer(&provider.token)
        .json(&json!({"limits": null}))
        .send()
        .expect_problem(409);
}
