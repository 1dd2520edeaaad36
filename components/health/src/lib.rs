//! Liveness of the platform: `GET /api/health` answers `{"status":"UP"}`.
use qmarket_http::Response;
use serde_json::json;
use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> impl IntoResponse {
    qmarket_spin::to_spin_response(Response::ok(&json!({"status": "UP"})))
}
