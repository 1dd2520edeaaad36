//! The archive rules, checked on archives built here (and patched into
//! hostile ones).

mod rules;
mod support;
