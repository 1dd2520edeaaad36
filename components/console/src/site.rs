//! What the console answers, as pure logic over the embedded files: a built
//! file by its exact path, the app's page for `/` and for deep links of the
//! app (a GET that accepts HTML), a problem+json 404 for anything else.

use crate::headers::*;
use qmarket_core::Error;
use qmarket_http::{allow, no_endpoint, problem, Method, Request, Response};

/// The app's page, as the build writes it.
pub const INDEX: &str = "/index.html";
/// Where the build puts the files whose names carry their content hash.
pub const HASHED_DIR: &str = "/assets/";

/// The built files the console serves.
pub struct Site<'a> {
    files: &'a [(&'a str, &'a [u8])],
}

/// What a request asks of the site.
#[derive(Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// A built file, by its path as served.
    File(&'a str, &'a [u8]),
    /// The app's page: `/`, or a deep link into the app.
    Page(&'a [u8]),
    /// Nothing here.
    Missing,
}

impl<'a> Site<'a> {
    /// The site of `files` (path as served, bytes).
    pub fn new(files: &'a [(&'a str, &'a [u8])]) -> Self {
        Site { files }
    }

    /// The file served at `path`, if there is one.
    pub fn file(&self, path: &str) -> Option<(&'a str, &'a [u8])> {
        self.files.iter().find(|(p, _)| *p == path).copied()
    }

    /// What `path` names for a client whose `Accept` header is `accept`.
    pub fn target(&self, path: &str, accept: Option<&str>) -> Target<'a> {
        let page = || match self.file(INDEX) {
            Some((_, bytes)) => Target::Page(bytes),
            None => Target::Missing,
        };
        if path == "/" || path == INDEX {
            return page();
        }
        if let Some((served, bytes)) = self.file(path) {
            return Target::File(served, bytes);
        }
        // A hashed file that is gone is an old page's reference: a 404, not
        // the page (which a browser would try to run as a script).
        if path.starts_with(HASHED_DIR) || !accepts_html(accept) {
            return Target::Missing;
        }
        page()
    }
}

/// The answer to `req`: GET and HEAD only; HEAD has the headers of GET.
pub fn answer(site: &Site, req: &Request) -> Response {
    if let Err(error) = allow(req, &[Method::Get, Method::Head]) {
        return problem(&error).with_header(ALLOW, "GET, HEAD");
    }
    let mut response = match site.target(&req.path, req.header(ACCEPT)) {
        Target::File(path, bytes) => file_response(content_type(path), cache_control(path), bytes),
        Target::Page(bytes) => file_response(content_type(INDEX), NO_CACHE, bytes)
            .with_header(CONTENT_SECURITY_POLICY, POLICY)
            .with_header(REFERRER_POLICY, NO_REFERRER)
            .with_header(VARY, "Accept"),
        Target::Missing => missing(req),
    };
    if req.method == Method::Head {
        response.body.clear();
    }
    response
}

fn file_response(content_type: &str, cache_control: &str, bytes: &[u8]) -> Response {
    Response {
        status: 200,
        headers: vec![
            (CONTENT_TYPE.into(), content_type.into()),
            (CACHE_CONTROL.into(), cache_control.into()),
            (X_CONTENT_TYPE_OPTIONS.into(), NOSNIFF.into()),
        ],
        body: bytes.to_vec(),
    }
}

/// The problem+json 404 for a path that names nothing here.
fn missing(req: &Request) -> Response {
    let error: Error = no_endpoint(req);
    problem(&error)
        .with_header(VARY, "Accept")
        .with_header(X_CONTENT_TYPE_OPTIONS, NOSNIFF)
}

/// Whether an `Accept` header lists `text/html` (not refused with `q=0`):
/// a browser navigating, not a script fetching data.
pub fn accepts_html(accept: Option<&str>) -> bool {
    accept.unwrap_or("").split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        media.eq_ignore_ascii_case("text/html") && !refused
    })
}

/// The media type of a built file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// How long a file may be cached: hashed files forever, the rest revalidated.
pub fn cache_control(path: &str) -> &'static str {
    if path.starts_with(HASHED_DIR) {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}
