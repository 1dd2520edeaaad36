//! The marketplace: published services of every provider, with their plans.

use qmarket_core::{Error, Result};
use qmarket_model::Lifecycle;
use qmarket_store::{Index, KeyValue};

use crate::{pricing_plan, quantum_backend, service, Listing, MarketplaceServiceView};

/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 200;

/// How many index entries one page visits at most while filtering, so a
/// selective filter cannot make one request read the whole marketplace; the
/// cursor continues where it stopped.
pub const MAX_VISITED_PER_PAGE: usize = 500;

/// The index of published services.
pub fn index() -> Index {
    Index::new("marketplace")
}

/// What a marketplace visitor asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketplaceQuery {
    /// Only services on this quantum backend.
    pub quantum_backend: Option<String>,
    /// Only services whose name or description contains this text (any case).
    pub q: Option<String>,
    /// Continue below this cursor.
    pub before: Option<u64>,
    /// At most this many services.
    pub limit: usize,
}

/// One page of published services matching `query`, newest publication
/// first. A page may hold fewer than `limit` services while `next` continues.
pub fn browse(
    kv: &dyn KeyValue,
    query: &MarketplaceQuery,
) -> Result<Listing<MarketplaceServiceView>> {
    let backend = match query.quantum_backend.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(b) if quantum_backend::is_known(b) => Some(b.to_string()),
        Some(_) => {
            return Err(Error::invalid_field(
                "quantumBackend",
                quantum_backend::expected(),
            ))
        }
    };
    let needle = match query.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            return Err(Error::invalid_field(
                "q",
                format!("has more than {MAX_QUERY_CHARS} characters"),
            ))
        }
        Some(q) => Some(q.to_lowercase()),
    };
    let limit = query.limit.max(1);
    let mut items = Vec::new();
    let mut before = query.before;
    let mut visited = 0;
    loop {
        let chunk = (MAX_VISITED_PER_PAGE - visited).min(limit.max(20));
        let page = index().page(kv, before, chunk)?;
        let count = page.entries.len();
        for (i, (seq, id)) in page.entries.iter().enumerate() {
            visited += 1;
            let Some(s) = service::find(kv, id)? else {
                continue;
            };
            // Entries left by unpublish races or deletes no longer match the record.
            if s.lifecycle != Lifecycle::Published || s.marketplace_seq != Some(*seq) {
                continue;
            }
            if backend.as_deref().is_some_and(|b| s.quantum_backend != b) {
                continue;
            }
            if let Some(needle) = &needle {
                if !s.name.to_lowercase().contains(needle)
                    && !s.description.to_lowercase().contains(needle)
                {
                    continue;
                }
            }
            let plans = pricing_plan::all_of(kv, &s.id)?;
            items.push(MarketplaceServiceView::new(&s, plans));
            if items.len() == limit {
                let last_of_all = i + 1 == count && page.next.is_none();
                return Ok(Listing {
                    items,
                    next: (!last_of_all).then_some(*seq),
                });
            }
        }
        match page.next {
            None => return Ok(Listing { items, next: None }),
            Some(next) if visited >= MAX_VISITED_PER_PAGE => {
                return Ok(Listing {
                    items,
                    next: Some(next),
                })
            }
            Some(next) => before = Some(next),
        }
    }
}
