//! Pricing a subscription's usage over a window, month by month.
//!
//! A product's pricing is a function `P(q)` of the quantity a subscription
//! used in one calendar month ([`qmarket_model::Pricing`]). A window that
//! covers part of a month is priced as the difference of the month-to-date
//! amounts at its ends, `P(q(end)) − P(q(start))`, summed over the months
//! it touches; so the windows that split a month add up to the month's
//! amount exactly. For `VOLUME` such a difference can be negative: the
//! units of the window may lift the month into a cheaper tier for all its
//! units.

use std::ops::Range;

use qmarket_core::decimal::Amount;
use qmarket_core::{Error, Result};
use qmarket_model::{Charge, PricingPlan, Record, Subscription};
use qmarket_store::KeyValue;

use crate::rollup::{total, UsageLog};
use crate::view::UsageLine;
use crate::window::{month_window, Window};

/// Subscription `subscription_id` and its plan, for its subscriber or the
/// service's owner (`caller`); 404 for anyone else.
pub(crate) fn billed_subscription(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
) -> Result<(Subscription, PricingPlan)> {
    let subscription = match Subscription::load(kv, subscription_id)? {
        Some(s) if s.subscriber_id == caller || s.provider_id == caller => s,
        _ => {
            return Err(Error::not_found(
                "subscription",
                &subscription_id.chars().take(100).collect::<String>(),
            ))
        }
    };
    let plan = plan_of(kv, &subscription)?;
    Ok((subscription, plan))
}

/// The plan `subscription` is billed under.
pub(crate) fn plan_of(kv: &dyn KeyValue, subscription: &Subscription) -> Result<PricingPlan> {
    PricingPlan::load(kv, &subscription.pricing_plan_id)?.ok_or_else(|| {
        Error::Internal(format!(
            "plan {} of subscription {} is missing",
            subscription.pricing_plan_id, subscription.id
        ))
    })
}

/// One line per product of `plan` for the usage of `subscription` in
/// `window` (whole UTC days), and their exact total. Reads only: the
/// roll-ups and open slots of the months the window touches.
///
/// A plan with subscriptions cannot change its products, so every event of
/// the subscription is priced the same way.
pub(crate) fn priced_lines(
    kv: &dyn KeyValue,
    subscription: &Subscription,
    plan: &PricingPlan,
    window: Window,
) -> Result<(Vec<UsageLine>, Amount)> {
    let overflow = || Error::Internal(format!("usage of {} overflows", subscription.id));
    let mut charges = plan
        .products
        .iter()
        .map(|p| Charge::zero(&p.pricing()))
        .collect::<Result<Vec<Charge>>>()?;
    let days = window.day_range();
    for month in window.months()? {
        let used = total(kv, &UsageLog::of(&subscription.id, month))?;
        let whole = month_window(month)?.day_range();
        // Month to date at the window's start and at its end.
        let before: Range<i64> = whole.start..days.start.clamp(whole.start, whole.end);
        let until: Range<i64> = whole.start..days.end.clamp(whole.start, whole.end);
        for (product, charge) in plan.products.iter().zip(charges.iter_mut()) {
            let part = product.pricing().charge_between(
                used.units(&product.id, before.clone())?,
                used.units(&product.id, until.clone())?,
            )?;
            *charge = charge.plus(&part)?;
        }
    }
    let mut lines = Vec::with_capacity(plan.products.len());
    let mut sum = Amount::ZERO;
    for (product, charge) in plan.products.iter().zip(charges) {
        sum = sum.checked_add(charge.amount).ok_or_else(overflow)?;
        lines.push(UsageLine {
            product_id: product.id.clone(),
            product_name: product.name.clone(),
            unit: product.unit.clone(),
            unit_price: product.unit_price,
            quantity: charge.quantity,
            amount: charge.amount,
            pricing_model: product.pricing_model,
            free_quantity: charge.free_quantity,
            breakdown: charge.bands,
        });
    }
    Ok((lines, sum))
}
