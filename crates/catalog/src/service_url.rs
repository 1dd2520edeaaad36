//! The base URL of an external service.

/// The longest URL accepted.
pub(crate) const MAX_URL_LEN: usize = 2048;

/// Checks that `text` is an absolute `http`/`https` URL with a host and no
/// user info; returns why not. The URL is kept as given.
pub(crate) fn check(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.len() > MAX_URL_LEN {
        return Err(format!(
            "has {} bytes; at most {MAX_URL_LEN} are allowed",
            text.len()
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let lower = text.to_ascii_lowercase();
    // The URL parser would accept `http:host` and `http:/host`; a provider
    // means an absolute URL, so ask for one.
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(match lower.split_once(':') {
            Some((scheme, _))
                if !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                format!(
                    "must be an absolute http or https URL (scheme '{}' is not allowed)",
                    scheme.chars().take(20).collect::<String>()
                )
            }
            _ => "must be an absolute http or https URL such as https://example.org/api (relative URLs are not allowed)".into(),
        });
    }
    let url = url::Url::parse(text).map_err(|e| format!("is not a valid URL: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password; use the security configuration".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment (#...)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_http_and_https_urls_are_accepted() {
        for ok in [
            "https://walk.example.org",
            "http://localhost:8080/api/v1",
            "HTTPS://EXAMPLE.ORG/x?y=1",
            "http://127.0.0.1:9000",
            "http://[::1]:8080/",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_schemes_relative_urls_and_user_info_are_refused() {
        for (bad, says) in [
            ("ftp://example.org/file", "scheme 'ftp'"),
            ("javascript:alert(1)", "scheme 'javascript'"),
            ("/relative/path", "relative"),
            ("example.org/api", "relative"),
            ("http:example.org", "absolute"),
            ("http://", "not a valid URL"),
            ("https://user:pw@example.org", "user name"),
            ("https://exa mple.org", "spaces"),
            ("https://example.org/#frag", "fragment"),
            ("", "empty"),
        ] {
            let err = check(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn overlong_urls_are_refused() {
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_LEN));
        assert!(check(&long).unwrap_err().contains("at most 2048"));
    }
}
