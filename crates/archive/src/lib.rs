//! The source archive of a managed service: whether it may be built, and
//! (for the worker) its files written out safely.
//!
//! A provider uploads a ZIP (`PUT /api/services/{id}/source`). [`validate`]
//! checks it against the API contract's rules and answers the build's
//! `validationResult`: a valid ZIP; no entry escaping the target folder (`..`,
//! absolute paths, drive letters, backslashes, control characters) and no
//! symbolic links; at most 10,000 entries and 500 MiB unpacked; every entry
//! unpacking to exactly its declared size (read through a bound, so a zip
//! bomb costs one byte past its lie); no absurd compression ratios; no
//! project zipped inside its own folder; and the files each [`Runtime`]
//! needs at the root. Every broken rule is one message; all are collected.
//!
//! Validation works on any `Read + Seek` and never holds the archive in
//! memory, so a component can hand it a reader over the upload's stored
//! chunks; the crate is pure Rust and builds for `wasm32-wasip2`.
//!
//! With the `extract` feature (on by default; a component that only
//! validates turns it off): [`extract`] validates again and writes the files
//! under a folder, and [`requirements`] and [`environment`] read the
//! dependency lists the build installs.
//!
//! ```
//! use std::io::{Cursor, Write};
//! use qmarket_archive::{validate, Runtime, State};
//! use zip::write::{SimpleFileOptions, ZipWriter};
//!
//! let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
//! zip.start_file("src/program.py", SimpleFileOptions::default()).unwrap();
//! zip.write_all(b"def run(data, params):\n    return {}\n").unwrap();
//! zip.start_file("requirements.txt", SimpleFileOptions::default()).unwrap();
//! zip.write_all(b"numpy\n").unwrap();
//! let upload = zip.finish().unwrap();
//!
//! let result = validate(upload, Runtime::PythonTemplate).unwrap();
//! assert_eq!(result.state, State::Success);
//! assert_eq!(
//!     serde_json::to_value(&result).unwrap()["summary"],
//!     "the archive is valid: 2 entries, 43 bytes unpacked"
//! );
//!
//! let refused = validate(Cursor::new(b"not a zip".to_vec()), Runtime::Wasm).unwrap();
//! assert_eq!(refused.state, State::Error);
//! assert_eq!(
//!     serde_json::to_value(&refused).unwrap()["messages"][0],
//!     "the upload is not a ZIP archive, or it is truncated: \
//!      it does not end with a ZIP end-of-central-directory record"
//! );
//! ```
#![deny(missing_docs)]

mod archive;
mod bomb;
mod end_record;
mod entry_name;
mod error;
mod layout;
mod limits;
mod local_header;
mod runtime;
mod tracked;
mod validate;
mod validation;
mod wording;

#[cfg(feature = "extract")]
mod dependencies;
#[cfg(feature = "extract")]
mod extract;

#[cfg(feature = "extract")]
pub use dependencies::{environment, requirements, Environment};
pub use error::{Error, Result};
#[cfg(feature = "extract")]
pub use extract::{extract, extract_with, Extracted, ExtractedFile};
pub use limits::Limits;
pub use runtime::Runtime;
pub use validate::{validate, validate_with};
pub use validation::{Message, Severity, State, Validation, MAX_MESSAGES};
