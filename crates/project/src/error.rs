//! What can go wrong with a project.

use std::path::PathBuf;

/// Why a project could not be written, read, packed or run.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The folder has no project file.
    #[error("{dir} holds no {file}: create a project with `qmarket init`, or name its folder")]
    NotAProject {
        /// The folder.
        dir: PathBuf,
        /// The project file's name.
        file: &'static str,
    },
    /// A new project's folder exists and is not empty.
    #[error("{0} exists and is not empty")]
    NotEmpty(PathBuf),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The project file is not valid.
    #[error("{path} is not a valid project file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file cannot go into the archive (a link, a name that is not UTF-8).
    #[error("{path} cannot be packed: {reason}")]
    Unpackable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The archive refused by the platform's rules, with each broken rule.
    #[error("the project breaks the archive rules: {}", .0.join("; "))]
    Refused(Vec<String>),
    /// The runtime cannot work on this machine.
    #[error("the {runtime} runtime cannot run here: {reason}")]
    RuntimeUnavailable {
        /// The runtime's name.
        runtime: &'static str,
        /// Why.
        reason: String,
    },
    /// The build failed (the runtime's words).
    #[error("the build failed: {0}")]
    BuildFailed(String),
}
