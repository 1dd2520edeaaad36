//! Where the host's log lines go ([`LogSink`]), and guest stdout and stderr,
//! forwarded line by line to that sink with the component id in front
//! (`[component] line`).

use bytes::Bytes;
use std::io::Write;
use std::sync::Arc;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The most a guest may write in one call.
const WRITE_BUDGET: usize = 64 * 1024;

/// Receives the host's log lines: guest stdout and stderr, the request log
/// and the host's own errors, one line at a time without its newline.
///
/// The process's stderr by default; an embedder (a test harness, say) may
/// capture the lines instead, to look at them or to route them elsewhere.
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// A sink that calls `receive` with every line, from any thread.
    pub fn new(receive: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Arc::new(receive))
    }

    /// The process's stderr, one write per line.
    pub fn stderr() -> Self {
        Self::new(|line| {
            let mut out = Vec::with_capacity(line.len() + 1);
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
            // Losing a log line is better than failing the request over it.
            let _ = std::io::stderr().lock().write_all(&out);
        })
    }

    /// Hands `line` (without a trailing newline) to the sink.
    pub fn line(&self, line: &str) {
        (self.0)(line)
    }
}

impl Default for LogSink {
    fn default() -> Self {
        Self::stderr()
    }
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSink")
    }
}

/// A stdout/stderr for one component.
#[derive(Clone)]
pub(crate) struct PrefixedOutput {
    prefix: Arc<str>,
    sink: LogSink,
}

impl PrefixedOutput {
    /// Output of `component` to the process's stderr.
    pub(crate) fn new(component: &str) -> Self {
        Self {
            prefix: Arc::from(format!("[{component}] ")),
            sink: LogSink::stderr(),
        }
    }

    /// The same output, sent to `sink` instead.
    pub(crate) fn with_sink(&self, sink: &LogSink) -> Self {
        Self {
            prefix: self.prefix.clone(),
            sink: sink.clone(),
        }
    }
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineWriter::new(self))
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter::new(self))
    }
}

/// Buffers a partial line until its newline arrives (or the stream is dropped).
struct LineWriter {
    prefix: Arc<str>,
    sink: LogSink,
    pending: Vec<u8>,
}

impl LineWriter {
    fn new(output: &PrefixedOutput) -> Self {
        Self {
            prefix: output.prefix.clone(),
            sink: output.sink.clone(),
            pending: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if let Some(last_newline) = self.pending.iter().rposition(|b| *b == b'\n') {
            let complete: Vec<u8> = self.pending.drain(..=last_newline).collect();
            self.emit(&complete);
        }
    }

    fn emit(&self, text: &[u8]) {
        for line in text.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            self.sink
                .line(&format!("{}{}", self.prefix, String::from_utf8_lossy(line)));
        }
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}

#[async_trait::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn capture() -> (LogSink, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        let sink = LogSink::new(move |line| kept.lock().unwrap().push(line.to_string()));
        (sink, lines)
    }

    #[test]
    fn guest_output_reaches_the_chosen_sink_one_prefixed_line_at_a_time() {
        let (sink, lines) = capture();
        let output = PrefixedOutput::new("gateway").with_sink(&sink);
        let mut writer = LineWriter::new(&output);
        writer.push(b"first\nsec");
        writer.push(b"ond\nthird\n\n");
        writer.push(b"unfinished");
        assert_eq!(
            *lines.lock().unwrap(),
            [
                "[gateway] first",
                "[gateway] second",
                "[gateway] third",
                "[gateway] "
            ]
        );
        drop(writer);
        assert_eq!(
            lines.lock().unwrap().last().unwrap(),
            "[gateway] unfinished"
        );
    }
}
