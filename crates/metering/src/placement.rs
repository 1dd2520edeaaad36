//! Where an accepted event lives, and which copy of an event counts.
//!
//! An event is written, in one atomic `set_many`, into a slot of its
//! subscription's usage log (what bills are made of), into a slot of its
//! service's listing index (what providers page through) and, for a report
//! with an `eventId`, as the value of its idempotency key. A slot is only
//! ever written once and never changed, so every reader that looks at the
//! same slots reaches the same answer.
//!
//! Copies: a report whose first writer died after claiming its `eventId` is
//! taken over by a retry, which writes its own slots; a stalled first
//! writer may still write its slots later. The idempotency key's value says
//! which copy is the event: a logged event with an `eventId` counts (and is
//! listed) only where that value points.

use qmarket_core::{Result, Timestamp};
use qmarket_model::MeteringEvent;
use qmarket_store::{value_key, KeyValue};
use serde::{Deserialize, Serialize};

/// An event as its slots hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedEvent {
    /// The event.
    pub event: MeteringEvent,
    /// Its slots.
    pub placement: Placement,
}

/// The slots of one copy of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// The usage log (key prefix) of the event's subscription and month.
    pub log: String,
    /// The event's slot in that log.
    pub log_slot: u64,
    /// The event's slot in its service's listing index.
    pub listing_slot: u64,
    /// The clock right after both slots were reserved: a slot reserved
    /// before it that is still empty long after is abandoned.
    pub reserved_at: Timestamp,
    /// The idempotency key (store key) of a report with an `eventId`.
    pub idempotency_key: Option<String>,
}

impl LoggedEvent {
    /// Whether this copy is the event, given the value of its idempotency
    /// key (`settled`; ignored for an event without one).
    pub fn counts(&self, settled: Option<&LoggedEvent>) -> bool {
        match &self.placement.idempotency_key {
            None => true,
            Some(_) => settled.is_some_and(|s| {
                s.placement.log == self.placement.log
                    && s.placement.log_slot == self.placement.log_slot
            }),
        }
    }

    /// Whether this copy is the listed one, given the value of its
    /// idempotency key.
    pub fn is_listed(&self, settled: Option<&LoggedEvent>) -> bool {
        match &self.placement.idempotency_key {
            None => true,
            Some(_) => settled.is_some_and(|s| {
                s.event.service_id == self.event.service_id
                    && s.placement.listing_slot == self.placement.listing_slot
            }),
        }
    }
}

/// Logged events read from slots, each with the value its idempotency key
/// settled on (read for all of them in one round trip).
pub(crate) fn with_settled(
    kv: &dyn KeyValue,
    events: Vec<LoggedEvent>,
) -> Result<Vec<(LoggedEvent, Option<LoggedEvent>)>> {
    let keys: Vec<String> = events
        .iter()
        .filter_map(|e| e.placement.idempotency_key.as_deref().map(value_key))
        .collect();
    let mut values = kv.get_many(&keys)?.into_iter();
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let settled = match &event.placement.idempotency_key {
            None => None,
            Some(_) => values
                .next()
                .flatten()
                .and_then(|bytes| serde_json::from_slice::<LoggedEvent>(&bytes).ok()),
        };
        out.push((event, settled));
    }
    Ok(out)
}

/// A slot's bytes as a logged event; `None` for bytes that are not one
/// (never written by this crate).
pub(crate) fn decode(bytes: &[u8]) -> Option<LoggedEvent> {
    serde_json::from_slice(bytes).ok()
}
