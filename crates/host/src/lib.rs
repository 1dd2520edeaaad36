//! `qmarket-host`: a Spin-compatible host on wasmtime.
//!
//! It runs a `spin.toml` (manifest version 2) and the same `#[http_component]`
//! Wasm components Spin would run: HTTP routing with Spin's rules and headers,
//! `fermyon:spin/key-value` and `wasi:keyvalue` on one store (SQLite by
//! default, Redis through a runtime config file), `fermyon:spin/variables`,
//! and outbound `wasi:http` limited to `allowed_outbound_hosts`. Clients
//! and components are held to [`Timeouts`] and a per-instance memory limit
//! ([`HostOptions::max_memory_bytes`]); a component older than the sources
//! its build watches is refused ([`freshness`]).
//!
//! ```no_run
//! use qmarket_host::{TestApp, TestAppOptions};
//!
//! let app = TestApp::start(TestAppOptions::new("spin.toml")).expect("app starts");
//! let url = format!("{}/api/health", app.base_url());
//! // ... send requests to `url` with any HTTP client ...
//! # drop(url);
//! ```
//!
//! The `qmarket up` command wraps [`App::load`] and [`Server`].
#![deny(missing_docs)]

mod app;
mod bindings;
mod connection;
mod durability;
mod engine;
mod error;
pub mod freshness;
pub mod key_value;
mod lingering;
pub mod manifest;
pub mod outbound;
pub mod request_stats;
pub mod routes;
pub mod runtime_config;
pub mod server;
mod state;
mod stdio;
mod test_app;
pub mod timeouts;
pub mod variables;

pub use app::{App, HostOptions, DEFAULT_STATE_DIR};
pub use engine::{default_cache_dir, DEFAULT_MAX_MEMORY_BYTES, MAX_MEMORY_BYTES_LIMIT};
pub use error::Error;
pub use server::Server;
pub use stdio::LogSink;
pub use test_app::{TestApp, TestAppOptions};
pub use timeouts::Timeouts;
pub use variables::VariableSource;
