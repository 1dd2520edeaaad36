//! Subscriptions of applications to services under a pricing plan.
//!
//! Visibility: a `PUBLISHED` service may be subscribed to by any account's
//! application (`testMode: false`); an `ACCESSIBLE` one only by its owner's
//! applications (`testMode: true`). A `CREATED` service, or an `ACCESSIBLE`
//! one of another provider, answers 404 exactly like a service that does not
//! exist. A pricing plan that is not one of the service's plans is 422 (the
//! service's plans are public with it, so this reveals nothing).
//!
//! Ending a subscription (unsubscribe, or deleting its application) removes
//! it from listings and from the gateway's lookup key, but keeps its record
//! so usage metered under it can still be read and billed.

use qmarket_catalog::PricingPlanView;
use qmarket_core::id::{is_well_formed, new_id};
use qmarket_core::{Error, IdKind, Result, Timestamp};
use qmarket_http::PageQuery;
use qmarket_model::{
    Application, Lifecycle, PlanLimits, PricingPlan, Record, Service, Subscription,
};
use qmarket_store::{claim, counter, Announcements, Index, KeyValue};
use serde::{Deserialize, Serialize};

use crate::access_token::shown_id;
use crate::application;
use crate::listing::{self, Listed};

/// The body of `POST /api/applications/{id}/subscriptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSubscription {
    /// The service (`svc_…`).
    pub service_id: String,
    /// One of the service's pricing plans (`plan_…`).
    pub pricing_plan_id: String,
}

/// A subscription as its subscriber sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    /// `sub_…`
    pub id: String,
    /// The subscribing application.
    pub application_id: String,
    /// The service.
    pub service_id: String,
    /// The plan usage is billed under.
    pub pricing_plan_id: String,
    /// Usage is metered in test mode (internal publication).
    pub test_mode: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// The plan's rate limit and quota that apply to its calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<PlanLimits>,
    /// The service's name (shown by [`get`] only, also once the service is
    /// no longer in the marketplace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// The plan usage is billed under, products and prices included (shown
    /// by [`get`] only). Once a plan has subscriptions only its name may
    /// change, so this is what the subscription pays, also once the service
    /// is no longer in the marketplace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing_plan: Option<PricingPlanView>,
}

impl From<Subscription> for SubscriptionView {
    fn from(sub: Subscription) -> Self {
        SubscriptionView {
            id: sub.id,
            application_id: sub.application_id,
            service_id: sub.service_id,
            pricing_plan_id: sub.pricing_plan_id,
            test_mode: sub.test_mode,
            created_at: sub.created_at,
            limits: sub.limits,
            service_name: None,
            pricing_plan: None,
        }
    }
}

/// Subscribes application `app_id` of account `account_id` to a service.
///
/// 404: the application is not the caller's, or the service is not visible
/// to it (see the module docs); 400: an id field is not shaped like an id;
/// 422: the plan is not one of the service's; 409: the application already
/// has an active subscription to the service, or the plan is being changed
/// or the service deleted at this moment (retry).
///
/// A plan's products may change, and a service may be deleted, only while
/// nobody subscribes: the subscriber counts itself in first (the plan's and
/// the service's subscription counters, which those writers check), then
/// verifies that no change or deletion was announced (which those writers do
/// before checking), and only then reads the service and plan it
/// subscribes to. See `qmarket_store::Announcements`.
pub fn subscribe(
    kv: &dyn KeyValue,
    account_id: &str,
    app_id: &str,
    input: NewSubscription,
    now: Timestamp,
) -> Result<SubscriptionView> {
    let app = application::owned(kv, account_id, app_id)?;
    if !is_well_formed(IdKind::Service, &input.service_id) {
        return Err(Error::invalid_field(
            "serviceId",
            "is not a service id (svc_…)",
        ));
    }
    if !is_well_formed(IdKind::PricingPlan, &input.pricing_plan_id) {
        return Err(Error::invalid_field(
            "pricingPlanId",
            "is not a pricing plan id (plan_…)",
        ));
    }
    // Visible at all, and the plan one of its plans? (Checked again below,
    // after counting in: only that check decides.)
    let (service, _) = visible_service(kv, &app, &input.service_id)?;
    plan_of(kv, &service, &input.pricing_plan_id)?;

    let active = Subscription::active_claim_key(&app.id, &input.service_id);
    if kv.increment(&active, 1)? != 1 {
        kv.increment(&active, -1)?;
        return Err(Error::Conflict(format!(
            "application '{}' already has a subscription to service '{}'",
            app.id, input.service_id
        )));
    }
    let counted = [
        Service::subscription_count_key(&input.service_id),
        PricingPlan::subscription_count_key(&input.pricing_plan_id),
    ];
    if let Err(e) = count_in(kv, &counted) {
        kv.increment(&active, -1)?;
        return Err(e);
    }
    let created = verify_and_record(kv, &app, &input, now);
    if created.is_err() {
        // Count out again, so a retry can subscribe and the plan and
        // service stay changeable.
        for key in counted.iter().chain([&active]) {
            kv.increment(key, -1)?;
        }
    }
    created.map(SubscriptionView::from)
}

/// Adds one to each counter, all or none (what was added is taken back
/// when a later one fails).
fn count_in(kv: &dyn KeyValue, keys: &[String]) -> Result<()> {
    for (i, key) in keys.iter().enumerate() {
        if let Err(e) = kv.increment(key, 1) {
            for done in &keys[..i] {
                kv.increment(done, -1)?;
            }
            return Err(e.into());
        }
    }
    Ok(())
}

/// The second half of [`subscribe`], once counted in: no change announced,
/// then the service and plan as they are now, then the records.
fn verify_and_record(
    kv: &dyn KeyValue,
    app: &Application,
    input: &NewSubscription,
    now: Timestamp,
) -> Result<Subscription> {
    let busy = |what: &str| {
        Error::Conflict(format!(
            "{what} is being changed at this moment; retry the subscription"
        ))
    };
    if Announcements::new(Service::deleting_key(&input.service_id)).any(kv, now)? {
        return Err(busy(&format!("service '{}'", input.service_id)));
    }
    if Announcements::new(PricingPlan::changing_key(&input.pricing_plan_id)).any(kv, now)? {
        return Err(busy(&format!("pricing plan '{}'", input.pricing_plan_id)));
    }
    let (service, test_mode) = visible_service(kv, app, &input.service_id)?;
    let plan = plan_of(kv, &service, &input.pricing_plan_id)?;
    record_subscription(
        kv,
        &app.id,
        &app.account_id,
        &service,
        &plan,
        test_mode,
        now,
    )
}

/// Plan `plan_id` if it is one of `service`'s plans; 422 otherwise, or 404
/// when the service itself was deleted meanwhile (with its plans).
fn plan_of(kv: &dyn KeyValue, service: &Service, plan_id: &str) -> Result<PricingPlan> {
    if let Some(plan) = PricingPlan::load(kv, plan_id)?.filter(|p| p.service_id == service.id) {
        return Ok(plan);
    }
    if Service::load(kv, &service.id)?.is_none() {
        return Err(Error::not_found("service", &service.id));
    }
    Err(Error::unprocessable_field(
        "pricingPlanId",
        format!("is not a pricing plan of service '{}'", service.id),
    ))
}

/// Service `id` if `app` may subscribe to it, with whether that is in test
/// mode; 404 otherwise.
fn visible_service(kv: &dyn KeyValue, app: &Application, id: &str) -> Result<(Service, bool)> {
    let service = Service::load(kv, id)?.ok_or_else(|| Error::not_found("service", id))?;
    let test_mode = match service.lifecycle {
        Lifecycle::Published => false,
        Lifecycle::Accessible if service.owner_id == app.account_id => true,
        // Unpublished, or published internally for someone else: not there.
        _ => return Err(Error::not_found("service", id)),
    };
    Ok((service, test_mode))
}

fn record_subscription(
    kv: &dyn KeyValue,
    app_id: &str,
    subscriber_id: &str,
    service: &Service,
    plan: &PricingPlan,
    test_mode: bool,
    now: Timestamp,
) -> Result<Subscription> {
    let id = new_id(IdKind::Subscription)?;
    let index_seq = Index::new(Subscription::application_index(app_id)).append(kv, &id)?;
    // The service's index (its revenue) is never pruned: an entry whose
    // record was never saved is skipped by its readers.
    Index::new(Subscription::service_index(&service.id)).append(kv, &id)?;
    let sub = Subscription {
        id,
        application_id: app_id.to_string(),
        subscriber_id: subscriber_id.to_string(),
        service_id: service.id.clone(),
        provider_id: service.owner_id.clone(),
        pricing_plan_id: plan.id.clone(),
        test_mode,
        created_at: now,
        index_seq,
        limits: plan.limits,
    };
    sub.save(kv)?;
    // The gateway's key last: calls are admitted once everything else exists.
    kv.set(
        &Subscription::by_application_and_service_key(app_id, &service.id),
        sub.id.as_bytes(),
    )?;
    Ok(sub)
}

/// The page `query` asks for of application `app_id`'s active subscriptions
/// (404 unless account `account_id` owns the application).
pub fn list(
    kv: &dyn KeyValue,
    account_id: &str,
    app_id: &str,
    query: &PageQuery,
) -> Result<Listed<SubscriptionView>> {
    let app = application::owned(kv, account_id, app_id)?;
    let index = Index::new(Subscription::application_index(&app.id));
    listing::page(kv, &index, query, |id| {
        Ok(active(kv, id)?
            .filter(|sub| sub.application_id == app.id)
            .map(SubscriptionView::from))
    })
}

/// Active subscription `sub_id` of one of account `account_id`'s
/// applications (404 otherwise), with its service's name and its plan.
pub fn get(kv: &dyn KeyValue, account_id: &str, sub_id: &str) -> Result<SubscriptionView> {
    let sub = subscribed(kv, account_id, sub_id)?;
    // Neither is ever missing while a subscription is active (a plan with
    // subscriptions is kept, and a service with active subscriptions cannot
    // be deleted); the view leaves out what a damaged store lost.
    let service_name = Service::load(kv, &sub.service_id)?.map(|s| s.name);
    let pricing_plan = PricingPlan::load(kv, &sub.pricing_plan_id)?
        .filter(|p| p.service_id == sub.service_id)
        .map(|p| PricingPlanView::from(&p));
    Ok(SubscriptionView {
        service_name,
        pricing_plan,
        ..SubscriptionView::from(sub)
    })
}

/// Ends active subscription `sub_id` of one of account `account_id`'s
/// applications (404 otherwise, also when it has already ended).
pub fn unsubscribe(kv: &dyn KeyValue, account_id: &str, sub_id: &str) -> Result<()> {
    let sub = subscribed(kv, account_id, sub_id)?;
    if end(kv, &sub)? {
        Ok(())
    } else {
        Err(Error::not_found("subscription", &sub.id))
    }
}

fn subscribed(kv: &dyn KeyValue, account_id: &str, sub_id: &str) -> Result<Subscription> {
    let not_found = || Error::not_found("subscription", &shown_id(sub_id));
    if !is_well_formed(IdKind::Subscription, sub_id) {
        return Err(not_found());
    }
    active(kv, sub_id)?
        .filter(|sub| sub.subscriber_id == account_id)
        .ok_or_else(not_found)
}

/// Subscription `sub_id` unless it has ended.
fn active(kv: &dyn KeyValue, sub_id: &str) -> Result<Option<Subscription>> {
    if counter(kv, &Subscription::ended_key(sub_id))? > 0 {
        return Ok(None);
    }
    Subscription::load(kv, sub_id)
}

/// Ends `sub`; `false` when someone else ended it first. Exactly one caller
/// does the bookkeeping, so counters move once.
pub(crate) fn end(kv: &dyn KeyValue, sub: &Subscription) -> Result<bool> {
    if !claim(kv, &Subscription::ended_key(&sub.id))? {
        return Ok(false);
    }
    let gateway_key =
        Subscription::by_application_and_service_key(&sub.application_id, &sub.service_id);
    if kv.get(&gateway_key)?.as_deref() == Some(sub.id.as_bytes()) {
        kv.delete(&gateway_key)?;
    }
    Index::new(Subscription::application_index(&sub.application_id)).remove(kv, sub.index_seq)?;
    kv.increment(&Service::subscription_count_key(&sub.service_id), -1)?;
    kv.increment(
        &Subscription::active_claim_key(&sub.application_id, &sub.service_id),
        -1,
    )?;
    Ok(true)
}

/// Ends every active subscription of application `app_id`.
pub(crate) fn end_all_of_application(kv: &dyn KeyValue, app_id: &str) -> Result<()> {
    let index = Index::new(Subscription::application_index(app_id));
    let mut before = None;
    loop {
        let page = index.page(kv, before, 100)?;
        for (_, id) in &page.entries {
            if let Some(sub) = active(kv, id)?.filter(|s| s.application_id == app_id) {
                end(kv, &sub)?;
            }
        }
        match page.next {
            Some(next) => before = Some(next),
            None => return Ok(()),
        }
    }
}
