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
//! subscription's plan, a timestamp more than 5 minutes ahead or 35 days
//! back, or one in a month whose invoices are final) and records it. A gateway call's correlation id is sealed
//! ([`qmarket_model::SealedCorrelation`]): it is opened, not looked up, and
//! names the subscription to read.
//!
//! # What recording writes
//!
//! An accepted event gets a random `evt_…` id and is written, in one atomic
//! `set_many`, into three slots whose numbers come from atomic `increment`s:
//! one in its subscription's usage log of the event's month
//! (`sub/{sub}/usage/{yyyymm}`, what bills are made of), one in its
//! service's listing index (`service/{svc}/events`) and one in the index of
//! its call's events (`sub/{sub}/call/{correlationId}/events`, what a call's
//! view shows). Nothing is ever read,
//! modified and written back, and no counter is ever added to: bills are
//! derived from the slots alone ([`rollup`]), through roll-ups of closed
//! blocks of slots that any writer computes identically. A report is
//! therefore counted exactly when its slots were written, which is exactly
//! when it was acknowledged, whatever crashes or store failures cut a
//! request short: the only write that matters is one atomic step. A batch
//! is recorded the same way, all its events in one `set_many` after one
//! reservation per usage log, listing and call ([`record_reports`]).
//!
//! # Exactly once per `eventId`
//!
//! A report with an `eventId` (or an `Idempotency-Key` header) is recorded
//! once per account. Real Spin stores do not make compare-and-swap atomic,
//! so its key `metering-idem/{acc}/{sha256(eventId)}` is claimed with an
//! `increment`, and the claimant writes the event's slots together with the
//! key's value (the event and its slots) in its one `set_many`. Every later
//! copy waits for that value (up to 2 s) and answers with that event
//! (`Idempotent-Replayed: true`). A claimant that died before writing is
//! taken over by the first copy to claim the next takeover generation
//! ([`qmarket_store::write_once_by`]). Should a stalled claimant still write
//! after a takeover, two copies have slots; the key's value names one, and
//! listings and bills count only that one ([`LoggedEvent::counts`]). A copy
//! answers 409 ("being recorded, retry") instead of guessing when every
//! takeover generation was claimed and no value appeared.
//!
//! Reports without an `eventId` are not idempotent: a client that retries
//! one after a timeout may count it twice. A batch may instead carry one
//! `Idempotency-Key` for all its reports: its claim and its kept answer
//! make the whole batch count once, and a repeat of the same body gets the
//! first answer (a different body under the same key is refused, 422).
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
//! # Pricing, invoices and late reports
//!
//! A product's amount is a function of the quantity a subscription used in
//! one calendar month, by the product's pricing model (per unit, graduated
//! or volume tiers, packages; a monthly free allowance first):
//! [`qmarket_model::Pricing`]. A usage window is priced month by month as
//! the difference of the month-to-date amounts at its ends ([`bill`]).
//! Every month is a subscription's invoice ([`invoices`]), `OPEN` until the
//! month's end plus a grace period ([`Grace`], 2 days by default) and
//! `FINAL` after; a report of usage in a final month is refused (422 on
//! `timestamp`), so a final invoice never changes. Each event's own cost is
//! its marginal amount in the order of the month's usage log
//! ([`event_amounts`], [`month_events`]); the events of an invoice add up
//! to its total exactly. A provider's revenue of a month is the invoice
//! totals of a service's subscriptions ([`revenue`]).
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
pub mod bill;
mod calls;
mod finality;
mod ingest;
mod invoice;
mod listing;
pub mod marginal;
mod placement;
mod report;
mod revenue;
pub mod rollup;
mod spend_cap;
mod usage;
mod view;
mod window;

pub use batch::{record_batch, MAX_BATCH};
pub use calls::{get_call, list_calls, CallEventView, CallPage, CallView, MAX_EVENTS_PER_CALL};
pub use finality::{Grace, InvoiceStatus, DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS};
pub use ingest::{
    record_reports, record_usage, Answered, Ingest, Recorded, RequestKey, Waiting,
    MAX_FUTURE_SECONDS, MAX_PAST_SECONDS, WRITE_DEADLINE_SECONDS,
};
pub use invoice::{invoice, invoice_events, invoices, Billing, InvoicePage, InvoiceView};
pub use listing::{list_events, EventFilter, EventPage, MAX_SCANNED_PER_PAGE};
pub use marginal::{event_amounts, month_events, PricedEvent};
pub use placement::{LoggedEvent, Placement};
pub use report::{UsageReport, MAX_COUNT_INTEGER_DIGITS, MAX_EVENT_ID_CHARS};
pub use revenue::{revenue, RevenueLine, RevenueView};
pub use rollup::{Rollup, UsageLog, BLOCK, HOLE_GRACE_SECONDS};
pub use spend_cap::{
    remove_spend_cap, set_spend_cap, spend_cap, SpendCapView, MAX_CAP_INTEGER_DIGITS,
};
pub use usage::usage;
pub use view::{EventView, Receipt, UsageLine, UsageView};
pub use window::{
    current_month, month_of, month_text, month_window, parse_month, Window, MAX_USAGE_DAYS,
};

#[cfg(test)]
mod billing_tests;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[cfg(test)]
mod tests;
