//! `application/x-www-form-urlencoded` text (forms and query strings),
//! decoded by `form_urlencoded`.

/// The `name=value` pairs of a form body, in order; an error message when
/// the body is not UTF-8. Escapes are decoded as the URL standard says
/// (a malformed `%` escape stays as written; invalid UTF-8 behind escapes
/// becomes U+FFFD).
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    Ok(pairs(body))
}

/// The decoded pairs of a query string or form, in order.
pub(crate) fn pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_in_order() {
        let pairs = form_pairs(b"grant_type=client_credentials&scope=a+b%2Fc&empty=&flag").unwrap();
        assert_eq!(
            pairs,
            [
                ("grant_type".to_string(), "client_credentials".to_string()),
                ("scope".to_string(), "a b/c".to_string()),
                ("empty".to_string(), String::new()),
                ("flag".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        assert!(form_pairs(b"a=\xff").is_err());
    }
}
