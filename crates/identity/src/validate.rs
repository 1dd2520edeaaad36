//! Checks of user-given names and e-mail addresses.

use qmarket_core::{Error, Result};

/// The longest name (of an account, token or application), in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest e-mail address, in bytes (RFC 5321's path limit less `<>`).
pub const MAX_EMAIL_LEN: usize = 254;

/// `value` trimmed, when it is 1–100 characters without control characters.
pub fn name(field: &str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid_field(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid_field(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// `value` trimmed, when it is an e-mail address of ordinary syntax:
/// `local@domain`, the local part of printable ASCII without spaces, quotes
/// or separators and without leading, trailing or doubled dots, the domain
/// of dot-separated letter/digit/hyphen labels (at least two).
pub fn email(field: &str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    let invalid = |why: &str| Err(Error::invalid_field(field, why.to_string()));
    if trimmed.is_empty() {
        return invalid("must not be empty");
    }
    if trimmed.len() > MAX_EMAIL_LEN {
        return invalid("must be at most 254 characters");
    }
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return invalid("is not an e-mail address (no '@')");
    };
    if !local_part_is_valid(local) {
        return invalid("is not an e-mail address (invalid part before '@')");
    }
    if !domain_is_valid(domain) {
        return invalid("is not an e-mail address (invalid domain)");
    }
    Ok(trimmed.to_string())
}

fn local_part_is_valid(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~.";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
}

fn domain_is_valid(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Ada  ").unwrap(), "Ada");
        assert_eq!(name("name", &"é".repeat(100)).unwrap().chars().count(), 100);
        for bad in ["", "   ", "a\u{0}b"] {
            assert_eq!(name("name", bad).unwrap_err().status(), 400, "{bad:?}");
        }
        let err = name("name", &"x".repeat(101)).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "name");
    }

    #[test]
    fn ordinary_email_addresses_are_accepted() {
        for good in [
            "ada@example.org",
            "a.b+tag@sub.example.co.uk",
            " x_y@host-1.io ",
        ] {
            assert!(email("email", good).is_ok(), "{good}");
        }
        assert_eq!(
            email("email", " ada@example.org ").unwrap(),
            "ada@example.org"
        );
    }

    #[test]
    fn malformed_email_addresses_are_refused() {
        let long = format!("{}@example.org", "a".repeat(250));
        for bad in [
            "",
            "ada",
            "@example.org",
            "ada@",
            "ada@localhost",
            "a da@example.org",
            ".ada@example.org",
            "a..da@example.org",
            "ada@-x.org",
            "ada@x..org",
            "ada@exa mple.org",
            "\"ada\"@example.org",
            &long,
        ] {
            assert_eq!(email("email", bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }
}
