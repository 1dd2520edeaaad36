//! Test guest: `GET /vars/<name>` answers the component variable's value,
//! or 404 with the error.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let name = req
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(match spin_sdk::variables::get(&name) {
        Ok(value) => Response::new(200, value),
        Err(e) => Response::new(404, format!("{e:?}")),
    })
}
