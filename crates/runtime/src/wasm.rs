//! The runtime of `WASM` services: `program.wasm`, a WASI 0.2 command
//! component (it exports `wasi:cli/run`), run on wasmtime.
//!
//! The program's contract:
//!
//! - its input, the request's `{data, params}` ([`Invocation::input`]), is
//!   on **stdin**, as JSON;
//! - its **result is the JSON it prints on stdout** (at most
//!   [`MAX_RESULT_BYTES`]);
//! - **stderr is its log**, forwarded line by line while it runs: a line
//!   starting with a level word and a colon (`ERROR:`, `WARNING:`, `WARN:`,
//!   `NOTICE:`, `INFO:`, `DEBUG:`, upper case) has that severity and the
//!   rest of the line as its message, any other line is INFO; a line
//!   `PlanQK:Job:InterimResult: {json}` ([`INTERIM_RESULT_PREFIX`]) is an
//!   interim result instead;
//! - an empty directory of this execution is preopened read-write at
//!   [`OUTPUT_DIRECTORY_GUEST_PATH`] and named by the environment variable
//!   `OUTPUT_DIRECTORY`: every file written there becomes a result file;
//! - nothing else: no other directory (there is no `INPUT_DIRECTORY`, the
//!   input is on stdin; the working directory of the [`Invocation`] is not
//!   shown to the program), no other environment variable, no argument but
//!   the program's name, no network (`wasi:sockets` is linked but refuses
//!   every socket and name lookup, so programs whose standard library
//!   imports it still load; `wasi:http` is not offered);
//! - it ends well when it returns from `main` (exit code 0) and prints JSON;
//!   a non-zero exit or a trap is [`failure::PROGRAM_FAILED`], output that
//!   is not JSON [`failure::INVALID_RESULT`].
//!
//! Limits: the guest's linear memories together may not grow past
//! [`Limits::memory_bytes`] ([`failure::MEMORY_LIMIT`] when the program
//! failed after a growth was refused; the host's own buffers for it are
//! bounded apart: stdout by [`MAX_RESULT_BYTES`], unforwarded stderr by
//! 64 KiB); [`Limits::timeout`] is a wall-clock deadline from the
//! program's instantiation ([`failure::TIMEOUT`]); [`Events::cancelled`] is
//! asked every 100 ms. A program gets at most one core (WASI 0.2 has no
//! threads), so [`Limits::milli_cpus`] is not enforced here. What the
//! program writes to its output directory is bounded by the worker's disk,
//! not here.
//!
//! Compiled programs are kept in memory (the last 16) and, with
//! [`WasmRuntime::with_cache_dir`], on disk, so a run after a build in
//! another process loads instead of compiling.
//!
//! # Example
//!
//! ```no_run
//! use qmarket_runtime::wasm::WasmRuntime;
//! use qmarket_runtime::{Events, Invocation, Limits, LogLine, Outcome, Runtime};
//! use std::time::Duration;
//!
//! struct Print;
//! impl Events for Print {
//!     fn log(&mut self, line: LogLine) {
//!         println!("{:?} {}", line.severity, line.message);
//!     }
//!     fn interim(&mut self, result: serde_json::Value) {
//!         println!("interim: {result}");
//!     }
//!     fn cancelled(&self) -> bool {
//!         false
//!     }
//! }
//!
//! let runtime = WasmRuntime::new()?.with_cache_dir("/var/cache/qmarket/wasm");
//! let source = std::path::Path::new("/srv/builds/svc_1"); // holds program.wasm
//! let limits = Limits {
//!     milli_cpus: 1000,
//!     memory_bytes: 256 << 20,
//!     timeout: Duration::from_secs(60),
//! };
//! runtime.build(source, &limits, &mut |line| println!("{}", line.message))?;
//!
//! let input = serde_json::json!({"data": {"numbers": [1, 2, 3]}, "params": {}});
//! let (work, output) = (tempfile::tempdir()?, tempfile::tempdir()?);
//! let invocation = Invocation {
//!     input: &input,
//!     work_dir: work.path(),
//!     output_dir: output.path(),
//!     limits,
//! };
//! match runtime.run(source, invocation, &mut Print) {
//!     Outcome::Succeeded { result } => println!("result: {result}"),
//!     other => println!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How an execution is driven
//!
//! Each execution gets a fresh [`Store`] (executions share only the
//! [`Engine`] and the compiled program) and runs on the calling thread, in
//! a current-thread tokio runtime of its own, so [`Events`] need not be
//! `Send`. The guest is an async wasmtime call; a ticker thread advances
//! the engine's epoch every 10 ms and the store yields to the loop at each
//! tick, so the loop regains control from a guest that computes as well as
//! from one that waits in a host call (a sleep, a blocking read). The loop
//! forwards stderr, and on the deadline or a cancellation drops the call,
//! which ends the guest wherever it is.

mod compiled_cache;
mod log_stream;
mod memory_budget;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::time::Instant;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, UpdateDeadline};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub use log_stream::INTERIM_RESULT_PREFIX;

use crate::{
    failure, BuildFailure, Built, Events, Invocation, Limits, LogLine, Outcome, Runtime, Severity,
};
use log_stream::{Line, LineSplitter, LogStream};
use memory_budget::MemoryBudget;

/// The file a `WASM` service's archive holds at its root.
pub const PROGRAM_FILE: &str = "program.wasm";

/// Where the program finds its output directory.
pub const OUTPUT_DIRECTORY_GUEST_PATH: &str = "/output";

/// The environment variable naming [`OUTPUT_DIRECTORY_GUEST_PATH`].
pub const OUTPUT_DIRECTORY_VARIABLE: &str = "OUTPUT_DIRECTORY";

/// The program's only argument (`argv[0]`).
pub const PROGRAM_NAME: &str = "program";

/// The most bytes the result on stdout may have.
pub const MAX_RESULT_BYTES: usize = 16 << 20;

/// How often the engine's epoch advances: the longest a guest computes
/// before the loop that watches the deadline and cancellation runs again.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How often [`Events::cancelled`] is asked (the contract says at most 250 ms).
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Compiled programs kept in memory, most recently loaded last.
const LOADED_PROGRAMS: usize = 16;

/// The last log lines quoted in the detail of a failure.
const DETAIL_LOG_LINES: usize = 3;

/// The most characters of log quoted in the detail of a failure.
const DETAIL_LOG_CHARS: usize = 400;

/// Why a [`WasmRuntime`] could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// wasmtime refused the engine's configuration.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// WASI could not be added to the linker.
    #[error("cannot link WASI: {0}")]
    Linker(String),
    /// The thread that advances the engine's epoch could not start.
    #[error("cannot start the epoch ticker: {0}")]
    Ticker(#[source] std::io::Error),
}

/// The runtime of `WASM` services (see the [module docs](self)).
///
/// [`Runtime::run`] blocks the calling thread until the program ends, and
/// drives it with an executor of its own: call it from a thread of its own
/// (or tokio's `spawn_blocking`), never from inside an async task.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<Execution>,
    cache_dir: Option<PathBuf>,
    /// Ready-to-instantiate programs by cache key, most recent last.
    loaded: Mutex<VecDeque<(String, InstancePre<Execution>)>>,
}

/// The state of one execution's store.
struct Execution {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryBudget,
}

impl WasiView for Execution {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A loaded program and where it came from (for the build's log).
struct Loaded {
    pre: InstancePre<Execution>,
    from: LoadedFrom,
}

enum LoadedFrom {
    Memory,
    Disk,
    Compiled(Duration),
}

impl WasmRuntime {
    /// A runtime with its own engine and no disk cache: a program built in
    /// another process is compiled again on its first run here.
    pub fn new() -> Result<Self, SetupError> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| SetupError::Engine(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        // All of WASI 0.2's CLI world; the context of each execution takes
        // away what it may not use (sockets, host directories).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| SetupError::Linker(format!("{e:#}")))?;

        let ticked = engine.weak();
        std::thread::Builder::new()
            .name("qmarket-wasm-epoch".into())
            .spawn(move || {
                // Ends with the engine (when the runtime and every store are gone).
                while let Some(engine) = ticked.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(SetupError::Ticker)?;

        Ok(WasmRuntime {
            engine,
            linker,
            cache_dir: None,
            loaded: Mutex::new(VecDeque::new()),
        })
    }

    /// Keeps compiled programs in `dir`, so runs in other processes load
    /// them instead of compiling. `dir` must be written by the platform
    /// only (loading a compiled program runs its native code): never a
    /// directory inside a service's unpacked archive.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Reads, checks and compiles (or finds compiled) `source/program.wasm`.
    fn load(&self, source: &Path) -> Result<Loaded, BuildFailure> {
        let path = source.join(PROGRAM_FILE);
        let wasm = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                BuildFailure(format!("the archive holds no {PROGRAM_FILE} at its root"))
            }
            _ => BuildFailure(format!("cannot read {PROGRAM_FILE}: {e}")),
        })?;
        check_header(&wasm)?;

        let key = compiled_cache::key(&self.engine, &wasm);
        if let Some(pre) = self.loaded_program(&key) {
            return Ok(Loaded {
                pre,
                from: LoadedFrom::Memory,
            });
        }
        let cached = self
            .cache_dir
            .as_deref()
            .and_then(|dir| compiled_cache::load(&self.engine, dir, &key));
        let (component, from) = match cached {
            Some(component) => (component, LoadedFrom::Disk),
            None => {
                let started = std::time::Instant::now();
                let component = Component::new(&self.engine, &wasm).map_err(|e| {
                    BuildFailure(format!("{PROGRAM_FILE} is not a valid component: {e:#}"))
                })?;
                if let Some(dir) = &self.cache_dir {
                    compiled_cache::store(dir, &key, &component);
                }
                (component, LoadedFrom::Compiled(started.elapsed()))
            }
        };
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            BuildFailure(format!(
                "{PROGRAM_FILE} needs imports WASM services do not offer \
                 (they get WASI 0.2's command world, without network): {e:#}"
            ))
        })?;
        CommandPre::new(pre.clone()).map_err(|_| {
            BuildFailure(format!(
                "{PROGRAM_FILE} does not export wasi:cli/run: build it as a WASI 0.2 \
                 command (a program with a main function, e.g. a Rust binary for \
                 wasm32-wasip2), not as a library"
            ))
        })?;

        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.len() == LOADED_PROGRAMS {
            loaded.pop_front();
        }
        loaded.push_back((key, pre.clone()));
        Ok(Loaded { pre, from })
    }

    fn loaded_program(&self, key: &str) -> Option<InstancePre<Execution>> {
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        loaded
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, pre)| pre.clone())
    }

    /// The WASI context of one execution: stdio, the output directory, one
    /// variable and one argument, and no network.
    fn wasi(
        &self,
        invocation: &Invocation<'_>,
        stdout: MemoryOutputPipe,
        stderr: LogStream,
    ) -> Result<WasiCtx, String> {
        let input = serde_json::to_vec(invocation.input).map_err(|e| e.to_string())?;
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdin(MemoryInputPipe::new(input))
            .stdout(stdout)
            .stderr(stderr)
            .arg(PROGRAM_NAME)
            .env(OUTPUT_DIRECTORY_VARIABLE, OUTPUT_DIRECTORY_GUEST_PATH)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        builder
            .preopened_dir(
                invocation.output_dir,
                OUTPUT_DIRECTORY_GUEST_PATH,
                FsPerms::ReadWrite,
            )
            .map_err(|e| format!("cannot open the output directory: {e:#}"))?;
        Ok(builder.build())
    }
}

/// Refuses what is not a WebAssembly component, saying what it is instead.
fn check_header(wasm: &[u8]) -> Result<(), BuildFailure> {
    const MAGIC: &[u8] = b"\0asm";
    // After the magic: a 2-byte version and a 2-byte layer (0 for core
    // modules, 1 for components).
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    if wasm.len() < 8 || &wasm[..4] != MAGIC {
        return Err(BuildFailure(format!(
            "{PROGRAM_FILE} is not a WebAssembly binary"
        )));
    }
    if wasm[4..8] == CORE_MODULE {
        return Err(BuildFailure(format!(
            "{PROGRAM_FILE} is a core WebAssembly module; build a WASI 0.2 command \
             component, e.g. for wasm32-wasip2"
        )));
    }
    if wasm[6..8] != [1, 0] {
        return Err(BuildFailure(format!(
            "{PROGRAM_FILE} is neither a WebAssembly module nor a component this \
             platform knows (unknown header)"
        )));
    }
    Ok(())
}

/// How the guest's call ended, when it ended by itself.
enum GuestError {
    /// Instantiation failed.
    Start(wasmtime::Error),
    /// The run trapped or exited.
    Run(wasmtime::Error),
}

/// How the loop left the execution.
enum Ending {
    Ended(Result<Result<(), ()>, GuestError>),
    TimedOut,
    Cancelled,
}

/// Forwards stderr's lines to the events.
struct Forwarder<'e> {
    stream: LogStream,
    splitter: LineSplitter,
    events: &'e mut dyn Events,
    /// The last few messages, for the detail of a failure.
    recent: VecDeque<String>,
}

impl Forwarder<'_> {
    fn forward(&mut self) {
        let bytes = self.stream.take();
        if bytes.is_empty() {
            return;
        }
        for line in self.splitter.push(&bytes, SystemTime::now()) {
            self.deliver(line);
        }
    }

    fn finish(&mut self) {
        self.forward();
        if let Some(line) = self.splitter.finish(SystemTime::now()) {
            self.deliver(line);
        }
    }

    fn deliver(&mut self, line: Line) {
        match line {
            Line::Log(line) => {
                if !line.message.trim().is_empty() {
                    if self.recent.len() == DETAIL_LOG_LINES {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(line.message.trim().to_string());
                }
                self.events.log(line);
            }
            Line::Interim(result) => self.events.interim(result),
        }
    }

    /// `detail`, followed by the last lines of the log when there are any.
    fn with_recent_log(&self, detail: String) -> String {
        if self.recent.is_empty() {
            return detail;
        }
        let lines: Vec<&str> = self.recent.iter().map(String::as_str).collect();
        let mut quoted = lines.join(" | ");
        if quoted.chars().count() > DETAIL_LOG_CHARS {
            quoted = quoted.chars().take(DETAIL_LOG_CHARS).collect::<String>() + "…";
        }
        format!("{detail}; its log ended with: {quoted}")
    }
}

/// Runs the guest until it ends, the deadline passes or the execution is
/// cancelled, forwarding stderr meanwhile.
async fn drive(
    store: &mut Store<Execution>,
    command: &CommandPre<Execution>,
    log: &mut Forwarder<'_>,
    timeout: Duration,
) -> Ending {
    let started = Instant::now();
    let deadline = started.checked_add(timeout).unwrap_or(started + YEAR);
    let mut next_check = started + CANCEL_POLL;
    let guest = async {
        let command = command
            .instantiate_async(&mut *store)
            .await
            .map_err(GuestError::Start)?;
        command
            .wasi_cli_run()
            .call_run(&mut *store)
            .await
            .map_err(GuestError::Run)
    };
    tokio::pin!(guest);
    let stream = log.stream.clone();
    loop {
        tokio::select! {
            biased;
            ended = &mut guest => return Ending::Ended(ended),
            () = stream.written() => {}
            () = tokio::time::sleep_until(next_check.min(deadline)) => {}
        }
        log.forward();
        let now = Instant::now();
        if now >= deadline {
            return Ending::TimedOut;
        }
        if now >= next_check {
            next_check = now + CANCEL_POLL;
            if log.events.cancelled() {
                return Ending::Cancelled;
            }
        }
    }
}

/// Stands in for a deadline too far to represent.
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

impl Runtime for WasmRuntime {
    fn build(
        &self,
        source: &Path,
        _limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Built, BuildFailure> {
        let loaded = self.load(source)?;
        log(LogLine::now(
            Severity::Info,
            match loaded.from {
                LoadedFrom::Compiled(took) => {
                    format!("compiled {PROGRAM_FILE} in {} ms", took.as_millis())
                }
                LoadedFrom::Disk | LoadedFrom::Memory => {
                    format!("{PROGRAM_FILE} was compiled before; using that")
                }
            },
        ));
        let component = loaded.pre.component();
        let imports: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        log(LogLine::now(
            Severity::Debug,
            format!("{PROGRAM_FILE} imports {}", imports.join(", ")),
        ));
        let mut warnings = Vec::new();
        if imports.iter().any(|name| name.starts_with("wasi:sockets/")) {
            warnings.push(format!(
                "{PROGRAM_FILE} imports wasi:sockets, but WASM services have no network: \
                 its connections and name lookups will be refused"
            ));
        }
        for warning in &warnings {
            log(LogLine::now(Severity::Warning, warning.clone()));
        }
        log(LogLine::now(
            Severity::Info,
            format!("{PROGRAM_FILE} is a WASI 0.2 command component"),
        ));
        Ok(Built { warnings })
    }

    fn run(&self, source: &Path, invocation: Invocation<'_>, events: &mut dyn Events) -> Outcome {
        if events.cancelled() {
            return Outcome::Cancelled;
        }
        let not_started = |detail: String| Outcome::failed(failure::NOT_STARTED, detail);
        let command = match self
            .load(source)
            .and_then(|loaded| CommandPre::new(loaded.pre).map_err(|e| BuildFailure(e.to_string())))
        {
            Ok(command) => command,
            Err(BuildFailure(detail)) => return not_started(detail),
        };
        let stdout = MemoryOutputPipe::new(MAX_RESULT_BYTES + 1);
        let stderr = LogStream::new();
        let wasi = match self.wasi(&invocation, stdout.clone(), stderr.clone()) {
            Ok(wasi) => wasi,
            Err(detail) => return not_started(detail),
        };
        let mut store = Store::new(
            &self.engine,
            Execution {
                wasi,
                table: ResourceTable::new(),
                memory: MemoryBudget::new(invocation.limits.memory_bytes),
            },
        );
        store.limiter(|execution| &mut execution.memory);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));

        let tokio = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(tokio) => tokio,
            Err(e) => return not_started(format!("cannot start the executor: {e}")),
        };
        let mut log = Forwarder {
            stream: stderr,
            splitter: LineSplitter::default(),
            events,
            recent: VecDeque::new(),
        };
        let ending = tokio.block_on(drive(
            &mut store,
            &command,
            &mut log,
            invocation.limits.timeout,
        ));
        log.finish();
        // Blocking file operations still under way finish before the worker
        // collects the output directory.
        tokio.shutdown_timeout(Duration::from_secs(5));

        outcome(
            ending,
            store.data().memory.refused(),
            &stdout,
            &log,
            &invocation.limits,
        )
    }
}

/// The outcome of an execution that ended as `ending`.
fn outcome(
    ending: Ending,
    memory_refused: bool,
    stdout: &MemoryOutputPipe,
    log: &Forwarder<'_>,
    limits: &Limits,
) -> Outcome {
    let failed = Outcome::failed;
    let ended = match ending {
        Ending::Cancelled => return Outcome::Cancelled,
        Ending::TimedOut => {
            return failed(
                failure::TIMEOUT,
                format!(
                    "the program ran longer than its time limit of {:?}",
                    limits.timeout
                ),
            )
        }
        Ending::Ended(ended) => ended,
    };
    let failure = match ended {
        Ok(Ok(())) => None,
        Ok(Err(())) => Some((
            failure::PROGRAM_FAILED,
            "the program ended with a failure status".to_string(),
        )),
        Err(GuestError::Start(e)) if e.downcast_ref::<wasmtime::Trap>().is_none() => Some((
            failure::NOT_STARTED,
            format!("the program could not start: {e}"),
        )),
        Err(GuestError::Start(e) | GuestError::Run(e)) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(0)) => None,
            Some(I32Exit(code)) => Some((
                failure::PROGRAM_FAILED,
                format!("the program exited with code {code}"),
            )),
            None => Some((failure::PROGRAM_FAILED, trap_detail(&e))),
        },
    };
    if memory_refused && failure.is_some() {
        return failed(
            failure::MEMORY_LIMIT,
            format!(
                "the program needed more memory than its limit of {}",
                bytes_in_words(limits.memory_bytes)
            ),
        );
    }
    let output = stdout.contents();
    if output.len() > MAX_RESULT_BYTES {
        return failed(
            failure::INVALID_RESULT,
            format!(
                "the program printed more than {} on stdout; its result must be smaller",
                bytes_in_words(MAX_RESULT_BYTES as u64)
            ),
        );
    }
    if let Some((code, detail)) = failure {
        return failed(code, log.with_recent_log(detail));
    }
    if output.iter().all(u8::is_ascii_whitespace) {
        return failed(
            failure::INVALID_RESULT,
            "the program printed nothing on stdout; its result must be JSON there".to_string(),
        );
    }
    match serde_json::from_slice::<Value>(&output) {
        Ok(result) => Outcome::Succeeded { result },
        Err(e) => failed(
            failure::INVALID_RESULT,
            format!("the program's stdout is not JSON ({e}); its result must be JSON there"),
        ),
    }
}

/// What a failed call says, short: the trap's message, without the host's
/// or the guest's backtrace.
fn trap_detail(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => {
            let message = trap.to_string();
            let message = message.strip_prefix("wasm trap: ").unwrap_or(&message);
            format!("the program trapped: {message}")
        }
        None => format!("the program failed: {}", error.root_cause()),
    }
}

/// `bytes` as MiB when whole, else as bytes.
fn bytes_in_words(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_is_told_to_become_a_component() {
        let failure = check_header(b"\0asm\x01\0\0\0").unwrap_err();
        assert!(failure.0.contains("core WebAssembly module"), "{failure}");
        assert!(failure.0.contains("wasm32-wasip2"), "{failure}");
    }

    #[test]
    fn bytes_that_are_not_wasm_are_refused() {
        assert!(check_header(b"#!/bin/sh\n").is_err());
        assert!(check_header(b"\0as").is_err());
    }

    #[test]
    fn a_component_header_passes() {
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn sizes_read_as_mebibytes_when_whole() {
        assert_eq!(bytes_in_words(64 << 20), "64 MiB");
        assert_eq!(bytes_in_words(1000), "1000 bytes");
    }
}
