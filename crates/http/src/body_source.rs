//! Request bodies read in pieces as they arrive, for endpoints that store
//! what they receive without holding it whole.

use qmarket_core::Result;

use crate::BodyLimit;

/// A request body, read in pieces.
pub trait BodySource {
    /// Hands every piece to `each`, within `limit`; returns the bytes read.
    fn each(
        self: Box<Self>,
        limit: BodyLimit,
        each: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64>;
}

/// A body already in memory (tests, and requests read whole).
pub struct Buffered(pub Vec<u8>);

impl BodySource for Buffered {
    fn each(
        self: Box<Self>,
        limit: BodyLimit,
        each: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64> {
        limit.check_received(self.0.len() as u64)?;
        for piece in self.0.chunks(64 * 1024) {
            each(piece)?;
        }
        Ok(self.0.len() as u64)
    }
}
