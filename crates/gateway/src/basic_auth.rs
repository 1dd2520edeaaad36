//! The credential the gateway presents to a service with `BASIC` security.

use base64::Engine as _;
use qmarket_core::Result;
use qmarket_model::{SecurityConfiguration, SecurityType};

/// `Basic base64(username:password)` (RFC 7617, UTF-8).
pub fn basic_authorization(username: &str, password: &str) -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

/// The `Authorization` value for the service's upstream, if it has one;
/// `open` decrypts the sealed password (only called for `BASIC`).
pub fn upstream_authorization(
    security: &SecurityConfiguration,
    open: impl FnOnce(&str) -> Result<String>,
) -> Result<Option<String>> {
    match security.kind {
        SecurityType::None => Ok(None),
        SecurityType::Basic => {
            let password = match &security.sealed_password {
                Some(sealed) => open(sealed)?,
                None => String::new(),
            };
            let username = security.username.as_deref().unwrap_or_default();
            Ok(Some(basic_authorization(username, &password)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_core::Error;
    use qmarket_http::StatusOf;

    fn basic(username: Option<&str>, sealed: Option<&str>) -> SecurityConfiguration {
        SecurityConfiguration {
            kind: SecurityType::Basic,
            username: username.map(str::to_string),
            sealed_password: sealed.map(str::to_string),
        }
    }

    #[test]
    fn the_basic_header_encodes_user_colon_password() {
        assert_eq!(
            basic_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_authorization("ü", "p:w"), "Basic w7w6cDp3");
    }

    #[test]
    fn a_basic_service_gets_the_opened_password() {
        let auth = upstream_authorization(&basic(Some("u"), Some("sealed")), |s| {
            assert_eq!(s, "sealed");
            Ok("p".into())
        })
        .unwrap();
        assert_eq!(auth.as_deref(), Some("Basic dTpw"));
    }

    #[test]
    fn a_service_without_security_gets_nothing_and_nothing_is_opened() {
        let none = SecurityConfiguration {
            kind: SecurityType::None,
            username: None,
            sealed_password: None,
        };
        let auth = upstream_authorization(&none, |_| panic!("must not open")).unwrap();
        assert_eq!(auth, None);
    }

    #[test]
    fn a_password_that_cannot_be_opened_fails_the_call() {
        let result = upstream_authorization(&basic(Some("u"), Some("x")), |_| {
            Err(Error::Internal("wrong key".into()))
        });
        assert_eq!(result.unwrap_err().status(), 500);
    }
}
