//! How long the server waits on clients and on components.
//!
//! Without bounds, a client that opens connections and sends nothing, or a
//! request line and then nothing, or that never reads its answer, holds a
//! connection (and a task, and a file descriptor) for ever; so does a
//! component that never answers. Each bound here closes one of those doors.

use std::time::Duration;

/// The default [`Timeouts::header_read`]: 10 s. A request head is a few KiB,
/// which any working client sends in far less; a slow-loris client holds a
/// connection at most this long per attempt.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [`Timeouts::idle`]: 5 s, as Node.js and Apache keep idle
/// connections. Shorter than the header timeout, which on HTTP/1 also runs
/// while a kept-alive connection waits, so that it is the idle bound there.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default [`Timeouts::request_deadline`]: 15 min. It must exceed the
/// longest wait the gateway can be configured for (600 s for an upstream's
/// answer, `qmarket_gateway::MAX_TIMEOUT_MS`) with room to read the
/// consumer's body and stream the answer back; it is the backstop for a
/// component that never answers, not a limit a working request meets.
pub const DEFAULT_REQUEST_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The default [`Timeouts::http2_keep_alive_interval`]: 20 s.
pub const DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// The default [`Timeouts::http2_keep_alive_timeout`]: 20 s.
pub const DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The server's time limits; [`Timeouts::default`] holds the `DEFAULT_*`
/// values of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The longest wait for a complete request head. On HTTP/1 it is
    /// counted from when the server starts waiting for the head — for a
    /// kept-alive connection, from the end of the previous exchange (hyper
    /// runs its header timer then too) — and on either protocol from the
    /// first byte received on a connection with no request in flight. Then
    /// the connection is closed.
    pub header_read: Duration,
    /// How long a connection may stay open with no request in flight and
    /// nothing received since its last exchange ended (or since it was
    /// accepted). Then it is closed gracefully (HTTP/2: with a GOAWAY).
    pub idle: Duration,
    /// The longest one exchange may take, from its request head to the last
    /// byte of its answer. A component that has not answered by then is
    /// stopped and the client gets a `504`; one whose answer has started
    /// has its body cut off, so the client sees an error, never a truncated
    /// success.
    pub request_deadline: Duration,
    /// HTTP/2: how long a connection may go without a frame from the client
    /// before the server pings it, to find peers that are gone while a long
    /// request is in flight (an idle one is closed by [`Self::idle`] first).
    pub http2_keep_alive_interval: Duration,
    /// HTTP/2: how long the server waits for a ping's acknowledgement
    /// before it closes the connection.
    pub http2_keep_alive_timeout: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: DEFAULT_HEADER_READ_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
            request_deadline: DEFAULT_REQUEST_DEADLINE,
            http2_keep_alive_interval: DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL,
            http2_keep_alive_timeout: DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
        }
    }
}
