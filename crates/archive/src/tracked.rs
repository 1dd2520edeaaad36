//! A reader that remembers whether it failed, so that a store outage is told
//! apart from a broken archive when `zip` or the inflater report an error.

use std::io::{self, Read, Seek, SeekFrom};

/// Wraps the caller's reader; its own failures are kept for [`Tracked::failure`].
pub(crate) struct Tracked<R> {
    inner: R,
    failure: Option<io::Error>,
}

impl<R> Tracked<R> {
    pub(crate) fn new(inner: R) -> Self {
        Tracked {
            inner,
            failure: None,
        }
    }

    /// The first error the wrapped reader returned, if any.
    pub(crate) fn failure(&mut self) -> Option<io::Error> {
        self.failure.take()
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted && self.failure.is_none() {
                self.failure = Some(io::Error::new(e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        self.note(result)
    }
}

impl<R: Seek> Seek for Tracked<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let result = self.inner.seek(pos);
        self.note(result)
    }
}
