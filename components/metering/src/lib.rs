//! The metering API (PlanQK-compatible ingestion), metering events and usage
//! bills: parse, call `qmarket-metering`, answer.
//!
//! | route | what |
//! |---|---|
//! | `POST /qc-catalog/external-services/metering`, `POST /api/metering` | one usage report |
//! | `POST /api/metering/batch` | up to 100 reports, each judged on its own |
//! | `GET /api/services/{id}/metering-events` | the service's events (owner) |
//! | `GET /api/subscriptions/{id}/usage` | the subscription's bill (subscriber or provider) |
//! | `GET /api/subscriptions/{id}/calls`, `…/calls/{correlationId}` | its gateway calls with their events and cost |
//! | `GET\|PUT\|DELETE /api/subscriptions/{id}/spend-cap` | its monthly spend cap (set by the subscriber) |
//! | `GET /api/subscriptions/{id}/invoices` | its monthly invoices, newest first |
//! | `GET /api/subscriptions/{id}/invoices/{month}` | one invoice |
//! | `GET /api/subscriptions/{id}/invoices/{month}/events.csv` | the events behind it, priced |
//! | `GET /api/services/{id}/revenue?month=` | the service's revenue of a month (owner) |
use qmarket_core::{Error, Result, Timestamp};
use qmarket_http::{
    csv_response, json_body, no_endpoint, problem, HandlerResult, Method, PageQuery, Params,
    Request, Response, Route, StatusOf,
};
use qmarket_metering::{
    get_call, invoice, invoice_events, invoices, list_calls, list_events, month_of, parse_month,
    record_batch, record_usage, remove_spend_cap, revenue, set_spend_cap, spend_cap, usage,
    Billing, EventFilter, Grace, Ingest, Receipt, UsageReport, Waiting, Window,
};
use qmarket_model::SealedCorrelation;
use qmarket_sealing::Sealer;
use qmarket_store::KeyValue;
use serde_json::{json, Value};

/// PlanQK's metering path, kept so providers' existing code works unchanged.
pub const PLANQK_METERING_PATH: &str = "/qc-catalog/external-services/metering";
/// The platform's own metering path.
pub const METERING_PATH: &str = "/api/metering";
/// Many reports in one request.
pub const BATCH_PATH: &str = "/api/metering/batch";
const EVENTS_ROUTE: Route<'static> = Route::new("/api/services/:svc/metering-events");
const USAGE_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/usage");
const CALLS_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/calls");
const CALL_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/calls/:correlation");
const SPEND_CAP_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/spend-cap");
const INVOICES_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/invoices");
const INVOICE_ROUTE: Route<'static> = Route::new("/api/subscriptions/:sub/invoices/:month");
const INVOICE_EVENTS_ROUTE: Route<'static> =
    Route::new("/api/subscriptions/:sub/invoices/:month/events.csv");
const REVENUE_ROUTE: Route<'static> = Route::new("/api/services/:svc/revenue");
/// The columns of an invoice's events export.
pub const INVOICE_EVENT_COLUMNS: [&str; 8] = [
    "id",
    "timestamp",
    "productId",
    "productName",
    "unit",
    "count",
    "amount",
    "correlationId",
];
/// The request header that carries an idempotency key (same as `eventId`).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Set to `true` on the answer to a report that repeated a recorded event id,
/// and to a batch that repeated a recorded `Idempotency-Key`.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Spin variable holding the platform key gateway correlation ids are
/// sealed with (a key derived from it).
pub const ENCRYPTION_KEY_VARIABLE: &str = "encryption_key";
/// Spin variable: whole days after a month's end before its invoices are
/// final and late reports for it are refused (default 2).
pub const INVOICE_GRACE_DAYS_VARIABLE: &str = "invoice_grace_days";

/// The endpoints, matched before the caller is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Report,
    Batch,
    Events(Params),
    Usage(Params),
    Calls(Params),
    Call(Params),
    SpendCap(Params),
    Invoices(Params),
    Invoice(Params),
    InvoiceEvents(Params),
    Revenue(Params),
}

fn endpoint(req: &Request) -> Result<Endpoint> {
    let path = req
        .path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(&req.path);
    let (found, method) = if path == PLANQK_METERING_PATH || path == METERING_PATH {
        (Endpoint::Report, Method::Post)
    } else if path == BATCH_PATH {
        (Endpoint::Batch, Method::Post)
    } else if let Some(p) = EVENTS_ROUTE.matches(path) {
        (Endpoint::Events(p), Method::Get)
    } else if let Some(p) = USAGE_ROUTE.matches(path) {
        (Endpoint::Usage(p), Method::Get)
    } else if let Some(p) = CALLS_ROUTE.matches(path) {
        (Endpoint::Calls(p), Method::Get)
    } else if let Some(p) = CALL_ROUTE.matches(path) {
        (Endpoint::Call(p), Method::Get)
    } else if let Some(p) = SPEND_CAP_ROUTE.matches(path) {
        return match req.method {
            Method::Get | Method::Head | Method::Put | Method::Delete => Ok(Endpoint::SpendCap(p)),
            _ => Err(Error::MethodNotAllowed(
                "a spend cap answers GET, PUT and DELETE".into(),
            )),
        };
    } else if let Some(p) = INVOICES_ROUTE.matches(path) {
        (Endpoint::Invoices(p), Method::Get)
    } else if let Some(p) = INVOICE_EVENTS_ROUTE.matches(path) {
        (Endpoint::InvoiceEvents(p), Method::Get)
    } else if let Some(p) = INVOICE_ROUTE.matches(path) {
        (Endpoint::Invoice(p), Method::Get)
    } else if let Some(p) = REVENUE_ROUTE.matches(path) {
        (Endpoint::Revenue(p), Method::Get)
    } else {
        return Err(no_endpoint(req));
    };
    if req.method == method || (method == Method::Get && req.method == Method::Head) {
        Ok(found)
    } else {
        Err(Error::MethodNotAllowed(format!(
            "{} answers {} only",
            path.chars().take(200).collect::<String>(),
            method.as_str()
        )))
    }
}

/// Routes one request: finds the endpoint, authenticates the caller (a
/// personal access token with scope `API` in `X-Auth-Token` or
/// `Authorization: Bearer`), and serves it. `encryption_key` is the
/// platform key's variable (gateway correlation ids are sealed with a key
/// derived from it); `grace_days` the value of
/// [`INVOICE_GRACE_DAYS_VARIABLE`].
pub fn route(
    req: &Request,
    kv: &dyn KeyValue,
    encryption_key: Option<&str>,
    grace_days: Option<&str>,
) -> HandlerResult {
    let now = Timestamp::now();
    endpoint(req)?;
    let principal = qmarket_identity::authenticate_api(req, kv, now)?;
    let correlations = match endpoint(req)? {
        Endpoint::Report | Endpoint::Batch => {
            Some(Sealer::load(kv, encryption_key)?.for_purpose(SealedCorrelation::PURPOSE))
        }
        _ => None,
    };
    let ingest = Ingest {
        kv,
        caller: &principal.account_id,
        correlations: correlations.as_ref(),
        now,
        waiting: Waiting::default(),
        grace: Grace::from_setting(grace_days)?,
    };
    route_as(req, &ingest)
}

/// Serves `req` for the authenticated account `ingest.caller` at
/// `ingest.now`.
pub fn route_as(req: &Request, ingest: &Ingest) -> HandlerResult {
    let (kv, caller, now) = (ingest.kv, ingest.caller, ingest.now);
    match endpoint(req)? {
        Endpoint::Report => {
            let body: Value = json_body(req)?;
            let report = UsageReport::from_json(&body, req.header(IDEMPOTENCY_KEY_HEADER))?;
            let recorded = record_usage(ingest, &report)?;
            let response = Response::ok(&Receipt::from(&recorded.event));
            Ok(if recorded.replayed {
                response.with_header(REPLAYED_HEADER, "true")
            } else {
                response
            })
        }
        Endpoint::Batch => {
            let body: Value = json_body(req)?;
            let answered = record_batch(ingest, &body, req.header(IDEMPOTENCY_KEY_HEADER))?;
            let results: Vec<Value> = answered
                .items
                .iter()
                .map(|result| match result {
                    Ok(recorded) => json!({"status": 200, "event": Receipt::from(&recorded.event)}),
                    Err(error) => {
                        json!({"status": error.status(), "error": problem(error).json_value()})
                    }
                })
                .collect();
            let response = Response::ok(&json!({ "results": results }));
            Ok(if answered.replayed {
                response.with_header(REPLAYED_HEADER, "true")
            } else {
                response
            })
        }
        Endpoint::Events(params) => {
            let service_id = params.get("svc")?;
            let page = PageQuery::from_request(req)?;
            let filter = EventFilter {
                window: Window::for_listing(
                    req.query_param("from").as_deref(),
                    req.query_param("to").as_deref(),
                )?,
                test_mode: test_mode(req)?,
            };
            let found = list_events(
                kv,
                caller,
                service_id,
                filter,
                page.limit,
                page.sequence_cursor()?,
            )?;
            Ok(Response::list(
                found.items,
                found.next.map(|n| n.to_string()),
            ))
        }
        Endpoint::Usage(params) => {
            let subscription_id = params.get("sub")?;
            let window = Window::for_usage(
                req.query_param("from").as_deref(),
                req.query_param("to").as_deref(),
                now,
            )?;
            Ok(Response::ok(&usage(kv, caller, subscription_id, window)?))
        }
        Endpoint::Calls(params) => {
            let subscription_id = params.get("sub")?;
            let page = PageQuery::from_request(req)?;
            let window = Window::for_usage(
                req.query_param("from").as_deref(),
                req.query_param("to").as_deref(),
                now,
            )?;
            let found = list_calls(
                kv,
                caller,
                subscription_id,
                window,
                page.limit,
                page.cursor.as_deref(),
            )?;
            Ok(Response::list(found.items, found.next))
        }
        Endpoint::Call(params) => Ok(Response::ok(&get_call(
            kv,
            caller,
            params.get("sub")?,
            params.get("correlation")?,
        )?)),
        Endpoint::SpendCap(params) => {
            let subscription_id = params.get("sub")?;
            match req.method {
                Method::Put => {
                    let body: Value = json_body(req)?;
                    Ok(Response::ok(&set_spend_cap(
                        kv,
                        caller,
                        subscription_id,
                        &body,
                        now,
                    )?))
                }
                Method::Delete => {
                    remove_spend_cap(kv, caller, subscription_id)?;
                    Ok(Response::no_content())
                }
                _ => Ok(Response::ok(&spend_cap(kv, caller, subscription_id, now)?)),
            }
        }
        Endpoint::Invoices(params) => {
            let page = PageQuery::from_request(req)?;
            let found = invoices(
                &billing(ingest),
                params.get("sub")?,
                page.limit,
                page.cursor.as_deref(),
            )?;
            Ok(Response::list(found.items, found.next))
        }
        Endpoint::Invoice(params) => Ok(Response::ok(&invoice(
            &billing(ingest),
            params.get("sub")?,
            params.get("month")?,
        )?)),
        Endpoint::InvoiceEvents(params) => {
            let (subscription_id, month) = (params.get("sub")?, params.get("month")?);
            let events = invoice_events(&billing(ingest), subscription_id, month)?;
            let rows: Vec<Vec<String>> = events
                .into_iter()
                .map(|priced| {
                    let e = priced.event;
                    vec![
                        e.id,
                        e.timestamp.to_rfc3339(),
                        e.product_id,
                        e.product_name,
                        e.unit,
                        e.count.to_string(),
                        priced.amount.to_string(),
                        e.correlation_id,
                    ]
                })
                .collect();
            Ok(csv_response(
                &format!("{subscription_id}-{month}-events.csv"),
                &INVOICE_EVENT_COLUMNS,
                &rows,
            ))
        }
        Endpoint::Revenue(params) => {
            let month = match req.query_param("month").as_deref() {
                None | Some("") => month_of(now)?,
                Some(text) => parse_month("month", text)?,
            };
            Ok(Response::ok(&revenue(
                &billing(ingest),
                params.get("svc")?,
                month,
            )?))
        }
    }
}

/// The billing context of `ingest`'s caller.
fn billing<'a>(ingest: &Ingest<'a>) -> Billing<'a> {
    Billing {
        kv: ingest.kv,
        caller: ingest.caller,
        now: ingest.now,
        grace: ingest.grace,
    }
}

fn test_mode(req: &Request) -> Result<Option<bool>> {
    match req.query_param("testMode").as_deref() {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::invalid_field("testMode", "must be true or false")),
    }
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    let encryption_key = qmarket_spin::variable(ENCRYPTION_KEY_VARIABLE);
    let grace_days = qmarket_spin::variable(INVOICE_GRACE_DAYS_VARIABLE);
    qmarket_spin::serve(req, |req, kv| {
        route(req, kv, encryption_key.as_deref(), grace_days.as_deref())
    })
}

#[cfg(test)]
mod tests;
