//! The guest's stderr: a bounded in-memory pipe whose bytes the runtime's
//! loop turns into log lines (and interim results) while the guest runs.
//!
//! The guest writes through [`LogStream`] (wasmtime-wasi's [`StdoutStream`]);
//! the loop that drives the execution waits on [`LogStream::written`] and
//! takes the bytes with [`LogStream::take`], which frees room for the guest
//! to write more. A guest that writes faster than the loop forwards waits
//! (its `check-write` permits nothing until there is room), so a flood of
//! stderr cannot grow the host's memory.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::AsyncWrite;
use tokio::sync::Notify;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use crate::{LogLine, Severity};

/// Bytes written but not yet taken by the loop before the guest must wait.
const BACKLOG_BYTES: usize = 64 << 10;

/// Longer lines are cut into pieces of this many bytes.
pub(crate) const MAX_LINE_BYTES: usize = 16 << 10;

/// The prefix of a stderr line that announces an interim result (the same
/// line PlanQK's Python template prints on its log).
pub const INTERIM_RESULT_PREFIX: &str = "PlanQK:Job:InterimResult:";

/// The level words a line may start with (followed by `:`), and the
/// severity each gives.
const LEVEL_WORDS: [(&str, Severity); 6] = [
    ("ERROR", Severity::Error),
    ("WARNING", Severity::Warning),
    ("WARN", Severity::Warning),
    ("NOTICE", Severity::Notice),
    ("INFO", Severity::Info),
    ("DEBUG", Severity::Debug),
];

#[derive(Default)]
struct Backlog {
    bytes: Vec<u8>,
    /// A writer through [`AsyncWrite`] waiting for room.
    waiting_writer: Option<Waker>,
}

struct Shared {
    backlog: Mutex<Backlog>,
    /// Signalled when bytes were written.
    written: Notify,
    /// Signalled when bytes were taken.
    room: Notify,
}

/// The guest's stderr, shared by every handle the guest opens on it.
#[derive(Clone)]
pub(crate) struct LogStream(Arc<Shared>);

impl LogStream {
    pub(crate) fn new() -> Self {
        LogStream(Arc::new(Shared {
            backlog: Mutex::new(Backlog::default()),
            written: Notify::new(),
            room: Notify::new(),
        }))
    }

    fn backlog(&self) -> MutexGuard<'_, Backlog> {
        // A panic while holding the lock leaves plain bytes behind: still usable.
        self.0
            .backlog
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Completes when bytes were written since the last [`Self::take`].
    pub(crate) async fn written(&self) {
        self.0.written.notified().await
    }

    /// The bytes written so far and not taken yet; frees their room.
    pub(crate) fn take(&self) -> Vec<u8> {
        let (bytes, writer) = {
            let mut backlog = self.backlog();
            (
                std::mem::take(&mut backlog.bytes),
                backlog.waiting_writer.take(),
            )
        };
        if !bytes.is_empty() {
            self.0.room.notify_one();
            if let Some(writer) = writer {
                writer.wake();
            }
        }
        bytes
    }

    fn room(&self) -> usize {
        BACKLOG_BYTES.saturating_sub(self.backlog().bytes.len())
    }

    fn append(&self, bytes: &[u8]) {
        self.backlog().bytes.extend_from_slice(bytes);
        self.0.written.notify_one();
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogStream {
    async fn ready(&mut self) {
        while self.room() == 0 {
            self.0.room.notified().await;
        }
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogStream {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        if bytes.len() > self.room() {
            return Err(StreamError::trap("stderr written beyond its check-write"));
        }
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        // Bytes are with the host once written; the loop forwards them.
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(self.room())
    }
}

impl AsyncWrite for LogStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut backlog = self.backlog();
        let room = BACKLOG_BYTES.saturating_sub(backlog.bytes.len());
        if room == 0 {
            backlog.waiting_writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        backlog.bytes.extend_from_slice(&buf[..n]);
        drop(backlog);
        self.0.written.notify_one();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What one line of stderr is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    /// A log line.
    Log(LogLine),
    /// An interim result.
    Interim(Value),
}

/// Cuts stderr's bytes into lines as they come.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// The lines that `bytes` completes, written at `at`.
    pub(crate) fn push(&mut self, bytes: &[u8], at: SystemTime) -> Vec<Line> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                lines.push(line(&std::mem::take(&mut self.partial), at));
            } else {
                self.partial.push(byte);
                if self.partial.len() == MAX_LINE_BYTES {
                    lines.push(line(&std::mem::take(&mut self.partial), at));
                }
            }
        }
        lines
    }

    /// The unterminated last line, if any (the guest ended without a line break).
    pub(crate) fn finish(&mut self, at: SystemTime) -> Option<Line> {
        (!self.partial.is_empty()).then(|| line(&std::mem::take(&mut self.partial), at))
    }
}

/// One line of stderr, without its line break: an interim result when it
/// starts with [`INTERIM_RESULT_PREFIX`] and JSON follows, else a log line
/// whose severity is its leading level word (`ERROR:`, `WARNING:`, `WARN:`,
/// `NOTICE:`, `INFO:`, `DEBUG:`, upper case; the word, the colon and the
/// spaces after it are dropped from the message) or INFO.
pub(crate) fn line(bytes: &[u8], at: SystemTime) -> Line {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    if let Some(json) = text.strip_prefix(INTERIM_RESULT_PREFIX) {
        if let Ok(value) = serde_json::from_str(json) {
            return Line::Interim(value);
        }
    }
    let (severity, message) = LEVEL_WORDS
        .iter()
        .find_map(|(word, severity)| {
            let rest = text.strip_prefix(word)?.strip_prefix(':')?;
            Some((*severity, rest.trim_start()))
        })
        .unwrap_or((Severity::Info, text));
    Line::Log(LogLine {
        severity,
        message: message.to_string(),
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log(severity: Severity, message: &str, at: SystemTime) -> Line {
        Line::Log(LogLine {
            severity,
            message: message.to_string(),
            at,
        })
    }

    #[test]
    fn a_line_without_level_word_is_info() {
        let at = SystemTime::now();
        assert_eq!(line(b"hello", at), log(Severity::Info, "hello", at));
    }

    #[test]
    fn a_leading_level_word_gives_the_severity_and_leaves_the_message() {
        let at = SystemTime::now();
        assert_eq!(
            line(b"ERROR: it broke", at),
            log(Severity::Error, "it broke", at)
        );
        assert_eq!(
            line(b"WARNING:careful", at),
            log(Severity::Warning, "careful", at)
        );
        assert_eq!(
            line(b"WARN: careful", at),
            log(Severity::Warning, "careful", at)
        );
        assert_eq!(line(b"DEBUG: x=1", at), log(Severity::Debug, "x=1", at));
        assert_eq!(line(b"NOTICE: note", at), log(Severity::Notice, "note", at));
    }

    #[test]
    fn a_level_word_elsewhere_or_without_colon_is_part_of_the_message() {
        let at = SystemTime::now();
        assert_eq!(
            line(b"no ERROR: here", at),
            log(Severity::Info, "no ERROR: here", at)
        );
        assert_eq!(
            line(b"ERRORS happen", at),
            log(Severity::Info, "ERRORS happen", at)
        );
        assert_eq!(
            line(b"error: lower case", at),
            log(Severity::Info, "error: lower case", at)
        );
    }

    #[test]
    fn an_interim_result_line_is_its_json() {
        let at = SystemTime::now();
        assert_eq!(
            line(br#"PlanQK:Job:InterimResult: {"step": 1}"#, at),
            Line::Interim(json!({"step": 1}))
        );
        assert_eq!(
            line(b"PlanQK:Job:InterimResult: not json", at),
            log(Severity::Info, "PlanQK:Job:InterimResult: not json", at)
        );
    }

    #[test]
    fn lines_complete_across_writes_and_the_last_one_at_the_end() {
        let at = SystemTime::now();
        let mut splitter = LineSplitter::default();
        assert_eq!(
            splitter.push(b"one\ntw", at),
            [log(Severity::Info, "one", at)]
        );
        assert_eq!(
            splitter.push(b"o\r\nthree", at),
            [log(Severity::Info, "two", at)]
        );
        assert_eq!(splitter.finish(at), Some(log(Severity::Info, "three", at)));
        assert_eq!(splitter.finish(at), None);
    }

    #[test]
    fn an_overlong_line_is_cut_into_pieces() {
        let at = SystemTime::now();
        let mut splitter = LineSplitter::default();
        let lines = splitter.push(&vec![b'x'; MAX_LINE_BYTES * 2 + 3], at);
        assert_eq!(lines.len(), 2);
        assert_eq!(splitter.finish(at), Some(log(Severity::Info, "xxx", at)));
    }

    #[test]
    fn a_full_backlog_permits_no_write_until_taken() {
        let mut stream = LogStream::new();
        assert_eq!(stream.check_write().unwrap(), BACKLOG_BYTES);
        stream
            .write(Bytes::from(vec![b'a'; BACKLOG_BYTES]))
            .unwrap();
        assert_eq!(stream.check_write().unwrap(), 0);
        assert!(stream.write(Bytes::from_static(b"b")).is_err());
        assert_eq!(stream.take().len(), BACKLOG_BYTES);
        assert_eq!(stream.check_write().unwrap(), BACKLOG_BYTES);
    }

    #[test]
    fn the_async_writer_waits_for_room_and_resumes_when_taken() {
        use tokio::io::AsyncWriteExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let stream = LogStream::new();
            let mut writer = Pin::from(StdoutStream::async_stream(&stream));
            let whole = vec![b'a'; BACKLOG_BYTES + 10];
            let reader = stream.clone();
            let taken = tokio::spawn(async move {
                let mut taken = Vec::new();
                while taken.len() < BACKLOG_BYTES + 10 {
                    reader.written().await;
                    taken.extend(reader.take());
                }
                taken
            });
            writer.write_all(&whole).await.unwrap();
            assert_eq!(taken.await.unwrap(), whole);
        });
    }
}
