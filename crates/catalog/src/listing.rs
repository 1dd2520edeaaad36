//! One page of a listing.

/// Items of one page, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// This page's items, newest first.
    pub items: Vec<T>,
    /// The cursor of the next page (an index sequence number); `None` on the last.
    pub next: Option<u64>,
}
