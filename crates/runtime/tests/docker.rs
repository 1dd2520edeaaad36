//! The `DOCKER` runtime against a stand-in container engine: a script that
//! answers `info`, `build`, `image inspect`, `run`, `inspect`, `kill` and
//! `rm` as an engine does, and records every command line it was given.
//! What a real engine does with those command lines (namespaces, cgroups)
//! is the engine's; what is tested here is what the runtime asks of it and
//! how it reads the answers.
#![cfg(feature = "docker")]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use qmarket_runtime::docker::{DockerRuntime, Engine};
use qmarket_runtime::{failure, Invocation, Limits, Outcome, Runtime};
use serde_json::{json, Value};

mod support;
use support::Recorder;

/// A stand-in engine. `run` reads the input directory it was given with
/// `--volume` and behaves as `data.json`'s `mode` says.
const FAKE_ENGINE: &str = r#"#!/bin/sh
state=@STATE@
echo "$*" >> "$state/commands"
case "$1" in
  info) exit 0 ;;
  image) [ -f "$state/image" ] ;;
  build) echo "STEP 1/1: FROM scratch"; touch "$state/image"; exit 0 ;;
  inspect) if [ -f "$state/oom" ]; then echo true; else echo false; fi ;;
  kill|rm) exit 0 ;;
  run)
    while [ $# -gt 0 ]; do
      case "$1" in
        --volume)
          case "$2" in
            *:/var/input:ro) input="${2%:/var/input:ro}" ;;
            *:/var/runtime/output) output="${2%:/var/runtime/output}" ;;
          esac
          shift ;;
      esac
      shift
    done
    data=$(cat "$input/data.json")
    case "$data" in
      *sleep*) exec sleep 30 ;;
      *fail*) echo "about to fail" >&2; exit 3 ;;
      *oom*) touch "$state/oom"; exit 137 ;;
    esac
    echo "hello from the container"
    echo 'PlanQK:Job:InterimResult: {"step": 1}'
    echo "a report" > "$output/report.txt"
    echo "PlanQK:Job:MultilineResult"
    echo '{"data":'
    echo "$data"
    echo ',"params":'
    cat "$input/params.json"
    echo '}'
    echo "PlanQK:Job:MultilineResult"
    ;;
esac
"#;

/// A scene: the stand-in engine, a service's unpacked archive, and the
/// directories of one execution.
struct Scene {
    dir: tempfile::TempDir,
    runtime: DockerRuntime,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        let engine = dir.path().join("fake-engine");
        fs::write(
            &engine,
            FAKE_ENGINE.replace("@STATE@", &state.to_string_lossy()),
        )
        .unwrap();
        fs::set_permissions(&engine, fs::Permissions::from_mode(0o755)).unwrap();
        let source = dir.path().join("source");
        fs::create_dir(&source).unwrap();
        fs::write(source.join("Dockerfile"), "FROM scratch\n").unwrap();
        fs::create_dir(dir.path().join("output")).unwrap();
        let runtime = DockerRuntime::with_engine(Engine::at(&engine));
        Scene { dir, runtime }
    }

    fn source(&self) -> PathBuf {
        self.dir.path().join("source")
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("output")
    }

    /// Whether the engine was told to kill an execution's container.
    fn killed_a_container(&self) -> bool {
        self.commands()
            .iter()
            .any(|c| c.starts_with("kill qmarket-exe-"))
    }

    /// The command lines the engine was given so far.
    fn commands(&self) -> Vec<String> {
        fs::read_to_string(self.dir.path().join("state/commands"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn run(&self, data: Value, timeout: Duration, events: &mut Recorder) -> Outcome {
        let input = json!({"data": data, "params": {"shots": 10}});
        self.run_request(&input, timeout, events)
    }

    /// Runs the service once for the request `input`.
    fn run_request(&self, input: &Value, timeout: Duration, events: &mut Recorder) -> Outcome {
        let work = tempfile::tempdir_in(self.dir.path()).unwrap();
        let output = self.output();
        let invocation = Invocation {
            input,
            work_dir: work.path(),
            output_dir: &output,
            limits: Limits {
                milli_cpus: 500,
                memory_bytes: 128 << 20,
                timeout,
            },
        };
        self.runtime.run(&self.source(), invocation, events)
    }
}

fn code(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Failed { code, .. } => code,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn without_a_usable_engine_a_build_fails_at_once_saying_why() {
    let runtime = DockerRuntime::with_engine(Engine::at("/nonexistent/podman"));
    let source = tempfile::tempdir().unwrap();
    fs::write(source.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    let failure = runtime
        .build(
            source.path(),
            &Limits {
                milli_cpus: 1000,
                memory_bytes: 1 << 30,
                timeout: Duration::from_secs(60),
            },
            &mut |_| {},
        )
        .unwrap_err();
    assert!(
        failure.0.contains("no usable container engine")
            && failure.0.contains("/nonexistent/podman"),
        "{failure}"
    );
    assert!(failure.0.contains("install podman or docker"), "{failure}");
}

#[test]
fn a_docker_client_whose_daemon_is_not_running_is_no_engine() {
    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("docker");
    fs::write(
        &client,
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&client, fs::Permissions::from_mode(0o755)).unwrap();
    let why = Engine::at(&client).unwrap_err();
    assert!(why.contains("Cannot connect to the Docker daemon"), "{why}");
}

#[test]
fn a_container_gets_its_input_files_and_its_result_log_interim_results_and_files_are_taken() {
    let scene = Scene::new();
    let mut build_log = Vec::new();
    scene
        .runtime
        .build(
            &scene.source(),
            &Limits {
                milli_cpus: 500,
                memory_bytes: 128 << 20,
                timeout: Duration::from_secs(60),
            },
            &mut |line| build_log.push(line.message),
        )
        .expect("the image builds");
    assert!(
        build_log.iter().any(|l| l == "STEP 1/1: FROM scratch"),
        "the engine's output is the build log: {build_log:?}"
    );
    let mut events = Recorder::default();
    let outcome = scene.run(
        json!({"numbers": [1, 2]}),
        Duration::from_secs(30),
        &mut events,
    );
    assert_eq!(
        outcome,
        Outcome::Succeeded {
            result: json!({"data": {"numbers": [1, 2]}, "params": {"shots": 10}})
        }
    );
    assert!(
        events.severity_of("hello from the container").is_some(),
        "{}",
        events.text()
    );
    assert!(
        !events.text().contains("PlanQK:Job"),
        "result and interim lines are not log lines: {}",
        events.text()
    );
    assert_eq!(events.interims, [json!({"step": 1})]);
    assert_eq!(
        fs::read_to_string(scene.output().join("report.txt")).unwrap(),
        "a report\n"
    );
    let commands = scene.commands();
    let run = commands
        .iter()
        .find(|c| c.starts_with("run "))
        .expect("a run command");
    for expected in [
        "--network none",
        "--memory 134217728",
        "--cpus 0.500",
        "--cap-drop ALL",
    ] {
        assert!(run.contains(expected), "{expected} in {run}");
    }
    let name = run.split_whitespace().nth(2).unwrap();
    assert!(
        commands.iter().any(|c| c == &format!("rm --force {name}")),
        "the container is removed after it ran: {commands:?}"
    );
}

#[test]
fn the_image_of_the_same_files_is_built_once() {
    let scene = Scene::new();
    let limits = Limits {
        milli_cpus: 500,
        memory_bytes: 128 << 20,
        timeout: Duration::from_secs(60),
    };
    scene
        .runtime
        .build(&scene.source(), &limits, &mut |_| {})
        .unwrap();
    let mut second = Vec::new();
    scene
        .runtime
        .build(&scene.source(), &limits, &mut |line| {
            second.push(line.message)
        })
        .unwrap();
    let builds = scene
        .commands()
        .iter()
        .filter(|c| c.starts_with("build "))
        .count();
    assert_eq!(builds, 1, "{:?}", scene.commands());
    assert!(
        second.iter().any(|l| l.contains("was built before")),
        "{second:?}"
    );
}

#[test]
fn a_worker_that_did_not_build_the_image_builds_it_before_the_first_run() {
    let scene = Scene::new();
    let outcome = scene.run(json!({}), Duration::from_secs(30), &mut Recorder::default());
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    let commands = scene.commands();
    let build = commands
        .iter()
        .position(|c| c.starts_with("build "))
        .expect("built");
    let run = commands
        .iter()
        .position(|c| c.starts_with("run "))
        .expect("ran");
    assert!(build < run, "{commands:?}");
}

#[test]
fn a_container_past_its_deadline_is_killed_and_fails_with_timeout() {
    let scene = Scene::new();
    let outcome = scene.run(
        json!({"mode": "sleep"}),
        Duration::from_secs(1),
        &mut Recorder::default(),
    );
    assert_eq!(code(&outcome), failure::TIMEOUT, "{outcome:?}");
    assert!(scene.killed_a_container(), "{:?}", scene.commands());
}

#[test]
fn a_cancelled_execution_kills_its_container() {
    let scene = Scene::new();
    let mut events = Recorder {
        cancel_on: Some("image"),
        ..Recorder::default()
    };
    let outcome = scene.run(
        json!({"mode": "sleep"}),
        Duration::from_secs(60),
        &mut events,
    );
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(scene.killed_a_container(), "{:?}", scene.commands());
}

#[test]
fn a_non_zero_exit_and_an_oom_kill_fail_as_the_contract_says() {
    let scene = Scene::new();
    let mut events = Recorder::default();
    let outcome = scene.run(
        json!({"mode": "fail"}),
        Duration::from_secs(30),
        &mut events,
    );
    assert_eq!(
        outcome,
        Outcome::Failed {
            code: failure::PROGRAM_FAILED.into(),
            detail: "the container exited with code 3".into()
        }
    );
    assert!(
        events.text().contains("about to fail"),
        "stderr is logged: {}",
        events.text()
    );
    let outcome = scene.run(
        json!({"mode": "oom"}),
        Duration::from_secs(30),
        &mut Recorder::default(),
    );
    assert_eq!(code(&outcome), failure::MEMORY_LIMIT, "{outcome:?}");
}

#[test]
fn a_request_that_is_not_an_object_is_invalid_input() {
    let scene = Scene::new();
    let outcome = scene.run_request(
        &json!([1, 2]),
        Duration::from_secs(5),
        &mut Recorder::default(),
    );
    assert_eq!(code(&outcome), failure::INVALID_INPUT);
}
