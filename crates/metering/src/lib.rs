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
//! every "first one wins" below is a [`qmarket_store::write_once`]: a claim
//! by `increment` of a key, then a write of the value under it, which later
//! copies read (waiting up to 2 s for it) or, if it never comes, one of them
//! writes in a takeover. For `metering-idem/{acc}/{sha256(eventId)}`:
//!
//! 1. The event is fully built, then written once as the key's *intent*
//!    (`…/value`). Every copy of the report gets that event back, the first
//!    copy's.
//! 2. Every copy writes the event record (rewriting it is harmless).
//! 3. The event's slot in the service index is chosen once (`…/listed`: a
//!    sequence number from the index's `increment`), and every copy fills
//!    that slot with the event id. A copy cut off anywhere in this step —
//!    killed, or its store failing between two calls — leaves at worst an
//!    empty slot, which the next copy fills: an event acknowledged to any
//!    copy is listed, and listed once.
//! 4. The usage count is added by whichever copy first claims
//!    `…/applied/usage`.
//!
//! A copy answers 409 ("being recorded, retry") instead of guessing when a
//! value it needs was claimed and neither it nor a takeover's value
//! appeared in time: the claimant and the taker both died in the window
//! between their claim and their write.
//!
//! What remains, honestly:
//! - A counter `increment` cannot be repeated safely, so the usage count
//!   stays at most once: a copy cut off between claiming `…/applied/usage`
//!   and its `increment` (one store round-trip; a host that cancels a
//!   handler when its client disconnects opens it too, the embedded host
//!   does) loses that count, and a retry is then answered 200 with the event
//!   listed but its count missing from the bill. Billing less in that window
//!   is the chosen failure: billing twice would not be.
//! - If a claimant is merely stalled (not dead) for more than 2 s between
//!   its claim and its write, and a copy takes over meanwhile, the stalled
//!   one's write can overwrite the taker's: the two callers may have been
//!   given different event ids (the listing shows one of them), or the
//!   event may take two slots.
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
