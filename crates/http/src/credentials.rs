//! Credentials as requests carry them: bearer tokens, PlanQK's
//! `X-Auth-Token`, and HTTP Basic. Every header the platform reads a
//! credential from is named here, so the gateway can strip all of them.

use base64::Engine as _;
use qmarket_core::secret::Secret;

use crate::Request;

/// The header carrying a bearer or Basic credential.
pub const AUTHORIZATION: &str = "authorization";
/// PlanQK's header for a personal access token.
pub const X_AUTH_TOKEN: &str = "x-auth-token";
/// Every request header that may carry a platform credential (lower case):
/// none of them is ever forwarded to a service.
pub const PLATFORM_CREDENTIAL_HEADERS: [&str; 2] = [AUTHORIZATION, X_AUTH_TOKEN];
/// Spin's header with the client's `ip:port`.
pub const CLIENT_ADDR: &str = "spin-client-addr";

impl Request {
    /// The value of header `name` if the request has exactly one such
    /// header: a credential sent twice is ambiguous, and is no credential.
    pub fn single_header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let (_, value) = found.next()?;
        if found.next().is_some() {
            return None;
        }
        std::str::from_utf8(value).ok()
    }

    /// The value of `Authorization: Bearer <value>` (scheme in any case);
    /// `None` also when the request has more than one `Authorization`.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.single_header(AUTHORIZATION)?.trim();
        let (scheme, rest) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|token| !token.is_empty())
    }

    /// A personal access token: `Authorization: Bearer` first, then
    /// `X-Auth-Token` (each only when sent once).
    pub fn access_token(&self) -> Option<&str> {
        self.bearer_token().or_else(|| {
            self.single_header(X_AUTH_TOKEN)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        })
    }

    /// The client's IP address, from Spin's `spin-client-addr` (`ip:port`
    /// or `[v6]:port`).
    pub fn client_ip(&self) -> Option<String> {
        client_ip(self.header(CLIENT_ADDR)?)
    }

    /// Whether the request has an `Authorization` header at all (also one
    /// whose value is not UTF-8).
    pub fn has_authorization(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(AUTHORIZATION))
    }
}

/// The IP address in Spin's `spin-client-addr` (`ip:port` or `[v6]:port`).
fn client_ip(client_addr: &str) -> Option<String> {
    let addr = client_addr.trim();
    if let Some(rest) = addr.strip_prefix('[') {
        return rest
            .split_once(']')
            .map(|(ip, _)| ip.to_string())
            .filter(|ip| !ip.is_empty());
    }
    let ip = match addr.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => addr,
        Some((host, _)) => host,
        None => addr,
    };
    (!ip.is_empty()).then(|| ip.to_string())
}

/// A user and password from HTTP Basic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user part (an OAuth2 client id, say).
    pub user: String,
    /// The password part.
    pub password: Secret,
}

/// What is wrong with an `Authorization` header meant to carry Basic
/// credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicError {
    /// Another scheme than `Basic`.
    NotBasic,
    /// The credentials are not base64.
    NotBase64,
    /// The decoded credentials are not UTF-8.
    NotUtf8,
    /// No `:` separates user and password.
    NoColon,
}

impl BasicError {
    /// A description for the client.
    pub fn describe(self) -> &'static str {
        match self {
            BasicError::NotBasic => "the Authorization header must use the Basic scheme here",
            BasicError::NotBase64 => "the Basic credentials are not valid base64",
            BasicError::NotUtf8 => "the Basic credentials are not UTF-8",
            BasicError::NoColon => "the Basic credentials lack the ':' between key and secret",
        }
    }
}

/// The user and password of an `Authorization: Basic …` header value.
///
/// The values the platform issues use only URL-safe characters, so the
/// form-encoding RFC 6749 §2.3.1 applies before Base64 changes nothing, and
/// the parts are taken as they are.
pub fn parse_basic(header: &str) -> Result<BasicCredentials, BasicError> {
    let header = header.trim();
    let (scheme, encoded) = header.split_once(' ').ok_or(BasicError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BasicError::NotBasic);
    }
    let encoded = encoded.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| BasicError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| BasicError::NotUtf8)?;
    let (user, password) = text.split_once(':').ok_or(BasicError::NoColon)?;
    Ok(BasicCredentials {
        user: user.to_string(),
        password: Secret::new(password),
    })
}

/// `Authorization: Basic <base64(user:password)>`.
pub fn basic_header(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;

    fn basic(raw: &[u8]) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    #[test]
    fn bearer_tokens_are_read_in_any_scheme_case() {
        let req = Request::new(Method::Get, "/").with_header("Authorization", "bEaReR  abc ");
        assert_eq!(req.bearer_token(), Some("abc"));
        let req = Request::new(Method::Get, "/").with_header("Authorization", "Basic abc");
        assert_eq!(req.bearer_token(), None);
    }

    #[test]
    fn a_credential_header_sent_twice_is_no_credential() {
        let req = Request::new(Method::Get, "/")
            .with_header("Authorization", "Bearer a")
            .with_header("authorization", "Bearer b");
        assert_eq!(req.bearer_token(), None);
        assert_eq!(req.access_token(), None);
        let req = Request::new(Method::Get, "/")
            .with_header("X-Auth-Token", "a")
            .with_header("x-auth-token", "b");
        assert_eq!(req.access_token(), None);
    }

    #[test]
    fn an_access_token_comes_from_bearer_first_then_x_auth_token() {
        let req = Request::new(Method::Get, "/").with_header("X-Auth-Token", "pat");
        assert_eq!(req.access_token(), Some("pat"));
        let req = req.with_header("Authorization", "Bearer first");
        assert_eq!(req.access_token(), Some("first"));
    }

    #[test]
    fn basic_credentials_round_trip_and_errors_are_told_apart() {
        let parsed = parse_basic(&basic_header("key", "s:e:c")).unwrap();
        assert_eq!(parsed.user, "key");
        assert_eq!(parsed.password.expose(), "s:e:c");
        assert_eq!(parse_basic("Bearer x"), Err(BasicError::NotBasic));
        assert_eq!(parse_basic("Basic !!!"), Err(BasicError::NotBase64));
        assert_eq!(parse_basic(&basic(b"\xff:x")), Err(BasicError::NotUtf8));
        assert_eq!(parse_basic(&basic(b"nocolon")), Err(BasicError::NoColon));
        assert!(parse_basic(&basic(b"k:s")).is_ok());
        assert!(parse_basic(&basic(b"k:s").replace("Basic", "bAsIc")).is_ok());
        assert_eq!(parse_basic("Basic"), Err(BasicError::NotBasic));
    }

    #[test]
    fn the_client_ip_is_read_from_spins_client_address() {
        let ip = |addr: &str| {
            Request::new(Method::Get, "/")
                .with_header(CLIENT_ADDR, addr)
                .client_ip()
        };
        assert_eq!(ip("203.0.113.7:4000").as_deref(), Some("203.0.113.7"));
        assert_eq!(ip("[2001:db8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(ip(""), None);
        assert_eq!(ip("[]:1"), None);
        assert_eq!(Request::new(Method::Get, "/").client_ip(), None);
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let header = basic(b"k:s1").trim_end_matches('=').to_string();
        assert_eq!(parse_basic(&header).unwrap().password.expose(), "s1");
    }
}
