//! A subscriber's monthly spend cap on a subscription.
//!
//! The cap is the subscriber's setting (`sub/{sub}/spend-cap`). Metering
//! notes, after it recorded usage of a capped subscription, whether the
//! month's open bill reached the cap, and if so writes the mark
//! `sub/{sub}/cap-reached/{yyyymm}`; the gateway reads cap and mark with
//! the subscription (no extra round trip) and answers 402 while the mark's
//! spending is at or over the cap. So the gateway never sums a bill, and a
//! raised cap lets calls through at once (the mark stays below it), until
//! usage reaches the new cap. Setting a cap notes the spending too, so a cap
//! set below what was already spent takes effect on the next call.
//!
//! Usage already under way when the cap is reached still counts: the cap
//! stops new calls, it does not refuse reports of calls that were admitted.

use qmarket_core::decimal::{Amount, Sign};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{CapReached, PricingPlan, SpendCap, Subscription, CURRENCY};
use qmarket_store::KeyValue;
use serde::Serialize;
use serde_json::Value;

use crate::bill::{billed_subscription, priced_lines};
use crate::window::{current_month, month_text};

/// The most integer digits of a cap.
pub const MAX_CAP_INTEGER_DIGITS: usize = 12;

/// A subscription's spend cap and this month's spending, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendCapView {
    /// The subscription.
    pub subscription_id: String,
    /// EUR per calendar month; `null` when none is set.
    pub monthly_cap: Option<Amount>,
    /// Always `EUR`.
    pub currency: &'static str,
    /// The current month, `yyyy-mm`.
    pub month: String,
    /// The month's bill so far.
    pub spent: Amount,
    /// Whether the gateway refuses calls (402) for the rest of the month.
    pub reached: bool,
}

fn cap_of(kv: &dyn KeyValue, subscription_id: &str) -> Result<Option<SpendCap>> {
    kv.get(&Subscription::spend_cap_key(subscription_id))?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!(
                    "the spend cap of {subscription_id} is unreadable: {e}"
                ))
            })
        })
        .transpose()
}

/// The month's bill of `subscription` (billed under `plan`) so far.
fn spent(
    kv: &dyn KeyValue,
    subscription: &Subscription,
    plan: &PricingPlan,
    now: Timestamp,
) -> Result<Amount> {
    Ok(priced_lines(kv, subscription, plan, current_month(now)?)?.1)
}

/// Subscription `subscription_id` and its plan, when `caller` is its
/// subscriber (the provider gets 403 for `doing`, anyone else 404).
fn as_subscriber(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    doing: &str,
) -> Result<(Subscription, PricingPlan)> {
    let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
    if subscription.subscriber_id != caller {
        return Err(Error::Forbidden(format!(
            "only the subscriber {doing} a subscription's spend cap"
        )));
    }
    Ok((subscription, plan))
}

/// The spend cap of subscription `subscription_id` with this month's
/// spending, for its subscriber or provider (`caller`; 404 for others).
pub fn spend_cap(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    now: Timestamp,
) -> Result<SpendCapView> {
    let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
    let cap = cap_of(kv, &subscription.id)?;
    let spent = spent(kv, &subscription, &plan, now)?;
    Ok(view(
        &subscription.id,
        cap.map(|c| c.monthly_cap),
        spent,
        now,
    ))
}

fn view(subscription_id: &str, cap: Option<Amount>, spent: Amount, now: Timestamp) -> SpendCapView {
    let month = now.utc_month();
    SpendCapView {
        subscription_id: subscription_id.to_string(),
        monthly_cap: cap,
        currency: CURRENCY,
        month: month_text(month),
        spent,
        reached: cap.is_some_and(|cap| spent >= cap),
    }
}

/// Sets the spend cap of subscription `subscription_id` from `body`
/// (`{"monthlyCap": "25.00"}`, EUR ≥ 0 with at most 16 fractional digits);
/// only its subscriber may (the provider gets 403, anyone else 404).
pub fn set_spend_cap(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    body: &Value,
    now: Timestamp,
) -> Result<SpendCapView> {
    let (subscription, plan) = as_subscriber(kv, caller, subscription_id, "sets")?;
    let object = body
        .as_object()
        .ok_or_else(|| Error::bad_request("the body must be a JSON object"))?;
    if let Some(unknown) = object.keys().find(|k| k.as_str() != "monthlyCap") {
        return Err(Error::invalid_field(
            qmarket_core::excerpt(unknown, 100),
            "is not a field of a spend cap",
        ));
    }
    let raw = object
        .get("monthlyCap")
        .ok_or_else(|| Error::invalid_field("monthlyCap", "is required"))?;
    let monthly_cap = Amount::from_json(raw, MAX_CAP_INTEGER_DIGITS, Sign::NonNegative)
        .map_err(|e| Error::unprocessable_field("monthlyCap", e.to_string()))?;
    let cap = SpendCap {
        monthly_cap,
        updated_at: now,
    };
    let bytes = serde_json::to_vec(&cap)
        .map_err(|e| Error::Internal(format!("cannot encode a spend cap: {e}")))?;
    kv.set(&Subscription::spend_cap_key(&subscription.id), &bytes)?;
    let spent = note(kv, &subscription, &plan, &cap, now)?;
    Ok(view(&subscription.id, Some(monthly_cap), spent, now))
}

/// Removes the spend cap of subscription `subscription_id` (its subscriber
/// only, as [`set_spend_cap`]).
pub fn remove_spend_cap(kv: &dyn KeyValue, caller: &str, subscription_id: &str) -> Result<()> {
    let (subscription, _) = as_subscriber(kv, caller, subscription_id, "removes")?;
    kv.delete(&Subscription::spend_cap_key(&subscription.id))
        .map_err(Into::into)
}

/// After usage of subscription `subscription_id` was recorded by `caller`
/// (its provider): when it has a cap and the month's bill reached it, marks
/// the month as reached.
pub(crate) fn note_spending(
    kv: &dyn KeyValue,
    caller: &str,
    subscription_id: &str,
    now: Timestamp,
) -> Result<()> {
    match cap_of(kv, subscription_id)? {
        Some(cap) => {
            let (subscription, plan) = billed_subscription(kv, caller, subscription_id)?;
            note(kv, &subscription, &plan, &cap, now).map(drop)
        }
        None => Ok(()),
    }
}

/// Sums the month's bill of `subscription` and writes the mark when it
/// reached `cap`.
fn note(
    kv: &dyn KeyValue,
    subscription: &Subscription,
    plan: &PricingPlan,
    cap: &SpendCap,
    now: Timestamp,
) -> Result<Amount> {
    let spent = spent(kv, subscription, plan, now)?;
    if spent >= cap.monthly_cap {
        let reached = CapReached {
            spent,
            cap: cap.monthly_cap,
            at: now,
        };
        let bytes = serde_json::to_vec(&reached)
            .map_err(|e| Error::Internal(format!("cannot encode a spend cap mark: {e}")))?;
        kv.set(
            &Subscription::cap_reached_key(&subscription.id, now.utc_month()),
            &bytes,
        )?;
    }
    Ok(spent)
}
