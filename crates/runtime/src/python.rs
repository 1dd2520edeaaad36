//! The `PYTHON_TEMPLATE` runtime: PlanQK's Python coding template, run
//! the way PlanQK runs it.
//!
//! A service's archive holds `src/program.py` defining `run(data, params)`
//! (or other keyword parameters), `src/libs/return_objects.py` with
//! `ResultResponse` and `ErrorResponse`, and `requirements.txt` and/or
//! `environment.yml`.
//!
//! - **Build** ([`PythonRuntime::prepare`]): the dependencies of
//!   `requirements.txt` (or else the `pip:` list of `environment.yml`; its
//!   other Conda dependencies become warnings) are installed by pip into a
//!   virtual environment of the machine's interpreter, cached by the hash of
//!   the interpreter and the normalised list: equal lists share one
//!   environment. pip's output streams into the build log; a failed install
//!   fails the build with pip's errors. Every module under `src/` is
//!   compiled (not run) to catch syntax errors.
//! - **Run**: each execution is a fresh interpreter in the sandbox, in the
//!   execution's own working directory; `run(**request)` gets the request's
//!   top-level keys, `INPUT_DIRECTORY` (`<work>/input`, each key as
//!   `<key>.json`), `OUTPUT_DIRECTORY` and `LOG_LEVEL`; stdout and stderr
//!   stream into the log line by line (severities: see the `output` module
//!   docs below), `PlanQK:Job:InterimResult: {json}` lines are interim
//!   results, and the outcome travels on a channel of its own (fd 3), never
//!   mixed with the program's prints.
//!
//! ```no_run
//! use qmarket_runtime::python::PythonRuntime;
//! use qmarket_runtime::{Limits, Runtime};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = PythonRuntime::new("/var/cache/qmarket/python")?;
//! let limits = Limits { milli_cpus: 1000, memory_bytes: 2 << 30, timeout: std::time::Duration::from_secs(3600) };
//! let built = runtime.build("/srv/service".as_ref(), &limits, &mut |line| println!("{}", line.message))?;
//! println!("{} warnings", built.warnings.len());
//! # Ok(()) }
//! ```
//!
//! # Sandbox
//!
//! The worker runs as root; every command of a build or an execution runs
//! as a **uid of its own** (taken from a pool, `flock`-held in a
//! machine-wide directory across worker processes, one command at a time), never as root, with an empty
//! environment but for the variables above, rlimits on every process
//! (`RLIMIT_AS` = memory + 256 MiB, `RLIMIT_CPU`, `RLIMIT_NPROC` = 256
//! processes and threads of the uid, `RLIMIT_FSIZE` = 4 GiB, no core
//! dumps) and in a session of its own. The supervisor adds up the resident
//! memory and the CPU time of **all processes of that uid** every 100 ms
//! and stops the execution at its memory limit (`MEMORY_LIMIT`), at its CPU
//! time (timeout × milli-CPUs / 1000, `TIMEOUT`), at its wall-clock timeout
//! (`TIMEOUT`) and when cancelled; however it ends, every process of the
//! uid is killed (`kill(-1, SIGKILL)` sent *as* that uid, repeated until
//! none is left), so a child that forked away and left the session dies
//! too. Work and output directories belong to the uid while it runs (mode
//! 0700) and are given back to root afterwards.
//!
//! [`Isolation::Bubblewrap`] (when `bwrap` works here, checked at start):
//! bubblewrap runs as root **without** a user namespace (one would map the
//! sandbox user to root outside) and `setpriv` drops to the uid with no
//! capabilities and `no_new_privs`. The program sees an empty root with
//! read-only binds of `/usr` and the `/lib*` and `/bin` links, two files of
//! `/etc` (`ld.so.cache`, `localtime`), a generated `/etc/passwd` and
//! `/etc/group`, the interpreter's prefix, its environment, the code at
//! `/qmarket/app`, and, writable, its working directory at `/qmarket/work`
//! and output at `/qmarket/output`, a fresh `/tmp` and `/dev/shm` (tmpfs of the memory limit's
//! size); new pid, network (loopback only), IPC, UTS and cgroup namespaces;
//! `--die-with-parent`. It cannot see the worker's files, the platform's
//! state, other services' code or environments, other executions' files,
//! the worker's processes or environment (`/proc` is its own), nor reach
//! any network. Builds run the same way with the network (pip needs the
//! index) and the name-service and TLS files of `/etc`.
//!
//! [`Isolation::Rlimits`] (where bubblewrap is missing or cannot work):
//! the uid, the rlimits, the session and the kill-by-uid above, and a
//! network namespace where the kernel allows one
//! ([`PythonRuntime::network_isolated`]); the code is copied per execution
//! into a directory only that uid can read. The program sees the machine's
//! whole file system *as an unprivileged user*: it cannot read what is not
//! world-readable (the worker's and the platform's state if kept mode 0700
//! or 0600, `/proc/<pid>/environ` of other users, other executions' work
//! and output directories, which are 0700 and of other uids), but it can
//! read everything world-readable, including other services'
//! *environments* (they must be readable by every sandbox uid) and the
//! process list; without a network namespace it can reach the network,
//! loopback services included. The interpreter, the cache directory and
//! the paths to work and output directories must be reachable by other
//! users (checked at start for the interpreter).
//!
//! In both modes the service's files must be readable by others (as an
//! unpacked archive's files are), since the program reads them as its uid.
//!
//! [`Isolation::Unisolated`] (only when chosen; for a worker that is not
//! root): rlimits and a session, as the worker's own user: no isolation of
//! files, network or processes, and a child that leaves the session is not
//! killed.
//!
//! Neither mode throttles CPU to `milli_cpus` (that would need cgroups):
//! they bound CPU *time* and set `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`
//! and `MKL_NUM_THREADS` to the number of whole CPUs. Neither filters
//! system calls (no seccomp).
#![allow(clippy::doc_lazy_continuation)]

mod dependencies;
mod environment;
mod sandbox;
mod supervisor;

use std::cell::{Cell, RefCell};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    failure, BuildFailure, Built, Events, Invocation, Limits, LogLine, Outcome, Runtime, Severity,
};

pub use environment::Environment;
pub use sandbox::Isolation;

use crate::files::{write_file, write_inputs};
use crate::output::{Classifier, ProgramLine, Stream};
use sandbox::{Bind, HeldUid, ProcessLimits, Sandbox, Spec, UidPool};
use supervisor::{Ended, Line, LineBounds, Source, Watch};

/// The runner script, written once into the cache directory.
const RUNNER: &str = include_str!("python/runner.py");
/// The first uid of the default pool (far from users and system accounts).
pub const DEFAULT_FIRST_UID: u32 = 0x6000_0000;
/// The number of uids in the default pool (concurrent commands at most).
pub const DEFAULT_UID_COUNT: u32 = 1024;
/// Where the locks of the uids are, by default (machine-wide, not per cache).
pub const DEFAULT_UID_LOCKS: &str = "/run/qmarket/python-uids";
/// How long a build may take, by default.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How large an environment may grow, by default.
pub const DEFAULT_MAX_ENVIRONMENT_BYTES: u64 = 8 << 30;
/// How much memory a build's processes may use together, by default.
pub const DEFAULT_BUILD_MEMORY_BYTES: u64 = 4 << 30;
/// The `LOG_LEVEL` executions get, by default.
pub const DEFAULT_LOG_LEVEL: &str = "INFO";
/// Address space a process gets beyond the memory limit: libraries are
/// mapped but not resident; the resident total is what the limit bounds.
const ADDRESS_SPACE_SLACK: u64 = 256 << 20;
/// Processes and threads of one execution (`RLIMIT_NPROC`).
const MAX_PROCESSES: u64 = 256;
/// Processes and threads of one build.
const MAX_BUILD_PROCESSES: u64 = 1024;
/// The largest file a program may write (`RLIMIT_FSIZE`).
const MAX_FILE_BYTES: u64 = 4 << 30;
/// The longest log line (longer ones are cut).
const MAX_LINE_BYTES: usize = 1 << 20;
/// The largest result (one line on the control channel).
const MAX_RESULT_BYTES: usize = 32 << 20;
/// The most log (and interim results) one execution keeps.
const MAX_LOG_BYTES: usize = 16 << 20;
/// Where the sandbox's own paths are (bubblewrap); the machine's paths
/// bound into it (interpreter, environment) must lie elsewhere.
const SANDBOX_ROOT: &str = "/qmarket";
const APP_INSIDE: &str = "/qmarket/app";
const WORK_INSIDE: &str = "/qmarket/work";
const OUTPUT_INSIDE: &str = "/qmarket/output";
const RUNNER_INSIDE: &str = "/qmarket/runner.py";
const REQUEST_INSIDE: &str = "/qmarket/request.json";
/// The directory of input files inside the working directory.
const INPUT_DIR: &str = "input";

/// Why the runtime cannot start on this machine.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The interpreter could not be found or does not work.
    #[error("the Python interpreter {0} does not work: {1}")]
    Interpreter(String, String),
    /// The chosen isolation does not work here.
    #[error("{0:?} isolation does not work here: {1}")]
    Isolation(Isolation, String),
    /// The worker is not root, so it cannot run code as other users.
    #[error("the worker is not root, so it cannot isolate executions; choose Isolation::Unisolated explicitly for development")]
    NotRoot,
    /// The cache directory could not be set up.
    #[error("the cache directory {0} cannot be used: {1}")]
    Cache(PathBuf, io::Error),
}

/// The interpreter environments are made from.
#[derive(Debug, Clone)]
struct Interpreter {
    /// Its real path.
    executable: PathBuf,
    /// `3.11.7`.
    version: String,
    /// `sys.version`, part of the environments' hash.
    full_version: String,
    /// Its installation prefix (bound into sandboxes).
    base_prefix: PathBuf,
}

/// The `PYTHON_TEMPLATE` runtime.
#[derive(Debug)]
pub struct PythonRuntime {
    cache: PathBuf,
    interpreter: Interpreter,
    sandbox: Sandbox,
    uids: UidPool,
    runner: PathBuf,
    log_level: String,
    build_timeout: Duration,
    max_environment_bytes: u64,
    build_memory_bytes: u64,
}

/// Chooses a [`PythonRuntime`]'s interpreter, isolation and bounds.
#[derive(Debug, Clone)]
pub struct PythonRuntimeBuilder {
    cache: PathBuf,
    python: PathBuf,
    isolation: Option<Isolation>,
    first_uid: u32,
    uid_count: u32,
    uid_locks: PathBuf,
    log_level: String,
    build_timeout: Duration,
    max_environment_bytes: u64,
    build_memory_bytes: u64,
}

impl PythonRuntimeBuilder {
    /// The interpreter to make environments from (default: `python3` on `PATH`).
    pub fn python(mut self, python: impl Into<PathBuf>) -> Self {
        self.python = python.into();
        self
    }

    /// The isolation (default: bubblewrap if it works here, else rlimits).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    /// The uids commands run as: `first..first + count`.
    pub fn uids(mut self, first: u32, count: u32) -> Self {
        self.first_uid = first;
        self.uid_count = count;
        self
    }

    /// Where the uids' locks are (default [`DEFAULT_UID_LOCKS`]): one
    /// directory for every runtime of the machine that uses those uids,
    /// whatever its cache, since taking a uid kills what runs as it.
    pub fn uid_locks(mut self, dir: impl Into<PathBuf>) -> Self {
        self.uid_locks = dir.into();
        self
    }

    /// The `LOG_LEVEL` of executions.
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = level.into();
        self
    }

    /// How long a build may take.
    pub fn build_timeout(mut self, timeout: Duration) -> Self {
        self.build_timeout = timeout;
        self
    }

    /// How large an environment may grow.
    pub fn max_environment_bytes(mut self, bytes: u64) -> Self {
        self.max_environment_bytes = bytes;
        self
    }

    /// How much memory a build's processes may use together.
    pub fn build_memory_bytes(mut self, bytes: u64) -> Self {
        self.build_memory_bytes = bytes;
        self
    }

    /// Checks the interpreter and the isolation here, and sets up the cache.
    pub fn build(self) -> Result<PythonRuntime, SetupError> {
        let cache_error = |e| SetupError::Cache(self.cache.clone(), e);
        fs::create_dir_all(&self.cache).map_err(cache_error)?;
        let cache = fs::canonicalize(&self.cache).map_err(cache_error)?;
        for dir in ["", "envs", "builds", "runs"] {
            let dir = cache.join(dir);
            fs::create_dir_all(&dir).map_err(cache_error)?;
            let mode = if dir.ends_with("runs") || dir.ends_with("builds") {
                0o711
            } else {
                0o755
            };
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).map_err(cache_error)?;
        }
        let interpreter = probe_interpreter(&self.python)?;
        for path in [&cache, &interpreter.base_prefix] {
            if path.starts_with(SANDBOX_ROOT) {
                return Err(SetupError::Cache(
                    path.clone(),
                    io::Error::other(format!("{SANDBOX_ROOT} is the sandbox's own directory")),
                ));
            }
        }
        let runner = write_runner(&cache).map_err(cache_error)?;
        let uids = UidPool::new(self.uid_locks.clone(), self.first_uid, self.uid_count);
        let mut runtime = PythonRuntime {
            cache,
            interpreter,
            sandbox: Sandbox::new(Isolation::Unisolated),
            uids,
            runner,
            log_level: self.log_level,
            build_timeout: self.build_timeout,
            max_environment_bytes: self.max_environment_bytes,
            build_memory_bytes: self.build_memory_bytes,
        };
        let candidates = match self.isolation {
            Some(Isolation::Unisolated) => vec![Isolation::Unisolated],
            Some(chosen) if !sandbox::is_root() => {
                return Err(SetupError::Isolation(
                    chosen,
                    "the worker is not root".into(),
                ))
            }
            Some(chosen) => vec![chosen],
            None if !sandbox::is_root() => return Err(SetupError::NotRoot),
            None => vec![Isolation::Bubblewrap, Isolation::Rlimits],
        };
        let mut last = None;
        for isolation in candidates {
            match runtime.probe(isolation) {
                Ok(sandbox) => {
                    runtime.sandbox = sandbox;
                    return Ok(runtime);
                }
                Err(reason) => last = Some(SetupError::Isolation(isolation, reason)),
            }
        }
        Err(last.unwrap_or(SetupError::NotRoot))
    }
}

impl PythonRuntime {
    /// The runtime with its cache in `cache_dir`, the machine's `python3`
    /// and the best isolation that works here.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Result<Self, SetupError> {
        Self::builder(cache_dir).build()
    }

    /// A builder for a runtime with its cache in `cache_dir`.
    pub fn builder(cache_dir: impl Into<PathBuf>) -> PythonRuntimeBuilder {
        PythonRuntimeBuilder {
            cache: cache_dir.into(),
            python: "python3".into(),
            isolation: None,
            first_uid: DEFAULT_FIRST_UID,
            uid_count: DEFAULT_UID_COUNT,
            uid_locks: DEFAULT_UID_LOCKS.into(),
            log_level: DEFAULT_LOG_LEVEL.into(),
            build_timeout: DEFAULT_BUILD_TIMEOUT,
            max_environment_bytes: DEFAULT_MAX_ENVIRONMENT_BYTES,
            build_memory_bytes: DEFAULT_BUILD_MEMORY_BYTES,
        }
    }

    /// How executions are isolated here.
    pub fn isolation(&self) -> Isolation {
        self.sandbox.isolation
    }

    /// Whether executions are cut off from the network.
    pub fn network_isolated(&self) -> bool {
        self.sandbox.network_isolated
    }

    /// The Python version executions run on (`3.11.7`).
    pub fn python_version(&self) -> &str {
        &self.interpreter.version
    }

    /// Builds (or finds built) the environment of the service in `source`
    /// and checks its code, writing log lines to `log`.
    pub fn prepare(
        &self,
        source: &Path,
        limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Environment, BuildFailure> {
        let mut environment = self.environment(source, log, &|| false)?;
        let warnings = self.check_program(source, &environment, limits, log)?;
        environment.warnings.extend(warnings);
        Ok(environment)
    }

    /// Checks that the isolation works: runs the interpreter in it.
    fn probe(&self, isolation: Isolation) -> Result<Sandbox, String> {
        let mut sandbox = Sandbox::new(isolation);
        if isolation == Isolation::Bubblewrap {
            if crate::files::find_program("bwrap").is_none() {
                return Err("bwrap is not installed".into());
            }
            if crate::files::find_program("setpriv").is_none() {
                return Err("setpriv is not installed".into());
            }
        }
        let attempt = |sandbox: &Sandbox, network: bool| -> Result<(), String> {
            let uid = self.uids.take(sandbox).map_err(|e| e.to_string())?;
            let spec = Spec {
                program: self.interpreter.executable.clone(),
                args: ["-I", "-c", "import json, sys"].map(Into::into).to_vec(),
                env: Vec::new(),
                cwd: "/".into(),
                binds: self.interpreter_binds(),
                dirs: Vec::new(),
                network,
                limits: ProcessLimits {
                    address_space: 1 << 30,
                    cpu_seconds: 10,
                    processes: 64,
                    file_size: 1 << 20,
                },
                tmpfs_bytes: 1 << 20,
            };
            let child = sandbox.spawn(&spec, uid.uid, None).map_err(|e| {
                format!(
                    "a sandbox user cannot run {} (it and the directories above it must be \
                     readable by others): {e}",
                    self.interpreter.executable.display()
                )
            })?;
            let output = child.wait_with_output().map_err(|e| e.to_string())?;
            drop(uid);
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{} in the sandbox: {} {}",
                    self.interpreter.executable.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        };
        match attempt(&sandbox, false) {
            Ok(()) => Ok(sandbox),
            Err(e) if isolation == Isolation::Rlimits => {
                // Perhaps only the network namespace is not allowed.
                sandbox.network_isolated = false;
                attempt(&sandbox, false).map(|()| sandbox).map_err(|_| e)
            }
            Err(e) => Err(e),
        }
    }

    /// What every command needs to see of the interpreter (bubblewrap).
    fn interpreter_binds(&self) -> Vec<Bind> {
        let prefix = &self.interpreter.base_prefix;
        if prefix.starts_with("/usr") {
            Vec::new()
        } else {
            vec![Bind::same(prefix.clone())]
        }
    }

    /// `/etc/passwd` and `/etc/group` naming the sandbox user, in `dir`.
    fn write_identity(&self, dir: &Path, uid: u32) -> io::Result<Vec<Bind>> {
        let passwd = format!(
            "root:x:0:0:root:/root:/usr/sbin/nologin\nservice:x:{uid}:{uid}:service:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        );
        let group = format!("root:x:0:\nservice:x:{uid}:\nnogroup:x:65534:\n");
        let mut binds = Vec::new();
        for (name, text) in [("passwd", passwd), ("group", group)] {
            let path = dir.join(name);
            write_file(&path, text.as_bytes(), 0o644)?;
            binds.push(Bind {
                host: path,
                inside: Path::new("/etc").join(name),
                writable: false,
            });
        }
        Ok(binds)
    }

    /// Compiles the code's modules in the sandbox; syntax errors fail the
    /// build, a missing `run` is a warning.
    fn check_program(
        &self,
        source: &Path,
        environment: &Environment,
        limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Vec<String>, BuildFailure> {
        log(LogLine::now(
            Severity::Info,
            "checking the program's modules",
        ));
        let failure = |e: io::Error| BuildFailure(format!("the program could not be checked: {e}"));
        let uid = self.uids.take(&self.sandbox).map_err(failure)?;
        let run_dir = ScratchDir::new(&self.cache.join("runs")).map_err(failure)?;
        let work = run_dir.path.join("work");
        fs::create_dir(&work).map_err(failure)?;
        let prepared = self
            .program_spec(
                &environment.path,
                source,
                &run_dir.path,
                &uid,
                &work,
                None,
                limits,
                RunnerMode::Check,
            )
            .map_err(failure)?;
        let checked: RefCell<Option<Control>> = RefCell::new(None);
        let ended = self.run_program(&prepared, &uid, limits, &|| false, &mut |line| match line {
            Piece::Control(Control::Outcome(outcome)) => {
                checked
                    .borrow_mut()
                    .get_or_insert(Control::Outcome(outcome));
            }
            Piece::Log(line) => log(line),
            Piece::Control(Control::Log {
                log: severity,
                message,
            }) => log(LogLine::now(severity, message)),
            Piece::Interim(_) | Piece::Truncated => {}
        });
        self.give_back(&[&work]);
        match (checked.into_inner(), ended) {
            (Some(Control::Outcome(ReportedOutcome::Checked { errors, warnings })), _) => {
                if errors.is_empty() {
                    Ok(warnings)
                } else {
                    for error in &errors {
                        log(LogLine::now(Severity::Error, error.clone()));
                    }
                    Err(BuildFailure(format!(
                        "the program does not compile: {}",
                        errors.join("; ")
                    )))
                }
            }
            (_, ended) => Err(BuildFailure(format!(
                "the program could not be checked: {}",
                describe_end(&ended, limits)
            ))),
        }
    }

    /// The command of the runner in `mode` for the code in `source`, with
    /// its per-execution files in `run_dir`.
    #[allow(clippy::too_many_arguments)]
    fn program_spec(
        &self,
        venv: &Path,
        source: &Path,
        run_dir: &Path,
        uid: &HeldUid,
        work: &Path,
        output: Option<&Path>,
        limits: &Limits,
        mode: RunnerMode,
    ) -> io::Result<Spec> {
        let bubblewrap = self.sandbox.isolation == Isolation::Bubblewrap;
        let gid = uid.uid;
        if uid.dedicated() {
            std::os::unix::fs::chown(run_dir, None, Some(gid))?;
            fs::set_permissions(run_dir, fs::Permissions::from_mode(0o750))?;
        }
        let mut binds = self.interpreter_binds();
        binds.push(Bind::same(venv));
        let (app, runner, request, home, work_seen, output_seen);
        if bubblewrap {
            binds.extend(self.write_identity(run_dir, uid.uid)?);
            binds.push(Bind {
                host: source.to_owned(),
                inside: APP_INSIDE.into(),
                writable: false,
            });
            binds.push(Bind {
                host: self.runner.clone(),
                inside: RUNNER_INSIDE.into(),
                writable: false,
            });
            binds.push(Bind {
                host: work.to_owned(),
                inside: WORK_INSIDE.into(),
                writable: true,
            });
            app = PathBuf::from(APP_INSIDE);
            runner = PathBuf::from(RUNNER_INSIDE);
            request = PathBuf::from(REQUEST_INSIDE);
            home = PathBuf::from("/tmp");
            work_seen = PathBuf::from(WORK_INSIDE);
            output_seen = output.map(|o| {
                binds.push(Bind {
                    host: o.to_owned(),
                    inside: OUTPUT_INSIDE.into(),
                    writable: true,
                });
                PathBuf::from(OUTPUT_INSIDE)
            });
            let request_host = run_dir.join("request.json");
            if request_host.exists() {
                binds.push(Bind {
                    host: request_host,
                    inside: REQUEST_INSIDE.into(),
                    writable: false,
                });
            }
        } else {
            app = run_dir.join("app");
            copy_code(source, &app, uid)?;
            runner = self.runner.clone();
            request = run_dir.join("request.json");
            home = run_dir.join("home");
            fs::create_dir(&home)?;
            fs::set_permissions(&home, fs::Permissions::from_mode(0o700))?;
            if uid.dedicated() {
                sandbox::chown_tree(&home, uid.uid)?;
            }
            work_seen = work.to_owned();
            output_seen = output.map(Path::to_owned);
        }
        for dir in [Some(work), output].into_iter().flatten() {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            if uid.dedicated() {
                std::os::unix::fs::chown(dir, Some(uid.uid), Some(gid))?;
            }
        }
        let threads = limits.milli_cpus.div_ceil(1000).max(1).to_string();
        let mut env: Vec<(String, std::ffi::OsString)> = vec![
            (
                "PATH".into(),
                format!("{}/bin:/usr/local/bin:/usr/bin:/bin", venv.display()).into(),
            ),
            ("VIRTUAL_ENV".into(), venv.into()),
            ("HOME".into(), home.clone().into()),
            ("TMPDIR".into(), home.into()),
            ("USER".into(), "service".into()),
            ("LOGNAME".into(), "service".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("LOG_LEVEL".into(), self.log_level.clone().into()),
            ("INPUT_DIRECTORY".into(), work_seen.join(INPUT_DIR).into()),
            ("MALLOC_ARENA_MAX".into(), "2".into()),
            ("OMP_NUM_THREADS".into(), threads.clone().into()),
            ("OPENBLAS_NUM_THREADS".into(), threads.clone().into()),
            ("MKL_NUM_THREADS".into(), threads.into()),
        ];
        if let Some(output) = &output_seen {
            env.push(("OUTPUT_DIRECTORY".into(), output.into()));
        }
        let mut args: Vec<std::ffi::OsString> =
            ["-I", "-u", "-B", "-X", "utf8"].map(Into::into).to_vec();
        args.push(runner.into());
        match mode {
            RunnerMode::Run => args.extend(["run".into(), app.into(), request.into()]),
            RunnerMode::Check => args.extend(["check".into(), app.into()]),
        }
        let cpu = cpu_time(limits);
        Ok(Spec {
            program: venv.join("bin").join("python"),
            args,
            env,
            cwd: work_seen,
            binds,
            dirs: Vec::new(),
            network: false,
            limits: ProcessLimits {
                address_space: limits.memory_bytes.saturating_add(ADDRESS_SPACE_SLACK),
                cpu_seconds: cpu.as_secs() + 1,
                processes: MAX_PROCESSES,
                file_size: MAX_FILE_BYTES,
            },
            tmpfs_bytes: limits.memory_bytes,
        })
    }

    /// Runs a prepared runner command to its end under `limits`, turning
    /// its lines into pieces.
    fn run_program(
        &self,
        spec: &Spec,
        uid: &HeldUid,
        limits: &Limits,
        cancelled: &dyn Fn() -> bool,
        on_piece: &mut dyn FnMut(Piece),
    ) -> Ended {
        let (control_read, control_write) = match sandbox::control_pipe() {
            Ok(pipe) => pipe,
            Err(e) => return Ended::NotStarted.with_error(on_piece, e),
        };
        let child = match self.sandbox.spawn(spec, uid.uid, Some(&control_write)) {
            Ok(child) => child,
            Err(e) => return Ended::NotStarted.with_error(on_piece, e),
        };
        drop(control_write);
        let reported = Cell::new(false);
        let mut classifier = Classifier::default();
        let mut logged = 0usize;
        let mut cut_off = false;
        let watch = Watch {
            deadline: Instant::now() + limits.timeout,
            memory_bytes: limits.memory_bytes,
            cpu: cpu_time(limits),
            sizes: Vec::new(),
            max_bytes: u64::MAX,
            cancelled,
            reported: &|| reported.get(),
        };
        let bounds = LineBounds {
            output: MAX_LINE_BYTES,
            control: MAX_RESULT_BYTES,
        };
        supervisor::supervise(
            child,
            uid,
            Some(control_read),
            bounds,
            &watch,
            &mut |line: Line| {
                match line.source {
                    Source::Control => {
                        if line.truncated {
                            reported.set(true);
                            on_piece(Piece::Truncated);
                            return;
                        }
                        // A line that is not the runner's (the program wrote to fd 3) is ignored.
                        if let Ok(control) = serde_json::from_slice::<Control>(&line.bytes) {
                            if matches!(control, Control::Outcome(_)) {
                                reported.set(true);
                            }
                            on_piece(Piece::Control(control));
                        }
                    }
                    Source::Output(stream) => {
                        logged += line.bytes.len();
                        if logged > MAX_LOG_BYTES {
                            if !cut_off {
                                cut_off = true;
                                on_piece(Piece::Log(LogLine::now(
                                    Severity::Warning,
                                    format!(
                                        "the log passed {} MiB; later lines are dropped",
                                        MAX_LOG_BYTES >> 20
                                    ),
                                )));
                            }
                            return;
                        }
                        let text = String::from_utf8_lossy(&line.bytes);
                        let mut text = text.into_owned();
                        if line.truncated {
                            text.push_str(" […]");
                        }
                        match classifier.classify(stream, &text) {
                            ProgramLine::Log(severity, message) => {
                                on_piece(Piece::Log(LogLine::now(severity, message)))
                            }
                            ProgramLine::Interim(value) => on_piece(Piece::Interim(value)),
                        }
                    }
                }
            },
        )
    }

    /// Gives work and output directories back to root (their files too).
    fn give_back(&self, dirs: &[&Path]) {
        if self.sandbox.drops_uid() {
            // SAFETY: geteuid has no memory effects.
            let me = unsafe { libc::geteuid() };
            for dir in dirs {
                let _ = sandbox::chown_tree(dir, me);
            }
        }
    }

    /// Runs one execution (the environment is there).
    fn execute(
        &self,
        source: &Path,
        environment: &Environment,
        invocation: Invocation<'_>,
        events: &mut dyn Events,
    ) -> Outcome {
        let not_started = |e: io::Error| {
            Outcome::failed(
                failure::NOT_STARTED,
                format!("the execution could not be started: {e}"),
            )
        };
        let Value::Object(request) = invocation.input else {
            return Outcome::failed(
                failure::INVALID_INPUT,
                "the request must be a JSON object: its keys are run's keyword arguments",
            );
        };
        let uid = match self.uids.take(&self.sandbox) {
            Ok(uid) => uid,
            Err(e) => return not_started(e),
        };
        let run_dir = match ScratchDir::new(&self.cache.join("runs")) {
            Ok(dir) => dir,
            Err(e) => return not_started(e),
        };
        let prepared = (|| -> io::Result<Spec> {
            let request_text = serde_json::to_vec(invocation.input).map_err(io::Error::other)?;
            write_file(&run_dir.path.join("request.json"), &request_text, 0o640)?;
            if uid.dedicated() {
                std::os::unix::fs::chown(run_dir.path.join("request.json"), None, Some(uid.uid))?;
            }
            for warning in write_inputs(&invocation.work_dir.join(INPUT_DIR), request)? {
                events.log(LogLine::now(Severity::Warning, warning));
            }
            self.program_spec(
                &environment.path,
                source,
                &run_dir.path,
                &uid,
                invocation.work_dir,
                Some(invocation.output_dir),
                &invocation.limits,
                RunnerMode::Run,
            )
        })();
        let spec = match prepared {
            Ok(spec) => spec,
            Err(e) => {
                self.give_back(&[invocation.work_dir, invocation.output_dir]);
                return not_started(e);
            }
        };
        let events = RefCell::new(events);
        let outcome: RefCell<Option<ReportedOutcome>> = RefCell::new(None);
        let too_large = Cell::new(false);
        let ended = self.run_program(
            &spec,
            &uid,
            &invocation.limits,
            &|| events.borrow().cancelled(),
            &mut |piece| match piece {
                Piece::Log(line) => events.borrow_mut().log(line),
                Piece::Interim(value) => events.borrow_mut().interim(value),
                Piece::Control(Control::Log { log, message }) => {
                    events.borrow_mut().log(LogLine::now(log, message))
                }
                Piece::Control(Control::Outcome(reported)) => {
                    outcome.borrow_mut().get_or_insert(reported);
                }
                Piece::Truncated => too_large.set(true),
            },
        );
        drop(uid);
        self.give_back(&[invocation.work_dir, invocation.output_dir]);
        if too_large.get() {
            return Outcome::failed(
                failure::INVALID_RESULT,
                format!("the result is larger than {} MiB", MAX_RESULT_BYTES >> 20),
            );
        }
        outcome_of(outcome.into_inner(), ended, &invocation.limits)
    }
}

impl Runtime for PythonRuntime {
    fn build(
        &self,
        source: &Path,
        limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Built, BuildFailure> {
        let environment = self.prepare(source, limits, log)?;
        Ok(Built {
            warnings: environment.warnings,
        })
    }

    fn run(&self, source: &Path, invocation: Invocation<'_>, events: &mut dyn Events) -> Outcome {
        // Built on another machine: this one builds the environment first.
        // Its lines are the provider's business, not the consumer's log.
        let started = Instant::now();
        let environment = {
            let cancelled = &*events;
            let result = self.environment(source, &mut |_| {}, &|| cancelled.cancelled());
            match result {
                Ok(environment) => environment,
                Err(_) if events.cancelled() => return Outcome::Cancelled,
                Err(BuildFailure(detail)) => {
                    return Outcome::failed(
                        failure::NOT_STARTED,
                        format!("the service's environment could not be built: {detail}"),
                    )
                }
            }
        };
        if !environment.reused {
            events.log(LogLine::now(
                Severity::Notice,
                format!(
                    "the service's environment was built on this machine first ({:.1} s)",
                    started.elapsed().as_secs_f64()
                ),
            ));
        }
        self.execute(source, &environment, invocation, events)
    }
}

/// What the runner does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunnerMode {
    /// Runs the program once.
    Run,
    /// Compiles the program's modules.
    Check,
}

/// A message of the runner on the control channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Control {
    /// A log line of the runner's own.
    Log { log: Severity, message: String },
    /// How the program ended.
    Outcome(ReportedOutcome),
}

/// How the runner saw the program end.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ReportedOutcome {
    Succeeded {
        result: Value,
    },
    ErrorResponse {
        code: String,
        detail: String,
    },
    Raised {
        r#type: String,
        message: String,
    },
    InvalidResult {
        detail: String,
    },
    ProgramFailed {
        detail: String,
    },
    Checked {
        errors: Vec<String>,
        warnings: Vec<String>,
    },
}

/// What a runner command produced, line by line.
#[derive(Debug)]
enum Piece {
    Log(LogLine),
    Interim(Value),
    Control(Control),
    /// The control channel had a line over the result bound.
    Truncated,
}

impl Ended {
    fn with_error(self, on_piece: &mut dyn FnMut(Piece), error: io::Error) -> Ended {
        on_piece(Piece::Log(LogLine::now(
            Severity::Error,
            format!("the program could not be started: {error}"),
        )));
        self
    }
}

/// The outcome of an execution from what the runner reported and how the
/// command ended.
fn outcome_of(reported: Option<ReportedOutcome>, ended: Ended, limits: &Limits) -> Outcome {
    let failed = Outcome::failed;
    match (reported, ended) {
        (Some(ReportedOutcome::Succeeded { result }), _) => Outcome::Succeeded { result },
        (Some(ReportedOutcome::ErrorResponse { code, detail }), _) => failed(&code, detail),
        (Some(ReportedOutcome::Raised { r#type, .. }), _) if r#type == "MemoryError" => failed(
            failure::MEMORY_LIMIT,
            format!(
                "the program ran out of memory (its limit is {})",
                mebibytes(limits.memory_bytes)
            ),
        ),
        (Some(ReportedOutcome::Raised { r#type, message }), _) => failed(&r#type, message),
        (Some(ReportedOutcome::InvalidResult { detail }), _) => {
            failed(failure::INVALID_RESULT, detail)
        }
        (Some(ReportedOutcome::ProgramFailed { detail }), _) => {
            failed(failure::PROGRAM_FAILED, detail)
        }
        (Some(ReportedOutcome::Checked { .. }), _) => failed(
            failure::INVALID_RESULT,
            "the runner answered a check to a run".into(),
        ),
        (None, Ended::Cancelled) => Outcome::Cancelled,
        (None, Ended::TimedOut | Ended::CpuExhausted) => {
            failed(failure::TIMEOUT, describe_end(&ended, limits))
        }
        (None, Ended::OutOfMemory) => failed(failure::MEMORY_LIMIT, describe_end(&ended, limits)),
        (None, Ended::NotStarted) => failed(failure::NOT_STARTED, describe_end(&ended, limits)),
        (None, Ended::Exited(Some(status))) if cpu_signal(status) => {
            failed(failure::TIMEOUT, describe_end(&Ended::CpuExhausted, limits))
        }
        (None, ended) => failed(failure::PROGRAM_FAILED, describe_end(&ended, limits)),
    }
}

/// Whether the program died of `RLIMIT_CPU` (SIGXCPU, directly or as
/// bubblewrap's 128 + signal).
fn cpu_signal(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGXCPU) || status.code() == Some(128 + libc::SIGXCPU)
}

fn describe_end(ended: &Ended, limits: &Limits) -> String {
    use std::os::unix::process::ExitStatusExt;
    match ended {
        Ended::TimedOut => format!(
            "the execution ran longer than its timeout of {}",
            seconds(limits.timeout)
        ),
        Ended::CpuExhausted => format!(
            "the execution used up its CPU time of {} (its timeout × {} milli-CPUs)",
            seconds(cpu_time(limits)),
            limits.milli_cpus
        ),
        Ended::OutOfMemory => format!(
            "the execution used more than its memory limit of {}",
            mebibytes(limits.memory_bytes)
        ),
        Ended::TooLarge => "the execution wrote too much".into(),
        Ended::Cancelled => "the execution was cancelled".into(),
        Ended::Exited(Some(status)) => match (status.code(), status.signal()) {
            (Some(code), _) if code > 128 => {
                format!(
                    "the program ended without a result: killed by signal {}",
                    code - 128
                )
            }
            (Some(code), _) => format!("the program ended without a result: exit status {code}"),
            (None, Some(signal)) => {
                format!("the program ended without a result: killed by signal {signal}")
            }
            (None, None) => "the program ended without a result".into(),
        },
        Ended::Exited(None) | Ended::NotStarted => "the program could not be started".into(),
    }
}

/// The CPU time an execution may use: its timeout times its CPUs.
fn cpu_time(limits: &Limits) -> Duration {
    limits
        .timeout
        .mul_f64(f64::from(limits.milli_cpus.max(1)) / 1000.0)
        .max(Duration::from_secs(1))
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn mebibytes(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

/// Copies the code (directories and regular files) to `to`, readable by
/// `uid`'s group only (the copy the program sees without bubblewrap).
fn copy_code(from: &Path, to: &Path, uid: &HeldUid) -> io::Result<()> {
    let metadata = fs::symlink_metadata(from)?;
    if metadata.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_code(&entry.path(), &to.join(entry.file_name()), uid)?;
        }
        fs::set_permissions(to, fs::Permissions::from_mode(0o750))?;
    } else if metadata.is_file() {
        fs::copy(from, to)?;
        fs::set_permissions(to, fs::Permissions::from_mode(0o640))?;
    } else {
        return Ok(());
    }
    if uid.dedicated() {
        std::os::unix::fs::chown(to, Some(0), Some(uid.uid))?;
    }
    Ok(())
}

/// A directory of one build or execution, removed when dropped.
#[derive(Debug)]
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new(parent: &Path) -> io::Result<Self> {
        let path = parent.join(unique_name());
        fs::create_dir(&path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        Ok(ScratchDir { path })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = make_removable(&self.path);
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Lets root remove a tree whose directories a program made read-only.
fn make_removable(path: &Path) -> io::Result<()> {
    let metadata = fs::symlink_metadata(path)?;
    if metadata.is_dir() {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
        for entry in fs::read_dir(path)? {
            make_removable(&entry?.path())?;
        }
    }
    Ok(())
}

/// A name no other build or execution of any process uses.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Asks the interpreter what it is (it is the machine's, so trusted).
fn probe_interpreter(python: &Path) -> Result<Interpreter, SetupError> {
    let shown = python.display().to_string();
    let program = if python.components().count() > 1 {
        python.to_owned()
    } else {
        crate::files::find_program(&shown)
            .ok_or_else(|| SetupError::Interpreter(shown.clone(), "not found on PATH".into()))?
    };
    let script = "import json, os, platform, sys, importlib.util as u\n\
        print(json.dumps({'executable': os.path.realpath(sys.executable), 'version': platform.python_version(), \
        'full': sys.version, 'base_prefix': os.path.realpath(sys.base_prefix), \
        'venv': u.find_spec('venv') is not None and u.find_spec('ensurepip') is not None}))";
    let output = Command::new(&program)
        .args(["-I", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .map_err(|e| SetupError::Interpreter(shown.clone(), e.to_string()))?;
    if !output.status.success() {
        return Err(SetupError::Interpreter(
            shown,
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    #[derive(Deserialize)]
    struct Probe {
        executable: PathBuf,
        version: String,
        full: String,
        base_prefix: PathBuf,
        venv: bool,
    }
    let probe: Probe = serde_json::from_slice(&output.stdout)
        .map_err(|e| SetupError::Interpreter(shown.clone(), e.to_string()))?;
    if !probe.venv {
        return Err(SetupError::Interpreter(
            shown,
            "it has no venv or ensurepip module (Debian: install python3-venv)".into(),
        ));
    }
    Ok(Interpreter {
        executable: probe.executable,
        version: probe.version,
        full_version: probe.full,
        base_prefix: probe.base_prefix,
    })
}

/// Writes the runner into the cache (named by its hash, so a new version
/// never replaces one a running execution reads).
fn write_runner(cache: &Path) -> io::Result<PathBuf> {
    let hash = hex(&Sha256::digest(RUNNER.as_bytes()))[..16].to_owned();
    let path = cache.join(format!("runner-{hash}.py"));
    if !path.is_file() {
        let temporary = cache.join(format!(".runner-{}", unique_name()));
        write_file(&temporary, RUNNER.as_bytes(), 0o644)?;
        fs::rename(&temporary, &path)?;
    }
    Ok(path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
