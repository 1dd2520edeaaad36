//! The `PYTHON_TEMPLATE` runtime against projects in PlanQK's template
//! shape: builds with real pip installs (loguru from PyPI), executions in
//! each isolation that works on this machine.
#![cfg(feature = "python")]

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qmarket_runtime::python::{Isolation, PythonRuntime};
use qmarket_runtime::{failure, Invocation, Limits, LogLine, Outcome, Runtime, Severity};
use serde_json::{json, Value};

mod support;
use support::Recorder;

// ---- Setup & fixtures -------------------------------------------------------

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/template");
/// The interpreter of the rlimits runtime: it must be reachable by other
/// users (pyenv's lives under /root, mode 0700).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";
/// Far above any bound a passing test needs: only a hang trips it.
const HANG_BOUND: Duration = Duration::from_secs(60);

/// Where the tests keep their cache and scenes (reachable by sandbox uids).
fn test_root() -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-runtime");
    fs::create_dir_all(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    root
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// The runtimes to test: each isolation that works here, on one shared cache.
fn runtimes() -> &'static [PythonRuntime] {
    static RUNTIMES: OnceLock<Vec<PythonRuntime>> = OnceLock::new();
    RUNTIMES.get_or_init(|| {
        let cache = test_root().join("cache");
        if !is_root() {
            eprintln!("not root: testing the unisolated runtime only");
            return vec![PythonRuntime::builder(&cache)
                .isolation(Isolation::Unisolated)
                .build()
                .expect("an unisolated runtime")];
        }
        let mut runtimes = Vec::new();
        match PythonRuntime::builder(&cache)
            .isolation(Isolation::Bubblewrap)
            .build()
        {
            Ok(runtime) => runtimes.push(runtime),
            Err(e) => eprintln!("bubblewrap is not tested here: {e}"),
        }
        let rlimits = PythonRuntime::builder(&cache)
            .python(SYSTEM_PYTHON)
            .isolation(Isolation::Rlimits)
            .build()
            .expect("the rlimits runtime works wherever the worker is root");
        runtimes.push(rlimits);
        runtimes
    })
}

/// A project, its work and output directories, in a directory of its own.
struct Scene {
    _dir: tempfile::TempDir,
    project: PathBuf,
    work: PathBuf,
    output: PathBuf,
}

impl Scene {
    /// The fixture project with `program` as its `src/program.py` and
    /// `requirements` as its `requirements.txt`.
    fn new(program: &str, requirements: &str) -> Scene {
        let dir = tempfile::Builder::new()
            .prefix("scene-")
            .tempdir_in(test_root())
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let project = dir.path().join("project");
        copy_dir(Path::new(FIXTURE), &project);
        fs::write(project.join("src/program.py"), program).unwrap();
        fs::write(project.join("requirements.txt"), requirements).unwrap();
        let (work, output) = (dir.path().join("work"), dir.path().join("output"));
        fs::create_dir(&work).unwrap();
        fs::create_dir(&output).unwrap();
        Scene {
            _dir: dir,
            project,
            work,
            output,
        }
    }

    /// The fixture project as it is.
    fn template() -> Scene {
        let program = fs::read_to_string(Path::new(FIXTURE).join("src/program.py")).unwrap();
        let requirements = fs::read_to_string(Path::new(FIXTURE).join("requirements.txt")).unwrap();
        Scene::new(&program, &requirements)
    }

    /// A fresh work and output directory (one per execution).
    fn fresh_dirs(&self, name: &str) -> (PathBuf, PathBuf) {
        let base = self.work.parent().unwrap().join(name);
        let (work, output) = (base.join("work"), base.join("output"));
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&output).unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
        (work, output)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn limits(memory_mib: u64, timeout_s: u64) -> Limits {
    Limits {
        milli_cpus: 1000,
        memory_bytes: memory_mib << 20,
        timeout: Duration::from_secs(timeout_s),
    }
}

/// Builds `scene` and runs it once with `input`, in `runtime`.
fn build_and_run(
    runtime: &PythonRuntime,
    scene: &Scene,
    input: Value,
    limits: Limits,
    events: &mut Recorder,
) -> Outcome {
    let mut build_log = Vec::new();
    runtime
        .build(&scene.project, &limits, &mut |l| build_log.push(l))
        .unwrap_or_else(|e| panic!("build failed: {e}\n{build_log:#?}"));
    run(
        runtime,
        scene,
        &scene.work,
        &scene.output,
        input,
        limits,
        events,
    )
}

fn run(
    runtime: &PythonRuntime,
    scene: &Scene,
    work: &Path,
    output: &Path,
    input: Value,
    limits: Limits,
    events: &mut Recorder,
) -> Outcome {
    let started = Instant::now();
    let invocation = Invocation {
        input: &input,
        work_dir: work,
        output_dir: output,
        limits,
    };
    let outcome = runtime.run(&scene.project, invocation, events);
    assert!(
        started.elapsed() < HANG_BOUND,
        "{:?}: the execution hung",
        runtime.isolation()
    );
    outcome
}

fn failed(outcome: &Outcome) -> (&str, &str) {
    match outcome {
        Outcome::Failed { code, detail } => (code, detail),
        other => panic!("not failed: {other:?}"),
    }
}

/// A program of plain Python (no dependencies) around `body`, the body of `run`.
fn program(imports: &str, body: &str) -> String {
    let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
    format!("{imports}\nfrom .libs.return_objects import ErrorResponse, ResultResponse\n\n\ndef run(data=None, params=None):\n{body}")
}

// ---- Tests ------------------------------------------------------------------

#[test]
fn a_template_program_returns_its_result_responses_dict_and_logs_with_severities() {
    for runtime in runtimes() {
        let scene = Scene::template();
        let mut events = Recorder::default();
        let outcome = build_and_run(
            runtime,
            &scene,
            json!({"data": {"values": [1, 2, 3.5]}, "params": {"round_up": true}}),
            limits(512, 60),
            &mut events,
        );
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!({"result": {"sum": 7}, "metadata": {"summary": {"count": 3}}})
            },
            "{:?}\n{}",
            runtime.isolation(),
            events.text()
        );
        assert_eq!(
            events.severity_of("values: [1, 2, 3.5]"),
            Some(Severity::Debug),
            "{}",
            events.text()
        );
        assert_eq!(events.severity_of("adding 3 values"), Some(Severity::Info));
        assert_eq!(events.severity_of("the sum is 7"), Some(Severity::Info));
        assert_eq!(events.severity_of("added"), Some(Severity::Notice));
        assert_eq!(
            events.severity_of("a warning for the log"),
            Some(Severity::Warning)
        );
        assert_eq!(
            events.severity_of("an error for the log"),
            Some(Severity::Error)
        );
        let loguru = events
            .lines
            .iter()
            .find(|l| l.message.contains("adding 3 values"))
            .unwrap();
        assert!(
            loguru.message.starts_with("src.program:run:"),
            "time and level are dropped: {}",
            loguru.message
        );
    }
}

#[test]
fn a_program_reads_its_input_files_and_writes_result_files() {
    for runtime in runtimes() {
        let scene = Scene::new(
            &program(
                "import json, os",
                r#"with open(os.path.join(os.environ["INPUT_DIRECTORY"], "data.json")) as f:
    received = json.load(f)
with open(os.path.join(os.environ["OUTPUT_DIRECTORY"], "report.txt"), "w") as f:
    f.write("values: %s" % received["values"])
return {"cwd": os.getcwd() == os.environ["INPUT_DIRECTORY"].rsplit("/", 1)[0], "keys": sorted(os.listdir(os.environ["INPUT_DIRECTORY"])), "level": os.environ["LOG_LEVEL"]}"#,
            ),
            "",
        );
        let mut events = Recorder::default();
        let outcome = build_and_run(
            runtime,
            &scene,
            json!({"data": {"values": [4, 2]}, "params": {}}),
            limits(256, 30),
            &mut events,
        );
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!({"cwd": true, "keys": ["data.json", "params.json"], "level": "INFO"})
            },
            "{:?}\n{}",
            runtime.isolation(),
            events.text()
        );
        let report =
            fs::read_to_string(scene.output.join("report.txt")).expect("the result file is there");
        assert_eq!(report, "values: [4, 2]");
    }
}

#[test]
fn interim_results_are_reported_and_are_not_log_lines() {
    for runtime in runtimes() {
        let scene = Scene::new(
            &program(
                "import json",
                r#"for step in (1, 2):
    print("PlanQK:Job:InterimResult: " + json.dumps({"step": step}))
print("between")
return {"done": True}"#,
            ),
            "",
        );
        let mut events = Recorder::default();
        let outcome = build_and_run(
            runtime,
            &scene,
            json!({"data": {}}),
            limits(256, 30),
            &mut events,
        );
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!({"done": true})
            },
            "{}",
            events.text()
        );
        assert_eq!(events.interims, [json!({"step": 1}), json!({"step": 2})]);
        assert!(
            !events.text().contains("InterimResult"),
            "{}",
            events.text()
        );
        assert_eq!(events.severity_of("between"), Some(Severity::Info));
    }
}

#[test]
fn log_lines_arrive_while_the_program_runs() {
    for runtime in runtimes() {
        // The program waits for a file that the test creates only when it
        // has seen the program's first line: without streaming it times out.
        let scene = Scene::new(
            &program(
                "import os, time",
                r#"print("waiting for the go", flush=True)
while not os.path.exists("go"):
    time.sleep(0.05)
return "went""#,
            ),
            "",
        );
        let go = scene.work.join("go");
        let mut events = Recorder {
            on_line: Some(Box::new(move |line: &LogLine| {
                if line.message.contains("waiting for the go") {
                    fs::write(&go, "").unwrap();
                }
            })),
            ..Recorder::default()
        };
        let outcome = build_and_run(runtime, &scene, json!({}), limits(256, 20), &mut events);
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!("went")
            },
            "{}",
            events.text()
        );
    }
}

#[test]
fn an_error_response_fails_with_its_code_and_detail() {
    for runtime in runtimes() {
        let scene = Scene::template();
        let mut events = Recorder::default();
        let outcome = build_and_run(
            runtime,
            &scene,
            json!({"data": {"values": "nope"}, "params": {}}),
            limits(512, 60),
            &mut events,
        );
        assert_eq!(
            outcome,
            Outcome::Failed {
                code: "400".into(),
                detail: "data.values must be a list of numbers".into()
            }
        );
    }
}

#[test]
fn an_exception_fails_with_its_type_and_message_and_its_traceback_is_logged() {
    for runtime in runtimes() {
        let scene = Scene::new(&program("", "raise ValueError(\"no qubits left\")"), "");
        let mut events = Recorder::default();
        let outcome = build_and_run(
            runtime,
            &scene,
            json!({"data": {}, "params": {}}),
            limits(256, 30),
            &mut events,
        );
        assert_eq!(failed(&outcome), ("ValueError", "no qubits left"));
        assert_eq!(
            events.severity_of("ValueError: no qubits left"),
            Some(Severity::Error),
            "{}",
            events.text()
        );
        assert!(
            events.text().contains("program.py\", line 6, in run"),
            "{}",
            events.text()
        );
        assert!(
            !events.text().contains("runner"),
            "the runner's frames are not shown: {}",
            events.text()
        );
    }
}

#[test]
fn a_program_over_its_memory_limit_fails_with_memory_limit() {
    for runtime in runtimes() {
        let scene = Scene::new(
            &program("", "block = bytearray(1 << 30)\nreturn len(block)"),
            "",
        );
        let mut events = Recorder::default();
        let outcome = build_and_run(runtime, &scene, json!({}), limits(128, 30), &mut events);
        assert_eq!(
            failed(&outcome).0,
            failure::MEMORY_LIMIT,
            "{:?} {}",
            runtime.isolation(),
            events.text()
        );
    }
}

#[test]
fn the_memory_limit_holds_for_all_processes_of_an_execution_together() {
    for runtime in runtimes() {
        // Three processes of 100 MiB each: each under the limit, together over it.
        let scene = Scene::new(
            &program(
                "import os, time",
                r#"for _ in range(3):
    if os.fork() == 0:
        block = bytearray(100 << 20)
        block[::4096] = b"\x01" * len(block[::4096])
        time.sleep(60)
        os._exit(0)
time.sleep(60)
return "not stopped""#,
            ),
            "",
        );
        let mut events = Recorder::default();
        let outcome = build_and_run(runtime, &scene, json!({}), limits(128, 40), &mut events);
        assert_eq!(
            failed(&outcome).0,
            failure::MEMORY_LIMIT,
            "{:?} {}",
            runtime.isolation(),
            events.text()
        );
    }
}

#[test]
fn a_program_past_its_timeout_fails_with_timeout_promptly() {
    for runtime in runtimes() {
        let scene = Scene::new(&program("import time", "time.sleep(600)"), "");
        let mut events = Recorder::default();
        let started = Instant::now();
        let outcome = build_and_run(runtime, &scene, json!({}), limits(256, 2), &mut events);
        let (code, detail) = failed(&outcome);
        assert_eq!(code, failure::TIMEOUT);
        assert!(detail.contains("timeout of 2.0 s"), "{detail}");
        println!(
            "{:?}: timed out after {:?} (build included)",
            runtime.isolation(),
            started.elapsed()
        );
    }
}

#[test]
fn a_busy_program_is_stopped_when_its_cpu_time_is_used_up() {
    for runtime in runtimes() {
        let scene = Scene::new(&program("", "while True:\n    pass"), "");
        let mut events = Recorder::default();
        // A tenth of a CPU for 20 s is 2 s of CPU time.
        let limits = Limits {
            milli_cpus: 100,
            ..limits(256, 20)
        };
        let outcome = build_and_run(runtime, &scene, json!({}), limits, &mut events);
        let (code, detail) = failed(&outcome);
        assert_eq!(code, failure::TIMEOUT);
        assert!(
            detail.contains("CPU time"),
            "stopped by CPU time, not the clock: {detail}"
        );
    }
}

#[test]
fn a_cancelled_execution_is_stopped_and_reports_cancelled() {
    for runtime in runtimes() {
        let scene = Scene::new(
            &program(
                "import time",
                "print(\"started\", flush=True)\ntime.sleep(600)",
            ),
            "",
        );
        let mut events = Recorder {
            cancel_on: Some("started"),
            ..Recorder::default()
        };
        let outcome = build_and_run(runtime, &scene, json!({}), limits(256, 50), &mut events);
        assert_eq!(outcome, Outcome::Cancelled, "{}", events.text());
    }
}

#[test]
fn a_child_that_outlives_the_program_is_killed_with_it() {
    for runtime in runtimes() {
        // The child leaves the session and beats every 100 ms through a file
        // it opened before (so that taking the output directory back after
        // the run does not stop it); the program returns at once.
        let scene = Scene::new(
            &program(
                "import os, time",
                r#"beat = os.path.join(os.environ["OUTPUT_DIRECTORY"], "heartbeat")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        fd = os.open(beat, os.O_WRONLY | os.O_CREAT, 0o644)
        for n in range(600):
            os.pwrite(fd, b"%08d" % n, 0)
            time.sleep(0.1)
    os._exit(0)
while not os.path.exists(beat) or os.path.getsize(beat) == 0:
    time.sleep(0.01)
return "parent done""#,
            ),
            "",
        );
        let mut events = Recorder::default();
        let outcome = build_and_run(runtime, &scene, json!({}), limits(256, 30), &mut events);
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!("parent done")
            },
            "{}",
            events.text()
        );
        let beat = scene.output.join("heartbeat");
        let first = fs::read_to_string(&beat).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let later = fs::read_to_string(&beat).unwrap();
        assert_eq!(
            first,
            later,
            "{:?}: the child still beats",
            runtime.isolation()
        );
    }
}

#[test]
fn a_program_cannot_read_secrets_outside_its_sandbox() {
    const SECRET: &str = "s3cr3t-of-the-worker";
    std::env::set_var("QMARKET_TEST_WORKER_SECRET", SECRET);
    let hidden = tempfile::tempdir().unwrap();
    // Mode 0700, as the platform's state is kept.
    fs::set_permissions(hidden.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let secret_file = hidden.path().join("credential");
    fs::write(&secret_file, SECRET).unwrap();
    fs::set_permissions(&secret_file, fs::Permissions::from_mode(0o644)).unwrap();
    // Another execution's output: of another uid, mode 0700.
    let other = tempfile::Builder::new()
        .prefix("other-")
        .tempdir_in(test_root())
        .unwrap();
    fs::set_permissions(other.path(), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(other.path().join("result.json"), SECRET).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let worker_cwd = std::env::current_dir().unwrap();
    for runtime in runtimes() {
        let scene = Scene::new(
            &program(
                "import os, socket",
                r#"def attempt(action):
    try:
        return {"ok": True, "value": str(action())[:2000]}
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
def read(path):
    with open(path) as f:
        return f.read()
probes = {
    "secret_file": attempt(lambda: read(data["secret_file"])),
    "other_execution": attempt(lambda: read(data["other_execution"])),
    "init_environ": attempt(lambda: read("/proc/1/environ")),
    "worker_environ": attempt(lambda: read("/proc/%d/environ" % data["worker_pid"])),
    "worker_cwd": attempt(lambda: os.listdir(data["worker_cwd"])),
    "environment": {"ok": True, "value": repr(dict(os.environ))},
    "network": attempt(lambda: socket.create_connection(("127.0.0.1", data["port"]), timeout=2).close()),
    "uid": {"ok": True, "value": os.getuid()},
}
return probes"#,
            ),
            "",
        );
        let input = json!({"data": {
            "secret_file": secret_file,
            "other_execution": other.path().join("result.json"),
            "worker_pid": std::process::id(),
            "worker_cwd": worker_cwd,
            "port": port,
        }});
        let mut events = Recorder::default();
        let outcome = build_and_run(runtime, &scene, input, limits(256, 30), &mut events);
        let Outcome::Succeeded { result } = outcome else {
            panic!("{outcome:?}\n{}", events.text())
        };
        println!(
            "{:?} (network isolated: {}): {result:#}",
            runtime.isolation(),
            runtime.network_isolated()
        );
        let everything = format!("{result} {}", events.text());
        assert!(
            !everything.contains(SECRET),
            "{:?} leaked the secret: {everything}",
            runtime.isolation()
        );
        for probe in [
            "secret_file",
            "other_execution",
            "init_environ",
            "worker_environ",
        ] {
            assert_eq!(
                result[probe]["ok"],
                json!(false),
                "{:?}: {probe} was readable",
                runtime.isolation()
            );
        }
        assert_ne!(
            result["uid"]["value"],
            json!(0),
            "the program does not run as root"
        );
        if runtime.network_isolated() {
            assert_eq!(
                result["network"]["ok"],
                json!(false),
                "{:?} reached the network",
                runtime.isolation()
            );
        }
        if runtime.isolation() == Isolation::Bubblewrap {
            assert_eq!(
                result["worker_cwd"]["ok"],
                json!(false),
                "the worker's files are not even visible"
            );
        }
    }
}

#[test]
fn a_requirement_that_does_not_exist_fails_the_build_with_pips_message() {
    let runtime = &runtimes()[0];
    let scene = Scene::new(
        &program("", "return 1"),
        "qmarket-this-package-does-not-exist==4.7.11\n",
    );
    let mut log = Vec::new();
    let failure = runtime
        .build(&scene.project, &limits(256, 60), &mut |l| log.push(l))
        .unwrap_err();
    let pip_said = |line: &LogLine| {
        line.severity == Severity::Error
            && line
                .message
                .contains("No matching distribution found for qmarket-this-package-does-not-exist")
    };
    assert!(
        log.iter().any(pip_said),
        "pip's message is in the log: {log:#?}"
    );
    assert!(
        failure.0.contains("No matching distribution"),
        "and in the failure: {failure}"
    );
}

#[test]
fn the_same_requirements_built_twice_reuse_one_environment() {
    let cache = tempfile::Builder::new()
        .prefix("cold-cache-")
        .tempdir_in(test_root())
        .unwrap();
    let runtime = PythonRuntime::new(cache.path()).expect("a runtime");
    let scene = Scene::template();
    let mut log = Vec::new();
    let started = Instant::now();
    let first = runtime
        .prepare(&scene.project, &limits(512, 60), &mut |l| log.push(l))
        .unwrap();
    let cold = started.elapsed();
    let other = Scene::template();
    let started = Instant::now();
    let second = runtime
        .prepare(&other.project, &limits(512, 60), &mut |l| log.push(l))
        .unwrap();
    let cached = started.elapsed();
    println!(
        "{:?}: loguru environment cold {cold:?}, cached {cached:?}",
        runtime.isolation()
    );
    assert!(!first.reused && second.reused, "{first:?} {second:?}");
    assert_eq!(first.path, second.path);
    assert_eq!(first.key, second.key);
}

#[test]
fn conda_only_dependencies_are_build_warnings_naming_each() {
    let runtime = &runtimes()[0];
    let scene = Scene::new(&program("", "return 1"), "");
    fs::remove_file(scene.project.join("requirements.txt")).unwrap();
    fs::write(
        scene.project.join("environment.yml"),
        "dependencies:\n  - python=3.11\n  - pip\n  - numpy=1.26\n  - conda-forge::qiskit\n  - pip: []\n",
    )
    .unwrap();
    let built = runtime
        .build(&scene.project, &limits(256, 60), &mut |_| {})
        .unwrap();
    assert_eq!(built.warnings.len(), 2, "{:?}", built.warnings);
    assert!(
        built.warnings[0].contains("`numpy=1.26`"),
        "{:?}",
        built.warnings
    );
    assert!(
        built.warnings[1].contains("`conda-forge::qiskit`"),
        "{:?}",
        built.warnings
    );
}

#[test]
fn a_syntax_error_fails_the_build_naming_the_file_and_line() {
    let runtime = &runtimes()[0];
    let scene = Scene::new("def run(data=None, params=None):\n    return (\n", "");
    let failure = runtime
        .build(&scene.project, &limits(256, 60), &mut |_| {})
        .unwrap_err();
    assert!(failure.0.contains("src/program.py, line 2"), "{failure}");
}

#[test]
fn keys_that_run_does_not_take_are_left_out_with_a_warning() {
    let runtime = &runtimes()[0];
    let scene = Scene::new("def run(data):\n    return data\n", "");
    let mut events = Recorder::default();
    let outcome = build_and_run(
        runtime,
        &scene,
        json!({"data": 5, "params": {}}),
        limits(256, 30),
        &mut events,
    );
    assert_eq!(outcome, Outcome::Succeeded { result: json!(5) });
    assert_eq!(
        events.severity_of("no parameter 'params'"),
        Some(Severity::Warning),
        "{}",
        events.text()
    );
}

#[test]
fn a_request_that_is_not_an_object_is_invalid_input() {
    let runtime = &runtimes()[0];
    let scene = Scene::new(&program("", "return 1"), "");
    let outcome = build_and_run(
        runtime,
        &scene,
        json!([1, 2]),
        limits(256, 30),
        &mut Recorder::default(),
    );
    assert_eq!(failed(&outcome).0, failure::INVALID_INPUT);
}

#[test]
fn executions_in_fresh_directories_see_nothing_of_each_other() {
    let runtime = &runtimes()[0];
    let scene = Scene::new(
        &program(
            "import os",
            r#"seen = sorted(os.listdir("."))
with open("left-behind", "w") as f:
    f.write("x")
return seen"#,
        ),
        "",
    );
    let limits = limits(256, 30);
    runtime.build(&scene.project, &limits, &mut |_| {}).unwrap();
    for name in ["first", "second"] {
        let (work, output) = scene.fresh_dirs(name);
        let outcome = run(
            runtime,
            &scene,
            &work,
            &output,
            json!({"data": {}}),
            limits,
            &mut Recorder::default(),
        );
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: json!(["input"])
            },
            "{name}"
        );
    }
}

#[test]
fn an_unisolated_runtime_runs_programs_as_the_workers_own_user() {
    let runtime = PythonRuntime::builder(test_root().join("cache"))
        .python(SYSTEM_PYTHON)
        .isolation(Isolation::Unisolated)
        .build()
        .expect("an unisolated runtime works anywhere");
    let scene = Scene::new(&program("import os", "return os.getuid()"), "");
    let mut events = Recorder::default();
    let outcome = build_and_run(&runtime, &scene, json!({}), limits(256, 30), &mut events);
    let me = std::os::unix::fs::MetadataExt::uid(&fs::metadata("/proc/self").unwrap());
    assert_eq!(
        outcome,
        Outcome::Succeeded { result: json!(me) },
        "{}",
        events.text()
    );
}

#[test]
fn the_rlimits_runtime_refuses_an_interpreter_its_sandbox_users_cannot_reach() {
    // pyenv's interpreter lives under /root (mode 0700) on this kind of machine.
    let Ok(python) = fs::canonicalize("/root/.pyenv/shims/python3").and_then(|_| {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import os, sys; print(os.path.realpath(sys.executable))",
            ])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }) else {
        return eprintln!("no pyenv interpreter here: nothing to refuse");
    };
    if !is_root() || !python.starts_with("/root/") {
        return eprintln!("{python} is reachable by others: nothing to refuse");
    }
    let error = PythonRuntime::builder(test_root().join("cache"))
        .python(&python)
        .isolation(Isolation::Rlimits)
        .build()
        .expect_err("the sandbox user cannot run it");
    println!("refused: {error}");
    assert!(
        error
            .to_string()
            .contains("Rlimits isolation does not work here"),
        "{error}"
    );
}

#[test]
fn an_environment_left_incomplete_is_built_again() {
    let cache = tempfile::Builder::new()
        .prefix("broken-cache-")
        .tempdir_in(test_root())
        .unwrap();
    let runtime = PythonRuntime::new(cache.path()).expect("a runtime");
    let scene = Scene::new(&program("", "return 1"), "");
    let first = runtime
        .prepare(&scene.project, &limits(256, 60), &mut |_| {})
        .unwrap();
    // A build that died after publishing... of a directory without its marker.
    fs::remove_file(first.path.join("qmarket-environment.json")).unwrap();
    let second = runtime
        .prepare(&scene.project, &limits(256, 60), &mut |_| {})
        .unwrap();
    assert!(!second.reused, "{second:?}");
    assert_ne!(first.path, second.path);
    assert!(!first.path.exists(), "the incomplete directory is gone");
    let outcome = run(
        &runtime,
        &scene,
        &scene.work,
        &scene.output,
        json!({}),
        limits(256, 30),
        &mut Recorder::default(),
    );
    assert_eq!(outcome, Outcome::Succeeded { result: json!(1) });
}

#[test]
fn an_execution_log_holds_the_programs_lines_only() {
    let runtime = &runtimes()[0];
    let scene = Scene::new(&program("", "print(\"only this\")\nreturn 1"), "");
    let mut events = Recorder::default();
    build_and_run(runtime, &scene, json!({}), limits(256, 30), &mut events);
    let messages: Vec<&str> = events.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["only this"]);
}
