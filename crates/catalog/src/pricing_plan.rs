//! Pricing plans: what subscribers of a service pay for each product, by
//! its pricing model (per unit, graduated or volume tiers, packages, after
//! a monthly free allowance; see `qmarket_model::Pricing`).
//!
//! A plan somebody subscribed to is what their usage is billed under, so its
//! products and type are frozen from the first subscription on (only the
//! name may change), and it cannot be deleted: the provider creates a new
//! plan instead.

use qmarket_core::id::{is_well_formed, new_id};
use qmarket_core::{Error, IdKind, Result, Timestamp};
use qmarket_model::{Lifecycle, PlanType, PricingPlan, Record, CURRENCY};
use qmarket_store::{counter, Announcements, Index, KeyValue};

use crate::pricing_plan_input::{self, MAX_TEXT_CHARS};
use crate::validation::Violations;
use crate::{service, Listing, NewPricingPlan, PricingPlanView, UpdatePricingPlan};

/// The most plans shown with a service in the marketplace.
pub const MAX_PLANS_SHOWN: usize = 100;

/// The index of service `service_id`'s plans.
pub fn plan_index(service_id: &str) -> Index {
    Index::new(format!("service/{service_id}/plans"))
}

/// Creates a plan for service `service_id` of account `owner`.
pub fn create(
    kv: &dyn KeyValue,
    owner: &str,
    service_id: &str,
    input: NewPricingPlan,
    now: Timestamp,
) -> Result<PricingPlanView> {
    service::owned(kv, owner, service_id)?;
    let mut v = Violations::default();
    let name = v.text("name", &input.name, MAX_TEXT_CHARS);
    let kind = input.kind.unwrap_or(PlanType::Commercial);
    for (i, p) in input.products.iter().enumerate() {
        if p.id.is_some() {
            v.add(
                format!("products[{i}].id"),
                "is assigned by the platform; leave it out",
            );
        }
    }
    let products = pricing_plan_input::check(&mut v, kind, &input.products, &[])?;
    let limits = pricing_plan_input::check_limits(&mut v, input.limits);
    v.finish()?;
    let mut plan = PricingPlan {
        id: new_id(IdKind::PricingPlan)?,
        service_id: service_id.to_string(),
        name,
        kind,
        currency: CURRENCY.to_string(),
        products,
        created_at: now,
        updated_at: now,
        index_seq: 0,
        limits,
    };
    plan.index_seq = plan_index(service_id).append(kv, &plan.id)?;
    plan.save(kv)?;
    Ok(PricingPlanView::from(&plan))
}

/// One page of the plans of service `service_id`, newest first, for account
/// `viewer`: the owner, or anyone once the service is published.
pub fn list(
    kv: &dyn KeyValue,
    viewer: &str,
    service_id: &str,
    before: Option<u64>,
    limit: usize,
) -> Result<Listing<PricingPlanView>> {
    service::visible(kv, viewer, service_id)?;
    let (plans, next) = page(kv, service_id, before, limit)?;
    Ok(Listing {
        items: plans.iter().map(PricingPlanView::from).collect(),
        next,
    })
}

/// Plan `plan_id` of service `service_id`, for account `viewer` (as in [`list`]).
pub fn get(
    kv: &dyn KeyValue,
    viewer: &str,
    service_id: &str,
    plan_id: &str,
) -> Result<PricingPlanView> {
    service::visible(kv, viewer, service_id)?;
    of_service(kv, service_id, plan_id).map(|p| PricingPlanView::from(&p))
}

/// Changes plan `plan_id` of service `service_id` of account `owner`. Once
/// the plan has subscriptions only its name may change (409 otherwise).
pub fn update(
    kv: &dyn KeyValue,
    owner: &str,
    service_id: &str,
    plan_id: &str,
    patch: UpdatePricingPlan,
    now: Timestamp,
) -> Result<PricingPlanView> {
    service::owned(kv, owner, service_id)?;
    let mut plan = of_service(kv, service_id, plan_id)?;
    let mut v = Violations::default();
    if let Some(name) = &patch.name {
        plan.name = v.text("name", name, MAX_TEXT_CHARS);
    }
    let kind = patch.kind.unwrap_or(plan.kind);
    let products = match (&patch.products, patch.kind) {
        (None, None) => None,
        (Some(inputs), _) => Some(pricing_plan_input::check(
            &mut v,
            kind,
            inputs,
            &plan.products,
        )?),
        // A type change re-checks the current products against the new type.
        (None, Some(_)) => {
            let inputs: Vec<crate::ProductInput> = plan
                .products
                .iter()
                .map(crate::ProductInput::from)
                .collect();
            Some(pricing_plan_input::check(
                &mut v,
                kind,
                &inputs,
                &plan.products,
            )?)
        }
    };
    let limits = patch
        .limits
        .map(|limits| pricing_plan_input::check_limits(&mut v, limits));
    v.finish()?;
    plan.updated_at = now;
    let products_change = products.filter(|p| kind != plan.kind || *p != plan.products);
    let limits_change = limits.filter(|l| *l != plan.limits);
    match (products_change, limits_change) {
        (None, None) => plan.save(kv)?,
        (products, limits) => {
            plan.kind = kind;
            if let Some(products) = products {
                plan.products = products;
            }
            if let Some(limits) = limits {
                plan.limits = limits;
            }
            while_unsubscribed(
                kv,
                plan_id,
                now,
                || plan.save(kv),
                || {
                    format!(
                    "pricing plan '{plan_id}' has subscriptions, so its type, products and limits can no longer change; create a new plan instead (renaming is allowed)"
                )
                },
            )?;
        }
    }
    Ok(PricingPlanView::from(&plan))
}

/// Runs `change` (a change of plan `plan_id`'s products, type or
/// existence) only if nobody has subscribed to the plan, race-free against
/// `qmarket_identity`'s subscribe: the change is announced first, then
/// the plan's subscription counter is checked (subscribers count themselves
/// in first, then check the announcements). 409 with `refusal` when the
/// plan has subscriptions.
fn while_unsubscribed(
    kv: &dyn KeyValue,
    plan_id: &str,
    now: Timestamp,
    change: impl FnOnce() -> Result<()>,
    refusal: impl FnOnce() -> String,
) -> Result<()> {
    let changing = Announcements::new(PricingPlan::changing_key(plan_id));
    let mine = changing.announce(kv, now)?;
    let outcome = if subscriptions(kv, plan_id)? > 0 {
        Err(Error::Conflict(refusal()))
    } else if !mine.still_valid(Timestamp::now()) {
        Err(Error::Unavailable(
            "the store is too slow to change the plan safely right now; retry".into(),
        ))
    } else {
        change()
    };
    changing.retract(kv, mine)?;
    outcome
}

/// Deletes plan `plan_id` of service `service_id` of account `owner`; 409
/// when it has subscriptions, or when it is the last plan of a published
/// service.
pub fn delete(kv: &dyn KeyValue, owner: &str, service_id: &str, plan_id: &str) -> Result<()> {
    let service = service::owned(kv, owner, service_id)?;
    let plan = of_service(kv, service_id, plan_id)?;
    if service.lifecycle == Lifecycle::Published {
        let (plans, _) = page(kv, service_id, None, 2)?;
        if plans.iter().all(|p| p.id == plan_id) {
            return Err(Error::Conflict(format!(
                "pricing plan '{plan_id}' is the last plan of published service '{service_id}'; unpublish the service first"
            )));
        }
    }
    while_unsubscribed(
        kv,
        plan_id,
        Timestamp::now(),
        || {
            PricingPlan::remove(kv, plan_id)?;
            plan_index(service_id).remove(kv, plan.index_seq)?;
            Ok(())
        },
        || format!("pricing plan '{plan_id}' has subscriptions and cannot be deleted"),
    )
}

/// Whether service `service_id` has at least one plan.
pub fn has_any(kv: &dyn KeyValue, service_id: &str) -> Result<bool> {
    let mut before = None;
    loop {
        let (plans, next) = page(kv, service_id, before, 1)?;
        if !plans.is_empty() {
            return Ok(true);
        }
        match next {
            None => return Ok(false),
            Some(n) => before = Some(n),
        }
    }
}

/// The plans of service `service_id` shown in the marketplace (newest first,
/// at most [`MAX_PLANS_SHOWN`]).
pub fn all_of(kv: &dyn KeyValue, service_id: &str) -> Result<Vec<PricingPlanView>> {
    let (plans, _) = page(kv, service_id, None, MAX_PLANS_SHOWN)?;
    Ok(plans.iter().map(PricingPlanView::from).collect())
}

/// Removes every plan of service `service_id` that never had a subscription
/// (the others stay: usage billed under them refers to them).
pub(crate) fn remove_all_unsubscribed(kv: &dyn KeyValue, service_id: &str) -> Result<()> {
    let index = plan_index(service_id);
    let mut before = None;
    loop {
        let page = index.page(kv, before, 100)?;
        for (seq, id) in &page.entries {
            if is_well_formed(IdKind::PricingPlan, id) && subscriptions(kv, id)? == 0 {
                if let Some(plan) = PricingPlan::load(kv, id)? {
                    if plan.service_id == service_id {
                        PricingPlan::remove(kv, id)?;
                    }
                }
            }
            index.remove(kv, *seq)?;
        }
        match page.next {
            None => return Ok(()),
            Some(n) => before = Some(n),
        }
    }
}

/// Plan `plan_id` if it belongs to service `service_id`; 404 otherwise.
fn of_service(kv: &dyn KeyValue, service_id: &str, plan_id: &str) -> Result<PricingPlan> {
    if !is_well_formed(IdKind::PricingPlan, plan_id) {
        return Err(Error::not_found("pricing plan", plan_id));
    }
    PricingPlan::load(kv, plan_id)?
        .filter(|p| p.service_id == service_id)
        .ok_or_else(|| Error::not_found("pricing plan", plan_id))
}

fn subscriptions(kv: &dyn KeyValue, plan_id: &str) -> Result<i64> {
    Ok(counter(kv, &PricingPlan::subscription_count_key(plan_id))?)
}

/// Up to `limit` live plans below `before`, and the cursor after them.
fn page(
    kv: &dyn KeyValue,
    service_id: &str,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<PricingPlan>, Option<u64>)> {
    let page = plan_index(service_id).page(kv, before, limit)?;
    let mut plans = Vec::with_capacity(page.entries.len());
    for (seq, id) in &page.entries {
        if !is_well_formed(IdKind::PricingPlan, id) {
            continue;
        }
        if let Some(plan) = PricingPlan::load(kv, id)? {
            if plan.service_id == service_id && plan.index_seq == *seq {
                plans.push(plan);
            }
        }
    }
    Ok((plans, page.next))
}
