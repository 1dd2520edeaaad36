//! Quoting what a client sent in a refusal, bounded.

/// At most `max_chars` characters of `text`, with `…` when it was cut.
///
/// A refusal may name the value it refused so the client can find it, but
/// never echoes a long one whole: answers and logs stay small, and a value
/// that is a secret sent in the wrong field is not repeated back.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut chars = text.char_indices();
    match chars.nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_quoted_whole() {
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("", 3), "");
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary_and_marked() {
        assert_eq!(excerpt("abcd", 3), "abc…");
        assert_eq!(excerpt("ääää", 2), "ää…");
    }
}
