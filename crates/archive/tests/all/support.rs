//! The archive rules' checks; the archives come from `qmarket-zip-fixtures`.

use std::io::Cursor;

use qmarket_archive::{validate_with, Limits, Runtime, State, Validation};
pub use qmarket_zip_fixtures::*;

/// `upload` checked for `runtime` under the platform's limits.
pub fn check(runtime: Runtime, upload: Vec<u8>) -> Validation {
    check_with(runtime, upload, &Limits::PLATFORM)
}

pub fn check_with(runtime: Runtime, upload: Vec<u8>, limits: &Limits) -> Validation {
    validate_with(Cursor::new(upload), runtime, limits).expect("an in-memory reader does not fail")
}

/// Asserts the verdict and the exact messages.
#[track_caller]
pub fn assert_verdict(validation: &Validation, state: State, messages: &[&str]) {
    assert_eq!(
        validation.texts(),
        messages,
        "summary: {}",
        validation.summary
    );
    assert_eq!(validation.state, state, "{:?}", validation.texts());
}
