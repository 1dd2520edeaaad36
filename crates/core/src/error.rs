//! The platform error: every domain operation fails with one of these, and
//! `qmarket-http` gives each its HTTP status and RFC 9457 problem response,
//! in one place.

use serde::{Deserialize, Serialize};

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid input field, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `products[0].unitPrice`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error for `field` saying `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why an operation failed, as the caller should learn it. It serializes
/// (externally tagged) for answers that are kept and given again, such as a
/// batch recorded under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// Malformed request: unparsable body, wrong types, bad field values (400).
    #[error("{detail}")]
    BadRequest {
        /// What is wrong, precisely.
        detail: String,
        /// The offending fields, when known.
        errors: Vec<FieldError>,
    },
    /// No valid credential (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credential, not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// The caller's own spending limit stops the request (402).
    #[error("{0}")]
    PaymentRequired(String),
    /// Unknown, or belonging to someone else (404).
    #[error("{0}")]
    NotFound(String),
    /// HTTP method not supported on this route (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than accepted (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's media type is not accepted (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but semantically invalid (422).
    #[error("{detail}")]
    Unprocessable {
        /// What is wrong, precisely.
        detail: String,
        /// The offending fields, when known.
        errors: Vec<FieldError>,
    },
    /// The upstream service could not be reached or answered garbage (502).
    #[error("{0}")]
    BadGateway(String),
    /// The store or another dependency is unavailable; retrying may help (503).
    #[error("{0}")]
    Unavailable(String),
    /// The upstream service did not answer in time (504).
    #[error("{0}")]
    GatewayTimeout(String),
    /// The caller sent more requests than allowed (429); it may try again
    /// after `retry_after_seconds`.
    #[error("{detail}")]
    TooManyRequests {
        /// Which limit, in words.
        detail: String,
        /// Seconds until the limit admits a request again.
        retry_after_seconds: u64,
    },
    /// A bug or broken invariant (500). The detail is logged, not shown.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A 400 with `detail` and no field list.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Error::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 400 naming one invalid field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Error::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 422 with `detail` and no field list.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Error::Unprocessable {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 naming one field.
    pub fn unprocessable_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Error::Unprocessable {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 404 for a `what` (e.g. "service") with `id` (quoted up to 100
    /// characters: an id comes from the client and may be of any length).
    pub fn not_found(what: &str, id: &str) -> Self {
        Error::NotFound(format!(
            "{what} '{}' does not exist",
            crate::excerpt(id, 100)
        ))
    }

    /// The field errors carried by 400 and 422 errors.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::BadRequest { errors, .. } | Error::Unprocessable { errors, .. } => errors,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_field_names_the_field_in_detail_and_errors() {
        let error = Error::invalid_field("name", "must not be empty");
        assert!(matches!(error, Error::BadRequest { .. }));
        assert_eq!(error.to_string(), "name: must not be empty");
        assert_eq!(
            error.field_errors(),
            &[FieldError::new("name", "must not be empty")]
        );
    }

    #[test]
    fn a_not_found_quotes_at_most_100_characters_of_the_id() {
        let long = "a".repeat(8000);
        let message = Error::not_found("service", &long).to_string();
        assert_eq!(
            message,
            format!("service '{}…' does not exist", "a".repeat(100))
        );
        assert_eq!(
            Error::not_found("service", "svc_1").to_string(),
            "service 'svc_1' does not exist"
        );
    }
}
