//! Liveness of the platform: `GET /api/health` answers `{"status":"UP"}`.
use qmarket_http::Response;
use serde_json::json;
use spin_sdk::http::Request;

/// Answers every request routed here with `200 {"status":"UP"}`.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(_req: Request) -> spin_sdk::http::Response {
    qmarket_spin::to_spin_response(Response::ok(&json!({"status": "UP"})))
}
