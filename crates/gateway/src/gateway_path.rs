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
    /// service is named; 400 when the remainder has `.` or `..` segments
    /// however a server may read it (see [`has_dot_segment`]), which would
    /// let a call climb out of the service's base path.
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
        if has_dot_segment(remainder) {
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

/// Whether `remainder` has a `.` or `..` segment as any upstream server may
/// read it: servers differ in what they decode before resolving dot
/// segments, so the check assumes the most: escapes decoded until none is
/// left (`%2e%2e%2f`, `%252e`), backslashes as slashes (`..\`, `..%5c`),
/// and `;` parameters dropped (`..;/`).
fn has_dot_segment(remainder: &str) -> bool {
    let mut decoded = remainder.to_string();
    loop {
        let once = percent_decode_once(&decoded);
        if once == decoded {
            break;
        }
        decoded = once;
    }
    decoded.split(['/', '\\']).any(|segment| {
        let name = segment.split(';').next().unwrap_or_default();
        name == "." || name == ".."
    })
}

/// Decodes each `%XX` escape once; every escape shortens the text, so
/// repeating this ends. Bytes that are not UTF-8 become U+FFFD, which is no dot.
fn percent_decode_once(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

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

    #[test]
    fn dot_segments_hidden_by_encoded_slashes_backslashes_or_parameters_are_refused() {
        for path in [
            "/gateway/svc_1/..%2fadmin",
            "/gateway/svc_1/%2E%2E%2Fadmin",
            "/gateway/svc_1/%252e%252e/admin",
            "/gateway/svc_1/..%252fadmin",
            "/gateway/svc_1/..\\admin",
            "/gateway/svc_1/..%5cadmin",
            "/gateway/svc_1/..;/admin",
            "/gateway/svc_1/%2e%2e;x=1/admin",
            "/gateway/svc_1/x;y=1/..;/..;/admin",
        ] {
            assert_eq!(
                GatewayPath::parse(path).unwrap_err().status(),
                400,
                "{path}"
            );
        }
        for path in [
            "/gateway/svc_1/a%2fb;v=1",
            "/gateway/svc_1/..a/b..;c",
            "/gateway/svc_1/%ff%fe",
            "/gateway/svc_1/100%",
        ] {
            assert!(GatewayPath::parse(path).is_ok(), "{path}");
        }
    }
}
