//! Who may call which service through the gateway.

use qmarket_core::id::{is_well_formed, IdKind};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{Application, CapReached, Lifecycle, Record, Service, SpendCap, Subscription};
use qmarket_store::{decode_counter, KeyValue};

/// The authenticated application making the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `app_…`
    pub application_id: String,
    /// The application's owner.
    pub account_id: String,
}

/// Permission to forward one call: the service and the subscription it is
/// made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The called service.
    pub service: Service,
    /// The caller's active subscription to it.
    pub subscription: Subscription,
    /// Its spend cap and this month's spending.
    pub spending: Spending,
}

/// A subscription's spend cap, and whether the month's spending reached it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spending {
    /// The cap the subscriber set, if any.
    pub cap: Option<SpendCap>,
    /// What metering noted when the month's spending reached a cap.
    pub reached: Option<CapReached>,
}

impl Spending {
    /// The 402 for a call while the month's spending is at or over the cap
    /// (a cap raised above what was spent lets calls through again).
    pub fn refusal(&self) -> Option<Error> {
        let (cap, reached) = (self.cap.as_ref()?, self.reached.as_ref()?);
        (reached.spent >= cap.monthly_cap).then(|| {
            Error::PaymentRequired(format!(
                "the subscription's spend cap of {} EUR for this month is reached ({} EUR spent); raise the cap or wait for the next month",
                cap.monthly_cap, reached.spent
            ))
        })
    }
}

/// The keys a call of application `application_id` to `service_id` reads
/// first (the application, the service, the subscription pointer), for the
/// caller to fetch in one round trip before it authenticates and
/// [`authorize`]s: the subscription itself is then one more.
/// A malformed service id adds nothing ([`authorize`] refuses it unread).
pub fn authorization_keys(application_id: &str, service_id: &str) -> Vec<String> {
    let mut keys = vec![Application::key(application_id)];
    if is_well_formed(IdKind::Service, service_id) {
        keys.extend([
            Service::key(service_id),
            Service::state_key(service_id),
            Service::api_spec_updated_key(service_id),
            Subscription::by_application_and_service_key(application_id, service_id),
        ]);
    }
    keys
}

/// Decides whether `caller` may call `service_id`:
/// - 404 when the id is malformed or unknown, when the service is not
///   published (`CREATED`), when it is published internally (`ACCESSIBLE`)
///   and the caller is not its owner's application (it does not exist for
///   anyone else);
/// - 403 when the application has no active subscription to it (none, or
///   one that has ended).
///
/// The subscription is read together with its spend cap and the mark of the
/// month of `now` reaching it.
pub fn authorize(
    kv: &dyn KeyValue,
    caller: &Caller,
    service_id: &str,
    now: Timestamp,
) -> Result<Grant> {
    let not_found = || Error::not_found("service", service_id);
    if !is_well_formed(IdKind::Service, service_id) {
        return Err(not_found());
    }
    let service = Service::load(kv, service_id)?.ok_or_else(not_found)?;
    let visible = match service.lifecycle {
        Lifecycle::Published => true,
        Lifecycle::Accessible => service.owner_id == caller.account_id,
        Lifecycle::Created => false,
    };
    if !visible {
        return Err(not_found());
    }
    let not_subscribed = || {
        Error::Forbidden(format!(
            "the application is not subscribed to service '{service_id}'"
        ))
    };
    let key = Subscription::by_application_and_service_key(&caller.application_id, service_id);
    let subscription_id = kv
        .get(&key)?
        .and_then(|bytes| stored_id(&bytes))
        .ok_or_else(not_subscribed)?;
    // The record, its ended mark and its spending in one round trip. Ending
    // a subscription marks it first and removes the pointer after: the mark
    // is what counts.
    let keys = [
        Subscription::key(&subscription_id),
        Subscription::ended_key(&subscription_id),
        Subscription::spend_cap_key(&subscription_id),
        Subscription::cap_reached_key(&subscription_id, now.utc_month()),
    ];
    let mut values = kv.get_many(&keys)?.into_iter();
    let mut next = || values.next().flatten();
    let (record, ended, cap, reached) = (next(), next(), next(), next());
    let spending = Spending {
        cap: decoded(cap.as_deref(), "spend cap", &subscription_id)?,
        reached: decoded(reached.as_deref(), "spend cap mark", &subscription_id)?,
    };
    let subscription: Subscription = match record {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            qmarket_core::Error::Internal(format!(
                "subscription {subscription_id} is unreadable: {e}"
            ))
        })?,
        None => return Err(not_subscribed()),
    };
    let ended = match ended {
        None => 0,
        Some(bytes) => decode_counter(&bytes).ok_or_else(|| {
            qmarket_core::Error::Internal(format!(
                "the ended mark of subscription {subscription_id} is not a counter"
            ))
        })?,
    };
    if ended > 0 {
        return Err(not_subscribed());
    }
    if subscription.application_id != caller.application_id || subscription.service_id != service_id
    {
        return Err(not_subscribed());
    }
    Ok(Grant {
        service,
        subscription,
        spending,
    })
}

/// A JSON record read by [`authorize`], if present.
fn decoded<T: serde::de::DeserializeOwned>(
    bytes: Option<&[u8]>,
    what: &str,
    subscription_id: &str,
) -> Result<Option<T>> {
    bytes
        .map(|b| {
            serde_json::from_slice(b).map_err(|e| {
                Error::Internal(format!(
                    "the {what} of subscription {subscription_id} is unreadable: {e}"
                ))
            })
        })
        .transpose()
}

/// An id kept under a pointer key, as a JSON string or as plain text.
fn stored_id(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<String>(bytes)
        .ok()
        .or_else(|| {
            std::str::from_utf8(bytes)
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use qmarket_core::Timestamp;
    use qmarket_http::StatusOf;
    use qmarket_model::ServiceType;
    use qmarket_store::MemoryStore;

    pub(crate) const SVC: &str = "svc_0123456789abcdefghjkmnpqrs";
    pub(crate) const SUB: &str = "sub_0123456789abcdefghjkmnpqrs";
    pub(crate) const APP: &str = "app_0123456789abcdefghjkmnpqrs";
    /// 2027-01-15T08:00:00Z.
    pub(crate) const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    pub(crate) fn service(lifecycle: Lifecycle, kind: ServiceType) -> Service {
        Service {
            name: "Quantum walk".into(),
            quantum_backend: "SIMULATOR".into(),
            url: Some("http://127.0.0.1:9/base".into()),
            lifecycle,
            index_seq: 1,
            ..Service::draft(SVC.into(), "acc_provider", kind, Timestamp::from_millis(0))
        }
    }

    pub(crate) fn subscription() -> Subscription {
        Subscription {
            id: SUB.into(),
            application_id: APP.into(),
            subscriber_id: "acc_consumer".into(),
            service_id: SVC.into(),
            provider_id: "acc_provider".into(),
            pricing_plan_id: "plan_1".into(),
            test_mode: false,
            created_at: Timestamp::from_millis(0),
            index_seq: 1,
            limits: None,
        }
    }

    pub(crate) fn consumer() -> Caller {
        Caller {
            application_id: APP.into(),
            account_id: "acc_consumer".into(),
        }
    }

    /// A store with a published external service and the consumer's
    /// subscription to it.
    pub(crate) fn subscribed_store() -> MemoryStore {
        let kv = MemoryStore::new();
        service(Lifecycle::Published, ServiceType::External)
            .save_with_state(&kv)
            .unwrap();
        subscription().save(&kv).unwrap();
        let key = Subscription::by_application_and_service_key(APP, SVC);
        kv.set(&key, &serde_json::to_vec(SUB).unwrap()).unwrap();
        kv
    }

    #[test]
    fn a_subscribed_application_is_granted_its_subscription() {
        let kv = subscribed_store();
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        assert_eq!(grant.subscription, subscription());
        assert_eq!(grant.service.id, SVC);
    }

    #[test]
    fn the_subscription_pointer_may_hold_the_id_as_plain_text() {
        let kv = subscribed_store();
        kv.set(
            &Subscription::by_application_and_service_key(APP, SVC),
            SUB.as_bytes(),
        )
        .unwrap();
        assert!(authorize(&kv, &consumer(), SVC, NOW).is_ok());
    }

    #[test]
    fn unknown_or_malformed_services_are_not_found() {
        let kv = subscribed_store();
        for id in ["svc_zzzzzzzzzzzzzzzzzzzzzzzzzz", "svc_1", "../x", ""] {
            assert_eq!(
                authorize(&kv, &consumer(), id, NOW).unwrap_err().status(),
                404,
                "{id}"
            );
        }
    }

    #[test]
    fn an_unpublished_service_is_not_found_even_with_a_subscription() {
        let kv = subscribed_store();
        service(Lifecycle::Created, ServiceType::External)
            .save_with_state(&kv)
            .unwrap();
        assert_eq!(
            authorize(&kv, &consumer(), SVC, NOW).unwrap_err().status(),
            404
        );
    }

    #[test]
    fn an_internally_published_service_exists_only_for_its_owners_applications() {
        let kv = subscribed_store();
        service(Lifecycle::Accessible, ServiceType::External)
            .save_with_state(&kv)
            .unwrap();
        assert_eq!(
            authorize(&kv, &consumer(), SVC, NOW).unwrap_err().status(),
            404
        );
        let owner = Caller {
            account_id: "acc_provider".into(),
            ..consumer()
        };
        assert!(authorize(&kv, &owner, SVC, NOW).is_ok());
    }

    #[test]
    fn a_managed_service_is_granted_like_an_external_one() {
        let kv = subscribed_store();
        service(Lifecycle::Published, ServiceType::Managed)
            .save_with_state(&kv)
            .unwrap();
        assert!(authorize(&kv, &consumer(), SVC, NOW).is_ok());
    }

    #[test]
    fn an_application_without_a_subscription_is_forbidden() {
        let kv = subscribed_store();
        let other = Caller {
            application_id: "app_zzzzzzzzzzzzzzzzzzzzzzzzzz".into(),
            account_id: "acc_consumer".into(),
        };
        assert_eq!(authorize(&kv, &other, SVC, NOW).unwrap_err().status(), 403);
    }

    #[test]
    fn a_cancelled_subscription_is_forbidden() {
        let kv = subscribed_store();
        Subscription::remove(&kv, SUB).unwrap();
        assert_eq!(
            authorize(&kv, &consumer(), SVC, NOW).unwrap_err().status(),
            403
        );
    }

    #[test]
    fn an_ended_subscription_is_forbidden_even_while_its_pointer_remains() {
        let kv = subscribed_store();
        kv.increment(&Subscription::ended_key(SUB), 1).unwrap();
        assert_eq!(
            authorize(&kv, &consumer(), SVC, NOW).unwrap_err().status(),
            403
        );
    }

    #[test]
    fn a_prefetched_call_is_authorized_with_one_more_read() {
        let store = qmarket_store::Recording::new(subscribed_store());
        let kv = qmarket_store::Prefetched::new(&store);
        kv.prefetch(&authorization_keys(APP, SVC)).unwrap();
        assert!(authorize(&kv, &consumer(), SVC, NOW).is_ok());
        assert_eq!(store.operations().len(), 2, "{:?}", store.operations());
        assert!(store.writes().is_empty());
    }

    #[test]
    fn authorizing_a_call_writes_nothing() {
        let kv = subscribed_store();
        let before = kv.dump();
        assert!(authorize(&kv, &consumer(), SVC, NOW).is_ok());
        assert_eq!(kv.dump(), before);
    }

    fn spend(kv: &MemoryStore, cap: &str, spent: Option<&str>, month: u32) {
        let amount = |text: &str| text.parse().unwrap();
        let cap = SpendCap {
            monthly_cap: amount(cap),
            updated_at: NOW,
        };
        kv.set(
            &Subscription::spend_cap_key(SUB),
            &serde_json::to_vec(&cap).unwrap(),
        )
        .unwrap();
        if let Some(spent) = spent {
            let reached = CapReached {
                spent: amount(spent),
                cap: cap.monthly_cap,
                at: NOW,
            };
            kv.set(
                &Subscription::cap_reached_key(SUB, month),
                &serde_json::to_vec(&reached).unwrap(),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_call_is_refused_with_402_once_the_months_spending_reached_the_cap() {
        let kv = subscribed_store();
        spend(&kv, "2.5", Some("3"), 202701);
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        let refusal = grant.spending.refusal().expect("over the cap");
        assert_eq!(refusal.status(), 402);
        assert!(refusal.to_string().contains("2.5 EUR"), "{refusal}");
    }

    #[test]
    fn a_cap_raised_above_the_spending_or_a_new_month_lets_calls_through() {
        let kv = subscribed_store();
        spend(&kv, "10", Some("3"), 202701);
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        assert_eq!(grant.spending.refusal(), None);
        let kv = subscribed_store();
        spend(&kv, "2.5", Some("3"), 202612);
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        assert_eq!(grant.spending.refusal(), None, "last month's mark");
        let kv = subscribed_store();
        spend(&kv, "2.5", None, 202701);
        let grant = authorize(&kv, &consumer(), SVC, NOW).unwrap();
        assert_eq!(grant.spending.refusal(), None, "a cap not reached");
    }

    #[test]
    fn a_pointer_to_someone_elses_subscription_is_forbidden() {
        let kv = subscribed_store();
        let mut foreign = subscription();
        foreign.application_id = "app_other".into();
        foreign.save(&kv).unwrap();
        assert_eq!(
            authorize(&kv, &consumer(), SVC, NOW).unwrap_err().status(),
            403
        );
    }
}
