//! The client-credentials grant and every RFC 6749 error it answers with.

mod support;

use base64::Engine as _;
use qmarket_http::{Method, Request};
use qmarket_identity::oauth::AccessClaims;
use qmarket_identity::oauth::{issue_token, OAuthErrorCode, TokenFailure, TokenResponse};
use qmarket_store::MemoryStore;
use support::{account, app, now, tokens};

const FORM: &str = "application/x-www-form-urlencoded";

fn basic(key: &str, secret: &str) -> String {
    let raw = format!("{key}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn token_request(body: &str) -> Request {
    Request::new(Method::Post, "/oauth/token")
        .with_header("Content-Type", FORM)
        .with_body(body)
}

fn oauth_error(result: Result<TokenResponse, TokenFailure>) -> (u16, OAuthErrorCode) {
    match result {
        Err(TokenFailure::OAuth(e)) => (e.status(), e.error),
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

#[test]
fn basic_credentials_get_a_bearer_token_for_an_hour() {
    // Setup
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let req = token_request("grant_type=client_credentials").with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    // Exec
    let token = issue_token(&req, &kv, &tokens(), now()).unwrap();
    // Check
    assert_eq!(
        (token.token_type, token.expires_in, token.scope),
        ("Bearer", 3600, "default")
    );
    let claims = AccessClaims::open(&tokens(), token.access_token.expose()).unwrap();
    assert_eq!(claims.application_id, a.id);
    assert_eq!(claims.account_id, ada.id);
    assert_eq!(claims.expires_at(), now().plus_seconds(3600));
    assert!(token.access_token.expose().starts_with("qmo_"));
}

#[test]
fn form_credentials_get_a_token_and_unknown_parameters_are_ignored() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let req = token_request(&format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=anything&extra=1",
        a.consumer_key,
        a.consumer_secret.expose()
    ))
    .with_header(
        "content-type",
        "application/x-www-form-urlencoded; charset=UTF-8",
    );
    assert!(issue_token(&req, &kv, &tokens(), now()).is_ok());
}

#[test]
fn each_token_request_gets_a_new_token() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let req = token_request("grant_type=client_credentials").with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    let first = issue_token(&req, &kv, &tokens(), now()).unwrap();
    let second = issue_token(&req, &kv, &tokens(), now()).unwrap();
    assert_ne!(first.access_token, second.access_token);
}

#[test]
fn wrong_or_unknown_credentials_are_invalid_client() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let other = app(&kv, &ada.id);
    let cases = [
        basic(&a.consumer_key, "wrong"),
        basic(&a.consumer_key, other.consumer_secret.expose()),
        basic("qmk_unknown", a.consumer_secret.expose()),
        basic("", ""),
        basic(&a.consumer_key, ""),
    ];
    for header in cases {
        let req =
            token_request("grant_type=client_credentials").with_header("Authorization", &header);
        assert_eq!(
            oauth_error(issue_token(&req, &kv, &tokens(), now())),
            (401, OAuthErrorCode::InvalidClient)
        );
    }
    let req = token_request(&format!(
        "grant_type=client_credentials&client_id={}&client_secret=nope",
        a.consumer_key
    ));
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (401, OAuthErrorCode::InvalidClient)
    );
}

#[test]
fn malformed_basic_headers_are_invalid_client() {
    let kv = MemoryStore::new();
    let raw = |bytes: &[u8]| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    for header in [
        "Basic !!!not-base64".to_string(),
        raw(b"no-colon"),
        raw(b"\xff\xfe:\xfd"),
        "Bearer sometoken".to_string(),
        "Basic".to_string(),
    ] {
        let req =
            token_request("grant_type=client_credentials").with_header("Authorization", &header);
        assert_eq!(
            oauth_error(issue_token(&req, &kv, &tokens(), now())),
            (401, OAuthErrorCode::InvalidClient),
            "{header}"
        );
    }
    let mut req = token_request("grant_type=client_credentials");
    req.headers.push(("authorization".into(), vec![0xff, 0x00]));
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (401, OAuthErrorCode::InvalidClient)
    );
}

#[test]
fn no_credentials_at_all_are_invalid_client() {
    let kv = MemoryStore::new();
    let req = token_request("grant_type=client_credentials");
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (401, OAuthErrorCode::InvalidClient)
    );
    let req = token_request("grant_type=client_credentials&client_id=qmk_x");
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (401, OAuthErrorCode::InvalidClient)
    );
}

#[test]
fn malformed_requests_are_invalid_request() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let auth = basic(&a.consumer_key, a.consumer_secret.expose());
    let with_auth = |r: Request| r.with_header("Authorization", &auth);
    let cases = vec![
        ("missing grant_type", with_auth(token_request(""))),
        ("empty grant_type", with_auth(token_request("grant_type="))),
        (
            "repeated grant_type",
            with_auth(token_request(
                "grant_type=client_credentials&grant_type=client_credentials",
            )),
        ),
        (
            "not UTF-8",
            with_auth(token_request("").with_body(b"grant_type=\xff".to_vec())),
        ),
        (
            "JSON body",
            with_auth(
                Request::new(Method::Post, "/oauth/token")
                    .with_header("content-type", "application/json")
                    .with_body(r#"{"grant_type":"client_credentials"}"#),
            ),
        ),
        (
            "no content type",
            with_auth(
                Request::new(Method::Post, "/oauth/token")
                    .with_body("grant_type=client_credentials"),
            ),
        ),
        (
            "Basic and form secret",
            with_auth(token_request(&format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                a.consumer_key,
                a.consumer_secret.expose()
            ))),
        ),
        (
            "Basic and another client_id",
            with_auth(token_request(
                "grant_type=client_credentials&client_id=qmk_other",
            )),
        ),
        (
            "secret without id",
            token_request(&format!(
                "grant_type=client_credentials&client_secret={}",
                a.consumer_secret.expose()
            )),
        ),
        (
            "oversized body",
            with_auth(token_request(&format!(
                "grant_type=client_credentials&pad={}",
                "x".repeat(2 << 20)
            ))),
        ),
    ];
    for (what, req) in cases {
        assert_eq!(
            oauth_error(issue_token(&req, &kv, &tokens(), now())),
            (400, OAuthErrorCode::InvalidRequest),
            "{what}"
        );
    }
    // A malformed escape stays as written (the URL standard's form
    // decoding), so this grant type is simply not one the server knows.
    let req = with_auth(token_request("grant_type=client%zzcredentials"));
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (400, OAuthErrorCode::UnsupportedGrantType)
    );
}

#[test]
fn basic_with_the_same_client_id_in_the_form_is_accepted() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let req = token_request(&format!(
        "grant_type=client_credentials&client_id={}",
        a.consumer_key
    ))
    .with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    assert!(issue_token(&req, &kv, &tokens(), now()).is_ok());
}

#[test]
fn other_grant_types_are_unsupported() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    for grant in [
        "password",
        "authorization_code",
        "refresh_token",
        "CLIENT_CREDENTIALS",
    ] {
        let req = token_request(&format!("grant_type={grant}")).with_header(
            "Authorization",
            &basic(&a.consumer_key, a.consumer_secret.expose()),
        );
        assert_eq!(
            oauth_error(issue_token(&req, &kv, &tokens(), now())),
            (400, OAuthErrorCode::UnsupportedGrantType),
            "{grant}"
        );
    }
}

#[test]
fn a_deleted_application_gets_no_more_tokens() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    qmarket_identity::application::delete(&kv, &ada.id, &a.id).unwrap();
    let req = token_request("grant_type=client_credentials").with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    assert_eq!(
        oauth_error(issue_token(&req, &kv, &tokens(), now())),
        (401, OAuthErrorCode::InvalidClient)
    );
}

#[test]
fn error_descriptions_never_repeat_the_secret() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let a = app(&kv, &ada.id);
    let req = token_request(&format!(
        "grant_type=client_credentials&client_secret={}",
        a.consumer_secret.expose()
    ))
    .with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    match issue_token(&req, &kv, &tokens(), now()) {
        Err(TokenFailure::OAuth(e)) => {
            assert!(!e.error_description.contains(a.consumer_secret.expose()))
        }
        other => panic!("{other:?}"),
    }
    let req = token_request(&format!("grant_type={}", a.consumer_secret.expose())).with_header(
        "Authorization",
        &basic(&a.consumer_key, a.consumer_secret.expose()),
    );
    match issue_token(&req, &kv, &tokens(), now()) {
        Err(TokenFailure::OAuth(e)) => {
            assert_eq!(e.error, OAuthErrorCode::UnsupportedGrantType);
            assert!(!e.error_description.contains(a.consumer_secret.expose()));
        }
        other => panic!("{other:?}"),
    }
}
