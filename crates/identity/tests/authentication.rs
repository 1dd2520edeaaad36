//! Personal access tokens and OAuth2 tokens as every component checks them.

mod support;

use qmarket_core::Timestamp;
use qmarket_http::StatusOf;
use qmarket_http::{Method, Request};
use qmarket_identity::access_token::{self, NewAccessToken};
use qmarket_identity::oauth;
use qmarket_identity::{
    authenticate_account, authenticate_api, authenticate_application, AccountPrincipal,
};
use qmarket_model::{Account, Record, Scope};
use qmarket_store::MemoryStore;
use support::{account, app, bearer, now, tokens};

#[test]
fn a_sign_up_token_authenticates_by_bearer_and_by_x_auth_token_in_any_case() {
    // Setup
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let value = ada.access_token.value.expose();
    // Exec
    let requests = [
        bearer("/api/me", value),
        Request::new(Method::Get, "/").with_header("authorization", &format!("bearer {value}")),
        Request::new(Method::Get, "/").with_header("X-Auth-Token", value),
        Request::new(Method::Get, "/").with_header("x-auth-token", value),
        Request::new(Method::Get, "/").with_header("X-AUTH-TOKEN", value),
    ];
    // Check
    for req in &requests {
        let principal = authenticate_api(req, &kv, now()).unwrap();
        assert_eq!(
            principal,
            AccountPrincipal {
                account_id: ada.id.clone(),
                token_id: ada.access_token.id.clone(),
                scopes: vec![Scope::Api],
            }
        );
    }
}

#[test]
fn missing_unknown_and_malformed_credentials_are_unauthenticated() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let requests = [
        Request::new(Method::Get, "/"),
        bearer("/", "qmp_not-a-token"),
        bearer("/", ""),
        Request::new(Method::Get, "/").with_header(
            "Authorization",
            &format!("Basic {}", ada.access_token.value.expose()),
        ),
        bearer("/", &"x".repeat(10_000)),
        Request::new(Method::Get, "/").with_header("X-Auth-Token", "   "),
    ];
    for req in &requests {
        let err = authenticate_account(req, &kv, now()).unwrap_err();
        assert_eq!(err.status(), 401, "{req:?}");
        assert!(!err.to_string().contains(ada.access_token.value.expose()));
    }
}

#[test]
fn a_non_utf8_token_header_is_unauthenticated() {
    let kv = MemoryStore::new();
    let mut req = Request::new(Method::Get, "/");
    req.headers.push(("x-auth-token".into(), vec![0xff, 0xfe]));
    assert_eq!(
        authenticate_account(&req, &kv, now()).unwrap_err().status(),
        401
    );
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let req = bearer("/", ada.access_token.value.expose());
    assert!(authenticate_api(&req, &kv, now()).is_ok());
    access_token::revoke(&kv, &ada.id, &ada.access_token.id).unwrap();
    assert_eq!(
        authenticate_api(&req, &kv, now()).unwrap_err().status(),
        401
    );
}

#[test]
fn an_expired_token_is_refused_from_its_expiry_on() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let expires = now().plus_seconds(60);
    let token = access_token::create(
        &kv,
        &ada.id,
        NewAccessToken {
            name: "short".into(),
            scopes: vec![Scope::Api],
            expires_at: Some(expires),
        },
        now(),
    )
    .unwrap();
    let req = bearer("/", token.value.expose());
    assert!(authenticate_api(&req, &kv, Timestamp::from_millis(expires.millis() - 1)).is_ok());
    assert_eq!(
        authenticate_api(&req, &kv, expires).unwrap_err().status(),
        401
    );
    assert_eq!(
        authenticate_api(&req, &kv, expires.plus_seconds(1))
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn the_token_of_a_missing_account_is_refused() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    Account::remove(&kv, &ada.id).unwrap();
    let err = authenticate_account(&bearer("/", ada.access_token.value.expose()), &kv, now())
        .unwrap_err();
    assert_eq!(err.status(), 401);
}

#[test]
fn a_token_without_scope_api_authenticates_but_is_forbidden_on_the_api() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let token = access_token::create(
        &kv,
        &ada.id,
        NewAccessToken {
            name: "no scopes".into(),
            scopes: vec![],
            expires_at: None,
        },
        now(),
    )
    .unwrap();
    let req = bearer("/", token.value.expose());
    assert_eq!(
        authenticate_account(&req, &kv, now()).unwrap().scopes,
        vec![]
    );
    assert_eq!(
        authenticate_api(&req, &kv, now()).unwrap_err().status(),
        403
    );
}

fn oauth_token(kv: &MemoryStore, key: &str, secret: &str) -> String {
    let req = Request::new(Method::Post, "/oauth/token")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(format!(
            "grant_type=client_credentials&client_id={key}&client_secret={secret}"
        ));
    oauth::issue_token(&req, kv, &tokens(), now())
        .unwrap()
        .access_token
        .expose()
        .to_string()
}

#[test]
fn an_oauth_token_authenticates_its_application_for_3600_seconds() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    let token = oauth_token(&kv, &created.consumer_key, created.consumer_secret.expose());
    let req = bearer("/gateway/x", &token);
    let principal =
        authenticate_application(&req, &kv, &tokens(), now().plus_seconds(3599)).unwrap();
    assert_eq!(principal.application_id, created.id);
    assert_eq!(principal.account_id, ada.id);
    let err = authenticate_application(&req, &kv, &tokens(), now().plus_seconds(3600)).unwrap_err();
    assert_eq!(err.status(), 401);
}

#[test]
fn an_oauth_token_is_not_a_personal_access_token_nor_the_reverse() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    let token = oauth_token(&kv, &created.consumer_key, created.consumer_secret.expose());
    assert_eq!(
        authenticate_account(&bearer("/", &token), &kv, now())
            .unwrap_err()
            .status(),
        401
    );
    let pat = bearer("/", ada.access_token.value.expose());
    assert_eq!(
        authenticate_application(&pat, &kv, &tokens(), now())
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn application_tokens_come_only_from_the_bearer_header() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    let token = oauth_token(&kv, &created.consumer_key, created.consumer_secret.expose());
    let req = Request::new(Method::Get, "/").with_header("X-Auth-Token", &token);
    assert_eq!(
        authenticate_application(&req, &kv, &tokens(), now())
            .unwrap_err()
            .status(),
        401
    );
    let none = Request::new(Method::Get, "/");
    assert_eq!(
        authenticate_application(&none, &kv, &tokens(), now())
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn a_forged_or_damaged_token_fails_and_issuing_one_writes_nothing() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    let before = kv.dump();
    let token = oauth_token(&kv, &created.consumer_key, created.consumer_secret.expose());
    assert_eq!(kv.dump(), before, "a token is not a store row");
    let mut damaged = token.clone().into_bytes();
    let last = damaged.len() - 1;
    damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
    let other_key = qmarket_sealing::Sealer::from_key(&[9; 32])
        .for_purpose(qmarket_identity::oauth::TOKEN_PURPOSE);
    for (what, value, sealer) in [
        ("damaged", String::from_utf8(damaged).unwrap(), tokens()),
        ("another key", token.clone(), other_key),
        ("made up", "qmo_v1.AAAA.BBBB".to_string(), tokens()),
    ] {
        let err = authenticate_application(&bearer("/", &value), &kv, &sealer, now()).unwrap_err();
        assert_eq!(err.status(), 401, "{what}");
    }
}

#[test]
fn the_tokens_of_a_deleted_application_fail() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    let token = oauth_token(&kv, &created.consumer_key, created.consumer_secret.expose());
    qmarket_identity::application::delete(&kv, &ada.id, &created.id).unwrap();
    let err = authenticate_application(&bearer("/", &token), &kv, &tokens(), now()).unwrap_err();
    assert_eq!(err.status(), 401);
}
