//! HTTP as the platform's handlers see it, independent of Spin.
//!
//! Components convert Spin's request into a [`Request`], call a handler that
//! returns a [`Response`] (or a [`qmarket_core::Error`], turned into an
//! RFC 9457 problem by [`problem`]), and convert back. Handlers are therefore
//! plain functions, tested natively.
#![deny(missing_docs)]

mod body;
mod body_limit;
mod body_source;
pub mod credentials;
mod csv;
mod form;
mod pagination;
mod problem;
mod request;
mod response;
mod router;
mod status;

pub use body::{json_body, MAX_JSON_BODY};
pub use body_limit::BodyLimit;
pub use body_source::{BodySource, Buffered};
pub use csv::{csv_response, CSV_CONTENT_TYPE};
pub use form::form_pairs;
pub use pagination::{PageQuery, DEFAULT_LIMIT, MAX_LIMIT};
pub use problem::{problem, problem_with, PROBLEM_CONTENT_TYPE};
pub use request::{Method, Request};
pub use response::{ListBody, Response};
pub use router::{allow, no_endpoint, Params, Route};
pub use status::{title, StatusOf};

/// What every handler returns.
pub type HandlerResult = qmarket_core::Result<Response>;
