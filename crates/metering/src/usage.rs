//! A subscription's usage bill, summed from its usage logs.

use qmarket_core::decimal::Amount;
use qmarket_core::{Error, Result};
use qmarket_model::{PricingPlan, Record, Subscription, CURRENCY};
use qmarket_store::KeyValue;

use crate::rollup::{total, Rollup, UsageLog};
use crate::view::{UsageLine, UsageView};
use crate::window::Window;

/// The usage of subscription `subscription_id` in `window` (whole UTC days),
/// for its subscriber or the service's owner (`caller`; anyone else gets 404).
///
/// One line per product of the subscription's plan, each priced at the plan's
/// unit price: a plan with subscriptions cannot change its products, so every
/// event of the subscription was priced the same way. Reads only: the
/// roll-ups and open slots of the months the window touches.
pub fn usage(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    window: Window,
) -> Result<UsageView> {
    let subscription = match Subscription::load(kv, subscription_id)? {
        Some(s) if s.subscriber_id == caller || s.provider_id == caller => s,
        _ => return Err(Error::not_found("subscription", subscription_id)),
    };
    let plan = PricingPlan::load(kv, &subscription.pricing_plan_id)?.ok_or_else(|| {
        Error::Internal(format!(
            "plan {} of subscription {} is missing",
            subscription.pricing_plan_id, subscription.id
        ))
    })?;
    let mut used = Rollup::default();
    for month in window.months()? {
        used.merge(&total(kv, &UsageLog::of(&subscription.id, month))?)?;
    }
    let overflow = || Error::Internal(format!("usage of {} overflows", subscription.id));
    let mut lines = Vec::with_capacity(plan.products.len());
    let mut total_amount = Amount::ZERO;
    for product in &plan.products {
        let quantity = used.units(&product.id, window.day_range())?;
        let amount = quantity.times(product.unit_price).ok_or_else(overflow)?;
        total_amount = total_amount.checked_add(amount).ok_or_else(overflow)?;
        lines.push(UsageLine {
            product_id: product.id.clone(),
            product_name: product.name.clone(),
            unit: product.unit.clone(),
            unit_price: product.unit_price,
            quantity,
            amount,
        });
    }
    Ok(UsageView {
        subscription_id: subscription.id,
        from: window.from,
        to: window.to,
        currency: CURRENCY,
        test_mode: subscription.test_mode,
        lines,
        total: total_amount,
    })
}
