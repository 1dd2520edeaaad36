//! Outbound HTTP: `allowed_outbound_hosts` patterns, the `wasi:http` hook
//! that enforces them, and the pooled client that sends what they allow
//! ([`OutboundClient`]).
//!
//! A pattern is `scheme://host[:port]` where the scheme, the host and the port
//! may be `*`, the host may start with `*.` (any subdomain), and the port may
//! be a range `a..b` (end excluded). Without a port, the scheme's default port
//! is implied. `self` allows requests to the application's own address.

mod pool;

pub use pool::{
    OutboundClient, PoolOptions, DEFAULT_MAX_CONNECTIONS_PER_HOST, IDLE_TIMEOUT, MAX_IDLE_PER_HOST,
};

use crate::durability::{not_durable, GatedBody};
use http_body_util::BodyExt;
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// The connect timeout used when the guest sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The first-byte timeout used when the guest sets none.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);
/// The between-bytes timeout used when the guest sets none.
pub const DEFAULT_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(60);

/// An `allowed_outbound_hosts` entry that cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid allowed_outbound_hosts entry `{pattern}`: {reason}")]
pub struct PatternError {
    /// The entry as written (after template expansion).
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    Subdomain(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
    /// No port written: the scheme's default port.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    SelfOrigin,
    Url {
        scheme: Option<String>,
        host: HostPattern,
        port: PortPattern,
    },
}

/// The compiled outbound policy of one component.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    patterns: Vec<Pattern>,
}

impl OutboundPolicy {
    /// Compiles expanded `allowed_outbound_hosts` entries.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, PatternError> {
        let patterns = entries
            .iter()
            .map(|e| parse_pattern(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether a request to `scheme://host:port` is allowed; `self_authority`
    /// is the application's own `host:port`.
    pub fn allows(
        &self,
        scheme: &str,
        host: &str,
        port: u16,
        self_authority: Option<&str>,
    ) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.patterns.iter().any(|p| match p {
            Pattern::SelfOrigin => self_authority.is_some_and(|own| {
                own.eq_ignore_ascii_case(&format!("{host}:{port}"))
                    || (own.starts_with("127.0.0.1:")
                        && host.eq_ignore_ascii_case("localhost")
                        && own.ends_with(&format!(":{port}")))
            }),
            Pattern::Url {
                scheme: s,
                host: h,
                port: pt,
            } => {
                let scheme_ok = s.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(scheme));
                let host_ok = match h {
                    HostPattern::Any => true,
                    HostPattern::Exact(e) => e.eq_ignore_ascii_case(host),
                    HostPattern::Subdomain(base) => {
                        let host = host.to_ascii_lowercase();
                        host.ends_with(&format!(".{base}"))
                    }
                };
                let port_ok = match pt {
                    PortPattern::Any => true,
                    PortPattern::Range(a, b) => (*a..*b).contains(&port),
                    PortPattern::Default => {
                        default_port(s.as_deref().unwrap_or(scheme)) == Some(port)
                    }
                };
                scheme_ok && host_ok && port_ok
            }
        })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn parse_pattern(entry: &str) -> Result<Pattern, PatternError> {
    let err = |reason: &str| PatternError {
        pattern: entry.to_string(),
        reason: reason.to_string(),
    };
    let entry_trimmed = entry.trim();
    if entry_trimmed == "self" {
        return Ok(Pattern::SelfOrigin);
    }
    let (scheme, rest) = entry_trimmed
        .split_once("://")
        .ok_or_else(|| err("expected `scheme://host[:port]` or `self`"))?;
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') {
        return Err(err("paths are not allowed"));
    }
    let scheme = match scheme {
        "*" => None,
        s if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            Some(s.to_ascii_lowercase())
        }
        _ => return Err(err("invalid scheme")),
    };
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (h, after) = bracketed
            .split_once(']')
            .ok_or_else(|| err("unclosed `[`"))?;
        (h, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let host = match host {
        "" => return Err(err("missing host")),
        "*" => HostPattern::Any,
        h => match h.strip_prefix("*.") {
            Some(base) if !base.is_empty() && !base.contains('*') => {
                HostPattern::Subdomain(base.to_ascii_lowercase())
            }
            _ if h.contains('*') => {
                return Err(err("`*` may only be the whole host or a `*.` prefix"))
            }
            _ => HostPattern::Exact(h.to_ascii_lowercase()),
        },
    };
    let port = match port {
        None => {
            if scheme.as_deref().and_then(default_port).is_none() {
                return Err(err("a port is required for this scheme"));
            }
            PortPattern::Default
        }
        Some("*") => PortPattern::Any,
        Some(p) => {
            if let Some((a, b)) = p.split_once("..") {
                let a = a.parse().map_err(|_| err("invalid port range"))?;
                let b = b.parse().map_err(|_| err("invalid port range"))?;
                PortPattern::Range(a, b)
            } else {
                let n: u16 = p.parse().map_err(|_| err("invalid port"))?;
                PortPattern::Range(n, n.saturating_add(1))
            }
        }
    };
    Ok(Pattern::Url { scheme, host, port })
}

/// The `wasi:http` hooks of one request: applies the component's outbound
/// policy, fills in default timeouts, and sends through the application's
/// pooled client.
pub(crate) struct OutboundHooks {
    pub(crate) policy: std::sync::Arc<OutboundPolicy>,
    pub(crate) self_authority: Option<std::sync::Arc<str>>,
    pub(crate) client: std::sync::Arc<OutboundClient>,
    /// Where the time to each response head is counted.
    pub(crate) stats: std::sync::Arc<crate::request_stats::RequestStats>,
    /// Passed before a request leaves: what it may carry is durable.
    pub(crate) gate: std::sync::Arc<crate::durability::OutputGate>,
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_string();
        let allowed = match uri.host() {
            Some(host) => {
                let port = uri
                    .port_u16()
                    .or_else(|| default_port(&scheme))
                    .unwrap_or(0);
                self.policy
                    .allows(&scheme, host, port, self.self_authority.as_deref())
            }
            None => false,
        };
        if !allowed {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let options = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: options.connect_timeout.or(Some(DEFAULT_CONNECT_TIMEOUT)),
            first_byte_timeout: options
                .first_byte_timeout
                .or(Some(DEFAULT_FIRST_BYTE_TIMEOUT)),
            between_bytes_timeout: options
                .between_bytes_timeout
                .or(Some(DEFAULT_BETWEEN_BYTES_TIMEOUT)),
        };
        let stats = self.stats.clone();
        let client = self.client.clone();
        let gate = self.gate.clone();
        Box::new(async move {
            gate.pass()
                .await
                .map_err(|e| HttpError::InternalError(Some(not_durable("the request", &e))))?;
            // A body the guest streams on passes the gate frame by frame.
            let request = request.map(|body| GatedBody::new(body, gate).boxed_unsync());
            let started = std::time::Instant::now();
            let sent = client.send(request, options).await;
            stats.outbound(started.elapsed());
            // The pool drives the connection: nothing is left to await.
            let io = async { Ok(()) };
            Ok((
                sent?,
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(entries).expect("valid patterns")
    }

    #[test]
    fn an_exact_host_allows_only_its_scheme_and_default_port() {
        let p = policy(&["https://api.example.com"]);
        assert!(p.allows("https", "api.example.com", 443, None));
        assert!(!p.allows("http", "api.example.com", 80, None));
        assert!(!p.allows("https", "api.example.com", 8443, None));
        assert!(!p.allows("https", "other.example.com", 443, None));
    }

    #[test]
    fn wildcards_match_scheme_host_and_port() {
        let p = policy(&["*://*.example.com:*"]);
        assert!(p.allows("http", "a.example.com", 8080, None));
        assert!(p.allows("https", "b.c.example.com", 443, None));
        assert!(!p.allows("https", "example.com", 443, None));
        assert!(policy(&["http://*:*"]).allows("http", "10.0.0.1", 1234, None));
    }

    #[test]
    fn explicit_ports_and_ranges_are_honoured() {
        let p = policy(&["http://127.0.0.1:8080", "http://localhost:9000..9010"]);
        assert!(p.allows("http", "127.0.0.1", 8080, None));
        assert!(!p.allows("http", "127.0.0.1", 8081, None));
        assert!(p.allows("http", "localhost", 9005, None));
        assert!(!p.allows("http", "localhost", 9010, None));
    }

    #[test]
    fn self_allows_the_application_address() {
        let p = policy(&["self"]);
        assert!(p.allows("http", "127.0.0.1", 3000, Some("127.0.0.1:3000")));
        assert!(p.allows("http", "localhost", 3000, Some("127.0.0.1:3000")));
        assert!(!p.allows("http", "127.0.0.1", 3001, Some("127.0.0.1:3000")));
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!policy(&[]).allows("https", "example.com", 443, None));
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        for bad in [
            "example.com",
            "https://",
            "https://ex*mple.com",
            "https://a.com/path",
            "redis://host",
        ] {
            assert!(OutboundPolicy::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
