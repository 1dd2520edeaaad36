//! The runtime of `DOCKER` services: the archive's `Dockerfile`, built and
//! run by the worker's container engine (`podman` or `docker`), with
//! PlanQK's container contract.
//!
//! - **Build**: `<engine> build` of the unpacked archive, tagged by the hash
//!   of its files (`localhost/qmarket-service:<hash>`), so a worker that
//!   runs an execution of a build it did not make builds the same image
//!   again from the same files before the first run.
//! - **Run**: a fresh container per execution, without network, with the
//!   service's memory (no swap), its CPU share (`--cpus`), at most 512
//!   processes, no capabilities and no privilege gain. The request's
//!   top-level keys are files `/var/input/<key>.json` (so `data.json` and
//!   `params.json` for PlanQK's clients), read-only; files the program writes
//!   to `/var/runtime/output` are the execution's result files. The
//!   environment holds `INPUT_DIRECTORY`, `OUTPUT_DIRECTORY` and
//!   `LOG_LEVEL`.
//! - **Result**: the last `PlanQK:Job:Result: {json}` line of its output, or
//!   the lines between two `PlanQK:Job:MultilineResult` lines, parsed as
//!   JSON; `PlanQK:Job:InterimResult: {json}` lines are interim results;
//!   every other line is the log, with severities as for the Python template.
//!   A non-zero exit fails the execution (`PROGRAM_FAILED`, with its code),
//!   whatever it printed; the engine's OOM kill is `MEMORY_LIMIT`; the
//!   deadline and a cancel kill the container.
//!
//! A worker without a usable engine keeps this runtime: its builds fail at
//! once with a message that says why, instead of waiting for a worker that
//! may never come.

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::files::{find_program, write_inputs};
use crate::output::{Classifier, LineSplitter, ProgramLine, Stream};
use crate::{failure, BuildFailure, Built, Events, Invocation, Limits, LogLine, Outcome, Severity};

/// The file a `DOCKER` archive must hold at its root.
pub const DOCKERFILE: &str = "Dockerfile";
/// Where the program finds its input files.
pub const INPUT_INSIDE: &str = "/var/input";
/// Where the program writes its result files.
pub const OUTPUT_INSIDE: &str = "/var/runtime/output";
/// The prefix of the line that carries the result.
pub const RESULT_PREFIX: &str = "PlanQK:Job:Result:";
/// The line that opens and closes a result written over several lines.
pub const MULTILINE_MARK: &str = "PlanQK:Job:MultilineResult";
/// The longest a build may take.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The most processes a container may hold.
pub const MAX_PROCESSES: u32 = 512;
/// The longest line read (a result on one line may be this long).
const MAX_LINE_BYTES: usize = 16 << 20;
/// The longest log line kept; longer ones are cut.
const MAX_LOG_LINE_CHARS: usize = 16 << 10;
/// How long asking the engine whether it works may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// How often cancellation and the deadline are checked.
const TICK: Duration = Duration::from_millis(100);

/// A container engine this worker can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    program: PathBuf,
}

impl Engine {
    /// The first usable engine on `PATH`: `podman`, then `docker`. Usable
    /// means `<engine> info` succeeds (a `docker` client without a daemon is
    /// not an engine). `Err` says what was tried and why each failed.
    pub fn find() -> Result<Engine, String> {
        let mut tried = Vec::new();
        for name in ["podman", "docker"] {
            match find_program(name) {
                None => tried.push(format!("{name} is not installed")),
                Some(program) => match Engine::at(&program) {
                    Ok(engine) => return Ok(engine),
                    Err(why) => tried.push(why),
                },
            }
        }
        Err(tried.join("; "))
    }

    /// The engine at `program` (a path, or a name looked up on `PATH`), if
    /// `<program> info` succeeds.
    pub fn at(program: impl AsRef<Path>) -> Result<Engine, String> {
        let given = program.as_ref();
        let program = if given.components().count() == 1 {
            find_program(&given.to_string_lossy())
                .ok_or_else(|| format!("{} is not installed", given.display()))?
        } else {
            given.to_path_buf()
        };
        let engine = Engine { program };
        let mut command = engine.command(["info"]);
        match run_to_end(&mut command, PROBE_TIMEOUT) {
            Ok(probe) if probe.success => Ok(engine),
            Ok(probe) => Err(format!(
                "`{} info` failed: {}",
                engine.program.display(),
                last_line(&probe.output)
            )),
            Err(e) => Err(format!(
                "`{} info` could not run: {e}",
                engine.program.display()
            )),
        }
    }

    /// The engine's program.
    pub fn program(&self) -> &Path {
        &self.program
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut command = Command::new(&self.program);
        command.args(args.into_iter().map(Into::into));
        command.stdin(Stdio::null());
        command
    }
}

/// The `DOCKER` runtime.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    engine: Result<Engine, String>,
}

impl Default for DockerRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl DockerRuntime {
    /// The runtime with the engine [`Engine::find`] finds (or none).
    pub fn new() -> Self {
        Self::with_engine(Engine::find())
    }

    /// The runtime with `engine`, or with none and the reason.
    pub fn with_engine(engine: Result<Engine, String>) -> Self {
        DockerRuntime { engine }
    }

    /// The engine it uses, or why there is none.
    pub fn engine(&self) -> Result<&Engine, &str> {
        self.engine.as_ref().map_err(String::as_str)
    }

    fn usable_engine(&self) -> Result<&Engine, BuildFailure> {
        self.engine.as_ref().map_err(|why| {
            BuildFailure(format!(
                "this worker has no usable container engine, so it cannot build DOCKER \
                 services ({why}); install podman or docker (with its daemon running) \
                 on the worker's machine"
            ))
        })
    }

    /// Builds the image of `source` unless the engine has it already.
    fn ensure_image(
        &self,
        engine: &Engine,
        source: &Path,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<String, BuildFailure> {
        if !source.join(DOCKERFILE).is_file() {
            return Err(BuildFailure(format!(
                "the archive has no {DOCKERFILE} at its root"
            )));
        }
        let tag = image_tag(source)
            .map_err(|e| BuildFailure(format!("cannot read the unpacked archive: {e}")))?;
        let mut inspect = engine.command(["image", "inspect", "--format", "{{.Id}}", &tag]);
        if run_to_end(&mut inspect, PROBE_TIMEOUT).is_ok_and(|p| p.success) {
            log(LogLine::now(
                Severity::Info,
                format!("the image {tag} was built before; using it"),
            ));
            return Ok(tag);
        }
        log(LogLine::now(
            Severity::Info,
            format!("building the image {tag} with {}", engine.program.display()),
        ));
        let mut build = engine.command(build_args(&tag, source));
        let started = Instant::now();
        let stop = Stop {
            deadline: started + BUILD_TIMEOUT,
            asked: &|| false,
            first: &|| {},
        };
        let ended = stream_lines(&mut build, stop, &mut |_, line| {
            log(LogLine::now(Severity::Info, cut(line)));
        })
        .map_err(|e| BuildFailure(format!("the container engine could not start: {e}")))?;
        match ended {
            Streamed::Exited(0) => {
                log(LogLine::now(
                    Severity::Info,
                    format!("built {tag} in {} s", started.elapsed().as_secs()),
                ));
                Ok(tag)
            }
            Streamed::Exited(code) => Err(BuildFailure(format!(
                "building the image failed (the engine exited with {code}); its output is in the build log"
            ))),
            Streamed::Stopped => Err(BuildFailure(format!(
                "building the image took longer than {} minutes",
                BUILD_TIMEOUT.as_secs() / 60
            ))),
        }
    }
}

impl crate::Runtime for DockerRuntime {
    fn build(
        &self,
        source: &Path,
        _limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Built, BuildFailure> {
        let engine = self.usable_engine()?;
        self.ensure_image(engine, source, log)?;
        Ok(Built::default())
    }

    fn run(&self, source: &Path, invocation: Invocation<'_>, events: &mut dyn Events) -> Outcome {
        if events.cancelled() {
            return Outcome::Cancelled;
        }
        let not_started = |detail: String| Outcome::failed(failure::NOT_STARTED, detail);
        let engine = match self.usable_engine() {
            Ok(engine) => engine,
            Err(BuildFailure(why)) => return not_started(why),
        };
        let Some(request) = invocation.input.as_object() else {
            return Outcome::failed(
                failure::INVALID_INPUT,
                "the request must be a JSON object (such as {\"data\": …, \"params\": …})",
            );
        };
        let mut build_log = Vec::new();
        let tag = match self.ensure_image(engine, source, &mut |line| build_log.push(line)) {
            Ok(tag) => tag,
            Err(BuildFailure(why)) => return not_started(why),
        };
        for line in build_log {
            events.log(LogLine {
                severity: Severity::Debug,
                ..line
            });
        }
        let input_dir = invocation.work_dir.join("input");
        match write_inputs(&input_dir, request) {
            Ok(warnings) => {
                for warning in warnings {
                    events.log(LogLine::now(Severity::Warning, warning));
                }
            }
            Err(e) => return not_started(format!("cannot write the input files: {e}")),
        }
        let name = container_name(invocation.work_dir);
        let mut run = engine.command(run_args(
            &tag,
            &name,
            &input_dir,
            invocation.output_dir,
            &invocation.limits,
        ));
        let deadline = Instant::now() + invocation.limits.timeout;
        let mut output = ContainerOutput::default();
        let cancelled = std::cell::Cell::new(false);
        let streamed = {
            let events = std::cell::RefCell::new(&mut *events);
            let stop = || {
                let now_cancelled = events.borrow().cancelled();
                cancelled.set(now_cancelled);
                now_cancelled
            };
            let kill = || {
                let _ = run_to_end(&mut engine.command(["kill", &name]), PROBE_TIMEOUT);
            };
            let stop = Stop {
                deadline,
                asked: &stop,
                first: &kill,
            };
            stream_lines(
                &mut run,
                stop,
                &mut |stream, line| match output.take(stream, line) {
                    Some(ProgramLine::Log(severity, message)) => events
                        .borrow_mut()
                        .log(LogLine::now(severity, cut(&message))),
                    Some(ProgramLine::Interim(value)) => events.borrow_mut().interim(value),
                    None => {}
                },
            )
        };
        let ended = match streamed {
            Err(e) => return not_started(format!("the container engine could not start: {e}")),
            Ok(Streamed::Stopped) => {
                if cancelled.get() {
                    Ended::Cancelled
                } else {
                    Ended::TimedOut(invocation.limits.timeout)
                }
            }
            Ok(Streamed::Exited(code)) => {
                let mut inspect =
                    engine.command(["inspect", "--format", "{{.State.OOMKilled}}", &name]);
                let oom = run_to_end(&mut inspect, PROBE_TIMEOUT)
                    .is_ok_and(|p| String::from_utf8_lossy(&p.output).trim() == "true");
                if oom {
                    Ended::OutOfMemory(invocation.limits.memory_bytes)
                } else {
                    Ended::Exited(code)
                }
            }
        };
        let _ = run_to_end(&mut engine.command(["rm", "--force", &name]), PROBE_TIMEOUT);
        output.outcome(ended)
    }
}

/// The tag of the image built from the files under `source`: the same
/// files give the same tag on every worker.
pub fn image_tag(source: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect_files(source, source, &mut files)?;
    files.sort();
    let mut hash = Sha256::new();
    for relative in &files {
        let bytes = std::fs::read(source.join(relative))?;
        hash.update((relative.len() as u64).to_le_bytes());
        hash.update(relative.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let digest = hash.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("localhost/qmarket-service:{hex}"))
}

fn collect_files(root: &Path, dir: &Path, into: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(root, &entry.path(), into)?;
        } else if kind.is_file() {
            let path = entry.path();
            let relative = path.strip_prefix(root).map_err(io::Error::other)?;
            into.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// The engine's arguments that build the image `tag` from `source`.
pub fn build_args(tag: &str, source: &Path) -> Vec<OsString> {
    vec![
        "build".into(),
        "--tag".into(),
        tag.into(),
        "--file".into(),
        source.join(DOCKERFILE).into(),
        source.into(),
    ]
}

/// The engine's arguments that run one execution of image `tag` as
/// container `name`, under `limits`, with `input_dir` and `output_dir`
/// mounted where the contract puts them.
pub fn run_args(
    tag: &str,
    name: &str,
    input_dir: &Path,
    output_dir: &Path,
    limits: &Limits,
) -> Vec<OsString> {
    let volume = |host: &Path, inside: &str, mode: &str| {
        let mut spec = OsString::from(host);
        spec.push(format!(":{inside}{mode}"));
        spec
    };
    let memory = limits.memory_bytes.to_string();
    let cpus = format!(
        "{}.{:03}",
        limits.milli_cpus / 1000,
        limits.milli_cpus % 1000
    );
    let mut args: Vec<OsString> = vec![
        "run".into(),
        "--name".into(),
        name.into(),
        "--network".into(),
        "none".into(),
        "--memory".into(),
        memory.clone().into(),
        "--memory-swap".into(),
        memory.into(),
        "--cpus".into(),
        cpus.into(),
        "--pids-limit".into(),
        MAX_PROCESSES.to_string().into(),
        "--cap-drop".into(),
        "ALL".into(),
        "--security-opt".into(),
        "no-new-privileges".into(),
        "--volume".into(),
        volume(input_dir, INPUT_INSIDE, ":ro"),
        "--volume".into(),
        volume(output_dir, OUTPUT_INSIDE, ""),
    ];
    for (key, value) in [
        ("INPUT_DIRECTORY", INPUT_INSIDE),
        ("OUTPUT_DIRECTORY", OUTPUT_INSIDE),
        ("LOG_LEVEL", "INFO"),
    ] {
        args.push("--env".into());
        args.push(format!("{key}={value}").into());
    }
    args.push(tag.into());
    args
}

/// A container name of this execution only (its work directory is).
fn container_name(work_dir: &Path) -> String {
    let mut hash = Sha256::new();
    hash.update(work_dir.as_os_str().as_encoded_bytes());
    hash.update(std::process::id().to_le_bytes());
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("qmarket-exe-{hex}")
}

/// How a container's run ended, as the runtime saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// The engine killed it for using more than this many bytes.
    OutOfMemory(u64),
    /// It was killed at its deadline, this long after it started.
    TimedOut(Duration),
    /// It was killed because the execution was cancelled.
    Cancelled,
}

/// What a container's output says: its log lines and interim results as
/// they come, and its result when it ends.
#[derive(Debug, Default)]
pub struct ContainerOutput {
    classifier: Classifier,
    result: Option<String>,
    /// The lines of an open `PlanQK:Job:MultilineResult` block.
    block: Option<Vec<String>>,
}

impl ContainerOutput {
    /// Takes one line `stream` wrote: `Some` when it is a log line or an
    /// interim result, `None` when it is (part of) the result.
    pub(crate) fn take(&mut self, stream: Stream, line: &str) -> Option<ProgramLine> {
        let trimmed = line.trim();
        if let Some(block) = &mut self.block {
            if trimmed == MULTILINE_MARK {
                self.result = Some(std::mem::take(block).join("\n"));
                self.block = None;
            } else {
                block.push(line.to_string());
            }
            return None;
        }
        if trimmed == MULTILINE_MARK {
            self.block = Some(Vec::new());
            return None;
        }
        if let Some(json) = trimmed.strip_prefix(RESULT_PREFIX) {
            self.result = Some(json.trim().to_string());
            return None;
        }
        Some(self.classifier.classify(stream, line))
    }

    /// How the execution ended, given how the container did.
    pub fn outcome(self, ended: Ended) -> Outcome {
        let failed = Outcome::failed;
        match ended {
            Ended::Cancelled => Outcome::Cancelled,
            Ended::TimedOut(after) => failed(
                failure::TIMEOUT,
                format!(
                    "the container ran past its timeout of {} s",
                    after.as_secs()
                ),
            ),
            Ended::OutOfMemory(bytes) => failed(
                failure::MEMORY_LIMIT,
                format!(
                    "the container used more than its memory limit of {} MiB",
                    bytes >> 20
                ),
            ),
            Ended::Exited(code) if code != 0 => failed(
                failure::PROGRAM_FAILED,
                format!("the container exited with code {code}"),
            ),
            Ended::Exited(_) => {
                if self.block.is_some() {
                    return failed(
                        failure::INVALID_RESULT,
                        format!("a {MULTILINE_MARK} block was opened and never closed"),
                    );
                }
                match self.result {
                    None => Outcome::Succeeded { result: json!({}) },
                    Some(text) => match serde_json::from_str::<Value>(&text) {
                        Ok(result) => Outcome::Succeeded { result },
                        Err(e) => failed(
                            failure::INVALID_RESULT,
                            format!("the container's result is not JSON: {e}"),
                        ),
                    },
                }
            }
        }
    }
}

/// How [`stream_lines`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Streamed {
    /// The process exited with this code (-1 for a signal).
    Exited(i32),
    /// The deadline passed or `stop` said so; the process was killed.
    Stopped,
}

/// When [`stream_lines`] stops a command early.
struct Stop<'a> {
    /// The deadline.
    deadline: Instant,
    /// Whether to stop now (asked every [`TICK`]).
    asked: &'a dyn Fn() -> bool,
    /// What to do before the process is killed (stop the container: killing
    /// the engine's client does not).
    first: &'a dyn Fn(),
}

/// Runs `command`, calling `line` for every line of its stdout and stderr
/// as they come, until it exits or `stop` says so (the process is then
/// killed).
fn stream_lines(
    command: &mut Command,
    stop: Stop<'_>,
    line: &mut dyn FnMut(Stream, &str),
) -> io::Result<Streamed> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (sender, lines) = mpsc::sync_channel::<(Stream, Vec<u8>)>(1024);
    let mut readers = Vec::new();
    for (stream, pipe) in [
        (
            Stream::Stdout,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            Stream::Stderr,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let Some(mut pipe) = pipe else { continue };
        let sender = sender.clone();
        readers.push(std::thread::spawn(move || {
            let mut splitter = LineSplitter::new(MAX_LINE_BYTES);
            let mut buffer = [0u8; 8192];
            let mut send = |l: crate::output::SplitLine| {
                let _ = sender.send((stream, l.bytes));
            };
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                splitter.push(&buffer[..n], &mut send);
            }
            splitter.finish(&mut send);
        }));
    }
    drop(sender);
    let mut stopped = false;
    loop {
        match lines.recv_timeout(TICK) {
            Ok((stream, bytes)) => line(stream, &String::from_utf8_lossy(&bytes)),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if !stopped && (Instant::now() >= stop.deadline || (stop.asked)()) {
            stopped = true;
            (stop.first)();
            let _ = child.kill();
        }
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait()?;
    Ok(if stopped {
        Streamed::Stopped
    } else {
        Streamed::Exited(status.code().unwrap_or(-1))
    })
}

/// What a short command printed and whether it succeeded.
struct Finished {
    success: bool,
    output: Vec<u8>,
}

/// Runs `command` to its end (killed after `timeout`), collecting its
/// stdout and stderr.
fn run_to_end(command: &mut Command, timeout: Duration) -> io::Result<Finished> {
    let mut output = Vec::new();
    let stop = Stop {
        deadline: Instant::now() + timeout,
        asked: &|| false,
        first: &|| {},
    };
    let ended = stream_lines(command, stop, &mut |_, line| {
        output.extend_from_slice(line.as_bytes());
        output.push(b'\n');
    })?;
    Ok(Finished {
        success: ended == Streamed::Exited(0),
        output,
    })
}

fn last_line(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    qmarket_core::excerpt(line.trim(), 300)
}

fn cut(line: &str) -> String {
    qmarket_core::excerpt(line, MAX_LOG_LINE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            milli_cpus: 1500,
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(30),
        }
    }

    fn read(lines: &[&str]) -> (ContainerOutput, Vec<ProgramLine>) {
        let mut output = ContainerOutput::default();
        let shown = lines
            .iter()
            .filter_map(|l| output.take(Stream::Stdout, l))
            .collect();
        (output, shown)
    }

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_run_has_no_network_the_services_limits_and_the_contracts_mounts() {
        let args = strings(&run_args(
            "localhost/qmarket-service:abc",
            "qmarket-exe-1",
            Path::new("/w/input"),
            Path::new("/w/output"),
            &limits(),
        ));
        let joined = args.join(" ");
        for expected in [
            "run --name qmarket-exe-1 ",
            "--network none",
            "--memory 268435456 --memory-swap 268435456",
            "--cpus 1.500",
            "--pids-limit 512",
            "--cap-drop ALL",
            "--security-opt no-new-privileges",
            "--volume /w/input:/var/input:ro",
            "--volume /w/output:/var/runtime/output ",
            "--env INPUT_DIRECTORY=/var/input",
            "--env OUTPUT_DIRECTORY=/var/runtime/output",
            "--env LOG_LEVEL=INFO",
        ] {
            assert!(joined.contains(expected), "{expected:?} in {joined}");
        }
        assert_eq!(args.last().unwrap(), "localhost/qmarket-service:abc");
        assert!(
            !args.iter().any(|a| a == "--rm"),
            "kept until inspected: {joined}"
        );
    }

    #[test]
    fn a_build_is_tagged_and_uses_the_archives_dockerfile() {
        assert_eq!(
            strings(&build_args("t:1", Path::new("/src"))),
            ["build", "--tag", "t:1", "--file", "/src/Dockerfile", "/src"]
        );
    }

    #[test]
    fn the_same_files_give_the_same_tag_and_any_change_another() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join("app/main.py"), "print(1)\n").unwrap();
        let first = image_tag(dir.path()).unwrap();
        assert!(first.starts_with("localhost/qmarket-service:"), "{first}");
        assert_eq!(image_tag(dir.path()).unwrap(), first);
        std::fs::write(dir.path().join("app/main.py"), "print(2)\n").unwrap();
        assert_ne!(image_tag(dir.path()).unwrap(), first);
    }

    #[test]
    fn a_result_line_is_the_result_and_not_a_log_line() {
        let (output, shown) = read(&["starting", r#"PlanQK:Job:Result: {"sum": 3}"#, "done"]);
        assert_eq!(
            shown,
            [
                ProgramLine::Log(Severity::Info, "starting".into()),
                ProgramLine::Log(Severity::Info, "done".into())
            ]
        );
        assert_eq!(
            output.outcome(Ended::Exited(0)),
            Outcome::Succeeded {
                result: json!({"sum": 3})
            }
        );
    }

    #[test]
    fn the_last_result_line_wins() {
        let (output, _) = read(&[
            r#"PlanQK:Job:Result: {"n": 1}"#,
            r#"PlanQK:Job:Result: {"n": 2}"#,
        ]);
        assert_eq!(
            output.outcome(Ended::Exited(0)),
            Outcome::Succeeded {
                result: json!({"n": 2})
            }
        );
    }

    #[test]
    fn a_multiline_block_is_joined_and_parsed() {
        let (output, shown) = read(&[
            "before",
            "PlanQK:Job:MultilineResult",
            "{",
            r#"  "values": [1, 2],"#,
            r#"  "ok": true"#,
            "}",
            "PlanQK:Job:MultilineResult",
        ]);
        assert_eq!(shown.len(), 1);
        assert_eq!(
            output.outcome(Ended::Exited(0)),
            Outcome::Succeeded {
                result: json!({"values": [1, 2], "ok": true})
            }
        );
    }

    #[test]
    fn an_unclosed_block_or_a_result_that_is_not_json_is_an_invalid_result() {
        for lines in [
            &["PlanQK:Job:MultilineResult", "{"][..],
            &["PlanQK:Job:Result: {nope"][..],
        ] {
            let (output, _) = read(lines);
            let Outcome::Failed { code, detail } = output.outcome(Ended::Exited(0)) else {
                panic!("{lines:?} must fail");
            };
            assert_eq!(code, failure::INVALID_RESULT, "{detail}");
        }
    }

    #[test]
    fn a_non_zero_exit_fails_whatever_was_printed() {
        let (output, _) = read(&[r#"PlanQK:Job:Result: {"sum": 3}"#]);
        assert_eq!(
            output.outcome(Ended::Exited(2)),
            Outcome::Failed {
                code: failure::PROGRAM_FAILED.into(),
                detail: "the container exited with code 2".into()
            }
        );
    }

    #[test]
    fn no_result_line_is_an_empty_result() {
        let (output, _) = read(&["just logs"]);
        assert_eq!(
            output.outcome(Ended::Exited(0)),
            Outcome::Succeeded { result: json!({}) }
        );
    }

    #[test]
    fn interim_results_limits_and_cancels_end_as_the_contract_says() {
        let (_, shown) = read(&[r#"PlanQK:Job:InterimResult: {"step": 1}"#]);
        assert_eq!(shown, [ProgramLine::Interim(json!({"step": 1}))]);
        let code = |ended| match ContainerOutput::default().outcome(ended) {
            Outcome::Failed { code, .. } => code,
            other => format!("{other:?}"),
        };
        assert_eq!(code(Ended::OutOfMemory(128 << 20)), failure::MEMORY_LIMIT);
        assert_eq!(
            code(Ended::TimedOut(Duration::from_secs(2))),
            failure::TIMEOUT
        );
        assert_eq!(
            ContainerOutput::default().outcome(Ended::Cancelled),
            Outcome::Cancelled
        );
    }
}
