//! Forwards subscribed applications' calls to services, with a correlation id
//! per call.
//!
//! `ANY /gateway/{serviceId}/{path...}`: the rules live in `qmarket-gateway`;
//! this component authenticates the application, asks the rules whether and
//! where to forward ([`admit`]), and moves the bytes over `wasi:http` with
//! the configured timeouts (`upstream`, wasm only). A forwarded call reads
//! the store in two round trips (the application, service and subscription
//! pointer together, then the subscription with its spend cap); its
//! correlation id is sealed, not stored. Before forwarding it counts the
//! plan's rate limit and quota, if any ([`limit_call`]: one increment each);
//! after the consumer has the answer it records the call (one reservation
//! and one `set_many`, `qmarket_gateway::record_call`).
//!
//! Bodies: the request body is buffered (it must be counted against the
//! limit before anything leaves, and buffering keeps the upstream request
//! simple: it always carries a `content-length`); the upstream's response is
//! streamed back to the consumer as it arrives, so large answers cost no
//! memory and their first bytes are not delayed.
#![deny(missing_docs)]

mod error_code;
pub mod executions;
#[cfg(target_arch = "wasm32")]
mod upstream;

pub use error_code::classify;

use qmarket_core::{Result, Timestamp};
use qmarket_gateway::limits::{count_call, Counted, Refusal};
use qmarket_gateway::{
    authorize, forwarded_proto_and_host, new_correlation, upstream_authorization,
    upstream_request_headers, Caller, ForwardContext, GatewayConfig, GatewayPath, Grant, Target,
    UpstreamUrl, MAX_BODY_VARIABLE, TIMEOUT_VARIABLE,
};
use qmarket_http::{problem, Request, Response};
use qmarket_model::Correlation;
use qmarket_sealing::Sealer;
use qmarket_store::KeyValue;

/// Spin's header with the URL the consumer called.
pub const FULL_URL_HEADER: &str = "spin-full-url";
/// Spin variable holding the key upstream passwords are sealed with.
pub const ENCRYPTION_KEY_VARIABLE: &str = "encryption_key";

/// A call the gateway has decided to forward.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The service and subscription the call is made under.
    pub grant: Grant,
    /// Where the call goes.
    pub target: Target,
    /// The correlation of the call (its id sealed: nothing to save).
    pub correlation: Correlation,
    /// The upstream `Authorization` value, for a service with Basic security.
    pub authorization: Option<String>,
}

/// What the gateway does with a call it admitted.
#[derive(Debug, Clone)]
pub enum Call {
    /// Forwards it to an external service.
    Forward(Box<Admission>),
    /// Serves it from a managed service's execution API.
    Managed {
        /// The service and subscription.
        grant: Box<Grant>,
        /// The path after `/gateway/{serviceId}`.
        remainder: String,
    },
}

impl Call {
    /// The admission of a call to an external service.
    pub fn forwarded(self) -> Option<Admission> {
        match self {
            Call::Forward(admission) => Some(*admission),
            Call::Managed { .. } => None,
        }
    }
}

/// Decides whether and where `req` (from the authenticated `caller`) goes:
/// 404 unknown or unpublished service, 403 not subscribed, 502 unusable
/// service URL; a managed service's calls go to its execution API. `open`
/// decrypts a sealed upstream password; `correlations` seals the call's
/// correlation id (the platform's sealer for
/// [`qmarket_model::SealedCorrelation::PURPOSE`]). Nothing is written.
pub fn admit(
    req: &Request,
    kv: &dyn KeyValue,
    caller: &Caller,
    now: Timestamp,
    open: impl FnOnce(&str) -> Result<String>,
    correlations: &Sealer,
) -> Result<Call> {
    let path = GatewayPath::parse(&req.path)?;
    let grant = authorize(kv, caller, path.service_id, now)?;
    if grant.service.kind == qmarket_model::ServiceType::Managed {
        return Ok(Call::Managed {
            remainder: path.remainder.to_string(),
            grant: Box::new(grant),
        });
    }
    let url = grant.service.url.as_deref().ok_or_else(|| {
        qmarket_core::Error::BadGateway(format!(
            "service '{}' has no URL to forward to",
            grant.service.id
        ))
    })?;
    let target = UpstreamUrl::parse(url)?.target(path.remainder, &req.query);
    let authorization = upstream_authorization(&grant.service.security_configuration, open)?;
    let correlation = new_correlation(&grant, now, correlations)?;
    Ok(Call::Forward(Box::new(Admission {
        grant,
        target,
        correlation,
        authorization,
    })))
}

impl Admission {
    /// The headers to send upstream for `req` with a body of `body_len` bytes.
    pub fn upstream_headers(&self, req: &Request, body_len: usize) -> Vec<(String, Vec<u8>)> {
        let (proto, host) =
            forwarded_proto_and_host(req.header(FULL_URL_HEADER), req.header("host"));
        let ctx = ForwardContext {
            correlation_id: self.correlation.id.clone(),
            client_ip: req.client_ip(),
            proto,
            host,
            authorization: self.authorization.clone(),
            body_len,
        };
        upstream_request_headers(&req.headers, &ctx)
    }
}

/// Applies the subscription's spend cap (402) and its plan's rate limit and
/// quota (429) to an admitted call: the limits as counted, for the answer's
/// `RateLimit-Policy` / `RateLimit` fields, or the refusal to answer with
/// (a 429 carries the fields too). A capped call is refused before it is
/// counted.
pub fn limit_call(
    kv: &dyn KeyValue,
    grant: &Grant,
    now: Timestamp,
) -> std::result::Result<Counted, Response> {
    if let Some(refusal) = grant.spending.refusal() {
        return Err(problem(&refusal));
    }
    match count_call(kv, &grant.subscription, now) {
        Ok(counted) => Ok(counted),
        Err(Refusal::Over { error, counted }) => Err(with_fields(problem(&error), &counted)),
        Err(Refusal::Failed(error)) => Err(problem(&error)),
    }
}

/// `response` with the fields of `counted`.
pub fn with_fields(mut response: Response, counted: &Counted) -> Response {
    response.headers.extend(counted.fields());
    response
}

/// The gateway's limits from the Spin variables; a bad value is logged and
/// replaced by its default.
pub fn config_from(variable: impl Fn(&str) -> Option<String>) -> GatewayConfig {
    let timeout = variable(TIMEOUT_VARIABLE);
    let max_body = variable(MAX_BODY_VARIABLE);
    let (config, warnings) = GatewayConfig::from_variables(timeout.as_deref(), max_body.as_deref());
    for warning in warnings {
        eprintln!("gateway configuration: {warning}");
    }
    config
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub async fn handle(req: spin_sdk::http::IncomingRequest, out: spin_sdk::http::ResponseOutparam) {
    #[cfg(target_arch = "wasm32")]
    upstream::handle(req, out);
    #[cfg(not(target_arch = "wasm32"))]
    drop((req, out));
}

#[cfg(test)]
mod tests;
