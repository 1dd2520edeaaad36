//! `/gateway/{serviceId}/{path...}`: which service, and what to append.

use qmarket_core::{Error, Result};

/// The route prefix the gateway is mounted at.
const PREFIX: &str = "/gateway";

/// A gateway request path split into the service id and the remainder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPath<'a> {
    /// The `{serviceId}` segment.
    pub service_id: &'a str,
    /// Everything after the service id, percent-encoded as received: empty
    /// (the service's base URL itself) or starting with `/`.
    pub remainder: &'a str,
}

impl<'a> GatewayPath<'a> {
    /// Splits `path` (the request path, without the query). 404 when no
    /// service is named; 400 when the remainder has `.` or `..` segments,
    /// which would let a call climb out of the service's base path.
    pub fn parse(path: &'a str) -> Result<Self> {
        let rest = path
            .strip_prefix(PREFIX)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| Error::NotFound(format!("no endpoint at {path}")))?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let (service_id, remainder) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if service_id.is_empty() {
            return Err(Error::NotFound(
                "name a service: /gateway/{serviceId}/{path}".into(),
            ));
        }
        if remainder.split('/').any(is_dot_segment) {
            return Err(Error::bad_request(
                "the path must not contain '.' or '..' segments",
            ));
        }
        Ok(GatewayPath {
            service_id,
            remainder,
        })
    }
}

fn is_dot_segment(segment: &str) -> bool {
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded == "." || decoded == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_id_and_the_remainder_are_split() {
        let p = GatewayPath::parse("/gateway/svc_1/runs/42").unwrap();
        assert_eq!(p.service_id, "svc_1");
        assert_eq!(p.remainder, "/runs/42");
    }

    #[test]
    fn no_remainder_and_a_lone_slash_are_kept_apart() {
        assert_eq!(GatewayPath::parse("/gateway/svc_1").unwrap().remainder, "");
        assert_eq!(
            GatewayPath::parse("/gateway/svc_1/").unwrap().remainder,
            "/"
        );
    }

    #[test]
    fn encoded_characters_and_empty_segments_stay_as_received() {
        let p = GatewayPath::parse("/gateway/svc_1/a%2Fb//c%20d").unwrap();
        assert_eq!(p.remainder, "/a%2Fb//c%20d");
    }

    #[test]
    fn a_path_without_a_service_is_not_found() {
        for path in [
            "/gateway",
            "/gateway/",
            "/gateway//x",
            "/gatewayx/svc_1",
            "/api/x",
        ] {
            assert_eq!(
                GatewayPath::parse(path).unwrap_err().status(),
                404,
                "{path}"
            );
        }
    }

    #[test]
    fn dot_segments_plain_or_encoded_are_refused() {
        for path in [
            "/gateway/svc_1/../admin",
            "/gateway/svc_1/./x",
            "/gateway/svc_1/a/%2e%2E/b",
            "/gateway/svc_1/.%2e",
            "/gateway/svc_1/x/..",
        ] {
            assert_eq!(
                GatewayPath::parse(path).unwrap_err().status(),
                400,
                "{path}"
            );
        }
        assert!(GatewayPath::parse("/gateway/svc_1/...x/.well-known").is_ok());
    }
}
