//! One module per command of `qmarket`, each a `clap` struct (or an enum
//! of subcommands) with a `run` method. What they share lives in the
//! library crates (`qmarket-client`, `qmarket-project`) and in the
//! binary's `context`, `output` and `follow` modules.

pub mod access_tokens;
pub mod applications;
pub mod bill;
pub mod call;
pub mod calls;
pub mod completions;
pub mod deploy;
pub mod executions;
pub mod init;
pub mod invoices;
pub mod login;
pub mod marketplace;
pub mod metering;
pub mod plans;
pub mod revenue;
pub mod run;
pub mod services;
pub mod spend_cap;
pub mod subscribe;
pub mod token;
pub mod up;
pub mod usage;
pub mod worker;
