//! Which headers cross the gateway, in each direction.

use qmarket_http::credentials::PLATFORM_CREDENTIAL_HEADERS;

use crate::forwarded::forwarded_for;

/// The header that carries the correlation id upstream and back.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus `http2-settings`, which is per connection as well.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// Whether `name` (lower case) is a hop-by-hop header: one of the fixed
/// list or any `proxy-*` header.
pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.contains(&name) || name.starts_with("proxy-")
}

/// The header names listed in `Connection` headers (lower case): these are
/// hop-by-hop for this message too.
fn connection_tokens(headers: &[(String, Vec<u8>)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| {
            String::from_utf8_lossy(value)
                .split(',')
                .map(|token| token.trim().to_ascii_lowercase())
                .filter(|token| !token.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the gateway adds to a forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardContext {
    /// The call's correlation id.
    pub correlation_id: String,
    /// The consumer's IP address (from `spin-client-addr`).
    pub client_ip: Option<String>,
    /// `X-Forwarded-Proto`: the scheme the consumer used.
    pub proto: String,
    /// `X-Forwarded-Host`: the host the consumer called.
    pub host: Option<String>,
    /// The upstream `Authorization` value (Basic), when the service has one.
    pub authorization: Option<String>,
    /// The length of the body being forwarded.
    pub body_len: usize,
}

/// The headers sent upstream: the consumer's, minus every platform
/// credential header (`Authorization`, `X-Auth-Token`: the application's
/// token, or a personal access token sent by mistake),
/// hop-by-hop headers (and those `Connection` names), `Host`, Spin's
/// `spin-*` headers, any `x-correlation-id` and `X-Forwarded-*`; plus
/// `X-Forwarded-For` (appended to), `-Proto`, `-Host`, the upstream
/// credential, the correlation id, and `content-length` of the body as sent.
pub fn upstream_request_headers(
    incoming: &[(String, Vec<u8>)],
    ctx: &ForwardContext,
) -> Vec<(String, Vec<u8>)> {
    let named = connection_tokens(incoming);
    let mut incoming_forwarded_for = Vec::new();
    let mut had_length = false;
    let mut out = Vec::with_capacity(incoming.len() + 6);
    for (name, value) in incoming {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "x-forwarded-for" => {
                incoming_forwarded_for.push(String::from_utf8_lossy(value).into_owned());
                continue;
            }
            "content-length" | "transfer-encoding" => {
                had_length = true;
                continue;
            }
            "host" | CORRELATION_HEADER => continue,
            n if PLATFORM_CREDENTIAL_HEADERS.contains(&n) => continue,
            n if n.starts_with("spin-") || n.starts_with("x-forwarded-") => continue,
            n if is_hop_by_hop(n) || named.iter().any(|t| t == n) => continue,
            _ => out.push((name, value.clone())),
        }
    }
    let incoming_refs: Vec<&str> = incoming_forwarded_for.iter().map(String::as_str).collect();
    if let Some(value) = forwarded_for(&incoming_refs, ctx.client_ip.as_deref()) {
        out.push(("x-forwarded-for".into(), value.into_bytes()));
    }
    out.push(("x-forwarded-proto".into(), ctx.proto.clone().into_bytes()));
    if let Some(host) = &ctx.host {
        out.push(("x-forwarded-host".into(), host.clone().into_bytes()));
    }
    if let Some(authorization) = &ctx.authorization {
        out.push(("authorization".into(), authorization.clone().into_bytes()));
    }
    out.push((
        CORRELATION_HEADER.into(),
        ctx.correlation_id.clone().into_bytes(),
    ));
    if ctx.body_len > 0 || had_length {
        out.push((
            "content-length".into(),
            ctx.body_len.to_string().into_bytes(),
        ));
    }
    out
}

/// The headers returned to the consumer: the upstream's, minus hop-by-hop
/// headers (and those its `Connection` names) and any `x-correlation-id` of
/// its own; plus the call's correlation id.
pub fn upstream_response_headers(
    upstream: &[(String, Vec<u8>)],
    correlation_id: &str,
) -> Vec<(String, Vec<u8>)> {
    let named = connection_tokens(upstream);
    let mut out: Vec<(String, Vec<u8>)> = upstream
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .filter(|(name, _)| {
            name != CORRELATION_HEADER && !is_hop_by_hop(name) && !named.contains(name)
        })
        .collect();
    out.push((
        CORRELATION_HEADER.into(),
        correlation_id.as_bytes().to_vec(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn context() -> ForwardContext {
        ForwardContext {
            correlation_id: "c0ffee00-0000-4000-8000-000000000001".into(),
            client_ip: Some("203.0.113.7".into()),
            proto: "https".into(),
            host: Some("market.example".into()),
            authorization: None,
            body_len: 0,
        }
    }

    fn names(list: &[(String, Vec<u8>)]) -> Vec<&str> {
        list.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn value<'a>(list: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
        let mut found = list.iter().filter(|(n, _)| n == name);
        let first = found.next().map(|(_, v)| std::str::from_utf8(v).unwrap());
        assert!(found.next().is_none(), "{name} appears more than once");
        first
    }

    #[test]
    fn each_request_header_is_forwarded_or_dropped_as_the_table_says() {
        // (header, forwarded?)
        let table = [
            ("accept", true),
            ("content-type", true),
            ("user-agent", true),
            ("x-custom", true),
            ("cookie", true),
            ("authorization", false),
            ("x-auth-token", false),
            ("host", false),
            ("connection", false),
            ("keep-alive", false),
            ("te", false),
            ("trailer", false),
            ("transfer-encoding", false),
            ("upgrade", false),
            ("proxy-authorization", false),
            ("proxy-connection", false),
            ("proxy-anything", false),
            ("http2-settings", false),
            ("spin-full-url", false),
            ("spin-path-info", false),
            ("spin-client-addr", false),
            ("x-correlation-id", false),
            ("x-forwarded-proto", false),
            ("x-forwarded-host", false),
            ("x-forwarded-port", false),
        ];
        for (name, forwarded) in table {
            let incoming = headers(&[(name, "from-consumer")]);
            let out = upstream_request_headers(&incoming, &context());
            let passed = out
                .iter()
                .any(|(n, v)| n == name && v.as_slice() == b"from-consumer");
            assert_eq!(passed, forwarded, "{name}");
        }
    }

    #[test]
    fn headers_named_by_connection_are_dropped_too() {
        let incoming = headers(&[
            ("Connection", "close, X-Foo"),
            ("connection", "x-bar"),
            ("x-foo", "1"),
            ("X-Bar", "2"),
            ("x-baz", "3"),
        ]);
        let out = upstream_request_headers(&incoming, &context());
        assert!(!names(&out).contains(&"x-foo"));
        assert!(!names(&out).contains(&"x-bar"));
        assert!(!names(&out).contains(&"connection"));
        assert_eq!(value(&out, "x-baz"), Some("3"));
    }

    #[test]
    fn the_incoming_correlation_id_is_replaced_by_the_gateways() {
        let incoming = headers(&[("X-Correlation-Id", "forged")]);
        let out = upstream_request_headers(&incoming, &context());
        assert_eq!(
            value(&out, "x-correlation-id"),
            Some("c0ffee00-0000-4000-8000-000000000001")
        );
    }

    #[test]
    fn forwarded_headers_are_set_from_the_context_not_the_consumer() {
        let incoming = headers(&[
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2, 10.0.0.3"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let out = upstream_request_headers(&incoming, &context());
        assert_eq!(
            value(&out, "x-forwarded-for"),
            Some("10.0.0.1, 10.0.0.2, 10.0.0.3, 203.0.113.7")
        );
        assert_eq!(value(&out, "x-forwarded-proto"), Some("https"));
        assert_eq!(value(&out, "x-forwarded-host"), Some("market.example"));
    }

    #[test]
    fn the_consumers_credential_gives_way_to_the_upstream_credential() {
        let incoming = headers(&[("Authorization", "Bearer consumer-token")]);
        let ctx = ForwardContext {
            authorization: Some("Basic dTpw".into()),
            ..context()
        };
        let out = upstream_request_headers(&incoming, &ctx);
        assert_eq!(value(&out, "authorization"), Some("Basic dTpw"));
    }

    #[test]
    fn content_length_states_the_body_as_sent() {
        let chunked = headers(&[("transfer-encoding", "chunked")]);
        let ctx = ForwardContext {
            body_len: 5,
            ..context()
        };
        assert_eq!(
            value(&upstream_request_headers(&chunked, &ctx), "content-length"),
            Some("5")
        );
        let declared_empty = headers(&[("content-length", "0")]);
        assert_eq!(
            value(
                &upstream_request_headers(&declared_empty, &context()),
                "content-length"
            ),
            Some("0")
        );
        assert_eq!(
            value(&upstream_request_headers(&[], &context()), "content-length"),
            None
        );
    }

    #[test]
    fn repeated_headers_keep_their_order() {
        let incoming = headers(&[("accept", "a"), ("x-multi", "1"), ("x-multi", "2")]);
        let out = upstream_request_headers(&incoming, &context());
        let multi: Vec<_> = out
            .iter()
            .filter(|(n, _)| n == "x-multi")
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(multi, vec![b"1".to_vec(), b"2".to_vec()]);
    }

    #[test]
    fn response_headers_lose_hop_by_hop_ones_and_gain_the_correlation_id() {
        let upstream = headers(&[
            ("Content-Type", "application/json"),
            ("content-length", "2"),
            ("connection", "keep-alive, x-internal"),
            ("keep-alive", "timeout=5"),
            ("x-internal", "secret-route"),
            ("transfer-encoding", "chunked"),
            ("proxy-authenticate", "Basic"),
            ("x-correlation-id", "upstream-own"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ]);
        let out = upstream_response_headers(&upstream, "cid");
        assert_eq!(
            names(&out),
            vec![
                "content-type",
                "content-length",
                "set-cookie",
                "set-cookie",
                "x-correlation-id"
            ]
        );
        assert_eq!(value(&out, "x-correlation-id"), Some("cid"));
    }
}
