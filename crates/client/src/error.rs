//! What can go wrong talking to the platform.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Other;

/// Why a request to the platform did not give what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The platform answered and refused: a 4xx or 5xx with its problem.
    #[error("{0}")]
    Refused(Box<Problem>),
    /// The platform could not be reached, or the exchange broke off.
    #[error("cannot reach {url}: {reason}")]
    Transport {
        /// What was asked for.
        url: String,
        /// What went wrong (connection refused, timed out, …).
        reason: String,
    },
    /// The platform answered something the API contract does not promise
    /// (not JSON, or JSON of another shape).
    #[error("unexpected answer from {url} (status {status}): {reason}")]
    UnexpectedAnswer {
        /// What was asked for.
        url: String,
        /// The answer's status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// The request cannot be made: a platform URL, a path or a header that
    /// is not valid.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The platform's problem, when it refused.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Refused(problem) => Some(problem.as_ref()),
            _ => None,
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }
}

/// An RFC 9457 problem: how the platform says no.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A short summary of the kind.
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request, for a person.
    #[serde(default)]
    pub detail: String,
    /// The fields that broke a rule, each with what is wrong.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On gateway errors, the call's correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Anything else the problem carried.
    #[serde(flatten)]
    pub other: Other,
}

/// One field of a refused request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field (a JSON path such as `products[0].unitPrice`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        };
        write!(f, "{detail} ({})", self.status)?;
        for error in &self.errors {
            write!(f, "\n  {}: {}", error.field, error.message)?;
        }
        Ok(())
    }
}

/// The most of a body that is quoted in an error.
const QUOTED_BODY_CHARS: usize = 300;

impl Problem {
    /// The problem an error answer of `status` with `body` stands for: a
    /// problem document as it is, OAuth2's `{error, error_description}`
    /// as a problem, and anything else quoted (cut short) as the detail.
    pub fn from_answer(status: u16, body: &[u8]) -> Problem {
        if let Ok(mut problem) = serde_json::from_slice::<Problem>(body) {
            problem.status = status;
            return problem;
        }
        let json = serde_json::from_slice::<Value>(body).ok();
        if let Some(error) = json.as_ref().and_then(|v| v["error"].as_str()) {
            let description = json
                .as_ref()
                .and_then(|v| v["error_description"].as_str())
                .unwrap_or(error);
            return Problem::plain(status, error, description);
        }
        let text: String = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(QUOTED_BODY_CHARS)
            .collect();
        let detail = if text.is_empty() {
            format!("the platform answered {status} without a body")
        } else {
            text
        };
        Problem::plain(status, "", &detail)
    }

    fn plain(status: u16, title: &str, detail: &str) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: title.to_string(),
            status,
            detail: detail.to_string(),
            errors: Vec::new(),
            correlation_id: None,
            other: Other::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_document_is_read_with_its_field_errors() {
        let body = br#"{"type":"https://qmarket.dev/problems/validation","title":"Invalid request","status":422,"detail":"the plan is not valid","errors":[{"field":"products[0].unitPrice","message":"must not be negative"}]}"#;
        let problem = Problem::from_answer(422, body);
        assert_eq!(problem.detail, "the plan is not valid");
        assert_eq!(problem.errors[0].field, "products[0].unitPrice");
        assert_eq!(
            problem.to_string(),
            "the plan is not valid (422)\n  products[0].unitPrice: must not be negative"
        );
    }

    #[test]
    fn an_oauth_error_becomes_a_problem_with_its_description() {
        let body =
            br#"{"error":"invalid_client","error_description":"unknown client or wrong secret"}"#;
        let problem = Problem::from_answer(401, body);
        assert_eq!(problem.title, "invalid_client");
        assert_eq!(problem.detail, "unknown client or wrong secret");
        assert_eq!(problem.status, 401);
    }

    #[test]
    fn a_body_that_is_no_problem_is_quoted_short() {
        let body = "x".repeat(1000);
        let problem = Problem::from_answer(502, body.as_bytes());
        assert_eq!(problem.detail.len(), QUOTED_BODY_CHARS);
        assert_eq!(
            Problem::from_answer(500, b"").detail,
            "the platform answered 500 without a body"
        );
    }
}
