//! The web console: the single-page app at `/`, built ahead of time from
//! `web/` (`scripts/build-console.sh`) and embedded in the component.
//!
//! The component is a thin shell: it turns Spin's request into the
//! platform's, asks [`site::answer`] (pure, tested natively) what to send,
//! and sends it. The API stays under `/api` and the gateway under
//! `/gateway`; `spin.toml` routes everything else here.
#![deny(missing_docs)]

pub mod headers;
pub mod site;

/// Every built file of the console: its path as served (`/index.html`,
/// `/assets/index-<hash>.js`) and its bytes, embedded by `build.rs`.
pub const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Answers one request from the embedded files.
pub fn route(req: &qmarket_http::Request) -> qmarket_http::Response {
    site::answer(&site::Site::new(FILES), req)
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub async fn handle(req: spin_sdk::http::IncomingRequest, out: spin_sdk::http::ResponseOutparam) {
    // No answer here reads a body: the host reads on any that was sent.
    // `send` writes the body in pieces the host accepts, whatever its size.
    qmarket_spin::send(out, route(&qmarket_spin::request_head(&req)));
}

#[cfg(test)]
mod tests;
