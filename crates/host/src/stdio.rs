//! Guest stdout and stderr, forwarded line by line to the host's stderr with
//! the component id in front (`[component] line`).

use bytes::Bytes;
use std::io::Write;
use std::sync::Arc;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The most a guest may write in one call.
const WRITE_BUDGET: usize = 64 * 1024;

/// A stdout/stderr for one component.
#[derive(Clone)]
pub(crate) struct PrefixedOutput {
    prefix: Arc<str>,
}

impl PrefixedOutput {
    pub(crate) fn new(component: &str) -> Self {
        Self {
            prefix: Arc::from(format!("[{component}] ")),
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
        Box::new(LineWriter::new(self.prefix.clone()))
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter::new(self.prefix.clone()))
    }
}

/// Buffers a partial line until its newline arrives (or the stream is dropped).
struct LineWriter {
    prefix: Arc<str>,
    pending: Vec<u8>,
}

impl LineWriter {
    fn new(prefix: Arc<str>) -> Self {
        Self {
            prefix,
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
        let mut out = Vec::with_capacity(text.len() + 32);
        for line in text.split_inclusive(|b| *b == b'\n') {
            out.extend_from_slice(self.prefix.as_bytes());
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        // Losing guest output is better than failing the request over it.
        let _ = std::io::stderr().lock().write_all(&out);
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
