//! The platform's side of the queue: what claiming, finishing and losing a
//! job mean for builds and executions.

use qmarket_core::{Result, Timestamp};
use qmarket_store::KeyValue;

use crate::build::{self, BuildEnd, BuildStatus};
use crate::execution::{self, ErrorResult, ExecutionEnd, Status};
use crate::protocol::{ArchiveInfo, Assignment};
use crate::queue::{self, Claimed, JobKind, JobRef, Jobs};

/// Builds and executions in the queue.
pub struct PlatformJobs;

impl Jobs for PlatformJobs {
    fn finished(&self, kv: &dyn KeyValue, job: &JobRef) -> Result<bool> {
        Ok(match job.kind {
            JobKind::Build => build::end(kv, &job.id)?.is_some(),
            JobKind::Execution => execution::end(kv, &job.id)?.is_some(),
        })
    }

    fn claimed(
        &self,
        kv: &dyn KeyValue,
        job: &JobRef,
        _attempt: u64,
        now: Timestamp,
    ) -> Result<bool> {
        match job.kind {
            JobKind::Execution => {
                if execution::cancel_requested(kv, &job.id)? {
                    execution::finish(kv, &job.id, execution::cancelled_before_start(now))?;
                    return Ok(false);
                }
            }
            JobKind::Build => {
                if let Some(b) = build::load(kv, &job.id)? {
                    if build::superseded(kv, &b)? {
                        build::finish(kv, &job.id, superseded(now))?;
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    fn lost(&self, kv: &dyn KeyValue, job: &JobRef, now: Timestamp) -> Result<()> {
        let detail = format!(
            "the workers running it stopped answering {} times",
            queue::MAX_ATTEMPTS
        );
        match job.kind {
            JobKind::Build => {
                build::finish(
                    kv,
                    &job.id,
                    BuildEnd {
                        status: BuildStatus::Failure,
                        ended_at: now,
                        warnings: Vec::new(),
                        failure: Some(detail),
                    },
                )?;
            }
            JobKind::Execution => {
                execution::finish(
                    kv,
                    &job.id,
                    ExecutionEnd {
                        status: Status::Failed,
                        started_at: None,
                        ended_at: now,
                        result: None,
                        error: Some(ErrorResult {
                            code: "WORKER_LOST".into(),
                            detail,
                        }),
                        files: Vec::new(),
                        run_millis: 0,
                        cpu_millis: 0,
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// The end of a build that a newer upload replaced.
pub fn superseded(now: Timestamp) -> BuildEnd {
    BuildEnd {
        status: BuildStatus::Failure,
        ended_at: now,
        warnings: Vec::new(),
        failure: Some("superseded by a newer upload of the service's source".into()),
    }
}

/// The work a claim hands out, with what the worker needs to do it.
pub fn assignment(kv: &dyn KeyValue, claimed: &Claimed) -> Result<Option<Assignment>> {
    let Some((job, attempt)) = &claimed.job else {
        return Ok(None);
    };
    let (build_id, input, service_id, resources) = match job.kind {
        JobKind::Build => {
            let b = build::load(kv, &job.id)?.ok_or_else(|| missing(&job.id))?;
            (b.id, None, b.service_id, b.resources)
        }
        JobKind::Execution => {
            let e = execution::load(kv, &job.id)?.ok_or_else(|| missing(&job.id))?;
            let input = serde_json::from_slice(&e.input.read_all(kv)?).map_err(|_| {
                qmarket_core::Error::Internal(format!("the input of {} is unreadable", e.id))
            })?;
            (e.build_id, Some(input), e.service_id, e.resources)
        }
    };
    let archive = build::load(kv, &build_id)?
        .ok_or_else(|| missing(&build_id))?
        .archive;
    Ok(Some(Assignment {
        kind: job.kind,
        id: job.id.clone(),
        attempt: *attempt,
        runtime: job.runtime,
        resources,
        service_id,
        build_id,
        archive: ArchiveInfo {
            len: archive.len,
            chunks: archive.chunks,
            sha256: archive.sha256,
        },
        input,
    }))
}

fn missing(id: &str) -> qmarket_core::Error {
    qmarket_core::Error::Internal(format!("queued job {id} has no record"))
}
