//! Services, their API specifications, quantum backends and the marketplace:
//! HTTP in, `qmarket-catalog` calls, HTTP out.
//!
//! The provider endpoints need a personal access token with scope `API`.
//! `GET /api/quantum-backends` and `GET /api/marketplace/services` are open
//! to anonymous visitors: they show only what providers chose to publish.
use qmarket_catalog::marketplace::{self, MarketplaceQuery};
use qmarket_catalog::{api_spec, lifecycle, quantum_backend, service, Listing};
use qmarket_core::{Error, Timestamp};
use qmarket_http::{
    allow, json_body, no_endpoint, HandlerResult, Method, PageQuery, Request, Response, Route,
};
use qmarket_identity::authenticate_api;
use qmarket_sealing::{Sealer, ENCRYPTION_KEY_VARIABLE};
use qmarket_store::KeyValue;
use serde::Serialize;
use serde_json::Value;

#[cfg(test)]
mod tests;

const SERVICES: Route = Route::new("/api/services");
const SERVICE: Route = Route::new("/api/services/:svc");
const API_SPEC: Route = Route::new("/api/services/:svc/api-spec");
const PUBLISH_INTERNAL: Route = Route::new("/api/services/:svc/publish-internal");
const PUBLISH: Route = Route::new("/api/services/:svc/publish");
const UNPUBLISH: Route = Route::new("/api/services/:svc/unpublish");
const QUANTUM_BACKENDS: Route = Route::new("/api/quantum-backends");
const MARKETPLACE: Route = Route::new("/api/marketplace/services");

/// What the registry is configured with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The `encryption_key` variable (base64 of 32 bytes), if set.
    pub encryption_key: Option<String>,
}

/// Routes one request under `settings` at time `now`.
pub fn route(
    req: &Request,
    kv: &dyn KeyValue,
    settings: &Settings,
    now: Timestamp,
) -> HandlerResult {
    let path = req.path.as_str();
    if QUANTUM_BACKENDS.matches(path).is_some() {
        allow(req, &[Method::Get])?;
        return Ok(Response::list(quantum_backend::ALL.to_vec(), None));
    }
    if MARKETPLACE.matches(path).is_some() {
        allow(req, &[Method::Get])?;
        let page = PageQuery::from_request(req)?;
        let query = MarketplaceQuery {
            quantum_backend: req.query_param("quantumBackend"),
            q: req.query_param("q"),
            before: page.sequence_cursor()?,
            limit: page.limit,
        };
        return Ok(listed(marketplace::browse(kv, &query)?));
    }
    if SERVICES.matches(path).is_some() {
        allow(req, &[Method::Get, Method::Post])?;
        let caller = authenticate_api(req, kv, now)?.account_id;
        return if req.method == Method::Post {
            let input = json_body(req)?;
            let sealer = sealer(kv, settings)?;
            Ok(Response::created(&service::create(
                kv, &sealer, &caller, input, now,
            )?))
        } else {
            let page = PageQuery::from_request(req)?;
            Ok(listed(service::list(
                kv,
                &caller,
                page.sequence_cursor()?,
                page.limit,
            )?))
        };
    }
    if let Some(params) = SERVICE.matches(path) {
        allow(req, &[Method::Get, Method::Patch, Method::Delete])?;
        let caller = authenticate_api(req, kv, now)?.account_id;
        let id = params.get("svc")?;
        return match req.method {
            Method::Patch => {
                let patch = json_body(req)?;
                // Only a new password needs the key; look the service up
                // first so an unknown id is a 404 whatever the body says.
                service::owned(kv, &caller, id)?;
                let sealer = sealer(kv, settings)?;
                Ok(Response::ok(&service::update(
                    kv, &sealer, &caller, id, patch, now,
                )?))
            }
            Method::Delete => {
                service::delete(kv, &caller, id)?;
                Ok(Response::no_content())
            }
            _ => Ok(Response::ok(&service::get(kv, &caller, id)?)),
        };
    }
    if let Some(params) = API_SPEC.matches(path) {
        allow(req, &[Method::Get, Method::Put])?;
        let caller = authenticate_api(req, kv, now)?.account_id;
        let id = params.get("svc")?;
        return if req.method == Method::Put {
            service::owned(kv, &caller, id)?;
            let doc = api_spec_body(req)?;
            Ok(Response::ok(&service::replace_api_specification(
                kv, &caller, id, doc, now,
            )?))
        } else {
            Ok(Response::ok(&service::api_specification(kv, &caller, id)?))
        };
    }
    type Transition = fn(
        &dyn KeyValue,
        &str,
        &str,
        Timestamp,
    ) -> qmarket_core::Result<qmarket_catalog::ServiceView>;
    let transitions: [(Route, Transition); 3] = [
        (PUBLISH_INTERNAL, lifecycle::publish_internal),
        (PUBLISH, lifecycle::publish),
        (UNPUBLISH, lifecycle::unpublish),
    ];
    for (route, transition) in transitions {
        if let Some(params) = route.matches(path) {
            allow(req, &[Method::Post])?;
            let caller = authenticate_api(req, kv, now)?.account_id;
            return Ok(Response::ok(&transition(
                kv,
                &caller,
                params.get("svc")?,
                now,
            )?));
        }
    }
    Err(no_endpoint(req))
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    let settings = Settings {
        encryption_key: qmarket_spin::variable(ENCRYPTION_KEY_VARIABLE),
    };
    qmarket_spin::serve(req, |req, kv| route(req, kv, &settings, Timestamp::now()))
}

fn sealer(kv: &dyn KeyValue, settings: &Settings) -> qmarket_core::Result<Sealer> {
    Sealer::load(kv, settings.encryption_key.as_deref())
}

/// The document in a `PUT …/api-spec` body: a JSON object (or JSON text of
/// one), or YAML text.
fn api_spec_body(req: &Request) -> qmarket_core::Result<Value> {
    let media = req
        .header("content-type")
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|| "application/json".into());
    if req.body.len() > api_spec::MAX_SPEC_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the body has {} bytes; at most {} are accepted",
            req.body.len(),
            api_spec::MAX_SPEC_BYTES
        )));
    }
    if media == "application/json" || media.ends_with("+json") {
        let value: Value = json_body(req)?;
        return api_spec::parse_value(&value);
    }
    if api_spec::TEXT_MEDIA_TYPES.contains(&media.as_str()) {
        let text = std::str::from_utf8(&req.body)
            .map_err(|_| Error::bad_request("the API specification is not UTF-8 text"))?;
        return api_spec::parse_text(text);
    }
    Err(Error::UnsupportedMediaType(format!(
        "expected an OpenAPI document as application/json or application/yaml (also application/x-yaml, text/yaml), got '{}'",
        media.chars().take(100).collect::<String>()
    )))
}

fn listed<T: Serialize>(listing: Listing<T>) -> Response {
    Response::list(listing.items, listing.next.map(|n| n.to_string()))
}
