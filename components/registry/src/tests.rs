//! The registry's routes over a memory store, as a client sees them.

use super::*;
use qmarket_catalog::NewPricingPlan;
use qmarket_identity::fixtures::signed_up as account;
use qmarket_model::Service;
use qmarket_store::MemoryStore;
use serde_json::json;
use std::sync::Arc;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn settings() -> Settings {
    Settings {
        encryption_key: Some(KEY.into()),
    }
}

fn call(
    kv: &dyn KeyValue,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut req = Request::new(method, path);
    if let Some(t) = token {
        req = req.with_header("Authorization", &format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req
            .with_header("content-type", "application/json")
            .with_body(b.to_string());
    }
    route(&req, kv, &settings(), Timestamp::now()).unwrap_or_else(|e| qmarket_http::problem(&e))
}

fn raw(
    kv: &dyn KeyValue,
    token: &str,
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Response {
    let req = Request::new(method, path)
        .with_header("X-Auth-Token", token)
        .with_header("content-type", content_type)
        .with_body(body);
    route(&req, kv, &settings(), Timestamp::now()).unwrap_or_else(|e| qmarket_http::problem(&e))
}

fn external(name: &str) -> Value {
    json!({
        "name": name,
        "type": "EXTERNAL",
        "description": "Walks quantumly",
        "quantumBackend": "IBM",
        "url": "https://walk.example.org/api",
        "securityConfiguration": {"type": "BASIC", "username": "svc-user", "password": "hunter2-secret"}
    })
}

fn create(kv: &dyn KeyValue, token: &str, body: Value) -> String {
    let r = call(kv, Some(token), Method::Post, "/api/services", Some(body));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json_value()["id"].as_str().unwrap().to_string()
}

fn add_plan(kv: &dyn KeyValue, owner: &str, service_id: &str) -> String {
    let input: NewPricingPlan = serde_json::from_value(json!({
        "name": "Pay per use",
        "products": [{"name": "API", "unitPrice": "0.00001", "unit": "call"}]
    }))
    .unwrap();
    qmarket_catalog::pricing_plan::create(kv, owner, service_id, input, Timestamp::now())
        .unwrap()
        .id
}

#[test]
fn a_provider_creates_lists_reads_changes_and_deletes_a_service() {
    // Setup
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    // Exec: create
    let r = call(
        &kv,
        Some(&token),
        Method::Post,
        "/api/services",
        Some(external("Walk")),
    );
    // Check
    assert_eq!(r.status, 201);
    let body = r.json_value();
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("svc_"));
    assert_eq!(body["name"], "Walk");
    assert_eq!(body["type"], "EXTERNAL");
    assert_eq!(body["quantumBackend"], "IBM");
    assert_eq!(body["url"], "https://walk.example.org/api");
    assert_eq!(
        body["securityConfiguration"],
        json!({"type": "BASIC", "username": "svc-user"})
    );
    assert_eq!(body["lifecycle"], "CREATED");
    assert_eq!(body["ownerId"], owner.as_str());
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(!r.body.windows(7).any(|w| w == b"hunter2"));

    let list = call(&kv, Some(&token), Method::Get, "/api/services", None).json_value();
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["nextCursor"], Value::Null);

    let got = call(
        &kv,
        Some(&token),
        Method::Get,
        &format!("/api/services/{id}"),
        None,
    );
    assert_eq!(got.json_value(), body);

    let patched = call(
        &kv,
        Some(&token),
        Method::Patch,
        &format!("/api/services/{id}"),
        Some(json!({"name": "Walk 2", "quantumBackend": "IONQ", "description": null})),
    );
    assert_eq!(
        patched.status,
        200,
        "{}",
        String::from_utf8_lossy(&patched.body)
    );
    let patched = patched.json_value();
    assert_eq!(patched["name"], "Walk 2");
    assert_eq!(patched["quantumBackend"], "IONQ");
    assert_eq!(patched["description"], "");
    assert_eq!(patched["url"], "https://walk.example.org/api");

    let deleted = call(
        &kv,
        Some(&token),
        Method::Delete,
        &format!("/api/services/{id}"),
        None,
    );
    assert_eq!(deleted.status, 204);
    assert_eq!(
        call(
            &kv,
            Some(&token),
            Method::Get,
            &format!("/api/services/{id}"),
            None
        )
        .status,
        404
    );
    let list = call(&kv, Some(&token), Method::Get, "/api/services", None).json_value();
    assert_eq!(list["items"], json!([]));
}

#[test]
fn a_managed_service_gets_runtime_and_resource_defaults() {
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let r = call(
        &kv,
        Some(&token),
        Method::Post,
        "/api/services",
        Some(
            json!({"name": "Solver", "type": "MANAGED", "quantumBackend": "SIMULATOR", "resources": {"milliCpus": 500}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json_value();
    assert_eq!(body["runtime"], "PYTHON_TEMPLATE");
    assert_eq!(
        body["resources"],
        json!({"milliCpus": 500, "memoryInMegabytes": 2048, "timeoutSeconds": 3600})
    );
    assert_eq!(body["url"], Value::Null);
    assert_eq!(
        body["securityConfiguration"],
        json!({"type": "NONE", "username": null})
    );
}

#[test]
fn invalid_services_are_refused_with_a_precise_4xx() {
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let with = |patch: Value| {
        let mut body = external("Walk");
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let long = "x".repeat(101);
    let huge = "x".repeat(10_001);
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "ftp url",
            with(json!({"url": "ftp://example.org/x"})),
            400,
            "url",
        ),
        (
            "javascript url",
            with(json!({"url": "javascript:alert(1)"})),
            400,
            "url",
        ),
        (
            "relative url",
            with(json!({"url": "/api/walk"})),
            400,
            "url",
        ),
        (
            "url with userinfo",
            with(json!({"url": "https://a:b@example.org"})),
            400,
            "url",
        ),
        (
            "url too long",
            with(json!({"url": format!("https://example.org/{}", "a".repeat(2048))})),
            400,
            "url",
        ),
        ("missing url", with(json!({"url": null})), 400, "url"),
        ("url not a string", with(json!({"url": 5})), 400, "url"),
        ("empty name", with(json!({"name": "  "})), 400, "name"),
        ("long name", with(json!({"name": long})), 400, "name"),
        ("name a boolean", with(json!({"name": true})), 400, "name"),
        (
            "huge description",
            with(json!({"description": huge})),
            400,
            "description",
        ),
        (
            "unknown backend",
            with(json!({"quantumBackend": "GOOGLE"})),
            400,
            "quantumBackend",
        ),
        ("unknown type", with(json!({"type": "HYBRID"})), 400, "type"),
        (
            "basic without password",
            with(json!({"securityConfiguration": {"type": "BASIC", "username": "u"}})),
            400,
            "securityConfiguration.password",
        ),
        (
            "basic without username",
            with(json!({"securityConfiguration": {"type": "BASIC", "password": "p"}})),
            400,
            "securityConfiguration.username",
        ),
        (
            "long password",
            with(
                json!({"securityConfiguration": {"type": "BASIC", "username": "u", "password": "p".repeat(201)}}),
            ),
            400,
            "securityConfiguration.password",
        ),
        (
            "colon in username",
            with(
                json!({"securityConfiguration": {"type": "BASIC", "username": "a:b", "password": "p"}}),
            ),
            400,
            "securityConfiguration.username",
        ),
        (
            "unknown security type",
            with(json!({"securityConfiguration": {"type": "OAUTH"}})),
            400,
            "securityConfiguration.type",
        ),
        (
            "unknown field",
            with(json!({"colour": "blue"})),
            400,
            "colour",
        ),
        (
            "runtime on external",
            with(json!({"runtime": "DOCKER"})),
            400,
            "runtime",
        ),
        (
            "swagger 2.0 spec",
            with(json!({"apiSpecification": {"swagger": "2.0", "paths": {}}})),
            422,
            "apiSpecification",
        ),
        (
            "malformed yaml spec",
            with(json!({"apiSpecification": "openapi: [3.0.3\npaths: {"})),
            400,
            "apiSpecification",
        ),
        (
            "spec without paths",
            with(json!({"apiSpecification": {"openapi": "3.0.3"}})),
            422,
            "apiSpecification",
        ),
        (
            "managed with url",
            json!({"name": "M", "type": "MANAGED", "quantumBackend": "NONE", "url": "https://x.org"}),
            400,
            "url",
        ),
        (
            "managed with too much memory",
            json!({"name": "M", "type": "MANAGED", "quantumBackend": "NONE", "resources": {"memoryInMegabytes": 1_000_000}}),
            400,
            "resources.memoryInMegabytes",
        ),
        (
            "managed with negative cpus",
            json!({"name": "M", "type": "MANAGED", "quantumBackend": "NONE", "resources": {"milliCpus": -1}}),
            400,
            "resources.milliCpus",
        ),
    ];
    for (case, body, status, field) in cases {
        let r = call(&kv, Some(&token), Method::Post, "/api/services", Some(body));
        assert_eq!(
            r.status,
            status,
            "{case}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        let problem = r.json_value();
        let fields: Vec<String> = problem["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f == field)
                || problem["detail"].as_str().unwrap().contains(field),
            "{case}: {problem}"
        );
    }
    let list = call(&kv, Some(&token), Method::Get, "/api/services", None).json_value();
    assert_eq!(list["items"], json!([]), "nothing was created");
}

#[test]
fn the_stored_record_holds_no_plaintext_password() {
    // Setup
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    // Exec
    let id = create(&kv, &token, external("Walk"));
    // Check
    let record = kv.get(&format!("service/{id}")).unwrap().unwrap();
    let text = String::from_utf8(record).unwrap();
    assert!(text.contains("sealedPassword"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    for (key, value) in kv.dump() {
        assert!(
            !String::from_utf8_lossy(&value).contains("hunter2-secret"),
            "plaintext under {key}"
        );
    }
    let stored: Service = serde_json::from_str(&text).unwrap();
    let sealer = Sealer::load(&kv, Some(KEY)).unwrap();
    let sealed = stored.security_configuration.sealed_password.unwrap();
    assert_eq!(sealer.open(&sealed).unwrap(), "hunter2-secret");
}

#[test]
fn a_patch_without_password_keeps_it_and_one_with_a_password_replaces_it() {
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let id = create(&kv, &token, external("Walk"));
    let sealer = Sealer::load(&kv, Some(KEY)).unwrap();
    let password = |kv: &MemoryStore| {
        let s: Service = qmarket_store::get_json(kv, &format!("service/{id}"))
            .unwrap()
            .unwrap();
        sealer
            .open(&s.security_configuration.sealed_password.unwrap())
            .unwrap()
    };
    let path = format!("/api/services/{id}");
    let r = call(
        &kv,
        Some(&token),
        Method::Patch,
        &path,
        Some(json!({"securityConfiguration": {"type": "BASIC", "username": "other"}})),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_value()["securityConfiguration"]["username"], "other");
    assert_eq!(password(&kv), "hunter2-secret");
    let r = call(
        &kv,
        Some(&token),
        Method::Patch,
        &path,
        Some(
            json!({"securityConfiguration": {"type": "BASIC", "username": "other", "password": "new-one"}}),
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(password(&kv), "new-one");
    let r = call(
        &kv,
        Some(&token),
        Method::Patch,
        &path,
        Some(json!({"securityConfiguration": {"type": "NONE"}})),
    );
    assert_eq!(
        r.json_value()["securityConfiguration"],
        json!({"type": "NONE", "username": null})
    );
    let r = call(
        &kv,
        Some(&token),
        Method::Patch,
        &path,
        Some(json!({"url": "ftp://nope"})),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn fifty_concurrent_creations_by_one_account_are_all_listed() {
    // Setup
    let kv = Arc::new(MemoryStore::new());
    let (_, token) = account(&*kv, "ada");
    // Exec
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let (kv, token) = (kv.clone(), token.clone());
            std::thread::spawn(move || create(&*kv, &token, external(&format!("Service {i}"))))
        })
        .collect();
    let mut created: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Check
    let list = call(
        &*kv,
        Some(&token),
        Method::Get,
        "/api/services?limit=500",
        None,
    )
    .json_value();
    let mut listed: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    created.sort();
    listed.sort();
    assert_eq!(listed, created);
}

#[test]
fn listing_pages_newest_first_with_a_cursor() {
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let ids: Vec<String> = (0..5)
        .map(|i| create(&kv, &token, external(&format!("S{i}"))))
        .collect();
    let first = call(
        &kv,
        Some(&token),
        Method::Get,
        "/api/services?limit=2",
        None,
    )
    .json_value();
    assert_eq!(first["items"][0]["id"], ids[4].as_str());
    assert_eq!(first["items"][1]["id"], ids[3].as_str());
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = call(
        &kv,
        Some(&token),
        Method::Get,
        &format!("/api/services?limit=2&cursor={cursor}"),
        None,
    )
    .json_value();
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    let bad = call(
        &kv,
        Some(&token),
        Method::Get,
        "/api/services?cursor=abc",
        None,
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn another_accounts_service_answers_404_everywhere() {
    // Setup
    let kv = MemoryStore::new();
    let (_, ada) = account(&kv, "ada");
    let (_, bob) = account(&kv, "bob");
    let id = create(&kv, &ada, external("Walk"));
    // Exec / Check
    for (method, path, body) in [
        (Method::Get, format!("/api/services/{id}"), None),
        (
            Method::Patch,
            format!("/api/services/{id}"),
            Some(json!({"name": "mine"})),
        ),
        (Method::Delete, format!("/api/services/{id}"), None),
        (Method::Get, format!("/api/services/{id}/api-spec"), None),
        (
            Method::Put,
            format!("/api/services/{id}/api-spec"),
            Some(json!({"openapi": "3.0.3", "paths": {}})),
        ),
        (Method::Post, format!("/api/services/{id}/publish"), None),
        (
            Method::Post,
            format!("/api/services/{id}/publish-internal"),
            None,
        ),
        (Method::Post, format!("/api/services/{id}/unpublish"), None),
        (
            Method::Get,
            "/api/services/svc_doesnotexist".to_string(),
            None,
        ),
    ] {
        let r = call(&kv, Some(&bob), method.clone(), &path, body);
        assert_eq!(r.status, 404, "{} {path}", method.as_str());
    }
    let bobs = call(&kv, Some(&bob), Method::Get, "/api/services", None).json_value();
    assert_eq!(bobs["items"], json!([]));
    assert_eq!(
        call(
            &kv,
            Some(&ada),
            Method::Get,
            &format!("/api/services/{id}"),
            None
        )
        .json_value()["name"],
        "Walk"
    );
}

#[test]
fn callers_without_a_valid_token_get_401_and_wrong_methods_405() {
    let kv = MemoryStore::new();
    assert_eq!(
        call(&kv, None, Method::Get, "/api/services", None).status,
        401
    );
    assert_eq!(
        call(
            &kv,
            Some("pat_nonsense"),
            Method::Post,
            "/api/services",
            Some(external("x"))
        )
        .status,
        401
    );
    assert_eq!(
        call(&kv, None, Method::Put, "/api/services", None).status,
        405
    );
    assert_eq!(
        call(&kv, None, Method::Post, "/api/quantum-backends", None).status,
        405
    );
}

#[test]
fn quantum_backends_are_listed_with_display_names() {
    let kv = MemoryStore::new();
    let r = call(&kv, None, Method::Get, "/api/quantum-backends", None).json_value();
    let ids: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    for id in [
        "NONE",
        "SIMULATOR",
        "IBM",
        "IONQ",
        "RIGETTI",
        "DWAVE",
        "AWS_BRAKET",
        "AZURE_QUANTUM",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert_eq!(r["items"][2], json!({"id": "IBM", "name": "IBM Quantum"}));
}

#[test]
fn publishing_needs_a_plan_and_puts_the_service_in_the_marketplace() {
    // Setup
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let id = create(&kv, &token, external("Walk"));
    let publish = format!("/api/services/{id}/publish");
    // Exec / Check: no plan yet
    let r = call(&kv, Some(&token), Method::Post, &publish, None);
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json_value()["detail"]
        .as_str()
        .unwrap()
        .contains("pricing plan"));
    // internal publication needs none
    let r = call(
        &kv,
        Some(&token),
        Method::Post,
        &format!("/api/services/{id}/publish-internal"),
        None,
    );
    assert_eq!(r.json_value()["lifecycle"], "ACCESSIBLE");
    let market = call(&kv, None, Method::Get, "/api/marketplace/services", None).json_value();
    assert_eq!(market["items"], json!([]));
    // with a plan
    let plan = add_plan(&kv, &owner, &id);
    let r = call(&kv, Some(&token), Method::Post, &publish, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json_value()["lifecycle"], "PUBLISHED");
    // publishing twice lists it once
    call(&kv, Some(&token), Method::Post, &publish, None);
    let market = call(&kv, None, Method::Get, "/api/marketplace/services", None).json_value();
    let items = market["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["pricingPlans"][0]["id"], plan.as_str());
    assert_eq!(
        items[0]["pricingPlans"][0]["products"][0]["unitPrice"],
        "0.00001"
    );
    assert!(items[0].get("url").is_none());
    assert!(items[0].get("securityConfiguration").is_none());
    // unpublish
    let r = call(
        &kv,
        Some(&token),
        Method::Post,
        &format!("/api/services/{id}/unpublish"),
        None,
    );
    assert_eq!(r.json_value()["lifecycle"], "CREATED");
    let market = call(&kv, None, Method::Get, "/api/marketplace/services", None).json_value();
    assert_eq!(market["items"], json!([]));
}

#[test]
fn a_service_with_active_subscriptions_cannot_be_deleted_and_deletion_cleans_up() {
    // Setup
    let kv = MemoryStore::new();
    let (owner, token) = account(&kv, "ada");
    let id = create(&kv, &token, external("Walk"));
    let plan = add_plan(&kv, &owner, &id);
    call(
        &kv,
        Some(&token),
        Method::Put,
        &format!("/api/services/{id}/api-spec"),
        Some(json!({"openapi": "3.0.3", "paths": {}})),
    );
    call(
        &kv,
        Some(&token),
        Method::Post,
        &format!("/api/services/{id}/publish"),
        None,
    );
    kv.increment(&Service::subscription_count_key(&id), 1)
        .unwrap();
    // Exec / Check
    let r = call(
        &kv,
        Some(&token),
        Method::Delete,
        &format!("/api/services/{id}"),
        None,
    );
    assert_eq!(r.status, 409);
    kv.increment(&Service::subscription_count_key(&id), -1)
        .unwrap();
    let r = call(
        &kv,
        Some(&token),
        Method::Delete,
        &format!("/api/services/{id}"),
        None,
    );
    assert_eq!(r.status, 204);
    for (key, _) in kv.dump() {
        let index_slot = key.starts_with("marketplace/0")
            || key.starts_with(&format!("account/{owner}/services/0"));
        assert!(!index_slot, "left behind: {key}");
        assert!(
            !key.starts_with(&format!("service/{id}/api-spec")),
            "left behind: {key}"
        );
        assert_ne!(key, format!("plan/{plan}"));
        assert_ne!(key, format!("service/{id}"));
    }
    let market = call(&kv, None, Method::Get, "/api/marketplace/services", None).json_value();
    assert_eq!(market["items"], json!([]));
}

#[test]
fn the_marketplace_filters_by_backend_and_text_and_pages() {
    // Setup
    let kv = MemoryStore::new();
    let (ada_id, ada) = account(&kv, "ada");
    let (bob_id, bob) = account(&kv, "bob");
    let publish = |owner: &str, token: &str, name: &str, backend: &str, description: &str| {
        let mut body = external(name);
        body["quantumBackend"] = json!(backend);
        body["description"] = json!(description);
        let id = create(&kv, token, body);
        add_plan(&kv, owner, &id);
        assert_eq!(
            call(
                &kv,
                Some(token),
                Method::Post,
                &format!("/api/services/{id}/publish"),
                None
            )
            .status,
            200
        );
        id
    };
    let a = publish(&ada_id, &ada, "Quantum Walk", "IBM", "random walks");
    let b = publish(
        &bob_id,
        &bob,
        "Annealer",
        "DWAVE",
        "QUBO solving with a WALKing twist",
    );
    let c = publish(&bob_id, &bob, "Optimizer", "IBM", "portfolio");
    create(&kv, &ada, external("Unpublished walk"));
    // Exec / Check
    let names = |query: &str| -> Vec<String> {
        let r = call(
            &kv,
            None,
            Method::Get,
            &format!("/api/marketplace/services{query}"),
            None,
        );
        assert_eq!(r.status, 200, "{query}");
        r.json_value()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(""), vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(names("?quantumBackend=IBM"), vec![c.clone(), a.clone()]);
    assert_eq!(names("?q=walk"), vec![b.clone(), a.clone()]);
    assert_eq!(names("?q=WALK&quantumBackend=DWAVE"), vec![b.clone()]);
    assert_eq!(names("?q=nothing-matches"), Vec::<String>::new());
    let first = call(
        &kv,
        None,
        Method::Get,
        "/api/marketplace/services?limit=2",
        None,
    )
    .json_value();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = call(
        &kv,
        None,
        Method::Get,
        &format!("/api/marketplace/services?limit=2&cursor={cursor}"),
        None,
    )
    .json_value();
    assert_eq!(second["items"][0]["id"], a.as_str());
    assert_eq!(second["nextCursor"], Value::Null);
    assert_eq!(
        call(
            &kv,
            None,
            Method::Get,
            "/api/marketplace/services?quantumBackend=GOOGLE",
            None
        )
        .status,
        400
    );
}

#[test]
fn the_api_spec_is_a_default_until_one_is_given_as_json_or_yaml() {
    // Setup
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let mut body = external("Walk");
    body["apiSpecification"] = json!("openapi: 3.0.3\ninfo: {title: Walk, version: '1'}\npaths:\n  /walk:\n    post:\n      responses:\n        200: {description: ok}\n");
    let with_spec = create(&kv, &token, body);
    let id = create(&kv, &token, external("Plain"));
    let path = format!("/api/services/{id}/api-spec");
    // Exec / Check: default
    let default = call(&kv, Some(&token), Method::Get, &path, None).json_value();
    assert_eq!(default["servers"][0]["url"], format!("/gateway/{id}"));
    assert_eq!(
        default["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // given on create as YAML
    let given = call(
        &kv,
        Some(&token),
        Method::Get,
        &format!("/api/services/{with_spec}/api-spec"),
        None,
    )
    .json_value();
    assert_eq!(
        given["paths"]["/walk"]["post"]["responses"]["200"]["description"],
        "ok"
    );
    // PUT as YAML text
    for media in ["application/yaml", "application/x-yaml", "text/yaml"] {
        let r = raw(
            &kv,
            &token,
            Method::Put,
            &path,
            media,
            "openapi: '3.1.0'\npaths:\n  /x: {}\n",
        );
        assert_eq!(
            r.status,
            200,
            "{media}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let stored = call(&kv, Some(&token), Method::Get, &path, None).json_value();
    assert_eq!(stored, json!({"openapi": "3.1.0", "paths": {"/x": {}}}));
    // PUT as JSON object
    let r = call(
        &kv,
        Some(&token),
        Method::Put,
        &path,
        Some(json!({"openapi": "3.0.3", "paths": {"/y": {}}})),
    );
    assert_eq!(r.status, 200);
    // refused documents leave the stored one alone
    for (media, text, status) in [
        (
            "application/json",
            r#"{"swagger": "2.0", "paths": {}}"#,
            422,
        ),
        ("application/yaml", "swagger: '2.0'\npaths: {}\n", 422),
        ("application/yaml", "openapi: [3.0.3\npaths: {", 400),
        ("application/json", r#"{"openapi": "3.0.3""#, 400),
        ("application/yaml", "openapi: '3.0.3'\n", 422),
        ("text/plain", "openapi: '3.0.3'\npaths: {}\n", 415),
    ] {
        let r = raw(&kv, &token, Method::Put, &path, media, text);
        assert_eq!(
            r.status,
            status,
            "{media} {text}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    let big = format!(
        "openapi: '3.0.3'\npaths: {{}}\nx: '{}'\n",
        "a".repeat(api_spec::MAX_SPEC_BYTES)
    );
    assert_eq!(
        raw(&kv, &token, Method::Put, &path, "application/yaml", &big).status,
        413
    );
    let stored = call(&kv, Some(&token), Method::Get, &path, None).json_value();
    assert_eq!(stored["paths"], json!({"/y": {}}));
    // PATCH with null returns to the default
    call(
        &kv,
        Some(&token),
        Method::Patch,
        &format!("/api/services/{id}"),
        Some(json!({"apiSpecification": null})),
    );
    let back = call(&kv, Some(&token), Method::Get, &path, None).json_value();
    assert_eq!(back["servers"][0]["url"], format!("/gateway/{id}"));
}

#[test]
fn without_a_configured_key_a_generated_one_seals_the_password() {
    let kv = MemoryStore::new();
    let (_, token) = account(&kv, "ada");
    let req = Request::new(Method::Post, "/api/services")
        .with_header("X-Auth-Token", &token)
        .with_body(external("Walk").to_string());
    let r = route(&req, &kv, &Settings::default(), Timestamp::now()).unwrap();
    assert_eq!(r.status, 201);
    assert!(kv
        .exists(&qmarket_store::value_key(qmarket_sealing::GENERATED_KEY))
        .unwrap());
    for (key, value) in kv.dump() {
        assert!(
            !String::from_utf8_lossy(&value).contains("hunter2"),
            "plaintext under {key}"
        );
    }
}
