//! The result of checking an archive: the contract's
//! `validationResult: {state, summary, messages}`.

use serde::{Deserialize, Serialize, Serializer};

use crate::wording;

/// The most messages one result carries; the rest are counted in a last
/// message, so a hostile archive of 10,000 bad entries cannot make the build
/// record huge.
pub const MAX_MESSAGES: usize = 100;

/// The verdict on an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Nothing to say: the build may go on.
    Success,
    /// The build may go on; the messages say what will not be used as the
    /// provider may expect.
    Warning,
    /// At least one rule is broken: the build fails.
    Error,
}

/// How much a message weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A broken rule.
    Error,
    /// Something worth knowing that does not stop the build.
    Warning,
}

/// One finding about the archive.
///
/// Serialized as its text alone (`"messages": ["…", "…"]`), the form
/// PlanQK-style clients show; the severity and entry are for the build log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Broken rule or warning.
    pub severity: Severity,
    /// The entry the message is about, as named in the archive, if it is
    /// about one.
    pub entry: Option<String>,
    /// The sentence shown to the provider.
    pub text: String,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// The verdict, a one-line summary and every message, errors first.
///
/// Only serialized: a stored result is read back as the contract's plain
/// `{state, summary, messages: [string]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// `SUCCESS`, `WARNING` or `ERROR`.
    pub state: State,
    /// One line for people: the verdict and how many messages there are.
    pub summary: String,
    /// Every broken rule, then every warning (at most [`MAX_MESSAGES`]).
    pub messages: Vec<Message>,
}

impl Validation {
    /// Whether the archive is refused (state `ERROR`).
    pub fn is_refused(&self) -> bool {
        self.state == State::Error
    }

    /// The messages' texts, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.messages.iter().map(|m| m.text.as_str()).collect()
    }
}

/// The messages found so far.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    errors: Vec<Message>,
    warnings: Vec<Message>,
    error_count: usize,
    warning_count: usize,
}

impl Findings {
    /// Notes a broken rule, about `entry` if given.
    pub(crate) fn error(&mut self, entry: Option<&str>, text: impl Into<String>) {
        self.error_count += 1;
        if self.errors.len() < MAX_MESSAGES {
            self.errors
                .push(message(Severity::Error, entry, text.into()));
        }
    }

    /// Notes a warning, about `entry` if given.
    pub(crate) fn warning(&mut self, entry: Option<&str>, text: impl Into<String>) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_MESSAGES {
            self.warnings
                .push(message(Severity::Warning, entry, text.into()));
        }
    }

    /// The result; `entries` and `unpacked` describe an accepted archive.
    pub(crate) fn finish(self, entries: usize, unpacked: u64) -> Validation {
        let total = self.error_count + self.warning_count;
        let mut messages = self.errors;
        messages.extend(self.warnings);
        messages.truncate(MAX_MESSAGES);
        if messages.len() < total {
            let more = total - messages.len();
            messages.push(Message {
                severity: if self.error_count > 0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                entry: None,
                text: format!(
                    "… and {}",
                    wording::plural(more, "more message", "more messages")
                ),
            });
        }
        let warnings = wording::plural(self.warning_count, "warning", "warnings");
        let (state, summary) = if self.error_count > 0 {
            let mut summary = format!(
                "the archive is refused: {}",
                wording::plural(self.error_count, "error", "errors")
            );
            if self.warning_count > 0 {
                summary.push_str(&format!(", {warnings}"));
            }
            (State::Error, summary)
        } else {
            let contents = format!(
                "{}, {} unpacked",
                wording::plural(entries, "entry", "entries"),
                wording::size(unpacked)
            );
            if self.warning_count > 0 {
                (
                    State::Warning,
                    format!("the archive is valid, with {warnings}: {contents}"),
                )
            } else {
                (State::Success, format!("the archive is valid: {contents}"))
            }
        };
        Validation {
            state,
            summary,
            messages,
        }
    }
}

fn message(severity: Severity, entry: Option<&str>, text: String) -> Message {
    Message {
        severity,
        entry: entry.map(str::to_string),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_serialize_as_plain_strings_and_states_in_capitals() {
        let mut findings = Findings::default();
        findings.warning(None, "w");
        findings.error(Some("x"), "e");
        let json = serde_json::to_value(findings.finish(2, 10)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "state": "ERROR",
                "summary": "the archive is refused: 1 error, 1 warning",
                "messages": ["e", "w"],
            })
        );
    }

    #[test]
    fn a_clean_archive_is_summed_up_by_its_entries_and_size() {
        let v = Findings::default().finish(3, 2048);
        assert_eq!(v.state, State::Success);
        assert_eq!(v.summary, "the archive is valid: 3 entries, 2 KiB unpacked");
        let mut findings = Findings::default();
        findings.warning(None, "w");
        let v = findings.finish(1, 5);
        assert_eq!(v.state, State::Warning);
        assert_eq!(
            v.summary,
            "the archive is valid, with 1 warning: 1 entry, 5 bytes unpacked"
        );
    }

    #[test]
    fn messages_past_the_cap_are_counted_not_listed() {
        let mut findings = Findings::default();
        for i in 0..MAX_MESSAGES + 5 {
            findings.error(None, format!("e{i}"));
        }
        let v = findings.finish(0, 0);
        assert_eq!(v.messages.len(), MAX_MESSAGES + 1);
        assert_eq!(v.messages[MAX_MESSAGES].text, "… and 5 more messages");
        assert_eq!(v.summary, "the archive is refused: 105 errors");
    }
}
