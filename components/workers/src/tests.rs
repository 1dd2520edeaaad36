//! The worker API on a memory store.
