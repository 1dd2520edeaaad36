//! The worker: builds and runs managed services' code, anywhere, talking to
//! the platform over HTTP only (`qmarket_managed::protocol`).
//!
//! A worker asks the platform for work, and for each job it gets:
//!
//! 1. fetches the build's archive (chunk by chunk, checked against its
//!    SHA-256) and unpacks it once per build into its work directory
//!    (`qmarket-archive`, which checks it again);
//! 2. beats every couple of seconds while it works: the answer says when to
//!    stop (the execution was cancelled, the build superseded) and whether
//!    the attempt is still its own (a worker that was thought dead and came
//!    back stops without reporting);
//! 3. runs the service's runtime ([`qmarket_runtime::Runtime`]): a build
//!    prepares the code, an execution runs it once in a fresh directory,
//!    its log lines and interim results sent as they come;
//! 4. uploads the result and result files and reports the end, retrying
//!    until the platform has it.
//!
//! Any number of workers may run on any machines: the platform's leases
//! give each attempt to one of them.
#![deny(missing_docs)]

mod client;
mod job;
mod source;

pub use client::{ClientError, Platform};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use qmarket_core::secret::Secret;
use qmarket_managed::protocol::ClaimRequest;
use qmarket_model::Runtime;
use qmarket_runtime::docker::{DockerRuntime, Engine};

/// How a worker is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The platform's base URL.
    pub platform: String,
    /// The worker credential.
    pub token: Secret,
    /// Where archives, builds and executions' directories live.
    pub work_dir: PathBuf,
    /// A name for the worker in the platform's logs.
    pub name: String,
    /// How long to wait between claims while there is no work.
    pub idle_poll: Duration,
}

/// The runtimes a worker has.
#[derive(Default)]
pub struct Runtimes {
    by_kind: HashMap<Runtime, Box<dyn qmarket_runtime::Runtime>>,
}

impl Runtimes {
    /// No runtime yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// This set with `runtime` for `kind`.
    pub fn with(mut self, kind: Runtime, runtime: impl qmarket_runtime::Runtime + 'static) -> Self {
        self.by_kind.insert(kind, Box::new(runtime));
        self
    }

    /// The runtime for `kind`.
    pub fn get(&self, kind: Runtime) -> Option<&dyn qmarket_runtime::Runtime> {
        self.by_kind.get(&kind).map(|r| r.as_ref())
    }

    /// The kinds it runs.
    pub fn kinds(&self) -> Vec<Runtime> {
        let mut kinds: Vec<Runtime> = self.by_kind.keys().copied().collect();
        kinds.sort_by_key(|k| format!("{k:?}"));
        kinds
    }
}

/// The runtimes this machine can give the worker, with their caches under
/// `work_dir`: one that cannot be set up here (no `python3`, no sandbox)
/// is left out with a warning, and the worker never claims its jobs. The
/// `DOCKER` runtime uses `container_engine` (a path or a name on `PATH`),
/// or the first of `podman` and `docker` that works; without one it is
/// kept, and fails each build at once with the reason.
pub fn default_runtimes(
    work_dir: &std::path::Path,
    container_engine: Option<&std::path::Path>,
) -> Runtimes {
    let mut runtimes = Runtimes::new();
    match qmarket_runtime::wasm::WasmRuntime::new() {
        Ok(wasm) => {
            runtimes = runtimes.with(
                Runtime::Wasm,
                wasm.with_cache_dir(work_dir.join("wasm-cache")),
            )
        }
        Err(e) => eprintln!("worker: no WASM runtime here: {e}"),
    }
    match qmarket_runtime::python::PythonRuntime::new(work_dir.join("python")) {
        Ok(python) => runtimes = runtimes.with(Runtime::PythonTemplate, python),
        Err(e) => eprintln!("worker: no PYTHON_TEMPLATE runtime here: {e}"),
    }
    // Kept without an engine: its builds then fail at once, saying why.
    let docker = DockerRuntime::with_engine(match container_engine {
        Some(program) => Engine::at(program),
        None => Engine::find(),
    });
    match docker.engine() {
        Ok(engine) => eprintln!(
            "worker: DOCKER services run on {}",
            engine.program().display()
        ),
        Err(why) => {
            eprintln!("worker: no container engine here ({why}): builds of DOCKER services fail")
        }
    }
    runtimes.with(Runtime::Docker, docker)
}

/// Works until `stop` is set: claims a job, does it, claims the next;
/// waits [`Config::idle_poll`] while there is none, and a second after the
/// platform could not be reached.
pub fn run(config: &Config, runtimes: &Runtimes, stop: &AtomicBool) {
    let platform = Platform::new(&config.platform, config.token.clone());
    let mut hint = 0;
    while !stop.load(Ordering::Relaxed) {
        let request = ClaimRequest {
            worker: config.name.clone(),
            runtimes: runtimes.kinds(),
            hint,
        };
        match platform.claim(&request) {
            Ok(answer) => {
                hint = answer.hint;
                match answer.job {
                    Some(assignment) => {
                        let what = format!(
                            "{:?} {} (attempt {})",
                            assignment.kind, assignment.id, assignment.attempt
                        );
                        eprintln!("worker {}: started {what}", config.name);
                        let started = Instant::now();
                        job::work(&platform, config, runtimes, &assignment);
                        let took = started.elapsed().as_millis();
                        eprintln!("worker {}: finished {what} in {took} ms", config.name);
                    }
                    None => std::thread::sleep(config.idle_poll),
                }
            }
            Err(e) => {
                eprintln!("worker {}: claiming work failed: {e}", config.name);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
