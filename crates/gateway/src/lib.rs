//! The gateway's forwarding rules, independent of Spin.
//!
//! A consumer's application calls `ANY /gateway/{serviceId}/{path...}` with
//! its OAuth2 bearer token; the gateway forwards the call to the service's
//! URL and hands back the answer. Everything that decides *what* is sent
//! lives here and is tested natively; the `gateway` component only moves
//! bytes between Spin's `wasi:http` and these functions:
//!
//! ```text
//! consumer ──► gateway component
//!                ├─ open the application's token            (qmarket-identity)
//!                ├─ GatewayPath::parse                      service id + remainder
//!                ├─ authorization_keys                      read in one round trip
//!                ├─ authorize                               404 / 403, the Grant
//!                ├─ UpstreamUrl::parse + target             where the call goes
//!                ├─ new_correlation                         sealed: nothing written
//!                ├─ BodyLimit (qmarket-http)                413 before and while reading
//!                ├─ upstream_request_headers                filtering, X-Forwarded-*, Basic
//!                ├─ send (wasi:http, connect/first-byte/between-bytes timeouts)
//!                └─ upstream_response_headers               hop-by-hop out, x-correlation-id in
//! ```
//!
//! # Outbound hosts
//! Provider URLs are user data, so by default `spin.toml` lets the gateway
//! call any `http`/`https` host and port. The cost: a provider can point a
//! service at an address only the platform can reach (an internal admin port,
//! cloud metadata). The gateway's `allowed_outbound_hosts` are therefore the
//! variables `gateway_outbound_http` and `gateway_outbound_https`
//! (`SPIN_VARIABLE_GATEWAY_OUTBOUND_HTTP(S)`), which a deployment that serves
//! known providers narrows; a call to any other host is then refused by the
//! runtime and answered 502. Only `http(s)` URLs without credentials are ever
//! forwarded to ([`UpstreamUrl::parse`]).
//!
//! # Connection-named headers
//! wasmtime (so Spin and the embedded host alike) removes `Connection` before
//! a component sees a request or a response, so the headers it names cannot
//! be recognised here. The embedded host removes them itself on both sides,
//! as an HTTP intermediary does; the rules here still apply wherever the
//! runtime passes `Connection` through.
#![deny(missing_docs)]

mod access;
mod basic_auth;
mod call_log;
mod config;
mod correlation;
mod failure;
mod forwarded;
mod gateway_path;
mod headers;
pub mod limits;
mod upstream_url;

pub use access::{authorization_keys, authorize, Caller, Grant, Spending};
pub use basic_auth::{basic_authorization, upstream_authorization};
pub use call_log::record_call;
pub use config::{
    GatewayConfig, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, MAX_BODY_BYTES_LIMIT,
    MAX_BODY_VARIABLE, MAX_TIMEOUT_MS, TIMEOUT_VARIABLE,
};
pub use correlation::new_correlation;
pub use failure::{failure_response, UpstreamFailure};
pub use forwarded::{forwarded_for, forwarded_proto_and_host};
pub use gateway_path::GatewayPath;
pub use headers::{
    is_hop_by_hop, upstream_request_headers, upstream_response_headers, ForwardContext,
    CORRELATION_HEADER,
};
pub use upstream_url::{Scheme, Target, UpstreamUrl};
