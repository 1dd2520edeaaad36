//! A managed service's project, as its provider keeps it: a folder in the
//! shape of PlanQK's Python template with a project file, `qmarket.json`,
//! naming the service, its runtime and its resources.
//!
//! - [`init`] writes a new project from the template.
//! - [`Project::load`] reads one; [`Project::save`] writes its project
//!   file back (after a deploy, with the service's id).
//! - [`pack`] zips its contents the way the platform expects them: the
//!   files at the archive's root, never the folder itself.
//! - [`run_locally`] runs it once on this machine, through the same steps
//!   as a worker: the archive checked and unpacked, built and run by the
//!   runtime a worker uses (`qmarket-runtime`).
//!
//! ```no_run
//! use qmarket_project::{init, pack, Project};
//!
//! # fn main() -> Result<(), qmarket_project::ProjectError> {
//! init("sampler".as_ref(), "sampler")?;
//! let project = Project::load("sampler".as_ref())?;
//! let packed = pack(&project.dir)?;
//! println!("{} files, {} bytes zipped", packed.files.len(), packed.zip.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod local;
mod pack;
mod project_file;
mod template;

pub use error::ProjectError;
pub use local::{default_cache_dir, run_locally, LocalRun, LocalRunEvents, LocalRunOutcome};
pub use pack::{pack, Packed};
pub use project_file::{Project, ProjectFile, PROJECT_FILE};
pub use qmarket_archive::Runtime;
pub use qmarket_client::Resources;
pub use qmarket_runtime::{LogLine, Outcome, Severity};
pub use template::init;
