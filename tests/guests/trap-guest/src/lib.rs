//! Test guest: panics (a trap) on paths ending in `/boom`, answers `alive` otherwise.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    if req.path().ends_with("/boom") {
        panic!("boom requested");
    }
    Ok(Response::new(200, "alive"))
}
