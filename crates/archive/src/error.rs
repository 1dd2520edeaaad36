//! What can fail at this crate's boundary.
//!
//! A broken archive is not an error: it is a [`crate::Validation`] with state
//! `ERROR`. Errors are failures of the reader.

use std::io;

/// A failure that is not the archive's fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The reader handed in failed (the store behind it, not the archive's
    /// content).
    #[error("reading the upload failed")]
    Read(#[source] io::Error),
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
