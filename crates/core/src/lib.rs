//! The vocabulary every qmarket crate shares: typed ids, timestamps, exact
//! decimals, secret handling and the platform error.
#![deny(missing_docs)]

pub mod decimal;
pub mod error;
pub mod excerpt;
pub mod id;
pub mod secret;
pub mod severity;
pub mod time;

pub use error::{Error, FieldError, Result};
pub use excerpt::excerpt;
pub use id::IdKind;
pub use severity::Severity;
pub use time::Timestamp;
