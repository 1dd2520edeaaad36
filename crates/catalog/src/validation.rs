//! Collecting every invalid field of a request before answering.

use qmarket_core::{Error, FieldError, Result};

/// The invalid fields found so far.
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<FieldError>);

impl Violations {
    /// Notes that `field` is invalid because of `message`.
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Checks that `text` has 1 to `max` characters (after trimming) and
    /// returns it trimmed.
    pub(crate) fn text(&mut self, field: &str, text: &str, max: usize) -> String {
        let trimmed = text.trim();
        let count = trimmed.chars().count();
        if count == 0 {
            self.add(field, "must not be empty");
        } else if count > max {
            self.add(
                field,
                format!("has {count} characters; at most {max} are allowed"),
            );
        } else if trimmed.chars().any(char::is_control) {
            self.add(field, "must not contain control characters");
        }
        trimmed.to_string()
    }

    /// `Ok` when nothing was found, else a 400 listing every field.
    pub(crate) fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let detail = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Error::BadRequest {
            detail,
            errors: self.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    #[test]
    fn every_violation_is_listed_in_the_error() {
        let mut v = Violations::default();
        v.text("name", "", 10);
        v.text("unit", &"x".repeat(11), 10);
        let err = v.finish().unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.field_errors().len(), 2);
        assert!(err.to_string().contains("name: must not be empty"), "{err}");
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        let mut v = Violations::default();
        assert_eq!(v.text("name", "  äöü  ", 3), "äöü");
        assert!(v.finish().is_ok());
    }
}
