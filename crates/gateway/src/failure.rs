//! How an upstream failure is told to the consumer.

use qmarket_core::Error;
use qmarket_http::{problem_with, Response};
use serde_json::{Map, Value};

use crate::CORRELATION_HEADER;

/// Why a forwarded call got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// Not reachable: DNS, connection refused or reset, TLS.
    Unreachable(String),
    /// Not in time: connecting, the first byte, or between bytes.
    TimedOut(String),
    /// Answered with something that is not HTTP.
    Invalid(String),
}

impl From<UpstreamFailure> for Error {
    fn from(failure: UpstreamFailure) -> Self {
        match failure {
            UpstreamFailure::Unreachable(detail) => {
                Error::BadGateway(format!("the service could not be reached ({detail})"))
            }
            UpstreamFailure::Invalid(detail) => Error::BadGateway(format!(
                "the service's answer was not valid HTTP ({detail})"
            )),
            UpstreamFailure::TimedOut(detail) => {
                Error::GatewayTimeout(format!("the service did not answer in time ({detail})"))
            }
        }
    }
}

/// The problem response for a call that has a correlation id: the id is in
/// the problem (`correlationId`) and in the `x-correlation-id` header.
pub fn failure_response(error: &Error, correlation_id: &str) -> Response {
    let mut extensions = Map::new();
    extensions.insert("correlationId".into(), Value::String(correlation_id.into()));
    problem_with(error, extensions).with_header(CORRELATION_HEADER, correlation_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    #[test]
    fn unreachable_and_garbage_are_bad_gateways_and_slowness_a_timeout() {
        assert_eq!(
            Error::from(UpstreamFailure::Unreachable("refused".into())).status(),
            502
        );
        assert_eq!(
            Error::from(UpstreamFailure::Invalid("not http".into())).status(),
            502
        );
        assert_eq!(
            Error::from(UpstreamFailure::TimedOut("first byte".into())).status(),
            504
        );
    }

    #[test]
    fn a_failure_carries_the_correlation_id_in_body_and_header() {
        let r = failure_response(&UpstreamFailure::TimedOut("x".into()).into(), "cid-1");
        assert_eq!(r.status, 504);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.header("x-correlation-id"), Some("cid-1"));
        let body = r.json_value();
        assert_eq!(body["correlationId"], "cid-1");
        assert_eq!(body["status"], 504);
        assert!(body["detail"].as_str().unwrap().contains("in time"));
    }

    #[test]
    fn a_too_large_body_is_reported_with_its_correlation_id() {
        let r = failure_response(&Error::PayloadTooLarge("big".into()), "cid-2");
        assert_eq!(r.status, 413);
        assert_eq!(r.json_value()["correlationId"], "cid-2");
    }
}
