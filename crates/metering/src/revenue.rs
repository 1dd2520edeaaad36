//! A provider's revenue from one service in one month: the invoice totals
//! of its subscriptions.
//!
//! The subscriptions are read from the service's subscription index
//! (`Subscription::service_index`, appended to when a subscription is
//! made and never pruned), never by a scan. A subscription is listed when
//! it was made before the month ended or has usage in it; ended ones are
//! listed too, since their usage is billed.

use std::collections::HashMap;

use qmarket_core::decimal::Amount;
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{PricingPlan, Record, Service, Subscription, CURRENCY};
use qmarket_store::Index;
use serde::Serialize;

use crate::bill::{plan_of, priced_lines};
use crate::finality::InvoiceStatus;
use crate::invoice::Billing;
use crate::rollup::UsageLog;
use crate::window::{month_text, month_window};

/// Subscriptions read per index page.
const PAGE: usize = 100;

/// A service's revenue of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueView {
    /// The service.
    pub service_id: String,
    /// The month, `2026-12`.
    pub month: String,
    /// Always `EUR`.
    pub currency: &'static str,
    /// `OPEN` or `FINAL`, as the month's invoices.
    pub status: InvoiceStatus,
    /// When the month is, or becomes, final.
    pub final_at: Timestamp,
    /// One entry per subscription, newest subscription first.
    pub subscriptions: Vec<RevenueLine>,
    /// The exact sum of the live (not test-mode) subscriptions' totals.
    pub total: Amount,
    /// The exact sum of the test-mode subscriptions' totals (not revenue).
    pub test_mode_total: Amount,
}

/// One subscription's invoice total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueLine {
    /// The subscription.
    pub subscription_id: String,
    /// The subscribed application.
    pub application_id: String,
    /// The plan it is billed under.
    pub pricing_plan_id: String,
    /// That plan's name.
    pub pricing_plan_name: String,
    /// Whether its usage is test usage.
    pub test_mode: bool,
    /// Its invoice total of the month.
    pub total: Amount,
}

/// The revenue of service `service_id` (owned by `billing.caller`, else
/// 404) in month `month` (`yyyymm`).
pub fn revenue(billing: &Billing, service_id: &str, month: u32) -> Result<RevenueView> {
    let kv = billing.kv;
    match Service::load(kv, service_id)? {
        Some(service) if service.owner_id == billing.caller => {}
        _ => {
            return Err(Error::not_found(
                "service",
                &service_id.chars().take(100).collect::<String>(),
            ))
        }
    }
    let window = month_window(month)?;
    let overflow = || Error::Internal(format!("revenue of {service_id} overflows"));
    let mut plans: HashMap<String, PricingPlan> = HashMap::new();
    let mut subscriptions = Vec::new();
    let (mut total, mut test_mode_total) = (Amount::ZERO, Amount::ZERO);
    let index = Index::new(Subscription::service_index(service_id));
    let mut before = None;
    loop {
        let page = index.page(kv, before, PAGE)?;
        for (_, id) in &page.entries {
            let Some(subscription) =
                Subscription::load(kv, id)?.filter(|s| s.service_id == service_id)
            else {
                continue;
            };
            let used = UsageLog::of(&subscription.id, month).index().last_seq(kv)? > 0;
            if subscription.created_at >= window.to && !used {
                continue;
            }
            let plan = match plans.get(&subscription.pricing_plan_id) {
                Some(plan) => plan.clone(),
                None => {
                    let plan = plan_of(kv, &subscription)?;
                    plans.insert(plan.id.clone(), plan.clone());
                    plan
                }
            };
            let (_, amount) = priced_lines(kv, &subscription, &plan, window)?;
            let sum = if subscription.test_mode {
                &mut test_mode_total
            } else {
                &mut total
            };
            *sum = sum.checked_add(amount).ok_or_else(overflow)?;
            subscriptions.push(RevenueLine {
                subscription_id: subscription.id,
                application_id: subscription.application_id,
                pricing_plan_id: plan.id,
                pricing_plan_name: plan.name,
                test_mode: subscription.test_mode,
                total: amount,
            });
        }
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let (status, final_at) = billing.grace.status(month, billing.now)?;
    Ok(RevenueView {
        service_id: service_id.to_string(),
        month: month_text(month),
        currency: CURRENCY,
        status,
        final_at,
        subscriptions,
        total,
        test_mode_total,
    })
}
