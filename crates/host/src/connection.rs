//! One client connection's life, within the server's [`Timeouts`].
//!
//! hyper bounds the wait for an HTTP/1 request head (its header-read timer)
//! but nothing else: an HTTP/2 connection, or any connection before the
//! protocol is known, with no request in flight stays open for ever, and so
//! does a connection whose client stopped reading its answer. So each
//! connection is served by [`supervise`], which knows from [`Activity`]
//! whether an exchange is in flight and whether anything was received since
//! the last one, and closes the connection when
//!
//! - it has been idle (no exchange, nothing received) for [`Timeouts::idle`],
//! - something was received but no request head completed within
//!   [`Timeouts::header_read`],
//! - an exchange outlived its deadline by [`DEADLINE_CUT_GRACE`] (the server
//!   answers or cuts the body at the deadline itself, see [`DeadlineBody`];
//!   this catches a client that stopped reading), or
//! - the server shuts down.
//!
//! Closing is graceful first (HTTP/1 closes once idle, HTTP/2 sends a
//! GOAWAY); a connection still open [`CLOSE_GRACE`] later is dropped.

use crate::timeouts::Timeouts;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::Error as BodyError;

/// How long past its deadline an exchange may still hold its connection,
/// to write the `504` it was answered with.
pub const DEADLINE_CUT_GRACE: Duration = Duration::from_secs(2);
/// How long a connection being closed gracefully may take to finish.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a connection is doing, as its exchanges and its reads report it.
pub(crate) struct Activity {
    origin: Instant,
    state: Mutex<State>,
    /// When something was first received since the connection went quiet,
    /// as nanoseconds after `origin` plus one; 0 when nothing was.
    heard_at: AtomicU64,
    changed: Notify,
}

struct State {
    /// The deadlines of the exchanges in flight, with a tie-breaking id.
    in_flight: BTreeSet<(Instant, u64)>,
    next_id: u64,
    /// When the last exchange ended (or the connection was accepted).
    quiet_since: Instant,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            origin: now,
            state: Mutex::new(State {
                in_flight: BTreeSet::new(),
                next_id: 0,
                quiet_since: now,
            }),
            heard_at: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic: every update is one step.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that an exchange with `deadline` started; it ends when the
    /// returned guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>, deadline: Instant) -> Exchange {
        let mut state = self.state();
        let id = state.next_id;
        state.next_id += 1;
        state.in_flight.insert((deadline, id));
        drop(state);
        self.changed.notify_one();
        Exchange {
            activity: self.clone(),
            key: (deadline, id),
        }
    }

    fn heard(&self) {
        if self.heard_at.load(Ordering::Relaxed) == 0 {
            let at = u64::try_from(self.origin.elapsed().as_nanos())
                .unwrap_or(u64::MAX - 1)
                .saturating_add(1);
            if self
                .heard_at
                .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                self.changed.notify_one();
            }
        }
    }

    fn heard_since_quiet(&self) -> Option<Instant> {
        match self.heard_at.load(Ordering::Relaxed) {
            0 => None,
            at => Some(self.origin + Duration::from_nanos(at - 1)),
        }
    }

    /// When the connection must next be looked at, and what is due then.
    fn next_due(&self, timeouts: &Timeouts, closing_since: Option<Instant>) -> (Instant, Due) {
        let state = self.state();
        if let Some((deadline, _)) = state.in_flight.first() {
            return (*deadline + DEADLINE_CUT_GRACE, Due::Drop);
        }
        if let Some(since) = closing_since {
            return (since + CLOSE_GRACE, Due::Drop);
        }
        match self.heard_since_quiet() {
            Some(heard) => (heard + timeouts.header_read, Due::Close),
            None => (state.quiet_since + timeouts.idle, Due::Close),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Close gracefully.
    Close,
    /// Drop the connection.
    Drop,
}

/// One exchange in flight on a connection; dropped when its answer has been
/// handed to the connection completely (or the connection is gone).
pub(crate) struct Exchange {
    activity: Arc<Activity>,
    key: (Instant, u64),
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let mut state = self.activity.state();
        state.in_flight.remove(&self.key);
        if state.in_flight.is_empty() {
            state.quiet_since = Instant::now();
            // Only what arrives from now on counts against the next head.
            self.activity.heard_at.store(0, Ordering::Relaxed);
        }
        drop(state);
        self.activity.changed.notify_one();
    }
}

/// A connection's byte stream that tells its [`Activity`] when bytes arrive.
pub(crate) struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.heard();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Serves `conn` until it ends or one of the module's limits closes it;
/// `close` starts a graceful close, which `shutdown` turning true asks for.
pub(crate) async fn supervise<C: Future>(
    conn: C,
    close: impl Fn(Pin<&mut C>),
    activity: Arc<Activity>,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::pin!(conn);
    let mut closing_since: Option<Instant> = None;
    let mut shutting_down = *shutdown.borrow();
    loop {
        if shutting_down && closing_since.is_none() {
            close(conn.as_mut());
            closing_since = Some(Instant::now());
        }
        let (at, due) = activity.next_due(&timeouts, closing_since);
        let changed = activity.changed.notified();
        tokio::select! {
            // Client resets and protocol errors are the client's business.
            _ = conn.as_mut() => return,
            changed = shutdown.changed(), if !shutting_down => {
                shutting_down = changed.is_err() || *shutdown.borrow();
            }
            () = changed => {}
            () = tokio::time::sleep_until(at) => {
                // Something may have changed just as the time came.
                if activity.next_due(&timeouts, closing_since) != (at, due) {
                    continue;
                }
                match due {
                    Due::Drop => return,
                    Due::Close => {
                        close(conn.as_mut());
                        closing_since = Some(Instant::now());
                    }
                }
            }
        }
    }
}

/// A response body that ends in an error at its exchange's deadline, and
/// ends its [`Exchange`] when it is dropped.
pub(crate) struct DeadlineBody<B> {
    inner: B,
    deadline: Instant,
    timer: Pin<Box<Sleep>>,
    _exchange: Exchange,
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(inner: B, deadline: Instant, exchange: Exchange) -> Self {
        Self {
            inner,
            deadline,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            _exchange: exchange,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes, Error = BodyError> + Unpin,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        let cut = || Poll::Ready(Some(Err(BodyError::HttpResponseTimeout)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            // A body the component stopped producing at the deadline ends
            // here as an error, not as a complete answer.
            Poll::Ready(None) if Instant::now() >= this.deadline => cut(),
            Poll::Ready(frame) => Poll::Ready(frame),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => cut(),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn timeouts(idle: u64, header_read: u64) -> Timeouts {
        Timeouts {
            idle: Duration::from_secs(idle),
            header_read: Duration::from_secs(header_read),
            ..Timeouts::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_connection_is_due_to_close_after_the_idle_timeout() {
        let activity = Activity::new();
        let (at, due) = activity.next_due(&timeouts(5, 10), None);
        assert_eq!(
            (at, due),
            (activity.origin + Duration::from_secs(5), Due::Close)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_received_switch_the_quiet_connection_to_the_header_timeout() {
        let activity = Activity::new();
        tokio::time::advance(Duration::from_secs(3)).await;
        activity.heard();
        let (at, due) = activity.next_due(&timeouts(5, 10), None);
        assert_eq!(due, Due::Close);
        assert_eq!(at, activity.origin + Duration::from_secs(13));
    }

    #[tokio::test(start_paused = true)]
    async fn an_exchange_in_flight_holds_the_connection_until_its_deadline() {
        let activity = Activity::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let exchange = activity.begin(deadline);
        let (at, due) = activity.next_due(&timeouts(5, 10), None);
        assert_eq!((at, due), (deadline + DEADLINE_CUT_GRACE, Due::Drop));

        tokio::time::advance(Duration::from_secs(7)).await;
        activity.heard();
        drop(exchange);
        let (at, due) = activity.next_due(&timeouts(5, 10), None);
        assert_eq!(
            (at, due),
            (Instant::now() + Duration::from_secs(5), Due::Close),
            "bytes heard during the exchange do not count against the next head"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_open_at_the_deadline_ends_in_an_error() {
        let activity = Activity::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut body = DeadlineBody::new(
            Frames::then_pending(b"head"),
            deadline,
            activity.begin(deadline),
        );
        let first = body.frame().await.expect("a frame").expect("data");
        assert_eq!(first.into_data().ok(), Some(Bytes::from_static(b"head")));
        assert!(body.frame().await.expect("an end").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_ends_before_the_deadline_ends_normally() {
        let activity = Activity::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut body =
            DeadlineBody::new(Frames::then_end(b"all"), deadline, activity.begin(deadline));
        assert!(body.frame().await.expect("a frame").is_ok());
        assert!(body.frame().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_body_ends_its_exchange() {
        let activity = Activity::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let body = DeadlineBody::new(Frames::then_end(b""), deadline, activity.begin(deadline));
        assert_eq!(activity.next_due(&timeouts(5, 10), None).1, Due::Drop);
        drop(body);
        assert_eq!(activity.next_due(&timeouts(5, 10), None).1, Due::Close);
    }

    /// A body of one data frame that then ends or stays pending for ever.
    struct Frames {
        data: Option<Bytes>,
        ends: bool,
    }

    impl Frames {
        fn then_pending(data: &'static [u8]) -> Self {
            Self {
                data: Some(Bytes::from_static(data)),
                ends: false,
            }
        }

        fn then_end(data: &'static [u8]) -> Self {
            Self {
                data: Some(Bytes::from_static(data)),
                ends: true,
            }
        }
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = BodyError;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
            let this = self.get_mut();
            match this.data.take() {
                Some(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
                None if this.ends => Poll::Ready(None),
                None => Poll::Pending,
            }
        }
    }
}
