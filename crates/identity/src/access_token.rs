//! Personal access tokens: created with their value shown once, stored only
//! as a hash, listed without value, revoked at once.

use qmarket_core::id::{is_well_formed, new_id};
use qmarket_core::secret::{self, Secret};
use qmarket_core::{Error, IdKind, Result, Timestamp};
use qmarket_http::PageQuery;
use qmarket_model::{AccessToken, Record, Scope};
use qmarket_store::{Index, KeyValue};
use serde::{Deserialize, Serialize};

use crate::listing::{self, Listed};
use crate::validate;

/// What every token value starts with, so leaked values are recognisable.
pub const TOKEN_VALUE_PREFIX: &str = "qmp_";

/// The body of `POST /api/access-tokens`.
///
/// `scopes` may be empty: such a token authenticates, but every endpoint of
/// the platform API and the metering API answers it with 403.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAccessToken {
    /// 1–100 characters.
    pub name: String,
    /// What the token may be used for (`["API"]`).
    pub scopes: Vec<Scope>,
    /// When it stops working; must lie in the future. Never, when absent.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// A token as listed: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenView {
    /// `pat_…`
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    /// What it may be used for.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working (`null`: never).
    pub expires_at: Option<Timestamp>,
}

impl From<&AccessToken> for AccessTokenView {
    fn from(token: &AccessToken) -> Self {
        AccessTokenView {
            id: token.id.clone(),
            name: token.name.clone(),
            scopes: token.scopes.clone(),
            created_at: token.created_at,
            expires_at: token.expires_at,
        }
    }
}

/// A token just created, with its value: the only time the value is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccessToken {
    /// `pat_…`
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    /// What it may be used for.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working (`null`: never).
    pub expires_at: Option<Timestamp>,
    /// The secret value to send as `Bearer` or `X-Auth-Token`.
    pub value: Secret,
}

/// Creates a token for account `account_id` as `input` asks.
///
/// 400 for a bad name, 422 for an `expiresAt` not in the future.
pub fn create(
    kv: &dyn KeyValue,
    account_id: &str,
    input: NewAccessToken,
    now: Timestamp,
) -> Result<CreatedAccessToken> {
    let name = validate::name("name", &input.name)?;
    if input.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::unprocessable_field(
            "expiresAt",
            "must lie in the future",
        ));
    }
    let mut scopes = Vec::new();
    for scope in input.scopes {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    issue(kv, account_id, name, scopes, input.expires_at, now)
}

/// Stores a new token (already validated) and returns it with its value.
pub(crate) fn issue(
    kv: &dyn KeyValue,
    account_id: &str,
    name: String,
    scopes: Vec<Scope>,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<CreatedAccessToken> {
    let id = new_id(IdKind::AccessToken)?;
    let value = secret::new_secret(TOKEN_VALUE_PREFIX)?;
    let value_hash = secret::hash(&value);
    let index_seq = Index::new(AccessToken::account_index(account_id)).append(kv, &id)?;
    let token = AccessToken {
        id,
        account_id: account_id.to_string(),
        name,
        scopes,
        created_at: now,
        expires_at,
        value_hash,
        index_seq,
    };
    token.save(kv)?;
    // The lookup key goes last: the token works only once its record exists.
    kv.set(
        &AccessToken::by_value_hash_key(&token.value_hash),
        token.id.as_bytes(),
    )?;
    Ok(CreatedAccessToken {
        id: token.id,
        name: token.name,
        scopes: token.scopes,
        created_at: token.created_at,
        expires_at: token.expires_at,
        value: Secret::new(value),
    })
}

/// The page `query` asks for of account `account_id`'s tokens, newest first.
pub fn list(
    kv: &dyn KeyValue,
    account_id: &str,
    query: &PageQuery,
) -> Result<Listed<AccessTokenView>> {
    let index = Index::new(AccessToken::account_index(account_id));
    listing::page(kv, &index, query, |id| {
        Ok(AccessToken::load(kv, id)?
            .filter(|t| t.account_id == account_id)
            .map(|t| AccessTokenView::from(&t)))
    })
}

/// Revokes token `token_id` of account `account_id`: it stops working at
/// once. Another account's token, or none, is 404. A token may revoke itself.
pub fn revoke(kv: &dyn KeyValue, account_id: &str, token_id: &str) -> Result<()> {
    let not_found = || Error::not_found("access token", &shown_id(token_id));
    if !is_well_formed(IdKind::AccessToken, token_id) {
        return Err(not_found());
    }
    let token = AccessToken::load(kv, token_id)?
        .filter(|t| t.account_id == account_id)
        .ok_or_else(not_found)?;
    // The lookup key first: from here on the value authenticates nothing.
    kv.delete(&AccessToken::by_value_hash_key(&token.value_hash))?;
    AccessToken::remove(kv, &token.id)?;
    Index::new(AccessToken::account_index(account_id)).remove(kv, token.index_seq)?;
    Ok(())
}

/// An id from a request as it may appear in a message: bounded in length.
pub(crate) fn shown_id(id: &str) -> String {
    id.chars().take(64).collect()
}
