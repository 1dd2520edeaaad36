//! What a `wasi:http` error code means for the consumer.

use qmarket_gateway::UpstreamFailure;
use spin_sdk::http::ErrorCode;

/// The failure behind an outbound `wasi:http` error: timeouts are 504s,
/// answers that are not HTTP and everything else 502s.
pub fn classify(code: &ErrorCode) -> UpstreamFailure {
    let detail = format!("{code:?}");
    match code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => UpstreamFailure::TimedOut(detail),
        ErrorCode::HttpProtocolError
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::HttpResponseBodySize(_)
        | ErrorCode::HttpResponseTrailerSectionSize(_)
        | ErrorCode::HttpResponseTrailerSize(_)
        | ErrorCode::HttpResponseTransferCoding(_)
        | ErrorCode::HttpResponseContentCoding(_)
        | ErrorCode::HttpUpgradeFailed => UpstreamFailure::Invalid(detail),
        _ => UpstreamFailure::Unreachable(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_gateway_timeouts() {
        for code in [
            ErrorCode::ConnectionTimeout,
            ErrorCode::ConnectionReadTimeout,
            ErrorCode::HttpResponseTimeout,
            ErrorCode::DnsTimeout,
        ] {
            assert!(
                matches!(classify(&code), UpstreamFailure::TimedOut(_)),
                "{code:?}"
            );
        }
    }

    #[test]
    fn refused_connections_and_denied_hosts_are_unreachable() {
        for code in [
            ErrorCode::ConnectionRefused,
            ErrorCode::ConnectionTerminated,
            ErrorCode::DestinationNotFound,
            ErrorCode::HttpRequestDenied,
            ErrorCode::TlsCertificateError,
            ErrorCode::InternalError(Some("x".into())),
        ] {
            assert!(
                matches!(classify(&code), UpstreamFailure::Unreachable(_)),
                "{code:?}"
            );
        }
    }

    #[test]
    fn answers_that_are_not_http_are_invalid() {
        for code in [
            ErrorCode::HttpProtocolError,
            ErrorCode::HttpResponseIncomplete,
        ] {
            assert!(
                matches!(classify(&code), UpstreamFailure::Invalid(_)),
                "{code:?}"
            );
        }
    }
}
