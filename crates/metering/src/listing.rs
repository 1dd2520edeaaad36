//! A service's metering events, newest received first.

use qmarket_core::{Error, Result};
use qmarket_model::{MeteringEvent, Record, Service};

use crate::placement::{decode, with_settled, LoggedEvent};
use qmarket_store::{Index, KeyValue};

use crate::view::EventView;
use crate::window::Window;

/// The most index entries one page looks at, whatever the filters reject:
/// a page may hold fewer items than asked while its cursor continues.
pub const MAX_SCANNED_PER_PAGE: usize = 2_000;

/// Which events to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFilter {
    /// Events whose usage `timestamp` lies in this window.
    pub window: Window,
    /// Only test (`Some(true)`) or only live (`Some(false)`) usage.
    pub test_mode: Option<bool>,
}

impl EventFilter {
    fn accepts(&self, event: &MeteringEvent) -> bool {
        self.window.contains(event.timestamp)
            && self.test_mode.is_none_or(|mode| mode == event.test_mode)
    }
}

/// One page of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, most recently received first.
    pub items: Vec<EventView>,
    /// Where the next page starts (an index sequence number), if any.
    pub next: Option<u64>,
}

/// Up to `limit` events of service `service_id` (owned by `caller`, else
/// 404) received before index position `before`, that pass `filter`.
pub fn list_events(
    kv: &dyn KeyValue,
    caller: &str,
    service_id: &str,
    filter: EventFilter,
    limit: usize,
    before: Option<u64>,
) -> Result<EventPage> {
    match Service::load(kv, service_id)? {
        Some(service) if service.owner_id == caller => {}
        _ => {
            return Err(Error::not_found(
                "service",
                &service_id.chars().take(100).collect::<String>(),
            ))
        }
    }
    let index = Index::new(MeteringEvent::service_index(service_id));
    let mut items = Vec::new();
    let mut scanned = 0;
    let mut cursor = before;
    loop {
        let want = (limit - items.len())
            .max(20)
            .min(MAX_SCANNED_PER_PAGE - scanned);
        let page = index.page(kv, cursor, want)?;
        let seqs: Vec<u64> = page.entries.iter().map(|(seq, _)| *seq).collect();
        let logged: Vec<Option<LoggedEvent>> = page
            .entries
            .iter()
            .map(|(_, text)| decode(text.as_bytes()))
            .collect();
        let readable: Vec<LoggedEvent> = logged.iter().flatten().cloned().collect();
        let mut settled = with_settled(kv, readable)?.into_iter();
        for (seq, entry) in seqs.iter().zip(logged) {
            scanned += 1;
            cursor = Some(*seq);
            if entry.is_some() {
                if let Some((event, first)) = settled.next() {
                    if event.is_listed(first.as_ref()) && filter.accepts(&event.event) {
                        items.push(EventView::from(&event.event));
                    }
                }
            }
            if items.len() == limit || scanned == MAX_SCANNED_PER_PAGE {
                // Continue after the last entry looked at, unless it was the
                // index's last.
                let more = *seq > 1 || page.next.is_some();
                return Ok(EventPage {
                    items,
                    next: if more { cursor } else { None },
                });
            }
        }
        match page.next {
            None => return Ok(EventPage { items, next: None }),
            Some(next) => cursor = Some(next),
        }
    }
}
