//! Test guest: answers with the component name (from its `COMPONENT`
//! environment variable) and every `spin-*` request header, one per line.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let component = std::env::var("COMPONENT").unwrap_or_default();
    let mut lines: Vec<String> = req
        .headers()
        .filter(|(name, _)| name.starts_with("spin-"))
        .map(|(name, value)| format!("{name}: {}", value.as_str().unwrap_or("")))
        .collect();
    lines.sort();
    lines.insert(0, format!("component: {component}"));
    println!("echo {}", req.path());
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(lines.join("\n"))
        .build())
}
