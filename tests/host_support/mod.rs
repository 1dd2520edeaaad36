//! Shared set-up for the host's integration tests: the test guests'
//! manifest, a blocking HTTP client, throw-away manifests, a Redis server
//! and a tiny upstream HTTP server.
#![allow(dead_code)]

use qmarket_host::{TestApp, TestAppOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The manifest of the test guests.
pub fn guests_manifest() -> PathBuf {
    root().join("tests/guests/spin.toml")
}

/// A built test guest.
pub fn wasm(crate_name: &str) -> PathBuf {
    let path = root()
        .join("target/wasm32-wasip2/release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(
        path.exists(),
        "{} is missing: build the guests first with scripts/build-wasm.sh",
        path.display()
    );
    path
}

/// Starts `options`, failing the test with the host's error.
pub fn start(options: TestAppOptions) -> TestApp {
    wasm("echo-guest");
    match TestApp::start(options) {
        Ok(app) => app,
        Err(e) => panic!("the app starts: {e}"),
    }
}

/// The test guests on a fresh state directory.
pub fn guests() -> TestApp {
    start(TestAppOptions::new(guests_manifest()))
}

/// A response as the tests look at it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names in lower case with their values.
    pub headers: HashMap<String, String>,
    /// The body as raw bytes.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// `name: value` lines of the body (as the echo guest writes them).
    pub fn lines(&self) -> HashMap<String, String> {
        self.text()
            .lines()
            .filter_map(|l| {
                l.split_once(": ")
                    .or_else(|| l.strip_suffix(':').map(|n| (n, "")))
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn reply(result: Result<http::Response<ureq::Body>, ureq::Error>, what: &str) -> Reply {
    let mut response = result.unwrap_or_else(|e| panic!("{what}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .read_to_vec()
        .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    Reply {
        status,
        headers,
        bytes,
    }
}

/// `GET url`.
pub fn get(url: &str) -> Reply {
    reply(agent().get(url).call(), &format!("GET {url}"))
}

/// `PUT url` with `body`.
pub fn put(url: &str, body: &[u8]) -> Reply {
    reply(agent().put(url).send(body), &format!("PUT {url}"))
}

/// `POST url` with `body`.
pub fn post(url: &str, body: &[u8]) -> Reply {
    reply(agent().post(url).send(body), &format!("POST {url}"))
}

/// `DELETE url`.
pub fn delete(url: &str) -> Reply {
    reply(agent().delete(url).call(), &format!("DELETE {url}"))
}

/// A directory with a manifest (and other files) written by the test.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// An empty scratch directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Writes `name` with `text` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("writes the file");
        path
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A free loopback port (free when this returns; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `redis-server` on a free loopback port, killed on drop.
pub struct Redis {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    /// The data directory of a durable server.
    dir: Option<tempfile::TempDir>,
}

impl Redis {
    /// Starts an in-memory `redis-server`; fails the test when it is not
    /// installed.
    pub fn start() -> Self {
        Self::launched(None)
    }

    /// Starts a `redis-server` whose append-only file is fsynced on every
    /// write, so a SIGKILL loses nothing it acknowledged and
    /// [`Self::relaunch`] finds the data again.
    pub fn start_durable() -> Self {
        Self::launched(Some(tempfile::tempdir().expect("a Redis data directory")))
    }

    fn launched(dir: Option<tempfile::TempDir>) -> Self {
        let mut redis = Self {
            child: None,
            port: free_port(),
            dir,
        };
        redis.relaunch();
        redis
    }

    /// Starts the server again on the same port (and data directory) after
    /// [`Self::kill`].
    pub fn relaunch(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""]);
        match &self.dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir.path()),
            None => command.args(["--appendonly", "no"]),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): install it (apt-get install -y redis-server)"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut pong = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut pong).is_ok()
            && &pong == b"+PONG\r\n"
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("redis-server exits");
        }
    }

    /// A runtime config file selecting this Redis for the `default` store.
    pub fn runtime_config(&self, scratch: &Scratch) -> PathBuf {
        scratch.write(
            "runtime-config.toml",
            &format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{}\"\n",
                self.port
            ),
        )
    }

    /// Runs a Redis command through a raw connection; returns the raw reply.
    pub fn command(&self, args: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects to redis");
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream
            .write_all(request.as_bytes())
            .expect("writes to redis");
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).expect("reads from redis");
        if let Some(len) = line.strip_prefix('$') {
            let len: i64 = len.trim().parse().expect("a bulk length");
            if len < 0 {
                return "(nil)".to_string();
            }
            let mut bulk = vec![0u8; len as usize + 2];
            reader.read_exact(&mut bulk).expect("reads the bulk reply");
            bulk.truncate(len as usize);
            return String::from_utf8_lossy(&bulk).into_owned();
        }
        line.trim().to_string()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A one-thread HTTP/1.1 server on a free loopback port that answers every
/// request with `body` after `delay`.
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
}

impl Upstream {
    /// Starts the server on a background thread (it lives until the test ends).
    pub fn start(body: &'static str, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds the upstream");
        let addr = listener.local_addr().expect("upstream address");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clones the stream"));
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        if line == "\r\n" {
                            break;
                        }
                        line.clear();
                    }
                    std::thread::sleep(delay);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Self { addr }
    }
}

/// How long a raw-socket read waits before the test calls it a hang: far
/// beyond the limits the tests configure, and below hyper's own 30 s
/// header timeout, so that only the configured limits can pass a test.
pub const HANG_GUARD: Duration = Duration::from_secs(20);

/// A raw connection to `addr` whose reads give up after [`HANG_GUARD`].
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connects to the host");
    stream
        .set_read_timeout(Some(HANG_GUARD))
        .expect("sets a read timeout");
    stream
}

/// Reads until the host closes `stream`: the bytes read, or the error that
/// ended the reading (a timeout there means the host never closed it).
pub fn read_until_closed(stream: &mut TcpStream) -> Result<Vec<u8>, std::io::Error> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(bytes),
            Err(e) => return Err(e),
        }
    }
}

/// Whether `error` is a read that gave up waiting (the host kept the
/// connection open).
pub fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Sends `request` as it is on a fresh connection and reads the whole
/// answer, until the host closes the connection.
pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = connect(addr);
    stream.write_all(request).expect("sends the request");
    let bytes = read_until_closed(&mut stream).expect("the host answers and closes");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An HTTP/1.1 server on a free loopback port that keeps its connections
/// alive (answering `ok` to every request after `delay`), counts the
/// connections it accepted and the most it had open at once, and closes a
/// connection that stays idle for `close_idle_after` (as servers with a
/// keep-alive timeout do), without saying so beforehand.
pub struct KeepAliveUpstream {
    /// Its address.
    pub addr: SocketAddr,
    counts: std::sync::Arc<ConnectionCounts>,
}

#[derive(Default)]
struct ConnectionCounts {
    accepted: std::sync::atomic::AtomicUsize,
    open: std::sync::atomic::AtomicUsize,
    most_open: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
}

impl KeepAliveUpstream {
    /// Starts the server (it lives until the test ends).
    pub fn start(delay: Duration, close_idle_after: Option<Duration>) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds the upstream");
        let addr = listener.local_addr().expect("upstream address");
        let counts = std::sync::Arc::new(ConnectionCounts::default());
        let shared = counts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let counts = shared.clone();
                counts.accepted.fetch_add(1, SeqCst);
                let open = counts.open.fetch_add(1, SeqCst) + 1;
                counts.most_open.fetch_max(open, SeqCst);
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(close_idle_after.or(Some(HANG_GUARD)));
                    let mut reader = BufReader::new(stream.try_clone().expect("clones the stream"));
                    'requests: loop {
                        let mut line = String::new();
                        loop {
                            line.clear();
                            match reader.read_line(&mut line) {
                                Ok(0) | Err(_) => break 'requests,
                                Ok(_) if line == "\r\n" => break,
                                Ok(_) => {}
                            }
                        }
                        std::thread::sleep(delay);
                        counts.answered.fetch_add(1, SeqCst);
                        if stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .is_err()
                        {
                            break;
                        }
                    }
                    counts.open.fetch_sub(1, SeqCst);
                });
            }
        });
        Self { addr, counts }
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.counts
            .accepted
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The most connections it had open at once.
    pub fn most_open(&self) -> usize {
        self.counts
            .most_open
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many requests it answered.
    pub fn answered(&self) -> usize {
        self.counts
            .answered
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}
