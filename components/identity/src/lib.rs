//! Accounts, personal access tokens, applications, subscriptions and the
//! OAuth2 token endpoint: HTTP in, `qmarket-identity` calls, HTTP out.
use qmarket_core::Timestamp;
use qmarket_http::{
    allow, json_body, no_endpoint, problem, HandlerResult, Method, PageQuery, Request, Response,
    Route,
};
use qmarket_identity::account::SignupPolicy;
use qmarket_identity::limits::{self, Limits, SIGNUP_RATE_VARIABLE, TOKEN_RATE_VARIABLE};
use qmarket_identity::oauth::{self, TokenFailure, BASIC_CHALLENGE, TOKEN_PURPOSE};
use qmarket_identity::{
    access_token, account, application, authenticate_api, subscription, Listed,
};
use qmarket_sealing::{Sealer, ENCRYPTION_KEY_VARIABLE};
use qmarket_store::KeyValue;

#[cfg(test)]
mod tests;

/// Spin variable: `false` closes open sign-up.
pub const ALLOW_OPEN_SIGNUP: &str = "allow_open_signup";
/// Spin variable (secret): the bearer token that may sign up when sign-up is closed.
pub const ADMIN_TOKEN: &str = "admin_token";

const ACCOUNTS: Route = Route::new("/api/accounts");
const ME: Route = Route::new("/api/me");
const ACCESS_TOKENS: Route = Route::new("/api/access-tokens");
const ACCESS_TOKEN: Route = Route::new("/api/access-tokens/:pat");
const APPLICATIONS: Route = Route::new("/api/applications");
const APPLICATION: Route = Route::new("/api/applications/:app");
const APPLICATION_SUBSCRIPTIONS: Route = Route::new("/api/applications/:app/subscriptions");
const SUBSCRIPTION: Route = Route::new("/api/subscriptions/:sub");
const OAUTH_TOKEN: Route = Route::new("/oauth/token");

/// What the identity component is configured with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Who may sign up.
    pub policy: SignupPolicy,
    /// The `encryption_key` variable (base64 of 32 bytes), if set: access
    /// tokens are sealed with a key derived from it.
    pub encryption_key: Option<String>,
    /// The rate limits of sign-up and token requests.
    pub limits: Limits,
}

/// Routes one request with the default settings and the system clock.
pub fn route(req: &Request, kv: &dyn KeyValue) -> HandlerResult {
    route_with(req, kv, &Settings::default(), Timestamp::now())
}

/// The client a rate limit counts a request against: its IP address.
fn client(req: &Request) -> String {
    req.client_ip().unwrap_or_else(|| "unknown".into())
}

/// Routes one request under `settings` at time `now`.
pub fn route_with(
    req: &Request,
    kv: &dyn KeyValue,
    settings: &Settings,
    now: Timestamp,
) -> HandlerResult {
    let path = req.path.as_str();
    if ACCOUNTS.matches(path).is_some() {
        allow(req, &[Method::Post])?;
        limits::admit(kv, &settings.limits.signup, &client(req), now)?;
        settings.policy.authorize(req.bearer_token())?;
        let created = account::sign_up(kv, json_body(req)?, now)?;
        return Ok(Response::created(&created));
    }
    if ME.matches(path).is_some() {
        allow(req, &[Method::Get])?;
        let caller = authenticate_api(req, kv, now)?;
        return Ok(Response::ok(&account::me(kv, &caller.account_id)?));
    }
    if ACCESS_TOKENS.matches(path).is_some() {
        allow(req, &[Method::Get, Method::Post])?;
        let caller = authenticate_api(req, kv, now)?;
        return if req.method == Method::Post {
            let created = access_token::create(kv, &caller.account_id, json_body(req)?, now)?;
            Ok(Response::created(&created))
        } else {
            let query = PageQuery::from_request(req)?;
            Ok(listed(access_token::list(kv, &caller.account_id, &query)?))
        };
    }
    if let Some(params) = ACCESS_TOKEN.matches(path) {
        allow(req, &[Method::Delete])?;
        let caller = authenticate_api(req, kv, now)?;
        access_token::revoke(kv, &caller.account_id, params.get("pat")?)?;
        return Ok(Response::no_content());
    }
    if APPLICATIONS.matches(path).is_some() {
        allow(req, &[Method::Get, Method::Post])?;
        let caller = authenticate_api(req, kv, now)?;
        return if req.method == Method::Post {
            let created = application::create(kv, &caller.account_id, json_body(req)?, now)?;
            Ok(Response::created(&created))
        } else {
            let query = PageQuery::from_request(req)?;
            Ok(listed(application::list(kv, &caller.account_id, &query)?))
        };
    }
    if let Some(params) = APPLICATION.matches(path) {
        allow(req, &[Method::Get, Method::Delete])?;
        let caller = authenticate_api(req, kv, now)?;
        let id = params.get("app")?;
        return if req.method == Method::Delete {
            application::delete(kv, &caller.account_id, id)?;
            Ok(Response::no_content())
        } else {
            Ok(Response::ok(&application::get(kv, &caller.account_id, id)?))
        };
    }
    if let Some(params) = APPLICATION_SUBSCRIPTIONS.matches(path) {
        allow(req, &[Method::Get, Method::Post])?;
        let caller = authenticate_api(req, kv, now)?;
        let app_id = params.get("app")?;
        return if req.method == Method::Post {
            // The application is checked before the body is read, so a
            // stranger's application is 404 whatever the body says.
            application::owned(kv, &caller.account_id, app_id)?;
            let input = json_body(req)?;
            let created = subscription::subscribe(kv, &caller.account_id, app_id, input, now)?;
            Ok(Response::created(&created))
        } else {
            let query = PageQuery::from_request(req)?;
            Ok(listed(subscription::list(
                kv,
                &caller.account_id,
                app_id,
                &query,
            )?))
        };
    }
    if let Some(params) = SUBSCRIPTION.matches(path) {
        allow(req, &[Method::Get, Method::Delete])?;
        let caller = authenticate_api(req, kv, now)?;
        let id = params.get("sub")?;
        return if req.method == Method::Delete {
            subscription::unsubscribe(kv, &caller.account_id, id)?;
            Ok(Response::no_content())
        } else {
            Ok(Response::ok(&subscription::get(
                kv,
                &caller.account_id,
                id,
            )?))
        };
    }
    if OAUTH_TOKEN.matches(path).is_some() {
        allow(req, &[Method::Post])?;
        limits::admit(kv, &settings.limits.token, &client(req), now)?;
        let tokens =
            Sealer::load(kv, settings.encryption_key.as_deref())?.for_purpose(TOKEN_PURPOSE);
        return Ok(token_response(oauth::issue_token(req, kv, &tokens, now)));
    }
    Err(no_endpoint(req))
}

fn listed<T: serde::Serialize>(page: Listed<T>) -> Response {
    Response::list(page.items, page.next_cursor)
}

/// The token endpoint's answer: RFC 6749 §5.1 and §5.2 shapes, never cached.
fn token_response(result: Result<oauth::TokenResponse, TokenFailure>) -> Response {
    let response = match result {
        Ok(token) => Response::ok(&token),
        Err(TokenFailure::OAuth(error)) => {
            let response = Response::json(error.status(), &error);
            if error.status() == 401 {
                response.with_header("www-authenticate", BASIC_CHALLENGE)
            } else {
                response
            }
        }
        Err(TokenFailure::Platform(error)) => return problem(&error),
    };
    response
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache")
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    let variable = qmarket_spin::variable;
    let settings = Settings {
        policy: SignupPolicy::from_variables(
            variable(ALLOW_OPEN_SIGNUP).as_deref(),
            variable(ADMIN_TOKEN).as_deref(),
        ),
        encryption_key: variable(ENCRYPTION_KEY_VARIABLE),
        limits: Limits::from_variables(
            variable(SIGNUP_RATE_VARIABLE).as_deref(),
            variable(TOKEN_RATE_VARIABLE).as_deref(),
        ),
    };
    qmarket_spin::serve(req, |req, kv| {
        route_with(req, kv, &settings, Timestamp::now())
    })
}
