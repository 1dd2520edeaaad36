//! Spin glue shared by every component: the store, variables, and turning
//! Spin's requests into [`qmarket_http::Request`]s and back.
//!
//! A component's handler is then three lines: convert, call, convert back
//! ([`serve`]).
#![deny(missing_docs)]

mod store;

pub use store::SpinStore;

use qmarket_http::{problem, Method, Request, Response};
use spin_sdk::http as spin_http;

/// The key-value store label every component uses.
pub const STORE_LABEL: &str = "default";

/// Converts Spin's request into the platform's.
pub fn to_request(req: &spin_http::Request) -> Request {
    Request {
        method: Method::parse(&req.method().to_string()),
        path: req.path().to_string(),
        query: req.query().to_string(),
        headers: req
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec()))
            .collect(),
        body: req.body().to_vec(),
    }
}

/// Converts the platform's response into Spin's.
pub fn to_spin_response(response: Response) -> spin_http::Response {
    let mut builder = spin_http::Response::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    builder.body(response.body).build()
}

/// The value of Spin variable `name`, or `None` when it is unset or empty.
pub fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Runs `handler` on `req` with the platform store open, and maps a failure
/// to its problem response. Internal errors are logged to stderr (the host's
/// log), never shown to the caller.
pub fn serve(
    req: spin_http::Request,
    handler: impl FnOnce(&Request, &SpinStore) -> qmarket_http::HandlerResult,
) -> spin_http::Response {
    let request = to_request(&req);
    let response = match SpinStore::open(STORE_LABEL) {
        Ok(store) => handler(&request, &store),
        Err(e) => Err(e.into()),
    };
    to_spin_response(response.unwrap_or_else(|error| {
        if let qmarket_core::Error::Internal(detail) = &error {
            eprintln!(
                "internal error on {} {}: {detail}",
                request.method.as_str(),
                request.path
            );
        }
        problem(&error)
    }))
}
