//! One run of a project on this machine, through a worker's steps: the
//! project packed, the archive checked and unpacked by the platform's own
//! rules (`qmarket-archive`), built and run once by the runtime a worker
//! uses (`qmarket-runtime`), under the project's resources.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qmarket_runtime::docker::{DockerRuntime, Engine};
use qmarket_runtime::python::{Isolation, PythonRuntime};
use qmarket_runtime::wasm::WasmRuntime;
use qmarket_runtime::{Events, Invocation, Limits, LogLine, Outcome, Severity};
use serde_json::Value;

use crate::{pack, Project, ProjectError, Resources, Runtime};

/// The platform's default CPU share of an execution (thousandths of a core).
pub(crate) const DEFAULT_MILLI_CPUS: u32 = 1000;
/// The platform's default memory of an execution, MiB.
pub(crate) const DEFAULT_MEMORY_IN_MEGABYTES: u32 = 2048;
/// The platform's default timeout of an execution, seconds.
pub(crate) const DEFAULT_TIMEOUT_SECONDS: u32 = 3600;

/// Where local runs keep their environments by default: the user's cache
/// directory (`~/.cache/qmarket` on Linux).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("qmarket"))
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct LocalRun<'a> {
    /// The project.
    pub project: &'a Project,
    /// The request (`{data, params}`).
    pub input: &'a Value,
    /// Where environments and scratch folders live; environments are kept
    /// for the next run with the same dependencies.
    pub cache_dir: &'a Path,
    /// Where the result files are copied (created if missing).
    pub output_dir: &'a Path,
}

/// Where a local run reports to while it works.
pub trait LocalRunEvents {
    /// A line of the build's log.
    fn build_log(&mut self, line: &LogLine);
    /// A line of the program's log.
    fn run_log(&mut self, line: &LogLine);
    /// An interim result the program announced.
    fn interim(&mut self, result: &Value);
}

/// How a local run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRunOutcome {
    /// The program's outcome.
    pub outcome: Outcome,
    /// The result files, copied into the output folder.
    pub files: Vec<PathBuf>,
}

struct Forward<'a>(&'a mut dyn LocalRunEvents);

impl Events for Forward<'_> {
    fn log(&mut self, line: LogLine) {
        self.0.run_log(&line);
    }

    fn interim(&mut self, result: Value) {
        self.0.interim(&result);
    }

    fn cancelled(&self) -> bool {
        false
    }
}

/// A scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The runtime a worker would use for `kind`, set up in `cache_dir`. The
/// Python runtime isolates executions as a worker does when this process
/// is root, and runs them as this user otherwise.
fn runtime_for(
    kind: Runtime,
    cache_dir: &Path,
) -> Result<Box<dyn qmarket_runtime::Runtime>, ProjectError> {
    let unavailable =
        |runtime, reason: String| ProjectError::RuntimeUnavailable { runtime, reason };
    match kind {
        Runtime::PythonTemplate => {
            let mut builder = PythonRuntime::builder(cache_dir.join("python"));
            if !is_root() {
                builder = builder.isolation(Isolation::Unisolated);
            }
            let runtime = builder
                .build()
                .map_err(|e| unavailable("PYTHON_TEMPLATE", e.to_string()))?;
            Ok(Box::new(runtime))
        }
        Runtime::Wasm => {
            let runtime = WasmRuntime::new().map_err(|e| unavailable("WASM", e.to_string()))?;
            Ok(Box::new(
                runtime.with_cache_dir(cache_dir.join("wasm-cache")),
            ))
        }
        Runtime::Docker => {
            let engine = Engine::find().map_err(|e| unavailable("DOCKER", e))?;
            Ok(Box::new(DockerRuntime::with_engine(Ok(engine))))
        }
    }
}

fn limits(resources: &Resources) -> Limits {
    let memory = resources
        .memory_in_megabytes
        .unwrap_or(DEFAULT_MEMORY_IN_MEGABYTES);
    let timeout = resources.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    Limits {
        milli_cpus: resources.milli_cpus.unwrap_or(DEFAULT_MILLI_CPUS),
        memory_bytes: u64::from(memory) << 20,
        timeout: Duration::from_secs(u64::from(timeout)),
    }
}

fn create_dir(path: &Path) -> Result<(), ProjectError> {
    fs::create_dir_all(path).map_err(|source| ProjectError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Runs `run.project` once for `run.input`, as a worker would after a
/// deploy: packs it, checks and unpacks the archive, builds it (reusing an
/// environment built before for the same dependencies) and runs it.
pub fn run_locally(
    run: &LocalRun<'_>,
    events: &mut dyn LocalRunEvents,
) -> Result<LocalRunOutcome, ProjectError> {
    let kind = run.project.file.runtime;
    let packed = pack(&run.project.dir)?;
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let scratch = Scratch(
        run.cache_dir
            .join("local")
            .join(format!("{}-{unique}", std::process::id())),
    );
    let (source, work, output) = (
        scratch.0.join("source"),
        scratch.0.join("work"),
        scratch.0.join("output"),
    );
    for dir in [&work, &output] {
        create_dir(dir)?;
    }
    match qmarket_archive::extract(Cursor::new(packed.zip), kind, &source) {
        Ok(extracted) => {
            for message in extracted.validation.messages {
                events.build_log(&LogLine::now(Severity::Warning, message.to_string()));
            }
        }
        Err(qmarket_archive::Error::Refused(validation)) => {
            return Err(ProjectError::Refused(
                validation.messages.iter().map(|m| m.to_string()).collect(),
            ))
        }
        Err(e) => return Err(ProjectError::Refused(vec![e.to_string()])),
    }
    let runtime = runtime_for(kind, run.cache_dir)?;
    let limits = limits(&run.project.file.resources);
    let built = runtime
        .build(&source, &limits, &mut |line| events.build_log(&line))
        .map_err(|failure| ProjectError::BuildFailed(failure.0))?;
    for warning in built.warnings {
        events.build_log(&LogLine::now(Severity::Warning, warning));
    }
    let invocation = Invocation {
        input: run.input,
        work_dir: &work,
        output_dir: &output,
        limits,
    };
    let outcome = runtime.run(&source, invocation, &mut Forward(events));
    let files = copy_results(&output, run.output_dir)?;
    Ok(LocalRunOutcome { outcome, files })
}

/// Copies the files the program left in `from` (top level, as a worker
/// uploads them) into `to`; returns their new paths.
fn copy_results(from: &Path, to: &Path) -> Result<Vec<PathBuf>, ProjectError> {
    let read_error = |source| ProjectError::Read {
        path: from.to_path_buf(),
        source,
    };
    let mut copied = Vec::new();
    let mut entries = fs::read_dir(from)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        create_dir(to)?;
        let target = to.join(entry.file_name());
        fs::copy(entry.path(), &target).map_err(|source| ProjectError::Write {
            path: target.clone(),
            source,
        })?;
        copied.push(target);
    }
    Ok(copied)
}
