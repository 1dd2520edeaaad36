//! How severe a log line is: the contract's `severity` of build and
//! execution logs.

use serde::{Deserialize, Serialize};

/// How severe a log line is (`DEBUG`, `NOTICE`, `INFO`, `WARNING`, `ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Detail for debugging.
    Debug,
    /// Something worth noticing.
    Notice,
    /// Ordinary progress.
    Info,
    /// Something may be wrong.
    Warning,
    /// Something is wrong.
    Error,
}
