//! The credentials an OAuth2 client presents: HTTP Basic or form fields.

use base64::Engine as _;

/// A consumer key and secret as presented.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The consumer key (client id).
    pub key: String,
    /// The consumer secret (client secret).
    pub secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("ClientCredentials")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
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
    /// No `:` separates key and secret.
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

/// The key and secret of an `Authorization: Basic …` header value.
///
/// The values the platform issues use only URL-safe characters, so the
/// form-encoding RFC 6749 §2.3.1 applies before Base64 changes nothing, and
/// the parts are taken as they are.
pub fn parse_basic(header: &str) -> Result<ClientCredentials, BasicError> {
    let header = header.trim();
    let (scheme, encoded) = header.split_once(' ').ok_or(BasicError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BasicError::NotBasic);
    }
    let encoded = encoded.trim();
    let engine = &base64::engine::general_purpose::STANDARD;
    let bytes = engine
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| BasicError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| BasicError::NotUtf8)?;
    let (key, secret) = text.split_once(':').ok_or(BasicError::NoColon)?;
    Ok(ClientCredentials {
        key: key.to_string(),
        secret: secret.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &[u8]) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let c = parse_basic(&basic(b"key:sec:ret")).unwrap();
        assert_eq!((c.key.as_str(), c.secret.as_str()), ("key", "sec:ret"));
        assert!(parse_basic(&basic(b"k:s").replace("Basic", "bAsIc")).is_ok());
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let header = basic(b"k:s1").trim_end_matches('=').to_string();
        assert_eq!(parse_basic(&header).unwrap().secret, "s1");
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        assert_eq!(parse_basic("Bearer x"), Err(BasicError::NotBasic));
        assert_eq!(parse_basic("Basic"), Err(BasicError::NotBasic));
        assert_eq!(parse_basic("Basic !!!"), Err(BasicError::NotBase64));
        assert_eq!(parse_basic(&basic(b"\xff:\xfe")), Err(BasicError::NotUtf8));
        assert_eq!(parse_basic(&basic(b"nocolon")), Err(BasicError::NoColon));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let c = ClientCredentials {
            key: "k".into(),
            secret: "s3cr3t".into(),
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
