//! `qmarket`: the platform's command line.
fn main() {}
