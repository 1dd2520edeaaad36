//! The HTTP server: one fresh `Store` and instance per request, Spin's
//! request headers, one log line per request (to the server's [`LogSink`],
//! with what the request cost: see [`RequestStats`]),
//! the unread rest of a request body read on after the answer (within a
//! bound, see `lingering.rs`), the [`Timeouts`] on every connection and
//! exchange (see `connection.rs`), graceful shutdown.
//!
//! A component sees the request as Spin hands it over: `Connection` is
//! removed, and wasmtime removes its fixed hop-by-hop set (`Host`,
//! `Keep-Alive`, `Transfer-Encoding`, `Upgrade`, `Proxy-*`, ...); every other
//! header the client sent reaches the component, those that `Connection`
//! names among them, and the `spin-*` headers follow the client's headers
//! instead of replacing any the client sent. A component's answer reaches the
//! client as it is, as under Spin (wasmtime refuses the hop-by-hop set in
//! the headers a component sets).

use crate::app::{App, LoadedComponent};
use crate::connection::{self, Activity, DeadlineBody, WatchedIo};
use crate::durability::{not_durable, GatedBody, OutputGate};
use crate::lingering::LingeringBody;
use crate::outbound::OutboundHooks;
use crate::request_stats::RequestStats;
use crate::routes::RouteMatch;
use crate::state::RequestState;
use crate::stdio::LogSink;
use crate::timeouts::Timeouts;
use crate::Error;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

/// Spin's liveness endpoint.
pub const HEALTH_PATH: &str = "/.well-known/spin/health";
/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Headers Spin adds to every request routed to a component.
pub mod headers {
    /// The full URL of the request.
    pub const FULL_URL: &str = "spin-full-url";
    /// The part of the path matched by the route's `/...`.
    pub const PATH_INFO: &str = "spin-path-info";
    /// The matched route, with the base.
    pub const MATCHED_ROUTE: &str = "spin-matched-route";
    /// The route without its `/...`.
    pub const COMPONENT_ROUTE: &str = "spin-component-route";
    /// The route as written in the manifest.
    pub const RAW_COMPONENT_ROUTE: &str = "spin-raw-component-route";
    /// The application base path.
    pub const BASE_PATH: &str = "spin-base-path";
    /// The client's `ip:port`.
    pub const CLIENT_ADDR: &str = "spin-client-addr";
    /// Prefix of one header per `:name` route segment.
    pub const PATH_MATCH_PREFIX: &str = "spin-path-match-";
}

/// A bound, not yet serving, server.
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    local_addr: SocketAddr,
    log: LogSink,
    timeouts: Timeouts,
}

struct Shared {
    app: Arc<App>,
    self_authority: Arc<str>,
    log: LogSink,
    timeouts: Timeouts,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(app: App, addr: SocketAddr) -> Result<Self, Error> {
        let bind_err = |source| Error::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        Ok(Self {
            app: Arc::new(app),
            listener,
            local_addr,
            log: LogSink::default(),
            timeouts: Timeouts::default(),
        })
    }

    /// Sends the request log, the server's errors and the components'
    /// stdout and stderr to `sink` instead of the process's stderr.
    pub fn with_log_sink(mut self, sink: LogSink) -> Self {
        self.log = sink;
        self
    }

    /// Serves within `timeouts` instead of [`Timeouts::default`].
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The application being served.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish
    /// (up to a grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let timeouts = self.timeouts;
        let shared = Arc::new(Shared {
            app: self.app,
            self_authority: Arc::from(self.local_addr.to_string()),
            log: self.log,
            timeouts,
        });
        for warning in shared.app.warnings() {
            shared.log.line(&format!("warning: {warning}"));
        }
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(timeouts.http2_keep_alive_interval)
            .keep_alive_timeout(timeouts.http2_keep_alive_timeout);
        let (stop, stopping) = tokio::sync::watch::channel(false);
        // Every connection task holds a sender; all are gone when all ended.
        let (alive, mut all_ended) = tokio::sync::mpsc::channel::<()>(1);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, client) = match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            shared.log.line(&format!("accept failed: {e}"));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let activity = Activity::new();
                    let service = {
                        let shared = shared.clone();
                        let activity = activity.clone();
                        hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            let activity = activity.clone();
                            async move {
                                Ok::<_, Infallible>(exchange(&shared, &activity, client, req).await)
                            }
                        })
                    };
                    let io = TokioIo::new(WatchedIo::new(stream, activity.clone()));
                    let conn = builder.serve_connection(io, service).into_owned();
                    let stopping = stopping.clone();
                    let alive = alive.clone();
                    tokio::spawn(async move {
                        connection::supervise(
                            conn,
                            |conn| conn.graceful_shutdown(),
                            activity,
                            timeouts,
                            stopping,
                        )
                        .await;
                        drop(alive);
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        let _ = stop.send(true);
        drop(alive);
        if tokio::time::timeout(SHUTDOWN_GRACE, all_ended.recv())
            .await
            .is_err()
        {
            shared.log.line(&format!(
                "shutdown: in-flight requests did not finish within {SHUTDOWN_GRACE:?}"
            ));
        }
        Ok(())
    }
}

/// One exchange within its deadline: the answer of [`handle`], or a `504`
/// when no answer has started by the deadline; the answer's body is cut off
/// at the deadline.
async fn exchange(
    shared: &Shared,
    activity: &Arc<Activity>,
    client: SocketAddr,
    req: Request<Incoming>,
) -> Response<HyperOutgoingBody> {
    let started = Instant::now();
    let deadline = started + shared.timeouts.request_deadline;
    let exchange = activity.begin(deadline);
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response =
        match tokio::time::timeout_at(deadline, handle(shared, client, req, deadline)).await {
            Ok(response) => response,
            Err(_) => {
                shared.log.line(&format!(
                    "{method} {path} - 504 {:.3}ms: no answer by the request deadline ({:?})",
                    started.elapsed().as_secs_f64() * 1000.0,
                    shared.timeouts.request_deadline
                ));
                text_response(StatusCode::GATEWAY_TIMEOUT, "")
            }
        };
    response.map(|body| DeadlineBody::new(body, deadline, exchange).boxed_unsync())
}

fn text_response(status: StatusCode, body: &'static str) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}

async fn handle(
    shared: &Shared,
    client: SocketAddr,
    req: Request<Incoming>,
    deadline: Instant,
) -> Response<HyperOutgoingBody> {
    let line = RequestLine {
        method: req.method().clone(),
        path: req.uri().path().to_string(),
        started: Instant::now(),
    };
    let response = if line.path == HEALTH_PATH {
        text_response(StatusCode::OK, "OK")
    } else {
        let component = shared
            .app
            .router
            .route(&line.path)
            .and_then(|matched| Some((shared.app.components.get(matched.component)?, matched)));
        match component {
            // The guest's answer is logged when the guest has finished.
            Some((component, matched)) => {
                return invoke(shared, component, &matched, client, req, deadline, line).await
            }
            None => text_response(StatusCode::NOT_FOUND, ""),
        }
    };
    shared.log.line(&line.format("-", response.status(), ""));
    response
}

/// What the request log says of one exchange.
struct RequestLine {
    method: http::Method,
    path: String,
    started: Instant,
}

impl RequestLine {
    /// `{method} {path} {component} {status} {ms}ms`, then `fields` (the
    /// guest's [`RequestStats::log_fields`]) when there are any.
    fn format(&self, component: &str, status: StatusCode, fields: &str) -> String {
        let mut line = format!(
            "{} {} {component} {} {:.3}ms",
            self.method,
            self.path,
            status.as_u16(),
            self.started.elapsed().as_secs_f64() * 1000.0
        );
        if !fields.is_empty() {
            line.push(' ');
            line.push_str(fields);
        }
        line
    }
}

async fn invoke(
    shared: &Shared,
    component: &Arc<LoadedComponent>,
    matched: &RouteMatch<'_>,
    client: SocketAddr,
    req: Request<Incoming>,
    deadline: Instant,
    line: RequestLine,
) -> Response<HyperOutgoingBody> {
    let stats = Arc::new(RequestStats::default());
    let invoked = invoke_guest(
        shared, component, matched, client, req, deadline, &stats, line,
    )
    .await;
    match invoked {
        Ok(response) => response,
        Err((message, line)) => {
            shared
                .log
                .line(&format!("[{}] error: {message}", component.id));
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            shared.log.line(&line.format(&component.id, status, ""));
            text_response(status, "")
        }
    }
}

fn spin_request(
    matched: &RouteMatch<'_>,
    client: SocketAddr,
    local: &str,
    req: Request<Incoming>,
) -> Result<Request<LingeringBody>, String> {
    let (mut parts, body) = req.into_parts();
    // As Spin does: `Connection` is the server's business and goes, but the
    // headers it names reach the component (wasmtime then drops its fixed
    // hop-by-hop set, `Host` among them).
    parts.headers.remove(http::header::CONNECTION);
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.parse::<http::uri::Authority>().is_ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| local.to_string());
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/")
        .to_string();
    let full_url = format!("http://{host}{path_and_query}");
    parts.uri = full_url
        .parse()
        .map_err(|e| format!("bad request URL: {e}"))?;

    // Appended after the client's headers, not replacing them: Spin does the
    // same, so a client-sent `spin-*` header reaches the component too, ahead
    // of the runtime's value.
    let mut set = |name: &str, value: &str| -> Result<(), String> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        parts.headers.append(name, value);
        Ok(())
    };
    set(headers::FULL_URL, &full_url)?;
    set(headers::PATH_INFO, &matched.path_info)?;
    set(headers::MATCHED_ROUTE, matched.based_route)?;
    set(headers::COMPONENT_ROUTE, matched.component_route)?;
    set(headers::RAW_COMPONENT_ROUTE, matched.raw_route)?;
    set(headers::BASE_PATH, "/")?;
    set(headers::CLIENT_ADDR, &client.to_string())?;
    for (name, value) in &matched.params {
        set(
            &format!(
                "{}{}",
                headers::PATH_MATCH_PREFIX,
                name.to_ascii_lowercase()
            ),
            value,
        )?;
    }
    Ok(Request::from_parts(parts, LingeringBody::new(body)))
}

/// Runs the component on `req`. Its log line is written once the guest has
/// finished (its answer may still stream after the head): with the
/// request's statistics, or, when there is no answer, handed back with the
/// reason for the caller to log.
#[allow(clippy::too_many_arguments)]
async fn invoke_guest(
    shared: &Shared,
    component: &Arc<LoadedComponent>,
    matched: &RouteMatch<'_>,
    client: SocketAddr,
    req: Request<Incoming>,
    deadline: Instant,
    stats: &Arc<RequestStats>,
    line: RequestLine,
) -> Result<Response<HyperOutgoingBody>, (String, RequestLine)> {
    let req = match spin_request(matched, client, &shared.self_authority, req) {
        Ok(req) => req,
        Err(message) => return Err((message, line)),
    };

    let output = component.output.with_sink(&shared.log);
    let wasi = WasiCtx::builder()
        .envs(&component.environment)
        .stdout(output.clone())
        .stderr(output)
        .build();
    let gate = Arc::new(OutputGate::default());
    let state = RequestState {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        outbound: OutboundHooks {
            policy: component.outbound.clone(),
            self_authority: Some(shared.self_authority.clone()),
            client: shared.app.outbound.clone(),
            stats: stats.clone(),
            gate: gate.clone(),
        },
        key_value: component.key_value.clone(),
        gate: gate.clone(),
        variables: component.variables.clone(),
        stats: stats.clone(),
        limits: StoreLimitsBuilder::new()
            .memory_size(shared.app.max_memory_bytes)
            .build(),
    };
    let mut store = Store::new(component.pre.engine(), state);
    store.limiter(|state| &mut state.limits);
    // Yield at every epoch tick, so that a guest computing without host
    // calls can be stopped at the deadline (by dropping its task).
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let handles = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .and_then(|incoming| {
            let outparam = store.data_mut().http().new_response_outparam(sender)?;
            Ok((incoming, outparam))
        });
    let (incoming, outparam) = match handles {
        Ok(handles) => handles,
        Err(e) => return Err((format!("{e:#}"), line)),
    };

    let pre = component.pre.clone();
    let started = Instant::now();
    // Aborted when this future is dropped at the deadline: the guest stops.
    // It answers how long instantiation took.
    let mut task = GuestTask(tokio::task::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        let instantiation = started.elapsed();
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, outparam)
            .await?;
        Ok(instantiation)
    }));

    match receiver.await {
        Ok(Ok(response)) => {
            if let Err(e) = gate.pass().await {
                return Err((not_durable("the answer", &e), line));
            }
            let response = response.map(|body| GatedBody::new(body, gate).boxed_unsync());
            // The guest may still be streaming the body: its task keeps
            // running, until the deadline at most.
            let id = component.id.clone();
            let log = shared.log.clone();
            let stats = stats.clone();
            let status = response.status();
            tokio::spawn(async move {
                let fields = match tokio::time::timeout_at(deadline, &mut task.0).await {
                    Ok(Ok(Ok(instantiation))) => stats.log_fields(started.elapsed(), instantiation),
                    Ok(Ok(Err(e))) => {
                        log.line(&format!("[{id}] error after response: {e:#}"));
                        String::new()
                    }
                    Ok(Err(e)) => {
                        log.line(&format!("[{id}] task failed after response: {e}"));
                        String::new()
                    }
                    Err(_) => {
                        log.line(&format!(
                            "[{id}] stopped at the request deadline while sending its answer"
                        ));
                        String::new()
                    }
                };
                log.line(&line.format(&id, status, &fields));
            });
            Ok(response)
        }
        Ok(Err(code)) => Err((format!("guest returned an error response: {code:?}"), line)),
        Err(_) => {
            let message = match (&mut task.0).await {
                Ok(Ok(_)) => "guest did not set a response".to_string(),
                Ok(Err(e)) => format!("guest trapped: {e:?}"),
                Err(e) => format!("guest task failed: {e}"),
            };
            Err((message, line))
        }
    }
}

/// A guest's task, aborted when dropped.
struct GuestTask(tokio::task::JoinHandle<wasmtime::Result<Duration>>);

impl Drop for GuestTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}
