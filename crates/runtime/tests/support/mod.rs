//! What the runtime tests share: events that record what an execution
//! reported.
#![allow(dead_code)]

use qmarket_runtime::{Events, LogLine, Severity};
use serde_json::Value;

/// A callback on each log line.
pub type OnLine = Box<dyn FnMut(&LogLine)>;

/// What an execution reported while it ran.
#[derive(Default)]
pub struct Recorder {
    /// The log lines, in order.
    pub lines: Vec<LogLine>,
    /// The interim results, in order.
    pub interims: Vec<Value>,
    /// Called with every log line (may create files the program waits for).
    pub on_line: Option<OnLine>,
    /// Cancel once a line containing this was logged.
    pub cancel_on: Option<&'static str>,
    /// Whether the execution is cancelled.
    pub cancelled: bool,
}

impl Events for Recorder {
    fn log(&mut self, line: LogLine) {
        if let Some(on_line) = &mut self.on_line {
            on_line(&line);
        }
        if self
            .cancel_on
            .is_some_and(|text| line.message.contains(text))
        {
            self.cancelled = true;
        }
        self.lines.push(line);
    }
    fn interim(&mut self, result: Value) {
        self.interims.push(result);
    }
    fn cancelled(&self) -> bool {
        self.cancelled
    }
}

impl Recorder {
    /// The severity of the first line containing `text`.
    pub fn severity_of(&self, text: &str) -> Option<Severity> {
        self.lines
            .iter()
            .find(|l| l.message.contains(text))
            .map(|l| l.severity)
    }
    /// Every line with its severity, one per line.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("{:?} {}\n", l.severity, l.message))
            .collect()
    }
}
