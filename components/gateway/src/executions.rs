//! PlanQK's execution API of managed services, under
//! `/gateway/{serviceId}`: what a subscribed application calls instead of a
//! forwarded service.
//!
//! | request | answer |
//! |---|---|
//! | `POST /` `{data, params}` | 201, `Location`, the execution (`PENDING`) |
//! | `GET /` | the application's executions, newest first: a bare JSON array |
//! | `GET /{id}` | the execution |
//! | `GET /{id}/result` | the result with `_links` and `_embedded` (409 until it ended) |
//! | `GET /{id}/result/{file}` | a result file |
//! | `GET /{id}/log` | the log: a bare JSON array |
//! | `GET /{id}/interim-results` | the interim results: a bare JSON array |
//! | `PUT /{id}/cancel` | 200 with the execution |

use qmarket_core::{Error, Result, Timestamp};
use qmarket_gateway::Grant;
use qmarket_http::{allow, json_body, Method, Request, Response, Route};
use qmarket_managed::blob::BlobInfo;
use qmarket_managed::execution;
use qmarket_store::KeyValue;
use serde_json::Value;

/// The largest request body of a managed service's execution API.
pub const MAX_BODY_BYTES: u64 = execution::MAX_INPUT_BYTES as u64;

const EXECUTION: Route = Route::new("/:exe");
const RESULT: Route = Route::new("/:exe/result");
const RESULT_FILE: Route = Route::new("/:exe/result/:file");
const LOG: Route = Route::new("/:exe/log");
const INTERIM: Route = Route::new("/:exe/interim-results");
const CANCEL: Route = Route::new("/:exe/cancel");

/// What the execution API answers.
#[derive(Debug)]
pub enum Answer {
    /// A whole response.
    Whole(Response),
    /// A result file, to stream.
    File(BlobInfo),
}

/// Serves `req` (with its body) for the application and service of
/// `grant`; `remainder` is the path after `/gateway/{serviceId}`.
pub fn serve(
    req: &Request,
    kv: &dyn KeyValue,
    grant: &Grant,
    remainder: &str,
    now: Timestamp,
) -> Result<Answer> {
    let service = &grant.service;
    let app = &grant.subscription.application_id;
    let base = format!("/gateway/{}", service.id);
    if remainder.is_empty() || remainder == "/" {
        allow(req, &[Method::Get, Method::Post])?;
        if req.method == Method::Get {
            return Ok(Answer::Whole(Response::ok(&execution::list(
                kv,
                app,
                &service.id,
            )?)));
        }
        let input: Value = json_body(req)?;
        if !input.is_object() {
            return Err(Error::bad_request(
                "the body must be a JSON object, e.g. {\"data\": {…}, \"params\": {…}}",
            ));
        }
        let started = execution::start(kv, service, &grant.subscription, &req.body, now)?;
        let location = format!("{base}/{}", started.id);
        return Ok(Answer::Whole(
            Response::created(&started).with_header("location", location),
        ));
    }
    let found = |id: &str| execution::of_application(kv, app, &service.id, id);
    if let Some(p) = EXECUTION.matches(remainder) {
        allow(req, &[Method::Get])?;
        let e = found(p.get("exe")?)?;
        return Ok(Answer::Whole(Response::ok(&execution::view(kv, &e)?)));
    }
    if let Some(p) = RESULT.matches(remainder) {
        allow(req, &[Method::Get])?;
        let e = found(p.get("exe")?)?;
        let body = execution::result(kv, &e, &format!("{base}/{}", e.id))?;
        return Ok(Answer::Whole(Response::ok(&body)));
    }
    if let Some(p) = RESULT_FILE.matches(remainder) {
        allow(req, &[Method::Get])?;
        let e = found(p.get("exe")?)?;
        return Ok(Answer::File(execution::result_file(
            kv,
            &e,
            p.get("file")?,
        )?));
    }
    if let Some(p) = LOG.matches(remainder) {
        allow(req, &[Method::Get])?;
        let e = found(p.get("exe")?)?;
        return Ok(Answer::Whole(Response::ok(&execution::log_lines(
            kv, &e.id,
        )?)));
    }
    if let Some(p) = INTERIM.matches(remainder) {
        allow(req, &[Method::Get])?;
        let e = found(p.get("exe")?)?;
        return Ok(Answer::Whole(Response::ok(&execution::interim(kv, &e.id)?)));
    }
    if let Some(p) = CANCEL.matches(remainder) {
        allow(req, &[Method::Put])?;
        let e = found(p.get("exe")?)?;
        return Ok(Answer::Whole(Response::ok(&execution::cancel(
            kv, &e, now,
        )?)));
    }
    Err(Error::NotFound(format!(
        "service '{}' is a managed service; it answers its execution API only",
        service.id
    )))
}
