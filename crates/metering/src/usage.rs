//! A subscription's usage bill, summed from the per-day counters.

use qmarket_core::decimal::{Amount, Quantity};
use qmarket_core::{Error, Result};
use qmarket_model::{MeteringEvent, PricingPlan, Record, Subscription, CURRENCY};
use qmarket_store::{counter, KeyValue};

use crate::view::{UsageLine, UsageView};
use crate::window::Window;

/// The usage of subscription `subscription_id` in `window` (whole UTC days),
/// for its subscriber or the service's owner (`caller`; anyone else gets 404).
///
/// One line per product of the subscription's plan, each priced at the plan's
/// unit price: a plan with subscriptions cannot change its products, so every
/// event of the subscription was priced the same way.
pub fn usage(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    window: Window,
) -> Result<UsageView> {
    let subscription = match Subscription::load(kv, subscription_id)? {
        Some(s) if s.subscriber_id == caller || s.provider_id == caller => s,
        _ => {
            return Err(Error::not_found(
                "subscription",
                &subscription_id.chars().take(100).collect::<String>(),
            ))
        }
    };
    let plan = PricingPlan::load(kv, &subscription.pricing_plan_id)?.ok_or_else(|| {
        Error::Internal(format!(
            "plan {} of subscription {} is missing",
            subscription.pricing_plan_id, subscription.id
        ))
    })?;
    let overflow = || Error::Internal(format!("usage of {} overflows", subscription.id));
    let mut lines = Vec::with_capacity(plan.products.len());
    let mut total = Amount::ZERO;
    for product in &plan.products {
        let mut micro_units: i128 = 0;
        for day in window.day_range() {
            let key = MeteringEvent::usage_key(&subscription.id, &product.id, day);
            micro_units += i128::from(counter(kv, &key)?);
        }
        // Quantities have 6 fractional digits: one unit of a Quantity is one micro-unit.
        let quantity = Quantity::from_units(micro_units);
        let amount = quantity.times(product.unit_price).ok_or_else(overflow)?;
        total = total.checked_add(amount).ok_or_else(overflow)?;
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
        total,
    })
}
