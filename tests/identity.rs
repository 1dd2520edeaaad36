//! Identity through the embedded host: sign-up, personal access tokens,
//! applications, the client-credentials grant and subscriptions over HTTP,
//! with the registry and pricing components providing real services.

mod support;

use base64::Engine as _;
use qmarket_host::TestAppOptions;
use serde_json::json;
use support::{
    access_token, create_application, create_external_service, create_plan, lifecycle, manifest,
    platform, platform_with, sign_up, subscribe, Api, Reply,
};

fn basic(key: &str, secret: &str) -> String {
    let raw = format!("{key}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn a_new_account_uses_its_token_by_either_header_until_it_is_revoked() {
    // Setup
    let app = platform();
    let reply = app
        .post("/api/accounts")
        .json(&json!({"name": "Ada", "email": "ada@example.org"}))
        .send()
        .expect(201);
    let account = reply.json();
    let token = account["accessToken"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    // Exec / Check
    let me = app.get("/api/me").bearer(&token).send().expect(200).json();
    assert_eq!(me["id"], account["id"]);
    assert_eq!(me["email"], "ada@example.org");
    app.get("/api/me")
        .header("X-Auth-Token", &token)
        .send()
        .expect(200);
    app.get("/api/me")
        .header("x-auth-token", &token)
        .send()
        .expect(200);
    let created = app
        .post("/api/access-tokens")
        .bearer(&token)
        .json(&json!({"name": "ci", "scopes": ["API"]}))
        .send()
        .expect(201)
        .json();
    let second = created["value"].as_str().unwrap();
    app.get("/api/me").bearer(second).send().expect(200);
    app.delete(&format!(
        "/api/access-tokens/{}",
        created["id"].as_str().unwrap()
    ))
    .bearer(&token)
    .send()
    .expect(204);
    let refused = app.get("/api/me").bearer(second).send().expect_problem(401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    app.post("/api/accounts")
        .json(&json!({"name": "Ada 2", "email": "ADA@example.org"}))
        .send()
        .expect_problem(409);
}

#[test]
fn a_token_without_scope_api_is_forbidden_on_the_platform_api() {
    let app = platform();
    let ada = sign_up(&app, "ada");
    let scopeless = app
        .post("/api/access-tokens")
        .bearer(&ada.token)
        .json(&json!({"name": "none", "scopes": []}))
        .send()
        .expect(201)
        .json();
    let value = scopeless["value"].as_str().unwrap();
    app.get("/api/me").bearer(value).send().expect_problem(403);
    app.get("/api/applications")
        .bearer(value)
        .send()
        .expect_problem(403);
    app.get("/api/services")
        .bearer(value)
        .send()
        .expect_problem(403);
}

#[test]
fn closed_sign_up_needs_the_admin_token_from_the_variables() {
    let mut options = TestAppOptions::new(manifest());
    options.env = vec![
        ("SPIN_VARIABLE_ALLOW_OPEN_SIGNUP".into(), "false".into()),
        (
            "SPIN_VARIABLE_ADMIN_TOKEN".into(),
            "operator-secret-1".into(),
        ),
    ];
    let app = platform_with(options);
    let body = json!({"name": "Ada", "email": "ada@example.org"});
    app.post("/api/accounts")
        .json(&body)
        .send()
        .expect_problem(401);
    app.post("/api/accounts")
        .bearer("guess")
        .json(&body)
        .send()
        .expect_problem(401);
    app.post("/api/accounts")
        .bearer("operator-secret-1")
        .json(&body)
        .send()
        .expect(201);
}

#[test]
fn sign_ups_and_token_requests_past_their_rate_limits_are_429_problems_with_retry_after() {
    let mut options = TestAppOptions::new(manifest());
    options.env = vec![
        ("SPIN_VARIABLE_SIGNUP_RATE_LIMIT".into(), "3".into()),
        ("SPIN_VARIABLE_TOKEN_RATE_LIMIT".into(), "2".into()),
    ];
    let app = platform_with(options);
    // The limits count per minute: start well inside one, so the requests
    // below all land in the same window.
    while qmarket_core::Timestamp::now().millis() % 60_000 > 55_000 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let mut statuses = Vec::new();
    for n in 0..4 {
        let reply = app
            .post("/api/accounts")
            .json(&json!({"name": "Ada", "email": format!("ada{n}@example.org")}))
            .send();
        statuses.push(reply.status);
        if reply.status == 429 {
            let wait: u64 = reply
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .expect("seconds");
            assert!((1..=60).contains(&wait), "{wait}");
            reply.expect_problem(429);
        }
    }
    assert_eq!(statuses, [201, 201, 201, 429]);
    let token = || {
        app.post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b"grant_type=client_credentials".to_vec())
            .send()
            .status
    };
    assert_eq!([token(), token(), token()], [401, 401, 429]);
}

#[test]
fn closed_sign_up_without_an_admin_token_is_forbidden() {
    let mut options = TestAppOptions::new(manifest());
    options.env = vec![("SPIN_VARIABLE_ALLOW_OPEN_SIGNUP".into(), "false".into())];
    let app = platform_with(options);
    app.post("/api/accounts")
        .json(&json!({"name": "Ada", "email": "ada@example.org"}))
        .send()
        .expect_problem(403);
}

#[test]
fn bad_input_is_a_precise_client_error_never_a_server_error() {
    let app = platform();
    let ada = sign_up(&app, "ada");
    let cases: Vec<(Reply, u16)> = vec![
        (
            app.post("/api/accounts")
                .header("content-type", "application/json")
                .body("{")
                .send(),
            400,
        ),
        (
            app.post("/api/accounts")
                .json(&json!({"name": "x".repeat(101), "email": "a@example.org"}))
                .send(),
            400,
        ),
        (
            app.post("/api/accounts")
                .json(&json!({"name": "A", "email": "a@example.org", "role": "admin"}))
                .send(),
            400,
        ),
        (
            app.post("/api/accounts")
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"name":"{}","email":"a@example.org"}}"#,
                    "a".repeat(1 << 21)
                ))
                .send(),
            413,
        ),
        (
            app.post("/api/access-tokens")
                .bearer(&ada.token)
                .json(&json!({"name": "t", "scopes": ["ROOT"]}))
                .send(),
            400,
        ),
        (
            app.post("/api/access-tokens")
                .bearer(&ada.token)
                .json(&json!({"name": "t", "scopes": ["API"], "expiresAt": "2001-01-01T00:00:00Z"}))
                .send(),
            422,
        ),
        (
            app.post("/api/applications")
                .bearer(&ada.token)
                .json(&json!({"name": ""}))
                .send(),
            400,
        ),
        (
            app.post("/api/applications")
                .bearer(&ada.token)
                .json(&json!({"name": ["x"]}))
                .send(),
            400,
        ),
        (
            app.get("/api/applications/app_nothing")
                .bearer(&ada.token)
                .send(),
            404,
        ),
        (
            app.delete("/api/subscriptions/sub_nothing")
                .bearer(&ada.token)
                .send(),
            404,
        ),
        (
            app.get("/api/applications?limit=100000")
                .bearer(&ada.token)
                .send(),
            400,
        ),
    ];
    for (reply, status) in cases {
        reply.expect_problem(status);
    }
}

#[test]
fn the_client_credentials_grant_and_its_rfc_6749_errors() {
    let app = platform();
    let ada = sign_up(&app, "ada");
    let client = create_application(&app, &ada);
    let good = basic(&client.consumer_key, &client.consumer_secret);
    let form = "application/x-www-form-urlencoded";

    let reply = app
        .post("/oauth/token")
        .header("authorization", &good)
        .header("content-type", form)
        .body("grant_type=client_credentials")
        .send()
        .expect(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(
        (&body["token_type"], &body["expires_in"], &body["scope"]),
        (&json!("Bearer"), &json!(3600), &json!("default"))
    );
    app.post("/oauth/token")
        .header("content-type", form)
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            client.consumer_key, client.consumer_secret
        ))
        .send()
        .expect(200);

    let token_error = |reply: Reply, status: u16, code: &str| {
        let reply = reply.expect(status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{code}"
        );
        assert_eq!(reply.json()["error"], code, "{}", reply.text);
        if status == 401 {
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Basic realm=\"qmarket\"")
            );
        }
    };
    let post = || app.post("/oauth/token");
    token_error(
        post()
            .header("authorization", &good)
            .header("content-type", form)
            .body("")
            .send(),
        400,
        "invalid_request",
    );
    token_error(
        post()
            .header("authorization", &good)
            .header("content-type", form)
            .body("grant_type=password")
            .send(),
        400,
        "unsupported_grant_type",
    );
    token_error(
        post()
            .header("authorization", &good)
            .header("content-type", form)
            .body(format!(
                "grant_type=client_credentials&client_secret={}",
                client.consumer_secret
            ))
            .send(),
        400,
        "invalid_request",
    );
    token_error(
        post()
            .header("authorization", &good)
            .json(&json!({"grant_type": "client_credentials"}))
            .send(),
        400,
        "invalid_request",
    );
    token_error(
        post()
            .header("authorization", &basic(&client.consumer_key, "wrong"))
            .header("content-type", form)
            .body("grant_type=client_credentials")
            .send(),
        401,
        "invalid_client",
    );
    for malformed in ["Basic ***", "Basic bm9jb2xvbg==", "Basic //79/Q=="] {
        token_error(
            post()
                .header("authorization", malformed)
                .header("content-type", form)
                .body("grant_type=client_credentials")
                .send(),
            401,
            "invalid_client",
        );
    }
    token_error(
        post()
            .header("content-type", form)
            .body("grant_type=client_credentials")
            .send(),
        401,
        "invalid_client",
    );
}

#[test]
fn subscriptions_follow_the_service_lifecycle_and_end_with_their_application() {
    // Setup: a provider's service with a plan, published internally.
    let app = platform();
    let provider = sign_up(&app, "provider");
    let consumer = sign_up(&app, "consumer");
    let service = create_external_service(&app, &provider, "http://127.0.0.1:9/");
    let plan = create_plan(&app, &provider, &service, "0.00001");
    let own = create_application(&app, &provider);
    let theirs = create_application(&app, &consumer);
    let body = json!({"serviceId": service, "pricingPlanId": plan.id});
    let subscribe_as = |token: &str, app_id: &str| {
        app.post(&format!("/api/applications/{app_id}/subscriptions"))
            .bearer(token)
            .json(&body)
            .send()
    };

    // Created: nobody may subscribe.
    subscribe_as(&provider.token, &own.id).expect_problem(404);
    // Accessible: the owner in test mode, a stranger as if it did not exist.
    lifecycle(&app, &provider, &service, "publish-internal");
    let test_sub = subscribe(&app, &provider, &own, &service, &plan.id);
    assert_eq!(test_sub["testMode"], true);
    subscribe_as(&consumer.token, &theirs.id).expect_problem(404);
    // Published: anyone, not in test mode; once per application.
    lifecycle(&app, &provider, &service, "publish");
    let sub = subscribe(&app, &consumer, &theirs, &service, &plan.id);
    assert_eq!(sub["testMode"], false);
    subscribe_as(&consumer.token, &theirs.id).expect_problem(409);
    // Someone else's application or subscription: 404.
    subscribe_as(&provider.token, &theirs.id).expect_problem(404);
    let sub_id = sub["id"].as_str().unwrap();
    app.delete(&format!("/api/subscriptions/{sub_id}"))
        .bearer(&provider.token)
        .send()
        .expect_problem(404);

    let listed = app
        .get(&format!("/api/applications/{}/subscriptions", theirs.id))
        .bearer(&consumer.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], sub["id"]);

    // Deleting the consumer's application ends its subscription and its tokens.
    let gateway_token = access_token(&app, &theirs);
    app.delete(&format!("/api/applications/{}", theirs.id))
        .bearer(&consumer.token)
        .send()
        .expect(204);
    app.get(&format!("/gateway/{service}/anything"))
        .bearer(&gateway_token)
        .send()
        .expect(401);
    app.get(&format!("/api/subscriptions/{sub_id}"))
        .bearer(&consumer.token)
        .send()
        .expect_problem(404);
    app.delete(&format!(
        "/api/subscriptions/{}",
        test_sub["id"].as_str().unwrap()
    ))
    .bearer(&provider.token)
    .send()
    .expect(204);
    // With no active subscription left, the provider may delete the service.
    app.delete(&format!("/api/services/{service}"))
        .bearer(&provider.token)
        .send()
        .expect(204);
}

#[test]
fn no_response_repeats_a_secret_after_the_one_that_created_it() {
    // Every `send` below runs support's secret scan: a secret in any later
    // response or host log line fails the call that saw it. The flows give
    // it every kind of secret and every way of presenting one.
    let app = platform();
    let mut secrets: Vec<String> = Vec::new();

    let account = app
        .post("/api/accounts")
        .json(&json!({"name": "Ada", "email": "ada@example.org"}))
        .send()
        .expect(201)
        .json();
    let token = account["accessToken"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(token.clone());
    let other = app
        .post("/api/accounts")
        .json(&json!({"name": "Bob", "email": "bob@example.org"}))
        .send()
        .expect(201)
        .json();
    let bob = other["accessToken"]["value"].as_str().unwrap().to_string();
    secrets.push(bob.clone());
    app.get("/api/me").bearer(&token).send().expect(200);
    let pat = app
        .post("/api/access-tokens")
        .bearer(&token)
        .json(&json!({"name": "ci", "scopes": ["API"], "expiresAt": "2999-01-01T00:00:00Z"}))
        .send()
        .expect(201)
        .json();
    let pat_value = pat["value"].as_str().unwrap().to_string();
    secrets.push(pat_value.clone());
    app.get("/api/access-tokens")
        .bearer(&pat_value)
        .send()
        .expect(200);
    app.get("/api/access-tokens")
        .header("X-Auth-Token", &token)
        .send()
        .expect(200);

    let created = app
        .post("/api/applications")
        .bearer(&token)
        .json(&json!({"name": "lab"}))
        .send()
        .expect(201)
        .json();
    let app_id = created["id"].as_str().unwrap().to_string();
    let key = created["consumerKey"].as_str().unwrap().to_string();
    let secret = created["consumerSecret"].as_str().unwrap().to_string();
    secrets.push(secret.clone());
    app.get("/api/applications")
        .bearer(&token)
        .send()
        .expect(200);
    app.get(&format!("/api/applications/{app_id}"))
        .bearer(&token)
        .send()
        .expect(200);
    app.get(&format!("/api/applications/{app_id}"))
        .bearer(&bob)
        .send()
        .expect_problem(404);

    let form = "application/x-www-form-urlencoded";
    let issued = app
        .post("/oauth/token")
        .header("authorization", &basic(&key, &secret))
        .header("content-type", form)
        .body("grant_type=client_credentials")
        .send()
        .expect(200)
        .json();
    secrets.push(issued["access_token"].as_str().unwrap().to_string());
    let issued = app
        .post("/oauth/token")
        .header("content-type", form)
        .body(format!(
            "grant_type=client_credentials&client_id={key}&client_secret={secret}"
        ))
        .send()
        .expect(200)
        .json();
    secrets.push(issued["access_token"].as_str().unwrap().to_string());
    app.post("/oauth/token")
        .header("authorization", &basic(&key, &secret))
        .header("content-type", form)
        .body(format!(
            "grant_type=client_credentials&client_secret={secret}"
        ))
        .send()
        .expect(400);
    app.post("/oauth/token")
        .header("authorization", &basic(&key, &format!("{secret}x")))
        .header("content-type", form)
        .body("grant_type=client_credentials")
        .send()
        .expect(401);
    app.post("/oauth/token")
        .header("authorization", &basic(&key, &secret))
        .header("content-type", form)
        .body(format!("grant_type={secret}"))
        .send()
        .expect(400);

    app.delete(&format!(
        "/api/access-tokens/{}",
        pat["id"].as_str().unwrap()
    ))
    .bearer(&token)
    .send()
    .expect(204);
    app.get("/api/me")
        .bearer(&pat_value)
        .send()
        .expect_problem(401);
    app.get("/api/me")
        .header("X-Auth-Token", &format!("{token}x"))
        .send()
        .expect_problem(401);
    app.delete(&format!("/api/applications/{app_id}"))
        .bearer(&token)
        .send()
        .expect(204);

    // The scan knew each secret from the response that created it on.
    for secret in &secrets {
        assert!(support::secrets::registry().knows(secret));
    }
}
