//! Test guest: `GET /outbound?url=<url>[&first_byte_ms=<n>]` fetches `url`
//! and answers its status and body, or 502 with the error (e.g.
//! `HttpRequestDenied`, `ConnectionReadTimeout`).
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types};

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn fetch(url: &str, first_byte_ms: Option<u64>) -> Result<(u16, Vec<u8>), String> {
    let (scheme, rest) = url.split_once("://").ok_or("url needs a scheme")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = types::OutgoingRequest::new(types::Fields::new());
    request.set_method(&Method::Get).map_err(|()| "method")?;
    let scheme = match scheme {
        "http" => types::Scheme::Http,
        "https" => types::Scheme::Https,
        other => types::Scheme::Other(other.to_string()),
    };
    request.set_scheme(Some(&scheme)).map_err(|()| "scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "authority")?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| "path")?;
    let options = types::RequestOptions::new();
    if let Some(ms) = first_byte_ms {
        options
            .set_first_byte_timeout(Some(ms * 1_000_000))
            .map_err(|()| "timeout")?;
    }
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|()| "response taken twice")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.consume().map_err(|()| "body")?;
    let stream = body.stream().map_err(|()| "stream")?;
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend(chunk);
    }
    Ok((status, bytes))
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let query = req.query().to_string();
    let Some(url) = query_param(&query, "url") else {
        return Ok(Response::new(400, "missing url"));
    };
    let first_byte_ms = query_param(&query, "first_byte_ms").and_then(|v| v.parse().ok());
    Ok(match fetch(url, first_byte_ms) {
        Ok((status, body)) => Response::builder()
            .status(200)
            .header("x-upstream-status", status.to_string())
            .body(body)
            .build(),
        Err(e) => Response::new(502, e),
    })
}
