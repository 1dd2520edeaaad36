//! Platform endpoints that belong to no capability: `GET /api/health`, and
//! the problem+json 404 for every path no other component serves.
use qmarket_core::Error;
use qmarket_http::{no_endpoint, problem, Method, Request, Response, Route};
use serde_json::json;

/// Routes one request.
pub fn route(req: &Request) -> Response {
    if Route::new("/api/health").matches(&req.path).is_some() {
        return match req.method {
            Method::Get | Method::Head => Response::ok(&json!({"status": "UP"})),
            _ => problem(&Error::MethodNotAllowed(
                "/api/health answers GET only".into(),
            )),
        };
    }
    problem(&no_endpoint(req))
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    qmarket_spin::to_spin_response(route(&qmarket_spin::to_request(&req)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_answers_up() {
        let r = route(&Request::new(Method::Get, "/api/health"));
        assert_eq!(r.status, 200);
        assert_eq!(r.json_value(), json!({"status": "UP"}));
    }

    #[test]
    fn unknown_paths_get_a_problem_404() {
        let r = route(&Request::new(Method::Get, "/api/nothing-here"));
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
}
