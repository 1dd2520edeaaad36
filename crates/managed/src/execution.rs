//! Executions of managed services: started by a consumer's application
//! through the gateway, run by a worker, read back as PlanQK's execution
//! API shows them.
//!
//! | key | holds |
//! |---|---|
//! | `exe/{exe}` | [`Execution`]: who started what on which build (written once) |
//! | `exe/{exe}/input/{n}` | the request body |
//! | `exe/{exe}/cancel` | set when a cancel was asked for |
//! | `exe/{exe}/started/{attempt}` | when that attempt started the program |
//! | `exe/{exe}/attempt/{n}/result…`, `…/files/{name}…` | what that attempt uploaded |
//! | `exe/{exe}/final`, `…/final/value` | the [`ExecutionEnd`], written once |
//! | `exe/{exe}/log/…`, `exe/{exe}/interim/…` | its log and interim results |
//! | `app/{app}/service/{svc}/executions/…` | index of an application's executions of a service |
//!
//! Its status is derived, never stored as a field to update: the end if
//! there is one, else `RUNNING` once an attempt started the program, else
//! `PENDING`. The execution id is also its correlation id, so the
//! platform meters it like any call.

use qmarket_core::id::{new_id, IdKind};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{Correlation, Resources, Runtime, Service, Subscription};
use qmarket_store::{get_json, value_key, write_once, Index, KeyValue, Waiting, Written};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::blob::{self, BlobInfo};
use crate::build;
use crate::log::{Log, LogEntry};
use crate::protocol::ExecutionReport;
use crate::queue::{self, enqueue_entry, JobKind, JobRef};

/// The largest request body an execution takes.
pub const MAX_INPUT_BYTES: usize = 1_000_000;
/// The most executions a listing shows (the newest).
pub const MAX_LISTED: usize = 100;
/// The largest result (JSON) a worker may upload.
pub const MAX_RESULT_BYTES: u64 = 16 << 20;
/// The largest result file a worker may upload.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The most result files of one execution.
pub const MAX_FILES: usize = 100;
/// The most interim results kept.
pub const MAX_INTERIM: u64 = 1_000;

/// An execution as started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// `exe_…` (also its correlation id).
    pub id: String,
    /// The service.
    pub service_id: String,
    /// Its owner.
    pub provider_id: String,
    /// The application that started it.
    pub application_id: String,
    /// The application's owner.
    pub consumer_id: String,
    /// The subscription it runs under.
    pub subscription_id: String,
    /// The build it runs on.
    pub build_id: String,
    /// The runtime.
    pub runtime: Runtime,
    /// Its limits.
    pub resources: Resources,
    /// The request body.
    pub input: BlobInfo,
    /// When it was started.
    pub created_at: Timestamp,
}

/// Where an execution is (PlanQK's statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Not known.
    Unknown,
    /// Waiting for a worker.
    Pending,
    /// Its program runs.
    Running,
    /// It ended with a result.
    Succeeded,
    /// It ended with an error.
    Failed,
    /// It was cancelled.
    Cancelled,
}

/// A result file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultFile {
    /// Its name (a plain file name).
    pub name: String,
    /// Its bytes.
    pub blob: BlobInfo,
}

/// The error of a failed or cancelled execution: its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResult {
    /// A short code.
    pub code: String,
    /// What happened.
    pub detail: String,
}

/// How an execution ended, written once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEnd {
    /// `SUCCEEDED`, `FAILED` or `CANCELLED`.
    pub status: Status,
    /// When its program started (`None`: it never ran).
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Timestamp,
    /// The program's result (`SUCCEEDED`).
    pub result: Option<BlobInfo>,
    /// The error (`FAILED`, `CANCELLED`).
    pub error: Option<ErrorResult>,
    /// Its result files.
    pub files: Vec<ResultFile>,
    /// Wall-clock milliseconds the program ran.
    pub run_millis: u64,
    /// CPU milliseconds it used, where the runtime measures them.
    pub cpu_millis: u64,
}

/// An execution as PlanQK's API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    /// `exe_…`
    pub id: String,
    /// Where it is.
    pub status: Status,
    /// When it was started.
    pub created_at: Timestamp,
    /// When its program started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Always `MANAGED`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The service.
    pub service_id: String,
    /// The application.
    pub application_id: String,
}

fn key(id: &str) -> String {
    format!("exe/{id}")
}

fn end_key(id: &str) -> String {
    format!("exe/{id}/final")
}

fn cancel_key(id: &str) -> String {
    format!("exe/{id}/cancel")
}

fn started_key(id: &str, attempt: u64) -> String {
    format!("exe/{id}/started/{attempt}")
}

/// Where attempt `attempt` of execution `id` uploads its result.
pub fn result_prefix(id: &str, attempt: u64) -> String {
    format!("exe/{id}/attempt/{attempt}/result")
}

/// Where attempt `attempt` of execution `id` uploads result file `name`.
pub fn file_prefix(id: &str, attempt: u64, name: &str) -> String {
    format!("exe/{id}/attempt/{attempt}/files/{name}")
}

fn info_key(prefix: &str) -> String {
    format!("{prefix}/info")
}

/// The log of execution `id`.
pub fn log(id: &str) -> Log {
    Log::new(format!("exe/{id}/log"))
}

fn interim_index(id: &str) -> Index {
    Index::new(format!("exe/{id}/interim"))
}

fn application_index(app: &str, svc: &str) -> Index {
    Index::new(format!("app/{app}/service/{svc}/executions"))
}

/// Starts an execution of managed `service` for `subscription` with request
/// body `input` (a JSON object of at most [`MAX_INPUT_BYTES`]): recorded,
/// listed, queued and correlated in one write. 409 while the service has no
/// successful build.
pub fn start(
    kv: &dyn KeyValue,
    service: &Service,
    subscription: &Subscription,
    input: &[u8],
    now: Timestamp,
) -> Result<ExecutionView> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the request body has {} bytes; an execution takes at most {MAX_INPUT_BYTES}",
            input.len()
        )));
    }
    let managed = service.managed.clone().ok_or_else(|| {
        Error::Internal(format!(
            "service {} has no managed configuration",
            service.id
        ))
    })?;
    let build = build::latest_successful(kv, &service.id)?.ok_or_else(|| {
        Error::Conflict(format!(
            "service '{}' has no successful build yet; its provider must upload its source and wait for the build",
            service.id
        ))
    })?;
    let id = new_id(IdKind::Execution)?;
    let (mut entries, input_info) = blob::entries(&format!("exe/{id}/input"), input);
    let execution = Execution {
        id: id.clone(),
        service_id: service.id.clone(),
        provider_id: service.owner_id.clone(),
        application_id: subscription.application_id.clone(),
        consumer_id: subscription.subscriber_id.clone(),
        subscription_id: subscription.id.clone(),
        build_id: build.id,
        runtime: managed.runtime,
        resources: managed.resources,
        input: input_info,
        created_at: now,
    };
    let correlation = Correlation {
        id: id.clone(),
        subscription_id: subscription.id.clone(),
        application_id: subscription.application_id.clone(),
        consumer_id: subscription.subscriber_id.clone(),
        service_id: service.id.clone(),
        provider_id: service.owner_id.clone(),
        pricing_plan_id: subscription.pricing_plan_id.clone(),
        test_mode: subscription.test_mode,
        created_at: now,
    };
    let (correlation_entries, expiry_slot) = correlation.entries(kv, now)?;
    entries.extend(correlation_entries);
    let index = application_index(&execution.application_id, &service.id);
    let seq = index.reserve(kv)?;
    entries.push((index.slot_key(seq), id.clone().into_bytes()));
    entries.push(enqueue_entry(
        kv,
        &JobRef {
            kind: JobKind::Execution,
            id: id.clone(),
            runtime: execution.runtime,
        },
    )?);
    entries.push((key(&id), encode(&execution)?));
    kv.set_many(&entries)?;
    Correlation::recorded(kv, expiry_slot, now);
    view(kv, &execution)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("cannot encode: {e}")))
}

/// Execution `id`, if it exists.
pub fn load(kv: &dyn KeyValue, id: &str) -> Result<Option<Execution>> {
    get_json(kv, &key(id))
}

/// Execution `id` of `application` on `service`; 404 for anything else
/// (another application's executions do not exist for it).
pub fn of_application(
    kv: &dyn KeyValue,
    application: &str,
    service: &str,
    id: &str,
) -> Result<Execution> {
    load(kv, id)?
        .filter(|e| e.application_id == application && e.service_id == service)
        .ok_or_else(|| Error::not_found("execution", id))
}

/// How execution `id` ended, if it has (reads only).
pub fn end(kv: &dyn KeyValue, id: &str) -> Result<Option<ExecutionEnd>> {
    get_json(kv, &value_key(&end_key(id)))
}

/// When the current attempt of execution `id` started its program.
fn started(kv: &dyn KeyValue, id: &str) -> Result<Option<Timestamp>> {
    match queue::current_attempt(kv, id)? {
        0 => Ok(None),
        n => get_json(kv, &started_key(id, n)),
    }
}

/// The execution as shown (reads only).
pub fn view(kv: &dyn KeyValue, e: &Execution) -> Result<ExecutionView> {
    let (status, started_at, ended_at) = match end(kv, &e.id)? {
        Some(end) => (end.status, end.started_at, Some(end.ended_at)),
        None => match (started(kv, &e.id)?, cancelled_at(kv, &e.id)?) {
            // Cancelled while running: its worker is stopping it.
            (Some(at), Some(cancelled)) => (Status::Cancelled, Some(at), Some(cancelled)),
            (Some(at), None) => (Status::Running, Some(at), None),
            (None, _) => (Status::Pending, None, None),
        },
    };
    Ok(ExecutionView {
        id: e.id.clone(),
        status,
        created_at: e.created_at,
        started_at,
        ended_at,
        kind: "MANAGED",
        service_id: e.service_id.clone(),
        application_id: e.application_id.clone(),
    })
}

/// The newest executions (at most [`MAX_LISTED`]) of `application` on
/// `service`, newest first.
pub fn list(kv: &dyn KeyValue, application: &str, service: &str) -> Result<Vec<ExecutionView>> {
    let page = application_index(application, service).page(kv, None, MAX_LISTED)?;
    let keys: Vec<String> = page.entries.iter().map(|(_, id)| key(id)).collect();
    let mut views = Vec::with_capacity(keys.len());
    for bytes in kv.get_many(&keys)?.into_iter().flatten() {
        if let Ok(e) = serde_json::from_slice::<Execution>(&bytes) {
            views.push(view(kv, &e)?);
        }
    }
    Ok(views)
}

/// Ends execution `id` as `outcome` says unless it has ended already: the
/// first end written stands, and is returned.
pub fn finish(kv: &dyn KeyValue, id: &str, outcome: ExecutionEnd) -> Result<ExecutionEnd> {
    match write_once(kv, &end_key(id), Waiting::default(), || Ok(outcome))? {
        Some(Written::Mine(end) | Written::Theirs(end)) => Ok(end),
        None => Err(Error::Unavailable(format!(
            "the end of execution '{id}' is being written; retry"
        ))),
    }
}

/// Cancels execution `e` at `now`: one that has not started yet ends
/// `CANCELLED` at once (and is never billed); one that runs is `CANCELLED`
/// from now on, ended at the time of the first cancel, while its worker,
/// which sees the cancellation within seconds, stops it (billed for the
/// time it ran); one that ended stays as it is. Returns the execution as it
/// is after.
pub fn cancel(kv: &dyn KeyValue, e: &Execution, now: Timestamp) -> Result<ExecutionView> {
    if end(kv, &e.id)?.is_some() {
        return view(kv, e);
    }
    if cancelled_at(kv, &e.id)?.is_none() {
        qmarket_store::set_json(kv, &cancel_key(&e.id), &now)?;
    }
    // Racing the workers for the first attempt: whoever claims it decides.
    if queue::current_attempt(kv, &e.id)? == 0 && queue::claim_attempt(kv, &e.id, 1, now)? {
        finish(kv, &e.id, cancelled_before_start(now))?;
    }
    view(kv, e)
}

/// The end of an execution cancelled before its program ran.
pub fn cancelled_before_start(now: Timestamp) -> ExecutionEnd {
    ExecutionEnd {
        status: Status::Cancelled,
        started_at: None,
        ended_at: now,
        result: None,
        error: Some(cancelled_error()),
        files: Vec::new(),
        run_millis: 0,
        cpu_millis: 0,
    }
}

fn cancelled_error() -> ErrorResult {
    ErrorResult {
        code: "CANCELLED".into(),
        detail: "the execution was cancelled".into(),
    }
}

/// Whether a cancel was asked for execution `id`.
pub fn cancel_requested(kv: &dyn KeyValue, id: &str) -> Result<bool> {
    Ok(kv.exists(&cancel_key(id))?)
}

/// When a cancel was first asked for execution `id`, if one was.
fn cancelled_at(kv: &dyn KeyValue, id: &str) -> Result<Option<Timestamp>> {
    get_json(kv, &cancel_key(id))
}

/// Attempt `attempt` of execution `id` started its program at `now`.
pub fn mark_started(kv: &dyn KeyValue, id: &str, attempt: u64, now: Timestamp) -> Result<()> {
    qmarket_store::set_json(kv, &started_key(id, attempt), &now)
}

/// Records the blob `info` uploaded at `prefix` (a result or a file).
pub fn record_upload(kv: &dyn KeyValue, info: &BlobInfo) -> Result<()> {
    qmarket_store::set_json(kv, &info_key(&info.prefix), info)
}

/// How a worker says an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reported {
    /// With the result it uploaded.
    Succeeded,
    /// With an error.
    Failed {
        /// A short code.
        code: String,
        /// What happened.
        detail: String,
    },
    /// Stopped by a cancel.
    Cancelled,
}

/// The end attempt `attempt` of execution `id` reports: its outcome, with
/// the result and files it uploaded and the times it measured.
pub fn end_of_attempt(
    kv: &dyn KeyValue,
    id: &str,
    attempt: u64,
    report: &ExecutionReport,
    now: Timestamp,
) -> Result<ExecutionEnd> {
    let files = &report.files;
    let started_at: Option<Timestamp> = get_json(kv, &started_key(id, attempt))?;
    let mut keys: Vec<String> = files
        .iter()
        .take(MAX_FILES)
        .map(|name| info_key(&file_prefix(id, attempt, name)))
        .collect();
    keys.push(info_key(&result_prefix(id, attempt)));
    let mut infos: Vec<Option<BlobInfo>> = kv
        .get_many(&keys)?
        .into_iter()
        .map(|v| v.and_then(|b| serde_json::from_slice(&b).ok()))
        .collect();
    let result_info = infos.pop().flatten();
    let files: Vec<ResultFile> = files
        .iter()
        .zip(infos)
        .filter_map(|(name, info)| {
            info.map(|blob| ResultFile {
                name: name.clone(),
                blob,
            })
        })
        .collect();
    if let Some(cancelled) = cancelled_at(kv, id)? {
        // The consumer was told `CANCELLED` when asking: whatever the
        // program did after, that is how it ended (billed as it ran).
        return Ok(ExecutionEnd {
            status: Status::Cancelled,
            started_at,
            ended_at: cancelled.max(started_at.unwrap_or(cancelled)),
            result: None,
            error: Some(cancelled_error()),
            files: Vec::new(),
            run_millis: report.run_millis,
            cpu_millis: report.cpu_millis,
        });
    }
    let (status, result, error) = match report.outcome.clone() {
        Reported::Succeeded => {
            let result = result_info.ok_or_else(|| {
                Error::bad_request("the attempt reports success but uploaded no result")
            })?;
            (Status::Succeeded, Some(result), None)
        }
        Reported::Failed { code, detail } => {
            (Status::Failed, None, Some(ErrorResult { code, detail }))
        }
        Reported::Cancelled => (Status::Cancelled, None, Some(cancelled_error())),
    };
    Ok(ExecutionEnd {
        status,
        started_at,
        ended_at: now,
        result,
        error,
        files,
        run_millis: report.run_millis,
        cpu_millis: report.cpu_millis,
    })
}

/// What `GET …/{id}/result` answers for execution `e` with `base` (its
/// gateway path, `/gateway/{svc}/{id}`): the result's top-level keys (a
/// result that is not an object is under `result`), or `{code, detail}`,
/// with `_links` to itself, its status and each result file, and the
/// execution under `_embedded.status`. 409 while it has not ended.
pub fn result(kv: &dyn KeyValue, e: &Execution, base: &str) -> Result<Value> {
    let end = end(kv, &e.id)?.ok_or_else(|| {
        Error::Conflict(format!(
            "execution '{}' has not finished; its result is there once its status is SUCCEEDED, FAILED or CANCELLED",
            e.id
        ))
    })?;
    let mut body = match (&end.result, &end.error) {
        (Some(info), _) => match serde_json::from_slice::<Value>(&info.read_all(kv)?) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                let mut map = Map::new();
                map.insert("result".into(), other);
                map
            }
            Err(_) => {
                return Err(Error::Internal(format!(
                    "the result of {} is unreadable",
                    e.id
                )))
            }
        },
        (None, Some(error)) => {
            let mut map = Map::new();
            map.insert("code".into(), json!(error.code));
            map.insert("detail".into(), json!(error.detail));
            map
        }
        (None, None) => Map::new(),
    };
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": format!("{base}/result")}));
    links.insert("status".into(), json!({"href": base}));
    for file in &end.files {
        links.insert(
            file.name.clone(),
            json!({"href": format!("{base}/result/{}", file.name)}),
        );
    }
    body.insert("_links".into(), Value::Object(links));
    body.insert("_embedded".into(), json!({"status": view(kv, e)?}));
    Ok(Value::Object(body))
}

/// Result file `name` of execution `e`; 404 when it has none such.
pub fn result_file(kv: &dyn KeyValue, e: &Execution, name: &str) -> Result<BlobInfo> {
    end(kv, &e.id)?
        .and_then(|end| end.files.into_iter().find(|f| f.name == name))
        .map(|f| f.blob)
        .ok_or_else(|| Error::NotFound(format!("execution '{}' has no result file '{name}'", e.id)))
}

/// Appends interim results of execution `id`.
pub fn add_interim(kv: &dyn KeyValue, id: &str, values: &[Value]) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let index = interim_index(id);
    let seqs = index.reserve_many(kv, values.len() as u64)?;
    let mut entries = Vec::new();
    for (seq, value) in seqs.zip(values) {
        if seq <= MAX_INTERIM {
            entries.push((index.slot_key(seq), encode(value)?));
        }
    }
    kv.set_many(&entries)?;
    Ok(())
}

/// The interim results of execution `id`, oldest first.
pub fn interim(kv: &dyn KeyValue, id: &str) -> Result<Vec<Value>> {
    let index = interim_index(id);
    let last = index.last_seq(kv)?.min(MAX_INTERIM);
    if last == 0 {
        return Ok(Vec::new());
    }
    Ok(index
        .slots(kv, 1..=last)?
        .into_iter()
        .filter_map(|(_, v)| v.and_then(|b| serde_json::from_slice(&b).ok()))
        .collect())
}

/// The log of execution `id`, oldest first.
pub fn log_lines(kv: &dyn KeyValue, id: &str) -> Result<Vec<LogEntry>> {
    log(id).lines(kv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_store::MemoryStore;

    fn recorded(kv: &dyn KeyValue) -> Execution {
        let e = Execution {
            id: "exe_test".into(),
            service_id: "svc_test".into(),
            provider_id: "acc_provider".into(),
            application_id: "app_test".into(),
            consumer_id: "acc_consumer".into(),
            subscription_id: "sub_test".into(),
            build_id: "bld_test".into(),
            runtime: Runtime::Wasm,
            resources: Resources {
                milli_cpus: 1000,
                memory_in_megabytes: 512,
                timeout_seconds: 60,
            },
            input: blob::put(kv, "exe/exe_test/input", b"{}").unwrap(),
            created_at: at(0),
        };
        kv.set(&key(&e.id), &encode(&e).unwrap()).unwrap();
        e
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_795_342_530_000 + seconds * 1000)
    }

    fn report(outcome: Reported) -> ExecutionReport {
        ExecutionReport {
            outcome,
            files: Vec::new(),
            run_millis: 4_000,
            cpu_millis: 3_500,
        }
    }

    #[test]
    fn a_pending_execution_cancelled_ends_at_once_without_running() {
        let kv = MemoryStore::new();
        let e = recorded(&kv);
        let answer = cancel(&kv, &e, at(1)).unwrap();
        assert_eq!(answer.status, Status::Cancelled);
        assert_eq!(answer.started_at, None);
        assert_eq!(answer.ended_at, Some(at(1)));
        let end = end(&kv, &e.id).unwrap().expect("ended");
        assert_eq!((end.run_millis, end.cpu_millis), (0, 0));
        assert!(!queue::claim_attempt(&kv, &e.id, 1, at(2)).unwrap());
    }

    #[test]
    fn a_running_execution_cancelled_is_cancelled_at_once_and_stays_so_whatever_its_worker_reports()
    {
        let kv = MemoryStore::new();
        let e = recorded(&kv);
        assert!(queue::claim_attempt(&kv, &e.id, 1, at(1)).unwrap());
        mark_started(&kv, &e.id, 1, at(1)).unwrap();
        assert_eq!(view(&kv, &e).unwrap().status, Status::Running);

        let answer = cancel(&kv, &e, at(3)).unwrap();
        assert_eq!(answer.status, Status::Cancelled);
        assert_eq!(
            (answer.started_at, answer.ended_at),
            (Some(at(1)), Some(at(3)))
        );
        // A second cancel keeps the time of the first.
        assert_eq!(cancel(&kv, &e, at(4)).unwrap().ended_at, Some(at(3)));
        assert!(cancel_requested(&kv, &e.id).unwrap());

        // Its worker finished the program just before it saw the cancel.
        let end = end_of_attempt(&kv, &e.id, 1, &report(Reported::Succeeded), at(5)).unwrap();
        assert_eq!(end.status, Status::Cancelled);
        assert_eq!(end.ended_at, at(3));
        assert_eq!(end.result, None);
        assert_eq!(
            (end.run_millis, end.cpu_millis),
            (4_000, 3_500),
            "billed as it ran"
        );
    }

    #[test]
    fn a_finished_execution_is_not_changed_by_a_cancel() {
        let kv = MemoryStore::new();
        let e = recorded(&kv);
        assert!(queue::claim_attempt(&kv, &e.id, 1, at(1)).unwrap());
        mark_started(&kv, &e.id, 1, at(1)).unwrap();
        let failed = Reported::Failed {
            code: "TIMEOUT".into(),
            detail: "ran too long".into(),
        };
        let outcome = end_of_attempt(&kv, &e.id, 1, &report(failed), at(2)).unwrap();
        finish(&kv, &e.id, outcome).unwrap();
        let answer = cancel(&kv, &e, at(3)).unwrap();
        assert_eq!(answer.status, Status::Failed);
        assert_eq!(answer.ended_at, Some(at(2)));
        assert!(!cancel_requested(&kv, &e.id).unwrap());
    }
}
