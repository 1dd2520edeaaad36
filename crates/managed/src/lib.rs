//! Managed services: code the platform runs.
//!
//! A provider uploads a ZIP of a `MANAGED` service's code; the platform
//! keeps it in chunks ([`blob`]), checks it (`qmarket-archive`), and
//! records a [`build`] that a worker prepares. A consumer's application
//! starts [`execution`]s of the service through the gateway; workers run
//! them and report back. Builds and executions wait in one work queue
//! ([`queue`]) and run under leases, so any number of workers may run
//! anywhere, each job runs once at a time, and a job whose worker died is
//! run again by another.
//!
//! The platform and its workers speak the [`protocol`] over HTTP only.
#![deny(missing_docs)]

pub mod blob;
pub mod build;
pub mod execution;
pub mod jobs;
pub mod log;
pub mod protocol;
pub mod queue;
