//! The credentials an OAuth2 client presents: HTTP Basic or form fields.

use qmarket_core::secret::Secret;
use qmarket_http::credentials::BasicCredentials;

/// A consumer key and secret as presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The consumer key (client id).
    pub key: String,
    /// The consumer secret (client secret); its `Debug` is redacted.
    pub secret: Secret,
}

impl From<BasicCredentials> for ClientCredentials {
    fn from(basic: BasicCredentials) -> Self {
        ClientCredentials {
            key: basic.user,
            secret: basic.password,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let c = ClientCredentials {
            key: "k".into(),
            secret: Secret::new("s3cr3t"),
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
