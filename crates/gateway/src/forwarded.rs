//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`.

/// The `X-Forwarded-For` value: the incoming values in order, then the
/// client's IP. `None` when there is nothing to say.
pub fn forwarded_for(incoming: &[&str], client_ip: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = incoming
        .iter()
        .map(|v| v.trim())
        .chain(client_ip)
        .filter(|v| !v.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `X-Forwarded-Proto` and `X-Forwarded-Host` from Spin's `spin-full-url`
/// (`scheme://host[:port]/path?query`); without it, `http` and the `Host`
/// header.
pub fn forwarded_proto_and_host(
    full_url: Option<&str>,
    host_header: Option<&str>,
) -> (String, Option<String>) {
    let parsed = full_url.and_then(|url| {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        Some((scheme.to_ascii_lowercase(), authority.to_string()))
    });
    match parsed {
        Some((scheme, authority)) if !authority.is_empty() => (scheme, Some(authority)),
        Some((scheme, _)) => (scheme, host_header.map(str::to_string)),
        None => ("http".into(), host_header.map(str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_ip_is_appended_to_the_incoming_list() {
        assert_eq!(
            forwarded_for(&["198.51.100.1, 10.0.0.1"], Some("203.0.113.7")).as_deref(),
            Some("198.51.100.1, 10.0.0.1, 203.0.113.7")
        );
        assert_eq!(
            forwarded_for(&[], Some("203.0.113.7")).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(forwarded_for(&["  "], None), None);
        assert_eq!(
            forwarded_for(&["10.0.0.1"], None).as_deref(),
            Some("10.0.0.1")
        );
    }

    #[test]
    fn proto_and_host_come_from_the_full_url() {
        assert_eq!(
            forwarded_proto_and_host(
                Some("https://market.example:8443/gateway/svc_1/x?y=1"),
                Some("other")
            ),
            ("https".to_string(), Some("market.example:8443".to_string()))
        );
        assert_eq!(
            forwarded_proto_and_host(Some("http://127.0.0.1:3000?x"), None),
            ("http".to_string(), Some("127.0.0.1:3000".to_string()))
        );
    }

    #[test]
    fn without_the_full_url_the_host_header_is_used() {
        assert_eq!(
            forwarded_proto_and_host(None, Some("market.example")),
            ("http".to_string(), Some("market.example".to_string()))
        );
        assert_eq!(
            forwarded_proto_and_host(None, None),
            ("http".to_string(), None)
        );
    }
}
