//! The service's base URL and the upstream target a call is sent to.

use qmarket_core::{Error, Result};

/// The schemes the gateway forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// The scheme's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A service's base URL, split into the parts an HTTP request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]` as written (IPv6 hosts in brackets).
    pub authority: String,
    /// The base path, `/` at least.
    pub path: String,
    /// The base URL's query without `?`, often empty.
    pub query: String,
}

/// Where one forwarded call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// Path and query (`/base/x?a=1`).
    pub path_and_query: String,
}

impl Target {
    /// The full URL (for logs and tests).
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority,
            self.path_and_query
        )
    }
}

fn unusable(url: &str, why: &str) -> Error {
    Error::BadGateway(format!("the service's URL {url:?} cannot be used: {why}"))
}

impl UpstreamUrl {
    /// Parses an absolute `http(s)` URL. A fragment is dropped; credentials
    /// in the URL are refused (they belong in the security configuration).
    /// An unusable URL is the upstream's fault as far as the consumer is
    /// concerned: 502.
    pub fn parse(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| unusable(url, "not an absolute URL"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(unusable(url, "only http and https are forwarded to")),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(end);
        if authority.is_empty() {
            return Err(unusable(url, "no host"));
        }
        if authority.contains('@') {
            return Err(unusable(url, "credentials in the URL are not forwarded"));
        }
        if authority
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'\\')
        {
            return Err(unusable(url, "the host contains invalid characters"));
        }
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let path = if path.is_empty() { "/" } else { path };
        Ok(UpstreamUrl {
            scheme,
            authority: authority.to_string(),
            path: path.to_string(),
            query: query.to_string(),
        })
    }

    /// The target for a call with path `remainder` (empty or starting with
    /// `/`) and query `query`: the remainder is appended to the base path
    /// without doubling the slash between them (`/base` and `/base/` with
    /// `/x` both give `/base/x`; an empty remainder gives the base path as it
    /// is), and the call's query follows the base URL's own.
    pub fn target(&self, remainder: &str, query: &str) -> Target {
        let path = if remainder.is_empty() {
            self.path.clone()
        } else {
            format!("{}{remainder}", self.path.trim_end_matches('/'))
        };
        let query = match (self.query.is_empty(), query.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!("?{}", self.query),
            (true, false) => format!("?{query}"),
            (false, false) => format!("?{}&{query}", self.query),
        };
        Target {
            scheme: self.scheme,
            authority: self.authority.clone(),
            path_and_query: format!("{path}{query}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    fn join(base: &str, remainder: &str, query: &str) -> String {
        UpstreamUrl::parse(base)
            .unwrap()
            .target(remainder, query)
            .url()
    }

    #[test]
    fn the_remainder_is_appended_to_the_base_path() {
        assert_eq!(join("https://h/base", "/x", ""), "https://h/base/x");
        assert_eq!(join("https://h/base/", "/x", ""), "https://h/base/x");
        assert_eq!(join("https://h/base", "/x/y/", ""), "https://h/base/x/y/");
        assert_eq!(join("https://h", "/x", ""), "https://h/x");
        assert_eq!(join("https://h/", "/x", ""), "https://h/x");
    }

    #[test]
    fn an_empty_remainder_is_the_base_url_itself() {
        assert_eq!(join("https://h/base", "", ""), "https://h/base");
        assert_eq!(join("https://h/base/", "", ""), "https://h/base/");
        assert_eq!(join("https://h", "", ""), "https://h/");
        assert_eq!(join("http://h:8080/base", "/", ""), "http://h:8080/base/");
    }

    #[test]
    fn queries_are_kept_as_they_are_and_combined_with_the_base_query() {
        assert_eq!(
            join("https://h/b", "/x", "a=1&b=%20c"),
            "https://h/b/x?a=1&b=%20c"
        );
        assert_eq!(join("https://h/b?key=k", "/x", ""), "https://h/b/x?key=k");
        assert_eq!(
            join("https://h/b?key=k", "/x", "a=1"),
            "https://h/b/x?key=k&a=1"
        );
        assert_eq!(join("https://h?key=k", "", "a"), "https://h/?key=k&a");
    }

    #[test]
    fn encoded_paths_are_not_decoded_or_re_encoded() {
        assert_eq!(
            join("https://h/b%20c", "/a%2Fb/%E2%9C%93", ""),
            "https://h/b%20c/a%2Fb/%E2%9C%93"
        );
    }

    #[test]
    fn scheme_host_port_and_ipv6_are_parsed() {
        let u = UpstreamUrl::parse("HTTP://[::1]:9000/api?v=2#frag").unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(u.authority, "[::1]:9000");
        assert_eq!(u.path, "/api");
        assert_eq!(u.query, "v=2");
    }

    #[test]
    fn unusable_urls_are_a_bad_gateway() {
        for url in [
            "ftp://h/x",
            "h/x",
            "https://",
            "https:///x",
            "https://user:pw@h/x",
            "https://h x/",
            "file:///etc/passwd",
        ] {
            assert_eq!(UpstreamUrl::parse(url).unwrap_err().status(), 502, "{url}");
        }
    }
}
