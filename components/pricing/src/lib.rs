//! Pricing plans and their products: HTTP in, `qmarket-catalog` calls, HTTP
//! out.
//!
//! Every endpoint needs a personal access token with scope `API`. Only the
//! service's owner may create, change or delete plans; the plans of a
//! published service may be read by any account (they are shown in the
//! marketplace anyway), those of an unpublished one only by its owner.
use qmarket_catalog::{pricing_plan, Listing};
use qmarket_core::Timestamp;
use qmarket_http::{
    allow, json_body, no_endpoint, HandlerResult, Method, PageQuery, Request, Response, Route,
};
use qmarket_identity::authenticate_api;
use qmarket_store::KeyValue;
use serde::Serialize;

#[cfg(test)]
mod tests;

const PLANS: Route = Route::new("/api/services/:svc/pricing-plans");
const PLAN: Route = Route::new("/api/services/:svc/pricing-plans/:plan");

/// Routes one request at time `now`.
pub fn route(req: &Request, kv: &dyn KeyValue, now: Timestamp) -> HandlerResult {
    let path = req.path.as_str();
    if let Some(params) = PLANS.matches(path) {
        allow(req, &[Method::Get, Method::Post])?;
        let caller = authenticate_api(req, kv, now)?.account_id;
        let service_id = params.get("svc")?;
        return if req.method == Method::Post {
            let input = json_body(req)?;
            Ok(Response::created(&pricing_plan::create(
                kv, &caller, service_id, input, now,
            )?))
        } else {
            let page = PageQuery::from_request(req)?;
            Ok(listed(pricing_plan::list(
                kv,
                &caller,
                service_id,
                page.sequence_cursor()?,
                page.limit,
            )?))
        };
    }
    if let Some(params) = PLAN.matches(path) {
        allow(req, &[Method::Get, Method::Patch, Method::Delete])?;
        let caller = authenticate_api(req, kv, now)?.account_id;
        let (service_id, plan_id) = (params.get("svc")?, params.get("plan")?);
        return match req.method {
            Method::Patch => {
                let patch = json_body(req)?;
                Ok(Response::ok(&pricing_plan::update(
                    kv, &caller, service_id, plan_id, patch, now,
                )?))
            }
            Method::Delete => {
                pricing_plan::delete(kv, &caller, service_id, plan_id)?;
                Ok(Response::no_content())
            }
            _ => Ok(Response::ok(&pricing_plan::get(
                kv, &caller, service_id, plan_id,
            )?)),
        };
    }
    Err(no_endpoint(req))
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    qmarket_spin::serve(req, |req, kv| route(req, kv, Timestamp::now()))
}

fn listed<T: Serialize>(listing: Listing<T>) -> Response {
    Response::list(listing.items, listing.next.map(|n| n.to_string()))
}
