//! Nothing of a request leaves the host before what it wrote is durable.
//!
//! A store may answer an increment before it is synced to disk
//! ([`Store::defers_increment_syncs`]: SQLite with durable WAL commits), so
//! that a request does not wait for a sync per reservation, claim or
//! counter. What the request does next may depend on the value, and once it
//! shows outside — an outbound request, the response head, a frame of the
//! response body — a power cut must not be able to take the value back. So
//! the request's [`OutputGate`] notes each store that answered it an
//! unsynced increment, and every way out passes the gate first — the
//! response head, each frame of the response body, each outbound request's
//! head and each frame of a body the guest streams with it: it waits until
//! those stores have synced what they answered ([`Store::sync_answered`]).
//! A request that made no such increment passes without waiting.

use crate::key_value::{KvError, Store};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi_http::Error as BodyError;

/// The stores that answered one request writes not yet known to be durable.
#[derive(Default)]
pub(crate) struct OutputGate {
    pending: Mutex<Vec<Arc<dyn Store>>>,
}

impl OutputGate {
    /// Notes that `store` answered the request a write it may not have
    /// synced yet.
    pub(crate) fn note(&self, store: &Arc<dyn Store>) {
        let mut pending = self.lock();
        if !pending.iter().any(|s| Arc::ptr_eq(s, store)) {
            pending.push(store.clone());
        }
    }

    /// Whether the request's output may leave without waiting.
    pub(crate) fn is_open(&self) -> bool {
        self.lock().is_empty()
    }

    /// Waits until every store noted so far has synced what it answered.
    pub(crate) async fn pass(&self) -> Result<(), KvError> {
        let stores = std::mem::take(&mut *self.lock());
        for store in &stores {
            if let Err(e) = store.sync_answered().await {
                // Still not durable: later output waits (and fails) again.
                self.lock().extend(stores.iter().cloned());
                return Err(e);
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<dyn Store>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why `what` (the answer, a request) may not leave: the gate could not be
/// passed because of `error`.
pub(crate) fn not_durable(what: &str, error: &KvError) -> String {
    format!("{what} depends on a write that could not be made durable: {error}")
}

type Passing = Pin<Box<dyn Future<Output = Result<(), KvError>> + Send>>;

/// A body (of the response, or of an outbound request) whose frames each
/// pass the request's gate before they are sent: a guest that increments a
/// counter while it streams a body sends nothing that depends on it before
/// it is durable.
pub(crate) struct GatedBody<B> {
    inner: B,
    gate: Arc<OutputGate>,
    /// A frame received from the guest, held while the gate is passed.
    held: Option<(Frame<Bytes>, Passing)>,
}

impl<B> GatedBody<B> {
    pub(crate) fn new(inner: B, gate: Arc<OutputGate>) -> Self {
        Self {
            inner,
            gate,
            held: None,
        }
    }
}

impl<B> Body for GatedBody<B>
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
        if this.held.is_none() {
            // The gate is looked at after the frame arrived: whatever the
            // guest wrote before the frame is noted by then.
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) if !this.gate.is_open() => {
                    let gate = this.gate.clone();
                    this.held = Some((frame, Box::pin(async move { gate.pass().await })));
                }
                other => return other,
            }
        }
        let (_, passing) = this.held.as_mut().expect("a frame is held");
        match passing.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(passed) => {
                let (frame, _) = this.held.take().expect("a frame is held");
                Poll::Ready(Some(match passed {
                    Ok(()) => Ok(frame),
                    Err(e) => Err(BodyError::InternalError(Some(not_durable("the body", &e)))),
                }))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use http_body_util::BodyExt;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A store that only counts the syncs asked of it (and fails them when
    /// told to).
    #[derive(Default)]
    struct Syncs {
        asked: AtomicUsize,
        fail: bool,
    }

    #[async_trait]
    impl Store for Syncs {
        async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, KvError> {
            Ok(None)
        }
        async fn set(&self, _: &str, _: &[u8]) -> Result<(), KvError> {
            Ok(())
        }
        async fn delete(&self, _: &str) -> Result<(), KvError> {
            Ok(())
        }
        async fn exists(&self, _: &str) -> Result<bool, KvError> {
            Ok(false)
        }
        async fn get_keys(&self) -> Result<Vec<String>, KvError> {
            Ok(vec![])
        }
        async fn get_many(
            &self,
            keys: Vec<String>,
        ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
            Ok(keys.into_iter().map(|k| (k, None)).collect())
        }
        async fn set_many(&self, _: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
            Ok(())
        }
        async fn delete_many(&self, _: Vec<String>) -> Result<(), KvError> {
            Ok(())
        }
        async fn increment(&self, _: &str, delta: i64) -> Result<i64, KvError> {
            Ok(delta)
        }
        async fn compare_and_swap(
            &self,
            _: &str,
            _: Option<&[u8]>,
            _: &[u8],
        ) -> Result<bool, KvError> {
            Ok(true)
        }
        fn defers_increment_syncs(&self) -> bool {
            true
        }
        async fn sync_answered(&self) -> Result<(), KvError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                Err(KvError::Other("disk gone".into()))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn a_gate_with_nothing_noted_passes_without_asking_for_a_sync() {
        let gate = OutputGate::default();
        assert!(gate.is_open());
        assert_eq!(gate.pass().await, Ok(()));
    }

    #[tokio::test]
    async fn each_noted_store_syncs_once_per_pass() {
        let store = Arc::new(Syncs::default());
        let dyn_store: Arc<dyn Store> = store.clone();
        let gate = OutputGate::default();
        gate.note(&dyn_store);
        gate.note(&dyn_store);
        assert!(!gate.is_open());
        assert_eq!(gate.pass().await, Ok(()));
        assert_eq!(store.asked.load(Ordering::SeqCst), 1);
        assert!(gate.is_open(), "what was synced is not waited for again");
        assert_eq!(gate.pass().await, Ok(()));
        assert_eq!(store.asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_sync_keeps_the_gate_shut() {
        let store: Arc<dyn Store> = Arc::new(Syncs {
            fail: true,
            ..Syncs::default()
        });
        let gate = OutputGate::default();
        gate.note(&store);
        assert!(gate.pass().await.is_err());
        assert!(!gate.is_open());
    }

    /// A body of ready data frames.
    struct Frames(VecDeque<&'static str>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = BodyError;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
            let next = self.get_mut().0.pop_front();
            Poll::Ready(next.map(|f| Ok(Frame::data(Bytes::from_static(f.as_bytes())))))
        }
    }

    fn body(frames: Vec<&'static str>) -> Frames {
        Frames(frames.into())
    }

    #[tokio::test]
    async fn a_body_frame_written_after_an_unsynced_increment_waits_for_the_sync() {
        let store = Arc::new(Syncs::default());
        let dyn_store: Arc<dyn Store> = store.clone();
        let gate = Arc::new(OutputGate::default());
        gate.note(&dyn_store);
        let collected = GatedBody::new(body(vec!["a", "b"]), gate.clone())
            .collect()
            .await
            .expect("the body passes")
            .to_bytes();
        assert_eq!(collected, Bytes::from_static(b"ab"));
        assert_eq!(store.asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_frame_is_not_sent_when_the_sync_fails() {
        let store: Arc<dyn Store> = Arc::new(Syncs {
            fail: true,
            ..Syncs::default()
        });
        let gate = Arc::new(OutputGate::default());
        gate.note(&store);
        let mut gated = GatedBody::new(body(vec!["secret"]), gate);
        let first = gated.frame().await.expect("an outcome");
        assert!(first.is_err(), "the frame is replaced by an error");
    }
}
