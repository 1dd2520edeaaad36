//! Native tests of the component's decisions (the transport is wasm only
//! and covered by the integration tests through the host).

use super::*;
use qmarket_core::Error;
use qmarket_http::Method;
use qmarket_http::StatusOf;
use qmarket_model::{
    Lifecycle, Record, SecurityConfiguration, SecurityType, Service, ServiceType, Subscription,
};
use qmarket_store::MemoryStore;

const SVC: &str = "svc_0123456789abcdefghjkmnpqrs";
const SUB: &str = "sub_0123456789abcdefghjkmnpqrs";
const APP: &str = "app_0123456789abcdefghjkmnpqrs";

fn correlations() -> Sealer {
    Sealer::from_key(&[7; 32]).for_purpose(qmarket_model::SealedCorrelation::PURPOSE)
}

fn caller() -> Caller {
    Caller {
        application_id: APP.into(),
        account_id: "acc_consumer".into(),
    }
}

fn store_with(url: &str, security: SecurityConfiguration) -> MemoryStore {
    let kv = MemoryStore::new();
    Service {
        id: SVC.into(),
        owner_id: "acc_provider".into(),
        name: "Quantum walk".into(),
        kind: ServiceType::External,
        description: String::new(),
        quantum_backend: "SIMULATOR".into(),
        url: Some(url.into()),
        security_configuration: security,
        managed: None,
        lifecycle: Lifecycle::Published,
        created_at: Timestamp::from_millis(0),
        updated_at: Timestamp::from_millis(0),
        index_seq: 1,
        marketplace_seq: Some(1),
        other_changes_at: None,
    }
    .save_with_state(&kv)
    .unwrap();
    Subscription {
        id: SUB.into(),
        application_id: APP.into(),
        subscriber_id: "acc_consumer".into(),
        service_id: SVC.into(),
        provider_id: "acc_provider".into(),
        pricing_plan_id: "plan_1".into(),
        test_mode: true,
        created_at: Timestamp::from_millis(0),
        index_seq: 1,
        limits: None,
    }
    .save(&kv)
    .unwrap();
    let key = Subscription::by_application_and_service_key(APP, SVC);
    qmarket_store::set_json(&kv, &key, &SUB).unwrap();
    kv
}

fn never_open(_: &str) -> Result<String> {
    panic!("no password to open")
}

fn value<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| std::str::from_utf8(v).unwrap())
}

#[test]
fn an_admitted_call_targets_the_service_url_with_the_remainder_and_query() {
    let kv = store_with(
        "http://upstream.test:8080/api",
        SecurityConfiguration::none(),
    );
    let req = Request::new(Method::Post, &format!("/gateway/{SVC}/runs/7?shots=100"));
    let admission = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(5),
        never_open,
        &correlations(),
    )
    .unwrap()
    .forwarded()
    .unwrap();
    assert_eq!(
        admission.target.url(),
        "http://upstream.test:8080/api/runs/7?shots=100"
    );
    assert_eq!(admission.authorization, None);
    let c = &admission.correlation;
    assert_eq!(
        (c.subscription_id.as_str(), c.service_id.as_str()),
        (SUB, SVC)
    );
    assert!(c.test_mode);
    assert_eq!(c.created_at, Timestamp::from_millis(5));
}

#[test]
fn admission_writes_nothing_and_its_correlation_opens_for_metering() {
    let kv = store_with("http://upstream.test/api", SecurityConfiguration::none());
    let before = kv.dump();
    let req = Request::new(Method::Get, &format!("/gateway/{SVC}"));
    let admission = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(0),
        never_open,
        &correlations(),
    )
    .unwrap()
    .forwarded()
    .unwrap();
    assert_eq!(kv.dump(), before);
    let opened =
        qmarket_model::SealedCorrelation::open(&correlations(), &admission.correlation.id).unwrap();
    assert_eq!(opened.subscription_id, SUB);
}

#[test]
fn a_basic_service_gets_its_opened_password_upstream() {
    let security = SecurityConfiguration {
        kind: SecurityType::Basic,
        username: Some("qpu".into()),
        sealed_password: Some("sealed-secret".into()),
    };
    let kv = store_with("https://upstream.test", security);
    let req = Request::new(Method::Get, &format!("/gateway/{SVC}/"))
        .with_header("authorization", "Bearer consumer-token");
    let admission = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(0),
        |sealed| {
            assert_eq!(sealed, "sealed-secret");
            Ok("hunter2".into())
        },
        &correlations(),
    )
    .unwrap()
    .forwarded()
    .unwrap();
    let headers = admission.upstream_headers(&req, 0);
    // base64("qpu:hunter2")
    assert_eq!(
        value(&headers, "authorization"),
        Some("Basic cXB1Omh1bnRlcjI=")
    );
}

#[test]
fn upstream_headers_carry_the_correlation_and_where_the_call_came_from() {
    let kv = store_with("http://upstream.test/api", SecurityConfiguration::none());
    let req = Request::new(Method::Post, &format!("/gateway/{SVC}/x"))
        .with_header(
            "spin-full-url",
            &format!("https://market.example/gateway/{SVC}/x"),
        )
        .with_header("spin-client-addr", "198.51.100.9:40000")
        .with_header("x-forwarded-for", "203.0.113.1")
        .with_header("x-correlation-id", "forged")
        .with_header("content-type", "application/json")
        .with_header("host", "market.example");
    let admission = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(0),
        never_open,
        &correlations(),
    )
    .unwrap()
    .forwarded()
    .unwrap();
    let headers = admission.upstream_headers(&req, 2);
    assert_eq!(
        value(&headers, "x-correlation-id"),
        Some(admission.correlation.id.as_str())
    );
    assert_eq!(
        value(&headers, "x-forwarded-for"),
        Some("203.0.113.1, 198.51.100.9")
    );
    assert_eq!(value(&headers, "x-forwarded-proto"), Some("https"));
    assert_eq!(value(&headers, "x-forwarded-host"), Some("market.example"));
    assert_eq!(value(&headers, "content-type"), Some("application/json"));
    assert_eq!(value(&headers, "content-length"), Some("2"));
    assert_eq!(value(&headers, "host"), None);
    assert_eq!(value(&headers, "spin-full-url"), None);
}

#[test]
fn a_service_without_a_usable_url_is_a_bad_gateway() {
    let kv = store_with("ftp://upstream.test", SecurityConfiguration::none());
    let req = Request::new(Method::Get, &format!("/gateway/{SVC}"));
    let error = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(0),
        never_open,
        &correlations(),
    )
    .unwrap_err();
    assert_eq!(error.status(), 502);
}

#[test]
fn refusals_keep_their_status() {
    let kv = store_with("http://upstream.test", SecurityConfiguration::none());
    let stranger = Caller {
        application_id: "app_zzzzzzzzzzzzzzzzzzzzzzzzzz".into(),
        account_id: "acc_other".into(),
    };
    let req = Request::new(Method::Get, &format!("/gateway/{SVC}"));
    let status = |r: Result<Call>| r.map(|_| ()).unwrap_err().status();
    assert_eq!(
        status(admit(
            &req,
            &kv,
            &stranger,
            Timestamp::from_millis(0),
            never_open,
            &correlations()
        )),
        403
    );
    let unknown = Request::new(Method::Get, "/gateway/svc_zzzzzzzzzzzzzzzzzzzzzzzzzz/x");
    assert_eq!(
        status(admit(
            &unknown,
            &kv,
            &caller(),
            Timestamp::from_millis(0),
            never_open,
            &correlations()
        )),
        404
    );
    let dots = Request::new(Method::Get, &format!("/gateway/{SVC}/../admin"));
    assert_eq!(
        status(admit(
            &dots,
            &kv,
            &caller(),
            Timestamp::from_millis(0),
            never_open,
            &correlations()
        )),
        400
    );
}

#[test]
fn a_password_that_cannot_be_opened_is_an_internal_error() {
    let security = SecurityConfiguration {
        kind: SecurityType::Basic,
        username: Some("u".into()),
        sealed_password: Some("v1.broken".into()),
    };
    let kv = store_with("http://upstream.test", security);
    let req = Request::new(Method::Get, &format!("/gateway/{SVC}"));
    let error = admit(
        &req,
        &kv,
        &caller(),
        Timestamp::from_millis(0),
        |_| Err(Error::Internal("cannot open".into())),
        &correlations(),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(error.status(), 500);
}

#[test]
fn configuration_comes_from_the_variables_with_defaults_for_bad_values() {
    let config = config_from(|name| match name {
        "gateway_timeout_ms" => Some("1500".into()),
        "gateway_max_body_bytes" => Some("lots".into()),
        _ => None,
    });
    assert_eq!(config.timeout, std::time::Duration::from_millis(1500));
    assert_eq!(
        config.max_body_bytes,
        qmarket_gateway::DEFAULT_MAX_BODY_BYTES
    );
}
