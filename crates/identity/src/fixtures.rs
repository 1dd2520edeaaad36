//! Set-up helpers for tests of the components that authenticate through
//! this crate.

use qmarket_core::Timestamp;
use qmarket_store::KeyValue;

use crate::account::{self, NewAccount};

/// Signs up `name` (e-mail `{name}@example.org`); returns the account id and
/// the value of its first access token (scope `API`). Panics on failure: it
/// is set-up, not the code under test.
pub fn signed_up(kv: &dyn KeyValue, name: &str) -> (String, String) {
    let created = account::sign_up(
        kv,
        NewAccount {
            name: name.into(),
            email: format!("{name}@example.org"),
        },
        Timestamp::now(),
    )
    .expect("sign-up of a test account");
    (created.id, created.access_token.value.expose().to_string())
}
