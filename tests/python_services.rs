//! PlanQK's Python template and container services through the platform:
//! a template project zipped as PlanQK tells its users to, built by a worker
//! (with `loguru` installed from PyPI), driven by PlanQK's own client
//! (`planqk-service-sdk`, unchanged, in an environment of its own), and a
//! `DOCKER` service on a worker without a container engine.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::managed::{elapsed_ms, managed_platform, Consumer, ManagedService, Worker};

/// The version of PlanQK's client the test drives.
const SDK: &str = "planqk-service-sdk==2.12.1";
/// Far above what a passing build needs (a pip install from PyPI).
const BUILD_LIMIT: Duration = Duration::from_secs(600);

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(path)
}

/// The test service, zipped from inside its folder as PlanQK's docs say:
/// `zip -r planqk.zip src environment.yml requirements.txt`.
fn planqk_zip() -> Vec<u8> {
    qmarket_zip_fixtures::zip_from(
        &fixture("fixtures/planqk-service"),
        &["src", "environment.yml", "requirements.txt"],
    )
}

/// A Python environment holding PlanQK's client and nothing else (it pins
/// an old pydantic), made once under the target directory.
fn sdk_python() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("planqk-service-sdk-2.12.1");
    let python = dir.join("bin/python");
    let has_client = |python: &Path| {
        Command::new(python)
            .args(["-c", "import planqk.service.client"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_client(&python) {
        let _ = std::fs::remove_dir_all(&dir);
        let made = Command::new("/usr/bin/python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv {}", dir.display());
        let installed = Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", SDK])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install {SDK}");
        assert!(has_client(&python), "{SDK} installed but not importable");
    }
    python
}

#[test]
fn planqks_own_client_drives_a_template_service_unchanged() {
    // Setup: the platform, a worker, the client's environment (in parallel
    // with the build, which installs loguru from PyPI).
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let service = ManagedService::deploy(&app, "PYTHON_TEMPLATE", planqk_zip(), Value::Null);
    let python = std::thread::spawn(sdk_python);
    let cold = service.finished_build(&app, BUILD_LIMIT);
    assert_eq!(cold["status"], "SUCCESS", "{cold}");
    // The same requirements again: the worker reuses the environment.
    let again = ManagedService::deploy(&app, "PYTHON_TEMPLATE", planqk_zip(), Value::Null);
    let cached = again.finished_build(&app, BUILD_LIMIT);
    assert_eq!(cached["status"], "SUCCESS", "{cached}");
    let log = again.build_log(&app);
    assert!(
        log.as_array()
            .expect("an array")
            .iter()
            .any(|l| l["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("reusing the environment")),
        "{log}"
    );
    eprintln!(
        "template service build: cold {:.1} s (pip install of loguru), same requirements again {:.1} s",
        elapsed_ms(&cold) as f64 / 1000.0,
        elapsed_ms(&cached) as f64 / 1000.0
    );
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    let python = python.join().expect("the client's environment");
    // Exec: PlanQK's client, unchanged, against the gateway.
    let downloads = tempfile::tempdir().unwrap();
    let output = Command::new(python)
        .arg(fixture("planqk/drive_client.py"))
        .arg(app.base_url())
        .arg(&service.id)
        .arg(&consumer.application.consumer_key)
        .arg(&consumer.application.consumer_secret)
        .arg(downloads.path())
        .output()
        .expect("the client script runs");
    // Check
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the client failed:\n{stderr}");
    assert!(
        !stderr.contains(&consumer.application.consumer_secret),
        "the client's output shows no secret"
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("the client prints JSON");
    assert_eq!(seen["started"]["status"], "PENDING", "{seen}");
    assert_eq!(seen["final"], "SUCCEEDED", "{seen}");
    assert_eq!(
        seen["result"],
        json!({"result": {"sum": 6}, "metadata": {"shots": 100}})
    );
    assert_eq!(seen["files"], json!(["report.json"]));
    assert_eq!(
        serde_json::from_str::<Value>(seen["downloaded"]["report.json"].as_str().unwrap()).unwrap(),
        json!({"values": [1, 2, 3], "sum": 6})
    );
    let logs = seen["logs"].as_array().expect("log entries");
    let severity_of = |text: &str| {
        logs.iter()
            .find(|l| l["message"].as_str().unwrap_or("").contains(text))
            .map(|l| l["severity"].clone())
    };
    assert_eq!(
        severity_of("adding 3 values with 100 shots"),
        Some(json!("INFO")),
        "{logs:?}"
    );
    assert_eq!(
        severity_of("done"),
        Some(json!("NOTICE")),
        "loguru's SUCCESS: {logs:?}"
    );
    assert_eq!(seen["before_cancel"], "RUNNING", "{seen}");
    assert_eq!(seen["after_cancel"], "CANCELLED", "{seen}");
    let first = seen["started"]["id"].as_str().unwrap();
    let listed: Vec<&str> = seen["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1], first, "newest first: {listed:?}");
    // The interim result the program printed, through the gateway.
    let interim = consumer
        .get(&app, &format!("/{first}/interim-results"))
        .expect(200)
        .json();
    assert_eq!(interim, json!([{"progress": 1.0}]));
    // An ErrorResponse fails the execution with its code and detail.
    let refused = consumer.started(&app, json!({"values": "not a list"}));
    let ended = consumer.finished(&app, &refused, BUILD_LIMIT);
    assert_eq!(ended["status"], "FAILED", "{ended}");
    let error = consumer
        .get(&app, &format!("/{refused}/result"))
        .expect(200)
        .json();
    assert_eq!(error["code"], "400", "{error}");
    assert_eq!(error["detail"], "data.values must be a list of numbers");
}

#[test]
fn a_docker_service_on_a_worker_without_a_container_engine_fails_its_build_saying_so() {
    let app = managed_platform();
    let _worker = Worker::start_with(
        &app,
        "no-engine",
        &[("QMARKET_CONTAINER_ENGINE", "/nonexistent/podman")],
    );
    let zip = qmarket_zip_fixtures::Zip::new()
        .file("Dockerfile", b"FROM python:3.11-slim\nCOPY . /app\n")
        .bytes();
    let service = ManagedService::deploy(&app, "DOCKER", zip, Value::Null);
    let build = service.finished_build(&app, Duration::from_secs(60));
    assert_eq!(build["status"], "FAILURE", "{build}");
    let log = service.build_log(&app).to_string();
    assert!(
        log.contains("no usable container engine") && log.contains("install podman or docker"),
        "{build} {log}"
    );
}
