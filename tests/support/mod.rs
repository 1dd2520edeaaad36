//! Shared set-up for the end-to-end tests: the platform started from the
//! repository's `spin.toml` on the embedded host, a small JSON client, and
//! the provider and consumer flows of the API contract as one-liners.
//!
//! Each test binary includes this with `mod support;` and uses what it needs.
//!
//! Every [`Call::send`] also runs the secret-leak scan of [`secrets`]: a
//! secret that shows up in a later response or in a host log line of a
//! platform started here fails the call that saw it.
#![allow(dead_code)]

pub mod cli;
pub mod managed;
pub mod secrets;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use qmarket_host::{LogSink, TestApp, TestAppOptions};
use secrets::{registry, Exemption, SecretKind};
use serde_json::{json, Value};

/// The repository's `spin.toml`.
pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spin.toml")
}

/// The platform on an ephemeral port with a fresh SQLite store.
pub fn platform() -> TestApp {
    platform_with(TestAppOptions::new(manifest()))
}

/// The platform started with `options`. Its secret variables (names ending
/// in `TOKEN`, `KEY`, `SECRET` or `PASSWORD`) join the secret registry, and
/// unless `options` names a log sink its log lines go to [`scanned_log`].
pub fn platform_with(mut options: TestAppOptions) -> TestApp {
    for (name, value) in &options.env {
        let name = name.to_ascii_uppercase();
        if ["TOKEN", "KEY", "SECRET", "PASSWORD"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
        {
            registry().register(
                value,
                SecretKind::Configured,
                format!("the variable {name}"),
            );
        }
    }
    options.log_sink.get_or_insert_with(scanned_log);
    TestApp::start(options)
        .expect("the platform starts (build the components first: scripts/build-wasm.sh)")
}

/// A log sink that keeps every host line for the secret scan of the next
/// [`Call::send`] and prints it to the test's stderr, which libtest shows
/// when the test fails (host threads inherit the test thread's capture).
pub fn scanned_log() -> LogSink {
    LogSink::new(|line| {
        registry().record_log_line(line);
        eprintln!("{line}");
    })
}

/// A response as the tests look at it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names in lower case with their values.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// An RFC 9457 problem's `detail` (empty when there is none).
    pub fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Panics with the body when the status is not `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Self {
        assert_eq!(
            self.status, expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Whether this is an RFC 9457 problem with status `status`.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Self {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{}",
            reply.text
        );
        assert_eq!(reply.json()["status"], status, "{}", reply.text);
        reply
    }
}

/// A request builder over one platform.
pub struct Call {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    exemption: Exemption,
    timeout: Option<Duration>,
}

impl Call {
    /// `method url`.
    pub fn new(method: &str, url: String) -> Self {
        Call {
            method: method.to_string(),
            url,
            headers: Vec::new(),
            body: None,
            exemption: Exemption::None,
            timeout: None,
        }
    }

    /// Gives up on the whole exchange after `limit` ([`Self::try_send`]
    /// reports it as an error): for tests that must tell a hang from an
    /// answer.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Lets this gateway call's relayed upstream answer contain the
    /// upstream's own credentials: for a test upstream that echoes the
    /// request it received, Basic credentials included
    /// ([`Exemption::UpstreamEcho`]). Nothing else is exempt.
    pub fn relaying_upstream_echo(mut self) -> Self {
        self.exemption = Exemption::UpstreamEcho;
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends `value` as a JSON body.
    pub fn json(mut self, value: &Value) -> Self {
        self.body = Some(value.to_string().into_bytes());
        self.header("content-type", "application/json")
    }

    /// Sends `bytes` as the body (set the content type yourself).
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }

    /// Sends the request and reads the whole response, then runs the secret
    /// scan ([`scan_exchange`]). Panics here when there is no complete
    /// answer or on a leak.
    #[track_caller]
    pub fn send(self) -> Reply {
        self.try_send()
            .unwrap_or_else(|e| panic!("the platform answers: {e}"))
    }

    /// Like [`Self::send`], but a transport failure (refused, reset, timed
    /// out, a body cut off) is an `Err` instead of a panic. A leak still
    /// panics.
    #[track_caller]
    pub fn try_send(self) -> Result<Reply, String> {
        let path = self
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
            .unwrap_or("/");
        let path = path.split('?').next().unwrap_or(path);
        let call = format!("{} {path}", self.method);
        assert!(
            self.exemption == Exemption::None || path.starts_with("/gateway/"),
            "the upstream-echo exemption is for gateway calls only, not {call}"
        );
        let request_body = self.body.clone();
        let exemption = self.exemption;
        let reply = self.exchange()?;
        scan_exchange(&call, request_body.as_deref(), &reply, exemption);
        Ok(reply)
    }

    fn exchange(self) -> Result<Reply, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .max_redirects(0)
            .timeout_global(self.timeout)
            .build()
            .into();
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(&self.url);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(self.body.unwrap_or_default())
            .map_err(|e| format!("the test built an invalid request: {e}"))?;
        let mut response = agent.run(request).map_err(|e| format!("no answer: {e}"))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| format!("the body did not arrive: {e}"))?;
        Ok(Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The secret-leak scan of one exchange, for every client of the tests:
/// learns the secrets `request_body` hands over, checks `reply` and the host
/// log lines logged since the last scan against every known secret, then
/// learns the secrets `reply` issues. `call` names the request
/// (`"METHOD /path"`). Panics at the caller on a leak.
#[track_caller]
pub fn scan_exchange(call: &str, request_body: Option<&[u8]>, reply: &Reply, exemption: Exemption) {
    let registry = registry();
    registry.learn_from_request(call, request_body);
    let mut leaks = registry.scan_reply(reply, &format!("response to {call}"), exemption);
    registry.learn_from_reply(call, reply);
    leaks.extend(registry.scan_log());
    secrets::fail_on(&leaks);
}

/// Requests against a running platform.
pub trait Api {
    /// `GET path`.
    fn get(&self, path: &str) -> Call;
    /// `POST path`.
    fn post(&self, path: &str) -> Call;
    /// `PUT path`.
    fn put(&self, path: &str) -> Call;
    /// `PATCH path`.
    fn patch(&self, path: &str) -> Call;
    /// `DELETE path`.
    fn delete(&self, path: &str) -> Call;
}

impl Api for TestApp {
    fn get(&self, path: &str) -> Call {
        Call::new("GET", self.url(path))
    }
    fn post(&self, path: &str) -> Call {
        Call::new("POST", self.url(path))
    }
    fn put(&self, path: &str) -> Call {
        Call::new("PUT", self.url(path))
    }
    fn patch(&self, path: &str) -> Call {
        Call::new("PATCH", self.url(path))
    }
    fn delete(&self, path: &str) -> Call {
        Call::new("DELETE", self.url(path))
    }
}

/// A signed-up account and its first access token (scope API).
#[derive(Debug, Clone)]
pub struct Account {
    /// `acc_…`
    pub id: String,
    /// The access token's value.
    pub token: String,
}

/// Signs up `name` (e-mail derived from the name) and returns the account.
pub fn sign_up(app: &TestApp, name: &str) -> Account {
    let unique = qmarket_core::id::new_uuid_v4().expect("random");
    let reply = app
        .post("/api/accounts")
        .json(&json!({"name": name, "email": format!("{name}-{unique}@example.org")}))
        .send()
        .expect(201);
    let body = reply.json();
    Account {
        id: body["id"].as_str().expect("account id").to_string(),
        token: body["accessToken"]["value"]
            .as_str()
            .expect("token value")
            .to_string(),
    }
}

/// Creates an external service at `url` for `provider`; returns its id.
pub fn create_external_service(app: &TestApp, provider: &Account, url: &str) -> String {
    let reply = app
        .post("/api/services")
        .bearer(&provider.token)
        .json(&json!({
            "name": "Quantum walk",
            "type": "EXTERNAL",
            "description": "Samples quantum walks",
            "quantumBackend": "SIMULATOR",
            "url": url,
        }))
        .send()
        .expect(201);
    reply.json()["id"].as_str().expect("service id").to_string()
}

/// A pricing plan with one product.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `plan_…`
    pub id: String,
    /// The product's `prod_…` id.
    pub product_id: String,
}

/// Creates a plan with the product `API` at `unit_price` per `call`.
pub fn create_plan(app: &TestApp, provider: &Account, service_id: &str, unit_price: &str) -> Plan {
    let reply = app
        .post(&format!("/api/services/{service_id}/pricing-plans"))
        .bearer(&provider.token)
        .json(&json!({
            "name": "Pay per use",
            "type": "COMMERCIAL",
            "products": [{"name": "API", "unitPrice": unit_price, "unit": "call"}],
        }))
        .send()
        .expect(201);
    let body = reply.json();
    Plan {
        id: body["id"].as_str().expect("plan id").to_string(),
        product_id: body["products"][0]["id"]
            .as_str()
            .expect("product id")
            .to_string(),
    }
}

/// `POST /api/services/{id}/{action}` (publish-internal, publish, unpublish).
pub fn lifecycle(app: &TestApp, provider: &Account, service_id: &str, action: &str) {
    app.post(&format!("/api/services/{service_id}/{action}"))
        .bearer(&provider.token)
        .send()
        .expect(200);
}

/// An application with its client credentials.
#[derive(Debug, Clone)]
pub struct Application {
    /// `app_…`
    pub id: String,
    /// OAuth2 client id.
    pub consumer_key: String,
    /// OAuth2 client secret.
    pub consumer_secret: String,
}

/// Creates an application for `owner`.
pub fn create_application(app: &TestApp, owner: &Account) -> Application {
    let reply = app
        .post("/api/applications")
        .bearer(&owner.token)
        .json(&json!({"name": "Lab notebook"}))
        .send()
        .expect(201);
    let body = reply.json();
    Application {
        id: body["id"].as_str().expect("application id").to_string(),
        consumer_key: body["consumerKey"].as_str().expect("key").to_string(),
        consumer_secret: body["consumerSecret"].as_str().expect("secret").to_string(),
    }
}

/// Subscribes `application` to `service_id` under `plan_id`; returns the
/// subscription's JSON.
pub fn subscribe(
    app: &TestApp,
    owner: &Account,
    application: &Application,
    service_id: &str,
    plan_id: &str,
) -> Value {
    app.post(&format!(
        "/api/applications/{}/subscriptions",
        application.id
    ))
    .bearer(&owner.token)
    .json(&json!({"serviceId": service_id, "pricingPlanId": plan_id}))
    .send()
    .expect(201)
    .json()
}

/// An OAuth2 access token for `application` (client-credentials grant).
pub fn access_token(app: &TestApp, application: &Application) -> String {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        application.consumer_key, application.consumer_secret
    ));
    let reply = app
        .post("/oauth/token")
        .header("authorization", &format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .expect(200);
    reply.json()["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// The platform's SQLite key-value store (`spin_key_value` table), opened
/// beside the running host to inspect or seed what components see.
pub fn sqlite_store(app: &TestApp) -> rusqlite::Connection {
    sqlite_store_at(&app.state_dir().join("sqlite_key_value.db"))
}

/// The SQLite key-value store file at `db`, opened with a busy timeout.
pub fn sqlite_store_at(db: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("the platform's store opens");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("a busy timeout");
    conn
}

/// A provider's service on a free loopback port that takes `calls` gateway
/// calls one after the other: it reads each request, answers `200` with the
/// JSON that `answer` returns for the call's `x-correlation-id`, and sends
/// that id to the returned receiver. Returns the service's base URL
/// (`http://127.0.0.1:<port>`).
pub fn start_service(
    calls: usize,
    answer: impl Fn(&str) -> String + Send + 'static,
) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("the service listens");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let (seen, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(calls) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
            let (mut correlation, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "x-correlation-id" => correlation = value.trim().to_string(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let _ = reader.read_exact(&mut vec![0; length]);
            let body = answer(&correlation);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = seen.send(correlation);
        }
    });
    (url, receiver)
}

/// Sends a chunked POST over a plain socket and returns the response text.
pub fn raw_chunked_post(addr: SocketAddr, path: &str, token: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(500) {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = stream.write_all(chunk);
        let _ = stream.write_all(b"\r\n");
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// A POST that announces `declared` bytes and writes them until the
/// connection breaks, while reading the answer: the response text and the
/// bytes written.
pub fn post_that_keeps_writing(
    addr: SocketAddr,
    path: &str,
    token: &str,
    declared: u64,
) -> (String, u64) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
    );
    let mut writer = stream.try_clone().unwrap();
    let writing = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        let mut written = 0u64;
        if writer.write_all(head.as_bytes()).is_err() {
            return written;
        }
        while written < declared && writer.write_all(&chunk).is_ok() {
            written += chunk.len() as u64;
        }
        written
    });
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let written = writing.join().unwrap();
    (String::from_utf8_lossy(&response).into_owned(), written)
}
