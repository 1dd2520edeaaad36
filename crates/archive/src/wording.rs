//! How names, sizes and counts appear in messages.

use std::fmt::Write;

/// The longest entry name a message shows; longer names are cut with `…`.
const NAME_SHOWN: usize = 100;

/// `name` in quotes, control characters escaped and long names cut, so a
/// hostile name can neither break a log line nor flood it.
pub(crate) fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(NAME_SHOWN) + 2);
    out.push('\'');
    for (shown, c) in name.chars().enumerate() {
        if shown == NAME_SHOWN {
            out.push('…');
            break;
        }
        if c.is_control() {
            match c {
                '\0' => out.push_str("\\0"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                _ => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `bytes` for people: `512 bytes`, `1.5 KiB`, `500 MiB`, `2.1 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, scale) in UNITS {
        if bytes >= scale {
            return if bytes.is_multiple_of(scale) {
                format!("{} {unit}", bytes / scale)
            } else {
                format!("{:.1} {unit}", bytes as f64 / scale as f64)
            };
        }
    }
    if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

/// `n` with thousands separators: `10,001`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `1 entry`, `2 entries`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", count(n as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_names_cut() {
        assert_eq!(quoted("a\0b\u{1}c\n"), "'a\\0b\\u{1}c\\n'");
        let long = "x".repeat(150);
        assert_eq!(quoted(&long), format!("'{}…'", "x".repeat(100)));
        assert_eq!(quoted(&"y".repeat(100)), format!("'{}'", "y".repeat(100)));
    }

    #[test]
    fn sizes_read_in_the_largest_whole_unit() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(500 << 20), "500 MiB");
        assert_eq!(size(3 << 30), "3 GiB");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(10_001), "10,001");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(plural(1, "entry", "entries"), "1 entry");
        assert_eq!(plural(3, "entry", "entries"), "3 entries");
    }
}
