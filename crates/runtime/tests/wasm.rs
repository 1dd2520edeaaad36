//! The WASM runtime against a real WASI 0.2 command: the test guest
//! `tests/guests/wasm-command`, built by `scripts/build-wasm.sh wasm-command`.
#![cfg(feature = "wasm")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use qmarket_runtime::wasm::WasmRuntime;
use qmarket_runtime::{failure, Events, Invocation, Limits, LogLine, Outcome, Runtime, Severity};
use serde_json::{json, Value};
use tempfile::TempDir;

// ---- Setup & fixtures ----

const MIB: u64 = 1 << 20;

fn guest_wasm() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip2/release/wasm-command.wasm");
    assert!(
        path.is_file(),
        "{} is missing: build the test guest first with `scripts/build-wasm.sh wasm-command`",
        path.display()
    );
    path
}

/// A service directory holding `program.wasm` with `bytes`.
fn service_with(bytes: &[u8]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("program.wasm"), bytes).unwrap();
    dir
}

/// One runtime for all tests (as a worker has), with the guest built once.
fn built_guest() -> &'static (WasmRuntime, TempDir) {
    static GUEST: OnceLock<(WasmRuntime, TempDir)> = OnceLock::new();
    GUEST.get_or_init(|| {
        let runtime = WasmRuntime::new().unwrap();
        let service = service_with(&std::fs::read(guest_wasm()).unwrap());
        runtime
            .build(service.path(), &limits(), &mut |_| {})
            .expect("the test guest builds");
        (runtime, service)
    })
}

fn limits() -> Limits {
    Limits {
        milli_cpus: 1000,
        memory_bytes: 256 * MIB,
        timeout: Duration::from_secs(60),
    }
}

/// Events that remember what arrived and when, and cancel from a moment on.
#[derive(Default)]
struct Recorder {
    lines: Vec<(SystemTime, LogLine)>,
    interims: Vec<Value>,
    cancel_from: Option<Instant>,
}

impl Events for Recorder {
    fn log(&mut self, line: LogLine) {
        self.lines.push((SystemTime::now(), line));
    }

    fn interim(&mut self, result: Value) {
        self.interims.push(result);
    }

    fn cancelled(&self) -> bool {
        self.cancel_from.is_some_and(|from| Instant::now() >= from)
    }
}

impl Recorder {
    fn messages(&self) -> Vec<(Severity, &str)> {
        self.lines
            .iter()
            .map(|(_, line)| (line.severity, line.message.as_str()))
            .collect()
    }
}

/// Runs the guest with `data` and returns the outcome and the output directory.
fn run(data: Value, limits: Limits, events: &mut Recorder) -> (Outcome, TempDir) {
    let (runtime, service) = built_guest();
    let work = tempfile::tempdir().unwrap();
    let output = tempfile::tempdir().unwrap();
    let input = json!({"data": data, "params": {}});
    let outcome = runtime.run(
        service.path(),
        Invocation {
            input: &input,
            work_dir: work.path(),
            output_dir: output.path(),
            limits,
        },
        events,
    );
    (outcome, output)
}

fn result_of(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Succeeded { result } => result,
        other => panic!("expected a result, got {other:?}"),
    }
}

fn failure_of(outcome: Outcome) -> (String, String) {
    match outcome {
        Outcome::Failed { code, detail } => (code, detail),
        other => panic!("expected a failure, got {other:?}"),
    }
}

// ---- Results ----

#[test]
fn numbers_are_summed_and_the_sum_is_written_as_a_result_file() {
    let (outcome, output) = run(
        json!({"numbers": [1, 2, 39]}),
        limits(),
        &mut Recorder::default(),
    );

    assert_eq!(
        result_of(outcome),
        json!({"sum": 42, "count": 3, "files": ["sum.txt"]})
    );
    assert_eq!(
        std::fs::read_to_string(output.path().join("sum.txt")).unwrap(),
        "42"
    );
}

#[test]
fn stdout_that_is_not_json_is_an_invalid_result() {
    let (outcome, _) = run(json!({"mode": "text"}), limits(), &mut Recorder::default());

    let (code, detail) = failure_of(outcome);
    assert_eq!(code, failure::INVALID_RESULT);
    assert!(detail.contains("not JSON"), "{detail}");
}

#[test]
fn a_result_over_16_mib_is_an_invalid_result() {
    let (outcome, _) = run(
        json!({"mode": "big", "mb": 17}),
        limits(),
        &mut Recorder::default(),
    );

    let (code, detail) = failure_of(outcome);
    assert_eq!(code, failure::INVALID_RESULT);
    assert!(detail.contains("16 MiB"), "{detail}");
}

#[test]
fn a_result_under_16_mib_is_fine() {
    let (outcome, _) = run(
        json!({"mode": "big", "mb": 15}),
        limits(),
        &mut Recorder::default(),
    );

    assert_eq!(result_of(outcome).as_str().map(str::len), Some(15 << 20));
}

// ---- Limits ----

#[test]
fn a_loop_is_stopped_at_its_deadline_as_a_timeout() {
    let limits = Limits {
        timeout: Duration::from_secs(1),
        ..limits()
    };
    built_guest();
    let started = Instant::now();
    let (outcome, _) = run(json!({"mode": "loop"}), limits, &mut Recorder::default());

    assert_eq!(failure_of(outcome).0, failure::TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ended {:?} after the start, with a 1 s deadline",
        started.elapsed()
    );
}

#[test]
fn a_program_waiting_in_a_sleep_is_stopped_at_its_deadline_too() {
    let limits = Limits {
        timeout: Duration::from_secs(1),
        ..limits()
    };
    built_guest();
    let started = Instant::now();
    let (outcome, _) = run(json!({"mode": "sleep"}), limits, &mut Recorder::default());

    assert_eq!(failure_of(outcome).0, failure::TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ended {:?} after the start, with a 1 s deadline",
        started.elapsed()
    );
}

#[test]
fn allocating_past_the_memory_limit_is_a_memory_limit_failure() {
    let limits = Limits {
        memory_bytes: 64 * MIB,
        ..limits()
    };
    let (outcome, _) = run(json!({"mode": "alloc"}), limits, &mut Recorder::default());

    let (code, detail) = failure_of(outcome);
    assert_eq!(code, failure::MEMORY_LIMIT, "{detail}");
    assert!(detail.contains("64 MiB"), "{detail}");
}

#[test]
fn allocating_within_the_memory_limit_succeeds() {
    let limits = Limits {
        memory_bytes: 64 * MIB,
        ..limits()
    };
    let (outcome, _) = run(
        json!({"mode": "alloc", "limit_mb": 32}),
        limits,
        &mut Recorder::default(),
    );

    assert_eq!(result_of(outcome), json!({"allocated_mb": 32}));
}

// ---- Failures and the log ----

#[test]
fn exiting_with_code_3_fails_the_program_with_its_stderr_line_in_the_log() {
    let mut events = Recorder::default();
    let (outcome, _) = run(json!({"mode": "fail"}), limits(), &mut events);

    let (code, detail) = failure_of(outcome);
    assert_eq!(code, failure::PROGRAM_FAILED);
    // Guests linked through the preview 1 adapter (as scripts/build-wasm.sh
    // builds them with Debian's toolchain) report every failing exit as 1.
    assert!(
        detail.starts_with("the program exited with code "),
        "{detail}"
    );
    assert!(detail.contains("failing on purpose"), "{detail}");
    assert_eq!(events.messages(), [(Severity::Error, "failing on purpose")]);
}

#[test]
fn a_panic_fails_the_program_with_the_panic_message_in_the_detail() {
    let mut events = Recorder::default();
    let (outcome, _) = run(json!({"mode": "panic"}), limits(), &mut events);

    let (code, detail) = failure_of(outcome);
    assert_eq!(code, failure::PROGRAM_FAILED);
    assert!(
        detail.starts_with("the program trapped: wasm `unreachable` instruction executed"),
        "{detail}"
    );
    assert!(detail.contains("panicking on purpose"), "{detail}");
    // The trap's message only, no wasm backtrace of frames and offsets.
    assert!(!detail.contains("wasm backtrace"), "{detail}");
    assert!(!detail.contains("0x"), "{detail}");
}

#[test]
fn log_lines_arrive_while_the_program_runs() {
    let mut events = Recorder::default();
    let (outcome, _) = run(json!({"mode": "log"}), limits(), &mut events);

    let finished_at_ms = result_of(outcome)["finished_at_ms"].as_u64().unwrap();
    let finished_at = UNIX_EPOCH + Duration::from_millis(finished_at_ms);
    assert_eq!(
        events.messages(),
        [
            (Severity::Info, "starting"),
            (Severity::Warning, "halfway"),
            (Severity::Debug, "almost done"),
        ]
    );
    for (received, line) in &events.lines {
        assert!(
            *received < finished_at,
            "{:?} arrived after the program finished",
            line.message
        );
    }
}

#[test]
fn an_interim_result_line_reaches_the_events_as_an_interim_result() {
    let mut events = Recorder::default();
    let (outcome, _) = run(json!({"mode": "interim"}), limits(), &mut events);

    assert_eq!(result_of(outcome), json!({"done": true}));
    assert_eq!(events.interims, [json!({"step": 1})]);
    assert!(events.lines.is_empty());
}

// ---- Cancellation ----

#[test]
fn a_cancelled_loop_stops_within_2_s() {
    built_guest();
    let cancel_from = Instant::now() + Duration::from_millis(300);
    let mut events = Recorder {
        cancel_from: Some(cancel_from),
        ..Recorder::default()
    };
    let (outcome, _) = run(json!({"mode": "loop"}), limits(), &mut events);

    assert_eq!(outcome, Outcome::Cancelled);
    assert!(
        cancel_from.elapsed() < Duration::from_secs(2),
        "stopped {:?} after the cancellation",
        cancel_from.elapsed()
    );
}

#[test]
fn a_cancelled_sleep_stops_within_2_s() {
    built_guest();
    let cancel_from = Instant::now() + Duration::from_millis(300);
    let mut events = Recorder {
        cancel_from: Some(cancel_from),
        ..Recorder::default()
    };
    let (outcome, _) = run(json!({"mode": "sleep"}), limits(), &mut events);

    assert_eq!(outcome, Outcome::Cancelled);
    assert!(
        cancel_from.elapsed() < Duration::from_secs(2),
        "stopped {:?} after the cancellation",
        cancel_from.elapsed()
    );
}

// ---- Isolation ----

#[test]
fn the_program_cannot_reach_the_network() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let (outcome, _) = run(
        json!({"mode": "net", "port": port}),
        limits(),
        &mut Recorder::default(),
    );

    let result = result_of(outcome);
    assert_eq!(result["connect"]["ok"], json!(false), "{result}");
    assert_eq!(result["lookup"]["ok"], json!(false), "{result}");
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "the listener got a connection"
    );
}

#[test]
fn the_program_cannot_read_host_files() {
    let this_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cwd = std::env::current_dir().unwrap();
    let (outcome, _) = run(
        json!({"mode": "fs", "paths": [this_file, cwd]}),
        limits(),
        &mut Recorder::default(),
    );

    let result = result_of(outcome);
    let attempts = result["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 7, "{result}");
    for attempt in attempts {
        assert_eq!(attempt["ok"], json!(false), "{attempt}");
    }
}

#[test]
fn the_program_sees_only_its_name_and_the_output_directory_variable() {
    let (outcome, _) = run(json!({"mode": "env"}), limits(), &mut Recorder::default());

    assert_eq!(
        result_of(outcome),
        json!({"args": ["program"], "env": [["OUTPUT_DIRECTORY", "/output"]]})
    );
}

#[test]
fn two_runs_at_once_do_not_see_each_other_s_output_directories() {
    let runs = std::thread::scope(|scope| {
        let a = scope.spawn(|| {
            run(
                json!({"numbers": [1, 2], "tag": "a", "pause_ms": 500}),
                limits(),
                &mut Recorder::default(),
            )
        });
        let b = scope.spawn(|| {
            run(
                json!({"numbers": [10, 20], "tag": "b", "pause_ms": 500}),
                limits(),
                &mut Recorder::default(),
            )
        });
        [a.join().unwrap(), b.join().unwrap()]
    });

    let [(a, a_output), (b, b_output)] = runs;
    assert_eq!(result_of(a)["files"], json!(["a.txt", "sum.txt"]));
    assert_eq!(result_of(b)["files"], json!(["b.txt", "sum.txt"]));
    assert_eq!(
        std::fs::read_to_string(a_output.path().join("sum.txt")).unwrap(),
        "3"
    );
    assert_eq!(
        std::fs::read_to_string(b_output.path().join("sum.txt")).unwrap(),
        "30"
    );
}

#[test]
fn a_run_on_a_blocking_thread_of_an_async_worker_works() {
    built_guest();
    let worker = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let (outcome, _) = worker.block_on(async {
        tokio::task::spawn_blocking(|| {
            run(json!({"numbers": [5]}), limits(), &mut Recorder::default())
        })
        .await
        .unwrap()
    });

    assert_eq!(result_of(outcome)["sum"], json!(5));
}

// ---- Builds ----

fn build_failure(bytes: Option<&[u8]>) -> String {
    let runtime = &built_guest().0;
    let service = match bytes {
        Some(bytes) => service_with(bytes),
        None => tempfile::tempdir().unwrap(),
    };
    runtime
        .build(service.path(), &limits(), &mut |_| {})
        .expect_err("the build fails")
        .0
}

#[test]
fn a_core_module_fails_the_build_with_advice() {
    let failure = build_failure(Some(b"\0asm\x01\0\0\0"));

    assert!(failure.contains("core WebAssembly module"), "{failure}");
    assert!(failure.contains("wasm32-wasip2"), "{failure}");
}

#[test]
fn a_component_without_wasi_cli_run_fails_the_build() {
    // The smallest component: a header and nothing, so no export at all.
    let failure = build_failure(Some(b"\0asm\x0d\0\x01\0"));

    assert!(
        failure.contains("does not export wasi:cli/run"),
        "{failure}"
    );
}

#[test]
fn an_archive_without_program_wasm_fails_the_build() {
    let failure = build_failure(None);

    assert!(failure.contains("no program.wasm"), "{failure}");
}

#[test]
fn building_a_program_that_imports_sockets_warns_that_it_has_no_network() {
    let runtime = WasmRuntime::new().unwrap();
    let service = service_with(&std::fs::read(guest_wasm()).unwrap());

    let built = runtime
        .build(service.path(), &limits(), &mut |_| {})
        .unwrap();

    assert_eq!(built.warnings.len(), 1, "{:?}", built.warnings);
    assert!(
        built.warnings[0].contains("no network"),
        "{:?}",
        built.warnings
    );
}

#[test]
fn a_runtime_in_another_process_finds_the_compiled_program_in_the_cache_dir() {
    let cache = tempfile::tempdir().unwrap();
    let service = service_with(&std::fs::read(guest_wasm()).unwrap());
    let build = |runtime: &WasmRuntime| {
        let mut log = Vec::new();
        runtime
            .build(service.path(), &limits(), &mut |line| {
                log.push(line.message)
            })
            .unwrap();
        log
    };

    let first = build(&WasmRuntime::new().unwrap().with_cache_dir(cache.path()));
    let second = build(&WasmRuntime::new().unwrap().with_cache_dir(cache.path()));

    assert!(first[0].starts_with("compiled program.wasm"), "{first:?}");
    assert_eq!(second[0], "program.wasm was compiled before; using that");
    let cached: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].ends_with(".cwasm"), "{cached:?}");
}
