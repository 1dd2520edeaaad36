//! Sign-up, the sign-up policy, and personal access tokens.

mod support;

use qmarket_http::PageQuery;
use qmarket_http::StatusOf;
use qmarket_identity::access_token::{self, NewAccessToken};
use qmarket_identity::account::{self, NewAccount, SignupPolicy};
use qmarket_model::{AccessToken, Record, Scope};
use qmarket_store::{KeyValue, MemoryStore};
use support::{account, now};

fn sign_up(
    kv: &MemoryStore,
    name: &str,
    email: &str,
) -> qmarket_core::Result<account::CreatedAccount> {
    account::sign_up(
        kv,
        NewAccount {
            name: name.into(),
            email: email.into(),
        },
        now(),
    )
}

#[test]
fn sign_up_returns_the_account_and_a_first_api_token() {
    let kv = MemoryStore::new();
    let created = sign_up(&kv, "  Ada  ", "Ada@Example.org").unwrap();
    assert!(created.id.starts_with("acc_"));
    assert_eq!(created.name, "Ada");
    assert_eq!(created.email, "Ada@Example.org");
    assert_eq!(created.created_at, now());
    assert!(created.access_token.id.starts_with("pat_"));
    assert_eq!(created.access_token.scopes, vec![Scope::Api]);
    assert_eq!(created.access_token.expires_at, None);
    assert_eq!(
        account::me(&kv, &created.id).unwrap().email,
        "Ada@Example.org"
    );
}

#[test]
fn an_email_address_has_one_account_whatever_its_case() {
    let kv = MemoryStore::new();
    sign_up(&kv, "Ada", "ada@example.org").unwrap();
    assert_eq!(
        sign_up(&kv, "Other", "ADA@example.ORG")
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        sign_up(&kv, "Other", " ada@example.org ")
            .unwrap_err()
            .status(),
        409
    );
}

#[test]
fn concurrent_sign_ups_with_one_email_admit_exactly_one() {
    let kv = std::sync::Arc::new(MemoryStore::new());
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let kv = kv.clone();
            std::thread::spawn(move || sign_up(&kv, &format!("n{i}"), "same@example.org").is_ok())
        })
        .collect();
    let ok = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|ok| *ok)
        .count();
    assert_eq!(ok, 1);
}

#[test]
fn bad_names_and_emails_are_refused_naming_the_field() {
    let kv = MemoryStore::new();
    let long = "a".repeat(101);
    for (name, email, field) in [
        ("", "a@example.org", "name"),
        (long.as_str(), "a@example.org", "name"),
        ("Ada", "not-an-email", "email"),
        ("Ada", "", "email"),
    ] {
        let err = sign_up(&kv, name, email).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.field_errors()[0].field, field);
    }
}

#[test]
fn the_sign_up_policy_follows_the_variables() {
    assert!(SignupPolicy::from_variables(None, None).open);
    assert!(SignupPolicy::from_variables(Some("true"), None).open);
    assert!(!SignupPolicy::from_variables(Some("false"), None).open);
    assert!(!SignupPolicy::from_variables(Some(" FALSE "), None).open);
    assert_eq!(
        SignupPolicy::from_variables(Some("false"), Some("  ")).admin_token,
        None
    );
}

#[test]
fn closed_sign_up_needs_the_admin_token() {
    let open = SignupPolicy::default();
    assert!(open.authorize(None).is_ok());
    let closed = SignupPolicy::from_variables(Some("false"), Some("s3cret-admin"));
    assert!(closed.authorize(Some("s3cret-admin")).is_ok());
    assert_eq!(closed.authorize(None).unwrap_err().status(), 401);
    assert_eq!(closed.authorize(Some("s3cret")).unwrap_err().status(), 401);
    assert_eq!(
        closed
            .authorize(Some("s3cret-admin-x"))
            .unwrap_err()
            .status(),
        401
    );
    let no_admin = SignupPolicy::from_variables(Some("false"), None);
    assert_eq!(
        no_admin.authorize(Some("anything")).unwrap_err().status(),
        403
    );
    assert_eq!(no_admin.authorize(None).unwrap_err().status(), 403);
}

fn new_token(
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<qmarket_core::Timestamp>,
) -> NewAccessToken {
    NewAccessToken {
        name: name.into(),
        scopes,
        expires_at,
    }
}

#[test]
fn a_token_is_stored_only_as_a_hash_and_listed_without_value() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let token =
        access_token::create(&kv, &ada.id, new_token("ci", vec![Scope::Api], None), now()).unwrap();
    let stored = AccessToken::load(&kv, &token.id).unwrap().unwrap();
    assert_eq!(
        stored.value_hash,
        qmarket_core::secret::hash(token.value.expose())
    );
    for (k, v) in kv.dump() {
        assert!(
            !k.contains(token.value.expose())
                && !String::from_utf8_lossy(&v).contains(token.value.expose())
        );
    }
    let listed = access_token::list(
        &kv,
        &ada.id,
        &PageQuery {
            limit: 50,
            cursor: None,
        },
    )
    .unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [token.id.as_str(), ada.access_token.id.as_str()]);
    let json = serde_json::to_string(&listed.items).unwrap();
    assert!(!json.contains("value"), "{json}");
}

#[test]
fn repeated_scopes_are_kept_once() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let token = access_token::create(
        &kv,
        &ada.id,
        new_token("t", vec![Scope::Api, Scope::Api], None),
        now(),
    )
    .unwrap();
    assert_eq!(token.scopes, vec![Scope::Api]);
}

#[test]
fn an_expiry_not_in_the_future_is_unprocessable() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    for at in [now(), now().plus_seconds(-1)] {
        let err = access_token::create(
            &kv,
            &ada.id,
            new_token("t", vec![Scope::Api], Some(at)),
            now(),
        )
        .unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.field_errors()[0].field, "expiresAt");
    }
}

#[test]
fn revoking_removes_the_record_the_lookup_and_the_listing_and_only_for_the_owner() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let bob = account(&kv, "bob");
    let token =
        access_token::create(&kv, &ada.id, new_token("t", vec![Scope::Api], None), now()).unwrap();
    assert_eq!(
        access_token::revoke(&kv, &bob.id, &token.id)
            .unwrap_err()
            .status(),
        404
    );
    access_token::revoke(&kv, &ada.id, &token.id).unwrap();
    assert!(AccessToken::load(&kv, &token.id).unwrap().is_none());
    let hash_key =
        AccessToken::by_value_hash_key(&qmarket_core::secret::hash(token.value.expose()));
    assert!(!kv.exists(&hash_key).unwrap());
    let listed = access_token::list(
        &kv,
        &ada.id,
        &PageQuery {
            limit: 50,
            cursor: None,
        },
    )
    .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        access_token::revoke(&kv, &ada.id, &token.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        access_token::revoke(&kv, &ada.id, "pat_../../x")
            .unwrap_err()
            .status(),
        404
    );
}
