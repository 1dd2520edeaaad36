//! What can fail at this crate's boundary.
//!
//! A broken archive is not an error: it is a [`crate::Validation`] with state
//! `ERROR`. Errors are failures of the reader or the file system.

use std::io;
#[cfg(feature = "extract")]
use std::path::PathBuf;

/// A failure that is not the archive's fault, or a refused extraction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The reader handed in failed (the store behind it, not the archive's
    /// content).
    #[error("reading the upload failed")]
    Read(#[source] io::Error),
    /// The archive breaks the rules; nothing was written.
    #[cfg(feature = "extract")]
    #[error("the archive is refused: {}", .0.summary)]
    Refused(crate::Validation),
    /// An entry read differently while extracting than while validating (the
    /// reader does not return the same bytes twice); extraction stopped there.
    #[cfg(feature = "extract")]
    #[error("entry {entry} read differently while extracting than while validating")]
    Changed {
        /// The entry's name, quoted.
        entry: String,
    },
    /// Creating a folder or writing a file under the target folder failed.
    #[cfg(feature = "extract")]
    #[error("writing {} failed", .path.display())]
    Write {
        /// The path that could not be written.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `environment.yml` is not YAML, or not of the shape conda reads.
    #[cfg(feature = "extract")]
    #[error("environment.yml cannot be read: {0}")]
    Environment(String),
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
