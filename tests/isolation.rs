//! Tenant isolation and the secret-leak scan.
//!
//! Two tenants each build a full scene — tokens, services in every
//! lifecycle state with plans, a managed service with its build and an
//! execution, an application with a subscription, an OAuth
//! token, a gateway call and a metering event. Then tenant B tries every
//! operation of the platform's own OpenAPI document on tenant A's objects:
//! each attempt must be refused as the contract says (404 for what is not
//! B's, 403 for a gateway call without a subscription), A's objects must be
//! unchanged afterwards, and nothing of A's may show in B's answers.
//!
//! The last tests check the scanner of `support::secrets` itself, which
//! every `send` of every end-to-end test runs.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use base64::Engine as _;
use qmarket_host::TestApp;
use serde_json::{json, Value};
use support::managed::poll;
use support::secrets::{registry, Exemption, SecretKind, SecretRegistry, MIN_SECRET_LEN};
use support::*;

// ---------------------------------------------------------------- upstream

/// A provider's service that answers every request with `200 text/plain`
/// and the request it received — request line, headers (the gateway's
/// upstream Basic credentials among them) and body.
fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
    let addr = listener.local_addr().expect("upstream address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone the stream");
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut echo = head.into_bytes();
                echo.extend_from_slice(b"\r\n");
                echo.extend_from_slice(&body);
                let _ = write!(
                    writer,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    echo.len()
                );
                let _ = writer.write_all(&echo);
            });
        }
    });
    addr
}

// ---------------------------------------------------------------- scene

/// A service with its plan.
#[derive(Debug, Clone)]
struct Offer {
    service: String,
    plan: Plan,
}

/// A published managed (WASM) service, its build and an execution of it.
#[derive(Debug, Clone)]
struct ManagedOffer {
    offer: Offer,
    /// `bld_…`
    build: String,
    /// `exe_…`, run for the tenant's application.
    execution: String,
}

/// Everything one tenant owns, and the credentials to use it.
#[derive(Debug, Clone)]
struct Tenant {
    account: Account,
    email: String,
    /// The `pat_…` id of the sign-up token.
    first_pat: String,
    /// A second token: its id and value.
    second_pat: (String, String),
    /// `PUBLISHED`, BASIC-secured, subscribed by the tenant's application.
    published: Offer,
    /// `ACCESSIBLE` (test mode), subscribed by the tenant's application.
    internal: Offer,
    /// `CREATED`.
    draft: Offer,
    /// `PUBLISHED`, subscribed by the tenant's application.
    managed: ManagedOffer,
    application: Application,
    subscription: String,
    test_subscription: String,
    oauth_token: String,
    correlation_id: String,
    event: String,
    /// The client-chosen `eventId` of the metering event.
    event_key: String,
}

impl Tenant {
    /// Every id and identifying value of the tenant, for "nothing of A's
    /// shows" checks.
    fn marks(&self) -> Vec<String> {
        let mut marks = vec![
            self.account.id.clone(),
            self.email.clone(),
            self.first_pat.clone(),
            self.second_pat.0.clone(),
            self.application.id.clone(),
            self.application.consumer_key.clone(),
            self.subscription.clone(),
            self.test_subscription.clone(),
            self.correlation_id.clone(),
            self.event.clone(),
            self.event_key.clone(),
        ];
        marks.push(self.managed.build.clone());
        marks.push(self.managed.execution.clone());
        for offer in [
            &self.published,
            &self.internal,
            &self.draft,
            &self.managed.offer,
        ] {
            marks.push(offer.service.clone());
            marks.push(offer.plan.id.clone());
            marks.push(offer.plan.product_id.clone());
        }
        marks
    }
}

fn create_offer(app: &TestApp, owner: &Account, name: &str, upstream: SocketAddr) -> Offer {
    let service = app
        .post("/api/services")
        .bearer(&owner.token)
        .json(&json!({
            "name": name,
            "type": "EXTERNAL",
            "quantumBackend": "SIMULATOR",
            "url": format!("http://{upstream}/{name}"),
            "securityConfiguration": {
                "type": "BASIC",
                "username": format!("{name}-user"),
                "password": format!("{name}-upstream-password"),
            },
        }))
        .send()
        .expect(201)
        .json()["id"]
        .as_str()
        .expect("service id")
        .to_string();
    let plan = create_plan(app, owner, &service, "0.01");
    Offer { service, plan }
}

fn tenant(app: &TestApp, name: &str, upstream: SocketAddr) -> Tenant {
    let account = sign_up(app, name);
    let me = app.get("/api/me").bearer(&account.token).send().expect(200);
    let email = me.json()["email"].as_str().expect("email").to_string();
    let tokens = app
        .get("/api/access-tokens")
        .bearer(&account.token)
        .send()
        .expect(200)
        .json();
    let first_pat = tokens["items"][0]["id"]
        .as_str()
        .expect("the sign-up token")
        .to_string();
    let second = app
        .post("/api/access-tokens")
        .bearer(&account.token)
        .json(&json!({"name": "ci", "scopes": ["API"]}))
        .send()
        .expect(201)
        .json();
    let second_pat = (
        second["id"].as_str().expect("id").to_string(),
        second["value"].as_str().expect("value").to_string(),
    );

    let published = create_offer(app, &account, &format!("{name}-published"), upstream);
    lifecycle(app, &account, &published.service, "publish");
    let internal = create_offer(app, &account, &format!("{name}-internal"), upstream);
    lifecycle(app, &account, &internal.service, "publish-internal");
    let draft = create_offer(app, &account, &format!("{name}-draft"), upstream);
    let managed_service = managed::create_managed_service(app, &account, "WASM", Value::Null);
    let build = managed::upload(
        app,
        &account,
        &managed_service,
        qmarket_zip_fixtures::wasm_project(&managed::wasm_command()),
    )
    .expect(202)
    .json()["id"]
        .as_str()
        .expect("build id")
        .to_string();
    let built = managed::finished_build(app, &account, &managed_service, Duration::from_secs(60));
    assert_eq!(built["status"], "SUCCESS", "{built}");
    let managed_plan = create_plan(app, &account, &managed_service, "0.02");
    lifecycle(app, &account, &managed_service, "publish");

    let application = create_application(app, &account);
    let id_of = |sub: Value| sub["id"].as_str().expect("subscription id").to_string();
    let subscription = id_of(subscribe(
        app,
        &account,
        &application,
        &published.service,
        &published.plan.id,
    ));
    let test_subscription = id_of(subscribe(
        app,
        &account,
        &application,
        &internal.service,
        &internal.plan.id,
    ));
    subscribe(
        app,
        &account,
        &application,
        &managed_service,
        &managed_plan.id,
    );
    let oauth_token = access_token(app, &application);
    let execution = app
        .post(&format!("/gateway/{managed_service}/"))
        .bearer(&oauth_token)
        .json(&json!({"data": {"numbers": [1]}, "params": {}}))
        .send()
        .expect(201)
        .json()["id"]
        .as_str()
        .expect("execution id")
        .to_string();
    // Ended before anyone looks, so that nothing changes between looks.
    poll(Duration::from_secs(60), || {
        let status = app
            .get(&format!("/gateway/{managed_service}/{execution}"))
            .bearer(&oauth_token)
            .send()
            .expect(200)
            .json()["status"]
            .clone();
        (status == "SUCCEEDED").then_some(())
    })
    .expect("the execution succeeds");
    let managed = ManagedOffer {
        offer: Offer {
            service: managed_service,
            plan: managed_plan,
        },
        build,
        execution,
    };

    let call = gateway_call(app, &published.service, &oauth_token);
    let correlation_id = call
        .header("x-correlation-id")
        .expect("a correlation id")
        .to_string();
    let event_key = format!("{name}-event-1");
    let event = app
        .post("/api/metering")
        .bearer(&account.token)
        .json(&json!({
            "correlationId": correlation_id,
            "productId": published.plan.product_id,
            "count": 3,
            "eventId": event_key,
        }))
        .send()
        .expect(200)
        .json()["id"]
        .as_str()
        .expect("event id")
        .to_string();

    Tenant {
        account,
        email,
        first_pat,
        second_pat,
        published,
        internal,
        draft,
        managed,
        application,
        subscription,
        test_subscription,
        oauth_token,
        correlation_id,
        event,
        event_key,
    }
}

/// A gateway call that reaches the echo upstream; the upstream's answer
/// repeats the Basic credentials the gateway added, hence the exemption.
fn gateway_call(app: &TestApp, service: &str, oauth_token: &str) -> Reply {
    let reply = app
        .get(&format!("/gateway/{service}/hello"))
        .bearer(oauth_token)
        .relaying_upstream_echo()
        .send()
        .expect(200);
    assert!(
        reply
            .text
            .to_ascii_lowercase()
            .contains("authorization: basic "),
        "the gateway adds the upstream's credentials: {}",
        reply.text
    );
    reply
}

/// What tenant `a` sees of its own objects, by the GETs of the API.
fn snapshot(app: &TestApp, a: &Tenant) -> BTreeMap<String, (u16, Value)> {
    let mut paths = vec![
        "/api/me".to_string(),
        "/api/access-tokens".to_string(),
        "/api/applications".to_string(),
        format!("/api/applications/{}", a.application.id),
        format!("/api/applications/{}/subscriptions", a.application.id),
        "/api/services".to_string(),
    ];
    for sub in [&a.subscription, &a.test_subscription] {
        paths.push(format!("/api/subscriptions/{sub}"));
        paths.push(format!("/api/subscriptions/{sub}/usage"));
        paths.push(format!("/api/subscriptions/{sub}/invoices"));
    }
    for offer in [&a.published, &a.internal, &a.draft] {
        let service = &offer.service;
        paths.push(format!("/api/services/{service}"));
        paths.push(format!("/api/services/{service}/api-spec"));
        paths.push(format!("/api/services/{service}/pricing-plans"));
        paths.push(format!(
            "/api/services/{service}/pricing-plans/{}",
            offer.plan.id
        ));
        paths.push(format!("/api/services/{service}/metering-events"));
        paths.push(format!("/api/services/{service}/revenue"));
    }
    let managed = &a.managed.offer.service;
    let execution = &a.managed.execution;
    paths.extend([
        format!("/api/services/{managed}"),
        format!("/api/services/{managed}/build"),
        format!("/api/services/{managed}/build/log"),
        format!("/gateway/{managed}/"),
        format!("/gateway/{managed}/{execution}"),
        format!("/gateway/{managed}/{execution}/log"),
    ]);
    paths
        .into_iter()
        .map(|path| {
            // The execution API answers the application, the rest the account.
            let token = if path.starts_with("/gateway/") {
                &a.oauth_token
            } else {
                &a.account.token
            };
            let reply = app.get(&path).bearer(token).send();
            (path, (reply.status, reply.json()))
        })
        .collect()
}

// ---------------------------------------------------------------- the sweep

/// How B authenticates a probe.
#[derive(Debug, Clone, Copy)]
enum As {
    /// B's personal access token.
    Pat,
    /// B's application's OAuth token.
    OAuth,
}

/// What a probe must get.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// A problem+json answer with this status.
    Problem(u16),
    /// A metering batch answered 200 whose single item failed with this status.
    BatchItem(u16),
}

/// One attempt of tenant B on tenant A's objects.
#[derive(Debug, Clone)]
struct Probe {
    operation: &'static str,
    method: &'static str,
    path: String,
    auth: As,
    body: Option<Value>,
    expect: Refusal,
}

fn probe(operation: &'static str, method: &'static str, path: String, expect: u16) -> Probe {
    Probe {
        operation,
        method,
        path,
        auth: As::Pat,
        body: None,
        expect: Refusal::Problem(expect),
    }
}

impl Probe {
    fn with(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn oauth(mut self) -> Self {
        self.auth = As::OAuth;
        self
    }

    fn batch(mut self, status: u16) -> Self {
        self.expect = Refusal::BatchItem(status);
        self
    }
}

/// Operations anyone may call, or that touch nothing owned: they take no id
/// of an account's object, so there is nothing of A's for B to reach.
const PUBLIC: [&str; 7] = [
    "getHealth",
    "getOpenApiDocument",
    "getConsole",
    "signUp",
    "issueToken",
    "listQuantumBackends",
    "browseMarketplace",
];

/// Operations on the caller's own data that name no object by id: B calls
/// them with its own token (creations with A's ids slipped into the body)
/// and must see and get only its own objects.
const OWN_SCOPE: [&str; 7] = [
    "getMe",
    "listAccessTokens",
    "createAccessToken",
    "listApplications",
    "createApplication",
    "listServices",
    "createService",
];

/// Every attempt of `b` on `a`'s objects.
fn probes(a: &Tenant, b: &Tenant) -> Vec<Probe> {
    let mut all = vec![
        // The console's files are the same for everyone: a name of A's
        // object is no file of it.
        probe(
            "getConsoleAsset",
            "GET",
            format!("/assets/{}", a.published.service),
            404,
        ),
        probe(
            "revokeAccessToken",
            "DELETE",
            format!("/api/access-tokens/{}", a.first_pat),
            404,
        ),
        probe(
            "revokeAccessToken",
            "DELETE",
            format!("/api/access-tokens/{}", a.second_pat.0),
            404,
        ),
        probe(
            "getApplication",
            "GET",
            format!("/api/applications/{}", a.application.id),
            404,
        ),
        probe(
            "deleteApplication",
            "DELETE",
            format!("/api/applications/{}", a.application.id),
            404,
        ),
        probe(
            "listSubscriptions",
            "GET",
            format!("/api/applications/{}/subscriptions", a.application.id),
            404,
        ),
        // A's application, B's token, a service anyone may subscribe to.
        probe(
            "subscribe",
            "POST",
            format!("/api/applications/{}/subscriptions", a.application.id),
            404,
        )
        .with(json!({"serviceId": b.published.service, "pricingPlanId": b.published.plan.id})),
        // B's application to A's unpublished and internally published services.
        probe(
            "subscribe",
            "POST",
            format!("/api/applications/{}/subscriptions", b.application.id),
            404,
        )
        .with(json!({"serviceId": a.draft.service, "pricingPlanId": a.draft.plan.id})),
        probe(
            "subscribe",
            "POST",
            format!("/api/applications/{}/subscriptions", b.application.id),
            404,
        )
        .with(json!({"serviceId": a.internal.service, "pricingPlanId": a.internal.plan.id})),
    ];
    for sub in [&a.subscription, &a.test_subscription] {
        all.push(probe(
            "getSubscription",
            "GET",
            format!("/api/subscriptions/{sub}"),
            404,
        ));
        all.push(probe(
            "getUsage",
            "GET",
            format!("/api/subscriptions/{sub}/usage"),
            404,
        ));
        let month = &qmarket_core::Timestamp::now().to_rfc3339()[..7];
        all.extend([
            probe(
                "listInvoices",
                "GET",
                format!("/api/subscriptions/{sub}/invoices"),
                404,
            ),
            probe(
                "getInvoice",
                "GET",
                format!("/api/subscriptions/{sub}/invoices/{month}"),
                404,
            ),
            probe(
                "exportInvoiceEvents",
                "GET",
                format!("/api/subscriptions/{sub}/invoices/{month}/events.csv"),
                404,
            ),
            probe(
                "listCalls",
                "GET",
                format!("/api/subscriptions/{sub}/calls"),
                404,
            ),
            probe(
                "getCall",
                "GET",
                format!("/api/subscriptions/{sub}/calls/a-call"),
                404,
            ),
            probe(
                "getSpendCap",
                "GET",
                format!("/api/subscriptions/{sub}/spend-cap"),
                404,
            ),
            probe(
                "setSpendCap",
                "PUT",
                format!("/api/subscriptions/{sub}/spend-cap"),
                404,
            )
            .with(json!({"monthlyCap": "0"})),
            probe(
                "removeSpendCap",
                "DELETE",
                format!("/api/subscriptions/{sub}/spend-cap"),
                404,
            ),
        ]);
        all.push(probe(
            "unsubscribe",
            "DELETE",
            format!("/api/subscriptions/{sub}"),
            404,
        ));
    }

    // Services: every provider operation on each of A's services. A
    // published service's API specification and plans are public (the
    // marketplace shows them), so those reads are only tried on the others.
    let spec = json!({"openapi": "3.0.3", "info": {"title": "taken", "version": "1"}, "paths": {}});
    let new_plan = json!({"name": "Taken", "type": "FREE", "products": []});
    for (offer, published) in [
        (&a.published, true),
        (&a.internal, false),
        (&a.draft, false),
    ] {
        let s = format!("/api/services/{}", offer.service);
        let plan = format!("{s}/pricing-plans/{}", offer.plan.id);
        all.extend([
            probe("getService", "GET", s.clone(), 404),
            probe("updateService", "PATCH", s.clone(), 404).with(json!({"name": "taken"})),
            probe("deleteService", "DELETE", s.clone(), 404),
            probe(
                "replaceApiSpecification",
                "PUT",
                format!("{s}/api-spec"),
                404,
            )
            .with(spec.clone()),
            probe(
                "publishServiceInternally",
                "POST",
                format!("{s}/publish-internal"),
                404,
            ),
            probe("publishService", "POST", format!("{s}/publish"), 404),
            probe("unpublishService", "POST", format!("{s}/unpublish"), 404),
            probe(
                "createPricingPlan",
                "POST",
                format!("{s}/pricing-plans"),
                404,
            )
            .with(new_plan.clone()),
            probe("updatePricingPlan", "PATCH", plan.clone(), 404).with(json!({"name": "taken"})),
            probe("deletePricingPlan", "DELETE", plan.clone(), 404),
            probe(
                "listMeteringEvents",
                "GET",
                format!("{s}/metering-events"),
                404,
            ),
            probe("getRevenue", "GET", format!("{s}/revenue"), 404),
        ]);
        if !published {
            all.extend([
                probe("getApiSpecification", "GET", format!("{s}/api-spec"), 404),
                probe("listPricingPlans", "GET", format!("{s}/pricing-plans"), 404),
                probe("getPricingPlan", "GET", plan.clone(), 404),
            ]);
        }
        // A's plan under B's own service: the plan is not B's service's.
        let under_b = format!(
            "/api/services/{}/pricing-plans/{}",
            b.published.service, offer.plan.id
        );
        all.extend([
            probe("getPricingPlan", "GET", under_b.clone(), 404),
            probe("updatePricingPlan", "PATCH", under_b.clone(), 404)
                .with(json!({"name": "taken"})),
            probe("deletePricingPlan", "DELETE", under_b, 404),
        ]);
    }

    // A's managed service: its build and source are the provider's only;
    // the workers' operations take a worker credential, which no tenant's
    // token is.
    let m = &a.managed;
    let s = format!("/api/services/{}", m.offer.service);
    let worker = |operation, method, path: String| probe(operation, method, path, 401);
    all.extend([
        probe("getBuild", "GET", format!("{s}/build"), 404),
        probe("getBuildLog", "GET", format!("{s}/build/log"), 404),
        probe("uploadSource", "PUT", format!("{s}/source"), 404),
        worker("claimWork", "POST", "/api/workers/claim".into())
            .with(json!({"worker": "b", "runtimes": ["WASM"], "hint": 0})),
        worker(
            "getArchiveChunk",
            "GET",
            format!("/api/workers/builds/{}/archive/0", m.build),
        ),
        worker(
            "reportBuildAttempt",
            "POST",
            format!("/api/workers/builds/{}/attempts/1/beat", m.build),
        ),
        worker(
            "uploadExecutionFile",
            "PUT",
            format!(
                "/api/workers/executions/{}/attempts/1/files/out.txt",
                m.execution
            ),
        ),
        worker(
            "reportExecutionAttempt",
            "POST",
            format!("/api/workers/executions/{}/attempts/1/beat", m.execution),
        ),
        worker(
            "uploadExecutionResult",
            "PUT",
            format!("/api/workers/executions/{}/attempts/1/result", m.execution),
        ),
    ]);
    // The execution API with B's application token: A's service (B is not
    // subscribed: 403), and A's execution under B's own service (404).
    let a_base = format!("/gateway/{}", m.offer.service);
    let b_base = format!("/gateway/{}", b.managed.offer.service);
    all.extend([
        probe("listExecutions", "GET", format!("{a_base}/"), 403).oauth(),
        probe("startExecution", "POST", format!("{a_base}/"), 403)
            .with(json!({"data": {}, "params": {}}))
            .oauth(),
    ]);
    for (base, status) in [(&a_base, 403), (&b_base, 404)] {
        let e = format!("{base}/{}", m.execution);
        all.extend([
            probe("cancelExecution", "PUT", format!("{e}/cancel"), status).oauth(),
            probe(
                "getExecutionInterimResults",
                "GET",
                format!("{e}/interim-results"),
                status,
            )
            .oauth(),
            probe("getExecutionLog", "GET", format!("{e}/log"), status).oauth(),
            probe("getExecutionResult", "GET", format!("{e}/result"), status).oauth(),
            probe(
                "getExecutionResultFile",
                "GET",
                format!("{e}/result/out.txt"),
                status,
            )
            .oauth(),
        ]);
    }

    // Metering with A's correlation id and B's token.
    let report = json!({
        "correlationId": a.correlation_id,
        "productId": a.published.plan.product_id,
        "count": 1,
    });
    all.extend([
        probe("reportUsage", "POST", "/api/metering".into(), 404).with(report.clone()),
        probe(
            "reportUsagePlanqk",
            "POST",
            "/qc-catalog/external-services/metering".into(),
            404,
        )
        .with(report.clone()),
        probe("reportUsageBatch", "POST", "/api/metering/batch".into(), 0)
            .with(json!({"events": [report]}))
            .batch(404),
    ]);

    // The gateway with B's application token: A's published service (B's
    // application has no subscription to it), A's internal and draft ones
    // (which do not exist for B).
    let gateway = [
        ("gatewayGet", "GET"),
        ("gatewayPut", "PUT"),
        ("gatewayPost", "POST"),
        ("gatewayDelete", "DELETE"),
        ("gatewayPatch", "PATCH"),
        ("gatewayHead", "HEAD"),
        ("gatewayOptions", "OPTIONS"),
    ];
    for (operation, method) in gateway {
        for (offer, status) in [(&a.published, 403), (&a.internal, 404), (&a.draft, 404)] {
            all.push(
                probe(
                    operation,
                    method,
                    format!("/gateway/{}/hello", offer.service),
                    status,
                )
                .oauth(),
            );
        }
    }
    all
}

/// Sends `probe` as `b`; panics unless it is refused as expected.
fn attempt(app: &TestApp, b: &Tenant, probe: &Probe) -> Reply {
    let token = match probe.auth {
        As::Pat => &b.account.token,
        As::OAuth => &b.oauth_token,
    };
    let mut call = Call::new(probe.method, app.url(&probe.path)).bearer(token);
    if let Some(body) = &probe.body {
        call = call.json(body);
    }
    let reply = call.send();
    let what = format!("{} {} {}", probe.operation, probe.method, probe.path);
    match probe.expect {
        Refusal::Problem(status) => {
            assert_eq!(reply.status, status, "{what}: {}", reply.text);
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json"),
                "{what}"
            );
            if probe.method != "HEAD" {
                assert_eq!(reply.json()["status"], status, "{what}: {}", reply.text);
            }
        }
        Refusal::BatchItem(status) => {
            assert_eq!(reply.status, 200, "{what}: {}", reply.text);
            let item = &reply.json()["results"][0];
            assert_eq!(item["status"], status, "{what}: {}", reply.text);
            assert_eq!(item["error"]["status"], status, "{what}: {}", reply.text);
            assert!(item.get("event").is_none(), "{what}: {}", reply.text);
        }
    }
    reply
}

/// The text of `path` and `body` of a request: what B named itself.
fn named_by(path: &str, body: Option<&Value>) -> String {
    format!("{path} {}", body.map(Value::to_string).unwrap_or_default())
}

/// Panics when `text` contains one of `marks` that `named` does not.
#[track_caller]
fn assert_shows_nothing_of(marks: &[String], text: &str, named: &str, what: &str) {
    for mark in marks {
        assert!(
            !text.contains(mark.as_str()) || named.contains(mark.as_str()),
            "{what} shows {mark}, which belongs to the other tenant: {text}"
        );
    }
}

/// Creates `body` at `path` as `b`, first with `foreign` (the other
/// tenant's ids) slipped into it: the platform must refuse the unknown
/// fields (400) or ignore them. Returns the plain creation, which shows
/// none of `marks`.
fn create_as(
    app: &TestApp,
    b: &Tenant,
    marks: &[String],
    path: &str,
    body: Value,
    foreign: Value,
) -> Value {
    let mut slipped = body.clone();
    for (field, value) in foreign.as_object().expect("fields") {
        slipped[field] = value.clone();
    }
    let reply = app
        .post(path)
        .bearer(&b.account.token)
        .json(&slipped)
        .send();
    match reply.status {
        400 => drop(reply.expect_problem(400)),
        201 => assert_shows_nothing_of(marks, &reply.text, "", path),
        other => panic!("{path} with foreign ids answered {other}: {}", reply.text),
    }
    let reply = app
        .post(path)
        .bearer(&b.account.token)
        .json(&body)
        .send()
        .expect(201);
    assert_shows_nothing_of(marks, &reply.text, "", path);
    reply.json()
}

/// `(method, path, operationId)` of every operation of the served document.
fn operations(app: &TestApp) -> Vec<(String, String, String)> {
    let doc = app.get("/api/openapi.json").send().expect(200).json();
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                found.push((method.to_ascii_uppercase(), path.clone(), id.to_string()));
            }
        }
    }
    found
}

/// The operations that name no object: B sees only its own objects, its
/// creations are its own whatever A's ids it slips in, and its metering
/// event keys are its own.
fn own_scope_answers_only_for_b(app: &TestApp, a: &Tenant, b: &Tenant, marks: &[String]) {
    // Own-scope operations: B sees only its own, and cannot create into A's.
    let own = |reply: Reply, what: &str| {
        assert_shows_nothing_of(marks, &reply.text, "", what);
        reply.json()
    };
    let me = own(
        app.get("/api/me")
            .bearer(&b.account.token)
            .send()
            .expect(200),
        "getMe",
    );
    assert_eq!(me["id"], b.account.id.as_str());
    own(
        app.get("/api/access-tokens")
            .bearer(&b.account.token)
            .send()
            .expect(200),
        "listAccessTokens",
    );
    own(
        app.get("/api/applications")
            .bearer(&b.account.token)
            .send()
            .expect(200),
        "listApplications",
    );
    own(
        app.get("/api/services")
            .bearer(&b.account.token)
            .send()
            .expect(200),
        "listServices",
    );
    let token = create_as(
        app,
        b,
        marks,
        "/api/access-tokens",
        json!({"name": "mine", "scopes": ["API"]}),
        json!({"id": a.second_pat.0, "accountId": a.account.id}),
    );
    let token_value = token["value"].as_str().expect("value").to_string();
    let whose = app.get("/api/me").bearer(&token_value).send().expect(200);
    assert_eq!(whose.json()["id"], b.account.id.as_str());
    let application = create_as(
        app,
        b,
        marks,
        "/api/applications",
        json!({"name": "mine"}),
        json!({"id": a.application.id, "accountId": a.account.id}),
    );
    app.get(&format!(
        "/api/applications/{}",
        application["id"].as_str().expect("id")
    ))
    .bearer(&b.account.token)
    .send()
    .expect(200);
    let service = create_as(
        app,
        b,
        marks,
        "/api/services",
        json!({"name": "mine", "type": "EXTERNAL", "quantumBackend": "NONE", "url": "http://127.0.0.1:9/"}),
        json!({"id": a.draft.service, "ownerId": a.account.id}),
    );
    assert_eq!(service["ownerId"], b.account.id.as_str());
    // Ownership does not move with a patch either.
    let takeover = json!({"ownerId": a.account.id});
    let patched = app
        .patch(&format!("/api/services/{}", b.draft.service))
        .bearer(&b.account.token)
        .json(&takeover)
        .send();
    assert!(
        [200, 400, 422].contains(&patched.status),
        "{}",
        patched.text
    );
    assert_shows_nothing_of(marks, &patched.text, &takeover.to_string(), "updateService");
    let still = app
        .get(&format!("/api/services/{}", b.draft.service))
        .bearer(&b.account.token)
        .send()
        .expect(200);
    assert_eq!(still.json()["ownerId"], b.account.id.as_str());

    // B's own listings under its objects.
    for path in [
        format!("/api/applications/{}/subscriptions", b.application.id),
        format!("/api/subscriptions/{}/usage", b.subscription),
        format!("/api/services/{}/pricing-plans", b.published.service),
        format!("/api/services/{}/metering-events", b.published.service),
    ] {
        own(
            app.get(&path).bearer(&b.account.token).send().expect(200),
            &path,
        );
    }

    // B's metering event with A's client-chosen event id is B's own event,
    // not A's answered back as a repeat.
    let mine = app
        .post("/api/metering")
        .bearer(&b.account.token)
        .header("idempotency-key", &a.event_key)
        .json(&json!({
            "correlationId": b.correlation_id,
            "productId": b.published.plan.product_id,
            "count": 1,
            "eventId": a.event_key,
        }))
        .send()
        .expect(200)
        .json();
    assert_ne!(mine["id"], a.event.as_str());
    assert_eq!(mine["correlationId"], b.correlation_id.as_str());
}

/// The public operations show A's published offer as the marketplace
/// describes it and nothing else of A's; crossed credentials are no
/// credentials.
fn public_answers_show_only_a_published_offer(
    app: &TestApp,
    a: &Tenant,
    b: &Tenant,
    upstream: SocketAddr,
) {
    // Public operations show A's published offer only as the marketplace
    // describes it, and never A's others.
    let market = app
        .get("/api/marketplace/services?limit=500")
        .send()
        .expect(200);
    assert!(market.text.contains(&a.published.service));
    for hidden in [&a.internal.service, &a.draft.service] {
        assert!(!market.text.contains(hidden.as_str()), "{}", market.text);
    }
    for secretless in ["securityConfiguration", "\"url\"", &upstream.to_string()] {
        assert!(!market.text.contains(secretless), "{}", market.text);
    }
    for path in [
        format!("/api/services/{}/pricing-plans", a.published.service),
        format!(
            "/api/services/{}/pricing-plans/{}",
            a.published.service, a.published.plan.id
        ),
        format!("/api/services/{}/api-spec", a.published.service),
    ] {
        let reply = app.get(&path).bearer(&b.account.token).send().expect(200);
        assert!(
            !reply.text.contains(&upstream.to_string()),
            "{path}: {}",
            reply.text
        );
    }
    // The console's page, opened at a deep link to A's service, is the same
    // static page for everyone: nothing of A's is in it.
    let page = Call::new("GET", app.url(&format!("/services/{}", a.draft.service)))
        .header("accept", "text/html")
        .bearer(&b.account.token)
        .send()
        .expect(200);
    assert_eq!(page.text, app.get("/").send().expect(200).text);
    // B's client key with A's client secret is no client at all.
    let crossed = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        b.application.consumer_key, a.application.consumer_secret
    ));
    app.post("/oauth/token")
        .header("authorization", &format!("Basic {crossed}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .expect(401);
    // An application's OAuth token is no personal access token.
    app.get(&format!("/api/services/{}", a.published.service))
        .bearer(&b.oauth_token)
        .send()
        .expect_problem(401);
}
#[test]
fn another_tenant_can_reach_none_of_a_tenants_objects_through_any_operation() {
    let upstream = echo_upstream();
    let app = managed::managed_platform();
    let _worker = managed::Worker::start(&app, "w1");
    let a = tenant(&app, "ada", upstream);
    let b = tenant(&app, "bob", upstream);
    let marks = a.marks();
    let before = snapshot(&app, &a);
    for (path, (status, _)) in &before {
        assert_eq!(*status, 200, "A reads its own {path}");
    }

    // Every operation that takes an id: B with A's ids.
    let probes = probes(&a, &b);
    for probe in &probes {
        let reply = attempt(&app, &b, probe);
        let named = named_by(&probe.path, probe.body.as_ref());
        assert_shows_nothing_of(&marks, &reply.text, &named, probe.operation);
    }

    own_scope_answers_only_for_b(&app, &a, &b, &marks);
    public_answers_show_only_a_published_offer(&app, &a, &b, upstream);

    // A's objects are as they were, and A's credentials still work.
    let after = snapshot(&app, &a);
    for (path, seen) in &before {
        assert_eq!(Some(seen), after.get(path), "{path} changed");
    }
    app.get("/api/me")
        .bearer(&a.second_pat.1)
        .send()
        .expect(200);
    gateway_call(&app, &a.published.service, &a.oauth_token);

    // Coverage: every operation of the document is probed, scoped or public.
    let probed: BTreeSet<&str> = probes.iter().map(|p| p.operation).collect();
    let ops = operations(&app);
    let mut unswept = Vec::new();
    for (method, path, id) in &ops {
        let takes_id = path.contains('{');
        let covered = probed.contains(id.as_str())
            || (!takes_id && (OWN_SCOPE.contains(&id.as_str()) || PUBLIC.contains(&id.as_str())));
        if !covered {
            unswept.push(format!("{id} ({method} {path})"));
        }
    }
    assert!(
        unswept.is_empty(),
        "operations the sweep misses: {unswept:?}"
    );
    let known: BTreeSet<&str> = ops.iter().map(|(_, _, id)| id.as_str()).collect();
    for listed in probed.iter().chain(&OWN_SCOPE).chain(&PUBLIC) {
        assert!(
            known.contains(listed),
            "{listed} is not an operation of the document"
        );
    }
    println!(
        "isolation sweep: {} probes over {} of {} operations; {} own-scope; public: {}",
        probes.len(),
        probed.len(),
        ops.len(),
        OWN_SCOPE.len(),
        PUBLIC.join(", ")
    );
}

// ---------------------------------------------------------------- the scanner

fn reply(status: u16, headers: &[(&str, &str)], text: &str) -> Reply {
    Reply {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        text: text.to_string(),
    }
}

#[test]
fn the_scanner_reports_a_secret_in_any_later_reply_or_log_line_without_printing_it() {
    let scanner = SecretRegistry::new();
    let secret = "s3cret-consumer-value-0123456789";
    let created = reply(
        201,
        &[("content-type", "application/json")],
        &json!({"id": "app_1", "consumerSecret": secret}).to_string(),
    );
    // The creating reply is the one place the secret may show.
    assert!(scanner
        .scan_reply(
            &created,
            "response to POST /api/applications",
            Exemption::None
        )
        .is_empty());
    scanner.learn_from_reply("POST /api/applications", &created);
    assert!(scanner.knows(secret));

    let leaking = reply(
        200,
        &[("x-debug", &format!("secret={secret}"))],
        &format!("{{\"detail\":\"bad {secret}\"}}"),
    );
    let leaks = scanner.scan_reply(
        &leaking,
        "response to GET /api/applications/app_1",
        Exemption::None,
    );
    assert_eq!(leaks.len(), 2, "{leaks:?}");
    let message = leaks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(message.contains("consumerSecret of app_1"), "{message}");
    assert!(message.contains("header `x-debug`"), "{message}");
    assert!(
        message.contains("the body of the response to GET /api/applications/app_1"),
        "{message}"
    );
    assert!(
        !message.contains(secret),
        "the message never repeats the secret: {message}"
    );

    // A log line is checked whether it came before or after the secret.
    scanner.record_log_line(&format!("[identity] issued {secret}"));
    let logged = scanner.scan_log();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(!logged[0].to_string().contains(secret));
    assert!(
        logged[0].to_string().contains("[identity] issued <secret>"),
        "{}",
        logged[0]
    );
    assert!(scanner.scan_log().is_empty(), "each line is reported once");
    let later = "a-token-registered-after-its-log-line";
    scanner.record_log_line(&format!("GET /api/me {later}"));
    assert!(scanner.scan_log().is_empty());
    scanner.register(later, SecretKind::Issued, "a late token");
    assert_eq!(scanner.scan_log().len(), 1);

    // Values too short to tell from text are not taken for secrets.
    assert!(!scanner.register(&"x".repeat(MIN_SECRET_LEN - 1), SecretKind::Issued, "short"));
}

#[test]
fn upstream_credentials_are_exempt_only_in_a_relayed_upstream_answer() {
    let scanner = SecretRegistry::new();
    let body = json!({"securityConfiguration": {"type": "BASIC", "username": "qpu", "password": "hunter2-upstream"}});
    scanner.learn_from_request("POST /api/services", Some(body.to_string().as_bytes()));
    let basic = base64::engine::general_purpose::STANDARD.encode("qpu:hunter2-upstream");
    assert!(scanner.knows("hunter2-upstream") && scanner.knows(&basic));
    let token = json!({"access_token": "oauth-token-value-42", "token_type": "Bearer"});
    scanner.learn_from_reply("POST /oauth/token", &reply(200, &[], &token.to_string()));

    let echo = reply(
        200,
        &[("content-type", "text/plain")],
        &format!("authorization: Basic {basic}\r\n"),
    );
    let place = "response to GET /gateway/svc_1/x";
    assert_eq!(scanner.scan_reply(&echo, place, Exemption::None).len(), 1);
    assert!(scanner
        .scan_reply(&echo, place, Exemption::UpstreamEcho)
        .is_empty());
    // Never for the platform's own problem answers, never for other secrets.
    let problem = reply(
        502,
        &[("content-type", "application/problem+json")],
        &format!("{{\"detail\":\"upstream refused Basic {basic}\"}}"),
    );
    assert_eq!(
        scanner
            .scan_reply(&problem, place, Exemption::UpstreamEcho)
            .len(),
        1
    );
    let relayed_token = reply(
        200,
        &[("content-type", "text/plain")],
        "Bearer oauth-token-value-42",
    );
    assert_eq!(
        scanner
            .scan_reply(&relayed_token, place, Exemption::UpstreamEcho)
            .len(),
        1
    );
}

#[test]
fn a_call_whose_answer_repeats_a_secret_fails_where_it_was_sent() {
    let upstream = echo_upstream();
    let app = platform();
    let owner = sign_up(&app, "ada");
    let offer = create_offer(&app, &owner, "echoed", upstream);
    lifecycle(&app, &owner, &offer.service, "publish");
    let application = create_application(&app, &owner);
    subscribe(&app, &owner, &application, &offer.service, &offer.plan.id);
    let token = access_token(&app, &application);
    // The host's own lines reach the scan.
    assert!(registry().logged(&format!(
        "POST /api/services/{}/publish registry 200",
        offer.service
    )));

    // The echo upstream repeats the Basic credentials the gateway adds:
    // without the exemption that is a leak, reported at the call.
    let path = format!("/gateway/{}/echo", offer.service);
    let failed = {
        let call = app.get(&path).bearer(&token);
        std::panic::catch_unwind(move || call.send())
    };
    let message = failed
        .expect_err("the scan fails the call")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(message.contains("secret leaked: the Basic credentials of the upstream password sent with POST /api/services"), "{message}");
    assert!(
        message.contains(&format!("the body of the response to GET {path}")),
        "{message}"
    );
    assert!(!message.contains("echoed-upstream-password"), "{message}");
    app.get(&path)
        .bearer(&token)
        .relaying_upstream_echo()
        .send()
        .expect(200);
}

/// A service id with an encoded suffix used to reach the store as a path to
/// another record (`service/{id}/events/…` for `…/metering-events`): the
/// answer must not depend on whose id it is or on what lies at that path.
#[test]
fn an_id_with_an_encoded_path_after_it_is_not_found_whoever_owns_it() {
    // Setup: B's service has metering-event slots; A knows B's service id.
    let app = platform();
    let a = sign_up(&app, "tenant-a");
    let b = sign_up(&app, "tenant-b");
    let b_service = create_external_service(&app, &b, "https://b.example.org");
    let unknown = qmarket_core::id::new_id(qmarket_core::IdKind::Service).unwrap();
    let suffixes = [
        "%2Fevents%2F00000000000000000001",
        "%2Fevents%2Fseq",
        "%2Flifecycle",
        "%2F..%2F..%2Fsealing%2Fgenerated-key",
        "%00",
    ];
    for suffix in suffixes {
        for (caller, id) in [(&a, &b_service), (&b, &b_service), (&a, &unknown)] {
            for route in ["metering-events", "pricing-plans", "api-spec"] {
                // Exec
                let reply = app
                    .get(&format!("/api/services/{id}{suffix}/{route}"))
                    .bearer(&caller.token)
                    .send();
                // Check: the same 404 problem, naming no more than it was given.
                let reply = reply.expect_problem(404);
                let detail = reply.detail();
                assert!(detail.starts_with("service '"), "{route}: {detail}");
            }
        }
    }
}
