//! `?limit=` and `?cursor=` of listing endpoints.

use crate::Request;
use qmarket_core::{Error, Result};

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 500;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// How many items at most.
    pub limit: usize,
    /// Where to continue, as returned in `nextCursor`.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Reads `limit` (1–500, default 50) and `cursor` from the query string.
    pub fn from_request(req: &Request) -> Result<Self> {
        let limit = match req.query_param("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::invalid_field(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let cursor = req.query_param("cursor").filter(|c| !c.is_empty());
        Ok(PageQuery { limit, cursor })
    }

    /// The cursor read as an index sequence number (the cursors of
    /// `qmarket_store::Index` pages).
    pub fn sequence_cursor(&self) -> Result<Option<u64>> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse::<u64>().map_err(|_| {
                    Error::invalid_field("cursor", "is not a cursor this listing returned")
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;
    use crate::StatusOf;

    fn page(q: &str) -> Result<PageQuery> {
        PageQuery::from_request(&Request::new(Method::Get, &format!("/x?{q}")))
    }

    #[test]
    fn limit_defaults_to_fifty_and_is_bounded() {
        assert_eq!(page("").unwrap().limit, 50);
        assert_eq!(page("limit=500").unwrap().limit, 500);
        for bad in ["limit=0", "limit=501", "limit=-1", "limit=abc", "limit=1.5"] {
            assert_eq!(page(bad).unwrap_err().status(), 400, "{bad}");
        }
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert_eq!(
            page("cursor=12").unwrap().sequence_cursor().unwrap(),
            Some(12)
        );
        assert_eq!(
            page("cursor=x")
                .unwrap()
                .sequence_cursor()
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(page("").unwrap().sequence_cursor().unwrap(), None);
    }
}
