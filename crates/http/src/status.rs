//! The HTTP status of every platform error: the one place where domain
//! failures become status codes.

use qmarket_core::Error;

/// The HTTP status a value is answered with.
pub trait StatusOf {
    /// The status code.
    fn status(&self) -> u16;
}

impl StatusOf for Error {
    fn status(&self) -> u16 {
        match self {
            Error::BadRequest { .. } => 400,
            Error::Unauthenticated(_) => 401,
            Error::PaymentRequired(_) => 402,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::Conflict(_) => 409,
            Error::PayloadTooLarge(_) => 413,
            Error::UnsupportedMediaType(_) => 415,
            Error::Unprocessable { .. } => 422,
            Error::TooManyRequests { .. } => 429,
            Error::Internal(_) => 500,
            Error::BadGateway(_) => 502,
            Error::Unavailable(_) => 503,
            Error::GatewayTimeout(_) => 504,
        }
    }
}

/// The reason phrase of a status the platform answers with.
pub fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_http_status() {
        assert_eq!(Error::invalid_field("a", "b").status(), 400);
        assert_eq!(Error::Unauthenticated(String::new()).status(), 401);
        assert_eq!(Error::not_found("service", "svc_x").status(), 404);
        assert_eq!(Error::unprocessable("x").status(), 422);
        assert_eq!(Error::Unavailable(String::new()).status(), 503);
        assert_eq!(Error::GatewayTimeout(String::new()).status(), 504);
    }
}
