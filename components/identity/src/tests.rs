//! The identity endpoints through `route_with`, on a memory store.

use base64::Engine as _;
use qmarket_core::id::new_id;
use qmarket_core::{IdKind, Timestamp};
use qmarket_http::StatusOf;
use qmarket_http::{Method, Request, Response};
use qmarket_identity::account::SignupPolicy;
use qmarket_model::{Lifecycle, PlanType, PricingPlan, Record, Service, ServiceType, CURRENCY};
use qmarket_store::MemoryStore;
use serde_json::{json, Value};

use super::{route_with, Settings};

fn now() -> Timestamp {
    Timestamp::from_millis(1_795_342_530_123)
}

/// A store, a clock and settings, with helpers that send requests.
struct Fixture {
    kv: MemoryStore,
    settings: Settings,
    now: Timestamp,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            kv: MemoryStore::new(),
            settings: Settings::default(),
            now: now(),
        }
    }

    /// The sealer of access tokens these settings give.
    fn tokens(&self) -> qmarket_sealing::Sealer {
        qmarket_sealing::Sealer::load(&self.kv, self.settings.encryption_key.as_deref())
            .unwrap()
            .for_purpose(qmarket_identity::oauth::TOKEN_PURPOSE)
    }

    fn send(&self, req: Request) -> Response {
        route_with(&req, &self.kv, &self.settings, self.now)
            .unwrap_or_else(|e| qmarket_http::problem(&e))
    }

    fn json(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut req = Request::new(method, path)
            .with_header("content-type", "application/json")
            .with_body(body.to_string());
        if let Some(token) = token {
            req = req.with_header("Authorization", &format!("Bearer {token}"));
        }
        self.send(req)
    }

    fn get(&self, path: &str, token: &str) -> Response {
        self.send(Request::new(Method::Get, path).with_header("X-Auth-Token", token))
    }

    fn delete(&self, path: &str, token: &str) -> Response {
        self.send(Request::new(Method::Delete, path).with_header("X-Auth-Token", token))
    }

    /// Signs `name` up; returns (account id, token value).
    fn sign_up(&self, name: &str) -> (String, String) {
        let r = self.json(
            Method::Post,
            "/api/accounts",
            None,
            json!({"name": name, "email": format!("{name}@example.org")}),
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let body = r.json_value();
        (
            body["id"].as_str().unwrap().to_string(),
            body["accessToken"]["value"].as_str().unwrap().to_string(),
        )
    }

    /// Creates an application; returns its creation body.
    fn app(&self, token: &str) -> Value {
        let r = self.json(
            Method::Post,
            "/api/applications",
            Some(token),
            json!({"name": "my app"}),
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.json_value()
    }

    fn service(&self, owner: &str, lifecycle: Lifecycle) -> (String, String) {
        let svc = new_id(IdKind::Service).unwrap();
        Service {
            name: "svc".into(),
            quantum_backend: "SIMULATOR".into(),
            url: Some("http://localhost:9/".into()),
            lifecycle,
            index_seq: 1,
            ..Service::draft(svc.clone(), owner, ServiceType::External, now())
        }
        .save_with_state(&self.kv)
        .unwrap();
        let plan = new_id(IdKind::PricingPlan).unwrap();
        PricingPlan {
            id: plan.clone(),
            service_id: svc.clone(),
            name: "free".into(),
            kind: PlanType::Free,
            currency: CURRENCY.into(),
            products: Vec::new(),
            created_at: now(),
            updated_at: now(),
            index_seq: 1,
            limits: None,
        }
        .save(&self.kv)
        .unwrap();
        (svc, plan)
    }

    fn subscribe(&self, token: &str, app: &str, svc: &str, plan: &str) -> Response {
        self.json(
            Method::Post,
            &format!("/api/applications/{app}/subscriptions"),
            Some(token),
            json!({"serviceId": svc, "pricingPlanId": plan}),
        )
    }

    fn token(&self, body: &str, authorization: Option<&str>) -> Response {
        let mut req = Request::new(Method::Post, "/oauth/token")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body);
        if let Some(a) = authorization {
            req = req.with_header("authorization", a);
        }
        self.send(req)
    }
}

fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

fn is_problem(r: &Response, status: u16) -> bool {
    r.status == status && r.header("content-type") == Some("application/problem+json")
}

#[test]
fn sign_up_then_me_with_the_returned_token() {
    // Setup
    let f = Fixture::new();
    // Exec
    let r = f.json(
        Method::Post,
        "/api/accounts",
        None,
        json!({"name": "Ada", "email": "ada@example.org"}),
    );
    // Check
    assert_eq!(r.status, 201);
    let body = r.json_value();
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["createdAt"], "2026-11-22T10:15:30.123Z");
    let token = &body["accessToken"];
    assert_eq!(token["scopes"], json!(["API"]));
    assert_eq!(token["expiresAt"], Value::Null);
    assert!(token["id"].as_str().unwrap().starts_with("pat_"));
    let value = token["value"].as_str().unwrap();
    let me = f.get("/api/me", value);
    assert_eq!(me.status, 200);
    assert_eq!(
        me.json_value(),
        json!({"id": body["id"], "name": "Ada", "email": "ada@example.org", "createdAt": body["createdAt"]})
    );
}

#[test]
fn sign_up_refuses_bad_bodies_precisely() {
    let f = Fixture::new();
    let cases = [
        (json!({"name": "Ada"}), 400),
        (
            json!({"name": "Ada", "email": "ada@example.org", "admin": true}),
            400,
        ),
        (json!({"name": 5, "email": "ada@example.org"}), 400),
        (json!({"name": "", "email": "ada@example.org"}), 400),
        (
            json!({"name": "x".repeat(101), "email": "ada@example.org"}),
            400,
        ),
        (json!({"name": "Ada", "email": "ada"}), 400),
        (
            json!({"name": "Ada", "email": format!("{}@example.org", "a".repeat(250))}),
            400,
        ),
        (json!([1, 2]), 400),
    ];
    for (body, status) in cases {
        let r = f.json(Method::Post, "/api/accounts", None, body.clone());
        assert!(is_problem(&r, status), "{body} -> {}", r.status);
    }
    let big = Request::new(Method::Post, "/api/accounts")
        .with_header("content-type", "application/json")
        .with_body(format!(
            r#"{{"name":"{}","email":"a@example.org"}}"#,
            "a".repeat(2 << 20)
        ));
    assert!(is_problem(&f.send(big), 413));
    let text = Request::new(Method::Post, "/api/accounts")
        .with_header("content-type", "text/plain")
        .with_body("hi");
    assert!(is_problem(&f.send(text), 415));
}

#[test]
fn a_second_account_with_the_same_email_conflicts() {
    let f = Fixture::new();
    f.sign_up("ada");
    let r = f.json(
        Method::Post,
        "/api/accounts",
        None,
        json!({"name": "x", "email": "ADA@example.org"}),
    );
    assert!(is_problem(&r, 409));
}

#[test]
fn closed_sign_up_accepts_only_the_admin_token() {
    let mut f = Fixture::new();
    f.settings.policy = SignupPolicy::from_variables(Some("false"), Some("admin-secret"));
    let body = json!({"name": "Ada", "email": "ada@example.org"});
    assert!(is_problem(
        &f.json(Method::Post, "/api/accounts", None, body.clone()),
        401
    ));
    let wrong = f.json(Method::Post, "/api/accounts", Some("nope"), body.clone());
    assert!(is_problem(&wrong, 401));
    assert_eq!(
        f.json(
            Method::Post,
            "/api/accounts",
            Some("admin-secret"),
            body.clone()
        )
        .status,
        201
    );
    f.settings.policy = SignupPolicy::from_variables(Some("false"), None);
    let body = json!({"name": "Bob", "email": "bob@example.org"});
    assert!(is_problem(
        &f.json(Method::Post, "/api/accounts", Some("x"), body),
        403
    ));
}

#[test]
fn the_platform_api_refuses_missing_revoked_expired_and_scopeless_tokens() {
    let mut f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    // Missing and unknown: 401 with a Bearer challenge.
    let r = f.send(Request::new(Method::Get, "/api/me"));
    assert!(is_problem(&r, 401));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(is_problem(&f.get("/api/me", "qmp_unknown"), 401));
    // Scope-less: 403.
    let r = f.json(
        Method::Post,
        "/api/access-tokens",
        Some(&token),
        json!({"name": "none", "scopes": []}),
    );
    assert_eq!(r.status, 201);
    let scopeless = r.json_value()["value"].as_str().unwrap().to_string();
    assert!(is_problem(&f.get("/api/me", &scopeless), 403));
    assert!(is_problem(&f.get("/api/applications", &scopeless), 403));
    // Expiring.
    let r = f.json(
        Method::Post,
        "/api/access-tokens",
        Some(&token),
        json!({"name": "short", "scopes": ["API"], "expiresAt": "2026-11-22T11:15:30.123Z"}),
    );
    assert_eq!(r.status, 201);
    let short = r.json_value();
    let short_value = short["value"].as_str().unwrap().to_string();
    assert_eq!(f.get("/api/me", &short_value).status, 200);
    f.now = now().plus_seconds(3600);
    assert!(is_problem(&f.get("/api/me", &short_value), 401));
    f.now = now();
    // Revoked.
    let id = short["id"].as_str().unwrap();
    assert_eq!(
        f.delete(&format!("/api/access-tokens/{id}"), &token).status,
        204
    );
    assert!(is_problem(&f.get("/api/me", &short_value), 401));
    assert!(is_problem(
        &f.delete(&format!("/api/access-tokens/{id}"), &token),
        404
    ));
}

#[test]
fn access_tokens_are_validated_listed_without_value_and_may_revoke_themselves() {
    let f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    for (body, status) in [
        (json!({"name": "t", "scopes": ["ADMIN"]}), 400),
        (json!({"name": "t", "scopes": "API"}), 400),
        (json!({"name": "t"}), 400),
        (json!({"name": "", "scopes": ["API"]}), 400),
        (
            json!({"name": "t", "scopes": ["API"], "expiresAt": "tomorrow"}),
            400,
        ),
        (
            json!({"name": "t", "scopes": ["API"], "expiresAt": "2020-01-01T00:00:00Z"}),
            422,
        ),
        (json!({"name": "t", "scopes": ["API"], "extra": 1}), 400),
    ] {
        let r = f.json(
            Method::Post,
            "/api/access-tokens",
            Some(&token),
            body.clone(),
        );
        assert!(is_problem(&r, status), "{body} -> {}", r.status);
    }
    let r = f.get("/api/access-tokens", &token);
    assert_eq!(r.status, 200);
    let list = r.json_value();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["nextCursor"], Value::Null);
    assert!(list["items"][0].get("value").is_none());
    assert!(!String::from_utf8_lossy(&r.body).contains(&token));
    let own_id = list["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        f.delete(&format!("/api/access-tokens/{own_id}"), &token)
            .status,
        204
    );
    assert!(is_problem(&f.get("/api/me", &token), 401));
}

#[test]
fn another_accounts_token_application_and_subscription_answer_404() {
    let f = Fixture::new();
    let (ada_id, ada) = f.sign_up("ada");
    let (_, bob) = f.sign_up("bob");
    let ada_tokens = f.get("/api/access-tokens", &ada).json_value();
    let ada_token_id = ada_tokens["items"][0]["id"].as_str().unwrap().to_string();
    assert!(is_problem(
        &f.delete(&format!("/api/access-tokens/{ada_token_id}"), &bob),
        404
    ));

    let app = f.app(&ada);
    let app_id = app["id"].as_str().unwrap();
    let (svc, plan) = f.service(&ada_id, Lifecycle::Published);
    let sub = f.subscribe(&ada, app_id, &svc, &plan).json_value();
    let sub_id = sub["id"].as_str().unwrap();

    let missing_app = new_id(IdKind::Application).unwrap();
    for path in [
        format!("/api/applications/{app_id}"),
        format!("/api/applications/{missing_app}"),
    ] {
        let theirs = f.get(&path, &bob);
        assert!(is_problem(&theirs, 404));
    }
    assert!(is_problem(
        &f.delete(&format!("/api/applications/{app_id}"), &bob),
        404
    ));
    assert!(is_problem(
        &f.get(&format!("/api/applications/{app_id}/subscriptions"), &bob),
        404
    ));
    assert!(is_problem(&f.subscribe(&bob, app_id, &svc, &plan), 404));
    // A stranger's application is 404 even with a broken body.
    let r = f.json(
        Method::Post,
        &format!("/api/applications/{app_id}/subscriptions"),
        Some(&bob),
        json!({}),
    );
    assert!(is_problem(&r, 404));
    assert!(is_problem(
        &f.get(&format!("/api/subscriptions/{sub_id}"), &bob),
        404
    ));
    assert!(is_problem(
        &f.delete(&format!("/api/subscriptions/{sub_id}"), &bob),
        404
    ));
    assert_eq!(
        f.get(&format!("/api/subscriptions/{sub_id}"), &ada).status,
        200
    );
}

#[test]
fn applications_are_created_listed_read_and_deleted() {
    let f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    let app = f.app(&token);
    let id = app["id"].as_str().unwrap();
    assert!(id.starts_with("app_"));
    assert!(app["consumerKey"].as_str().unwrap().starts_with("qmk_"));
    assert!(app["consumerSecret"].as_str().unwrap().starts_with("qms_"));
    let secret = app["consumerSecret"].as_str().unwrap();

    let got = f.get(&format!("/api/applications/{id}"), &token);
    assert_eq!(got.status, 200);
    let got_body = got.json_value();
    assert_eq!(got_body["consumerKey"], app["consumerKey"]);
    assert!(got_body.get("consumerSecret").is_none());
    assert!(!String::from_utf8_lossy(&got.body).contains(secret));

    let second = f.app(&token);
    let list = f.get("/api/applications?limit=1", &token).json_value();
    assert_eq!(list["items"][0]["id"], second["id"]);
    let cursor = list["nextCursor"].as_str().unwrap();
    let rest = f
        .get(
            &format!("/api/applications?limit=1&cursor={cursor}"),
            &token,
        )
        .json_value();
    assert_eq!(rest["items"][0]["id"], app["id"]);
    assert_eq!(rest["nextCursor"], Value::Null);
    assert!(is_problem(&f.get("/api/applications?limit=0", &token), 400));
    assert!(is_problem(
        &f.get("/api/applications?cursor=abc", &token),
        400
    ));

    assert_eq!(
        f.delete(&format!("/api/applications/{id}"), &token).status,
        204
    );
    assert!(is_problem(
        &f.get(&format!("/api/applications/{id}"), &token),
        404
    ));
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": 1}),
    ] {
        let r = f.json(Method::Post, "/api/applications", Some(&token), bad.clone());
        assert!(is_problem(&r, 400), "{bad}");
    }
}

#[test]
fn the_client_credentials_flow_with_basic_and_with_form_fields() {
    let mut f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    let app = f.app(&token);
    let key = app["consumerKey"].as_str().unwrap();
    let secret = app["consumerSecret"].as_str().unwrap();

    let r = f.token("grant_type=client_credentials", Some(&basic(key, secret)));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json_value();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "default");
    let access = body["access_token"].as_str().unwrap().to_string();

    let form = f.token(
        &format!("grant_type=client_credentials&client_id={key}&client_secret={secret}"),
        None,
    );
    assert_eq!(form.status, 200);

    let bearer = Request::new(Method::Get, "/gateway/x")
        .with_header("Authorization", &format!("Bearer {access}"));
    let principal =
        qmarket_identity::authenticate_application(&bearer, &f.kv, &f.tokens(), f.now).unwrap();
    assert_eq!(principal.application_id, app["id"].as_str().unwrap());
    f.now = now().plus_seconds(3600);
    assert_eq!(
        qmarket_identity::authenticate_application(&bearer, &f.kv, &f.tokens(), f.now)
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn token_errors_follow_rfc_6749() {
    let f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    let app = f.app(&token);
    let key = app["consumerKey"].as_str().unwrap();
    let secret = app["consumerSecret"].as_str().unwrap();
    let good = basic(key, secret);
    let cases: Vec<(Response, u16, &str)> = vec![
        (f.token("", Some(&good)), 400, "invalid_request"),
        (
            f.token("grant_type=password", Some(&good)),
            400,
            "unsupported_grant_type",
        ),
        (
            f.token(
                &format!("grant_type=client_credentials&client_secret={secret}"),
                Some(&good),
            ),
            400,
            "invalid_request",
        ),
        (
            f.send(
                Request::new(Method::Post, "/oauth/token")
                    .with_header("content-type", "application/json")
                    .with_header("authorization", &good)
                    .with_body("{}"),
            ),
            400,
            "invalid_request",
        ),
        (
            f.token("grant_type=client_credentials", Some(&basic(key, "wrong"))),
            401,
            "invalid_client",
        ),
        (
            f.token("grant_type=client_credentials", Some("Basic %%%")),
            401,
            "invalid_client",
        ),
        (
            f.token("grant_type=client_credentials", None),
            401,
            "invalid_client",
        ),
    ];
    for (r, status, code) in cases {
        assert_eq!(r.status, status, "{code}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json_value();
        assert_eq!(body["error"], code);
        assert!(body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
        if status == 401 {
            assert_eq!(
                r.header("www-authenticate"),
                Some("Basic realm=\"qmarket\"")
            );
        }
    }
    let get = f.send(Request::new(Method::Get, "/oauth/token"));
    assert!(is_problem(&get, 405));
}

#[test]
fn subscription_rules_through_the_api() {
    let f = Fixture::new();
    let (provider_id, provider) = f.sign_up("provider");
    let (_, consumer) = f.sign_up("consumer");
    let consumer_app = f.app(&consumer)["id"].as_str().unwrap().to_string();
    let own_app = f.app(&provider)["id"].as_str().unwrap().to_string();
    let (published, published_plan) = f.service(&provider_id, Lifecycle::Published);
    let (accessible, accessible_plan) = f.service(&provider_id, Lifecycle::Accessible);
    let (created, created_plan) = f.service(&provider_id, Lifecycle::Created);

    let r = f.subscribe(&consumer, &consumer_app, &published, &published_plan);
    assert_eq!(r.status, 201);
    let sub = r.json_value();
    assert_eq!(sub["testMode"], false);
    assert_eq!(sub["applicationId"], consumer_app.as_str());
    assert_eq!(sub["serviceId"], published.as_str());
    assert_eq!(sub["pricingPlanId"], published_plan.as_str());
    assert!(sub["id"].as_str().unwrap().starts_with("sub_"));
    assert!(is_problem(
        &f.subscribe(&consumer, &consumer_app, &published, &published_plan),
        409
    ));

    let r = f.subscribe(&provider, &own_app, &accessible, &accessible_plan);
    assert_eq!(r.status, 201);
    assert_eq!(r.json_value()["testMode"], true);
    assert!(is_problem(
        &f.subscribe(&consumer, &consumer_app, &accessible, &accessible_plan),
        404
    ));
    assert!(is_problem(
        &f.subscribe(&provider, &own_app, &created, &created_plan),
        404
    ));
    assert!(is_problem(
        &f.subscribe(&consumer, &consumer_app, &published, &accessible_plan),
        422
    ));
    let r = f.json(
        Method::Post,
        &format!("/api/applications/{consumer_app}/subscriptions"),
        Some(&consumer),
        json!({"serviceId": published}),
    );
    assert!(is_problem(&r, 400));

    let list = f
        .get(
            &format!("/api/applications/{consumer_app}/subscriptions"),
            &consumer,
        )
        .json_value();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let sub_id = sub["id"].as_str().unwrap();
    assert_eq!(
        f.delete(&format!("/api/subscriptions/{sub_id}"), &consumer)
            .status,
        204
    );
    let list = f
        .get(
            &format!("/api/applications/{consumer_app}/subscriptions"),
            &consumer,
        )
        .json_value();
    assert_eq!(list["items"], json!([]));
    assert!(is_problem(
        &f.delete(&format!("/api/subscriptions/{sub_id}"), &consumer),
        404
    ));
}

#[test]
fn unknown_paths_and_methods_are_problems() {
    let f = Fixture::new();
    let (_, token) = f.sign_up("ada");
    assert!(is_problem(&f.get("/api/nothing", &token), 404));
    assert!(is_problem(
        &f.send(Request::new(Method::Get, "/api/accounts")),
        405
    ));
    assert!(is_problem(
        &f.json(Method::Put, "/api/me", Some(&token), json!({})),
        405
    ));
    assert!(is_problem(
        &f.get("/api/applications/app_%2e%2e", &token),
        404
    ));
}

#[test]
fn sign_ups_and_token_requests_beyond_the_limit_are_429_with_retry_after() {
    let mut f = Fixture::new();
    f.settings.limits = qmarket_identity::limits::Limits::from_variables(Some("2"), Some("1"));
    let sign_up = |f: &Fixture, n: usize| {
        let req = Request::new(Method::Post, "/api/accounts")
            .with_header("content-type", "application/json")
            .with_header("spin-client-addr", "198.51.100.7:5000")
            .with_body(json!({"name": "n", "email": format!("n{n}@example.org")}).to_string());
        f.send(req)
    };
    assert_eq!(sign_up(&f, 1).status, 201);
    assert_eq!(sign_up(&f, 2).status, 201);
    let refused = sign_up(&f, 3);
    assert!(is_problem(&refused, 429));
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let token_request = || {
        Request::new(Method::Post, "/oauth/token")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_header("spin-client-addr", "198.51.100.7:5001")
            .with_body("grant_type=client_credentials")
    };
    assert_eq!(f.send(token_request()).status, 401);
    assert!(is_problem(&f.send(token_request()), 429));
}
