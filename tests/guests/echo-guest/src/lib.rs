//! Test guest: answers with the component name (from its `COMPONENT`
//! environment variable) and every request header as the component received
//! it, one `name: value` line each, in the order the host delivered them
//! (a header sent twice shows twice).
use spin_sdk::http::{IncomingRequest, IntoResponse, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: IncomingRequest) -> anyhow::Result<impl IntoResponse> {
    let component = std::env::var("COMPONENT").unwrap_or_default();
    let mut lines = vec![format!("component: {component}")];
    lines.extend(
        req.headers()
            .entries()
            .into_iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(&value))),
    );
    let path = req.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    println!("echo {path}");
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(lines.join("\n"))
        .build())
}
