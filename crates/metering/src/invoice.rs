//! Monthly invoices of a subscription, and the events behind each.
//!
//! A subscription has one invoice per calendar month (UTC), from its first
//! month to the current one. Its first month is the month it was created
//! in, or an earlier one that holds usage (a report may carry a timestamp
//! up to 35 days back, also before the subscription existed). An invoice's
//! lines are the usage lines of its whole month; it is `OPEN` until the
//! month's end plus the grace period ([`Grace`]) and `FINAL` after, when no
//! report can change it any more.

use qmarket_core::decimal::Amount;
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{PricingPlan, Subscription, CURRENCY};
use qmarket_store::KeyValue;
use serde::Serialize;

use crate::bill::{billed_subscription, priced_lines};
use crate::finality::{Grace, InvoiceStatus};
use crate::marginal::{month_events, PricedEvent};
use crate::rollup::UsageLog;
use crate::view::UsageLine;
use crate::window::{month_of, month_text, month_window, parse_month, previous_month};
use crate::MAX_PAST_SECONDS;

/// A subscription's invoice of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    /// The subscription.
    pub subscription_id: String,
    /// The month, `2026-12`.
    pub month: String,
    /// The month's first instant (UTC midnight).
    pub from: Timestamp,
    /// The next month's first instant.
    pub to: Timestamp,
    /// `OPEN` or `FINAL`.
    pub status: InvoiceStatus,
    /// When the invoice is, or becomes, final: the month's end plus the
    /// grace period.
    pub final_at: Timestamp,
    /// Always `EUR`.
    pub currency: &'static str,
    /// Whether the subscription's usage is test usage.
    pub test_mode: bool,
    /// One line per product of the plan, as usage lines.
    pub lines: Vec<UsageLine>,
    /// The exact sum of the lines' amounts.
    pub total: Amount,
}

/// One page of a subscription's invoices, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePage {
    /// The invoices.
    pub items: Vec<InvoiceView>,
    /// The month the next page starts with (`2026-10`), if any.
    pub next: Option<String>,
}

/// Who asks, when, and how long months stay open.
#[derive(Clone, Copy)]
pub struct Billing<'a> {
    /// The store.
    pub kv: &'a dyn KeyValue,
    /// The subscriber or the service's owner (anyone else gets 404).
    pub caller: &'a str,
    /// The current time.
    pub now: Timestamp,
    /// The grace period after a month's end.
    pub grace: Grace,
}

/// The months (`yyyymm`) `subscription` has invoices for, at `now`: from
/// its first month to the current one.
fn months(kv: &dyn KeyValue, subscription: &Subscription, now: Timestamp) -> Result<(u32, u32)> {
    let created = month_of(subscription.created_at)?;
    let current = month_of(now)?.max(created);
    let earliest = month_of(subscription.created_at.plus_seconds(-MAX_PAST_SECONDS))?;
    let mut first = created;
    let mut month = previous_month(created);
    while month >= earliest {
        if UsageLog::of(&subscription.id, month).index().last_seq(kv)? > 0 {
            first = month;
        }
        month = previous_month(month);
    }
    Ok((first, current))
}

/// `subscription`'s invoice of `month`, billed under `plan`.
pub(crate) fn invoice_of(
    billing: &Billing,
    subscription: &Subscription,
    plan: &PricingPlan,
    month: u32,
) -> Result<InvoiceView> {
    let window = month_window(month)?;
    let (lines, total) = priced_lines(billing.kv, subscription, plan, window)?;
    let (status, final_at) = billing.grace.status(month, billing.now)?;
    Ok(InvoiceView {
        subscription_id: subscription.id.clone(),
        month: month_text(month),
        from: window.from,
        to: window.to,
        status,
        final_at,
        currency: CURRENCY,
        test_mode: subscription.test_mode,
        lines,
        total,
    })
}

/// Up to `limit` invoices of subscription `subscription_id`, newest first,
/// starting with month `cursor` (`2026-10`, as a page's `next` gives it) or
/// the current month.
pub fn invoices(
    billing: &Billing,
    subscription_id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<InvoicePage> {
    let (subscription, plan) = billed_subscription(billing.kv, billing.caller, subscription_id)?;
    let (first, current) = months(billing.kv, &subscription, billing.now)?;
    let mut month = match cursor {
        None => current,
        Some(text) => {
            let month = parse_month("cursor", text)?;
            if month > current {
                return Err(Error::invalid_field(
                    "cursor",
                    "is not a cursor this listing returned",
                ));
            }
            month
        }
    };
    let mut items = Vec::new();
    while month >= first && items.len() < limit.max(1) {
        items.push(invoice_of(billing, &subscription, &plan, month)?);
        month = previous_month(month);
    }
    Ok(InvoicePage {
        items,
        next: (month >= first).then(|| month_text(month)),
    })
}

/// The invoice of `month` (`2026-12`) of subscription `subscription_id`;
/// 404 for a month outside its invoices.
pub fn invoice(billing: &Billing, subscription_id: &str, month: &str) -> Result<InvoiceView> {
    let (subscription, plan, month) = invoiced(billing, subscription_id, month)?;
    invoice_of(billing, &subscription, &plan, month)
}

/// Every event counted in the invoice of `month` of subscription
/// `subscription_id`, with its marginal amount, in slot order (see
/// [`crate::marginal`]): the amounts add up to the invoice's total.
pub fn invoice_events(
    billing: &Billing,
    subscription_id: &str,
    month: &str,
) -> Result<Vec<PricedEvent>> {
    let (subscription, plan, month) = invoiced(billing, subscription_id, month)?;
    let mut events = Vec::new();
    month_events(
        billing.kv,
        &plan,
        &UsageLog::of(&subscription.id, month),
        |event| {
            events.push(event);
            Ok(())
        },
    )?;
    Ok(events)
}

/// The subscription, its plan and the month of an invoice asked for.
fn invoiced(
    billing: &Billing,
    subscription_id: &str,
    month: &str,
) -> Result<(Subscription, PricingPlan, u32)> {
    let (subscription, plan) = billed_subscription(billing.kv, billing.caller, subscription_id)?;
    let not_found = || {
        Error::NotFound(format!(
            "subscription '{}' has no invoice for '{}'",
            subscription.id,
            month.chars().take(20).collect::<String>()
        ))
    };
    let wanted = parse_month("month", month).map_err(|_| not_found())?;
    let (first, current) = months(billing.kv, &subscription, billing.now)?;
    if wanted < first || wanted > current {
        return Err(not_found());
    }
    Ok((subscription, plan, wanted))
}
