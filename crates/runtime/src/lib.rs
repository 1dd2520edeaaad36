//! The runtimes of managed services: each builds a service's code once
//! (checks it, prepares its dependencies) and runs it once per execution,
//! under the service's limits, in a fresh working directory.
//!
//! A worker (`qmarket worker`) claims work from the platform, unpacks the
//! service's archive into a directory, and hands that directory to the
//! runtime of the service's `runtime`:
//!
//! - [`Runtime::build`] prepares a build: everything an execution needs
//!   that can be done once (checking the program, installing dependencies),
//!   with its log lines and warnings.
//! - [`Runtime::run`] executes the program once for one request: the
//!   request's JSON ([`Invocation::input`], `{data, params}` for PlanQK's
//!   clients), an empty working directory, an empty output directory whose
//!   files become result files, the limits; log lines and interim results
//!   go to [`Events`] while it runs, and the [`Outcome`] says how it ended.
//!
//! Runtimes know nothing of HTTP or of the platform: the worker moves the
//! bytes.
#![deny(missing_docs)]

#[cfg(feature = "wasm")]
pub mod wasm;

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

#[cfg(feature = "python")]
pub mod python;

#[cfg(feature = "docker")]
pub mod docker;

#[cfg(any(feature = "python", feature = "docker"))]
mod files;
#[cfg(any(feature = "python", feature = "docker"))]
mod output;

/// What one execution may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Thousandths of a CPU core.
    pub milli_cpus: u32,
    /// Memory, in bytes, for the whole execution (all its processes).
    pub memory_bytes: u64,
    /// Wall-clock time from start to end.
    pub timeout: Duration,
}

pub use qmarket_core::Severity;

/// One line of a build's or an execution's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// How severe.
    pub severity: Severity,
    /// The text, without its line break.
    pub message: String,
    /// When it was written.
    pub at: SystemTime,
}

impl LogLine {
    /// A line written now.
    pub fn now(severity: Severity, message: impl Into<String>) -> Self {
        LogLine {
            severity,
            message: message.into(),
            at: SystemTime::now(),
        }
    }
}

/// Where a running execution reports to while it runs.
pub trait Events {
    /// A line of the program's log.
    fn log(&mut self, line: LogLine);
    /// An interim result the program announced.
    fn interim(&mut self, result: Value);
    /// Whether the execution was cancelled: the runtime stops the program
    /// as soon as it sees this (it asks at least every 250 ms).
    fn cancelled(&self) -> bool;
}

/// One execution's request and surroundings.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The request body (`{data, params}` for PlanQK's clients).
    pub input: &'a Value,
    /// An empty directory of this execution only: the program's working
    /// directory (and room for input files).
    pub work_dir: &'a Path,
    /// An empty directory whose files, when the program ends, are the
    /// execution's result files.
    pub output_dir: &'a Path,
    /// The limits.
    pub limits: Limits,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It returned a result (a JSON value).
    Succeeded {
        /// The result.
        result: Value,
    },
    /// It failed: raised, exited non-zero, hit a limit, or returned an error.
    Failed {
        /// A short machine-readable code (see [`failure`]).
        code: String,
        /// What happened, for the consumer (never a trace of the platform).
        detail: String,
    },
    /// It was cancelled while running.
    Cancelled,
}

impl Outcome {
    /// A failure with `code` (see [`failure`]) and `detail`.
    pub fn failed(code: &str, detail: impl Into<String>) -> Outcome {
        Outcome::Failed {
            code: code.to_string(),
            detail: detail.into(),
        }
    }
}

/// The codes of [`Outcome::Failed`] the platform itself gives.
pub mod failure {
    /// The wall-clock deadline passed.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The program used more memory than the service's limit.
    pub const MEMORY_LIMIT: &str = "MEMORY_LIMIT";
    /// The program ended without a result: a non-zero exit, a trap, a crash.
    pub const PROGRAM_FAILED: &str = "PROGRAM_FAILED";
    /// The program's result was not what the runtime expects (not JSON).
    pub const INVALID_RESULT: &str = "INVALID_RESULT";
    /// The runtime could not start the program at all.
    pub const NOT_STARTED: &str = "NOT_STARTED";
    /// The request is not what the runtime can pass to the program (for
    /// PlanQK's template: not a JSON object).
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
}

/// What a build produced besides its log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Built {
    /// Things worth telling the provider that did not stop the build.
    pub warnings: Vec<String>,
}

/// Why a build failed: shown to the provider as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildFailure(pub String);

/// A runtime.
pub trait Runtime: Send + Sync {
    /// Prepares the code in `source` (an unpacked, validated archive) for
    /// executions, writing its log lines to `log`.
    fn build(
        &self,
        source: &Path,
        limits: &Limits,
        log: &mut dyn FnMut(LogLine),
    ) -> Result<Built, BuildFailure>;

    /// Runs the code in `source` (built before by [`Runtime::build`], here
    /// or on another machine) once for `invocation`.
    fn run(&self, source: &Path, invocation: Invocation<'_>, events: &mut dyn Events) -> Outcome;
}
