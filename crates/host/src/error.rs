//! The errors that stop an application from starting or serving.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A start-up or serving failure of the host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest could not be loaded.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// The runtime configuration could not be loaded.
    #[error(transparent)]
    RuntimeConfig(#[from] crate::runtime_config::RuntimeConfigError),
    /// A variable could not be resolved.
    #[error(transparent)]
    Variables(#[from] crate::variables::VariablesError),
    /// A route is invalid.
    #[error(transparent)]
    Route(#[from] crate::routes::RouteError),
    /// A key-value store could not be set up.
    #[error(transparent)]
    KeyValue(#[from] crate::key_value::KvSetupError),
    /// An `allowed_outbound_hosts` entry is invalid.
    #[error("component `{component}`: {source}")]
    Outbound {
        /// The component id.
        component: String,
        /// The pattern error.
        source: crate::outbound::PatternError,
    },
    /// The Wasm engine could not be created.
    #[error("cannot create the Wasm engine: {0}")]
    Engine(String),
    /// A component could not be loaded, compiled or linked.
    #[error("component `{id}` ({path}): {message}")]
    Component {
        /// The component id.
        id: String,
        /// Its Wasm file.
        path: PathBuf,
        /// What went wrong (wasmtime's message chain).
        message: String,
    },
    /// A component's Wasm file is older than its sources, or its `watch`
    /// globs are invalid.
    #[error(transparent)]
    Freshness(#[from] crate::freshness::FreshnessError),
    /// The state directory could not be created.
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A host option is out of its range.
    #[error("invalid host option: {0}")]
    Options(String),
    /// The host's own runtime failed (thread or tokio runtime).
    #[error("host runtime: {0}")]
    Runtime(String),
}
