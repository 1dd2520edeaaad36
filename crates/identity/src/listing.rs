//! Pages of an account's or application's records through their index.

use qmarket_core::Result;
use qmarket_http::PageQuery;
use qmarket_store::{Index, KeyValue};

/// One page of a listing: items and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    /// This page's items, newest first.
    pub items: Vec<T>,
    /// The cursor for `?cursor=`, `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The page `query` asks for of `index`, whose values are record ids turned
/// into items by `load` (ids whose record has gone are skipped).
pub(crate) fn page<T>(
    kv: &dyn KeyValue,
    index: &Index,
    query: &PageQuery,
    load: impl Fn(&str) -> Result<Option<T>>,
) -> Result<Listed<T>> {
    let page = index.page(kv, query.sequence_cursor()?, query.limit)?;
    let mut items = Vec::with_capacity(page.entries.len());
    for (_, id) in &page.entries {
        if let Some(item) = load(id)? {
            items.push(item);
        }
    }
    Ok(Listed {
        items,
        next_cursor: page.next.map(|n| n.to_string()),
    })
}
