//! The source and build endpoints on a memory store.
