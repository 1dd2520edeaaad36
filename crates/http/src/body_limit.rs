//! A request-body limit, checked on the declared length before reading and
//! on the bytes while reading, so no body over it is ever buffered whole.

use qmarket_core::{Error, Result};

/// The largest request body an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    /// The limit in bytes.
    pub max_bytes: u64,
    /// Whose limit it is, as the 413 says it ("the gateway's limit").
    pub whose: &'static str,
}

impl BodyLimit {
    /// The platform API's limit for JSON bodies ([`crate::MAX_JSON_BODY`]).
    pub const API: BodyLimit = BodyLimit {
        max_bytes: crate::MAX_JSON_BODY as u64,
        whose: "the API's limit",
    };

    fn too_large(&self) -> Error {
        Error::PayloadTooLarge(format!(
            "the request body is larger than {} of {} bytes",
            self.whose, self.max_bytes
        ))
    }

    /// Checks a `content-length` header before any byte is read: 413 when
    /// it states more than the limit, 400 when it is not a number.
    pub fn check_declared(&self, content_length: Option<&str>) -> Result<()> {
        let Some(text) = content_length else {
            return Ok(());
        };
        let digits = text.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::bad_request(format!(
                "content-length {text:?} is not a number"
            )));
        }
        // Too many digits for a u64 is certainly over the limit.
        if digits
            .parse::<u64>()
            .map_or(true, |length| length > self.max_bytes)
        {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// Checks the bytes received so far (a chunked body states no length):
    /// 413 as soon as they exceed the limit.
    pub fn check_received(&self, received: u64) -> Result<()> {
        if received > self.max_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusOf;

    const LIMIT: BodyLimit = BodyLimit {
        max_bytes: 10,
        whose: "the test's limit",
    };

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        assert_eq!(LIMIT.check_declared(Some("11")).unwrap_err().status(), 413);
        assert_eq!(
            LIMIT
                .check_declared(Some("99999999999999999999"))
                .unwrap_err()
                .status(),
            413
        );
        assert!(LIMIT.check_declared(Some("10")).is_ok());
        assert!(LIMIT.check_declared(Some(" 0 ")).is_ok());
        assert!(LIMIT.check_declared(None).is_ok());
    }

    #[test]
    fn a_declared_length_that_is_not_a_number_is_a_bad_request() {
        for bad in ["-1", "ten", "", "1,2", "+5"] {
            assert_eq!(
                LIMIT.check_declared(Some(bad)).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn received_bytes_over_the_limit_are_refused() {
        assert!(LIMIT.check_received(10).is_ok());
        let error = LIMIT.check_received(11).unwrap_err();
        assert_eq!(error.status(), 413);
        assert!(error.to_string().contains("10 bytes"));
    }
}
