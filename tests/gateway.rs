//! The gateway through the host, against a real upstream: a small HTTP/1.1
//! server on a loopback port that records exactly what it receives and, while
//! each call is open, can meter it with its correlation id.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};
use support::*;

// ---------------------------------------------------------------- upstream

/// One request as the upstream received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The status of the metering call made while the call was open.
    metering_status: Option<u16>,
    /// The metering receipt of that call.
    metering_receipt: Option<Value>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Makes the upstream report one unit of `product_id` for each call.
#[derive(Clone)]
struct Meter {
    platform: String,
    token: String,
    product_id: String,
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    meter: Arc<Mutex<Option<Meter>>>,
}

/// The test upstream. Paths choose its behaviour: `/slow…` answers after
/// 3 s, `/garbage…` answers with bytes that are not HTTP, `/reset-in-head…`
/// and `/reset-in-body…` reset the connection part-way through their answer,
/// `/silent…` never answers; everything else gets `201` with a few headers
/// (hop-by-hop ones among them) and the body `upstream saw: <request body>`.
struct Upstream {
    addr: SocketAddr,
    shared: Shared,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
        let addr = listener.local_addr().unwrap();
        let shared = Shared::default();
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Upstream { addr, shared }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn meter_with(&self, meter: Meter) {
        *self.shared.meter.lock().unwrap() = Some(meter);
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.seen()
            .last()
            .cloned()
            .expect("the upstream received a call")
    }
}

/// The request line and headers of one upstream call.
struct RequestHead {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

fn read_head(reader: &mut impl BufRead) -> Option<RequestHead> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Some(RequestHead {
        method,
        target,
        headers,
    })
}

fn read_body(reader: &mut BufReader<TcpStream>, headers: &[(String, String)]) -> Vec<u8> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body).expect("the announced body");
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    body
}

/// The request head, read without consuming it from the socket.
fn peek_head(stream: &TcpStream) -> Option<RequestHead> {
    let mut buf = vec![0; 64 * 1024];
    for _ in 0..1000 {
        let n = stream.peek(&mut buf).ok()?;
        if let Some(end) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            return read_head(&mut &buf[..end + 4]);
        }
        if n == 0 {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// Misbehaves as `target` asks, on a connection whose request was never
/// read: closing a socket with unread data resets the connection (RST)
/// instead of ending it.
fn misbehave(mut stream: TcpStream, target: &str) {
    if target.contains("/silent") {
        // Accepted, never answered; the gateway gives up long before this.
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    if target.contains("/reset-in-head") {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/pl");
    } else {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\
              content-length: 100000\r\n\r\n",
        );
        let _ = stream.write_all(&[b'q'; 1000]);
    }
    let _ = stream.flush();
    // Long enough for the host to read what was sent before the reset.
    std::thread::sleep(Duration::from_millis(200));
    drop(stream);
}

fn serve(stream: TcpStream, shared: &Shared) {
    if let Some(head) = peek_head(&stream).filter(|h| {
        ["/reset-in-head", "/reset-in-body", "/silent"]
            .iter()
            .any(|fault| h.target.contains(fault))
    }) {
        shared.seen.lock().unwrap().push(Seen {
            method: head.method,
            target: head.target.clone(),
            headers: head.headers,
            body: Vec::new(),
            metering_status: None,
            metering_receipt: None,
        });
        return misbehave(stream, &head.target);
    }
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let Some(RequestHead {
        method,
        target,
        headers,
    }) = read_head(&mut reader)
    else {
        return;
    };
    let body = read_body(&mut reader, &headers);
    let correlation = headers
        .iter()
        .find(|(n, _)| n == "x-correlation-id")
        .map(|(_, v)| v.clone());
    let meter = shared.meter.lock().unwrap().clone();
    let metered = match (&meter, &correlation) {
        (Some(meter), Some(id)) => Some(
            Call::new("POST", format!("{}/api/metering", meter.platform))
                .header("x-auth-token", &meter.token)
                .json(&json!({"correlationId": id, "productId": meter.product_id, "count": 1}))
                .send(),
        ),
        _ => None,
    };
    shared.seen.lock().unwrap().push(Seen {
        method,
        target: target.clone(),
        headers,
        body: body.clone(),
        metering_status: metered.as_ref().map(|reply| reply.status),
        metering_receipt: metered.map(|reply| reply.json()),
    });

    if target.contains("/slow") {
        std::thread::sleep(Duration::from_secs(3));
    }
    if target.contains("/garbage") {
        let _ = writer.write_all(b"this is not HTTP at all\r\n\r\n");
        let _ = writer.shutdown(Shutdown::Both);
        return;
    }
    let mut answer = b"upstream saw: ".to_vec();
    answer.extend_from_slice(&body);
    let head = format!(
        "HTTP/1.1 201 Created\r\n\
         content-type: application/x-test\r\n\
         x-upstream: yes\r\n\
         x-hop: secret\r\n\
         keep-alive: timeout=5\r\n\
         connection: close, x-hop\r\n\
         x-correlation-id: upstream-own\r\n\
         content-length: {}\r\n\r\n",
        answer.len()
    );
    let _ = writer.write_all(head.as_bytes());
    let _ = writer.write_all(&answer);
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------- set-up

/// A provider's published service at `url`, and a consumer subscribed to it
/// with a token for its application.
struct Scene {
    provider: Account,
    consumer: Account,
    service_id: String,
    plan: Plan,
    application: Application,
    subscription_id: String,
    token: String,
}

fn create_service(app: &TestApp, provider: &Account, body: Value) -> String {
    app.post("/api/services")
        .bearer(&provider.token)
        .json(&body)
        .send()
        .expect(201)
        .json()["id"]
        .as_str()
        .expect("service id")
        .to_string()
}

fn scene_with(app: &TestApp, service: Value) -> Scene {
    let provider = sign_up(app, "provider");
    let consumer = sign_up(app, "consumer");
    let service_id = create_service(app, &provider, service);
    let plan = create_plan(app, &provider, &service_id, "0.01");
    lifecycle(app, &provider, &service_id, "publish");
    let application = create_application(app, &consumer);
    let subscription = subscribe(app, &consumer, &application, &service_id, &plan.id);
    let token = access_token(app, &application);
    Scene {
        provider,
        consumer,
        service_id,
        plan,
        application,
        subscription_id: subscription["id"].as_str().expect("id").to_string(),
        token,
    }
}

fn external(url: &str) -> Value {
    json!({
        "name": "Quantum walk",
        "type": "EXTERNAL",
        "description": "Samples quantum walks",
        "quantumBackend": "SIMULATOR",
        "url": url,
    })
}

fn scene(app: &TestApp, url: &str) -> Scene {
    scene_with(app, external(url))
}

/// A fresh upstream, the platform with `variables` set (as
/// `SPIN_VARIABLE_{name}`), and a scene whose service calls that upstream.
fn scene_with_variables(variables: &[(&str, &str)]) -> (Upstream, TestApp, Scene) {
    let upstream = Upstream::start();
    let mut options = TestAppOptions::new(manifest());
    options.env = variables
        .iter()
        .map(|(name, value)| (format!("SPIN_VARIABLE_{name}"), value.to_string()))
        .collect();
    let app = platform_with(options);
    let s = scene(&app, &upstream.url("/"));
    (upstream, app, s)
}

fn gateway_path(scene: &Scene, rest: &str) -> String {
    format!("/gateway/{}{rest}", scene.service_id)
}

/// A gateway correlation id: 72 URL-safe characters (a sealed token).
fn is_correlation_id(id: &str) -> bool {
    id.len() == 72
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Makes `upstream` meter every call while it is open, as `s`'s provider.
fn meter_calls(upstream: &Upstream, app: &TestApp, s: &Scene) {
    upstream.meter_with(Meter {
        platform: app.base_url().to_string(),
        token: s.provider.token.clone(),
        product_id: s.plan.product_id.clone(),
    });
}

#[track_caller]
fn assert_problem_with_correlation(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(body["status"], status);
    let id = body["correlationId"]
        .as_str()
        .expect("correlationId")
        .to_string();
    assert!(is_correlation_id(&id), "{id}");
    assert_eq!(reply.header("x-correlation-id"), Some(id.as_str()));
    id
}

// ---------------------------------------------------------------- forwarding

#[test]
fn a_call_is_forwarded_faithfully_and_its_answer_returned_as_it_is() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/base"));
    meter_calls(&upstream, &app, &s);
    let body = "{\"x\":1}\u{0}\r\n ä✓".as_bytes().to_vec();

    let reply = app
        .post(&gateway_path(&s, "/runs/7%2Fb?shots=100&q=a%20b&q=c"))
        .bearer(&s.token)
        .header("content-type", "application/octet-stream")
        .header("x-custom", "kept")
        .header("connection", "x-consumer-hop")
        .header("x-consumer-hop", "for the gateway's connection only")
        .header("x-correlation-id", "forged-by-the-consumer")
        .header("x-forwarded-for", "198.51.100.1")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "gopher")
        .header("proxy-authorization", "Basic eA==")
        .header("x-auth-token", "a personal access token sent by mistake")
        .body(body.clone())
        .send();

    let seen = upstream.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/base/runs/7%2Fb?shots=100&q=a%20b&q=c");
    assert_eq!(seen.body, body);
    assert_eq!(
        seen.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        seen.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(seen.header("x-custom"), Some("kept"));
    assert_eq!(
        seen.header("authorization"),
        None,
        "the consumer's token stays here"
    );
    assert_eq!(seen.header("proxy-authorization"), None);
    assert_eq!(
        seen.header("x-auth-token"),
        None,
        "no platform credential leaves the gateway"
    );
    // Spin hides `Connection` from components (a forbidden header of
    // wasi:http), so the gateway cannot know what it named: such a header
    // travels on like any other.
    assert_eq!(
        seen.header("x-consumer-hop"),
        Some("for the gateway's connection only")
    );
    assert_eq!(
        seen.header("host"),
        Some(upstream.addr.to_string().as_str())
    );
    assert!(
        seen.headers.iter().all(|(n, _)| !n.starts_with("spin-")),
        "{:?}",
        seen.headers
    );
    assert_eq!(
        seen.headers_named("x-forwarded-for"),
        vec!["198.51.100.1, 127.0.0.1"]
    );
    assert_eq!(seen.headers_named("x-forwarded-proto"), vec!["http"]);
    let platform_host = app.base_url().trim_start_matches("http://");
    assert_eq!(seen.headers_named("x-forwarded-host"), vec![platform_host]);
    let correlation_id = seen
        .header("x-correlation-id")
        .expect("a correlation id")
        .to_string();
    assert_eq!(seen.headers_named("x-correlation-id").len(), 1);
    assert!(is_correlation_id(&correlation_id), "{correlation_id}");

    assert_eq!(reply.status, 201, "{}", reply.text);
    let mut expected = b"upstream saw: ".to_vec();
    expected.extend_from_slice(&body);
    assert_eq!(
        reply.text.as_bytes(),
        String::from_utf8_lossy(&expected).as_bytes()
    );
    assert_eq!(reply.header("content-type"), Some("application/x-test"));
    assert_eq!(reply.header("x-upstream"), Some("yes"));
    assert_eq!(reply.header("keep-alive"), None);
    assert_eq!(
        reply.header("x-correlation-id"),
        Some(correlation_id.as_str())
    );
    let echoed: Vec<_> = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "x-correlation-id")
        .collect();
    assert_eq!(echoed.len(), 1, "the upstream's own id is replaced");

    // The call was metered while it was open, and attributed to the
    // consumer's subscription of this service.
    assert_eq!(seen.metering_status, Some(200));
    let receipt = seen.metering_receipt.expect("a receipt");
    assert_eq!(receipt["correlationId"], correlation_id.as_str());
    assert_eq!(receipt["testMode"], false);
    let events = app
        .get(&format!("/api/services/{}/metering-events", s.service_id))
        .bearer(&s.provider.token)
        .send()
        .expect(200)
        .json();
    let event = &events["items"][0];
    assert_eq!(event["correlationId"], correlation_id.as_str());
    assert_eq!(event["applicationId"], s.application.id.as_str());
    assert!(event["subscriptionId"]
        .as_str()
        .is_some_and(|id| id.starts_with("sub_")));
    assert_eq!(event["unitPrice"], "0.01");
}

#[test]
fn every_method_and_the_bare_base_url_are_forwarded() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/base"));

    app.get(&gateway_path(&s, ""))
        .bearer(&s.token)
        .send()
        .expect(201);
    assert_eq!(
        (
            upstream.last().method.as_str(),
            upstream.last().target.as_str()
        ),
        ("GET", "/base")
    );
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    app.put(&gateway_path(&s, "/"))
        .bearer(&s.token)
        .body(binary.clone())
        .send()
        .expect(201);
    assert_eq!(
        (
            upstream.last().method.as_str(),
            upstream.last().target.as_str()
        ),
        ("PUT", "/base/")
    );
    assert_eq!(upstream.last().body, binary);
    app.delete(&gateway_path(&s, "/x?y"))
        .bearer(&s.token)
        .send()
        .expect(201);
    assert_eq!(
        (
            upstream.last().method.as_str(),
            upstream.last().target.as_str()
        ),
        ("DELETE", "/base/x?y")
    );
    app.patch(&gateway_path(&s, "/a/b/"))
        .bearer(&s.token)
        .body("{}")
        .send()
        .expect(201);
    assert_eq!(
        (
            upstream.last().method.as_str(),
            upstream.last().target.as_str()
        ),
        ("PATCH", "/base/a/b/")
    );
    Call::new("OPTIONS", app.url(&gateway_path(&s, "/o")))
        .bearer(&s.token)
        .send()
        .expect(201);
    assert_eq!(upstream.last().method, "OPTIONS");
}

#[test]
fn correlation_ids_are_unique_across_a_thousand_calls_and_meterable_before_each_leaves() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    meter_calls(&upstream, &app, &s);
    let path = gateway_path(&s, "/count");

    let echoed: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    (0..250)
                        .map(|_| {
                            let reply = app.get(&path).bearer(&s.token).send().expect(201);
                            reply
                                .header("x-correlation-id")
                                .expect("echoed")
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1000);
    let sent: HashSet<&str> = seen
        .iter()
        .filter_map(|s| s.header("x-correlation-id"))
        .collect();
    let echoed: HashSet<&str> = echoed.iter().map(String::as_str).collect();
    assert_eq!(sent.len(), 1000, "unique upstream");
    assert_eq!(
        echoed, sent,
        "each call echoes the id its upstream request carried"
    );
    for call in &seen {
        assert!(is_correlation_id(call.header("x-correlation-id").unwrap()));
        assert_eq!(call.metering_status, Some(200), "metered while open");
        let receipt = call.metering_receipt.as_ref().expect("a receipt");
        assert_eq!(
            receipt["correlationId"].as_str(),
            call.header("x-correlation-id")
        );
    }
    let bill = app
        .get(&format!("/api/subscriptions/{}/usage", s.subscription_id))
        .bearer(&s.consumer.token)
        .send()
        .expect(200)
        .json();
    assert_eq!(bill["lines"][0]["quantity"], "1000");
}

#[test]
fn the_service_can_meter_while_the_call_is_still_open() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    meter_calls(&upstream, &app, &s);

    app.post(&gateway_path(&s, "/run"))
        .bearer(&s.token)
        .body("{}")
        .send()
        .expect(201);

    assert_eq!(upstream.last().metering_status, Some(200));
}

#[test]
fn a_basic_secured_service_receives_its_credentials() {
    let upstream = Upstream::start();
    let app = platform();
    let mut service = external(&upstream.url("/secure"));
    service["securityConfiguration"] =
        json!({"type": "BASIC", "username": "qpu", "password": "hunter2"});
    let s = scene_with(&app, service);

    app.get(&gateway_path(&s, "/x"))
        .bearer(&s.token)
        .send()
        .expect(201);

    // base64("qpu:hunter2")
    assert_eq!(
        upstream.last().headers_named("authorization"),
        vec!["Basic cXB1Omh1bnRlcjI="]
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn an_application_without_a_subscription_is_forbidden() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    let other = create_application(&app, &s.consumer);
    let token = access_token(&app, &other);

    app.get(&gateway_path(&s, "/x"))
        .bearer(&token)
        .send()
        .expect_problem(403);

    assert!(upstream.seen().is_empty());
}

#[test]
fn an_ended_subscription_no_longer_admits_calls() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    let subs = app
        .get(&format!(
            "/api/applications/{}/subscriptions",
            s.application.id
        ))
        .bearer(&s.consumer.token)
        .send()
        .expect(200)
        .json();
    let sub_id = subs["items"][0]["id"]
        .as_str()
        .expect("subscription")
        .to_string();
    app.delete(&format!("/api/subscriptions/{sub_id}"))
        .bearer(&s.consumer.token)
        .send()
        .expect(204);

    app.get(&gateway_path(&s, "/x"))
        .bearer(&s.token)
        .send()
        .expect_problem(403);
}

#[test]
fn unknown_and_unpublished_services_are_not_found() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    let unpublished = create_service(&app, &s.provider, external(&upstream.url("/")));

    for path in [
        "/gateway/svc_zzzzzzzzzzzzzzzzzzzzzzzzzz/x".to_string(),
        "/gateway/not-an-id".to_string(),
        format!("/gateway/{unpublished}/x"),
    ] {
        app.get(&path).bearer(&s.token).send().expect_problem(404);
    }
    assert!(upstream.seen().is_empty());
}

#[test]
fn bad_tokens_and_deleted_applications_are_unauthenticated() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));
    let path = gateway_path(&s, "/x");

    let reply = app.get(&path).send().expect_problem(401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    app.get(&path)
        .bearer("not-a-token")
        .send()
        .expect_problem(401);
    app.get(&path).bearer(&s.token).send().expect(201);

    app.delete(&format!("/api/applications/{}", s.application.id))
        .bearer(&s.consumer.token)
        .send()
        .expect(204);
    app.get(&path).bearer(&s.token).send().expect_problem(401);
    assert_eq!(upstream.seen().len(), 1);
}

// ---------------------------------------------------------------- failures

#[test]
fn an_upstream_that_refuses_connections_is_a_bad_gateway() {
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = platform();
    let s = scene(&app, &format!("http://{closed_port}/"));

    let reply = app.get(&gateway_path(&s, "/x")).bearer(&s.token).send();

    assert_problem_with_correlation(&reply, 502);
}

#[test]
fn an_upstream_that_answers_garbage_is_a_bad_gateway() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));

    let reply = app
        .get(&gateway_path(&s, "/garbage"))
        .bearer(&s.token)
        .send();

    let id = assert_problem_with_correlation(&reply, 502);
    assert_eq!(
        upstream.last().header("x-correlation-id"),
        Some(id.as_str())
    );
}

#[test]
fn an_upstream_slower_than_the_timeout_is_a_gateway_timeout_in_time() {
    let (_upstream, app, s) = scene_with_variables(&[("GATEWAY_TIMEOUT_MS", "500")]);

    let started = Instant::now();
    let reply = app.get(&gateway_path(&s, "/slow")).bearer(&s.token).send();
    let waited = started.elapsed();

    assert_problem_with_correlation(&reply, 504);
    assert!(waited >= Duration::from_millis(450), "{waited:?}");
    assert!(
        waited < Duration::from_millis(2500),
        "waited {waited:?} for a 500 ms timeout"
    );
}

/// `GET path` with `token`, failing the test when the answer does not come
/// within 10 s; also whether its body arrived complete.
fn get_within_bound(app: &TestApp, path: &str, token: &str) -> (Reply, bool) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent
        .get(app.url(path))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("no answer head within 10 s: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string();
    let complete = body.is_ok();
    let reply = Reply {
        status,
        headers,
        text: body.unwrap_or_default(),
    };
    (reply, complete)
}

/// A plain call through the gateway still works (the host survived the fault).
fn still_serves(app: &TestApp, s: &Scene) {
    app.get("/api/health").send().expect(200);
    app.get(&gateway_path(s, "/after"))
        .bearer(&s.token)
        .send()
        .expect(201);
}

#[test]
fn an_upstream_that_resets_the_connection_mid_headers_is_a_bad_gateway() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));

    let (reply, _) = get_within_bound(&app, &gateway_path(&s, "/reset-in-head"), &s.token);

    let id = assert_problem_with_correlation(&reply, 502);
    assert_eq!(
        upstream.last().header("x-correlation-id"),
        Some(id.as_str())
    );
    still_serves(&app, &s);
}

#[test]
fn an_upstream_that_resets_the_connection_mid_body_cuts_the_answer_off_instead_of_completing_it() {
    let upstream = Upstream::start();
    let app = platform();
    let s = scene(&app, &upstream.url("/"));

    let (reply, complete) = get_within_bound(&app, &gateway_path(&s, "/reset-in-body"), &s.token);

    // The head was relayed before the reset; the status can no longer change,
    // so the consumer must see a broken body rather than a short success.
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("x-correlation-id"),
        upstream.last().header("x-correlation-id")
    );
    assert!(
        !complete,
        "a body cut off upstream reads as complete ({} bytes)",
        reply.text.len()
    );
    still_serves(&app, &s);
}

#[test]
fn an_upstream_that_accepts_and_never_answers_is_a_gateway_timeout() {
    let (upstream, app, s) = scene_with_variables(&[("GATEWAY_TIMEOUT_MS", "500")]);

    let (reply, _) = get_within_bound(&app, &gateway_path(&s, "/silent"), &s.token);

    let id = assert_problem_with_correlation(&reply, 504);
    assert_eq!(
        upstream.last().header("x-correlation-id"),
        Some(id.as_str())
    );
    still_serves(&app, &s);
}

#[test]
fn a_body_over_the_limit_is_refused_and_never_forwarded() {
    let (upstream, app, s) = scene_with_variables(&[("GATEWAY_MAX_BODY_BYTES", "1024")]);
    let path = gateway_path(&s, "/upload");

    // Declared too large.
    let reply = app
        .post(&path)
        .bearer(&s.token)
        .body(vec![b'x'; 1025])
        .send();
    assert_problem_with_correlation(&reply, 413);

    // Chunked: no length announced, the bytes themselves are counted.
    let raw = raw_chunked_post(app.addr(), &path, &s.token, &vec![b'y'; 4000]);
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("correlationId"), "{raw}");

    // At the limit it goes through.
    app.post(&path)
        .bearer(&s.token)
        .body(vec![b'z'; 1024])
        .send()
        .expect(201);
    assert_eq!(upstream.seen().len(), 1);
    assert_eq!(upstream.last().body.len(), 1024);
}

#[test]
fn a_client_still_sending_after_its_413_is_read_on_for_64_mib_then_cut_off() {
    // Setup: a 1 KiB limit, and a client announcing 1 GiB that writes
    // until the connection breaks while it reads the answer.
    let (upstream, app, s) = scene_with_variables(&[("GATEWAY_MAX_BODY_BYTES", "1024")]);
    let started = Instant::now();

    // Exec
    let (response, written) =
        post_that_keeps_writing(app.addr(), &gateway_path(&s, "/upload"), &s.token, 1 << 30);

    // Check: the answer came, the host read on past it, and stopped near
    // its 64 MiB bound (plus what socket buffers hold), in time.
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    let mib = written >> 20;
    assert!(
        (64..=80).contains(&mib),
        "{mib} MiB written before the cut-off"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(upstream.seen().is_empty());
}

#[test]
fn a_narrowed_outbound_policy_turns_other_hosts_away() {
    let (upstream, app, s) = scene_with_variables(&[
        ("GATEWAY_OUTBOUND_HTTP", "https://only.example.com"),
        ("GATEWAY_OUTBOUND_HTTPS", "https://only.example.com"),
    ]);

    let reply = app.get(&gateway_path(&s, "/x")).bearer(&s.token).send();

    assert_problem_with_correlation(&reply, 502);
    assert!(upstream.seen().is_empty());
}
