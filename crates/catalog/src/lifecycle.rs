//! Publication: internal (the owner's own applications, test mode), in the
//! marketplace, and back.
//!
//! Each transition writes the service's [`qmarket_model::ServiceState`] only (its own key),
//! never the service record, so a transition and a concurrent `PATCH`
//! cannot undo each other. Two transitions racing each other end in the one
//! written last; a marketplace entry the loser appended is ignored by the
//! marketplace, which lists an entry only while the state names it.

use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{Lifecycle, Service};
use qmarket_store::KeyValue;

use crate::{marketplace, pricing_plan, service, ServiceView};

/// Publishes service `id` of account `owner` internally: `ACCESSIBLE`, out
/// of the marketplace.
pub fn publish_internal(
    kv: &dyn KeyValue,
    owner: &str,
    id: &str,
    now: Timestamp,
) -> Result<ServiceView> {
    let mut s = service::owned(kv, owner, id)?;
    if s.lifecycle != Lifecycle::Accessible {
        leave_marketplace(kv, &mut s)?;
        change(kv, &mut s, Lifecycle::Accessible, now)?;
    }
    Ok(ServiceView::from(&s))
}

/// Publishes service `id` of account `owner` in the marketplace:
/// `PUBLISHED`; 409 while it has no pricing plan.
pub fn publish(kv: &dyn KeyValue, owner: &str, id: &str, now: Timestamp) -> Result<ServiceView> {
    let mut s = service::owned(kv, owner, id)?;
    if s.lifecycle == Lifecycle::Published && s.marketplace_seq.is_some() {
        return Ok(ServiceView::from(&s));
    }
    if !pricing_plan::has_any(kv, id)? {
        return Err(Error::Conflict(format!(
            "service '{id}' has no pricing plan; create one before publishing it"
        )));
    }
    s.marketplace_seq = Some(marketplace::index().append(kv, id)?);
    change(kv, &mut s, Lifecycle::Published, now)?;
    Ok(ServiceView::from(&s))
}

/// Takes service `id` of account `owner` back to `CREATED`, out of the
/// marketplace.
pub fn unpublish(kv: &dyn KeyValue, owner: &str, id: &str, now: Timestamp) -> Result<ServiceView> {
    let mut s = service::owned(kv, owner, id)?;
    if s.lifecycle != Lifecycle::Created {
        leave_marketplace(kv, &mut s)?;
        change(kv, &mut s, Lifecycle::Created, now)?;
    }
    Ok(ServiceView::from(&s))
}

fn change(kv: &dyn KeyValue, s: &mut Service, to: Lifecycle, now: Timestamp) -> Result<()> {
    s.lifecycle = to;
    s.other_changes_at = Some(now);
    Service::save_state(kv, &s.id, &s.state())
}

fn leave_marketplace(kv: &dyn KeyValue, s: &mut Service) -> Result<()> {
    if let Some(seq) = s.marketplace_seq.take() {
        marketplace::index().remove(kv, seq)?;
    }
    Ok(())
}
