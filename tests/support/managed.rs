//! Managed services in the end-to-end tests: the platform with a worker
//! token, worker processes (`qmarket worker`), managed services with their
//! uploads and builds, and a subscribed consumer calling the execution API.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qmarket_host::{TestApp, TestAppOptions};
use serde_json::{json, Value};

use super::{
    access_token, create_application, lifecycle, manifest, platform_with, sign_up, subscribe,
    Account, Api, Application, Reply,
};

/// The worker token the managed platforms of the tests are configured with.
pub const WORKER_TOKEN: &str = "qmw-test-worker-token-3f9a61c2d8e04b7a";

/// The platform with the worker token set (and a fresh SQLite store).
pub fn managed_platform() -> TestApp {
    let mut options = TestAppOptions::new(manifest());
    options
        .env
        .push(("SPIN_VARIABLE_WORKER_TOKEN".into(), WORKER_TOKEN.into()));
    platform_with(options)
}

/// The test guest `wasm-command` (built by `scripts/build-wasm.sh`).
pub fn wasm_command() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/wasm32-wasip2/release/wasm-command.wasm");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} is built by scripts/build-wasm.sh: {e}", path.display()))
}

/// A `qmarket worker` process serving one platform; killed when dropped.
pub struct Worker {
    child: Child,
    name: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Worker {
    /// Starts worker `name` for `app`, polling every 20 ms when idle.
    pub fn start(app: &TestApp, name: &str) -> Worker {
        Self::start_with(app, name, &[])
    }

    /// Starts worker `name` for `app` with `env` added to its environment.
    pub fn start_with(app: &TestApp, name: &str, env: &[(&str, &str)]) -> Worker {
        let dir = tempfile::tempdir().expect("a work directory");
        let log = dir.path().join("worker.log");
        let child = Command::new(env!("CARGO_BIN_EXE_qmarket"))
            .args(["worker", "--platform", app.base_url(), "--name", name])
            .args(["--poll-ms", "20", "--work-dir"])
            .arg(dir.path().join("work"))
            .env("QMARKET_WORKER_TOKEN", WORKER_TOKEN)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("qmarket worker starts");
        Worker {
            child,
            name: name.to_string(),
            log,
            _dir: dir,
        }
    }

    /// Kills the process at once (SIGKILL): no goodbye, no report.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the worker wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The ids of the jobs (`Execution exe_…`, `Build bld_…`) this worker
    /// started, one per attempt it ran, in order.
    pub fn started_jobs(&self) -> Vec<String> {
        let prefix = format!("worker {}: started ", self.name);
        self.log()
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix))
            .map(|rest| rest.split(" (").next().unwrap_or(rest).to_string())
            .collect()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- worker {} log ---\n{}", self.name, self.log());
        }
    }
}

/// A managed service of `runtime` owned by `provider` with `resources`
/// (`null` for the defaults); returns its id.
pub fn create_managed_service(
    app: &TestApp,
    provider: &Account,
    runtime: &str,
    resources: Value,
) -> String {
    let mut body = json!({
        "name": "Managed sum",
        "type": "MANAGED",
        "description": "Sums numbers",
        "quantumBackend": "SIMULATOR",
        "runtime": runtime,
    });
    if !resources.is_null() {
        body["resources"] = resources;
    }
    let reply = app
        .post("/api/services")
        .bearer(&provider.token)
        .json(&body)
        .send()
        .expect(201);
    reply.json()["id"].as_str().expect("service id").to_string()
}

/// `PUT /api/services/{id}/source` with `zip`.
pub fn upload(app: &TestApp, provider: &Account, service_id: &str, zip: Vec<u8>) -> Reply {
    app.put(&format!("/api/services/{service_id}/source"))
        .bearer(&provider.token)
        .header("content-type", "application/zip")
        .body(zip)
        .send()
}

/// Polls `GET /api/services/{id}/build` until it is no longer `WORKING`
/// (panics after `limit`); returns the build.
#[track_caller]
pub fn finished_build(
    app: &TestApp,
    provider: &Account,
    service_id: &str,
    limit: Duration,
) -> Value {
    let path = format!("/api/services/{service_id}/build");
    poll(limit, || {
        let build = app
            .get(&path)
            .bearer(&provider.token)
            .send()
            .expect(200)
            .json();
        (build["status"] != "WORKING").then_some(build)
    })
    .unwrap_or_else(|| panic!("the build of {service_id} is still WORKING after {limit:?}"))
}

/// Calls `check` every 20 ms until it returns `Some` or `limit` passes.
pub fn poll<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An application subscribed to a managed service, with its token.
pub struct Consumer {
    /// The application's owner.
    pub account: Account,
    /// The application.
    pub application: Application,
    /// The subscription's JSON.
    pub subscription: Value,
    /// An OAuth2 access token of the application.
    pub token: String,
    /// `/gateway/{serviceId}`.
    pub base: String,
}

impl Consumer {
    /// Signs up `name`, creates an application and subscribes it to
    /// `service_id` under `plan_id`.
    pub fn subscribe(app: &TestApp, name: &str, service_id: &str, plan_id: &str) -> Consumer {
        let account = sign_up(app, name);
        let application = create_application(app, &account);
        let subscription = subscribe(app, &account, &application, service_id, plan_id);
        let token = access_token(app, &application);
        Consumer {
            account,
            application,
            subscription,
            token,
            base: format!("/gateway/{service_id}"),
        }
    }

    /// `POST /gateway/{serviceId}/` with `{data, params}`: the reply.
    pub fn start(&self, app: &TestApp, data: Value) -> Reply {
        app.post(&format!("{}/", self.base))
            .bearer(&self.token)
            .json(&json!({"data": data, "params": {}}))
            .send()
    }

    /// Starts an execution (201) and returns its id.
    #[track_caller]
    pub fn started(&self, app: &TestApp, data: Value) -> String {
        let execution = self.start(app, data).expect(201).json();
        assert_eq!(execution["status"], "PENDING", "{execution}");
        execution["id"].as_str().expect("execution id").to_string()
    }

    /// `GET {base}{suffix}` with the application's token.
    pub fn get(&self, app: &TestApp, suffix: &str) -> Reply {
        app.get(&format!("{}{suffix}", self.base))
            .bearer(&self.token)
            .send()
    }

    /// `PUT {base}/{id}/cancel`.
    pub fn cancel(&self, app: &TestApp, id: &str) -> Reply {
        app.put(&format!("{}/{id}/cancel", self.base))
            .bearer(&self.token)
            .send()
    }

    /// The execution `id` (200).
    #[track_caller]
    pub fn status(&self, app: &TestApp, id: &str) -> Value {
        self.get(app, &format!("/{id}")).expect(200).json()
    }

    /// Polls execution `id` until `done` holds for it (panics after
    /// `limit`); returns it.
    #[track_caller]
    pub fn wait_for(
        &self,
        app: &TestApp,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        poll(limit, || {
            last = self.status(app, id);
            done(&last).then(|| last.clone())
        })
        .unwrap_or_else(|| panic!("execution {id} after {limit:?}: {last}"))
    }

    /// Polls execution `id` until it has ended; returns it.
    #[track_caller]
    pub fn finished(&self, app: &TestApp, id: &str, limit: Duration) -> Value {
        self.wait_for(app, id, limit, |e| {
            ["SUCCEEDED", "FAILED", "CANCELLED"].contains(&e["status"].as_str().unwrap_or(""))
        })
    }

    /// The execution's log lines' messages.
    pub fn log_messages(&self, app: &TestApp, id: &str) -> Vec<String> {
        let log = self.get(app, &format!("/{id}/log")).expect(200).json();
        log.as_array()
            .expect("the log is a JSON array")
            .iter()
            .map(|line| line["message"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

/// A published managed service with a plan of three products (a call,
/// wall-clock seconds, CPU seconds), its build done by a worker.
pub struct ManagedService {
    /// Its provider.
    pub provider: Account,
    /// `svc_…`
    pub id: String,
    /// `plan_…`
    pub plan_id: String,
}

impl ManagedService {
    /// The test guest as a WASM service with `resources` (see [`Self::deploy`]).
    pub fn deploy_wasm(app: &TestApp, resources: Value) -> ManagedService {
        let zip = qmarket_zip_fixtures::wasm_project(&wasm_command());
        Self::deploy(app, "WASM", zip, resources)
    }

    /// Creates a service of `runtime` with `resources`, uploads `zip` (its
    /// build then waits for a worker), adds the plan and publishes it to the
    /// marketplace.
    pub fn deploy(app: &TestApp, runtime: &str, zip: Vec<u8>, resources: Value) -> ManagedService {
        let provider = sign_up(app, "provider");
        let id = create_managed_service(app, &provider, runtime, resources);
        let build = upload(app, &provider, &id, zip).expect(202).json();
        assert_eq!(build["validationResult"]["state"], "SUCCESS", "{build}");
        let plan = app
            .post(&format!("/api/services/{id}/pricing-plans"))
            .bearer(&provider.token)
            .json(&json!({
                "name": "Per run",
                "type": "COMMERCIAL",
                "products": [
                    {"name": "Run", "unitPrice": "0.01", "unit": "call"},
                    {"name": "Time", "unitPrice": "0.002", "unit": "second"},
                    {"name": "CPU", "unitPrice": "0.003", "unit": "cpu-second"},
                ],
            }))
            .send()
            .expect(201)
            .json();
        lifecycle(app, &provider, &id, "publish");
        ManagedService {
            provider,
            id,
            plan_id: plan["id"].as_str().expect("plan id").to_string(),
        }
    }

    /// Waits for the build (a worker must be running) and asserts success.
    #[track_caller]
    pub fn built(self, app: &TestApp) -> Self {
        let build = self.finished_build(app, Duration::from_secs(60));
        assert_eq!(build["status"], "SUCCESS", "{build}");
        self
    }

    /// `GET /api/services/{id}/build/log`: the build's log lines.
    #[track_caller]
    pub fn build_log(&self, app: &TestApp) -> Value {
        app.get(&format!("/api/services/{}/build/log", self.id))
            .bearer(&self.provider.token)
            .send()
            .expect(200)
            .json()
    }

    /// Waits up to `limit` for the build to end; returns it.
    #[track_caller]
    pub fn finished_build(&self, app: &TestApp, limit: Duration) -> Value {
        finished_build(app, &self.provider, &self.id, limit)
    }

    /// The provider's metering events of this service, every page.
    pub fn metering_events(&self, app: &TestApp) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/services/{}/metering-events?limit=500", self.id);
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = app
                .get(&path)
                .bearer(&self.provider.token)
                .send()
                .expect(200)
                .json();
            events.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return events,
            }
        }
    }
}

/// Milliseconds from a record's `startedAt` to its `endedAt` (an execution
/// or a build).
pub fn elapsed_ms(record: &Value) -> i64 {
    let at = |field: &str| {
        let text = record[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {record}"));
        qmarket_core::time::Timestamp::parse(text)
            .expect("an RFC 3339 timestamp")
            .millis()
    };
    at("endedAt") - at("startedAt")
}
