//! `application/x-www-form-urlencoded` bodies, decoded strictly.

/// The `name=value` pairs of `body`, in order; an error message when it is
/// not valid form encoding (bad `%` escape, not UTF-8 once decoded).
pub fn parse(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "the body has a malformed %-escape".to_string())?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "a form value is not UTF-8 once decoded".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_in_order() {
        let pairs = parse(b"grant_type=client_credentials&scope=a+b%2Fc&empty=&flag").unwrap();
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
    fn malformed_encodings_are_refused() {
        for bad in [&b"a=%zz"[..], b"a=%4", b"a=%", b"a=%ff", b"\xff=1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
