//! Request bodies that are read on to their end after a component stops
//! reading them, within a bound.
//!
//! A component may answer before it has read the whole request body (a 413
//! for a body over its limit, a 401 before looking at it). If the host then
//! closed the connection with body bytes still unread, the kernel would
//! reset it, and a client that sends its whole body before reading the
//! answer — most clients do — would see the reset instead of the answer. So
//! when a component drops a body it did not finish, the host discards the
//! rest in the background (a "lingering close", as web servers call it): at
//! most [`LINGER_BYTES`] and [`LINGER_TIME`], after which the connection is
//! closed as before.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// The most body bytes discarded after a component stopped reading.
pub const LINGER_BYTES: u64 = 64 << 20;
/// The longest time spent discarding them.
pub const LINGER_TIME: Duration = Duration::from_secs(10);

/// A request body that is drained (within the bounds above) when dropped
/// before its end.
pub(crate) struct LingeringBody {
    inner: Option<Incoming>,
    ended: bool,
}

impl LingeringBody {
    pub(crate) fn new(inner: Incoming) -> Self {
        Self {
            inner: Some(inner),
            ended: false,
        }
    }
}

impl Body for LingeringBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for LingeringBody {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if self.ended || body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(discard(body));
        }
    }
}

/// Reads `body` to its end, or until the bounds are reached, and drops it.
async fn discard(mut body: Incoming) {
    let mut read = 0u64;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |data| data.len() as u64);
            if read > LINGER_BYTES {
                break;
            }
        }
    })
    .await;
}
