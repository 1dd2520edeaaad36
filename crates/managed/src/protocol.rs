//! What the platform and its workers say to each other, over HTTP only.
//!
//! A worker authenticates with the worker credential (the secret variable
//! `worker_token`, sent as `Authorization: Bearer`) and:
//!
//! | request | body → answer |
//! |---|---|
//! | `POST /api/workers/claim` | [`ClaimRequest`] → [`ClaimAnswer`] |
//! | `GET /api/workers/builds/{bld}/archive/{n}` | → chunk *n* of the build's archive |
//! | `POST /api/workers/{builds\|executions}/{id}/attempts/{n}/beat` | → [`BeatAnswer`] |
//! | `POST …/attempts/{n}/log` | [`LogBatch`] |
//! | `POST /api/workers/executions/{exe}/attempts/{n}/started` | the program started |
//! | `PUT /api/workers/executions/{exe}/attempts/{n}/result` | the result (JSON) |
//! | `PUT /api/workers/executions/{exe}/attempts/{n}/files/{name}` | a result file |
//! | `POST …/attempts/{n}/finish` | [`BuildReport`] or [`ExecutionReport`] |
//!
//! Only the current attempt of a job is listened to: a worker whose lease
//! was taken over gets 409 and stops.

use qmarket_model::{Resources, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::build::BuildStatus;
use crate::execution::Reported;
use crate::log::LogEntry;
use crate::queue::JobKind;

/// The Spin variable holding the worker credential.
pub const WORKER_TOKEN_VARIABLE: &str = "worker_token";

/// A worker asking for work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimRequest {
    /// A name for the worker, for logs.
    pub worker: String,
    /// The runtimes it can run.
    pub runtimes: Vec<Runtime>,
    /// The queue position its last claim reached.
    #[serde(default)]
    pub hint: u64,
}

/// The platform's answer to a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimAnswer {
    /// The work, if there was any.
    pub job: Option<Assignment>,
    /// Where the next claim may start.
    pub hint: u64,
}

/// Work handed to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// A build or an execution.
    pub kind: JobKind,
    /// Its id.
    pub id: String,
    /// The attempt the worker now holds.
    pub attempt: u64,
    /// The runtime.
    pub runtime: Runtime,
    /// The limits.
    pub resources: Resources,
    /// The service.
    pub service_id: String,
    /// The build whose archive to use.
    pub build_id: String,
    /// The archive: its length, chunk count and SHA-256.
    pub archive: ArchiveInfo,
    /// An execution's request body.
    pub input: Option<Value>,
}

/// What a worker needs to fetch and check an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveInfo {
    /// Its length in bytes.
    pub len: u64,
    /// How many chunks (`GET …/archive/{n}`, `n` from 0).
    pub chunks: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The answer to a beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeatAnswer {
    /// Whether the attempt is still the job's current one (if not, stop
    /// without reporting).
    pub current: bool,
    /// Whether to stop and report: the execution was cancelled, or the
    /// build superseded by a newer upload.
    pub stop: bool,
}

/// Log lines (and interim results) of a running attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogBatch {
    /// Lines, oldest first.
    #[serde(default)]
    pub lines: Vec<LogEntry>,
    /// Interim results, oldest first.
    #[serde(default)]
    pub interim: Vec<Value>,
}

/// How a build attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildReport {
    /// `SUCCESS` or `FAILURE`.
    pub status: BuildStatus,
    /// Warnings worth showing the provider.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Why it failed.
    #[serde(default)]
    pub failure: Option<String>,
}

/// How an execution attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionReport {
    /// The outcome (a success refers to the uploaded result).
    pub outcome: Reported,
    /// The names of the result files uploaded.
    #[serde(default)]
    pub files: Vec<String>,
    /// Wall-clock milliseconds the program ran.
    pub run_millis: u64,
    /// CPU milliseconds, where measured (else 0).
    #[serde(default)]
    pub cpu_millis: u64,
}
