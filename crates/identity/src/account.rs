//! Accounts: sign-up (open, or behind the operator's admin token) and the
//! caller's own account.

use qmarket_core::id::new_id;
use qmarket_core::{secret, Error, IdKind, Result, Timestamp};
use qmarket_model::{Account, Record, Scope};
use qmarket_store::{claim, KeyValue};
use serde::{Deserialize, Serialize};

use crate::access_token::{self, CreatedAccessToken};
use crate::validate;

/// The name of the token every new account receives.
pub const FIRST_TOKEN_NAME: &str = "default";

/// Who may create accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupPolicy {
    /// Anyone may sign up.
    pub open: bool,
    /// With sign-up closed, the bearer token that may still create accounts.
    pub admin_token: Option<String>,
}

impl Default for SignupPolicy {
    /// Open sign-up, for local use.
    fn default() -> Self {
        SignupPolicy {
            open: true,
            admin_token: None,
        }
    }
}

impl SignupPolicy {
    /// The policy the variables `allow_open_signup` (`false`, `0`, `no` or
    /// `off`, in any case, close sign-up; anything else or nothing leaves it
    /// open) and `admin_token` (empty: none) describe.
    pub fn from_variables(allow_open_signup: Option<&str>, admin_token: Option<&str>) -> Self {
        let closed = allow_open_signup.is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        });
        SignupPolicy {
            open: !closed,
            admin_token: admin_token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        }
    }

    /// Whether a sign-up presenting bearer token `presented` may proceed:
    /// always with open sign-up; otherwise only with the admin token (401
    /// without it or with another, 403 when no admin token is configured).
    pub fn authorize(&self, presented: Option<&str>) -> Result<()> {
        if self.open {
            return Ok(());
        }
        let Some(admin) = &self.admin_token else {
            return Err(Error::Forbidden(
                "sign-up is closed on this platform; ask its operator for an account".into(),
            ));
        };
        let Some(presented) = presented else {
            return Err(Error::Unauthenticated(
                "sign-up is closed: send 'Authorization: Bearer <admin token>'".into(),
            ));
        };
        // Hashing first makes the comparison independent of the lengths.
        if secret::constant_time_eq(
            secret::hash(presented).as_bytes(),
            secret::hash(admin).as_bytes(),
        ) {
            Ok(())
        } else {
            Err(Error::Unauthenticated(
                "sign-up is closed and the bearer token is not the admin token".into(),
            ))
        }
    }
}

/// The body of `POST /api/accounts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAccount {
    /// 1–100 characters.
    pub name: String,
    /// Unique across accounts (in any case), at most 254 characters.
    pub email: String,
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// `acc_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// When it was created.
    pub created_at: Timestamp,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            id: account.id,
            name: account.name,
            email: account.email,
            created_at: account.created_at,
        }
    }
}

/// A new account with its first access token (scope `API`, value shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccount {
    /// `acc_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// The first personal access token.
    pub access_token: CreatedAccessToken,
}

/// Creates an account and its first token. 400 for a bad name or e-mail,
/// 409 when the e-mail address already has an account.
pub fn sign_up(kv: &dyn KeyValue, input: NewAccount, now: Timestamp) -> Result<CreatedAccount> {
    let name = validate::name("name", &input.name)?;
    let email = validate::email("email", &input.email)?;
    if !claim(kv, &Account::email_claim_key(&email))? {
        return Err(Error::Conflict(
            "an account with this e-mail address already exists".into(),
        ));
    }
    let account = Account {
        id: new_id(IdKind::Account)?,
        name,
        email,
        created_at: now,
    };
    account.save(kv)?;
    let token = access_token::issue(
        kv,
        &account.id,
        FIRST_TOKEN_NAME.to_string(),
        vec![Scope::Api],
        None,
        now,
    )?;
    Ok(CreatedAccount {
        id: account.id,
        name: account.name,
        email: account.email,
        created_at: account.created_at,
        access_token: token,
    })
}

/// Account `account_id` (the caller's); 401 if it has gone meanwhile.
pub fn me(kv: &dyn KeyValue, account_id: &str) -> Result<AccountView> {
    Account::load(kv, account_id)?
        .map(AccountView::from)
        .ok_or_else(|| Error::Unauthenticated("the account of this token no longer exists".into()))
}
