//! A subscription's usage bill over a window.

use qmarket_core::Result;
use qmarket_model::CURRENCY;
use qmarket_store::KeyValue;

use crate::bill::{billed_subscription, priced_lines};
use crate::view::UsageView;
use crate::window::Window;

/// The usage of subscription `subscription_id` in `window` (whole UTC days),
/// for its subscriber or the service's owner (`caller`; anyone else gets 404).
///
/// One line per product of the subscription's plan, priced by the
/// product's pricing model (see [`crate::bill`]). Reads only: the roll-ups
/// and open slots of the months the window touches.
pub fn usage(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    window: Window,
) -> Result<UsageView> {
    let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
    let (lines, total) = priced_lines(kv, &subscription, &plan, window)?;
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
