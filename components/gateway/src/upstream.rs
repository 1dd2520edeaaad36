//! The gateway over `wasi:http`: reads the consumer's request, sends it
//! upstream with timeouts, and streams the answer back.
//!
//! Everything here waits through `wasi:io/poll` against a monotonic-clock
//! deadline, so no wait is longer than the configured timeout even where a
//! host ignores the request options.

use std::time::Duration;

use qmarket_core::{Error, Timestamp};
use qmarket_gateway::{
    authorization_keys, failure_response, upstream_response_headers, Caller, GatewayConfig,
    GatewayPath, Scheme as Sch, Target, UpstreamFailure,
};
use qmarket_http::{problem, BodyLimit, Request, Response};
use qmarket_model::SealedCorrelation;
use qmarket_sealing::Sealer;
use qmarket_spin::{fields, send, send_stream, variable, SpinStore, STORE_LABEL};
use qmarket_store::Prefetched;
use spin_sdk::http::{
    IncomingRequest, IncomingResponse, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{IncomingBody, RequestOptions};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{OutputStream, StreamError};

use crate::executions::Answer;
use crate::{admit, classify, config_from, Call, ENCRYPTION_KEY_VARIABLE};

/// Bytes read from a stream per call.
const CHUNK: u64 = 64 * 1024;

/// What a gateway request came to.
enum Outcome {
    /// An upstream's answer to stream back.
    Upstream(IncomingResponse, String, GatewayConfig),
    /// A managed service's answer, with the store its files are read from.
    Managed(Answer, SpinStore),
}

/// Handles one gateway request.
pub(crate) fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let method = req.method();
    let head = qmarket_spin::request_head(&req);
    match forward(req, &method, &head) {
        Ok(Outcome::Upstream(response, correlation_id, config)) => {
            let is_head = matches!(method, Method::Head);
            stream_back(response, &correlation_id, out, config.timeout, is_head);
        }
        Ok(Outcome::Managed(Answer::Whole(response), _)) => send(out, response),
        Ok(Outcome::Managed(Answer::File(file), kv)) => {
            let headers = [
                (
                    "content-type".to_string(),
                    b"application/octet-stream".to_vec(),
                ),
                (
                    "content-length".to_string(),
                    file.len.to_string().into_bytes(),
                ),
            ];
            let chunks = (0..file.chunks).map(|n| file.chunk(&kv, n));
            send_stream(out, 200, &headers, chunks);
        }
        Err(response) => send(out, response),
    }
}

fn logged(error: &Error) -> Response {
    if let Error::Internal(detail) = error {
        eprintln!("gateway: internal error: {detail}");
    }
    problem(error)
}

/// The calling application: its token opened without the store, then the
/// application read together with the keys authorizing the call will read
/// (`kv` keeps them), in one round trip.
fn authenticate(
    req: &Request,
    kv: &Prefetched<'_>,
    sealer: &Sealer,
    now: Timestamp,
) -> qmarket_core::Result<Caller> {
    let tokens = sealer.for_purpose(qmarket_identity::oauth::TOKEN_PURPOSE);
    let claims = qmarket_identity::application_claims(req, &tokens, now)?;
    let service_id = GatewayPath::parse(&req.path)
        .map(|path| path.service_id)
        .unwrap_or_default();
    kv.prefetch(&authorization_keys(&claims.application_id, service_id))?;
    let principal = qmarket_identity::application_principal(kv, &claims)?;
    Ok(Caller {
        application_id: principal.application_id,
        account_id: principal.account_id,
    })
}

/// Everything up to the upstream's response head; a failure is the
/// response to give the consumer.
fn forward(req: IncomingRequest, method: &Method, head: &Request) -> Result<Outcome, Response> {
    let store = SpinStore::open(STORE_LABEL).map_err(|e| logged(&e.into()))?;
    let kv = Prefetched::new(&store);
    let config = config_from(variable);
    let now = Timestamp::now();
    let sealer =
        Sealer::load(&kv, variable(ENCRYPTION_KEY_VARIABLE).as_deref()).map_err(|e| logged(&e))?;
    let caller = authenticate(head, &kv, &sealer, now).map_err(|e| logged(&e))?;
    let correlations = sealer.for_purpose(SealedCorrelation::PURPOSE);
    let call = admit(
        head,
        &kv,
        &caller,
        now,
        |sealed| sealer.open(sealed),
        &correlations,
    )
    .map_err(|e| logged(&e))?;
    let admission = match call {
        Call::Forward(admission) => admission,
        Call::Managed { grant, remainder } => {
            let limit = BodyLimit {
                max_bytes: crate::executions::MAX_BODY_BYTES,
                whose: "an execution's limit",
            };
            let mut request = head.clone();
            request.body = qmarket_spin::read_body(req, limit).map_err(|e| logged(&e))?;
            let answer = crate::executions::serve(&request, &kv, &grant, &remainder, now)
                .map_err(|e| logged(&e))?;
            drop(kv);
            return Ok(Outcome::Managed(answer, store));
        }
    };
    let correlation_id = admission.correlation.id.clone();
    let fail = |error: Error| {
        if let Error::Internal(detail) = &error {
            eprintln!("gateway: internal error on correlation {correlation_id}: {detail}");
        }
        failure_response(&error, &correlation_id)
    };

    let limit = BodyLimit {
        max_bytes: config.max_body_bytes,
        whose: "the gateway's limit",
    };
    let body = qmarket_spin::read_body(req, limit).map_err(fail)?;

    let headers = admission.upstream_headers(head, body.len());
    let response = send_upstream(method, &admission.target, &headers, &body, config.timeout)
        .map_err(|failure| fail(failure.into()))?;
    Ok(Outcome::Upstream(response, correlation_id, config))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Sends the request and waits for the response head, at most `timeout`
/// (connecting, writing the body and the first byte together).
fn send_upstream(
    method: &Method,
    target: &Target,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    timeout: Duration,
) -> Result<IncomingResponse, UpstreamFailure> {
    let invalid = |what: &str| UpstreamFailure::Unreachable(format!("invalid upstream {what}"));
    let request = OutgoingRequest::new(fields(headers));
    request.set_method(method).map_err(|()| invalid("method"))?;
    let scheme = match target.scheme {
        Sch::Http => Scheme::Http,
        Sch::Https => Scheme::Https,
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    request
        .set_authority(Some(&target.authority))
        .map_err(|()| invalid("host"))?;
    request
        .set_path_with_query(Some(&target.path_and_query))
        .map_err(|()| invalid("path"))?;
    let outgoing_body = request.body().map_err(|()| invalid("body"))?;

    let options = RequestOptions::new();
    let ns = nanos(timeout);
    // A host may refuse an option it does not support; the deadline below
    // still bounds the wait.
    let _ = options.set_connect_timeout(Some(ns));
    let _ = options.set_first_byte_timeout(Some(ns));
    let _ = options.set_between_bytes_timeout(Some(ns));

    let deadline = monotonic_clock::now().saturating_add(ns);
    let future = outgoing_handler::handle(request, Some(options)).map_err(|c| classify(&c))?;
    let timer = monotonic_clock::subscribe_instant(deadline);

    // A failed write (the upstream refused or closed) is explained by the
    // response future below.
    let written = match outgoing_body.write() {
        Ok(stream) => {
            let result = write_all(&stream, body, &timer);
            drop(stream);
            result
        }
        Err(()) => Err(WriteError::Closed),
    };
    match written {
        Err(WriteError::TimedOut) => {
            drop(outgoing_body);
            return Err(UpstreamFailure::TimedOut("sending the request body".into()));
        }
        Err(WriteError::Closed) => drop(outgoing_body),
        Ok(()) => {
            if let Err(code) = OutgoingBody::finish(outgoing_body, None) {
                return Err(classify(&code));
            }
        }
    }

    let ready = future.subscribe();
    let result = loop {
        if let Some(result) = future.get() {
            break match result {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(code)) => Err(classify(&code)),
                Err(()) => Err(UpstreamFailure::Unreachable("no response".into())),
            };
        }
        if timer.ready() {
            break Err(UpstreamFailure::TimedOut("waiting for the response".into()));
        }
        poll::poll(&[&ready, &timer]);
    };
    drop(ready);
    drop(timer);
    result
}

enum WriteError {
    Closed,
    TimedOut,
}

/// Writes all of `bytes` and flushes, giving up when `timer` fires.
fn write_all(stream: &OutputStream, mut bytes: &[u8], timer: &Pollable) -> Result<(), WriteError> {
    let closed = |_| WriteError::Closed;
    while !bytes.is_empty() {
        let capacity = stream.check_write().map_err(closed)?;
        if capacity == 0 {
            wait(stream, timer)?;
            continue;
        }
        let n = usize::try_from(capacity)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        stream.write(&bytes[..n]).map_err(closed)?;
        bytes = &bytes[n..];
    }
    stream.flush().map_err(closed)?;
    loop {
        if stream.check_write().map_err(closed)? > 0 {
            return Ok(());
        }
        wait(stream, timer)?;
    }
}

fn wait(stream: &OutputStream, timer: &Pollable) -> Result<(), WriteError> {
    let ready = stream.subscribe();
    poll::poll(&[&ready, timer]);
    drop(ready);
    if timer.ready() {
        Err(WriteError::TimedOut)
    } else {
        Ok(())
    }
}

/// Streams the upstream's response to the consumer. Once the head is sent
/// the status cannot change: an upstream that stalls longer than
/// `between_bytes` or fails mid-body makes the consumer's response end in
/// an error, never in a silently truncated success.
fn stream_back(
    upstream: IncomingResponse,
    correlation_id: &str,
    out: ResponseOutparam,
    between_bytes: Duration,
    is_head: bool,
) {
    let status = upstream.status();
    let upstream_headers = upstream.headers().entries();
    let mut headers = upstream_response_headers(&upstream_headers, correlation_id);
    if is_head || status == 204 || status == 304 {
        // No body follows; a content-length would make the host expect one.
        headers.retain(|(name, _)| name != "content-length");
    }
    let Ok(in_body) = upstream.consume() else {
        let error = UpstreamFailure::Invalid("the response body was not readable".into());
        return send(out, failure_response(&error.into(), correlation_id));
    };
    let response = OutgoingResponse::new(fields(&headers));
    if response.set_status_code(status).is_err() {
        let error = UpstreamFailure::Invalid(format!("status {status}"));
        return send(out, failure_response(&error.into(), correlation_id));
    }
    let Ok(out_body) = response.body() else {
        return;
    };
    out.set(response);

    let complete = match (in_body.stream(), out_body.write()) {
        (Ok(input), Ok(output)) => {
            let complete = copy(&input, &output, between_bytes);
            drop(input);
            drop(output);
            complete
        }
        _ => false,
    };
    drop(IncomingBody::finish(in_body));
    if complete {
        if OutgoingBody::finish(out_body, None).is_err() {
            eprintln!("gateway: correlation {correlation_id}: the response could not be completed");
        }
    } else {
        eprintln!("gateway: correlation {correlation_id}: the upstream response was cut off");
        // Dropping an unfinished body tells the host the response failed.
        drop(out_body);
    }
    drop(upstream);
}

/// Copies `input` to `output`; false when either side failed or the
/// upstream stalled longer than `between_bytes`.
fn copy(
    input: &wasi::io::streams::InputStream,
    output: &OutputStream,
    between_bytes: Duration,
) -> bool {
    loop {
        match input.read(CHUNK) {
            Ok(chunk) if chunk.is_empty() => {
                let ready = input.subscribe();
                let timer = monotonic_clock::subscribe_duration(nanos(between_bytes));
                poll::poll(&[&ready, &timer]);
                let stalled = !ready.ready() && timer.ready();
                drop(ready);
                if stalled {
                    return false;
                }
            }
            Ok(chunk) => {
                let timer = monotonic_clock::subscribe_duration(nanos(between_bytes));
                if write_all(output, &chunk, &timer).is_err() {
                    return false;
                }
            }
            Err(StreamError::Closed) => return true,
            Err(StreamError::LastOperationFailed(_)) => return false,
        }
    }
}
