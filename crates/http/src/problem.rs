//! The one place where platform errors become HTTP responses (RFC 9457).

use serde_json::{json, Map, Value};

use crate::status::{title, StatusOf};
use crate::Response;
use qmarket_core::Error;

/// The media type of every error response.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The problem+json response for `error`. Internal details are not shown:
/// a 500 says only that something went wrong.
pub fn problem(error: &Error) -> Response {
    problem_with(error, Map::new())
}

/// Like [`problem`], with extension members (e.g. `correlationId`) added.
pub fn problem_with(error: &Error, extensions: Map<String, Value>) -> Response {
    let status = error.status();
    let detail = match error {
        Error::Internal(_) => "an unexpected error occurred".to_string(),
        other => other.to_string(),
    };
    let mut body = json!({
        "type": "about:blank",
        "title": title(status),
        "status": status,
        "detail": detail,
    });
    if let Value::Object(map) = &mut body {
        let errors = error.field_errors();
        if !errors.is_empty() {
            map.insert("errors".into(), json!(errors));
        }
        map.extend(extensions);
    }
    let mut response = Response::json(status, &body);
    response.headers = vec![("content-type".into(), PROBLEM_CONTENT_TYPE.into())];
    if status == 401 {
        response = response.with_header("www-authenticate", "Bearer");
    }
    if let Error::TooManyRequests {
        retry_after_seconds,
        ..
    } = error
    {
        response = response.with_header("retry-after", retry_after_seconds.to_string());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_listed_in_the_problem() {
        let r = problem(&Error::invalid_field("name", "must not be empty"));
        assert_eq!(r.status, 400);
        assert_eq!(r.header("content-type"), Some(PROBLEM_CONTENT_TYPE));
        let body = r.json_value();
        assert_eq!(body["detail"], "name: must not be empty");
        assert_eq!(body["errors"][0]["field"], "name");
        assert_eq!(body["status"], 400);
    }

    #[test]
    fn unauthenticated_answers_carry_www_authenticate() {
        let r = problem(&Error::Unauthenticated("no token".into()));
        assert_eq!(r.status, 401);
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    }

    #[test]
    fn too_many_requests_say_when_to_retry() {
        let r = problem(&Error::TooManyRequests {
            detail: "slow down".into(),
            retry_after_seconds: 17,
        });
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("17"));
        assert_eq!(r.json_value()["title"], "Too Many Requests");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let r = problem(&Error::Internal("db path /secret".into()));
        assert_eq!(r.status, 500);
        assert!(!String::from_utf8_lossy(&r.body).contains("/secret"));
    }

    #[test]
    fn extensions_are_added_to_the_problem() {
        let mut ext = Map::new();
        ext.insert("correlationId".into(), json!("c-1"));
        let r = problem_with(&Error::BadGateway("down".into()), ext);
        assert_eq!(r.json_value()["correlationId"], "c-1");
    }
}
