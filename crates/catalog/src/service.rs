//! Services: create, list, read, change and delete a provider's own
//! services, and their API specifications.

use qmarket_core::id::{is_well_formed, new_id};
use qmarket_core::{Error, IdKind, Result, Timestamp};
use qmarket_model::{Lifecycle, Record, Service};
use qmarket_sealing::Sealer;
use qmarket_store::{counter, Announced, Announcements, Index, KeyValue};
use serde_json::Value;

use crate::service_input::{self, SpecChange};
use crate::{api_spec, marketplace, pricing_plan, Listing, NewService, ServiceView, UpdateService};

/// The index of account `owner`'s services.
pub fn owner_index(owner: &str) -> Index {
    Index::new(format!("account/{owner}/services"))
}

/// Service `id` if it exists; malformed ids are simply unknown.
pub fn find(kv: &dyn KeyValue, id: &str) -> Result<Option<Service>> {
    if !is_well_formed(IdKind::Service, id) {
        return Ok(None);
    }
    Service::load(kv, id)
}

/// Service `id` of account `owner`; 404 when it is unknown or someone else's.
pub fn owned(kv: &dyn KeyValue, owner: &str, id: &str) -> Result<Service> {
    find(kv, id)?
        .filter(|s| s.owner_id == owner)
        .ok_or_else(|| Error::not_found("service", id))
}

/// Service `id` as account `viewer` may see it: their own, or anyone's once
/// it is published. 404 otherwise.
pub fn visible(kv: &dyn KeyValue, viewer: &str, id: &str) -> Result<Service> {
    find(kv, id)?
        .filter(|s| s.owner_id == viewer || s.lifecycle == Lifecycle::Published)
        .ok_or_else(|| Error::not_found("service", id))
}

/// Creates a service of account `owner`.
pub fn create(
    kv: &dyn KeyValue,
    sealer: &Sealer,
    owner: &str,
    input: NewService,
    now: Timestamp,
) -> Result<ServiceView> {
    let mut service = Service::draft(new_id(IdKind::Service)?, owner, input.kind, now);
    let spec = service_input::apply(&mut service, input.into(), sealer)?;
    if let SpecChange::Set(doc) = &spec {
        api_spec::store(kv, &service.id, doc, now)?;
    }
    service.index_seq = owner_index(owner).append(kv, &service.id)?;
    service.save_with_state(kv)?;
    Ok(ServiceView::from(&service))
}

/// One page of account `owner`'s services, newest first.
pub fn list(
    kv: &dyn KeyValue,
    owner: &str,
    before: Option<u64>,
    limit: usize,
) -> Result<Listing<ServiceView>> {
    let page = owner_index(owner).page(kv, before, limit)?;
    let mut items = Vec::with_capacity(page.entries.len());
    for (seq, id) in &page.entries {
        // An entry whose record is gone or points elsewhere was left by a
        // delete or a crash between two writes.
        if let Some(service) = find(kv, id)? {
            if service.owner_id == owner && service.index_seq == *seq {
                items.push(ServiceView::from(&service));
            }
        }
    }
    Ok(Listing {
        items,
        next: page.next,
    })
}

/// Service `id` of account `owner`.
pub fn get(kv: &dyn KeyValue, owner: &str, id: &str) -> Result<ServiceView> {
    owned(kv, owner, id).map(|s| ServiceView::from(&s))
}

/// Changes service `id` of account `owner`: fields absent from `patch` keep
/// their value; a `BASIC` configuration without a password keeps the stored
/// one.
pub fn update(
    kv: &dyn KeyValue,
    sealer: &Sealer,
    owner: &str,
    id: &str,
    patch: UpdateService,
    now: Timestamp,
) -> Result<ServiceView> {
    let mut service = owned(kv, owner, id)?;
    match service_input::apply(&mut service, patch, sealer)? {
        SpecChange::Keep => {}
        SpecChange::Set(doc) => api_spec::store(kv, id, &doc, now)?,
        SpecChange::Remove => api_spec::remove(kv, id, now)?,
    }
    // Only the edited record is written: the publication state and the
    // API specification have keys of their own, which a concurrent publish
    // or specification change writes without this write undoing it.
    service.updated_at = now;
    service.save(kv)?;
    Ok(ServiceView::from(&service))
}

/// Deletes service `id` of account `owner` with its index entries, API
/// specification and the plans nobody ever subscribed to; 409 while it has
/// active subscriptions.
///
/// Race-free against a concurrent subscribe: the deletion is announced
/// before the active subscriptions are counted, and a subscriber counts
/// itself in before it checks for announced deletions
/// (`qmarket_store::Announcements`).
pub fn delete(kv: &dyn KeyValue, owner: &str, id: &str) -> Result<()> {
    let service = owned(kv, owner, id)?;
    let deleting = Announcements::new(Service::deleting_key(id));
    let mine = deleting.announce(kv, Timestamp::now())?;
    let outcome = remove_unsubscribed(kv, owner, &service, &mine);
    deleting.retract(kv, mine)?;
    outcome
}

fn remove_unsubscribed(
    kv: &dyn KeyValue,
    owner: &str,
    service: &Service,
    announced: &Announced,
) -> Result<()> {
    let id = service.id.as_str();
    let active = counter(kv, &Service::subscription_count_key(id))?;
    if active > 0 {
        return Err(Error::Conflict(format!(
            "service '{id}' has {active} active subscription(s); it can be deleted once they are cancelled"
        )));
    }
    if !announced.still_valid(Timestamp::now()) {
        return Err(Error::Unavailable(
            "the store is too slow to delete the service safely right now; retry".into(),
        ));
    }
    // The record goes first: it is what every reader checks.
    Service::remove(kv, id)?;
    if let Some(seq) = service.marketplace_seq {
        marketplace::index().remove(kv, seq)?;
    }
    owner_index(owner).remove(kv, service.index_seq)?;
    kv.delete_many(&[
        Service::state_key(id),
        Service::api_spec_key(id),
        Service::api_spec_updated_key(id),
    ])?;
    pricing_plan::remove_all_unsubscribed(kv, id)?;
    Ok(())
}

/// The API specification of service `id` as account `viewer` may read it
/// (their own service, or a published one): the stored document, or the
/// default one describing the gateway routes.
pub fn api_specification(kv: &dyn KeyValue, viewer: &str, id: &str) -> Result<Value> {
    let service = visible(kv, viewer, id)?;
    Ok(api_spec::load(kv, id)?.unwrap_or_else(|| api_spec::default_for(&service)))
}

/// Replaces the API specification of service `id` of account `owner` with
/// `doc` (already parsed by [`api_spec::parse_value`] or
/// [`api_spec::parse_text`]); returns the stored document.
pub fn replace_api_specification(
    kv: &dyn KeyValue,
    owner: &str,
    id: &str,
    doc: Value,
    now: Timestamp,
) -> Result<Value> {
    owned(kv, owner, id)?;
    api_spec::store(kv, id, &doc, now)?;
    Ok(doc)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use qmarket_model::ServiceType;

    /// A stored-shape external service for tests that need a record.
    pub(crate) fn external_service(id: &str) -> Service {
        Service {
            name: "Walk".into(),
            quantum_backend: "IBM".into(),
            url: Some("https://walk.example.org".into()),
            index_seq: 1,
            ..Service::draft(
                id.into(),
                "acc_1",
                ServiceType::External,
                Timestamp::from_millis(0),
            )
        }
    }
}
