//! Correlation ids: one per forwarded call.

use qmarket_core::{id, Result, Timestamp};
use qmarket_model::Correlation;
use qmarket_store::KeyValue;

use crate::Grant;

/// Makes `correlation` durable, registered to expire
/// [`Correlation::KEEP_DAYS`] after `now`'s day (one `increment` and one
/// atomic `set_many`); one call in 64 also deletes a chunk of expired
/// correlations.
pub fn record_correlation(
    kv: &dyn KeyValue,
    correlation: &Correlation,
    now: Timestamp,
) -> Result<()> {
    let (entries, slot) = correlation.entries(kv, now)?;
    kv.set_many(&entries)?;
    Correlation::recorded(kv, slot, now);
    Ok(())
}

/// A new correlation for a call made under `grant`, with a fresh random
/// UUID v4 (CSPRNG). The caller records it ([`record_correlation`]) before
/// the call leaves, so the service can meter while the call is still open;
/// it stays valid for as long as metering accepts events (35 days).
pub fn new_correlation(grant: &Grant, now: Timestamp) -> Result<Correlation> {
    let subscription = &grant.subscription;
    Ok(Correlation {
        id: id::new_uuid_v4()?,
        subscription_id: subscription.id.clone(),
        application_id: subscription.application_id.clone(),
        consumer_id: subscription.subscriber_id.clone(),
        service_id: grant.service.id.clone(),
        provider_id: grant.service.owner_id.clone(),
        pricing_plan_id: subscription.pricing_plan_id.clone(),
        test_mode: subscription.test_mode,
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::{consumer, subscribed_store, SUB, SVC};
    use crate::authorize;
    use std::collections::HashSet;

    #[test]
    fn a_correlation_records_who_called_what_under_which_plan() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC).unwrap();
        let c = new_correlation(&grant, Timestamp::from_millis(42)).unwrap();
        assert_eq!(c.subscription_id, SUB);
        assert_eq!(c.application_id, consumer().application_id);
        assert_eq!(c.consumer_id, "acc_consumer");
        assert_eq!(c.service_id, SVC);
        assert_eq!(c.provider_id, "acc_provider");
        assert_eq!(c.pricing_plan_id, "plan_1");
        assert!(!c.test_mode);
        assert_eq!(c.created_at, Timestamp::from_millis(42));
    }

    #[test]
    fn correlation_ids_are_uuid_v4_and_unique() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC).unwrap();
        let ids: HashSet<String> = (0..10_000)
            .map(|_| {
                new_correlation(&grant, Timestamp::from_millis(0))
                    .unwrap()
                    .id
            })
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!("89ab".contains(&id[19..20]));
        }
    }

    #[test]
    fn a_recorded_correlation_is_found_until_it_expires() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC).unwrap();
        let day = 20_000;
        let at = |d: i64| Timestamp::from_millis(d * qmarket_core::time::DAY_MILLIS);
        let c = new_correlation(&grant, at(day)).unwrap();
        record_correlation(&kv, &c, at(day)).unwrap();
        assert!(kv.exists(&format!("correlation/{}", c.id)).unwrap());
        use qmarket_model::Record;
        assert_eq!(Correlation::load(&kv, &c.id).unwrap(), Some(c.clone()));
        // Kept for 36 whole days after its day; swept after.
        Correlation::expiry().sweep_step(&kv, at(day + 36)).unwrap();
        assert!(Correlation::load(&kv, &c.id).unwrap().is_some());
        Correlation::expiry().sweep_step(&kv, at(day + 37)).unwrap();
        assert_eq!(Correlation::load(&kv, &c.id).unwrap(), None);
    }
}
