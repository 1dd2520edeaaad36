//! The gateway over `wasi:http`: reads the consumer's request, sends it
//! upstream with timeouts, and streams the answer back.
//!
//! Everything here waits through `wasi:io/poll` against a monotonic-clock
//! deadline, so no wait is longer than the configured timeout even where a
//! host ignores the request options.

use std::time::Duration;

use qmarket_core::{Error, Timestamp};
use qmarket_gateway::limits::Counted;
use qmarket_gateway::{
    authorization_keys, failure_response, record_call, upstream_response_headers, Caller,
    GatewayConfig, GatewayPath, Scheme as Sch, Target, UpstreamFailure,
};
use qmarket_http::{problem, BodyLimit, Request, Response};
use qmarket_model::{CallRecord, SealedCorrelation};
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
use crate::{admit, classify, config_from, limit_call, with_fields, Call, ENCRYPTION_KEY_VARIABLE};

/// Bytes read from a stream per call.
const CHUNK: u64 = 64 * 1024;

/// What a gateway request came to.
enum Outcome {
    /// An upstream's answer to stream back.
    Upstream(IncomingResponse, Forwarded),
    /// A managed service's answer, with the store its files are read from
    /// and the limits it was counted against.
    Managed(Answer, SpinStore, Counted),
}

/// A call on its way upstream: what its answer needs, and what its record
/// is made of once the consumer has it.
struct Forwarded {
    store: SpinStore,
    config: GatewayConfig,
    counted: Counted,
    record: CallRecord,
    started: u64,
}

impl Forwarded {
    /// Records the call as answered with `status` and `sent` body bytes.
    fn record(mut self, status: u16, sent: u64, complete: bool) {
        self.record.status = status;
        self.record.response_bytes = sent;
        self.record.complete = complete;
        self.record.duration_ms = monotonic_clock::now().saturating_sub(self.started) / 1_000_000;
        if let Err(e) = record_call(&self.store, &self.record) {
            eprintln!(
                "gateway: recording call {} failed: {e}",
                self.record.correlation_id
            );
        }
    }
}

/// A request the gateway answers itself; with the call when it had been
/// admitted (and counted against the limits).
struct Refused {
    response: Response,
    call: Option<Box<Forwarded>>,
}

impl From<Response> for Refused {
    fn from(response: Response) -> Self {
        Refused {
            response,
            call: None,
        }
    }
}

/// Handles one gateway request.
pub(crate) fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let method = req.method();
    let head = qmarket_spin::request_head(&req);
    match forward(req, &method, &head) {
        Ok(Outcome::Upstream(response, call)) => {
            let is_head = matches!(method, Method::Head);
            let fields = call.counted.fields();
            let (status, sent, complete) = stream_back(
                response,
                &call.record.correlation_id,
                &fields,
                out,
                call.config.timeout,
                is_head,
            );
            call.record(status, sent, complete);
        }
        Ok(Outcome::Managed(Answer::Whole(response), _, counted)) => {
            send(out, with_fields(response, &counted))
        }
        Ok(Outcome::Managed(Answer::File(file), kv, counted)) => {
            let mut headers = vec![
                (
                    "content-type".to_string(),
                    b"application/octet-stream".to_vec(),
                ),
                (
                    "content-length".to_string(),
                    file.len.to_string().into_bytes(),
                ),
            ];
            headers.extend(
                counted
                    .fields()
                    .into_iter()
                    .map(|(name, value)| (name, value.into_bytes())),
            );
            let chunks = (0..file.chunks).map(|n| file.chunk(&kv, n));
            send_stream(out, 200, &headers, chunks);
        }
        Err(Refused { response, call }) => {
            let (status, len) = (response.status, response.body.len() as u64);
            match call {
                None => send(out, response),
                Some(call) => {
                    send(out, with_fields(response, &call.counted));
                    // The platform answered it itself: it does not use up
                    // the quota.
                    call.counted.give_back(&call.store);
                    call.record(status, len, true);
                }
            }
        }
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
fn forward(req: IncomingRequest, method: &Method, head: &Request) -> Result<Outcome, Refused> {
    let started = monotonic_clock::now();
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
    let grant = match &call {
        Call::Forward(admission) => &admission.grant,
        Call::Managed { grant, .. } => grant,
    };
    let counted = limit_call(&kv, grant, now)?;
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
                .map_err(|e| with_fields(logged(&e), &counted))?;
            drop(kv);
            return Ok(Outcome::Managed(answer, store, counted));
        }
    };
    drop(kv);
    let correlation_id = admission.correlation.id.clone();
    let mut call = Forwarded {
        store,
        config,
        counted,
        record: CallRecord {
            correlation_id: correlation_id.clone(),
            subscription_id: admission.grant.subscription.id.clone(),
            method: method_name(method),
            path: GatewayPath::parse(&head.path)
                .map(|p| p.remainder.to_string())
                .unwrap_or_default(),
            status: 0,
            duration_ms: 0,
            request_bytes: 0,
            response_bytes: 0,
            complete: false,
            started_at: now,
        },
        started,
    };
    let limit = BodyLimit {
        max_bytes: config.max_body_bytes,
        whose: "the gateway's limit",
    };
    let body = match qmarket_spin::read_body(req, limit) {
        Ok(body) => body,
        Err(error) => return Err(call.refused(error)),
    };
    call.record.request_bytes = body.len() as u64;

    let headers = admission.upstream_headers(head, body.len());
    match send_upstream(method, &admission.target, &headers, &body, config.timeout) {
        Ok(response) => Ok(Outcome::Upstream(response, call)),
        Err(failure) => Err(call.refused(failure.into())),
    }
}

impl Forwarded {
    /// The gateway's own answer to this admitted call: `error` as a
    /// problem with the call's correlation id.
    fn refused(self, error: Error) -> Refused {
        let correlation_id = &self.record.correlation_id;
        if let Error::Internal(detail) = &error {
            eprintln!("gateway: internal error on correlation {correlation_id}: {detail}");
        }
        Refused {
            response: failure_response(&error, correlation_id),
            call: Some(Box::new(self)),
        }
    }
}

/// The method's name as the record keeps it.
fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(name) => name.clone(),
    }
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
///
/// `limits` are the `RateLimit-Policy` / `RateLimit` fields to add. Returns
/// the status sent, the body bytes sent and whether the body was complete.
fn stream_back(
    upstream: IncomingResponse,
    correlation_id: &str,
    limits: &[(String, String)],
    out: ResponseOutparam,
    between_bytes: Duration,
    is_head: bool,
) -> (u16, u64, bool) {
    let status = upstream.status();
    let upstream_headers = upstream.headers().entries();
    let mut headers = upstream_response_headers(&upstream_headers, correlation_id);
    if is_head || status == 204 || status == 304 {
        // No body follows; a content-length would make the host expect one.
        headers.retain(|(name, _)| name != "content-length");
    }
    headers.extend(
        limits
            .iter()
            .map(|(name, value)| (name.clone(), value.clone().into_bytes())),
    );
    let refuse = |out: ResponseOutparam, error: UpstreamFailure| {
        let mut response = failure_response(&error.into(), correlation_id);
        response.headers.extend(limits.iter().cloned());
        let (status, len) = (response.status, response.body.len() as u64);
        send(out, response);
        (status, len, true)
    };
    let Ok(in_body) = upstream.consume() else {
        let error = UpstreamFailure::Invalid("the response body was not readable".into());
        return refuse(out, error);
    };
    let response = OutgoingResponse::new(fields(&headers));
    if response.set_status_code(status).is_err() {
        return refuse(out, UpstreamFailure::Invalid(format!("status {status}")));
    }
    let Ok(out_body) = response.body() else {
        return (status, 0, false);
    };
    out.set(response);

    let mut sent = 0;
    let complete = match (in_body.stream(), out_body.write()) {
        (Ok(input), Ok(output)) => {
            let complete = copy(&input, &output, between_bytes, &mut sent);
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
    (status, sent, complete)
}

/// Copies `input` to `output`, counting the bytes written in `sent`; false
/// when either side failed or the upstream stalled longer than
/// `between_bytes`.
fn copy(
    input: &wasi::io::streams::InputStream,
    output: &OutputStream,
    between_bytes: Duration,
    sent: &mut u64,
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
                *sent += chunk.len() as u64;
            }
            Err(StreamError::Closed) => return true,
            Err(StreamError::LastOperationFailed(_)) => return false,
        }
    }
}
