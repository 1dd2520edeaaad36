//! Spin glue shared by every component: the store, variables, and turning
//! Spin's requests into [`qmarket_http::Request`]s and back.
//!
//! A component's handler is then three lines: convert, call, convert back
//! ([`serve`]). Request bodies are read from the incoming stream with a
//! limit that is checked while reading ([`read_body`]): a body over it is
//! answered 413 as soon as it passes the limit, without being buffered
//! whole first.
#![deny(missing_docs)]

mod store;

pub use store::SpinStore;

use qmarket_http::{problem, BodyLimit, Method, Request, Response};
use spin_sdk::http as spin_http;

/// The key-value store label every component uses.
pub const STORE_LABEL: &str = "default";

/// Bytes read from a body stream per call.
const CHUNK: u64 = 64 * 1024;

/// The platform's request for Spin's incoming one, without its body (read
/// it with [`read_body`]).
pub fn request_head(req: &spin_http::IncomingRequest) -> Request {
    let path_and_query = req.path_with_query().unwrap_or_else(|| "/".into());
    let (path, query) = path_and_query
        .split_once('?')
        .map(|(p, q)| (p.to_string(), q.to_string()))
        .unwrap_or((path_and_query.clone(), String::new()));
    Request {
        method: Method::parse(&req.method().to_string()),
        path,
        query,
        headers: req
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect(),
        body: Vec::new(),
    }
}

/// Reads the body of `req` to its end, handing each piece to `each` as it
/// arrives; 413 as soon as it passes `limit` (a declared `content-length`
/// over it is refused before reading anything). Returns the bytes read.
pub fn stream_body(
    req: spin_http::IncomingRequest,
    limit: BodyLimit,
    mut each: impl FnMut(&[u8]) -> qmarket_core::Result<()>,
) -> qmarket_core::Result<u64> {
    let declared = req.headers().get("content-length");
    let declared = declared
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned());
    limit.check_declared(declared.as_deref())?;
    let unreadable = || qmarket_core::Error::bad_request("the request body could not be read");
    let body = req.consume().map_err(|()| unreadable())?;
    let mut received = 0u64;
    {
        let stream = body.stream().map_err(|()| unreadable())?;
        loop {
            match stream.blocking_read(CHUNK) {
                Ok(chunk) => {
                    received += chunk.len() as u64;
                    limit.check_received(received)?;
                    each(&chunk)?;
                }
                Err(wasi::io::streams::StreamError::Closed) => break,
                Err(wasi::io::streams::StreamError::LastOperationFailed(_)) => {
                    return Err(unreadable())
                }
            }
        }
    }
    drop(spin_sdk::wit::wasi::http0_2_0::types::IncomingBody::finish(
        body,
    ));
    Ok(received)
}

/// Spin's incoming request as a [`qmarket_http::BodySource`]: its body
/// streamed with [`stream_body`].
pub struct Streamed(pub spin_http::IncomingRequest);

impl qmarket_http::BodySource for Streamed {
    fn each(
        self: Box<Self>,
        limit: BodyLimit,
        each: &mut dyn FnMut(&[u8]) -> qmarket_core::Result<()>,
    ) -> qmarket_core::Result<u64> {
        stream_body(self.0, limit, each)
    }
}

/// The body of `req`, read to its end within `limit` (see [`stream_body`]).
pub fn read_body(
    req: spin_http::IncomingRequest,
    limit: BodyLimit,
) -> qmarket_core::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    stream_body(req, limit, |chunk| {
        bytes.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(bytes)
}

/// Header fields for a response or request, skipping (and logging) any the
/// host refuses rather than failing for one header.
pub fn fields(headers: &[(String, Vec<u8>)]) -> spin_http::Fields {
    if let Ok(fields) = spin_http::Fields::from_list(headers) {
        return fields;
    }
    let fields = spin_http::Fields::new();
    for (name, value) in headers {
        if fields.append(name, value).is_err() {
            eprintln!("header {name:?} refused by the host; left out");
        }
    }
    fields
}

fn lower_case(headers: &[(String, String)]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect()
}

/// Sends `response` whole on `out`.
pub fn send(out: spin_http::ResponseOutparam, response: Response) {
    let body = response.body;
    send_stream(
        out,
        response.status,
        &lower_case(&response.headers),
        std::iter::once(Ok(body)),
    );
}

/// The most bytes one `blocking-write-and-flush` may take (wasi:io 0.2: a
/// host refuses a longer write, and the body is cut off there).
const MAX_BLOCKING_WRITE: usize = 4096;

/// Sends a response of `status` and `headers` whose body is `chunks`, each
/// written as it comes: a large body never sits in memory whole. A chunk
/// that fails after the head was sent cuts the body off (the client sees
/// a broken response, never a short success).
pub fn send_stream(
    out: spin_http::ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    chunks: impl IntoIterator<Item = qmarket_core::Result<Vec<u8>>>,
) {
    let outgoing = spin_http::OutgoingResponse::new(fields(headers));
    let _ = outgoing.set_status_code(status);
    let Ok(body) = outgoing.body() else {
        return;
    };
    out.set(outgoing);
    let Ok(stream) = body.write() else {
        return;
    };
    for chunk in chunks {
        let Ok(chunk) = chunk else {
            // Dropping an unfinished body tells the host the response failed.
            drop(stream);
            return;
        };
        for piece in chunk.chunks(MAX_BLOCKING_WRITE) {
            if stream.blocking_write_and_flush(piece).is_err() {
                drop(stream);
                return;
            }
        }
    }
    drop(stream);
    let _ = spin_http::OutgoingBody::finish(body, None);
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

/// Runs `handler` on `req` (its body read up to
/// [`BodyLimit::API`]) with the platform store open, and maps
/// a failure to its problem response. Internal errors are logged to stderr
/// (the host's log), never shown to the caller.
pub fn serve(
    req: spin_http::IncomingRequest,
    handler: impl FnOnce(&Request, &SpinStore) -> qmarket_http::HandlerResult,
) -> spin_http::Response {
    serve_with_limit(req, BodyLimit::API, handler)
}

/// Serves `req` (whose [`request_head`] is `head`) with a body `handler`
/// reads itself, as it arrives (an upload larger than any buffer):
/// `handler` gets the head, the body as a [`Streamed`] source and the
/// store; the answer is made as by [`serve`].
pub fn serve_streamed(
    head: Request,
    req: spin_http::IncomingRequest,
    handler: impl FnOnce(
        &Request,
        Box<dyn qmarket_http::BodySource>,
        &SpinStore,
    ) -> qmarket_http::HandlerResult,
) -> spin_http::Response {
    let response = SpinStore::open(STORE_LABEL)
        .map_err(qmarket_core::Error::from)
        .and_then(|store| handler(&head, Box::new(Streamed(req)), &store));
    answer(&head, response)
}

/// [`serve`] with body limit `limit`.
pub fn serve_with_limit(
    req: spin_http::IncomingRequest,
    limit: BodyLimit,
    handler: impl FnOnce(&Request, &SpinStore) -> qmarket_http::HandlerResult,
) -> spin_http::Response {
    let mut request = request_head(&req);
    let response = read_body(req, limit).and_then(|body| {
        request.body = body;
        let store = SpinStore::open(STORE_LABEL)?;
        handler(&request, &store)
    });
    answer(&request, response)
}

/// Spin's response for a handler's result: a failure becomes its problem
/// response; an internal error is logged to stderr (the host's log), never
/// shown to the caller.
pub fn answer(request: &Request, response: qmarket_http::HandlerResult) -> spin_http::Response {
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
