//! Headers that belong to one connection, not to the message.
//!
//! The host is the endpoint of the client's connection and of each outbound
//! connection, so — like any HTTP intermediary (RFC 9110 §7.6.1) — it removes
//! the headers that `Connection` names before a message crosses into or out
//! of a component. wasmtime itself drops `Connection` and the fixed
//! hop-by-hop set, which would otherwise leave the named ones behind with
//! nothing to say they were hop-by-hop.

use http::header::{HeaderMap, HeaderName, CONNECTION};

/// Removes every header named in `Connection` (not `Connection` itself,
/// which wasmtime handles).
pub fn remove_connection_named(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .filter(|name| *name != CONNECTION)
        .collect();
    for name in named {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn headers_named_by_connection_are_removed_and_others_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("close, X-Hop"));
        headers.append(CONNECTION, HeaderValue::from_static("x-other"));
        headers.insert("x-hop", HeaderValue::from_static("1"));
        headers.insert("x-other", HeaderValue::from_static("2"));
        headers.insert("x-kept", HeaderValue::from_static("3"));
        remove_connection_named(&mut headers);
        assert!(headers.get("x-hop").is_none());
        assert!(headers.get("x-other").is_none());
        assert_eq!(headers.get("x-kept").unwrap(), "3");
    }

    #[test]
    fn malformed_connection_values_remove_nothing_else() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static(" , bad name ,"));
        headers.insert("x-kept", HeaderValue::from_static("3"));
        remove_connection_named(&mut headers);
        assert_eq!(headers.get("x-kept").unwrap(), "3");
    }
}
