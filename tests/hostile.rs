//! Hostile input against the whole platform through the embedded host.
//!
//! Two halves. A schema-driven fuzzer reads the platform's own OpenAPI
//! document (`GET /api/openapi.json`) and sends every operation generated
//! requests: valid ones built from the documented schemas and the tenant's
//! real ids, and ones with broken bodies, hostile path and query values, and
//! missing, garbage or foreign credentials. A hand-written corpus sends what
//! ordinary clients never do: malformed JSON, wrong media types, huge bodies
//! and headers, deep nesting, invalid UTF-8, edge numbers, duplicate keys,
//! header injection and path tricks on the gateway.
//!
//! Every answer is held to the same rules ([`Checker`]): no 5xx (except the
//! gateway's documented 502/504 for upstream faults), an answer within the
//! client timeout, every 4xx an `application/problem+json` whose `status` is
//! the response status, the host still up, and nothing in the store changed
//! by a refused request.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qmarket_core::Timestamp;
use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Map, Value};
use support::*;

/// How long any answer may take: a request still open after this hangs.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The gateway's upstream timeout in these tests (the default is 30 s).
const GATEWAY_TIMEOUT_MS: &str = "3000";
/// Requests generated per documented operation.
const REQUESTS_PER_OPERATION: usize = 72;
/// The base path of every test service's URL.
const BASE: &str = "/base/";

// ---------------------------------------------------------------- randomness

/// SplitMix64: a small seeded generator, so every run sends the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of [`HOSTILE_STRINGS`].
    fn hostile(&mut self) -> &'static str {
        HOSTILE_STRINGS[self.below(HOSTILE_STRINGS.len())]
    }

    fn word(&mut self, len: usize) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| LETTERS[self.below(LETTERS.len())] as char)
            .collect()
    }
}

// ---------------------------------------------------------------- upstream

/// One request as the recording upstream received it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request target (path and query) exactly as sent.
    target: String,
    /// Header lines as received, without the line ending.
    header_lines: Vec<String>,
}

/// A loopback HTTP/1.1 server that records every request head it gets and
/// answers `200 upstream ok`.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
        let addr = listener.local_addr().expect("the upstream's address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = recorded.clone();
                std::thread::spawn(move || record(stream, &recorded));
            }
        });
        Upstream { addr, seen }
    }

    /// `http://127.0.0.1:PORT/base/`.
    fn base_url(&self) -> String {
        format!("http://{}{BASE}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The platform's variables that aim the gateway at this upstream only,
    /// with a short timeout.
    fn platform_env(&self) -> Vec<(String, String)> {
        let only_here = format!("http://{}", self.addr);
        vec![
            ("SPIN_VARIABLE_GATEWAY_OUTBOUND_HTTP".into(), only_here),
            (
                "SPIN_VARIABLE_GATEWAY_OUTBOUND_HTTPS".into(),
                "https://only.example.invalid".into(),
            ),
            (
                "SPIN_VARIABLE_GATEWAY_TIMEOUT_MS".into(),
                GATEWAY_TIMEOUT_MS.into(),
            ),
        ]
    }
}

fn record(stream: TcpStream, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let mut writer = match stream.try_clone() {
        Ok(writer) => writer,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).is_err() || line.is_empty() {
        return;
    }
    let request_line = String::from_utf8_lossy(&line).trim_end().to_string();
    let target = request_line
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut header_lines = Vec::new();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).is_err() || line.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        header_lines.push(text);
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    seen.lock().unwrap().push(Seen {
        target,
        header_lines,
    });
    let answer = "upstream ok";
    let _ = write!(
        writer,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------- requests

/// One request as these tests build it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    /// Path and query, already percent-encoded.
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req {
    fn new(method: &str, target: impl Into<String>) -> Req {
        Req {
            method: method.to_string(),
            target: target.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn bearer(self, token: &str) -> Req {
        self.header("authorization", &format!("Bearer {token}"))
    }

    fn json(self, body: impl Into<Vec<u8>>) -> Req {
        self.body(body).header("content-type", "application/json")
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = Some(body.into());
        self
    }

    /// `METHOD target` and the first bytes of the body, for failure lists.
    fn describe(&self) -> String {
        let body = self
            .body
            .as_deref()
            .map(|b| {
                let text = String::from_utf8_lossy(&b[..b.len().min(160)]).into_owned();
                format!(" body[{}]: {text:?}", b.len())
            })
            .unwrap_or_default();
        let target: String = self.target.chars().take(200).collect();
        let auth = self
            .headers
            .iter()
            .find(|(n, _)| n == "authorization" || n == "x-auth-token")
            .map(|(n, v)| format!(" {n}: {}", v.chars().take(24).collect::<String>()))
            .unwrap_or_default();
        format!("{} {target}{auth}{body}", self.method)
    }
}

/// Sends `req` to `app` through the shared client (with its secret-leak
/// scan); `Err` when there is no complete answer in time.
fn send(app: &TestApp, req: &Req) -> Result<Reply, String> {
    let mut call = Call::new(&req.method, app.url(&req.target)).timeout(CLIENT_TIMEOUT);
    for (name, value) in &req.headers {
        call = call.header(name, value);
    }
    if let Some(body) = &req.body {
        call = call.body(body.clone());
    }
    call.try_send()
}

/// Sends `bytes` as they are over a fresh connection and parses the answer;
/// `Err` when the connection ends without a complete one in time.
/// How [`send_raw`] writes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    /// On the side while the answer is read: the server may refuse a
    /// request it cannot parse and close before reading everything.
    AlongsideReading,
    /// Whole, before reading anything, as most HTTP clients send a body.
    BeforeReading,
}

fn send_raw(addr: SocketAddr, bytes: &[u8], writing: Writing) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(CLIENT_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let writing = match writing {
        Writing::BeforeReading => {
            stream
                .set_write_timeout(Some(CLIENT_TIMEOUT))
                .map_err(|e| e.to_string())?;
            stream
                .write_all(bytes)
                .map_err(|e| format!("writing the request: {e}"))?;
            None
        }
        Writing::AlongsideReading => {
            let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
            let sent = bytes.to_vec();
            Some(std::thread::spawn(move || {
                let _ = writer.write_all(&sent);
                let _ = writer.flush();
            }))
        }
    };
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    let _ = stream.shutdown(Shutdown::Both);
    if let Some(writer) = writing {
        let _ = writer.join();
    }
    if response.is_empty() {
        return Err(format!("no answer ({read:?})"));
    }
    let reply = parse_response(&response)?;
    let (head, body) = match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => (&bytes[..end], Some(&bytes[end + 4..])),
        None => (bytes, None),
    };
    let request_line = String::from_utf8_lossy(&head[..head.len().min(200)]);
    let call = request_line.lines().next().unwrap_or_default();
    scan_exchange(call, body, &reply, secrets::Exemption::None);
    Ok(reply)
}

fn parse_response(bytes: &[u8]) -> Result<Reply, String> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("an incomplete response head")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = bytes[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a truncated chunk")?;
        let size_text = String::from_utf8_lossy(&bytes[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("a bad chunk size {size_text:?}"))?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = bytes.get(..size).ok_or("a truncated chunk")?;
        out.extend_from_slice(chunk);
        bytes = bytes.get(size + 2..).ok_or("a truncated chunk")?;
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- the store

/// Every row of the key-value store: `(store, key)` → hash of the value.
#[derive(PartialEq, Eq)]
struct Snapshot(BTreeMap<(String, String), u64>);

/// Keys left out of snapshots: counters that count every attempt, refused
/// or not, by design (rate limits; the announcements of changes that were
/// then refused), and the expiry indexes that clean them up.
const ATTEMPT_COUNTERS: [&str; 3] = ["ratelimit/", "announce/", "expiry/"];

/// What the gateway keeps under a subscription for every call it answers,
/// refused or not, by design: the calls' records (written just after each
/// answer, so one may land while the next request runs) and the counters of
/// the plan's rate limit and quota.
const CALL_KEYS: [&str; 4] = ["call/", "calls/", "rate/", "quota/"];

/// Whether snapshots leave `key` out.
fn left_out(key: &str) -> bool {
    ATTEMPT_COUNTERS.iter().any(|p| key.starts_with(p))
        || key
            .strip_prefix("sub/")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(_, rest)| CALL_KEYS.iter().any(|p| rest.starts_with(p)))
}

impl Snapshot {
    fn take(conn: &rusqlite::Connection) -> Snapshot {
        let mut statement = conn
            .prepare_cached("SELECT store, key, value FROM spin_key_value")
            .expect("the store's table");
        let rows = statement
            .query_map([], |row| {
                let value: Vec<u8> = row.get(2)?;
                let mut hasher = DefaultHasher::new();
                value.hash(&mut hasher);
                Ok(((row.get(0)?, row.get(1)?), hasher.finish()))
            })
            .expect("the store reads");
        Snapshot(
            rows.map(|r| r.expect("a row"))
                .filter(|((_, key), _): &((String, String), u64)| !left_out(key))
                .collect(),
        )
    }

    /// The keys added, removed or changed since `before`.
    fn changes_since(&self, before: &Snapshot) -> Vec<String> {
        let keys: BTreeSet<_> = self.0.keys().chain(before.0.keys()).collect();
        keys.into_iter()
            .filter(|k| self.0.get(*k) != before.0.get(*k))
            .map(|(store, key)| {
                let what = match (
                    before.0.contains_key(&(store.clone(), key.clone())),
                    self.0.contains_key(&(store.clone(), key.clone())),
                ) {
                    (false, _) => "added",
                    (_, false) => "removed",
                    _ => "changed",
                };
                format!("{what} {store}/{key}")
            })
            .collect()
    }
}

/// SQLite's count of commits by other connections, as seen by `conn`.
fn data_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        .expect("the store's data version")
}

// ---------------------------------------------------------------- the rules

/// What kind of endpoint answered, for the few documented exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// The platform API: every refusal is a problem.
    Api,
    /// `/oauth/token`: grant errors are RFC 6749 `{error, error_description}`.
    OAuth,
    /// `/gateway/…`: 502/504 are the documented upstream faults.
    Gateway,
    /// The HTTP server refused the bytes before routing them.
    Protocol,
}

/// The HTTP server's own refusal of bytes it cannot take as a request: 400
/// or 431 with no body.
fn is_bare_protocol_refusal(reply: &Reply) -> bool {
    matches!(reply.status, 400 | 431)
        && reply.text.is_empty()
        && reply.header("content-type").is_none()
}

impl Endpoint {
    fn of(target: &str) -> Endpoint {
        if target.starts_with("/gateway") {
            Endpoint::Gateway
        } else if target.starts_with("/oauth/token") {
            Endpoint::OAuth
        } else {
            Endpoint::Api
        }
    }
}

/// Sends requests and holds every answer to the platform-wide rules,
/// collecting what breaks them.
struct Checker<'a> {
    app: &'a TestApp,
    conn: rusqlite::Connection,
    snapshot: Snapshot,
    /// SQLite's `data_version` when `snapshot` was taken: it changes only
    /// when another connection commits, so an unchanged one spares a scan.
    version: i64,
    sent: usize,
    failures: Vec<String>,
}

impl<'a> Checker<'a> {
    fn new(app: &'a TestApp) -> Checker<'a> {
        let conn = sqlite_store(app);
        let version = data_version(&conn);
        let snapshot = Snapshot::take(&conn);
        Checker {
            app,
            conn,
            snapshot,
            version,
            sent: 0,
            failures: Vec::new(),
        }
    }

    /// Sends `req` through an HTTP client and checks the answer.
    fn send(&mut self, req: &Req) -> Option<Reply> {
        let outcome = send(self.app, req);
        self.judge(
            &req.describe(),
            &req.method,
            Endpoint::of(&req.target),
            outcome,
        )
    }

    /// Sends `bytes` over a raw connection (for what clients refuse to
    /// send); `target` is the request's path, for the endpoint's exceptions.
    fn send_raw(&mut self, target: &str, bytes: &[u8]) -> Option<Reply> {
        self.raw(target, bytes, Writing::AlongsideReading, false)
    }

    /// Like [`Checker::send_raw`], writing the whole request before reading
    /// the answer, as most HTTP clients send a body.
    fn send_raw_before_reading(&mut self, target: &str, bytes: &[u8]) -> Option<Reply> {
        self.raw(target, bytes, Writing::BeforeReading, false)
    }

    /// Like [`Checker::send_raw`] for bytes that may not be an acceptable
    /// HTTP/1.1 request at all (raw non-ASCII in the target, more header
    /// lines than the server parses): the HTTP server refuses those itself
    /// with a bare 400 or 431 before any component sees them, so such an
    /// answer is allowed as well.
    fn send_raw_malformed(&mut self, target: &str, bytes: &[u8]) -> Option<Reply> {
        self.raw(target, bytes, Writing::AlongsideReading, true)
    }

    fn raw(
        &mut self,
        target: &str,
        bytes: &[u8],
        writing: Writing,
        malformed: bool,
    ) -> Option<Reply> {
        let outcome = send_raw(self.app.addr(), bytes, writing);
        let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        let method = head.split(' ').next().unwrap_or_default().to_string();
        let endpoint = match outcome {
            Ok(ref reply) if malformed && is_bare_protocol_refusal(reply) => Endpoint::Protocol,
            _ => Endpoint::of(target),
        };
        self.judge(&format!("raw {head:?}"), &method, endpoint, outcome)
    }

    fn judge(
        &mut self,
        what: &str,
        method: &str,
        endpoint: Endpoint,
        outcome: Result<Reply, String>,
    ) -> Option<Reply> {
        self.sent += 1;
        let version = data_version(&self.conn);
        let after = if version == self.version {
            None
        } else {
            self.version = version;
            Some(Snapshot::take(&self.conn))
        };
        let reply = match outcome {
            Ok(reply) => reply,
            Err(error) => {
                self.failures.push(format!("{what} -> {error}"));
                if let Some(after) = after {
                    self.snapshot = after;
                }
                return None;
            }
        };
        let mut broken = Vec::new();
        let status = reply.status;
        let media = reply.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let body = reply.json();
        let is_problem = |broken: &mut Vec<String>| {
            if media.as_deref() != Some("application/problem+json") {
                broken.push(format!(
                    "content type {media:?}, not application/problem+json"
                ));
            }
            // A HEAD answer has no body to look into.
            if method != "HEAD" && body["status"] != status {
                broken.push("the problem's status is not the response's".into());
            }
        };
        match status {
            500.. if endpoint == Endpoint::Gateway && (status == 502 || status == 504) => {
                is_problem(&mut broken)
            }
            500.. => broken.push("a server error".into()),
            400..=499 => {
                let oauth_error = endpoint == Endpoint::OAuth
                    && media.as_deref() == Some("application/json")
                    && body["error"].is_string();
                if !oauth_error && endpoint != Endpoint::Protocol {
                    is_problem(&mut broken);
                }
                if let Some(after) = after.as_ref().filter(|a| **a != self.snapshot) {
                    broken.push(format!(
                        "the refused request changed the store: {:?}",
                        after.changes_since(&self.snapshot)
                    ));
                }
            }
            _ => {}
        }
        if !broken.is_empty() {
            let text: String = reply.text.chars().take(300).collect();
            self.failures.push(format!(
                "{what} -> {status}: {} — {text}",
                broken.join("; ")
            ));
        }
        if let Some(after) = after {
            self.snapshot = after;
        }
        Some(reply)
    }

    /// Takes the store as it is now, after writes made outside the checker
    /// (set-up through the support helpers).
    fn resync(&mut self) {
        self.version = data_version(&self.conn);
        self.snapshot = Snapshot::take(&self.conn);
    }

    /// Whether the host still answers its health check; records it if not.
    fn host_survives(&mut self, after: &str) {
        let healthy = send(self.app, &Req::new("GET", "/api/health"))
            .is_ok_and(|reply| reply.status == 200 && reply.json()["status"] == "UP");
        if !healthy || !self.app.is_running() {
            self.failures
                .push(format!("the host stopped answering after {after}"));
        }
    }

    /// Fails the test with every broken rule, one per line.
    #[track_caller]
    fn assert_clean(mut self, what: &str) {
        self.host_survives(what);
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} requests broke the rules:\n{}",
            self.failures.len(),
            self.sent,
            self.failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------- the scene

/// A tenant with everything the API names: a provider with a published
/// external service at the recording upstream, a plan, a consumer with a
/// subscribed application and its OAuth token, a gateway call's correlation
/// id; and disposable resources for the destructive operations.
struct Scene {
    provider: Account,
    consumer: Account,
    service_id: String,
    plan: Plan,
    application: Application,
    subscription_id: String,
    oauth_token: String,
    correlation_id: String,
    disposable_service_id: String,
    disposable_plan_id: String,
    disposable_application_id: String,
    disposable_subscription_id: String,
    disposable_token_id: String,
    backends: Vec<String>,
    upstream_url: String,
}

fn publish_service(app: &TestApp, provider: &Account, url: &str) -> (String, Plan) {
    let service_id = create_external_service(app, provider, url);
    let plan = create_plan(app, provider, &service_id, "0.00001");
    lifecycle(app, provider, &service_id, "publish");
    (service_id, plan)
}

fn set_up(app: &TestApp, upstream: &Upstream) -> Scene {
    let upstream_url = upstream.base_url();
    let provider = sign_up(app, "provider");
    let consumer = sign_up(app, "consumer");
    let (service_id, plan) = publish_service(app, &provider, &upstream_url);
    let application = create_application(app, &consumer);
    let subscription = subscribe(app, &consumer, &application, &service_id, &plan.id);
    let oauth_token = access_token(app, &application);
    let call = app
        .get(&format!("/gateway/{service_id}/scene"))
        .bearer(&oauth_token)
        .send()
        .expect(200);
    let correlation_id = call
        .header("x-correlation-id")
        .expect("a correlation id")
        .to_string();

    let (disposable_service_id, disposable_plan) = publish_service(app, &provider, &upstream_url);
    let second = create_application(app, &consumer);
    let disposable_subscription = subscribe(app, &consumer, &second, &service_id, &plan.id);
    let disposable_application_id = create_application(app, &consumer).id;
    let disposable_token = app
        .post("/api/access-tokens")
        .bearer(&provider.token)
        .json(&json!({"name": "disposable", "scopes": ["API"]}))
        .send()
        .expect(201)
        .json();
    let backends = app.get("/api/quantum-backends").send().expect(200).json()["items"]
        .as_array()
        .expect("backends")
        .iter()
        .map(|b| b["id"].as_str().expect("backend id").to_string())
        .collect();
    let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
    Scene {
        provider,
        consumer,
        service_id,
        plan,
        application,
        subscription_id: id(&subscription),
        oauth_token,
        correlation_id,
        disposable_service_id,
        disposable_plan_id: disposable_plan.id,
        disposable_application_id,
        disposable_subscription_id: id(&disposable_subscription),
        disposable_token_id: id(&disposable_token),
        backends,
        upstream_url,
    }
}

// ---------------------------------------------------------------- the document

/// One documented operation.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    /// The path template, e.g. `/api/services/{id}`.
    template: String,
    parameters: Vec<Value>,
    /// Media type → schema of the request body.
    bodies: Vec<(String, Value)>,
    responses: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// Deletes, changes the lifecycle of, or rewrites what it names: given
    /// disposable ids, so the scene stays intact for the other operations.
    fn is_destructive(&self) -> bool {
        let gateway = self.template.starts_with("/gateway");
        (self.method == "DELETE" && !gateway)
            || (self.method == "PATCH" && self.template == "/api/services/{id}")
            || self.template.ends_with("/publish")
            || self.template.ends_with("/unpublish")
            || self.template.ends_with("/publish-internal")
    }
}

/// Follows `$ref`s inside `doc`.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(pointer) = value.get("$ref").and_then(Value::as_str) {
        value = doc
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("the document resolves {pointer}"));
    }
    value
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        let shared: Vec<Value> = item["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| resolve(doc, p).clone()).collect())
            .unwrap_or_default();
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            let Some(op) = item.get(method) else { continue };
            let mut parameters = shared.clone();
            if let Some(own) = op["parameters"].as_array() {
                parameters.extend(own.iter().map(|p| resolve(doc, p).clone()));
            }
            let bodies = op
                .get("requestBody")
                .map(|b| resolve(doc, b))
                .and_then(|b| b["content"].as_object())
                .map(|content| {
                    content
                        .iter()
                        .map(|(media, c)| (media.clone(), c["schema"].clone()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                parameters,
                bodies,
                responses: op["responses"].clone(),
            });
        }
    }
    out
}

/// Validators of the documented 2xx response schemas, compiled once each.
struct ResponseSchemas<'a> {
    doc: &'a Value,
    compiled: HashMap<String, Option<jsonschema::Validator>>,
}

impl<'a> ResponseSchemas<'a> {
    /// What is wrong with a 2xx JSON answer of `op`, if it has a documented schema.
    fn errors(&mut self, op: &Operation, reply: &Reply) -> Vec<String> {
        let media = reply
            .header("content-type")
            .map(|ct| ct.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        // The console's pages and files are not JSON: there is no body to validate.
        if media != "application/json" && !media.ends_with("+json") {
            return Vec::new();
        }
        let key = format!("{} {} {media}", op.name(), reply.status);
        let doc = self.doc;
        let validator = self.compiled.entry(key).or_insert_with(|| {
            let response = op.responses.get(reply.status.to_string())?;
            let content = resolve(doc, response).get("content")?.get(&media)?;
            // The whole document is the schema resource, so every
            // `#/components/schemas/…` reference inside it resolves.
            let mut schema = doc.clone();
            schema["$ref"] = json!("#/$defs/answer");
            schema["$defs"] = json!({"answer": content["schema"].clone()});
            Some(
                jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("a documented schema compiles"),
            )
        });
        match validator {
            Some(v) => v
                .iter_errors(&reply.json())
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect(),
            None => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------- generation

/// Strings no field expects: empty, blank, huge, control and format
/// characters, right-to-left overrides, lone-surrogate look-alikes,
/// 4-byte emoji, injection classics.
const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "a\u{0}b",
    "\r\nX-Injected: 1",
    "\u{202E}gnp.exe",
    "zero\u{200B}width\u{FEFF}",
    "🚀👩‍🔬🏳️‍🌈",
    "\u{10FFFF}",
    "e\u{301}\u{301}\u{301}",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "null",
    "-1",
    "NaN",
    "svc_0123456789abcdefghjkmnpqrs",
    "svc_ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    "plan_",
];

/// Raw JSON number texts at the edges of what a parser or a decimal holds.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1e308",
    "-1e308",
    "1e309",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "340282366920938463463374607431768211457",
    "0.1000000000000000000000000000001",
    "0.00000000001",
    "1.5E3",
    "99999999999999999999999999999999999999.999999",
];

/// Path segments sent as they are (already URI-safe): encoded dots and
/// slashes, double encoding, broken escapes, matrix parameters.
const RAW_SEGMENTS: &[&str] = &[
    "%2e%2e",
    "%2E%2E%2F",
    "%252f",
    "%2f",
    "%ff%fe",
    "%00",
    "%",
    "%zz",
    ";x=1",
    "..;",
    "a%2fb",
    "%5c",
    "%F0%9F%9A%80",
];

/// What is appended to real ids in paths: encoded separators that would
/// turn `service/{id}` into the key of another record, dot segments, NUL,
/// and plain junk.
const ID_SUFFIXES: &[&str] = &[
    "%2Fevents%2F00000000000000000001",
    "%2Fevents%2Fseq",
    "%2Flifecycle",
    "%2Fapi-spec",
    "%2F..%2F..%2Fsealing%2Fgenerated-key",
    "%2f",
    "%5C..",
    "%00",
    "%2e%2e",
    "x",
    "%20",
];

/// What a property of a given name should hold to be accepted: the scene's
/// real ids and values a valid instance would carry.
struct Hints(HashMap<&'static str, Vec<Value>>);

impl Hints {
    fn for_scene(scene: &Scene) -> Hints {
        let now = Timestamp::now();
        let mut hints = HashMap::new();
        hints.insert(
            "serviceId",
            vec![json!(scene.service_id), json!(scene.disposable_service_id)],
        );
        hints.insert(
            "pricingPlanId",
            vec![json!(scene.plan.id), json!(scene.disposable_plan_id)],
        );
        hints.insert("correlationId", vec![json!(scene.correlation_id)]);
        hints.insert("productId", vec![json!(scene.plan.product_id)]);
        hints.insert("itemId", vec![json!(scene.plan.product_id)]);
        hints.insert(
            "quantumBackend",
            scene.backends.iter().map(|b| json!(b)).collect(),
        );
        hints.insert("url", vec![json!(scene.upstream_url)]);
        hints.insert("count", vec![json!("1"), json!(2), json!("0.5")]);
        hints.insert(
            "unitPrice",
            vec![json!("0.00001"), json!(0.25), json!("0"), json!(3)],
        );
        hints.insert("timestamp", vec![json!(now.to_rfc3339())]);
        hints.insert(
            "expiresAt",
            vec![json!(now.plus_seconds(86_400).to_rfc3339()), Value::Null],
        );
        hints.insert("client_id", vec![json!(scene.application.consumer_key)]);
        hints.insert(
            "client_secret",
            vec![json!(scene.application.consumer_secret)],
        );
        hints.insert("openapi", vec![json!("3.0.3"), json!("3.1.0")]);
        hints.insert("id", vec![json!(scene.plan.product_id)]);
        Hints(hints)
    }
}

/// Builds request bodies from JSON schemas: valid instances, then mutations.
struct Generator<'a> {
    doc: &'a Value,
    hints: Hints,
    rng: Rng,
    unique: u64,
}

impl Generator<'_> {
    /// A valid instance of `schema`; `name` is the property it is for.
    fn valid(&mut self, schema: &Value, name: Option<&str>, depth: usize) -> Value {
        let schema = resolve(self.doc, schema);
        if let Some(values) = name.and_then(|n| self.hints.0.get(n)) {
            let values = values.clone();
            return self.rng.pick(&values).clone();
        }
        if name == Some("email") {
            self.unique += 1;
            return json!(format!(
                "fuzz-{}-{}@example.org",
                self.unique,
                self.rng.word(6)
            ));
        }
        if name == Some("eventId") {
            self.unique += 1;
            return json!(format!("evt-fuzz-{}", self.unique));
        }
        if name == Some("password") {
            // A secret of its own: the leak scan must be able to tell it
            // from the names and descriptions the same request carries.
            self.unique += 1;
            return json!(format!("pw-{}-{}", self.unique, self.rng.word(12)));
        }
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if let Some(values) = schema["enum"].as_array() {
            return self.rng.pick(values).clone();
        }
        for combinator in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[combinator].as_array() {
                let branch = self.rng.pick(branches).clone();
                return self.valid(&branch, name, depth);
            }
        }
        if let Some(parts) = schema["allOf"].as_array() {
            let mut merged = Map::new();
            for part in parts.clone() {
                match self.valid(&part, name, depth) {
                    Value::Object(fields) => merged.extend(fields),
                    other if parts.len() == 1 => return other,
                    _ => {}
                }
            }
            return Value::Object(merged);
        }
        let kind = match &schema["type"] {
            Value::String(kind) => kind.clone(),
            Value::Array(kinds) => {
                // Mostly the non-null type: null is the exception.
                let non_null: Vec<_> = kinds.iter().filter(|k| *k != "null").collect();
                if non_null.is_empty() || self.rng.chance(15) {
                    "null".to_string()
                } else {
                    self.rng
                        .pick(&non_null)
                        .as_str()
                        .unwrap_or("null")
                        .to_string()
                }
            }
            _ if schema.get("properties").is_some() => "object".into(),
            _ => "string".into(),
        };
        match kind.as_str() {
            "object" => {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut object = Map::new();
                if let Some(properties) = schema["properties"].as_object() {
                    for (property, sub) in properties {
                        if required.contains(&property.as_str())
                            || (depth < 3 && self.rng.chance(50))
                        {
                            let value = self.valid(sub, Some(property), depth + 1);
                            object.insert(property.clone(), value);
                        }
                    }
                }
                Value::Object(object)
            }
            "array" => {
                let min = schema["minItems"].as_u64().unwrap_or(0) as usize;
                let max = schema["maxItems"].as_u64().unwrap_or(3).min(3) as usize;
                let len = min.max(1) + self.rng.below(max.saturating_sub(min.max(1)) + 1);
                let items = schema["items"].clone();
                Value::Array(
                    (0..len)
                        .map(|_| self.valid(&items, None, depth + 1))
                        .collect(),
                )
            }
            "integer" => {
                let min = schema["minimum"].as_i64().unwrap_or(0);
                let max = schema["maximum"].as_i64().unwrap_or(min + 1000);
                json!(min + self.rng.below((max - min + 1) as usize) as i64)
            }
            "number" => json!(self.rng.below(1000) as f64 / 8.0),
            "boolean" => json!(self.rng.chance(50)),
            "null" => Value::Null,
            _ => {
                let pattern = schema["pattern"].as_str().unwrap_or_default();
                if pattern.contains("[0-9]+") {
                    json!(format!("{}.{}", self.rng.below(100), self.rng.below(1000)))
                } else if schema["format"] == "date-time" {
                    json!(Timestamp::now().to_rfc3339())
                } else {
                    let min = schema["minLength"].as_u64().unwrap_or(1) as usize;
                    let len = min.max(1) + self.rng.below(12);
                    json!(format!("fuzz {}", self.rng.word(len)))
                }
            }
        }
    }

    /// A mutated body from the valid `instance` of `schema`: the request
    /// text and a short name of the mutation.
    fn mutate(&mut self, schema: &Value, instance: &Value) -> (Vec<u8>, &'static str) {
        let schema = resolve(self.doc, schema);
        let mut value = instance.clone();
        let paths = leaf_paths(&value, &mut Vec::new());
        let target = if paths.is_empty() {
            None
        } else {
            Some(self.rng.pick(&paths).clone())
        };
        const SLOT: &str = "\u{1}slot\u{1}";
        let with_raw = |value: &Value, raw: &str| {
            value
                .to_string()
                .replacen(&Value::String(SLOT.into()).to_string(), raw, 1)
                .into_bytes()
        };
        match self.rng.below(12) {
            0 => {
                let required: Vec<String> = schema["required"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                if let (Some(field), Value::Object(fields)) =
                    (required.first().cloned(), &mut value)
                {
                    let field = if required.len() > 1 {
                        self.rng.pick(&required).clone()
                    } else {
                        field
                    };
                    fields.remove(&field);
                }
                (value.to_string().into_bytes(), "a required field missing")
            }
            1 => {
                let wrong = self
                    .rng
                    .pick(&[
                        json!(12),
                        json!("text"),
                        json!(true),
                        json!([1, "two"]),
                        json!({"nested": {}}),
                    ])
                    .clone();
                replace_at(&mut value, target.as_deref(), wrong);
                (value.to_string().into_bytes(), "a wrong type")
            }
            2 => {
                replace_at(&mut value, target.as_deref(), Value::Null);
                (value.to_string().into_bytes(), "null")
            }
            3 => {
                if let Value::Object(fields) = &mut value {
                    fields.insert("zzUnknown".into(), json!({"a": 1}));
                }
                (value.to_string().into_bytes(), "an extra property")
            }
            4 | 5 => {
                let number = *self.rng.pick(EDGE_NUMBERS);
                replace_at(&mut value, target.as_deref(), json!(SLOT));
                (with_raw(&value, number), "an edge number")
            }
            6 => {
                let size = *self.rng.pick(&[1000, 65_536, 900_000]);
                replace_at(&mut value, target.as_deref(), json!("x".repeat(size)));
                (value.to_string().into_bytes(), "a long string")
            }
            7 => {
                let hostile = *self.rng.pick(HOSTILE_STRINGS);
                replace_at(&mut value, target.as_deref(), json!(hostile));
                (value.to_string().into_bytes(), "a hostile string")
            }
            8 => {
                let escape = *self.rng.pick(&[
                    "\"\\ud800\"",
                    "\"\\udfff x\"",
                    "\"\\u0000\"",
                    "\"\\ud83d\\ude80\"",
                ]);
                replace_at(&mut value, target.as_deref(), json!(SLOT));
                (with_raw(&value, escape), "an escaped surrogate")
            }
            9 => {
                let nested = format!("{}1{}", "[".repeat(2000), "]".repeat(2000));
                replace_at(&mut value, target.as_deref(), json!(SLOT));
                (with_raw(&value, &nested), "deep nesting")
            }
            10 => {
                // The first key twice, the second time with another value.
                let text = value.to_string();
                let duplicated = match &value {
                    Value::Object(fields) if !fields.is_empty() => {
                        let (key, _) = fields.iter().next().expect("a field");
                        text.replacen('{', &format!("{{{}:\"duplicate\",", json!(key)), 1)
                    }
                    _ => text,
                };
                (duplicated.into_bytes(), "a duplicate key")
            }
            _ => {
                let whole = *self.rng.pick(&[
                    "",
                    "null",
                    "[]",
                    "\"\"",
                    "0",
                    "true",
                    "{",
                    "{}}",
                    "{\"a\":1,}",
                    "\u{FEFF}{}",
                    "{/*c*/}",
                    "{'a':1}",
                    "NaN",
                    "\u{0}",
                ]);
                (whole.as_bytes().to_vec(), "another document")
            }
        }
    }
}

/// JSON pointers of every value inside `value` (not the root).
fn leaf_paths(value: &Value, prefix: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let children: Vec<(String, &Value)> = match value {
        Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        prefix.push(key.replace('~', "~0").replace('/', "~1"));
        out.push(format!("/{}", prefix.join("/")));
        out.extend(leaf_paths(child, prefix));
        prefix.pop();
    }
    out
}

/// Replaces the value at `pointer` (the root when there is none).
fn replace_at(value: &mut Value, pointer: Option<&str>, new: Value) {
    match pointer.and_then(|p| value.pointer_mut(p)) {
        Some(slot) => *slot = new,
        None => *value = new,
    }
}

// ---------------------------------------------------------------- the fuzzer

/// Credentials a fuzzed request carries.
#[derive(Debug, Clone, Copy)]
enum Auth {
    /// The credential the operation is meant for.
    Natural,
    /// A valid credential of the other account (or the wrong kind).
    Foreign,
    None,
    Garbage,
}

struct Fuzzer<'a> {
    scene: &'a Scene,
    generator: Generator<'a>,
}

impl Fuzzer<'_> {
    /// A path value for `param` of `op`: a real id, another id, or hostile text.
    fn path_value(&mut self, op: &Operation, param: &str, hostile: bool) -> String {
        let s = self.scene;
        let rng = &mut self.generator.rng;
        if param == "path" {
            let segments = 1 + rng.below(3);
            let mut path = String::new();
            for _ in 0..segments {
                path.push('/');
                path.push_str(&match (hostile, rng.below(3)) {
                    (true, 0) => rng.pick(RAW_SEGMENTS).to_string(),
                    (true, 1) => encode(rng.hostile()),
                    _ => {
                        let len = 1 + rng.below(8);
                        rng.word(len)
                    }
                });
            }
            if rng.chance(20) {
                path.push_str(&format!("?q={}&n=1", rng.word(4)));
            }
            // `{path}` starts with its own slash in these templates.
            return path.trim_start_matches('/').to_string();
        }
        let destructive = op.is_destructive();
        let t = op.template.as_str();
        let (main, disposable) = if param == "plan_id" {
            (&s.plan.id, &s.disposable_plan_id)
        } else if t.starts_with("/api/services") || t.starts_with("/gateway") {
            // The disposable plan lives on the disposable service.
            (&s.service_id, &s.disposable_service_id)
        } else if t.starts_with("/api/applications") {
            (&s.application.id, &s.disposable_application_id)
        } else if t.starts_with("/api/subscriptions") {
            (&s.subscription_id, &s.disposable_subscription_id)
        } else if t.starts_with("/api/access-tokens") {
            (&s.disposable_token_id, &s.disposable_token_id)
        } else {
            (&s.service_id, &s.service_id)
        };
        if hostile {
            return match rng.below(5) {
                0 => rng.pick(RAW_SEGMENTS).to_string(),
                1 => "a".repeat(*rng.pick(&[300, 5000])),
                // A real id with something after it that decodes to a path
                // of another record: it must never reach the store.
                2 => format!("{}{}", main, rng.pick(ID_SUFFIXES)),
                _ => encode(rng.hostile()),
            };
        }
        if destructive {
            disposable.clone()
        } else if rng.chance(85) {
            main.clone()
        } else {
            // An id of the right shape that the caller does not own or that names something else.
            rng.pick(&[
                s.application.id.clone(),
                s.service_id.clone(),
                s.consumer.id.clone(),
                s.plan.product_id.clone(),
            ])
            .clone()
        }
    }

    /// Query parameters from the documented ones, valid or not.
    fn query(&mut self, op: &Operation, invalid: bool) -> String {
        let rng = &mut self.generator.rng;
        let mut pairs = Vec::new();
        for param in op.parameters.iter().filter(|p| p["in"] == "query") {
            let name = param["name"].as_str().unwrap_or_default();
            if !invalid && rng.chance(50) {
                continue;
            }
            let valid: Vec<String> = match name {
                "limit" => vec!["1".into(), "50".into(), "500".into()],
                "from" | "to" => vec![
                    "2026-01-01".into(),
                    Timestamp::now().to_rfc3339(),
                    "2020-02-29T00:00:00Z".into(),
                ],
                "testMode" => vec!["true".into(), "false".into()],
                "quantumBackend" => self.scene.backends.clone(),
                _ => vec![rng.word(3), String::new()],
            };
            let bad: Vec<String> = match name {
                "limit" => [
                    "0",
                    "-1",
                    "501",
                    "abc",
                    "1e2",
                    "99999999999999999999",
                    "",
                    "5.5",
                ]
                .map(String::from)
                .to_vec(),
                "from" | "to" => [
                    "yesterday",
                    "2026-13-45",
                    "99999-01-01",
                    "2026-01-01T25:00:00Z",
                    "-1",
                ]
                .map(String::from)
                .to_vec(),
                "testMode" => vec!["maybe".into(), "TRUE".into(), "1".into()],
                _ => HOSTILE_STRINGS.iter().map(|s| s.to_string()).collect(),
            };
            let value = if invalid && rng.chance(70) {
                rng.pick(&bad).clone()
            } else {
                rng.pick(&valid).clone()
            };
            pairs.push(format!("{name}={}", encode(&value)));
        }
        if invalid && rng.chance(40) {
            pairs.push(format!("zz{}=%ff%00", rng.word(2)));
        }
        if invalid && rng.chance(20) {
            pairs.push("limit=1&limit=2".into());
        }
        if invalid && rng.chance(10) {
            pairs.push(format!("cursor={}", rng.pick(RAW_SEGMENTS)));
        }
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    fn auth(&mut self, op: &Operation, auth: Auth, req: Req) -> Req {
        let s = self.scene;
        let rng = &mut self.generator.rng;
        let t = op.template.as_str();
        let natural_pat =
            if t.starts_with("/api/applications") || t.starts_with("/api/subscriptions") {
                &s.consumer.token
            } else {
                &s.provider.token
            };
        let foreign_pat = if std::ptr::eq(natural_pat, &s.consumer.token) {
            &s.provider.token
        } else {
            &s.consumer.token
        };
        match (Endpoint::of(t), auth) {
            (_, Auth::None) => req,
            (_, Auth::Garbage) => {
                let garbage = rng
                    .pick(&[
                        "Bearer garbage",
                        "Bearer ",
                        "Bearer qmk_0000000000000000000000000000000000000000",
                        "Basic Zm9vOmJhcg==",
                        "Basic !!!",
                        "Token abc",
                        "Bearer a b c",
                    ])
                    .to_string();
                if rng.chance(20) {
                    req.header("authorization", &format!("Bearer {}", "A".repeat(8000)))
                } else if rng.chance(25) {
                    req.header("x-auth-token", "garbage")
                } else {
                    req.header("authorization", &garbage)
                }
            }
            (Endpoint::OAuth, Auth::Natural) => {
                use base64::Engine as _;
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    s.application.consumer_key, s.application.consumer_secret
                ));
                req.header("authorization", &format!("Basic {basic}"))
            }
            (Endpoint::OAuth, Auth::Foreign) => req.bearer(&s.provider.token),
            (Endpoint::Gateway, Auth::Natural) => req.bearer(&s.oauth_token),
            (Endpoint::Gateway, Auth::Foreign) => req.bearer(&s.consumer.token),
            (Endpoint::Api | Endpoint::Protocol, Auth::Natural) => {
                if rng.chance(20) {
                    req.header("x-auth-token", natural_pat)
                } else {
                    req.bearer(natural_pat)
                }
            }
            (Endpoint::Api | Endpoint::Protocol, Auth::Foreign) => {
                if rng.chance(30) {
                    req.bearer(&s.oauth_token)
                } else {
                    req.bearer(foreign_pat)
                }
            }
        }
    }

    /// The `n`th request for `op`, and whether it names what the template
    /// means (no hostile path values). The variant cycles so that every
    /// operation gets each kind: valid, foreign/none/garbage credentials,
    /// hostile path values, bad queries, and body mutations.
    fn request(&mut self, op: &Operation, n: usize) -> (Req, bool) {
        const HOSTILE_PATH: usize = 4;
        let variant = n % 8;
        (
            self.build(op, variant, variant == HOSTILE_PATH),
            variant != HOSTILE_PATH,
        )
    }

    fn build(&mut self, op: &Operation, variant: usize, hostile_path: bool) -> Req {
        let auth = match variant {
            1 => Auth::Foreign,
            2 => Auth::None,
            3 => Auth::Garbage,
            _ => Auth::Natural,
        };
        let bad_query = variant == 5;
        let mutate_body = variant >= 6;

        let mut target = op.template.clone();
        let path_params: Vec<String> = op
            .parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect();
        for param in &path_params {
            let value = self.path_value(op, param, hostile_path);
            target = target.replace(&format!("{{{param}}}"), &value);
        }
        if !target.contains('?') {
            target.push_str(&self.query(op, bad_query));
        }
        let mut req = Req::new(&op.method, target);
        for param in op.parameters.iter().filter(|p| p["in"] == "header") {
            let name = param["name"].as_str().unwrap_or_default();
            if self.generator.rng.chance(30) {
                self.generator.unique += 1;
                let value = if bad_query {
                    "k".repeat(5000)
                } else {
                    format!("idem-{}", self.generator.unique)
                };
                req = req.header(name, &value);
            }
        }
        req = self.auth(op, auth, req);
        if op.bodies.is_empty()
            || op.method == "GET"
            || op.method == "HEAD"
            || op.method == "DELETE"
        {
            return req;
        }
        let (media, schema) = {
            let i = self.generator.rng.below(op.bodies.len());
            op.bodies[i].clone()
        };
        match media.as_str() {
            "application/json" => {
                let instance = self.generator.valid(&schema, None, 0);
                let body = if mutate_body {
                    self.generator.mutate(&schema, &instance).0
                } else {
                    instance.to_string().into_bytes()
                };
                req.json(body)
            }
            "application/x-www-form-urlencoded" => {
                let instance = self.generator.valid(&schema, None, 0);
                let mut form: Vec<String> = instance
                    .as_object()
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|(k, v)| {
                                let v = v.as_str().map(String::from).unwrap_or(v.to_string());
                                format!("{}={}", encode(k), encode(&v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if mutate_body {
                    let rng = &mut self.generator.rng;
                    match rng.below(4) {
                        0 => form.retain(|p| !p.starts_with("grant_type")),
                        1 => form.push("grant_type=password".into()),
                        2 => form.push(format!("client_id={}", encode(rng.hostile()))),
                        _ => form = vec!["%ff%fe=%zz&&&==".into()],
                    }
                }
                req.header("content-type", &media).body(form.join("&"))
            }
            "*/*" => {
                let rng = &mut self.generator.rng;
                let body: Vec<u8> = (0..rng.below(2000)).map(|_| rng.next() as u8).collect();
                req.header("content-type", "application/octet-stream")
                    .body(body)
            }
            yaml => {
                let body = if mutate_body {
                    self.generator
                        .rng
                        .pick(&[
                            "openapi: [",
                            "- a\n- b",
                            "x: *unknown",
                            "openapi: 2.0\npaths: {}",
                            "\u{0}",
                        ])
                        .to_string()
                } else {
                    "openapi: 3.0.3\ninfo: {title: fuzz, version: '1'}\npaths: {}\n".to_string()
                };
                req.header("content-type", yaml).body(body)
            }
        }
    }
}

#[test]
fn every_documented_operation_survives_generated_hostile_requests() {
    // Setup
    let upstream = Upstream::start();
    let mut options = TestAppOptions::new(manifest());
    options.env = upstream.platform_env();
    let app = platform_with(options);
    let scene = set_up(&app, &upstream);
    let doc = app.get("/api/openapi.json").send().expect(200).json();
    let mut ops = operations(&doc);
    // Deletions last, so the operations before them find what they name.
    ops.sort_by_key(|op| op.method == "DELETE");
    let mut fuzzer = Fuzzer {
        scene: &scene,
        generator: Generator {
            doc: &doc,
            hints: Hints::for_scene(&scene),
            rng: Rng(0x5EED_0F4C_4057_11E5),
            unique: 0,
        },
    };
    let mut schemas = ResponseSchemas {
        doc: &doc,
        compiled: HashMap::new(),
    };
    let mut checker = Checker::new(&app);
    let mut per_operation: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();

    // Exec
    for op in &ops {
        for n in 0..REQUESTS_PER_OPERATION {
            let (req, on_template) = fuzzer.request(op, n);
            let reply = checker.send(&req);
            *per_operation.entry(op.name()).or_default() += 1;
            if let Some(reply) = reply.filter(|r| (200..300).contains(&r.status)) {
                // The gateway's answers are the upstream's; a hostile path
                // value may name another route (`/api/applications/`).
                if on_template && Endpoint::of(&op.template) != Endpoint::Gateway {
                    let errors = schemas.errors(op, &reply);
                    if !errors.is_empty() {
                        checker.failures.push(format!(
                            "{} -> {} does not match its documented schema: {errors:?}",
                            req.describe(),
                            reply.status
                        ));
                    }
                }
            }
        }
        checker.host_survives(&op.name());
    }

    // Check
    let outside: Vec<String> = upstream
        .seen()
        .into_iter()
        .map(|seen| seen.target)
        .filter(|target| !stays_under(target, BASE))
        .collect();
    checker.failures.extend(
        outside
            .iter()
            .map(|t| format!("the upstream saw {t:?}, outside {BASE}")),
    );
    let covered = per_operation.values().filter(|n| **n > 0).count();
    println!(
        "hostile fuzz: {} requests, {covered}/{} operations covered, {} failures, {:.1} s",
        checker.sent,
        ops.len(),
        checker.failures.len(),
        started.elapsed().as_secs_f64()
    );
    let documented: BTreeSet<String> = ops.iter().map(Operation::name).collect();
    let exercised: BTreeSet<String> = per_operation.keys().cloned().collect();
    assert_eq!(
        exercised, documented,
        "every documented operation is exercised"
    );
    assert!(
        ops.len() >= 40,
        "the document lists the whole API: {}",
        ops.len()
    );
    checker.assert_clean("the fuzzed operations");
}

/// Whether `target` (as an upstream received it) stays under `base` however
/// a server reads it: percent-decoded until nothing changes, backslashes as
/// slashes, `;` parameters dropped, dot segments resolved.
fn stays_under(target: &str, base: &str) -> bool {
    let path = target.split('?').next().unwrap_or_default();
    let mut decoded = path.to_string();
    loop {
        let next = percent_decode_once(&decoded);
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let mut resolved: Vec<&str> = Vec::new();
    let slashed = decoded.replace('\\', "/");
    for segment in slashed.split('/') {
        match segment.split(';').next().unwrap_or_default() {
            "." => {}
            ".." => {
                resolved.pop();
            }
            other => resolved.push(other),
        }
    }
    let normal = resolved.join("/");
    normal.starts_with(base) || normal == base.trim_end_matches('/')
}

/// Decodes `%XX` escapes once (bytes that are not UTF-8 become U+FFFD).
fn percent_decode_once(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------- the corpus

/// The platform aimed at a recording upstream, with a tenant set up.
fn corpus() -> (Upstream, TestApp, Scene) {
    let upstream = Upstream::start();
    let mut options = TestAppOptions::new(manifest());
    options.env = upstream.platform_env();
    let app = platform_with(options);
    let scene = set_up(&app, &upstream);
    (upstream, app, scene)
}

/// One JSON endpoint with a body it accepts.
struct JsonEndpoint {
    method: &'static str,
    path: String,
    token: Option<String>,
    valid: Value,
}

impl JsonEndpoint {
    /// The request with `body` as it is (content type JSON).
    fn with(&self, body: impl Into<Vec<u8>>) -> Req {
        self.bare(body).header("content-type", "application/json")
    }

    /// The request with `body` and no content type.
    fn bare(&self, body: impl Into<Vec<u8>>) -> Req {
        let req = Req::new(self.method, self.path.clone()).body(body);
        match &self.token {
            Some(token) => req.bearer(token),
            None => req,
        }
    }
}

/// Every endpoint that reads a JSON body, each with a valid body.
fn json_endpoints(s: &Scene) -> Vec<JsonEndpoint> {
    let provider = Some(s.provider.token.clone());
    let consumer = Some(s.consumer.token.clone());
    let service = format!("/api/services/{}", s.service_id);
    let report =
        json!({"correlationId": s.correlation_id, "productId": s.plan.product_id, "count": 1});
    let endpoint = |method, path: String, token: &Option<String>, valid| JsonEndpoint {
        method,
        path,
        token: token.clone(),
        valid,
    };
    vec![
        endpoint(
            "POST",
            "/api/accounts".into(),
            &None,
            json!({"name": "n", "email": "n@example.org"}),
        ),
        endpoint(
            "POST",
            "/api/access-tokens".into(),
            &provider,
            json!({"name": "t", "scopes": ["API"]}),
        ),
        endpoint(
            "POST",
            "/api/applications".into(),
            &consumer,
            json!({"name": "app"}),
        ),
        endpoint(
            "POST",
            format!("/api/applications/{}/subscriptions", s.application.id),
            &consumer,
            json!({"serviceId": s.service_id, "pricingPlanId": s.plan.id}),
        ),
        endpoint(
            "POST",
            "/api/services".into(),
            &provider,
            json!({"name": "s", "type": "EXTERNAL", "quantumBackend": "IBM", "url": s.upstream_url}),
        ),
        endpoint(
            "PATCH",
            format!("/api/services/{}", s.disposable_service_id),
            &provider,
            json!({"description": "d"}),
        ),
        endpoint(
            "PUT",
            format!("{service}/api-spec"),
            &provider,
            json!({"openapi": "3.0.3", "paths": {}}),
        ),
        endpoint(
            "POST",
            format!("{service}/pricing-plans"),
            &provider,
            json!({"name": "p", "type": "FREE", "products": []}),
        ),
        endpoint(
            "PATCH",
            format!("{service}/pricing-plans/{}", s.plan.id),
            &provider,
            json!({"name": "renamed"}),
        ),
        endpoint("POST", "/api/metering".into(), &provider, report.clone()),
        endpoint(
            "POST",
            "/qc-catalog/external-services/metering".into(),
            &provider,
            report.clone(),
        ),
        endpoint(
            "POST",
            "/api/metering/batch".into(),
            &provider,
            json!({"events": [report]}),
        ),
    ]
}

/// The response status of `reply`, 0 when there was none.
fn status(reply: &Option<Reply>) -> u16 {
    reply.as_ref().map_or(0, |r| r.status)
}

#[test]
fn malformed_json_is_refused_with_a_problem_on_every_json_endpoint() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let mut unexpected = Vec::new();

    // Exec
    for endpoint in json_endpoints(&s) {
        let valid = endpoint.valid.to_string();
        let malformed = [
            valid[..valid.len() / 2].to_string(),
            format!("{valid}x"),
            format!("{valid}{{}}"),
            format!("\u{FEFF}{valid}"),
            format!("/* comment */{valid}"),
            format!("// comment\n{valid}"),
            valid.replace('"', "'"),
            valid.replacen('}', ",}", 1),
            "NaN".to_string(),
            String::new(),
            " \n\t ".to_string(),
            "\u{0}".to_string(),
        ];
        for body in malformed {
            let reply = checker.send(&endpoint.with(body.clone()));
            if status(&reply) != 400 {
                unexpected.push(format!(
                    "{} {} {body:?} -> {}",
                    endpoint.method,
                    endpoint.path,
                    status(&reply)
                ));
            }
        }
    }

    // Check
    assert!(
        unexpected.is_empty(),
        "not a 400:\n{}",
        unexpected.join("\n")
    );
    checker.assert_clean("malformed JSON");
}

#[test]
fn wrong_content_types_on_json_endpoints_are_refused_with_415() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let mut unexpected = Vec::new();

    // Exec
    for endpoint in json_endpoints(&s) {
        let valid = endpoint.valid.to_string();
        let multipart = format!(
            "--b\r\ncontent-disposition: form-data; name=\"json\"\r\n\r\n{valid}\r\n--b--\r\n"
        );
        for (media, body) in [
            ("text/plain", valid.clone()),
            (
                "application/x-www-form-urlencoded",
                "name=n&scopes=API".to_string(),
            ),
            ("multipart/form-data; boundary=b", multipart),
            ("application/xml", "<name>n</name>".to_string()),
            ("application/jsonp", valid.clone()),
        ] {
            let reply = checker.send(&endpoint.bare(body).header("content-type", media));
            if status(&reply) != 415 {
                unexpected.push(format!(
                    "{} {} {media} -> {}",
                    endpoint.method,
                    endpoint.path,
                    status(&reply)
                ));
            }
        }
    }
    // Without a content type the body is read as JSON.
    let created = checker.send(
        &Req::new("POST", "/api/applications")
            .bearer(&s.consumer.token)
            .body(r#"{"name": "no media type"}"#),
    );

    // Check
    assert!(
        unexpected.is_empty(),
        "not a 415:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(status(&created), 201);
    checker.assert_clean("wrong content types");
}

#[test]
fn a_20_mib_body_is_refused_with_413_by_every_json_component() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(20 << 20));
    let endpoints = json_endpoints(&s);

    // Exec: one endpoint of each component that reads JSON.
    let statuses: Vec<(String, u16)> = [
        "/api/applications",
        "/api/services",
        "/pricing-plans",
        "/api/metering",
    ]
    .iter()
    .map(|suffix| {
        let endpoint = endpoints
            .iter()
            .find(|e| e.path.ends_with(suffix))
            .expect("an endpoint");
        let reply = checker.send(&endpoint.with(huge.clone()));
        (endpoint.path.clone(), status(&reply))
    })
    .collect();

    // Check
    for (path, status) in &statuses {
        assert_eq!(*status, 413, "{path}");
    }
    checker.assert_clean("20 MiB bodies");
}

#[test]
fn a_20_mib_body_is_refused_with_413_by_the_gateway_without_reading_it() {
    // Setup
    let (upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(20 << 20));

    // Exec: the gateway answers as soon as the declared length is over its
    // limit, without reading the body; a client that sends the whole body
    // before it reads still gets that answer, as the host reads the rest on.
    let gateway = format!("/gateway/{}/upload", s.service_id);
    let mut raw = format!(
        "POST {gateway} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        app.addr(),
        s.oauth_token,
        huge.len()
    )
    .into_bytes();
    raw.extend_from_slice(huge.as_bytes());
    let reply = checker.send_raw_before_reading(&gateway, &raw);

    // Check
    assert_eq!(status(&reply), 413, "{gateway}");
    assert!(upstream
        .seen()
        .iter()
        .all(|seen| !seen.target.ends_with("/upload")));
    checker.assert_clean("a 20 MiB body to the gateway");
}

#[test]
fn huge_and_numerous_headers_get_an_answer_and_leave_the_host_up() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let addr = app.addr();
    let long = "v".repeat(64 << 10);
    let many: String = (0..2000).map(|i| format!("x-h-{i}: {i}\r\n")).collect();
    let gateway = format!("/gateway/{}/headers", s.service_id);

    // Exec
    let requests = [
        ("/api/me", format!("x-long: {long}\r\n")),
        ("/api/me", many.clone()),
        (gateway.as_str(), format!("x-long: {long}\r\n")),
        (gateway.as_str(), many),
        ("/api/me", format!("authorization: Bearer {long}\r\n")),
    ];
    let mut statuses = Vec::new();
    for (path, extra) in requests {
        let token = if path.starts_with("/gateway") {
            &s.oauth_token
        } else {
            &s.provider.token
        };
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n{extra}connection: close\r\n\r\n"
        );
        let reply = checker.send_raw_malformed(path, head.as_bytes());
        statuses.push(status(&reply));
    }

    // Check: a 64 KiB value is taken like any other; 2,000 header lines are
    // more than the HTTP server parses (431); a 64 KiB token is no token.
    assert_eq!(statuses, [200, 431, 200, 431, 401]);
    checker.assert_clean("huge headers");
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let open = "[".repeat(100_000);
    let balanced = format!("{open}{}", "]".repeat(100_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let yaml_flow = format!("openapi: 3.0.3\npaths: {open}");
    let yaml_block: String = (0..20_000)
        .map(|i| format!("{}- \n", " ".repeat(i % 200)))
        .collect();
    let api_spec = format!("/api/services/{}/api-spec", s.service_id);

    // Exec
    let mut statuses = Vec::new();
    for endpoint in json_endpoints(&s) {
        for body in [&open, &balanced, &objects] {
            statuses.push(status(&checker.send(&endpoint.with(body.clone()))));
        }
        let nested = endpoint
            .valid
            .to_string()
            .replacen(':', &format!(":{open}"), 1);
        statuses.push(status(&checker.send(&endpoint.with(nested))));
    }
    for yaml in [&yaml_flow, &yaml_block] {
        let req = Req::new("PUT", api_spec.clone())
            .bearer(&s.provider.token)
            .header("content-type", "application/yaml")
            .body(yaml.clone());
        statuses.push(status(&checker.send(&req)));
    }

    // Check
    assert!(
        statuses.iter().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
    checker.assert_clean("deep nesting");
}

#[test]
fn yaml_alias_bombs_are_refused_without_expanding() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let prev = (b'a' + level - 1) as char;
        let name = (b'a' + level) as char;
        bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let yaml = format!("openapi: 3.0.3\npaths: {{}}\n{bomb}");

    // Exec
    let reply = checker.send(
        &Req::new("PUT", format!("/api/services/{}/api-spec", s.service_id))
            .bearer(&s.provider.token)
            .header("content-type", "application/yaml")
            .body(yaml),
    );

    // Check
    assert!((400..500).contains(&status(&reply)), "{}", status(&reply));
    checker.assert_clean("a YAML alias bomb");
}

#[test]
fn invalid_utf8_in_bodies_paths_and_headers_is_refused() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let addr = app.addr();
    let raw = |method: &str, target: &[u8], token: &str, body: &[u8]| {
        let mut bytes = format!("{method} ").into_bytes();
        bytes.extend_from_slice(target);
        bytes.extend_from_slice(
            format!(
                " HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(body);
        bytes
    };
    let bad_name = b"{\"name\": \"\xff\xfe\xc0\xaf\"}";

    // Exec
    let mut statuses = Vec::new();
    for (method, target, body) in [
        ("POST", b"/api/applications".as_slice(), bad_name.as_slice()),
        ("POST", b"/api/applications", b"{\"name\": \"a\"}\xff"),
        ("GET", b"/api/applications/\xff\xfe", b""),
        ("GET", b"/api/applications/%ff%fe", b""),
        ("GET", b"/api/services/%c0%af", b""),
        ("GET", b"/api/marketplace/services?q=%ff", b""),
    ] {
        let path = String::from_utf8_lossy(target).into_owned();
        let reply =
            checker.send_raw_malformed(&path, &raw(method, target, &s.consumer.token, body));
        statuses.push(status(&reply));
    }
    let gateway = format!("/gateway/{}/%ff%fe/x", s.service_id);
    let reply = checker.send_raw(
        &gateway,
        &raw("GET", gateway.as_bytes(), &s.oauth_token, b""),
    );
    let gateway_status = status(&reply);
    let mut header =
        format!("GET /api/me HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer ").into_bytes();
    header.extend_from_slice(b"\xff\xfe\r\nconnection: close\r\n\r\n");
    let header_status = status(&checker.send_raw("/api/me", &header));

    // Check
    assert_eq!(&statuses[..2], &[400, 400], "invalid UTF-8 in a body");
    assert!(
        statuses[2..]
            .iter()
            .all(|s| (400..500).contains(s) || *s == 200),
        "{statuses:?}"
    );
    assert!(gateway_status == 200 || (400..500).contains(&gateway_status));
    assert_eq!(header_status, 401);
    checker.assert_clean("invalid UTF-8");
}

#[test]
fn unicode_edge_cases_in_names_and_descriptions_are_kept_exactly_or_refused() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let texts = [
        "nul\u{0}inside",
        "\u{202E}gnp.exe",
        "zero\u{200B}width\u{200D}joiner\u{FEFF}",
        "rocket 🚀 scientist 👩‍🔬",
        "\u{10FFFF}\u{FFFD}",
        "e\u{301}\u{301}\u{301}",
        "עברית ومرحبا",
    ];
    let mut lost = Vec::new();

    // Exec: each text as a service's name and description, an application's
    // name and a plan's name; read each back.
    for text in texts {
        let created = [
            (
                "/api/services".to_string(),
                &s.provider.token,
                json!({"name": text, "description": text, "type": "EXTERNAL", "quantumBackend": "IBM", "url": s.upstream_url}),
            ),
            (
                "/api/applications".to_string(),
                &s.consumer.token,
                json!({"name": text}),
            ),
            (
                format!("/api/services/{}/pricing-plans", s.service_id),
                &s.provider.token,
                json!({"name": text, "type": "FREE", "products": []}),
            ),
        ];
        for (path, token, body) in created {
            let Some(reply) = checker.send(
                &Req::new("POST", path.clone())
                    .bearer(token)
                    .json(body.to_string()),
            ) else {
                continue;
            };
            if reply.status != 201 {
                continue;
            }
            let id = reply.json()["id"].as_str().unwrap_or_default().to_string();
            let read = match path.as_str() {
                "/api/services" | "/api/applications" => format!("{path}/{id}"),
                _ => format!("{path}/{id}"),
            };
            let again = checker
                .send(&Req::new("GET", read).bearer(token))
                .map(|r| r.json());
            let again = again.unwrap_or_default();
            if again["name"] != text
                || (body.get("description").is_some() && again["description"] != text)
            {
                lost.push(format!("{path}: {text:?} came back as {:?}", again["name"]));
            }
        }
    }
    // A lone surrogate is no Unicode scalar value: no string can hold it.
    let lone = checker.send(
        &Req::new("POST", "/api/applications")
            .bearer(&s.consumer.token)
            .json(r#"{"name": "half \ud800 a pair"}"#),
    );

    // Check
    assert!(lost.is_empty(), "{lost:#?}");
    assert_eq!(status(&lone), 400);
    checker.assert_clean("unicode edge cases");
}

#[test]
fn edge_numbers_in_counts_and_prices_are_refused_or_kept_exactly() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let plans = format!("/api/services/{}/pricing-plans", s.disposable_service_id);
    let mut inexact = Vec::new();
    // Numeric strings outside the documented pattern: no sign but '-', no
    // exponent, no surrounding space.
    let malformed = ["\"1e3\"", "\"+5\"", "\" 1\"", "\"1 \""];
    let mut accepted_malformed = Vec::new();

    // Exec: each number as a unit price and as a metering count.
    for number in EDGE_NUMBERS
        .iter()
        .chain(&["0.0000000001", "0.000001", "0.0000001", "1.10", "true"])
        .chain(&malformed)
    {
        let plan = format!(
            r#"{{"name": "edge", "type": "COMMERCIAL", "products": [{{"name": "p", "unit": "u", "unitPrice": {number}}}]}}"#
        );
        let reply = checker.send(
            &Req::new("POST", plans.clone())
                .bearer(&s.provider.token)
                .json(plan),
        );
        if let Some(reply) = reply.filter(|r| r.status == 201) {
            if malformed.contains(number) {
                accepted_malformed.push(format!("unitPrice {number}"));
            }
            let kept = reply.json()["products"][0]["unitPrice"].clone();
            if !same_decimal(number, &kept) {
                inexact.push(format!("unitPrice {number} -> {kept}"));
            }
        }
        let report = format!(
            r#"{{"correlationId": "{}", "productId": "{}", "count": {number}}}"#,
            s.correlation_id, s.plan.product_id
        );
        let reply = checker.send(
            &Req::new("POST", "/api/metering")
                .bearer(&s.provider.token)
                .json(report),
        );
        if let Some(reply) = reply.filter(|r| r.status == 200) {
            if malformed.contains(number) {
                accepted_malformed.push(format!("count {number}"));
            }
            let kept = reply.json()["count"].clone();
            if !same_decimal(number, &kept) {
                inexact.push(format!("count {number} -> {kept}"));
            }
        }
    }
    // Whatever was accepted still adds up.
    let usage = checker.send(
        &Req::new(
            "GET",
            format!("/api/subscriptions/{}/usage", s.subscription_id),
        )
        .bearer(&s.consumer.token),
    );
    let events = checker.send(
        &Req::new(
            "GET",
            format!("/api/services/{}/metering-events", s.service_id),
        )
        .bearer(&s.provider.token),
    );

    // Check
    assert!(inexact.is_empty(), "{inexact:#?}");
    assert!(accepted_malformed.is_empty(), "{accepted_malformed:#?}");
    assert_eq!(status(&usage), 200);
    assert_eq!(status(&events), 200);
    checker.assert_clean("edge numbers");
}

/// Whether the decimal `kept` (a string) is exactly the JSON number or
/// numeric string `sent`.
fn same_decimal(sent: &str, kept: &Value) -> bool {
    let normal = |text: &str| {
        let text = text.trim_matches('"').trim().trim_start_matches('+');
        let (sign, text) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text),
        };
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let sign = if int.is_empty() && frac.is_empty() {
            ""
        } else {
            sign
        };
        format!("{sign}{}.{frac}", if int.is_empty() { "0" } else { int })
    };
    kept.as_str()
        .is_some_and(|kept| normal(kept) == normal(sent))
}

#[test]
fn duplicate_json_keys_are_refused_everywhere() {
    // Setup
    let (_upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let service = format!("/api/services/{}", s.service_id);
    let duplicated = [
        ("POST", "/api/applications".to_string(), &s.consumer.token, r#"{"name": "a", "name": "b"}"#.to_string()),
        (
            "POST",
            "/api/services".to_string(),
            &s.provider.token,
            format!(
                r#"{{"name": "s", "type": "EXTERNAL", "quantumBackend": "IBM", "url": "{}",
                   "securityConfiguration": {{"type": "BASIC", "username": "a", "username": "b"}}}}"#,
                s.upstream_url
            ),
        ),
        (
            "POST",
            "/api/services".to_string(),
            &s.provider.token,
            format!(
                r#"{{"name": "s", "type": "EXTERNAL", "quantumBackend": "IBM", "url": "{}",
                   "apiSpecification": {{"openapi": "3.0.3", "paths": {{}}, "paths": {{"/x": {{}}}}}}}}"#,
                s.upstream_url
            ),
        ),
        ("PUT", format!("{service}/api-spec"), &s.provider.token, r#"{"openapi": "3.0.3", "openapi": "3.1.0", "paths": {}}"#.to_string()),
        ("PUT", format!("{service}/api-spec"), &s.provider.token, r#"{"openapi": "3.0.3", "paths": {"/a": {"get": {}, "get": {}}}}"#.to_string()),
        (
            "POST",
            format!("{service}/pricing-plans"),
            &s.provider.token,
            r#"{"name": "p", "type": "COMMERCIAL", "products": [{"name": "a", "unit": "u", "unitPrice": 1, "unitPrice": 2}]}"#.to_string(),
        ),
        (
            "POST",
            "/api/metering".to_string(),
            &s.provider.token,
            format!(r#"{{"correlationId": "{0}", "productId": "{1}", "count": 1, "count": 1000}}"#, s.correlation_id, s.plan.product_id),
        ),
        (
            "POST",
            "/api/metering/batch".to_string(),
            &s.provider.token,
            format!(r#"{{"events": [{{"correlationId": "{0}", "productId": "{1}", "count": 1}}], "events": []}}"#, s.correlation_id, s.plan.product_id),
        ),
    ];

    // Exec
    let statuses: Vec<(String, u16)> = duplicated
        .into_iter()
        .map(|(method, path, token, body)| {
            let reply = checker.send(
                &Req::new(method, path.clone())
                    .bearer(token)
                    .json(body.clone()),
            );
            (format!("{method} {path} {body}"), status(&reply))
        })
        .collect();
    let yaml = checker.send(
        &Req::new("PUT", format!("{service}/api-spec"))
            .bearer(&s.provider.token)
            .header("content-type", "application/yaml")
            .body("openapi: 3.0.3\nopenapi: 3.1.0\npaths: {}\n"),
    );

    // Check
    let accepted: Vec<_> = statuses
        .iter()
        .filter(|(_, status)| *status != 400)
        .collect();
    assert!(accepted.is_empty(), "{accepted:#?}");
    assert_eq!(status(&yaml), 400, "YAML refuses duplicate keys as well");
    checker.assert_clean("duplicate keys");
}

#[test]
fn crlf_in_anything_that_reaches_an_upstream_header_never_injects_one() {
    // Setup
    let (upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let injection = "a\r\nX-Injected: yes";
    let with_security = |username: &str, password: &str| {
        json!({
            "name": "crlf", "type": "EXTERNAL", "quantumBackend": "IBM", "url": s.upstream_url,
            "securityConfiguration": {"type": "BASIC", "username": username, "password": password},
        })
    };
    let bodies = [
        with_security(injection, "pw"),
        with_security("user", injection),
        with_security("user\nX-Injected: yes", "pw\rX-Injected: yes"),
        json!({"name": "crlf", "type": "EXTERNAL", "quantumBackend": "IBM", "url": format!("{}x\r\nX-Injected: yes", s.upstream_url)}),
        json!({"name": "crlf", "type": "EXTERNAL", "quantumBackend": "IBM", "url": format!("{}x%0d%0aX-Injected:%20yes", s.upstream_url)}),
        json!({"name": "crlf", "type": "EXTERNAL", "quantumBackend": "IBM", "url": format!("http://{}\r\nX-Injected: yes/", upstream.addr)}),
    ];

    // Exec: every service that is accepted is published, subscribed to and called.
    let application = create_application(&app, &s.consumer);
    let token = access_token(&app, &application);
    checker.resync();
    let mut called = 0;
    for body in bodies {
        let created = checker.send(
            &Req::new("POST", "/api/services")
                .bearer(&s.provider.token)
                .json(body.to_string()),
        );
        let Some(created) = created.filter(|r| r.status == 201) else {
            continue;
        };
        let service_id = created.json()["id"].as_str().expect("an id").to_string();
        let plan = create_plan(&app, &s.provider, &service_id, "0");
        lifecycle(&app, &s.provider, &service_id, "publish");
        subscribe(&app, &s.consumer, &application, &service_id, &plan.id);
        checker.resync();
        checker.send(
            &Req::new(
                "GET",
                format!("/gateway/{service_id}/call?x=%0d%0aX-Injected:%20yes"),
            )
            .bearer(&token),
        );
        called += 1;
    }
    // The consumer's own header values with a bare CR or an obs-fold line.
    // (A bare LF ends a header line for HTTP/1.1 parsers, RFC 9112 §2.2: it
    // makes two headers of the consumer's, forwarded like any other.)
    let addr = app.addr();
    for smuggled in [
        "x-a: 1\rX-Injected: yes\r\n",
        "x-a: 1\r\n X-Injected: yes\r\n",
        "x-a: 1\r\n\tX-Injected: yes\r\n",
    ] {
        let path = format!("/gateway/{}/consumer", s.service_id);
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n{smuggled}connection: close\r\n\r\n",
            s.oauth_token
        );
        checker.send_raw_malformed(&path, head.as_bytes());
    }

    // Check
    let injected: Vec<Seen> = upstream
        .seen()
        .into_iter()
        .filter(|seen| {
            seen.header_lines
                .iter()
                .any(|l| l.to_ascii_lowercase().starts_with("x-injected"))
        })
        .collect();
    assert!(injected.is_empty(), "{injected:#?}");
    assert!(
        called > 0,
        "the plain Basic credentials with CR/LF are either refused or encoded"
    );
    checker.assert_clean("CR/LF injection");
}

#[test]
fn gateway_path_tricks_never_leave_the_services_base_path() {
    // Setup
    let (upstream, app, s) = corpus();
    let mut checker = Checker::new(&app);
    let addr = app.addr();
    let svc = &s.service_id;
    let tricks = [
        "/../x",
        "/%2e%2e/x",
        "/%2E%2E/x",
        "/%2E%2E%2Fx",
        "/..%2fx",
        "/..%2f..%2fx",
        "/a/..%2F..%2Fx",
        "//x",
        "//../x",
        "/%2fx",
        "/%2f..%2fx",
        "/%252e%252e/x",
        "/..%252fx",
        "/%252e%252e%252fx",
        "/..\\x",
        "/..%5cx",
        "/..%5c..%5cx",
        "/a\\..\\..\\x",
        "/..;/x",
        "/.;/x",
        "/%2e%2e;/x",
        "/x;y=1/../../z",
        "/..;jsessionid=1/x",
        "/x/..",
        "/x/../..",
        "/.%2e/x",
        "/%2e./x",
        "/....//x",
        "/.../x",
        "/x?a=../../y",
        "/%00/../x",
        "/x%00/..%2f..",
    ];

    // Exec
    let mut forwarded = Vec::new();
    for trick in tricks {
        let path = format!("/gateway/{svc}{trick}");
        let before = upstream.seen().len();
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
            s.oauth_token
        );
        let reply = checker.send_raw(&path, head.as_bytes());
        if status(&reply) == 200 {
            let seen = upstream.seen();
            forwarded.extend(
                seen[before..]
                    .iter()
                    .map(|seen| (trick, seen.target.clone())),
            );
        }
    }

    // Check
    let escaped: Vec<_> = forwarded
        .iter()
        .filter(|(_, target)| !stays_under(target, BASE))
        .collect();
    assert!(
        escaped.is_empty(),
        "the upstream saw paths outside {BASE}: {escaped:#?}"
    );
    assert!(!forwarded.is_empty(), "harmless tricks are still forwarded");
    checker.assert_clean("gateway path tricks");
}
