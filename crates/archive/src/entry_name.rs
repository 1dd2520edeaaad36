//! Entry names that are safe to unpack: relative, inside the target folder,
//! spelled with `/` and free of control characters.

use crate::wording::quoted;

/// What is wrong with an entry's name, if anything, as a message.
///
/// `raw` is the name as stored (checked for control bytes before any code
/// page decoding can hide them), `name` the decoded name, `number` the
/// entry's place in the central directory (1-based) for names that cannot be
/// shown.
pub(crate) fn problem(name: &str, raw: &[u8], number: usize) -> Option<String> {
    if raw.is_empty() {
        return Some(format!("entry #{number} has an empty name"));
    }
    let q = quoted(name);
    if raw.iter().any(|&b| b < 0x20 || b == 0x7f) || name.chars().any(char::is_control) {
        return Some(format!(
            "entry {q} has a NUL or control character in its name"
        ));
    }
    if name.starts_with('/') {
        return Some(format!("entry {q} has an absolute path"));
    }
    if let [letter, b':', ..] = name.as_bytes() {
        if letter.is_ascii_alphabetic() {
            return Some(format!("entry {q} starts with a drive letter"));
        }
    }
    if name.contains('\\') {
        return Some(format!(
            "entry {q} has a backslash in its name; folders are separated by '/'"
        ));
    }
    if name.split('/').any(|part| part == "..") {
        return Some(format!("entry {q} has a '..' path component"));
    }
    None
}

/// The path an entry unpacks to: its components without `.` and empty ones,
/// joined by `/` (`./src//program.py` → `src/program.py`). Only meaningful
/// for names without a [`problem`].
pub(crate) fn normalized(name: &str) -> String {
    name.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// `normalized` as a relative path of plain components, or `None` if it has
/// anything else (checked again here so that extraction does not depend on
/// validation having run).
#[cfg(feature = "extract")]
pub(crate) fn relative_path(normalized: &str) -> Option<std::path::PathBuf> {
    use std::path::{Component, Path};
    let path = Path::new(normalized);
    let plain = !normalized.is_empty()
        && !normalized.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) -> Option<String> {
        problem(name, name.as_bytes(), 1)
    }

    #[test]
    fn plain_relative_names_pass() {
        for name in [
            "a",
            "src/program.py",
            "src/",
            "./src/x",
            "a b/c-d_e.txt",
            "ä/ö",
        ] {
            assert_eq!(check(name), None, "{name}");
        }
    }

    #[test]
    fn every_escape_gets_its_own_reason() {
        assert_eq!(
            check("../x").unwrap(),
            "entry '../x' has a '..' path component"
        );
        assert_eq!(
            check("a/../../x").unwrap(),
            "entry 'a/../../x' has a '..' path component"
        );
        assert_eq!(
            check("/etc/x").unwrap(),
            "entry '/etc/x' has an absolute path"
        );
        assert_eq!(
            check("C:\\x").unwrap(),
            "entry 'C:\\x' starts with a drive letter"
        );
        assert_eq!(
            check("c:x").unwrap(),
            "entry 'c:x' starts with a drive letter"
        );
        assert_eq!(
            check("a\\b").unwrap(),
            "entry 'a\\b' has a backslash in its name; folders are separated by '/'"
        );
        assert_eq!(
            check("a\0b").unwrap(),
            "entry 'a\\0b' has a NUL or control character in its name"
        );
        assert_eq!(problem("", b"", 4).unwrap(), "entry #4 has an empty name");
    }

    #[test]
    fn a_control_byte_is_caught_in_the_raw_name_too() {
        assert!(problem("a☺b", b"a\x01b", 1).is_some());
    }

    #[test]
    fn names_normalize_to_their_plain_components() {
        assert_eq!(normalized("./src//program.py"), "src/program.py");
        assert_eq!(normalized("src/"), "src");
        assert_eq!(normalized("./"), "");
    }

    #[cfg(feature = "extract")]
    #[test]
    fn only_plain_relative_paths_are_paths() {
        assert!(relative_path("src/program.py").is_some());
        for bad in ["", "../x", "/x", "a\\b", "a/../b"] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }
}
