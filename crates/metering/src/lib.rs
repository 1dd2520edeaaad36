//! Metering: providers report usage of their services, the platform counts
//! it exactly once, lists it and bills it exactly.
//!
//! A provider's service receives an `x-correlation-id` with every call the
//! gateway forwards, and reports usage for it (PlanQK's request shape):
//! `{"correlationId", "productId" | "itemId", "count", "eventId"?, "timestamp"?}`.
//! [`UsageReport::from_json`] reads and checks the body (400 for anything
//! malformed, unknown fields included: PlanQK clients send exactly these
//! fields, and a typo such as `cout` should not pass unnoticed);
//! [`record_usage`] checks it against the store (404 for a correlation that is
//! unknown or of someone else's service, 422 for a product outside the
//! subscription's plan or a timestamp more than 5 minutes ahead or 35 days
//! back) and records it.
//!
//! # What recording writes
//!
//! Every accepted event gets a random `evt_…` id and its own key
//! (`event/{evt}`), is appended to the service's
//! [`qmarket_store::Index`] (sequence numbers from an atomic `increment`, so
//! concurrent appends never lose each other and listings need no scan), and
//! adds its count in micro-units (count × 10^6, an integer) to the counter
//! `sub/{sub}/usage/{prod}/{day}` with an atomic `increment`. No key is ever
//! read, modified and written back, so concurrent reports are never lost.
//! Usage bills sum the day counters ([`usage`]); listings walk the index.
//!
//! # Exactly once
//!
//! A report with an `eventId` (or an `Idempotency-Key` header) is recorded
//! once per account. Real Spin stores do not make compare-and-swap atomic, so
//! the claim is an `increment` of `metering-idem/{acc}/{sha256(eventId)}`:
//!
//! 1. The caller whose increment returns 1 owns the id. The event is fully
//!    built before the claim; right after it, the owner writes the event as
//!    the key's *intent* (`…/intent`).
//! 2. The event record is written, then each effect (service index, usage
//!    counter) is applied by whoever first claims
//!    `…/applied/{effect}`.
//! 3. A duplicate (increment > 1) polls for the intent (up to 2 s, short
//!    sleeps), then runs step 2 itself — its claims lose where the owner got
//!    there first — and answers with the first event. So a retry after a
//!    crash anywhere after step 1 completes the event, and no effect is
//!    applied twice.
//! 4. A duplicate that sees no intent for 2 s concludes that the owner died
//!    between its claim and its intent write (nothing was applied then). The
//!    first such duplicate to claim `…/takeover` records its own event in the
//!    owner's place; the others wait for it and otherwise answer 409
//!    ("being recorded, retry") instead of risking a second count.
//!
//! What remains, honestly:
//! - A crash between claiming an effect and applying it loses that effect
//!   (at most once wins over at least once): the event may then miss from a
//!   listing, or its count from the bill. The window is one store round-trip.
//!   A host that cancels a handler when its client disconnects (the embedded
//!   host does, at any store call) opens the same window: a client that gives
//!   up on a report mid-way should retry it with the same `eventId`, which
//!   completes every effect not yet claimed. A store that fails between the
//!   claim and the write (Redis going down under load, answered 503) opens
//!   it too; the event was then never acknowledged.
//! - If an owner is merely stalled (not dead) for more than 2 s between its
//!   claim and its intent write, and a duplicate takes over meanwhile, the
//!   stalled owner's intent can overwrite the taker's: each effect is still
//!   applied once, but the two callers got different event ids, and the
//!   listing may show either.
//! - If the taker dies in the same window too, the id stays claimed and every
//!   later copy answers 409; nothing was counted for it, so the client may
//!   report under a new `eventId`.
//! - Reports without an `eventId` are not idempotent: a client that retries
//!   one after a timeout may count it twice.
//!
//! # Usage windows
//!
//! `from`/`to` take RFC 3339 timestamps or UTC dates ([`Window`]). Usage
//! bills cover whole UTC days (their totals are per day): `from` is rounded
//! down and `to` up to midnight, a date as `to` includes that day, the window
//! is at most 366 days, and it defaults to the current calendar month. The
//! bill states the effective `[from, to)`. Events fall into the day of their
//! usage `timestamp`.
//!
//! # Listing order
//!
//! Listings are newest *received* first (index order), which is not strictly
//! the order of the reported `timestamp`s when clients send past timestamps.
//! Filters are applied while walking the index; a page looks at most at
//! [`MAX_SCANNED_PER_PAGE`] entries, so it may hold fewer items than asked
//! while `nextCursor` continues.
#![deny(missing_docs)]

mod batch;
mod ingest;
mod listing;
mod report;
mod usage;
mod view;
mod window;

pub use batch::{record_batch, MAX_BATCH};
pub use ingest::{record_usage, Recorded, Waiting, MAX_FUTURE_SECONDS, MAX_PAST_SECONDS};
pub use listing::{list_events, EventFilter, EventPage, MAX_SCANNED_PER_PAGE};
pub use report::{UsageReport, MAX_COUNT_INTEGER_DIGITS, MAX_EVENT_ID_CHARS};
pub use usage::usage;
pub use view::{EventView, Receipt, UsageLine, UsageView};
pub use window::{current_month, Window, MAX_USAGE_DAYS};

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[cfg(test)]
mod tests;
