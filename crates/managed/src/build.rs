//! Builds: every source upload starts one; a worker prepares the runtime
//! for it; executions run on the service's latest successful build.
//!
//! | key | holds |
//! |---|---|
//! | `build/{bld}` | [`Build`]: the archive, its validation (written once, at upload) |
//! | `build/{bld}/archive/{n}` | the archive's chunks |
//! | `build/{bld}/final`, `…/final/value` | the [`BuildEnd`], written once (`write_once`) |
//! | `build/{bld}/log/…` | the build log |
//! | `service/{svc}/builds/…` | index of the service's builds (newest is current) |

use qmarket_archive::State;
use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{Resources, Runtime, Service};
use qmarket_store::{get_json, value_key, write_once, Index, KeyValue, Waiting, Written};
use serde::{Deserialize, Serialize};

use crate::blob::BlobInfo;
use crate::log::{Log, LogEntry, Severity};
use crate::queue::{enqueue_entry, JobKind, JobRef};

/// How many of a service's builds are looked at for its latest success.
const LOOKED_AT: usize = 50;

/// An archive's validation as stored and shown (`validationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationResult {
    /// `SUCCESS`, `WARNING` or `ERROR`.
    pub state: State,
    /// One line.
    pub summary: String,
    /// What is wrong or worth knowing.
    pub messages: Vec<String>,
}

impl From<&qmarket_archive::Validation> for ValidationResult {
    fn from(v: &qmarket_archive::Validation) -> Self {
        ValidationResult {
            state: v.state,
            summary: v.summary.clone(),
            messages: v.texts().into_iter().map(str::to_string).collect(),
        }
    }
}

/// A build, as written when its archive was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Build {
    /// `bld_…`
    pub id: String,
    /// The service.
    pub service_id: String,
    /// Its owner.
    pub owner_id: String,
    /// The runtime it builds for.
    pub runtime: Runtime,
    /// The resources a build may use.
    pub resources: Resources,
    /// The uploaded archive.
    pub archive: BlobInfo,
    /// What checking the archive found.
    pub validation: ValidationResult,
    /// When it was uploaded (the build's start).
    pub created_at: Timestamp,
}

/// How a build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildStatus {
    /// Still running (no end yet).
    Working,
    /// Ready for executions.
    Success,
    /// Not usable.
    Failure,
}

/// The end of a build, written once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildEnd {
    /// `SUCCESS` or `FAILURE`.
    pub status: BuildStatus,
    /// When.
    pub ended_at: Timestamp,
    /// What the build found worth telling (e.g. dependencies it skipped).
    pub warnings: Vec<String>,
    /// Why it failed.
    pub failure: Option<String>,
}

/// A build as `GET /api/services/{id}/build` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildView {
    /// `bld_…`
    pub id: String,
    /// `WORKING`, `SUCCESS` or `FAILURE`.
    pub status: BuildStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended (`null` while working).
    pub ended_at: Option<Timestamp>,
    /// The archive's validation, with what the build itself found.
    pub validation_result: ValidationResult,
}

fn key(id: &str) -> String {
    format!("build/{id}")
}

fn end_key(id: &str) -> String {
    format!("build/{id}/final")
}

/// The prefix of build `id`'s archive chunks.
pub fn archive_prefix(id: &str) -> String {
    format!("build/{id}/archive")
}

/// The log of build `id`.
pub fn log(id: &str) -> Log {
    Log::new(format!("build/{id}/log"))
}

/// The index of service `svc`'s builds.
fn service_builds(svc: &str) -> Index {
    Index::new(format!("service/{svc}/builds"))
}

/// The archive rules of runtime `runtime`.
pub fn archive_runtime(runtime: Runtime) -> qmarket_archive::Runtime {
    match runtime {
        Runtime::PythonTemplate => qmarket_archive::Runtime::PythonTemplate,
        Runtime::Wasm => qmarket_archive::Runtime::Wasm,
        Runtime::Docker => qmarket_archive::Runtime::Docker,
    }
}

/// A new build id (the archive is written under it before the build is
/// recorded).
pub fn new_build_id() -> Result<String> {
    new_id(IdKind::Build)
}

/// Records build `id` of `service` for the uploaded `archive` and its
/// `validation`, in one write with its place among the service's builds
/// and, if the archive is usable, in the work queue; an archive refused by
/// its validation ends the build at once (`FAILURE`).
pub fn record(
    kv: &dyn KeyValue,
    id: String,
    service: &Service,
    archive: BlobInfo,
    validation: ValidationResult,
    now: Timestamp,
) -> Result<BuildView> {
    let managed = service.managed.clone().ok_or_else(|| {
        Error::Conflict(format!(
            "service '{}' is not a MANAGED service; only those take source code",
            service.id
        ))
    })?;
    let build = Build {
        id,
        service_id: service.id.clone(),
        owner_id: service.owner_id.clone(),
        runtime: managed.runtime,
        resources: managed.resources,
        archive,
        validation,
        created_at: now,
    };
    let encode = |e: serde_json::Error| Error::Internal(format!("cannot encode a build: {e}"));
    let index = service_builds(&service.id);
    let seq = index.reserve(kv)?;
    let mut entries = vec![
        (key(&build.id), serde_json::to_vec(&build).map_err(encode)?),
        (index.slot_key(seq), build.id.clone().into_bytes()),
    ];
    let refused = build.validation.state == State::Error;
    if !refused {
        entries.push(enqueue_entry(
            kv,
            &JobRef {
                kind: JobKind::Build,
                id: build.id.clone(),
                runtime: build.runtime,
            },
        )?);
    }
    kv.set_many(&entries)?;
    if refused {
        let message = format!("the archive was refused: {}", build.validation.summary);
        log(&build.id).append(
            kv,
            &[LogEntry {
                message,
                severity: Severity::Error,
                timestamp: now,
            }],
        )?;
        finish(
            kv,
            &build.id,
            BuildEnd {
                status: BuildStatus::Failure,
                ended_at: now,
                warnings: Vec::new(),
                failure: Some("the archive was refused by its validation".into()),
            },
        )?;
    }
    view(kv, &build)
}

/// Build `id`, if it exists.
pub fn load(kv: &dyn KeyValue, id: &str) -> Result<Option<Build>> {
    get_json(kv, &key(id))
}

/// How build `id` ended, if it has (reads only).
pub fn end(kv: &dyn KeyValue, id: &str) -> Result<Option<BuildEnd>> {
    get_json(kv, &value_key(&end_key(id)))
}

/// Ends build `id` as `outcome` says, unless it has ended already: the
/// first end written stands, and is returned.
pub fn finish(kv: &dyn KeyValue, id: &str, outcome: BuildEnd) -> Result<BuildEnd> {
    match write_once(kv, &end_key(id), Waiting::default(), || Ok(outcome))? {
        Some(Written::Mine(end) | Written::Theirs(end)) => Ok(end),
        None => Err(Error::Unavailable(format!(
            "the end of build '{id}' is being written; retry"
        ))),
    }
}

/// The build as shown.
pub fn view(kv: &dyn KeyValue, build: &Build) -> Result<BuildView> {
    let end = end(kv, &build.id)?;
    let mut validation = build.validation.clone();
    if let Some(end) = &end {
        if !end.warnings.is_empty() && validation.state == State::Success {
            validation.state = State::Warning;
        }
        validation.messages.extend(end.warnings.iter().cloned());
        if let Some(failure) = &end.failure {
            if validation.state != State::Error {
                validation.messages.push(failure.clone());
            }
        }
        if end.status == BuildStatus::Failure && validation.state != State::Error {
            validation.summary = format!(
                "the build failed: {}",
                end.failure.as_deref().unwrap_or("see the build log")
            );
        }
    }
    Ok(BuildView {
        id: build.id.clone(),
        status: end.as_ref().map_or(BuildStatus::Working, |e| e.status),
        started_at: build.created_at,
        ended_at: end.map(|e| e.ended_at),
        validation_result: validation,
    })
}

/// The service's builds, newest first (at most `limit`).
fn newest(kv: &dyn KeyValue, svc: &str, limit: usize) -> Result<Vec<Build>> {
    let page = service_builds(svc).page(kv, None, limit)?;
    let keys: Vec<String> = page.entries.iter().map(|(_, id)| key(id)).collect();
    Ok(kv
        .get_many(&keys)?
        .into_iter()
        .flatten()
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect())
}

/// The service's current build (its latest upload), if any.
pub fn latest(kv: &dyn KeyValue, svc: &str) -> Result<Option<Build>> {
    Ok(newest(kv, svc, 1)?.into_iter().next())
}

/// The service's newest build that succeeded: what executions run on.
pub fn latest_successful(kv: &dyn KeyValue, svc: &str) -> Result<Option<Build>> {
    let builds = newest(kv, svc, LOOKED_AT)?;
    let ends: Vec<String> = builds.iter().map(|b| value_key(&end_key(&b.id))).collect();
    for (build, end) in builds.into_iter().zip(kv.get_many(&ends)?) {
        let end: Option<BuildEnd> = end.and_then(|b| serde_json::from_slice(&b).ok());
        if end.is_some_and(|e| e.status == BuildStatus::Success) {
            return Ok(Some(build));
        }
    }
    Ok(None)
}

/// Whether a newer upload replaced build `build` (its runs should stop).
pub fn superseded(kv: &dyn KeyValue, build: &Build) -> Result<bool> {
    Ok(latest(kv, &build.service_id)?.is_some_and(|b| b.id != build.id))
}
