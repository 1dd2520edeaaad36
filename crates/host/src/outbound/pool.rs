//! Outbound HTTP on pooled connections: one client per application that
//! keeps connections to each upstream alive between requests, bounded per
//! host, as Spin does with `[outbound_http] connection_pooling` (its
//! default).
//!
//! - **Keep-alive**: a connection a response has finished with goes back to
//!   the pool and the next request to the same scheme and authority takes
//!   it instead of connecting (and, for `https`, shaking hands) again.
//! - **Idle connections** are closed after [`IDLE_TIMEOUT`], shorter than
//!   the keep-alive timeout of common servers (uvicorn, Node: 5 s), so the
//!   pool rarely reuses a connection the upstream is closing. One the
//!   upstream has closed is never taken again; a request that finds its
//!   connection closed before anything was sent is sent on another one.
//! - **Bounds**: at most `max_connections_per_host` connections to one
//!   `host:port` at a time, and `max_connections` in all when set; a request
//!   beyond them waits for a connection within its connect timeout.
//! - **Timeouts**: a request's connect timeout covers waiting for a
//!   connection, connecting and the TLS handshake; its first-byte timeout
//!   the wait for the response head; its between-bytes timeout each pause
//!   in the response body.
//!
//! With pooling off, every request gets a connection of its own that is
//! closed after it (the bounds still hold).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// How long an idle pooled connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// The most idle connections kept per host.
pub const MAX_IDLE_PER_HOST: usize = 64;
/// The default bound on connections to one `host:port` at a time.
pub const DEFAULT_MAX_CONNECTIONS_PER_HOST: usize = 128;

/// How outbound connections are kept (the `[outbound_http]` table of the
/// runtime configuration, and the host's own per-host bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Keep connections alive between requests (`connection_pooling`).
    pub pooling: bool,
    /// At most this many connections in all (`max_connections`); none when
    /// `None`.
    pub max_connections: Option<usize>,
    /// At most this many connections to one `host:port`.
    pub max_connections_per_host: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            pooling: true,
            max_connections: None,
            max_connections_per_host: DEFAULT_MAX_CONNECTIONS_PER_HOST,
        }
    }
}

tokio::task_local! {
    /// The request whose connection is being made: its connect timeout,
    /// and when the connector started and finished.
    static CONNECTING: Arc<Connecting>;
}

/// What the connector tells the request it connects for.
#[derive(Debug)]
struct Connecting {
    timeout: Duration,
    started: Mutex<Option<Instant>>,
    finished: Mutex<Option<Instant>>,
}

impl Connecting {
    fn mark(slot: &Mutex<Option<Instant>>) {
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn read(slot: &Mutex<Option<Instant>>) -> Option<Instant> {
        *slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The pooled client of one application.
pub struct OutboundClient {
    client: Client<Connector, WasiBody>,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboundClient")
    }
}

impl OutboundClient {
    /// A client keeping connections as `options` say; fails only when the
    /// TLS settings cannot be made.
    pub fn new(options: PoolOptions) -> Result<Self, rustls::Error> {
        let connector = Connector {
            state: Arc::new(ConnectorState {
                tls: Arc::new(tls_config()?),
                hosts: Mutex::new(HashMap::new()),
                per_host: options.max_connections_per_host.max(1),
                total: options.max_connections.map(|n| Arc::new(Semaphore::new(n))),
            }),
        };
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(if options.pooling {
                MAX_IDLE_PER_HOST
            } else {
                0
            })
            .retry_canceled_requests(true)
            // wasi:http already set the guest's Host header.
            .set_host(false);
        Ok(OutboundClient {
            client: builder.build(connector),
        })
    }

    /// Sends `request` (an absolute URI) within the timeouts of `options`
    /// and answers its response, whose body fails with
    /// [`HttpError::ConnectionReadTimeout`] after a pause longer than the
    /// between-bytes timeout.
    pub async fn send(
        &self,
        request: Request<WasiBody>,
        options: RequestOptions,
    ) -> Result<Response<WasiBody>, HttpError> {
        let connect = options
            .connect_timeout
            .unwrap_or(super::DEFAULT_CONNECT_TIMEOUT);
        let first_byte = options
            .first_byte_timeout
            .unwrap_or(super::DEFAULT_FIRST_BYTE_TIMEOUT);
        let between_bytes = options
            .between_bytes_timeout
            .unwrap_or(super::DEFAULT_BETWEEN_BYTES_TIMEOUT)
            .max(Duration::from_nanos(1));
        let connecting = Arc::new(Connecting {
            timeout: connect,
            started: Mutex::new(None),
            finished: Mutex::new(None),
        });
        let sent = CONNECTING.scope(connecting.clone(), self.client.request(request));
        tokio::pin!(sent);
        // The first byte is due `first_byte` after the request went out: on
        // a pooled connection at once, on a new one once it is made (the
        // connector bounds the making by `connect`).
        let started = Instant::now();
        let mut due = started + first_byte;
        let response = loop {
            tokio::select! {
                result = &mut sent => break result.map_err(client_error)?,
                () = tokio::time::sleep_until(due.into()) => {
                    let made = Connecting::read(&connecting.finished);
                    let making = Connecting::read(&connecting.started);
                    due = match (making, made) {
                        (_, Some(made)) => made + first_byte,
                        (Some(making), None) => making + connect + first_byte,
                        (None, None) => due,
                    };
                    if Instant::now() >= due {
                        return Err(HttpError::ConnectionReadTimeout);
                    }
                }
            }
        };
        Ok(response.map(|body| {
            TimedBody {
                body,
                between_bytes,
                pause: None,
            }
            .boxed_unsync()
        }))
    }
}

/// The wasi:http error behind a client error: the connector's own, or
/// hyper's.
fn client_error(error: hyper_util::client::legacy::Error) -> HttpError {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(connect) = cause.downcast_ref::<ConnectError>() {
            return connect.to_http_error();
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return io_error(io);
        }
        source = cause.source();
    }
    if error.is_connect() {
        return HttpError::ConnectionRefused;
    }
    HttpError::HttpProtocolError
}

fn io_error(error: &io::Error) -> HttpError {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
        io::ErrorKind::TimedOut => HttpError::ConnectionTimeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => HttpError::ConnectionTerminated,
        _ => HttpError::InternalError(Some(error.to_string())),
    }
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("the URI has no host")]
    NoHost,
    #[error("timed out connecting (including waiting for a free connection)")]
    TimedOut,
    #[error("cannot resolve {0}")]
    Dns(String),
    #[error("connecting failed: {0}")]
    Io(#[source] io::Error),
    #[error("invalid TLS server name {0}")]
    ServerName(String),
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] io::Error),
}

impl ConnectError {
    fn to_http_error(&self) -> HttpError {
        match self {
            ConnectError::NoHost => HttpError::HttpRequestUriInvalid,
            ConnectError::TimedOut => HttpError::ConnectionTimeout,
            ConnectError::Dns(_) => HttpError::DnsError {
                rcode: Some("address not available".into()),
                info_code: None,
            },
            ConnectError::Io(e) => io_error(e),
            ConnectError::ServerName(_) => HttpError::TlsCertificateError,
            ConnectError::Tls(e) => {
                if e.to_string().contains("certificate") {
                    HttpError::TlsCertificateError
                } else {
                    HttpError::TlsProtocolError
                }
            }
        }
    }
}

/// The TLS settings of every `https` connection: the Mozilla roots of
/// `webpki-roots`, HTTP/1.1 by ALPN.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Makes connections for the pool, within the bounds.
#[derive(Clone)]
struct Connector {
    state: Arc<ConnectorState>,
}

struct ConnectorState {
    tls: Arc<rustls::ClientConfig>,
    /// One semaphore per `host:port`, made on first use.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_host: usize,
    total: Option<Arc<Semaphore>>,
}

impl ConnectorState {
    fn host_bound(&self, authority: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(authority.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    async fn connect(&self, uri: Uri) -> Result<PooledStream, ConnectError> {
        let host = uri.host().ok_or(ConnectError::NoHost)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let authority = format!("{host}:{port}");
        let bound = self.host_bound(&authority);
        let total = self.total.clone();
        let permits = async {
            let host_permit = bound.acquire_owned().await.ok();
            let total_permit = match total {
                Some(total) => total.acquire_owned().await.ok(),
                None => None,
            };
            (host_permit, total_permit)
        };
        let tcp = async {
            let addrs = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| ConnectError::Dns(authority.clone()))?
                .collect::<Vec<_>>();
            if addrs.is_empty() {
                return Err(ConnectError::Dns(authority.clone()));
            }
            let stream = TcpStream::connect(addrs.as_slice())
                .await
                .map_err(ConnectError::Io)?;
            let _ = stream.set_nodelay(true);
            Ok(stream)
        };
        // A connection the pool goes on making after its request took
        // another one runs outside that request: it gets the default.
        let connecting = CONNECTING.try_with(Arc::clone).ok();
        if let Some(connecting) = &connecting {
            Connecting::mark(&connecting.started);
        }
        let timeout = connecting
            .as_ref()
            .map_or(super::DEFAULT_CONNECT_TIMEOUT, |c| c.timeout);
        let made = async {
            let permits = permits.await;
            let tcp = tcp.await?;
            let stream = if tls {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|_| ConnectError::ServerName(host.clone()))?;
                let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(ConnectError::Tls)?;
                Stream::Tls(Box::new(tls))
            } else {
                Stream::Plain(tcp)
            };
            Ok(PooledStream {
                io: TokioIo::new(stream),
                _permits: permits,
            })
        };
        let made = tokio::time::timeout(timeout, made)
            .await
            .map_err(|_| ConnectError::TimedOut)?;
        if let Some(connecting) = &connecting {
            Connecting::mark(&connecting.finished);
        }
        made
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = PooledStream;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<PooledStream, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move { state.connect(uri).await })
    }
}

/// A TCP or TLS stream.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection, holding its places within the bounds until it closes.
struct PooledStream {
    io: TokioIo<Stream>,
    _permits: (Option<OwnedSemaphorePermit>, Option<OwnedSemaphorePermit>),
}

impl Connection for PooledStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for PooledStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for PooledStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// A response body that fails when the upstream pauses longer than
/// `between_bytes`.
struct TimedBody {
    body: hyper::body::Incoming,
    between_bytes: Duration,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        let this = self.as_mut().get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.pause = None;
                Poll::Ready(frame.map(|f| f.map_err(HttpError::from)))
            }
            Poll::Pending => {
                let between_bytes = this.between_bytes;
                let pause = this
                    .pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(between_bytes)));
                match pause.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
