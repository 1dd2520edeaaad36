//! `POST /oauth/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4),
//! with errors in RFC 6749 §5.2's shape.
//!
//! An access token is self-contained: `qmo_` followed by its claims (the
//! application, its owner, the expiry) sealed with an AEAD key derived for
//! this purpose from the platform's encryption key ([`TOKEN_PURPOSE`]).
//! Issuing one writes nothing, checking one reads only the application
//! (so deleting the application revokes its tokens), and no token ever
//! needs to be cleaned up. The sealing keeps the claims unreadable and
//! unforgeable without the key.

use qmarket_core::secret::Secret;
use qmarket_core::{secret, Error, Timestamp};
use qmarket_http::Request;
use qmarket_model::{Application, Record};
use qmarket_sealing::Sealer;
use qmarket_store::KeyValue;
use serde::{Deserialize, Serialize};

use crate::client_credentials::ClientCredentials;
use qmarket_http::credentials::parse_basic;
use qmarket_http::form_pairs;

/// How long an access token works.
pub const TOKEN_LIFETIME_SECONDS: i64 = 3600;
/// The purpose the token sealing key is derived for.
pub const TOKEN_PURPOSE: &str = "oauth-access-token";
/// What every OAuth2 access token starts with.
pub const ACCESS_TOKEN_PREFIX: &str = "qmo_";
/// The only grant type.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// The only scope, reported with every token.
pub const DEFAULT_SCOPE: &str = "default";
/// The media type token requests must have.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `WWW-Authenticate` of an `invalid_client` answer.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"qmarket\"";
/// The largest token request body accepted; real ones are a few hundred bytes.
pub const MAX_FORM_BODY: usize = 64 * 1024;
/// Longer keys and secrets are refused before any lookup.
const MAX_CREDENTIAL_LEN: usize = 512;

/// The RFC 6749 §5.2 error codes this endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// Malformed request (400).
    InvalidRequest,
    /// Client authentication failed (401).
    InvalidClient,
    /// A grant type other than `client_credentials` (400).
    UnsupportedGrantType,
}

/// An RFC 6749 error: `{error, error_description}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    /// The code.
    pub error: OAuthErrorCode,
    /// What is wrong, for the developer.
    pub error_description: String,
}

impl OAuthError {
    fn new(error: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            error_description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> TokenFailure {
        TokenFailure::OAuth(Self::new(OAuthErrorCode::InvalidRequest, description))
    }

    fn invalid_client(description: impl Into<String>) -> TokenFailure {
        TokenFailure::OAuth(Self::new(OAuthErrorCode::InvalidClient, description))
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self.error {
            OAuthErrorCode::InvalidClient => 401,
            _ => 400,
        }
    }
}

/// Why no token was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// The client's fault, answered in RFC 6749's shape.
    OAuth(OAuthError),
    /// The platform's (store unavailable…), answered as a problem.
    Platform(Error),
}

impl From<Error> for TokenFailure {
    fn from(e: Error) -> Self {
        TokenFailure::Platform(e)
    }
}

impl From<qmarket_store::StoreError> for TokenFailure {
    fn from(e: qmarket_store::StoreError) -> Self {
        TokenFailure::Platform(e.into())
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// The bearer token for the gateway.
    pub access_token: Secret,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Always `default`.
    pub scope: &'static str,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What an access token says, sealed inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The application.
    #[serde(rename = "app")]
    pub application_id: String,
    /// Its owner.
    #[serde(rename = "acc")]
    pub account_id: String,
    /// When the token stops working (milliseconds since the epoch).
    #[serde(rename = "exp")]
    pub expires_at_millis: i64,
}

impl AccessClaims {
    /// When the token stops working.
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_millis(self.expires_at_millis)
    }

    /// The token value carrying these claims.
    pub fn seal(&self, tokens: &Sealer) -> qmarket_core::Result<Secret> {
        let json = serde_json::to_string(self)
            .map_err(|e| Error::Internal(format!("cannot encode token claims: {e}")))?;
        Ok(Secret::new(format!(
            "{ACCESS_TOKEN_PREFIX}{}",
            tokens.seal(&json)?
        )))
    }

    /// The claims of token `value`, if it is one `tokens` sealed.
    pub fn open(tokens: &Sealer, value: &str) -> Option<AccessClaims> {
        let sealed = value.strip_prefix(ACCESS_TOKEN_PREFIX)?;
        let json = tokens.open(sealed).ok()?;
        serde_json::from_str(&json).ok()
    }
}

/// Answers a token request: authenticates the client and issues an access
/// token valid for [`TOKEN_LIFETIME_SECONDS`] from `now`, sealed with
/// `tokens` (a sealer for [`TOKEN_PURPOSE`]).
pub fn issue_token(
    req: &Request,
    kv: &dyn KeyValue,
    tokens: &Sealer,
    now: Timestamp,
) -> Result<TokenResponse, TokenFailure> {
    if req.body.len() > MAX_FORM_BODY {
        return Err(OAuthError::invalid_request(format!(
            "the body is larger than {MAX_FORM_BODY} bytes"
        )));
    }
    let media = req.header("content-type").map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if media.as_deref() != Some(FORM_CONTENT_TYPE) {
        return Err(OAuthError::invalid_request(format!(
            "the body must be {FORM_CONTENT_TYPE}"
        )));
    }
    let params = form_pairs(&req.body).map_err(OAuthError::invalid_request)?;
    let param = |name: &str| -> Result<Option<&str>, TokenFailure> {
        let mut values = params
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter '{name}' is given more than once"
            )));
        }
        Ok(first)
    };
    let grant_type = param("grant_type")?;
    let form_id = param("client_id")?;
    let form_secret = param("client_secret")?;
    // `scope` may be sent; the only scope is granted whatever it says.
    param("scope")?;

    let basic = match req.single_header(qmarket_http::credentials::AUTHORIZATION) {
        Some(header) => Some(ClientCredentials::from(
            parse_basic(header).map_err(|e| OAuthError::invalid_client(e.describe()))?,
        )),
        None if req.has_authorization() => {
            return Err(OAuthError::invalid_client(
                "the Authorization header is sent more than once, or is not valid UTF-8",
            ))
        }
        None => None,
    };
    let credentials = match (basic, form_id, form_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "client credentials are given both in the Authorization header and in the body; use one",
            ))
        }
        (Some(basic), Some(id), None) if id != basic.key => {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the client in the Authorization header",
            ))
        }
        (Some(basic), _, None) => Some(basic),
        (None, Some(id), Some(secret)) => Some(ClientCredentials {
            key: id.to_string(),
            secret: Secret::new(secret),
        }),
        (None, None, Some(_)) => {
            return Err(OAuthError::invalid_request("client_secret is given without client_id"))
        }
        (None, Some(_), None) => {
            return Err(OAuthError::invalid_client(
                "client_id is given without client_secret; every client must authenticate",
            ))
        }
        (None, None, None) => None,
    };

    match grant_type {
        None | Some("") => {
            return Err(OAuthError::invalid_request("grant_type is missing"));
        }
        Some(CLIENT_CREDENTIALS) => {}
        Some(_) => {
            // The value is not repeated: a confused client may have put a
            // secret there.
            return Err(TokenFailure::OAuth(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "this grant_type is not supported; use client_credentials",
            )));
        }
    }
    let credentials = credentials.ok_or_else(|| {
        OAuthError::invalid_client(
            "no client credentials: use HTTP Basic with consumer key and secret, or client_id and client_secret",
        )
    })?;
    let app = authenticate_client(kv, &credentials)?;

    let access_token = AccessClaims {
        application_id: app.id,
        account_id: app.account_id,
        expires_at_millis: now.plus_seconds(TOKEN_LIFETIME_SECONDS).millis(),
    }
    .seal(tokens)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: TOKEN_LIFETIME_SECONDS,
        scope: DEFAULT_SCOPE,
    })
}

/// The application whose consumer key and secret `credentials` are.
fn authenticate_client(
    kv: &dyn KeyValue,
    credentials: &ClientCredentials,
) -> Result<Application, TokenFailure> {
    let rejected = || OAuthError::invalid_client("unknown client or wrong secret");
    if credentials.key.is_empty()
        || credentials.key.len() > MAX_CREDENTIAL_LEN
        || credentials.secret.len() > MAX_CREDENTIAL_LEN
    {
        return Err(rejected());
    }
    let app = match kv.get(&Application::by_consumer_key_key(&credentials.key))? {
        Some(id) => match String::from_utf8(id) {
            Ok(id) => Application::load(kv, &id)?,
            Err(_) => None,
        },
        None => None,
    };
    match app {
        Some(app)
            if app.consumer_key == credentials.key
                && secret::verify(&credentials.secret, &app.consumer_secret_hash) =>
        {
            Ok(app)
        }
        Some(_) => Err(rejected()),
        None => {
            // Do the same work as for a known client, so timing does not tell
            // unknown keys from wrong secrets.
            let _ = secret::verify(&credentials.secret, &secret::hash(""));
            Err(rejected())
        }
    }
}
