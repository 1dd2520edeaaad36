//! The component's routing and HTTP mapping over a seeded memory store.

use qmarket_core::Timestamp;
use qmarket_http::{Method, Request, Response};
use qmarket_metering::fixtures::*;
use serde_json::{json, Value};

use super::*;

fn post(path: &str, body: &str) -> Request {
    Request::new(Method::Post, path)
        .with_header("content-type", "application/json")
        .with_body(body)
}

fn get(path: &str) -> Request {
    Request::new(Method::Get, path)
}

fn call(w: &World, caller: &str, req: Request) -> Response {
    route_as(&req, &ingest(&*w.kv, caller, quick())).unwrap_or_else(|e| problem(&e))
}

#[test]
fn the_planqk_path_and_the_alias_both_record_a_report() {
    let w = world();
    for path in [PLANQK_METERING_PATH, METERING_PATH, "/api/metering/"] {
        let r = call(
            &w,
            PROVIDER,
            post(
                path,
                &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1}}"#),
            ),
        );
        assert_eq!(r.status, 200, "{path}");
        let body = r.json_value();
        assert_eq!(body["count"], "1");
        assert_eq!(body["productId"], API);
        assert_eq!(body["correlationId"], CORRELATION);
        assert_eq!(body["testMode"], false);
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(body["timestamp"], "2026-11-22T10:15:30.123Z");
    }
}

#[test]
fn the_older_planqk_shape_with_item_id_and_a_string_count_is_accepted() {
    let w = world();
    let r = call(
        &w,
        PROVIDER,
        post(
            PLANQK_METERING_PATH,
            &format!(r#"{{"itemId":"{API}","count":"3","correlationId":"{CORRELATION}"}}"#),
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json_value()["count"], "3");
}

#[test]
fn every_bad_input_gets_its_precise_4xx_problem() {
    let w = world();
    let ok = |extra: &str| {
        format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1{extra}}}"#)
    };
    let rows: Vec<(String, u16)> = vec![
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":0}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":-2}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":"NaN"}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1e400}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":"abc"}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":true}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":[1]}}"#),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":null}}"#),
            400,
        ),
        (
            format!(
                r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":"0.0000001"}}"#
            ),
            400,
        ),
        (
            format!(
                r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":"1000000000"}}"#
            ),
            400,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}"}}"#),
            400,
        ),
        (r#"{"productId":"prod_api","count":1}"#.into(), 400),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","count":1}}"#),
            400,
        ),
        (
            format!(
                r#"{{"correlationId":"{CORRELATION}","productId":"{API}","itemId":"{CPU}","count":1}}"#
            ),
            400,
        ),
        (ok(r#","eventId":"""#), 400),
        (ok(&format!(r#","eventId":"{}""#, "e".repeat(201))), 400),
        (ok(r#","timestamp":"yesterday""#), 400),
        (ok(r#","extra":true"#), 400),
        ("{not json".into(), 400),
        ("".into(), 400),
        ("[]".into(), 400),
        (
            r#"{"correlationId":"corr-nope","productId":"prod_api","count":1}"#.into(),
            404,
        ),
        (
            format!(r#"{{"correlationId":"{CORRELATION}","productId":"prod_nope","count":1}}"#),
            422,
        ),
        (ok(r#","timestamp":"2026-11-22T10:21:00Z""#), 422),
        (ok(r#","timestamp":"2026-10-18T10:00:00Z""#), 422),
    ];
    for (body, status) in rows {
        let r = call(&w, PROVIDER, post(METERING_PATH, &body));
        assert_eq!(r.status, status, "{body}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{body}"
        );
        assert!(
            !r.json_value()["detail"].as_str().unwrap_or("").is_empty(),
            "{body}"
        );
    }
    let r = call(
        &w,
        PROVIDER,
        Request::new(Method::Post, METERING_PATH)
            .with_header("content-type", "text/plain")
            .with_body(ok("")),
    );
    assert_eq!(r.status, 415);
    assert_eq!(call(&w, PROVIDER, get(METERING_PATH)).status, 405);
    assert_eq!(call(&w, PROVIDER, get("/api/metering/nothing")).status, 404);
}

#[test]
fn another_provider_gets_404_for_a_correlation_it_does_not_own() {
    let w = world();
    let r = call(
        &w,
        STRANGER,
        post(
            METERING_PATH,
            &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1}}"#),
        ),
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json_value()["detail"],
        format!("correlation '{CORRELATION}' does not exist")
    );
}

#[test]
fn a_repeated_idempotency_key_answers_the_first_event_and_says_so() {
    let w = world();
    let req = || {
        post(
            METERING_PATH,
            &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1}}"#),
        )
        .with_header("Idempotency-Key", "k-1")
    };
    let first = call(&w, PROVIDER, req());
    let second = call(&w, PROVIDER, req());
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 200);
    assert_eq!(first.body, second.body);
    assert_eq!(first.header(REPLAYED_HEADER), None);
    assert_eq!(second.header(REPLAYED_HEADER), Some("true"));
    let usage = call(
        &w,
        CONSUMER,
        get(&format!(
            "/api/subscriptions/{SUBSCRIPTION}/usage?from=2026-11-22&to=2026-11-22"
        )),
    );
    assert_eq!(usage.json_value()["lines"][0]["quantity"], "1");
}

#[test]
fn a_batch_answers_each_report_with_its_status_and_event_or_problem() {
    let w = world();
    let body = json!({"events": [
        {"correlationId": CORRELATION, "productId": API, "count": "2.5"},
        {"correlationId": CORRELATION, "productId": API, "count": "x"},
        {"correlationId": CORRELATION, "productId": "prod_nope", "count": 1},
    ]});
    let r = call(&w, PROVIDER, post(BATCH_PATH, &body.to_string()));
    assert_eq!(r.status, 200);
    let results = r.json_value()["results"].clone();
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[0]["event"]["count"], "2.5");
    assert_eq!(results[1]["status"], 400);
    assert_eq!(results[1]["error"]["status"], 400);
    assert_eq!(results[1]["error"]["errors"][0]["field"], "count");
    assert_eq!(results[2]["status"], 422);
    assert!(results[2].get("event").is_none());
    let too_many = json!({"events": vec![body["events"][0].clone(); 101]});
    assert_eq!(
        call(&w, PROVIDER, post(BATCH_PATH, &too_many.to_string())).status,
        400
    );
}

#[test]
fn a_batch_under_an_idempotency_key_is_answered_again_and_marked_replayed() {
    let w = world();
    let body = json!({"events": [
        {"correlationId": CORRELATION, "productId": API, "count": 2},
    ]});
    let keyed = || post(BATCH_PATH, &body.to_string()).with_header("Idempotency-Key", "k");
    let first = call(&w, PROVIDER, keyed());
    assert_eq!(first.status, 200);
    assert_eq!(first.header(REPLAYED_HEADER), None);
    let again = call(&w, PROVIDER, keyed());
    assert_eq!(again.status, 200);
    assert_eq!(again.header(REPLAYED_HEADER), Some("true"));
    assert_eq!(again.json_value(), first.json_value());
    let other = post(BATCH_PATH, r#"{"events":[]}"#).with_header("Idempotency-Key", "k");
    assert_eq!(call(&w, PROVIDER, other).status, 400);
    let reused = post(
        BATCH_PATH,
        &json!({"events": [{"correlationId": CORRELATION, "productId": API, "count": 3}]})
            .to_string(),
    )
    .with_header("Idempotency-Key", "k");
    assert_eq!(call(&w, PROVIDER, reused).status, 422);
}

#[test]
fn events_list_with_filters_limits_and_cursors_for_the_owner_only() {
    let w = world();
    for _ in 0..3 {
        call(
            &w,
            PROVIDER,
            post(
                METERING_PATH,
                &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1}}"#),
            ),
        );
    }
    let page = call(
        &w,
        PROVIDER,
        get(&format!("/api/services/{SERVICE}/metering-events?limit=2")),
    );
    assert_eq!(page.status, 200);
    let body = page.json_value();
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let cursor = body["nextCursor"].as_str().unwrap().to_string();
    let rest = call(
        &w,
        PROVIDER,
        get(&format!(
            "/api/services/{SERVICE}/metering-events?limit=2&cursor={cursor}"
        )),
    )
    .json_value();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["nextCursor"], Value::Null);
    let live = call(
        &w,
        PROVIDER,
        get(&format!(
            "/api/services/{SERVICE}/metering-events?testMode=true"
        )),
    );
    assert_eq!(live.json_value()["items"], json!([]));
    for bad in [
        "testMode=yes",
        "limit=0",
        "cursor=abc",
        "from=soon",
        "from=2026-11-22&to=2026-11-21",
    ] {
        let r = call(
            &w,
            PROVIDER,
            get(&format!("/api/services/{SERVICE}/metering-events?{bad}")),
        );
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        call(
            &w,
            STRANGER,
            get(&format!("/api/services/{SERVICE}/metering-events"))
        )
        .status,
        404
    );
    assert_eq!(
        call(
            &w,
            CONSUMER,
            get(&format!("/api/services/{SERVICE}/metering-events"))
        )
        .status,
        404
    );
}

#[test]
fn usage_states_its_window_and_defaults_to_the_current_month() {
    let w = world();
    call(
        &w,
        PROVIDER,
        post(
            METERING_PATH,
            &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":3}}"#),
        ),
    );
    let r = call(
        &w,
        CONSUMER,
        get(&format!("/api/subscriptions/{SUBSCRIPTION}/usage")),
    );
    assert_eq!(r.status, 200);
    let body = r.json_value();
    assert_eq!(body["subscriptionId"], SUBSCRIPTION);
    assert_eq!(body["from"], "2026-11-01T00:00:00.000Z");
    assert_eq!(body["to"], "2026-12-01T00:00:00.000Z");
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["testMode"], false);
    assert_eq!(body["lines"][0]["amount"], "0.00003");
    assert_eq!(body["total"], "0.00003");
    assert_eq!(
        call(
            &w,
            STRANGER,
            get(&format!("/api/subscriptions/{SUBSCRIPTION}/usage"))
        )
        .status,
        404
    );
    let r = call(
        &w,
        CONSUMER,
        get(&format!(
            "/api/subscriptions/{SUBSCRIPTION}/usage?from=2020-01-01&to=2026-01-01"
        )),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn invoices_their_events_as_csv_and_revenue_are_served_and_mapped_to_http() {
    let w = world();
    for count in [2, 3] {
        call(
            &w,
            PROVIDER,
            post(
                METERING_PATH,
                &format!(
                    r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":{count}}}"#
                ),
            ),
        );
    }
    let list = call(
        &w,
        CONSUMER,
        get(&format!("/api/subscriptions/{SUBSCRIPTION}/invoices")),
    );
    assert_eq!(list.status, 200);
    let body = list.json_value();
    assert_eq!(body["items"][0]["month"], "2026-11");
    assert_eq!(body["items"][0]["status"], "OPEN");
    assert_eq!(body["items"][0]["total"], "0.00005");
    assert_eq!(body["nextCursor"], Value::Null);
    let one = call(
        &w,
        PROVIDER,
        get(&format!(
            "/api/subscriptions/{SUBSCRIPTION}/invoices/2026-11"
        )),
    );
    assert_eq!(one.json_value()["finalAt"], "2026-12-03T00:00:00.000Z");
    let csv = call(
        &w,
        CONSUMER,
        get(&format!(
            "/api/subscriptions/{SUBSCRIPTION}/invoices/2026-11/events.csv"
        )),
    );
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.header("content-type"),
        Some(qmarket_http::CSV_CONTENT_TYPE)
    );
    let text = String::from_utf8(csv.body).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows[0], INVOICE_EVENT_COLUMNS.join(","));
    let amounts: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(6).unwrap())
        .collect();
    assert_eq!(amounts, ["0.00002", "0.00003"]);
    for (path, status) in [
        (
            format!("/api/subscriptions/{SUBSCRIPTION}/invoices/2026-12"),
            404,
        ),
        (
            format!("/api/subscriptions/{SUBSCRIPTION}/invoices/december"),
            404,
        ),
        (
            format!("/api/subscriptions/{SUBSCRIPTION}/invoices/2026-10/events.csv"),
            404,
        ),
        (
            format!("/api/subscriptions/{SUBSCRIPTION}/invoices?cursor=x"),
            400,
        ),
        (format!("/api/services/{SERVICE}/revenue?month=2026-1"), 400),
    ] {
        assert_eq!(call(&w, CONSUMER, get(&path)).status, status, "{path}");
    }
    let revenue = call(
        &w,
        PROVIDER,
        get(&format!("/api/services/{SERVICE}/revenue")),
    );
    assert_eq!(revenue.status, 200);
    assert_eq!(revenue.json_value()["month"], "2026-11");
    assert_eq!(
        call(
            &w,
            CONSUMER,
            get(&format!("/api/services/{SERVICE}/revenue"))
        )
        .status,
        404
    );
    let posted = call(
        &w,
        PROVIDER,
        Request::new(
            Method::Post,
            &format!("/api/subscriptions/{SUBSCRIPTION}/invoices"),
        ),
    );
    assert_eq!(posted.status, 405);
}

mod authentication {
    use super::*;
    use qmarket_identity::access_token::{create, NewAccessToken};
    use qmarket_identity::account::{sign_up, NewAccount};
    use qmarket_model::{Correlation, Record, Scope};

    /// The seeded world, with the provider as a real signed-up account.
    fn signed_up() -> (World, String) {
        let w = world();
        let created = sign_up(
            &*w.kv,
            NewAccount {
                name: "Provider".into(),
                email: "provider@example.org".into(),
            },
            Timestamp::now(),
        )
        .unwrap();
        let provider = created.id.clone();
        let mut correlation = Correlation::load(&*w.kv, CORRELATION).unwrap().unwrap();
        correlation.provider_id = provider.clone();
        correlation.save(&*w.kv).unwrap();
        (w, created.access_token.value.expose().to_string())
    }

    fn report() -> Request {
        post(
            PLANQK_METERING_PATH,
            &format!(r#"{{"correlationId":"{CORRELATION}","productId":"{API}","count":1}}"#),
        )
    }

    fn serve(w: &World, req: Request) -> Response {
        route(&req, &*w.kv, Some(KEY), None).unwrap_or_else(|e| problem(&e))
    }

    /// The platform key of these tests.
    const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    #[test]
    fn the_x_auth_token_header_works_in_any_case_and_so_does_bearer() {
        let (w, token) = signed_up();
        for name in ["X-Auth-Token", "x-auth-token", "X-AUTH-TOKEN"] {
            let r = serve(&w, report().with_header(name, &token));
            assert_eq!(r.status, 200, "{name}: {:?}", r.json_value());
        }
        let r = serve(
            &w,
            report().with_header("Authorization", &format!("Bearer {token}")),
        );
        assert_eq!(r.status, 200);
    }

    #[test]
    fn no_or_a_wrong_token_is_401_and_a_token_without_scope_api_is_403() {
        let (w, token) = signed_up();
        let r = serve(&w, report());
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            serve(&w, report().with_header("X-Auth-Token", "pat_wrong")).status,
            401
        );
        let account = qmarket_identity::authenticate_api(
            &Request::new(Method::Get, "/").with_header("x-auth-token", &token),
            &*w.kv,
            Timestamp::now(),
        )
        .unwrap()
        .account_id;
        let scopeless = create(
            &*w.kv,
            &account,
            NewAccessToken {
                name: "read nothing".into(),
                scopes: Vec::<Scope>::new(),
                expires_at: None,
            },
            Timestamp::now(),
        )
        .unwrap();
        let r = serve(&w, report().with_header("X-Auth-Token", &scopeless.value));
        assert_eq!(r.status, 403);
    }

    #[test]
    fn unknown_paths_and_methods_answer_before_authentication() {
        let (w, _) = signed_up();
        assert_eq!(serve(&w, get(PLANQK_METERING_PATH)).status, 405);
        assert_eq!(serve(&w, get("/api/metering/x")).status, 404);
    }
}
