//! Services, their API specifications, quantum backends and the marketplace.
use qmarket_core::Error;
use qmarket_http::{HandlerResult, Request};
use qmarket_store::KeyValue;

/// Routes one request.
pub fn route(req: &Request, _kv: &dyn KeyValue) -> HandlerResult {
    Err(Error::NotFound(format!("no endpoint at {}", req.path)))
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    qmarket_spin::serve(req, |req, kv| route(req, kv))
}
