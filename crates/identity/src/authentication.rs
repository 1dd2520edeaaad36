//! Who is calling: accounts by personal access token, applications by OAuth2
//! access token. Every component authenticates through these functions.

use qmarket_core::{secret, Error, Result, Timestamp};
use qmarket_http::Request;
use qmarket_model::{AccessToken, Account, Application, Record, Scope};
use qmarket_sealing::Sealer;

use crate::oauth::AccessClaims;
use qmarket_store::KeyValue;

/// Longer credentials are refused before they are hashed: every value the
/// platform issues is far shorter.
const MAX_CREDENTIAL_LEN: usize = 512;

/// An account authenticated by a personal access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPrincipal {
    /// The account (`acc_…`).
    pub account_id: String,
    /// The token it presented (`pat_…`).
    pub token_id: String,
    /// What that token may be used for.
    pub scopes: Vec<Scope>,
}

impl AccountPrincipal {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// An application authenticated by an OAuth2 access token (client-credentials
/// grant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationPrincipal {
    /// The application (`app_…`).
    pub application_id: String,
    /// Its owner, the consumer account (`acc_…`).
    pub account_id: String,
}

fn missing_credential() -> Error {
    Error::Unauthenticated(
        "no access token: send 'Authorization: Bearer <token>' or 'X-Auth-Token: <token>'".into(),
    )
}

fn invalid_token() -> Error {
    Error::Unauthenticated("the access token is unknown, revoked or expired".into())
}

/// The account a personal access token belongs to.
///
/// The token comes from `Authorization: Bearer <v>` or `X-Auth-Token: <v>`.
/// A missing, unknown, revoked or expired token, or the token of an account
/// that no longer exists, is [`Error::Unauthenticated`] (401).
pub fn authenticate_account(
    req: &Request,
    kv: &dyn KeyValue,
    now: Timestamp,
) -> Result<AccountPrincipal> {
    let value = req.access_token().ok_or_else(missing_credential)?;
    account_for_token_value(value, kv, now)
}

/// The account behind token `value` (see [`authenticate_account`]).
pub fn account_for_token_value(
    value: &str,
    kv: &dyn KeyValue,
    now: Timestamp,
) -> Result<AccountPrincipal> {
    if value.len() > MAX_CREDENTIAL_LEN {
        return Err(invalid_token());
    }
    let value_hash = secret::hash(value);
    let Some(id) = kv.get(&AccessToken::by_value_hash_key(&value_hash))? else {
        return Err(invalid_token());
    };
    let id = String::from_utf8(id).map_err(|_| invalid_token())?;
    let Some(token) = AccessToken::load(kv, &id)? else {
        return Err(invalid_token());
    };
    if !secret::verify(value, &token.value_hash) {
        return Err(invalid_token());
    }
    if token.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid_token());
    }
    if Account::load(kv, &token.account_id)?.is_none() {
        return Err(invalid_token());
    }
    Ok(AccountPrincipal {
        account_id: token.account_id,
        token_id: token.id,
        scopes: token.scopes,
    })
}

/// [`authenticate_account`], and the token must carry scope `API`
/// ([`Error::Forbidden`], 403, otherwise): the platform API and the metering
/// API use this.
pub fn authenticate_api(
    req: &Request,
    kv: &dyn KeyValue,
    now: Timestamp,
) -> Result<AccountPrincipal> {
    let principal = authenticate_account(req, kv, now)?;
    if !principal.has_scope(Scope::Api) {
        return Err(Error::Forbidden(
            "this access token lacks scope API, which the platform API requires".into(),
        ));
    }
    Ok(principal)
}

/// The application an OAuth2 access token was issued to.
///
/// The token comes from `Authorization: Bearer <access_token>` and is
/// opened with `tokens` (see [`crate::oauth`]: tokens are sealed claims, not
/// store rows). A missing, forged, damaged or expired token, or one of an
/// application since deleted, is [`Error::Unauthenticated`] (401). The two
/// steps are [`application_claims`] (no store access) and
/// [`application_principal`] (one read), for a caller that reads the
/// application together with other keys ([`qmarket_store::Prefetched`]).
pub fn authenticate_application(
    req: &Request,
    kv: &dyn KeyValue,
    tokens: &Sealer,
    now: Timestamp,
) -> Result<ApplicationPrincipal> {
    let claims = application_claims(req, tokens, now)?;
    application_principal(kv, &claims)
}

fn invalid_access_token() -> Error {
    Error::Unauthenticated(
        "the access token is unknown or expired; request a new one at /oauth/token".into(),
    )
}

/// The claims of the request's OAuth2 access token, opened with `tokens`
/// and unexpired at `now` (401 otherwise); nothing is read from the store.
pub fn application_claims(req: &Request, tokens: &Sealer, now: Timestamp) -> Result<AccessClaims> {
    let value = req.bearer_token().ok_or_else(|| {
        Error::Unauthenticated(
            "no access token: send 'Authorization: Bearer <access_token>' from POST /oauth/token"
                .into(),
        )
    })?;
    if value.len() > MAX_CREDENTIAL_LEN {
        return Err(invalid_access_token());
    }
    let claims = AccessClaims::open(tokens, value).ok_or_else(invalid_access_token)?;
    if claims.expires_at() <= now {
        return Err(invalid_access_token());
    }
    Ok(claims)
}

/// The application behind `claims`, which must still exist and belong to
/// the same account (a deleted application's tokens stop working with it).
pub fn application_principal(
    kv: &dyn KeyValue,
    claims: &AccessClaims,
) -> Result<ApplicationPrincipal> {
    match Application::load(kv, &claims.application_id)? {
        Some(app) if app.account_id == claims.account_id => Ok(ApplicationPrincipal {
            application_id: app.id,
            account_id: app.account_id,
        }),
        _ => Err(invalid_access_token()),
    }
}
