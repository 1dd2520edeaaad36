//! The API the workers that build and run managed services use (see
//! `qmarket_managed::protocol`), behind the worker credential.
//!
//! Workers are separate processes that talk to the platform over HTTP
//! only: they claim work from the queue under a lease, fetch the archive,
//! beat while they work, send log lines and interim results as they come,
//! upload results and files, and report the end. Only the current attempt
//! of a job is listened to. When an execution ends, the platform meters it
//! itself, like any provider's call.
#![deny(missing_docs)]

use qmarket_core::decimal::{Quantity, Sign};
use qmarket_core::secret::{constant_time_eq, Secret};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_http::{
    allow, json_body, no_endpoint, BodyLimit, BodySource, Buffered, HandlerResult, Method, Params,
    Request, Response, Route,
};
use qmarket_managed::blob::BlobWriter;
use qmarket_managed::build::{self, BuildEnd, BuildStatus};
use qmarket_managed::execution::{self, Execution, ExecutionEnd, MAX_FILE_BYTES, MAX_RESULT_BYTES};
use qmarket_managed::jobs::{assignment, PlatformJobs};
use qmarket_managed::protocol::{
    BeatAnswer, BuildReport, ClaimAnswer, ClaimRequest, ExecutionReport, LogBatch,
    WORKER_TOKEN_VARIABLE,
};
use qmarket_managed::queue;
use qmarket_metering::{record_usage, Grace, Ingest, UsageReport, Waiting};
use qmarket_model::{Correlation, PricingPlan, Record};
use qmarket_store::KeyValue;

#[cfg(test)]
mod tests;

const CLAIM: Route = Route::new("/api/workers/claim");
const ARCHIVE_CHUNK: Route = Route::new("/api/workers/builds/:bld/archive/:chunk");
const BUILD_ATTEMPT: Route = Route::new("/api/workers/builds/:bld/attempts/:attempt/:action");
const EXECUTION_ATTEMPT: Route =
    Route::new("/api/workers/executions/:exe/attempts/:attempt/:action");
const EXECUTION_FILE: Route =
    Route::new("/api/workers/executions/:exe/attempts/:attempt/files/:file");

/// Spin variable: whole days after a month's end before its usage is final
/// (as the metering component reads it).
pub const INVOICE_GRACE_DAYS_VARIABLE: &str = "invoice_grace_days";

/// What the component is configured with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The worker credential; the worker API is closed without one.
    pub worker_token: Option<Secret>,
    /// When a month's usage becomes final (the platform's
    /// `invoice_grace_days`): executions are metered like any report.
    pub grace: Grace,
}

/// Whether `req` uploads bytes that are streamed to the store (and must not
/// be buffered first).
pub fn streams_body(req: &Request) -> bool {
    req.method == Method::Put
        && (EXECUTION_FILE.matches(&req.path).is_some()
            || EXECUTION_ATTEMPT
                .matches(&req.path)
                .is_some_and(|p| p.get("action") == Ok("result")))
}

fn authenticate(req: &Request, settings: &Settings) -> Result<()> {
    let Some(expected) = &settings.worker_token else {
        return Err(Error::Unauthenticated(format!(
            "no worker credential is configured: set the '{WORKER_TOKEN_VARIABLE}' variable"
        )));
    };
    match req.bearer_token() {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(Error::Unauthenticated(
            "the worker credential is missing or wrong".into(),
        )),
    }
}

fn attempt_of(params: &Params) -> Result<u64> {
    params
        .get("attempt")?
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::NotFound("no such attempt".into()))
}

fn ensure_current(kv: &dyn KeyValue, id: &str, attempt: u64) -> Result<()> {
    if queue::is_current(kv, id, attempt)? {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "attempt {attempt} of '{id}' is no longer current: another worker took it over; stop"
    )))
}

/// Routes one request of a worker; `body` is its body, read only by the
/// uploads.
pub fn route(
    req: &Request,
    body: Box<dyn BodySource + '_>,
    kv: &dyn KeyValue,
    settings: &Settings,
    now: Timestamp,
) -> HandlerResult {
    let path = req.path.as_str();
    if !path.starts_with("/api/workers/") {
        return Err(no_endpoint(req));
    }
    authenticate(req, settings)?;
    if CLAIM.matches(path).is_some() {
        allow(req, &[Method::Post])?;
        let claim: ClaimRequest = json_body(req)?;
        let claimed = queue::claim_next(kv, &PlatformJobs, &claim.runtimes, claim.hint, now)?;
        return Ok(Response::ok(&ClaimAnswer {
            job: assignment(kv, &claimed)?,
            hint: claimed.hint,
        }));
    }
    if let Some(params) = ARCHIVE_CHUNK.matches(path) {
        allow(req, &[Method::Get])?;
        let id = params.get("bld")?;
        let n = params
            .get("chunk")?
            .parse::<u64>()
            .map_err(|_| Error::NotFound("no such chunk".into()))?;
        let b = build::load(kv, id)?.ok_or_else(|| Error::not_found("build", id))?;
        let mut response =
            Response::empty(200).with_header("content-type", "application/octet-stream");
        response.body = b.archive.chunk(kv, n)?;
        return Ok(response);
    }
    if let Some(params) = EXECUTION_FILE.matches(path) {
        allow(req, &[Method::Put])?;
        let (id, attempt) = (params.get("exe")?, attempt_of(&params)?);
        ensure_current(kv, id, attempt)?;
        let prefix = execution::file_prefix(id, attempt, params.get("file")?);
        store_upload(kv, body, &prefix, MAX_FILE_BYTES, "a result file's limit")?;
        return Ok(Response::no_content());
    }
    if let Some(params) = BUILD_ATTEMPT.matches(path) {
        allow(req, &[Method::Post])?;
        let (id, attempt) = (params.get("bld")?, attempt_of(&params)?);
        let b = build::load(kv, id)?.ok_or_else(|| Error::not_found("build", id))?;
        ensure_current(kv, id, attempt)?;
        return match params.get("action")? {
            "beat" => {
                queue::beat(kv, id, attempt, now)?;
                let stop = build::superseded(kv, &b)?;
                Ok(Response::ok(&BeatAnswer {
                    current: true,
                    stop,
                }))
            }
            "log" => {
                let batch: LogBatch = json_body(req)?;
                build::log(id).append(kv, &batch.lines)?;
                Ok(Response::no_content())
            }
            "finish" => {
                let report: BuildReport = json_body(req)?;
                let failure = match report.status {
                    BuildStatus::Failure => {
                        Some(report.failure.unwrap_or_else(|| "the build failed".into()))
                    }
                    _ => None,
                };
                let end = BuildEnd {
                    status: report.status,
                    ended_at: now,
                    warnings: report.warnings,
                    failure,
                };
                build::finish(kv, id, end)?;
                Ok(Response::ok(&build::view(kv, &b)?))
            }
            _ => Err(no_endpoint(req)),
        };
    }
    if let Some(params) = EXECUTION_ATTEMPT.matches(path) {
        let (id, attempt) = (params.get("exe")?, attempt_of(&params)?);
        let action = params.get("action")?;
        let method = if action == "result" {
            Method::Put
        } else {
            Method::Post
        };
        allow(req, &[method])?;
        let e = execution::load(kv, id)?.ok_or_else(|| Error::not_found("execution", id))?;
        ensure_current(kv, id, attempt)?;
        return match action {
            "beat" => {
                queue::beat(kv, id, attempt, now)?;
                let stop = execution::cancel_requested(kv, id)?;
                Ok(Response::ok(&BeatAnswer {
                    current: true,
                    stop,
                }))
            }
            "log" => {
                let batch: LogBatch = json_body(req)?;
                execution::log(id).append(kv, &batch.lines)?;
                execution::add_interim(kv, id, &batch.interim)?;
                Ok(Response::no_content())
            }
            "started" => {
                execution::mark_started(kv, id, attempt, now)?;
                Ok(Response::no_content())
            }
            "result" => {
                let prefix = execution::result_prefix(id, attempt);
                store_upload(kv, body, &prefix, MAX_RESULT_BYTES, "the result's limit")?;
                Ok(Response::no_content())
            }
            "finish" => {
                let report: ExecutionReport = json_body(req)?;
                let outcome = execution::end_of_attempt(kv, id, attempt, &report, now)?;
                // Metered before the end is written: whoever sees the
                // execution ended sees its usage too. A finish sent again
                // meters nothing twice (each report has an event id of its
                // own).
                meter(kv, &e, &outcome, settings.grace, now)?;
                execution::finish(kv, id, outcome)?;
                Ok(Response::ok(&execution::view(kv, &e)?))
            }
            _ => Err(no_endpoint(req)),
        };
    }
    Err(no_endpoint(req))
}

/// Writes an upload to the store under `prefix` and records it.
fn store_upload(
    kv: &dyn KeyValue,
    body: Box<dyn BodySource + '_>,
    prefix: &str,
    max_bytes: u64,
    whose: &'static str,
) -> Result<()> {
    let mut writer = BlobWriter::new(prefix, max_bytes);
    let limit = BodyLimit { max_bytes, whose };
    if let Err(e) = body.each(limit, &mut |piece| writer.write(kv, piece)) {
        writer.abandon(kv);
        return Err(e);
    }
    let info = writer.finish(kv)?;
    execution::record_upload(kv, &info)
}

/// The platform's own usage reports for an execution that ran: one unit of
/// each product counted per `call` or `execution`, and its run time for
/// products counted in `second`s (wall clock) or `cpu-second`s. Each report
/// has an event id of its own, so finishing twice meters once.
fn meter(
    kv: &dyn KeyValue,
    e: &Execution,
    end: &ExecutionEnd,
    grace: Grace,
    now: Timestamp,
) -> Result<()> {
    if end.started_at.is_none() {
        return Ok(());
    }
    let Some(correlation) = Correlation::load(kv, &e.id)? else {
        return Ok(());
    };
    let Some(plan) = PricingPlan::load(kv, &correlation.pricing_plan_id)? else {
        return Ok(());
    };
    let seconds = |millis: u64| format!("{}.{:03}", millis / 1000, millis % 1000);
    for product in &plan.products {
        let count = match product.unit.trim().to_ascii_lowercase().as_str() {
            "call" | "calls" | "execution" | "executions" => "1".to_string(),
            "second" | "seconds" | "s" => seconds(end.run_millis),
            "cpu-second" | "cpu-seconds" => seconds(end.cpu_millis),
            _ => continue,
        };
        // A run too short to measure is no usage of a time product.
        let Ok(count) = Quantity::parse(&count, 12, Sign::Positive) else {
            continue;
        };
        let report = UsageReport {
            correlation_id: e.id.clone(),
            product_id: product.id.clone(),
            count,
            event_id: Some(format!("managed:{}:{}", e.id, product.id)),
            timestamp: Some(end.ended_at),
        };
        let ingest = Ingest {
            kv,
            caller: &e.provider_id,
            correlations: None,
            now,
            waiting: Waiting::default(),
            grace,
        };
        record_usage(&ingest, &report)?;
    }
    Ok(())
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    let grace = Grace::from_setting(qmarket_spin::variable(INVOICE_GRACE_DAYS_VARIABLE).as_deref())
        .unwrap_or_else(|e| {
            // The metering API answers 500 for the same setting, so the
            // misconfiguration is seen; executions still meter meanwhile.
            eprintln!("workers: {e}; using the default grace period");
            Grace::default()
        });
    let settings = Settings {
        worker_token: qmarket_spin::variable(WORKER_TOKEN_VARIABLE).map(Secret::new),
        grace,
    };
    let head = qmarket_spin::request_head(&req);
    if streams_body(&head) {
        return qmarket_spin::serve_streamed(head, req, |head, body, kv| {
            route(head, body, kv, &settings, Timestamp::now())
        });
    }
    qmarket_spin::serve(req, |request, kv| {
        route(
            request,
            Box::new(Buffered(Vec::new())),
            kv,
            &settings,
            Timestamp::now(),
        )
    })
}
