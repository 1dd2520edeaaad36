//! Platform endpoints that belong to no capability: `GET /api/health`,
//! `GET /api/openapi.json` (the platform's own OpenAPI 3.1 document), and the
//! problem+json 404 for every path under `/api` no other component serves
//! (the console answers the paths outside the API).
use qmarket_core::Error;
use qmarket_http::{no_endpoint, problem, Method, Request, Response, Route};
use serde_json::json;

/// The repository's `openapi.yaml`, converted to JSON when the crate is built.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

const HEALTH: Route = Route::new("/api/health");
const OPENAPI: Route = Route::new("/api/openapi.json");

/// Routes one request.
pub fn route(req: &Request) -> Response {
    if HEALTH.matches(&req.path).is_some() {
        return match req.method {
            Method::Get | Method::Head => Response::ok(&json!({"status": "UP"})),
            _ => problem(&Error::MethodNotAllowed(
                "/api/health answers GET only".into(),
            )),
        };
    }
    if OPENAPI.matches(&req.path).is_some() {
        return match req.method {
            Method::Get | Method::Head => openapi_document(),
            _ => problem(&Error::MethodNotAllowed(
                "/api/openapi.json answers GET only".into(),
            )),
        };
    }
    problem(&no_endpoint(req))
}

/// `200 application/json` with the OpenAPI document as it was built in.
fn openapi_document() -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: OPENAPI_JSON.as_bytes().to_vec(),
    }
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    // No endpoint here reads a body: the host reads on any that was sent.
    qmarket_spin::to_spin_response(route(&qmarket_spin::request_head(&req)))
}

#[cfg(test)]
mod tests;
