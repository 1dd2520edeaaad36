//! One job, from its assignment to its report.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use qmarket_core::Timestamp;
use qmarket_managed::build::BuildStatus;
use qmarket_managed::execution::Reported;
use qmarket_managed::log::LogEntry;
use qmarket_managed::protocol::{Assignment, BuildReport, ExecutionReport, LogBatch};
use qmarket_managed::queue::{JobKind, BEAT_SECONDS};
use qmarket_runtime::{Events, Invocation, Limits, LogLine, Outcome, Severity};
use serde_json::Value;

use crate::source;
use crate::{Config, Platform, Runtimes};

/// How often buffered log lines are sent.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// How many times a report is tried before the worker gives up on it (the
/// lease then runs out and another worker runs the job again).
const REPORT_TRIES: u32 = 30;

/// What the beat and flush threads share with the job.
struct Shared {
    /// The platform said to stop (cancelled, superseded) or the attempt is
    /// no longer ours.
    stop: AtomicBool,
    /// The attempt is no longer ours: report nothing.
    lost: AtomicBool,
    /// The job is over: the threads end.
    done: AtomicBool,
    /// Log lines and interim results not yet sent.
    pending: Mutex<LogBatch>,
}

fn timestamp(at: SystemTime) -> Timestamp {
    let millis = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Timestamp::from_millis(millis)
}

impl Shared {
    fn line(&self, line: LogLine) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.lines.push(LogEntry {
                message: line.message,
                severity: line.severity,
                timestamp: timestamp(line.at),
            });
        }
    }

    fn take(&self) -> Option<LogBatch> {
        let mut pending = self.pending.lock().ok()?;
        if pending.lines.is_empty() && pending.interim.is_empty() {
            return None;
        }
        Some(std::mem::replace(
            &mut *pending,
            LogBatch {
                lines: Vec::new(),
                interim: Vec::new(),
            },
        ))
    }
}

struct JobEvents<'a>(&'a Shared);

impl Events for JobEvents<'_> {
    fn log(&mut self, line: LogLine) {
        self.0.line(line);
    }

    fn interim(&mut self, result: Value) {
        if let Ok(mut pending) = self.0.pending.lock() {
            pending.interim.push(result);
        }
    }

    fn cancelled(&self) -> bool {
        self.0.stop.load(Ordering::Relaxed)
    }
}

/// Sends what `shared` holds; `false` once the attempt is lost.
fn flush(platform: &Platform, job: &Assignment, shared: &Shared) {
    if let Some(batch) = shared.take() {
        if let Err(e) = platform.log(job, &batch) {
            if e.is_not_current() {
                shared.lost.store(true, Ordering::Relaxed);
                shared.stop.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Tries `report` until the platform has it, or the attempt is lost.
fn report(what: &str, mut send: impl FnMut() -> Result<(), crate::ClientError>) {
    for attempt in 1..=REPORT_TRIES {
        match send() {
            Ok(()) => return,
            Err(e) if e.is_not_current() => return,
            Err(crate::ClientError::Refused { status, detail }) if (400..500).contains(&status) => {
                eprintln!("worker: the platform refused the {what}: {status} {detail}");
                return;
            }
            Err(e) => {
                eprintln!("worker: sending the {what} failed (try {attempt}): {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Does `job`: its source, its beats and log, its runtime, its report.
pub fn work(platform: &Platform, config: &Config, runtimes: &Runtimes, job: &Assignment) {
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        lost: AtomicBool::new(false),
        done: AtomicBool::new(false),
        pending: Mutex::new(LogBatch {
            lines: Vec::new(),
            interim: Vec::new(),
        }),
    });
    let helpers = {
        let (platform, job, shared) = (platform.clone(), job.clone(), shared.clone());
        std::thread::spawn(move || beat_and_flush(&platform, &job, &shared))
    };
    match job.kind {
        JobKind::Build => build(platform, config, runtimes, job, &shared),
        JobKind::Execution => execute(platform, config, runtimes, job, &shared),
    }
    shared.done.store(true, Ordering::Relaxed);
    let _ = helpers.join();
}

/// Beats every [`BEAT_SECONDS`] and sends the log every [`FLUSH_EVERY`]
/// until the job is done.
fn beat_and_flush(platform: &Platform, job: &Assignment, shared: &Shared) {
    let mut last_beat = Instant::now();
    while !shared.done.load(Ordering::Relaxed) {
        std::thread::sleep(FLUSH_EVERY);
        flush(platform, job, shared);
        if last_beat.elapsed() >= Duration::from_secs(BEAT_SECONDS) {
            last_beat = Instant::now();
            match platform.beat(job) {
                Ok(answer) => {
                    if answer.stop {
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                }
                Err(e) if e.is_not_current() => {
                    shared.lost.store(true, Ordering::Relaxed);
                    shared.stop.store(true, Ordering::Relaxed);
                }
                Err(e) => eprintln!("worker: a beat of {} failed: {e}", job.id),
            }
        }
    }
}

fn limits(job: &Assignment) -> Limits {
    Limits {
        milli_cpus: job.resources.milli_cpus,
        memory_bytes: u64::from(job.resources.memory_in_megabytes) << 20,
        timeout: Duration::from_secs(u64::from(job.resources.timeout_seconds)),
    }
}

fn build(
    platform: &Platform,
    config: &Config,
    runtimes: &Runtimes,
    job: &Assignment,
    shared: &Shared,
) {
    shared.line(LogLine::now(
        Severity::Info,
        format!("build {} started on worker {}", job.id, config.name),
    ));
    let outcome = match (
        source::prepare(platform, &config.work_dir, job),
        runtimes.get(job.runtime),
    ) {
        (Err(e), _) => Err(e),
        (Ok(_), None) => Err(format!(
            "this worker cannot build {:?} services",
            job.runtime
        )),
        (Ok(source), Some(runtime)) => runtime
            .build(&source, &limits(job), &mut |line| shared.line(line))
            .map_err(|e| e.0),
    };
    flush(platform, job, shared);
    if shared.lost.load(Ordering::Relaxed) {
        return;
    }
    let report_body = match outcome {
        Ok(built) => {
            shared.line(LogLine::now(Severity::Info, "build succeeded"));
            BuildReport {
                status: BuildStatus::Success,
                warnings: built.warnings,
                failure: None,
            }
        }
        Err(failure) => {
            shared.line(LogLine::now(
                Severity::Error,
                format!("build failed: {failure}"),
            ));
            BuildReport {
                status: BuildStatus::Failure,
                warnings: Vec::new(),
                failure: Some(failure),
            }
        }
    };
    flush(platform, job, shared);
    report("build report", || platform.finish_build(job, &report_body));
}

fn execute(
    platform: &Platform,
    config: &Config,
    runtimes: &Runtimes,
    job: &Assignment,
    shared: &Shared,
) {
    let dir = config
        .work_dir
        .join("executions")
        .join(format!("{}-{}", job.id, job.attempt));
    let (work_dir, output_dir) = (dir.join("work"), dir.join("output"));
    let prepared = source::prepare(platform, &config.work_dir, job).and_then(|source| {
        for d in [&work_dir, &output_dir] {
            fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        Ok(source)
    });
    let input = job.input.clone().unwrap_or(Value::Null);
    // Only the program's own run is billed: fetching the source is not.
    let (mut run_millis, mut cpu_millis) = (0, 0);
    let outcome = match (prepared, runtimes.get(job.runtime)) {
        (Err(detail), _) => Outcome::Failed {
            code: qmarket_runtime::failure::NOT_STARTED.into(),
            detail,
        },
        (Ok(_), None) => Outcome::Failed {
            code: qmarket_runtime::failure::NOT_STARTED.into(),
            detail: format!("this worker cannot run {:?} services", job.runtime),
        },
        (Ok(source), Some(runtime)) => {
            if let Err(e) = platform.started(job) {
                if e.is_not_current() {
                    return;
                }
            }
            let invocation = Invocation {
                input: &input,
                work_dir: &work_dir,
                output_dir: &output_dir,
                limits: limits(job),
            };
            let (started, cpu_before) = (Instant::now(), cpu_time());
            let outcome = runtime.run(&source, invocation, &mut JobEvents(shared));
            run_millis = started.elapsed().as_millis() as u64;
            cpu_millis = cpu_time().saturating_sub(cpu_before).as_millis() as u64;
            outcome
        }
    };
    flush(platform, job, shared);
    if !shared.lost.load(Ordering::Relaxed) {
        deliver(
            platform,
            job,
            outcome,
            &output_dir,
            (run_millis, cpu_millis),
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Uploads the result and files of `outcome` and reports the end.
fn deliver(
    platform: &Platform,
    job: &Assignment,
    outcome: Outcome,
    output: &Path,
    (run_millis, cpu_millis): (u64, u64),
) {
    let mut files = Vec::new();
    let reported = match outcome {
        Outcome::Succeeded { result } => {
            let json = serde_json::to_vec(&result).unwrap_or_else(|_| b"null".to_vec());
            let mut uploaded = true;
            report("result", || {
                platform
                    .upload_result(job, &json)
                    .inspect_err(|_| uploaded = false)
                    .map(|()| {
                        uploaded = true;
                    })
            });
            for (name, path) in output_files(output) {
                let sent = fs::File::open(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|file| {
                        platform
                            .upload_file(job, &name, file)
                            .map_err(|e| e.to_string())
                    });
                match sent {
                    Ok(()) => files.push(name),
                    Err(e) => eprintln!("worker: result file {name} of {} not sent: {e}", job.id),
                }
            }
            if uploaded {
                Reported::Succeeded
            } else {
                Reported::Failed {
                    code: "RESULT_NOT_STORED".into(),
                    detail: "the result could not be stored".into(),
                }
            }
        }
        Outcome::Failed { code, detail } => Reported::Failed { code, detail },
        Outcome::Cancelled => Reported::Cancelled,
    };
    let body = ExecutionReport {
        outcome: reported,
        files,
        run_millis,
        cpu_millis,
    };
    report("execution report", || platform.finish_execution(job, &body));
}

/// The files the program left in its output directory (top level; a
/// folder is not a result file), with the names they are shown under.
fn output_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            e.file_name()
                .into_string()
                .ok()
                .map(|name| (name, e.path()))
        })
        .collect();
    files.sort();
    files.truncate(qmarket_managed::execution::MAX_FILES);
    files
}

/// The CPU time this process and its waited-for descendants have used
/// (user and system). A worker runs one job at a time, so the difference
/// across a run is that run's CPU time, with the worker's own small share.
fn cpu_time() -> Duration {
    let of = |who| {
        // SAFETY: `getrusage` only writes the zeroed struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return Duration::ZERO;
        }
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        time(usage.ru_utime) + time(usage.ru_stime)
    };
    of(libc::RUSAGE_SELF) + of(libc::RUSAGE_CHILDREN)
}
