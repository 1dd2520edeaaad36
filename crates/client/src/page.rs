//! Listings: the platform answers `{items, nextCursor}` pages.

use serde::{Deserialize, Serialize};

use crate::Error;

/// The largest page the platform gives.
pub const MAX_PAGE: usize = 500;

/// One page of a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass it as the next request's cursor; `None` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Which page to ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many records (the platform's default is 50, its most 500).
    pub limit: Option<usize>,
    /// The `nextCursor` of the page before.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page, of at most `limit` records.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest {
            limit: Some(limit),
            cursor: None,
        }
    }

    /// The query parameters of this request.
    pub(crate) fn query(&self) -> [(&'static str, Option<String>); 2] {
        [
            ("limit", self.limit.map(|l| l.to_string())),
            ("cursor", self.cursor.clone()),
        ]
    }
}

/// Records gathered from one or more pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The records, in the platform's order.
    pub items: Vec<T>,
    /// Whether the platform has more than were gathered.
    pub more: bool,
}

/// Gathers records from `fetch`, page after page, until there are none
/// left or `max` are gathered (`None`: all of them).
pub fn collect<T>(
    max: Option<usize>,
    mut fetch: impl FnMut(&PageRequest) -> Result<Page<T>, Error>,
) -> Result<Listing<T>, Error> {
    let mut items = Vec::new();
    let mut request = PageRequest::default();
    loop {
        let wanted = max.map_or(MAX_PAGE, |max| max.saturating_sub(items.len()));
        request.limit = Some(wanted.clamp(1, MAX_PAGE));
        let page = fetch(&request)?;
        items.extend(page.items);
        if let Some(max) = max {
            if items.len() >= max {
                let more = items.len() > max || page.next_cursor.is_some();
                items.truncate(max);
                return Ok(Listing { items, more });
            }
        }
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => return Ok(Listing { items, more: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of `total` numbers served in pages of at most `size`.
    fn pages(total: usize, size: usize) -> impl FnMut(&PageRequest) -> Result<Page<usize>, Error> {
        move |request| {
            let start: usize = request.cursor.as_deref().map_or(0, |c| c.parse().unwrap());
            let end = (start + request.limit.unwrap().min(size)).min(total);
            Ok(Page {
                items: (start..end).collect(),
                next_cursor: (end < total).then(|| end.to_string()),
            })
        }
    }

    #[test]
    fn every_page_is_gathered_when_no_limit_is_given() {
        let listing = collect(None, pages(1234, 500)).unwrap();
        assert_eq!(listing.items, (0..1234).collect::<Vec<_>>());
        assert!(!listing.more);
    }

    #[test]
    fn a_limit_stops_early_and_says_there_is_more() {
        let listing = collect(Some(120), pages(1234, 50)).unwrap();
        assert_eq!(listing.items, (0..120).collect::<Vec<_>>());
        assert!(listing.more);
        let exact = collect(Some(7), pages(7, 50)).unwrap();
        assert_eq!(exact.items.len(), 7);
        assert!(!exact.more);
    }
}
