//! Correlation ids: one per forwarded call, self-contained
//! ([`SealedCorrelation`]): nothing is written when a call is forwarded.

use qmarket_core::{Result, Timestamp};
use qmarket_model::{Correlation, SealedCorrelation};
use qmarket_sealing::Sealer;

use crate::Grant;

/// A new correlation for a call made under `grant` at `now`: its id seals
/// the subscription and the time with `correlations` (the platform's sealer
/// for [`SealedCorrelation::PURPOSE`]) under a fresh random nonce, so it is
/// unique, unforgeable and durable before the call leaves: metering opens
/// it for as long as it accepts usage of the call (35 days).
pub fn new_correlation(
    grant: &Grant,
    now: Timestamp,
    correlations: &Sealer,
) -> Result<Correlation> {
    let claims = SealedCorrelation {
        subscription_id: grant.subscription.id.clone(),
        created_at: now,
    };
    let id = claims.seal(correlations)?;
    Ok(claims.correlation(&id, &grant.subscription))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::{consumer, subscribed_store, NOW, SUB, SVC};
    use crate::authorize;
    use qmarket_model::resolve_correlation;
    use qmarket_store::MemoryStore;
    use std::collections::HashSet;

    fn sealer() -> Sealer {
        Sealer::load(
            &MemoryStore::new(),
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        )
        .unwrap()
        .for_purpose(SealedCorrelation::PURPOSE)
    }

    #[test]
    fn a_correlation_records_who_called_what_under_which_plan() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        let c = new_correlation(&grant, Timestamp::from_millis(42), &sealer()).unwrap();
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
    fn correlation_ids_are_unique_and_made_without_writing() {
        let kv = subscribed_store();
        let before = kv.dump();
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        let ids: HashSet<String> = (0..10_000)
            .map(|_| {
                new_correlation(&grant, Timestamp::from_millis(0), &sealer())
                    .unwrap()
                    .id
            })
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert_eq!(kv.dump(), before);
    }

    #[test]
    fn metering_resolves_a_new_correlation_to_the_same_attribution() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        let now = Timestamp::from_millis(20_000 * qmarket_core::time::DAY_MILLIS);
        let c = new_correlation(&grant, now, &sealer()).unwrap();
        assert_eq!(
            resolve_correlation(&kv, &sealer(), &c.id, now).unwrap(),
            Some(c)
        );
    }
}
