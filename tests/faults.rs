//! Faults and durability end to end: the real `qmarket` binary killed with
//! SIGKILL in the middle of a metering load and started again on the same
//! state directory, and the Redis store killed and restarted under load
//! while the host keeps running.
//!
//! Both tests hold the platform to what the metering crate documents: every
//! report answered 200 — during the load or on a retry — is listed, once; a
//! report acknowledged during the load is billed; a retry with the same
//! `eventId` never counts twice. The only loss allowed is the documented
//! at-most-once window of the usage count, which can only hit reports whose
//! first outcome the client never saw.

mod host_support;
mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};
use support::*;

/// The longest any request may take before the test calls it a hang.
const REQUEST_BOUND: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------- HTTP

/// `method url` with the test's bound on every exchange: a request still
/// open after [`REQUEST_BOUND`] is a hang, reported by `try_send`.
fn call(method: &str, url: String) -> Call {
    Call::new(method, url).timeout(REQUEST_BOUND)
}

/// Whether `reply` is the documented "store unavailable" answer.
fn is_unavailable_problem(reply: &Reply) -> bool {
    reply.status == 503
        && reply.header("content-type") == Some("application/problem+json")
        && reply.json()["status"] == 503
}

// ---------------------------------------------------------------- scene

/// A provider's published service, a consumer's subscription to it and a
/// few gateway correlations to meter against.
#[derive(Clone)]
struct Scene {
    provider: Account,
    consumer: Account,
    service_id: String,
    product_id: String,
    subscription_id: String,
    consumer_token: String,
    correlations: Vec<String>,
}

impl Scene {
    /// Sets everything up through the API; the service lives at `upstream`.
    fn create(app: &TestApp, upstream: &str) -> Scene {
        let provider = sign_up(app, "provider");
        let consumer = sign_up(app, "consumer");
        let service_id = create_external_service(app, &provider, upstream);
        let plan = create_plan(app, &provider, &service_id, "0.00001");
        lifecycle(app, &provider, &service_id, "publish");
        let application = create_application(app, &consumer);
        let subscription = subscribe(app, &consumer, &application, &service_id, &plan.id);
        let consumer_token = access_token(app, &application);
        let correlations = (0..4)
            .map(|_| {
                app.get(&format!("/gateway/{service_id}/run"))
                    .bearer(&consumer_token)
                    .send()
                    .expect(200)
                    .header("x-correlation-id")
                    .expect("the gateway's correlation id")
                    .to_string()
            })
            .collect();
        Scene {
            provider,
            consumer,
            service_id,
            product_id: plan.product_id,
            subscription_id: subscription["id"].as_str().expect("sub id").to_string(),
            consumer_token,
            correlations,
        }
    }

    /// A usage report of one unit under `event_id`.
    fn report(&self, event_id: &str, n: usize) -> Value {
        json!({
            "correlationId": self.correlations[n % self.correlations.len()],
            "productId": self.product_id,
            "count": 1,
            "eventId": event_id,
        })
    }

    /// Reports `event_id` once more on `base`; the event id it was recorded as.
    fn report_again(&self, base: &str, event_id: &str) -> String {
        let reply = call("POST", format!("{base}/api/metering"))
            .header("x-auth-token", &self.provider.token)
            .json(&self.report(event_id, 0))
            .try_send()
            .unwrap_or_else(|e| panic!("reporting {event_id} again: {e}"))
            .expect(200);
        reply.json()["id"].as_str().expect("evt id").to_string()
    }

    /// The units billed to the subscription this month.
    fn billed_units(&self, base: &str) -> u64 {
        let bill = Call::new(
            "GET",
            format!("{base}/api/subscriptions/{}/usage", self.subscription_id),
        )
        .bearer(&self.consumer.token)
        .send()
        .expect(200)
        .json();
        match bill["lines"].as_array().map(Vec::as_slice) {
            Some([]) => 0,
            Some([line]) => line["quantity"]
                .as_str()
                .and_then(|q| q.parse().ok())
                .unwrap_or_else(|| panic!("a whole number of calls: {bill}")),
            _ => panic!("one product billed: {bill}"),
        }
    }

    /// Every event in the provider's listing, failing on an event listed twice.
    fn listed_events(&self, base: &str) -> HashSet<String> {
        let mut listed = HashSet::new();
        let mut cursor = String::new();
        loop {
            let page = Call::new(
                "GET",
                format!(
                    "{base}/api/services/{}/metering-events?limit=500{cursor}",
                    self.service_id
                ),
            )
            .bearer(&self.provider.token)
            .send()
            .expect(200)
            .json();
            for item in page["items"].as_array().expect("items") {
                let id = item["id"].as_str().expect("id").to_string();
                assert!(listed.insert(id.clone()), "{id} is listed twice");
            }
            match page["nextCursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return listed,
            }
        }
    }
}

// ---------------------------------------------------------------- load

// The phases of a run, as the load clients see them.
/// Before the fault.
const BEFORE: u8 = 0;
/// The fault is in effect (host killed, Redis down).
const FAULT: u8 = 1;
/// The fault is being repaired (a request may see either side).
const REPAIRING: u8 = 2;
/// The fault is repaired.
const AFTER: u8 = 3;

/// One answer a load client got.
#[derive(Debug, Clone)]
struct Seen {
    /// The phase when the request left and when its answer was read.
    phases: (u8, u8),
    /// The status, or `None` for a transport failure.
    status: Option<u16>,
    /// Whether a 503 was the documented problem+json.
    unavailable_problem: bool,
    /// When the answer (or failure) came, since the load started.
    at: Duration,
    /// How long the request took.
    took: Duration,
}

/// What one metering client saw.
#[derive(Debug, Default)]
struct Outcomes {
    /// `(eventId, evt id)` of every report answered with 200.
    acknowledged: Vec<(String, String)>,
    /// Reports whose outcome the client did not see acknowledged.
    unacknowledged: Vec<String>,
    /// Every answer in order.
    seen: Vec<Seen>,
    /// The first transport failure, which ends the client.
    failure: Option<String>,
}

/// What a load client sends.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// Usage reports with fresh event ids.
    Metering,
    /// Calls through the gateway.
    Gateway,
    /// Reads of the consumer's bill.
    Bill,
}

/// Clients sending requests until told to stop or until their first
/// transport failure.
struct Load {
    phase: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    started: Instant,
    clients: Vec<std::thread::JoinHandle<Outcomes>>,
}

impl Load {
    fn start(base: &str, scene: &Scene, work: &[Work]) -> Load {
        let run = qmarket_core::id::new_uuid_v4().expect("uuid");
        let mut load = Load {
            phase: Arc::new(AtomicU8::new(BEFORE)),
            stop: Arc::new(AtomicBool::new(false)),
            acknowledged: Arc::new(AtomicUsize::new(0)),
            started: Instant::now(),
            clients: Vec::new(),
        };
        for (c, &work) in work.iter().enumerate() {
            let (scene, run) = (scene.clone(), run.clone());
            let (base, phase, stop, acknowledged, started) = (
                base.to_string(),
                load.phase.clone(),
                load.stop.clone(),
                load.acknowledged.clone(),
                load.started,
            );
            load.clients.push(std::thread::spawn(move || {
                let mut out = Outcomes::default();
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let event_id = format!("{run}-{c}-{i}");
                    let before = phase.load(Ordering::SeqCst);
                    let sent = Instant::now();
                    let result = match work {
                        Work::Metering => call("POST", format!("{base}/api/metering"))
                            .header("x-auth-token", &scene.provider.token)
                            .json(&scene.report(&event_id, c)),
                        Work::Gateway => {
                            call("GET", format!("{base}/gateway/{}/run", scene.service_id))
                                .bearer(&scene.consumer_token)
                        }
                        Work::Bill => call(
                            "GET",
                            format!("{base}/api/subscriptions/{}/usage", scene.subscription_id),
                        )
                        .bearer(&scene.consumer.token),
                    }
                    .try_send();
                    let phases = (before, phase.load(Ordering::SeqCst));
                    let at = started.elapsed();
                    let took = sent.elapsed();
                    match result {
                        Ok(reply) => {
                            let evt = (reply.status == 200)
                                .then(|| reply.json()["id"].as_str().map(str::to_string))
                                .flatten();
                            if let Work::Metering = work {
                                match evt {
                                    Some(evt) => {
                                        out.acknowledged.push((event_id, evt));
                                        acknowledged.fetch_add(1, Ordering::SeqCst);
                                    }
                                    None => out.unacknowledged.push(event_id),
                                }
                            }
                            out.seen.push(Seen {
                                phases,
                                status: Some(reply.status),
                                unavailable_problem: is_unavailable_problem(&reply),
                                at,
                                took,
                            });
                            if reply.status == 503 {
                                // A client backs off before it tries again.
                                std::thread::sleep(Duration::from_millis(20));
                            }
                        }
                        Err(e) => {
                            if let Work::Metering = work {
                                out.unacknowledged.push(event_id);
                            }
                            out.seen.push(Seen {
                                phases,
                                status: None,
                                unavailable_problem: false,
                                at,
                                took,
                            });
                            out.failure = Some(e);
                            break;
                        }
                    }
                }
                out
            }));
        }
        load
    }

    /// Waits until `n` reports were acknowledged (or `limit` passed).
    fn wait_for_acknowledged(&self, n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.acknowledged.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn set_phase(&self, phase: u8) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    /// Stops the clients and collects what each saw.
    fn finish(self) -> Vec<Outcomes> {
        self.stop.store(true, Ordering::SeqCst);
        self.clients
            .into_iter()
            .map(|c| c.join().expect("a load client"))
            .collect()
    }
}

/// Reports every event in `event_ids` again on `base`, in parallel (a copy
/// whose first attempt claimed its event id and died before writing its
/// slots waits 2 s before taking over); the event id each was recorded as.
fn report_all_again(scene: &Scene, base: &str, event_ids: &[String]) -> HashMap<String, String> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = event_ids
            .chunks(event_ids.len().div_ceil(8).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|id| (id.clone(), scene.report_again(base, id)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a retrying client"))
            .collect()
    })
}

/// What became of a metering load after a fault and the clients' retries.
struct Tally {
    /// Reports answered with 200 during the load.
    acknowledged: usize,
    /// Reports whose outcome the clients did not see, all retried.
    unacknowledged: usize,
    /// Distinct events listed after the retries.
    listed: usize,
    /// Units billed after the retries (one per report).
    billed: u64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let distinct = (self.acknowledged + self.unacknowledged) as u64;
        write!(
            f,
            "| {} | {} | {} | {} | lost {} | doubled {} |",
            self.acknowledged,
            self.unacknowledged,
            self.listed,
            self.billed,
            distinct.saturating_sub(self.billed),
            self.billed.saturating_sub(distinct)
        )
    }
}

/// How many times each fault test runs: `QMARKET_FAULT_RUNS`, 1 by default.
fn fault_runs() -> usize {
    std::env::var("QMARKET_FAULT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The metering promises after a fault, checked on `base`: the clients
/// retry every report they did not see acknowledged (each retry must be
/// answered 200) and repeat a sample of the acknowledged ones; every report
/// is then listed exactly once, nothing is listed that no client was
/// answered with, and the bill counts every report exactly once.
fn check_metering_after_fault(scene: &Scene, base: &str, outcomes: &[Outcomes]) -> Tally {
    let acknowledged: HashMap<String, String> = outcomes
        .iter()
        .flat_map(|o| o.acknowledged.iter().cloned())
        .collect();
    let unacknowledged: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.unacknowledged.iter().cloned())
        .collect();
    assert!(
        !acknowledged.is_empty(),
        "the load got some reports through"
    );

    // The clients retry what they did not see acknowledged.
    let retried = report_all_again(scene, base, &unacknowledged);
    let billed = scene.billed_units(base);

    // Repeating acknowledged reports returns their first event and adds nothing.
    let sample: Vec<String> = acknowledged.keys().step_by(10).cloned().collect();
    for (event_id, evt) in report_all_again(scene, base, &sample) {
        assert_eq!(
            evt, acknowledged[&event_id],
            "{event_id} got a second event"
        );
    }
    assert_eq!(
        scene.billed_units(base),
        billed,
        "repeated reports were counted"
    );

    let distinct = acknowledged.len() + unacknowledged.len();
    let listed = scene.listed_events(base);
    for (event_id, evt) in acknowledged.iter().chain(&retried) {
        assert!(
            listed.contains(evt),
            "{event_id} was answered 200 as {evt}, which is not listed"
        );
    }
    let known: HashSet<&String> = acknowledged.values().chain(retried.values()).collect();
    for evt in &listed {
        assert!(known.contains(evt), "{evt} was never answered to a client");
    }
    assert_eq!(listed.len(), distinct, "one listed event per report");
    assert_eq!(
        billed, distinct as u64,
        "{billed} units billed for {distinct} distinct reports"
    );
    Tally {
        acknowledged: acknowledged.len(),
        unacknowledged: unacknowledged.len(),
        listed: listed.len(),
        billed,
    }
}

// ---------------------------------------------------------------- SIGKILL

/// `qmarket up` as a child process; killed (SIGKILL) when dropped.
struct Host {
    child: Child,
    base: String,
}

impl Host {
    /// Starts the binary on `state_dir` and waits until it serves.
    fn start(state_dir: &Path) -> Host {
        let port = host_support::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_qmarket"))
            .arg("up")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--from")
            .arg(manifest())
            .arg("--state-dir")
            .arg(state_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("qmarket up starts");
        let mut host = Host {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let health = format!("{}/api/health", host.base);
        while call("GET", health.clone()).try_send().map(|r| r.status) != Ok(200) {
            if let Ok(Some(status)) = host.child.try_wait() {
                panic!("qmarket up exited with {status} (build the components first)");
            }
            assert!(Instant::now() < deadline, "qmarket up did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        host
    }

    /// SIGKILL: no graceful shutdown, in-flight requests die where they are.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the host exits");
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn metering_acknowledged_before_a_sigkill_survives_it_and_retries_count_once() {
    eprintln!("| run | acknowledged | retried | listed | billed | lost | doubled |");
    for run in 1..=fault_runs() {
        let tally = sigkill_under_metering_load();
        eprintln!("SIGKILL run {run}: {tally}");
    }
}

/// One SIGKILL of the host under a metering load, and the check after.
fn sigkill_under_metering_load() -> Tally {
    const CLIENTS: usize = 8;
    let upstream = host_support::Upstream::start("ok", Duration::ZERO);
    let state = tempfile::tempdir().expect("a state directory");
    let scene = {
        let mut options = TestAppOptions::new(manifest());
        options.state_dir = Some(state.path().to_path_buf());
        Scene::create(
            &platform_with(options),
            &format!("http://{}/", upstream.addr),
        )
    };

    let host = Host::start(state.path());
    let load = Load::start(&host.base, &scene, &[Work::Metering; CLIENTS]);
    load.wait_for_acknowledged(400, Duration::from_secs(20));
    host.kill();
    let outcomes = load.finish();
    for seen in outcomes.iter().flat_map(|o| &o.seen) {
        // A request either succeeded or died with the host.
        assert!(matches!(seen.status, Some(200) | None), "{seen:?}");
    }

    let host = Host::start(state.path());
    check_metering_after_fault(&scene, &host.base, &outcomes)
}

// ---------------------------------------------------------------- Redis

#[test]
fn while_redis_is_down_requests_are_503_problems_and_they_succeed_again_once_it_is_back() {
    eprintln!("| run | acknowledged | retried | listed | billed | lost | doubled |");
    for run in 1..=fault_runs() {
        let tally = redis_killed_under_load();
        eprintln!("Redis run {run}: {tally}");
    }
}

/// One Redis kill and restart under load, and the checks after.
fn redis_killed_under_load() -> Tally {
    let mut redis = host_support::Redis::start_durable();
    let scratch = host_support::Scratch::new();
    let mut options = TestAppOptions::new(manifest());
    options.runtime_config = Some(redis.runtime_config(&scratch));
    let app = platform_with(options);
    let upstream = host_support::Upstream::start("ok", Duration::ZERO);
    let scene = Scene::create(&app, &format!("http://{}/", upstream.addr));

    let work = [
        Work::Metering,
        Work::Metering,
        Work::Metering,
        Work::Metering,
        Work::Gateway,
        Work::Bill,
    ];
    let load = Load::start(app.base_url(), &scene, &work);
    load.wait_for_acknowledged(200, Duration::from_secs(20));
    redis.kill();
    load.set_phase(FAULT);
    std::thread::sleep(Duration::from_secs(1));
    load.set_phase(REPAIRING);
    redis.relaunch();
    let restarted = load.started.elapsed();
    load.set_phase(AFTER);
    // Run on until every client has had answers after the restart.
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = load.acknowledged.load(Ordering::SeqCst);
    while load.acknowledged.load(Ordering::SeqCst) < before + 100 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let outcomes = load.finish();

    let mut unavailable_during_outage = 0;
    for (o, work) in outcomes.iter().zip(&work) {
        assert_eq!(o.failure, None, "the host answered every request");
        for seen in &o.seen {
            let status = seen.status.expect("an answer");
            assert!(
                status == 200 || seen.unavailable_problem,
                "only successes and 503 problems: {seen:?}"
            );
            if seen.phases == (FAULT, FAULT) {
                assert_eq!(status, 503, "Redis was down the whole request: {seen:?}");
                unavailable_during_outage += 1;
            }
        }
        // Once one request after the restart succeeded, every later one did.
        let after: Vec<&Seen> = o.seen.iter().filter(|s| s.phases.0 == AFTER).collect();
        let first_ok = after
            .iter()
            .position(|s| s.status == Some(200))
            .unwrap_or_else(|| panic!("no success after Redis came back: {:?}", work_name(work)));
        assert!(
            after[first_ok..].iter().all(|s| s.status == Some(200)),
            "a failure after recovery: {:?}",
            after[first_ok..].iter().find(|s| s.status != Some(200))
        );
        let unavailable: Vec<&Seen> = o.seen.iter().filter(|s| s.status == Some(503)).collect();
        eprintln!(
            "{:>8}: {} requests, {} answered 503 (slowest {:?}), first success {:?} after \
             the restart",
            work_name(work),
            o.seen.len(),
            unavailable.len(),
            unavailable.iter().map(|s| s.took).max().unwrap_or_default(),
            after[first_ok].at.saturating_sub(restarted),
        );
    }
    assert!(
        unavailable_during_outage > 0,
        "requests ran during the outage"
    );

    eprintln!(
        "Redis restart under load: {unavailable_during_outage} answers of 503 while it was down"
    );
    check_metering_after_fault(&scene, app.base_url(), &outcomes)
}

fn work_name(work: &Work) -> &'static str {
    match work {
        Work::Metering => "metering",
        Work::Gateway => "gateway",
        Work::Bill => "bill",
    }
}
