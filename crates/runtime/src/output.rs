//! How the bytes a process writes become lines, and how a line of a
//! program's (or pip's) output becomes a log line or an interim result.
//!
//! Severities of a program's lines:
//!
//! - loguru's default format (`2024-01-01 12:00:00.000 | INFO     | mod:fn:12 - text`,
//!   on either stream): its level, the message without time and level
//!   (`mod:fn:12 - text`); TRACE and DEBUG are DEBUG, SUCCESS is NOTICE,
//!   WARNING is WARNING, ERROR and CRITICAL are ERROR, other levels INFO.
//! - Python `logging`'s default format (`WARNING:name:text`): its level.
//! - A traceback (`Traceback (most recent call last):`, and the lines that
//!   chain one exception to another) is ERROR up to and including its
//!   exception line.
//! - Lines that continue a record (indented, blank, or loguru's `>` frame
//!   marker) have the severity of the record they continue.
//! - Any other line is INFO, on stdout **and on stderr**: loguru, `logging`,
//!   `warnings` and progress bars all write ordinary progress to stderr, so
//!   "written to stderr" says nothing about severity; what is an error shows
//!   as a traceback or as the execution's outcome.
//! - `PlanQK:Job:InterimResult: {json}` is an interim result, not a log line.

use serde_json::Value;

use crate::Severity;

/// The prefix of a line that announces an interim result.
pub(crate) const INTERIM_PREFIX: &str = "PlanQK:Job:InterimResult:";

/// Which of a process's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Cuts a byte stream into lines of at most `max` bytes: `\n` ends a line,
/// a trailing `\r` is dropped, and of a line that a `\r` overwrote (a
/// progress bar) only the last non-empty part is kept. A longer line is
/// cut at `max` bytes and the rest up to its end is dropped.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buffer: Vec<u8>,
    max: usize,
    discarding: bool,
}

/// One line out of a [`LineSplitter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitLine {
    /// The line's bytes, without its line break.
    pub bytes: Vec<u8>,
    /// Whether the line was longer than the maximum and was cut.
    pub truncated: bool,
}

impl LineSplitter {
    /// A splitter for lines of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        LineSplitter {
            buffer: Vec::new(),
            max,
            discarding: false,
        }
    }

    /// Takes the next bytes of the stream; calls `line` for every line they end.
    pub fn push(&mut self, mut bytes: &[u8], line: &mut dyn FnMut(SplitLine)) {
        while !bytes.is_empty() {
            let end = bytes.iter().position(|&b| b == b'\n');
            let (part, rest, ended) = match end {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            if !self.discarding {
                let room = self.max - self.buffer.len();
                if part.len() > room {
                    self.buffer.extend_from_slice(&part[..room]);
                    line(self.take(true));
                    self.discarding = true;
                } else {
                    self.buffer.extend_from_slice(part);
                }
            }
            if ended {
                if self.discarding {
                    self.discarding = false;
                } else {
                    line(self.take(false));
                }
            }
            bytes = rest;
        }
    }

    /// Ends the stream: a last line without a line break is a line too.
    pub fn finish(&mut self, line: &mut dyn FnMut(SplitLine)) {
        if !self.discarding && !self.buffer.is_empty() {
            line(self.take(false));
        }
        self.discarding = false;
    }

    fn take(&mut self, truncated: bool) -> SplitLine {
        let mut bytes = std::mem::take(&mut self.buffer);
        if bytes.contains(&b'\r') {
            bytes = bytes
                .split(|&b| b == b'\r')
                .rfind(|part| !part.is_empty())
                .unwrap_or_default()
                .to_vec();
        }
        SplitLine { bytes, truncated }
    }
}

/// What a line of a program's output is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ProgramLine {
    /// A log line.
    Log(Severity, String),
    /// An interim result.
    Interim(Value),
}

/// The record a line may continue, per stream.
#[derive(Debug, Clone, Copy, Default)]
struct Record {
    severity: Option<Severity>,
    traceback: bool,
}

/// Gives a program's lines their severities; remembers, per stream, the
/// record that following lines may continue.
#[derive(Debug, Default)]
pub(crate) struct Classifier {
    stdout: Record,
    stderr: Record,
}

impl Classifier {
    /// What `line`, written to `stream`, is.
    pub fn classify(&mut self, stream: Stream, line: &str) -> ProgramLine {
        let record = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        if let Some(json) = line.trim_start().strip_prefix(INTERIM_PREFIX) {
            *record = Record::default();
            return match serde_json::from_str::<Value>(json.trim()) {
                Ok(value) => ProgramLine::Interim(value),
                Err(_) => ProgramLine::Log(
                    Severity::Warning,
                    format!("an interim result that is not JSON: {line}"),
                ),
            };
        }
        if let Some((severity, message)) = loguru_record(line) {
            *record = Record {
                severity: Some(severity),
                traceback: false,
            };
            return ProgramLine::Log(severity, message.to_owned());
        }
        if starts_traceback(line) {
            *record = Record {
                severity: Some(Severity::Error),
                traceback: true,
            };
            return ProgramLine::Log(Severity::Error, line.to_owned());
        }
        if let Some(severity) = record.severity {
            if continues_record(line) {
                return ProgramLine::Log(severity, line.to_owned());
            }
            if record.traceback {
                // The exception line ends the traceback.
                *record = Record::default();
                return ProgramLine::Log(Severity::Error, line.to_owned());
            }
        }
        *record = Record::default();
        if let Some(severity) = logging_record(line) {
            return ProgramLine::Log(severity, line.to_owned());
        }
        ProgramLine::Log(Severity::Info, line.to_owned())
    }
}

/// The severity and message of a line in loguru's default format.
fn loguru_record(line: &str) -> Option<(Severity, &str)> {
    let (time, rest) = line.split_once(" | ")?;
    if !is_loguru_time(time) {
        return None;
    }
    let (level, message) = match rest.split_once(" | ") {
        Some((level, message)) => (level, message),
        None => (rest.trim_end_matches(" |"), ""),
    };
    Some((severity_of_level(level.trim())?, message))
}

/// `YYYY-MM-DD HH:MM:SS.mmm`, loguru's default time format.
fn is_loguru_time(time: &str) -> bool {
    let pattern = b"dddd-dd-dd dd:dd:dd.ddd";
    time.len() == pattern.len()
        && time.bytes().zip(pattern.iter()).all(|(c, &p)| match p {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

/// A level name's severity (loguru's and `logging`'s names).
fn severity_of_level(level: &str) -> Option<Severity> {
    if level.is_empty()
        || !level
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    Some(match level {
        "TRACE" | "DEBUG" => Severity::Debug,
        "SUCCESS" | "NOTICE" => Severity::Notice,
        "INFO" => Severity::Info,
        "WARNING" | "WARN" => Severity::Warning,
        "ERROR" | "CRITICAL" | "FATAL" => Severity::Error,
        _ => Severity::Info,
    })
}

/// The severity of a line in `logging`'s default format (`LEVEL:name:text`).
fn logging_record(line: &str) -> Option<Severity> {
    let (level, rest) = line.split_once(':')?;
    if !rest.contains(':') {
        return None;
    }
    match level {
        "DEBUG" => Some(Severity::Debug),
        "INFO" => Some(Severity::Info),
        "WARNING" => Some(Severity::Warning),
        "ERROR" | "CRITICAL" => Some(Severity::Error),
        _ => None,
    }
}

fn starts_traceback(line: &str) -> bool {
    line.starts_with("Traceback (most recent call last):")
        || line.starts_with("During handling of the above exception, another exception occurred:")
        || line.starts_with("The above exception was the direct cause of the following exception:")
}

fn continues_record(line: &str) -> bool {
    line.is_empty() || line.starts_with([' ', '\t', '>', '│', '└'])
}

/// The severity of a line of pip's output.
#[cfg(feature = "python")]
pub(crate) fn pip_severity(line: &str) -> Severity {
    if line.starts_with("ERROR:") || line.starts_with("error:") {
        Severity::Error
    } else if line.starts_with("WARNING:") || line.starts_with("DEPRECATION:") {
        Severity::Warning
    } else if line.starts_with("[notice]") {
        Severity::Notice
    } else {
        Severity::Info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<(String, bool)> {
        let mut splitter = LineSplitter::new(max);
        let mut lines = Vec::new();
        let mut take =
            |l: SplitLine| lines.push((String::from_utf8(l.bytes).unwrap(), l.truncated));
        for chunk in chunks {
            splitter.push(chunk, &mut take);
        }
        splitter.finish(&mut take);
        lines
    }

    fn classify_all(lines: &[(Stream, &str)]) -> Vec<ProgramLine> {
        let mut classifier = Classifier::default();
        lines
            .iter()
            .map(|(s, l)| classifier.classify(*s, l))
            .collect()
    }

    fn log(severity: Severity, message: &str) -> ProgramLine {
        ProgramLine::Log(severity, message.to_owned())
    }

    #[test]
    fn lines_are_joined_across_chunks_and_split_at_newlines() {
        assert_eq!(
            split(100, &[b"one\ntw", b"o\r\n", b"\nthree"]),
            [
                ("one".into(), false),
                ("two".into(), false),
                ("".into(), false),
                ("three".into(), false)
            ]
        );
    }

    #[test]
    fn a_line_overwritten_by_carriage_returns_keeps_its_last_state() {
        assert_eq!(
            split(100, &[b" 10%\r 50%\r100%\r\n"]),
            [("100%".into(), false)]
        );
    }

    #[test]
    fn a_line_over_the_maximum_is_cut_and_its_rest_dropped() {
        assert_eq!(
            split(4, &[b"abcdefgh", b"ij\nxy\n"]),
            [("abcd".into(), true), ("xy".into(), false)]
        );
    }

    #[test]
    fn loguru_levels_become_severities_and_time_and_level_are_dropped() {
        let line = |level: &str| {
            format!("2024-01-01 12:00:00.000 | {level:<8} | src.program:run:12 - hello")
        };
        let lines: Vec<String> = [
            "TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL",
        ]
        .iter()
        .map(|l| line(l))
        .collect();
        let input: Vec<(Stream, &str)> =
            lines.iter().map(|l| (Stream::Stderr, l.as_str())).collect();
        let message = "src.program:run:12 - hello";
        assert_eq!(
            classify_all(&input),
            [
                log(Severity::Debug, message),
                log(Severity::Debug, message),
                log(Severity::Info, message),
                log(Severity::Notice, message),
                log(Severity::Warning, message),
                log(Severity::Error, message),
                log(Severity::Error, message),
            ]
        );
    }

    #[test]
    fn plain_lines_are_info_on_both_streams() {
        assert_eq!(
            classify_all(&[(Stream::Stdout, "hello"), (Stream::Stderr, "progress 3/4")]),
            [
                log(Severity::Info, "hello"),
                log(Severity::Info, "progress 3/4")
            ]
        );
    }

    #[test]
    fn a_traceback_is_error_up_to_its_exception_line() {
        assert_eq!(
            classify_all(&[
                (Stream::Stderr, "Traceback (most recent call last):"),
                (Stream::Stderr, "  File \"x.py\", line 1, in <module>"),
                (Stream::Stderr, "ValueError: boom"),
                (Stream::Stderr, "next"),
            ]),
            [
                log(Severity::Error, "Traceback (most recent call last):"),
                log(Severity::Error, "  File \"x.py\", line 1, in <module>"),
                log(Severity::Error, "ValueError: boom"),
                log(Severity::Info, "next"),
            ]
        );
    }

    #[test]
    fn indented_lines_continue_the_record_on_their_own_stream_only() {
        assert_eq!(
            classify_all(&[
                (
                    Stream::Stderr,
                    "2024-01-01 12:00:00.000 | WARNING  | m:f:1 - two lines"
                ),
                (Stream::Stdout, "  printed"),
                (Stream::Stderr, "  second"),
                (Stream::Stderr, "plain"),
            ]),
            [
                log(Severity::Warning, "m:f:1 - two lines"),
                log(Severity::Info, "  printed"),
                log(Severity::Warning, "  second"),
                log(Severity::Info, "plain"),
            ]
        );
    }

    #[test]
    fn logging_default_format_gives_its_level() {
        assert_eq!(
            classify_all(&[
                (Stream::Stderr, "WARNING:root:careful"),
                (Stream::Stderr, "INFO: x")
            ]),
            [
                log(Severity::Warning, "WARNING:root:careful"),
                log(Severity::Info, "INFO: x")
            ]
        );
    }

    #[test]
    fn an_interim_result_line_is_not_a_log_line() {
        assert_eq!(
            classify_all(&[
                (Stream::Stdout, "PlanQK:Job:InterimResult: {\"sum\": 25.2}"),
                (Stream::Stdout, "PlanQK:Job:InterimResult: {oops"),
            ]),
            [
                ProgramLine::Interim(serde_json::json!({"sum": 25.2})),
                log(
                    Severity::Warning,
                    "an interim result that is not JSON: PlanQK:Job:InterimResult: {oops"
                ),
            ]
        );
    }

    #[test]
    fn a_timestamp_without_a_level_is_a_plain_line() {
        assert_eq!(
            classify_all(&[(Stream::Stdout, "2024-01-01 12:00:00.000 | not a level! | x")]),
            [log(
                Severity::Info,
                "2024-01-01 12:00:00.000 | not a level! | x"
            )]
        );
    }

    #[test]
    #[cfg(feature = "python")]
    fn pip_prefixes_give_severities() {
        assert_eq!(
            pip_severity("ERROR: No matching distribution found for x"),
            Severity::Error
        );
        assert_eq!(pip_severity("WARNING: Retrying"), Severity::Warning);
        assert_eq!(pip_severity("Collecting loguru==0.7.3"), Severity::Info);
    }
}
