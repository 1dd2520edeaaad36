//! Environments: one virtual environment per interpreter and normalised
//! dependency list, built once per machine and shared by every service
//! with that list.
//!
//! Layout under `<cache>/envs/`: `<key>-<unique>/` is a complete
//! environment (built there, in place, so the paths pip wrote into it stay
//! true) holding [`MARKER`] as its last file; `<key>` is a symlink to it,
//! created only once the environment is complete. `symlink(2)` fails if
//! the link exists, so of two builds racing (threads, workers, machines on
//! one cache) exactly one publishes and the other drops its copy;
//! `<key>.lock` (an `flock`) makes builds on one machine wait for each
//! other instead of racing at all.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dependencies::Dependencies;
use super::sandbox::{self, Bind, ProcessLimits, Spec};
use super::supervisor::{self, Ended, LineBounds, Source, Watch};
use super::{hex, unique_name, PythonRuntime, ScratchDir, MAX_BUILD_PROCESSES, MAX_LINE_BYTES};
use crate::output::pip_severity;
use crate::{BuildFailure, LogLine, Severity};

/// The file that makes an environment directory complete.
pub(crate) const MARKER: &str = "qmarket-environment.json";
/// Changes whenever environments are made differently.
const LAYOUT: &str = "qmarket python environment 1";
/// How often a build waiting for another one's lock looks again.
const LOCK_POLL: Duration = Duration::from_millis(200);
/// pip's error lines kept for the build failure's message.
const ERROR_LINES_KEPT: usize = 8;

/// A service's environment, ready for executions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// The hash of the interpreter and the dependency list.
    pub key: String,
    /// The virtual environment.
    pub path: PathBuf,
    /// Whether it was there already (built before, here or by another build).
    pub reused: bool,
    /// Things worth telling the provider that did not stop the build.
    pub warnings: Vec<String>,
}

/// What the marker records.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    key: String,
    python: String,
    requirements: Vec<String>,
    packages: Vec<String>,
    built_at_unix: u64,
}

impl PythonRuntime {
    /// The environment of the service in `source`: found, or built now.
    pub(super) fn environment(
        &self,
        source: &Path,
        log: &mut dyn FnMut(LogLine),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Environment, BuildFailure> {
        let dependencies = Dependencies::read(source, &self.interpreter.version)?;
        match dependencies.file {
            Some(file) => log(LogLine::now(
                Severity::Info,
                format!(
                    "dependencies from {file}: {}",
                    shown_list(&dependencies.lines)
                ),
            )),
            None => log(LogLine::now(
                Severity::Warning,
                "neither requirements.txt nor environment.yml: no dependencies installed",
            )),
        }
        for warning in &dependencies.warnings {
            log(LogLine::now(Severity::Warning, warning.clone()));
        }
        let key = self.environment_key(&dependencies);
        let envs = self.cache.join("envs");
        let found = |reused_log: &mut dyn FnMut(LogLine)| -> Option<Environment> {
            let path = published(&envs, &key)?;
            reused_log(LogLine::now(
                Severity::Info,
                format!("reusing the environment {key}"),
            ));
            Some(Environment {
                key: key.clone(),
                path,
                reused: true,
                warnings: dependencies.warnings.clone(),
            })
        };
        if let Some(environment) = found(log) {
            return Ok(environment);
        }
        let deadline = Instant::now() + self.build_timeout;
        let _lock = lock(&envs.join(format!("{key}.lock")), deadline, cancelled)?;
        if let Some(environment) = found(log) {
            return Ok(environment);
        }
        remove_unpublished(&envs, &key);
        let started = Instant::now();
        let path = self.build_environment(&envs, &key, &dependencies, deadline, log, cancelled)?;
        log(LogLine::now(
            Severity::Info,
            format!(
                "built the environment {key} in {:.1} s",
                started.elapsed().as_secs_f64()
            ),
        ));
        Ok(Environment {
            key,
            path,
            reused: false,
            warnings: dependencies.warnings,
        })
    }

    /// The hash of the interpreter and the normalised list.
    fn environment_key(&self, dependencies: &Dependencies) -> String {
        let mut hash = Sha256::new();
        hash.update(LAYOUT);
        hash.update("\n");
        hash.update(self.interpreter.executable.as_os_str().as_encoded_bytes());
        hash.update("\n");
        hash.update(&self.interpreter.full_version);
        hash.update("\n");
        hash.update(dependencies.requirements_file());
        hex(&hash.finalize())[..32].to_owned()
    }

    /// Builds the environment `key` in a directory of its own, as a
    /// sandbox uid with the network, and publishes it.
    fn build_environment(
        &self,
        envs: &Path,
        key: &str,
        dependencies: &Dependencies,
        deadline: Instant,
        log: &mut dyn FnMut(LogLine),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<PathBuf, BuildFailure> {
        let io_failure =
            |e: io::Error| BuildFailure(format!("the environment could not be built: {e}"));
        let name = format!("{key}-{}", unique_name());
        let directory = Unpublished(envs.join(&name));
        let scratch = ScratchDir::new(&self.cache.join("builds")).map_err(io_failure)?;
        let uid = self.uids.take(&self.sandbox).map_err(io_failure)?;
        fs::create_dir(&directory.0).map_err(io_failure)?;
        let requirements = scratch.path.join("requirements.txt");
        super::write_file(
            &requirements,
            dependencies.requirements_file().as_bytes(),
            0o644,
        )
        .map_err(io_failure)?;
        let home = scratch.path.join("home");
        fs::create_dir(&home).map_err(io_failure)?;
        let mut binds = self.interpreter_binds();
        binds.push(Bind {
            host: directory.0.clone(),
            inside: directory.0.clone(),
            writable: true,
        });
        binds.push(Bind {
            host: scratch.path.clone(),
            inside: scratch.path.clone(),
            writable: true,
        });
        binds.extend(find_links_dirs().into_iter().map(Bind::same));
        if self.sandbox.isolation == sandbox::Isolation::Bubblewrap {
            binds.extend(
                self.write_identity(&scratch.path, uid.uid)
                    .map_err(io_failure)?,
            );
        }
        if uid.dedicated() {
            sandbox::chown_tree(&directory.0, uid.uid).map_err(io_failure)?;
            sandbox::chown_tree(&home, uid.uid).map_err(io_failure)?;
        }
        let python = directory.0.join("bin").join("python");
        let pip = |args: &[&str]| -> Vec<std::ffi::OsString> {
            let mut all: Vec<std::ffi::OsString> = ["-I", "-m", "pip"].map(Into::into).to_vec();
            all.extend(args.iter().map(Into::into));
            all
        };
        let mut steps: Vec<(&str, PathBuf, Vec<std::ffi::OsString>)> = vec![(
            "creating the environment",
            self.interpreter.executable.clone(),
            vec![
                "-I".into(),
                "-m".into(),
                "venv".into(),
                directory.0.clone().into(),
            ],
        )];
        if !dependencies.lines.is_empty() {
            let mut install = pip(&[
                "install",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "-r",
            ]);
            install.push(requirements.clone().into());
            steps.push(("installing the dependencies", python.clone(), install));
        }
        steps.push((
            "listing the installed packages",
            python.clone(),
            pip(&["freeze", "--disable-pip-version-check"]),
        ));
        let mut packages = Vec::new();
        for (index, (what, program, args)) in steps.into_iter().enumerate() {
            let listing = index > 0 && what.starts_with("listing");
            log(LogLine::now(Severity::Info, what.to_owned()));
            let spec = Spec {
                program,
                args,
                env: build_env(&home, &directory.0),
                cwd: scratch.path.clone(),
                binds: binds.clone(),
                dirs: Vec::new(),
                network: true,
                limits: ProcessLimits {
                    address_space: self.build_memory_bytes.saturating_add(1 << 30),
                    cpu_seconds: self.build_timeout.as_secs().max(1)
                        * std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
                    processes: MAX_BUILD_PROCESSES,
                    file_size: self.max_environment_bytes,
                },
                tmpfs_bytes: 1 << 30,
            };
            let child = self
                .sandbox
                .spawn(&spec, uid.uid, None)
                .map_err(|e| BuildFailure(format!("{what} could not start: {e}")))?;
            let watch = Watch {
                deadline,
                memory_bytes: self.build_memory_bytes,
                cpu: Duration::from_secs(spec.limits.cpu_seconds),
                sizes: vec![directory.0.clone(), scratch.path.clone()],
                max_bytes: self.max_environment_bytes,
                cancelled,
                reported: &|| false,
            };
            let mut errors: Vec<String> = Vec::new();
            let bounds = LineBounds {
                output: MAX_LINE_BYTES,
                control: MAX_LINE_BYTES,
            };
            let ended = supervisor::supervise(child, &uid, None, bounds, &watch, &mut |line| {
                if line.source == Source::Control {
                    return;
                }
                let text = String::from_utf8_lossy(&line.bytes).into_owned();
                if listing && line.source == Source::Output(super::Stream::Stdout) {
                    packages.push(text.clone());
                    log(LogLine::now(Severity::Info, format!("installed: {text}")));
                    return;
                }
                let severity = pip_severity(&text);
                if severity == Severity::Error {
                    errors.push(text.clone());
                    if errors.len() > ERROR_LINES_KEPT {
                        errors.remove(0);
                    }
                }
                log(LogLine::now(severity, text));
            });
            if let Some(reason) = build_failure(&ended, self) {
                let detail = if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {}", errors.join(" "))
                };
                log(LogLine::now(
                    Severity::Error,
                    format!("{what} failed: {reason}"),
                ));
                return Err(BuildFailure(format!("{what} failed ({reason}){detail}")));
            }
        }
        drop(uid);
        // SAFETY: geteuid has no memory effects.
        let me = unsafe { libc::geteuid() };
        sandbox::chown_tree(&directory.0, me).map_err(io_failure)?;
        sandbox::publish_tree(&directory.0).map_err(io_failure)?;
        let marker = Marker {
            key: key.to_owned(),
            python: self.interpreter.full_version.clone(),
            requirements: dependencies.lines.clone(),
            packages,
            built_at_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let marker_text = serde_json::to_vec_pretty(&marker)
            .map_err(io::Error::other)
            .map_err(io_failure)?;
        let temporary = directory.0.join(format!(".{MARKER}"));
        super::write_file(&temporary, &marker_text, 0o644).map_err(io_failure)?;
        File::open(&temporary)
            .and_then(|f| f.sync_all())
            .map_err(io_failure)?;
        fs::rename(&temporary, directory.0.join(MARKER)).map_err(io_failure)?;
        match std::os::unix::fs::symlink(&name, envs.join(key)) {
            Ok(()) => Ok(directory.publish()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Another machine on this cache published first: use that one.
                drop(directory);
                published(envs, key).ok_or_else(|| {
                    BuildFailure(format!("the environment {key} was published incomplete"))
                })
            }
            Err(e) => Err(io_failure(e)),
        }
    }
}

/// Why a build step failed, if it did.
fn build_failure(ended: &Ended, runtime: &PythonRuntime) -> Option<String> {
    match ended {
        Ended::Exited(Some(status)) if status.success() => None,
        Ended::Exited(Some(status)) => Some(match status.code() {
            Some(code) => format!("exit status {code}"),
            None => status.to_string(),
        }),
        Ended::Exited(None) => Some("it did not end".into()),
        Ended::TimedOut => Some(format!(
            "the build took longer than {} s",
            runtime.build_timeout.as_secs()
        )),
        Ended::CpuExhausted => Some("the build used up its CPU time".into()),
        Ended::OutOfMemory => Some(format!(
            "the build used more than {} MiB of memory",
            runtime.build_memory_bytes >> 20
        )),
        Ended::TooLarge => Some(format!(
            "the environment grew past {} MiB",
            runtime.max_environment_bytes >> 20
        )),
        Ended::Cancelled => Some("the build was cancelled".into()),
        Ended::NotStarted => Some("it could not be started".into()),
    }
}

/// The worker's variables a build gets: how this machine reaches the
/// package index (proxies, index, certificates), nothing else.
const PASSED_TO_PIP: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_FIND_LINKS",
];

/// Local directories of `PIP_FIND_LINKS`, which builds must see.
fn find_links_dirs() -> Vec<PathBuf> {
    std::env::var("PIP_FIND_LINKS")
        .unwrap_or_default()
        .split_whitespace()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .collect()
}

/// The environment of a build command.
fn build_env(home: &Path, venv: &Path) -> Vec<(String, std::ffi::OsString)> {
    let mut env: Vec<(String, std::ffi::OsString)> = vec![
        (
            "PATH".into(),
            format!("{}/bin:/usr/local/bin:/usr/bin:/bin", venv.display()).into(),
        ),
        ("HOME".into(), home.into()),
        ("TMPDIR".into(), home.into()),
        ("USER".into(), "service".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("LC_ALL".into(), "C.UTF-8".into()),
        ("PIP_NO_COLOR".into(), "1".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
    ];
    for name in PASSED_TO_PIP {
        if let Some(value) = std::env::var_os(name) {
            env.push(((*name).into(), value));
        }
    }
    env
}

/// The environment `key`, if it is published and complete.
fn published(envs: &Path, key: &str) -> Option<PathBuf> {
    let link = envs.join(key);
    let target = fs::read_link(&link).ok()?;
    let path = envs.join(target);
    path.join(MARKER).is_file().then_some(path)
}

/// Removes what a build of `key` that died left: its directories, and a
/// link to an incomplete one (the caller holds the key's lock and found
/// nothing published, so no build of it is in progress here).
fn remove_unpublished(envs: &Path, key: &str) {
    let _ = fs::remove_file(envs.join(key));
    let Ok(entries) = fs::read_dir(envs) else {
        return;
    };
    let prefix = format!("{key}-");
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && entry.path().is_dir() && !entry.path().is_symlink() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A build's directory, removed unless published.
struct Unpublished(PathBuf);

impl Unpublished {
    fn publish(self) -> PathBuf {
        let path = self.0.clone();
        std::mem::forget(self);
        path
    }
}

impl Drop for Unpublished {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Takes the exclusive lock `path`, waiting for it until `deadline`.
fn lock(
    path: &Path,
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> Result<File, BuildFailure> {
    let failure = |e: io::Error| BuildFailure(format!("the build lock cannot be taken: {e}"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(failure)?;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
    loop {
        // SAFETY: flock on a file this process owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(file);
        }
        if cancelled() {
            return Err(BuildFailure("the build was cancelled".into()));
        }
        if Instant::now() >= deadline {
            return Err(BuildFailure(
                "another build of the same environment took too long".into(),
            ));
        }
        std::thread::sleep(LOCK_POLL);
    }
}

fn shown_list(lines: &[String]) -> String {
    if lines.is_empty() {
        "none".into()
    } else {
        lines.join(", ")
    }
}
