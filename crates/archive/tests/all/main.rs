//! The archive rules, extraction and the dependency readers, checked on
//! archives built here (and patched into hostile ones).

#[cfg(feature = "extract")]
mod dependencies;
#[cfg(feature = "extract")]
mod extract;
mod rules;
mod support;
