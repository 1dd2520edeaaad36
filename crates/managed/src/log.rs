//! The logs of builds and executions: lines appended by workers as they
//! come, read back oldest first.

use qmarket_core::{Result, Timestamp};
use qmarket_store::{Index, KeyValue};
use serde::{Deserialize, Serialize};

/// The most lines a log keeps; later ones are dropped (with one line saying
/// so), so a chatty program cannot fill the store.
pub const MAX_LINES: u64 = 5_000;
/// The longest line kept; longer ones are cut.
pub const MAX_LINE_CHARS: usize = 1_000;

pub use qmarket_core::Severity;

/// One line: the contract's `{message, severity, timestamp}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The text.
    pub message: String,
    /// How severe.
    pub severity: Severity,
    /// When it was written.
    pub timestamp: Timestamp,
}

/// A log under a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    index: Index,
}

impl Log {
    /// The log kept under `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Log {
            index: Index::new(prefix),
        }
    }

    /// Appends `lines` (one increment and one write for all of them);
    /// returns how many were kept.
    pub fn append(&self, kv: &dyn KeyValue, lines: &[LogEntry]) -> Result<u64> {
        if lines.is_empty() {
            return Ok(0);
        }
        let seqs = self.index.reserve_many(kv, lines.len() as u64)?;
        let mut entries = Vec::with_capacity(lines.len());
        for (seq, line) in seqs.zip(lines) {
            if seq > MAX_LINES + 1 {
                break;
            }
            let line = if seq == MAX_LINES + 1 {
                LogEntry {
                    message: format!("… the log is cut here: at most {MAX_LINES} lines are kept"),
                    severity: Severity::Warning,
                    timestamp: line.timestamp,
                }
            } else {
                let mut line = line.clone();
                if line.message.chars().count() > MAX_LINE_CHARS {
                    line.message = line
                        .message
                        .chars()
                        .take(MAX_LINE_CHARS)
                        .collect::<String>()
                        + "…";
                }
                line
            };
            let bytes = serde_json::to_vec(&line).map_err(|e| {
                qmarket_core::Error::Internal(format!("cannot encode a log line: {e}"))
            })?;
            entries.push((self.index.slot_key(seq), bytes));
        }
        let kept = entries.len() as u64;
        kv.set_many(&entries)?;
        Ok(kept)
    }

    /// Every line, oldest first (reads only).
    pub fn lines(&self, kv: &dyn KeyValue) -> Result<Vec<LogEntry>> {
        let last = self.index.last_seq(kv)?.min(MAX_LINES + 1);
        let mut lines = Vec::new();
        let mut from = 1;
        while from <= last {
            let to = (from + 999).min(last);
            for (_, value) in self.index.slots(kv, from..=to)? {
                if let Some(line) = value.and_then(|b| serde_json::from_slice(&b).ok()) {
                    lines.push(line);
                }
            }
            from = to + 1;
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_store::MemoryStore;

    fn line(message: &str) -> LogEntry {
        LogEntry {
            message: message.into(),
            severity: Severity::Info,
            timestamp: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn lines_come_back_oldest_first() {
        let kv = MemoryStore::new();
        let log = Log::new("exe/x/log");
        log.append(&kv, &[line("a"), line("b")]).unwrap();
        log.append(&kv, &[line("c")]).unwrap();
        let messages: Vec<String> = log
            .lines(&kv)
            .unwrap()
            .into_iter()
            .map(|l| l.message)
            .collect();
        assert_eq!(messages, ["a", "b", "c"]);
    }

    #[test]
    fn a_log_keeps_at_most_its_limit_and_says_where_it_was_cut() {
        let kv = MemoryStore::new();
        let log = Log::new("exe/x/log");
        let many: Vec<LogEntry> = (0..MAX_LINES + 50).map(|i| line(&i.to_string())).collect();
        log.append(&kv, &many).unwrap();
        let lines = log.lines(&kv).unwrap();
        assert_eq!(lines.len() as u64, MAX_LINES + 1);
        assert!(lines.last().unwrap().message.contains("cut here"));
        let long = line(&"x".repeat(5_000));
        Log::new("exe/y/log").append(&kv, &[long]).unwrap();
        assert_eq!(
            Log::new("exe/y/log").lines(&kv).unwrap()[0]
                .message
                .chars()
                .count(),
            MAX_LINE_CHARS + 1
        );
    }
}
