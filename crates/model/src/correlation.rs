//! Correlations: one per request the gateway forwards, and one per
//! managed execution.
//!
//! A gateway call's correlation id is self-contained ([`SealedCorrelation`]):
//! the subscription and the time of the call, sealed under a key derived
//! from the platform's `encryption_key`. Nothing is written when a call is
//! forwarded, yet the id is durable before the call leaves (it *is* the
//! record), unforgeable, and unique (a fresh random nonce per call); metering
//! opens it and reads the subscription. A managed execution's correlation is
//! a stored record under its execution id ([`Correlation`], kept
//! [`Correlation::KEEP_DAYS`] days), as were the gateway's before.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use qmarket_core::id::{pack_id, unpack_id, IdKind, PACKED_ID_LEN};
use qmarket_core::{Error, Result, Timestamp};
use qmarket_sealing::Sealer;
use qmarket_store::{DailyExpiry, Entries, KeyValue};
use serde::{Deserialize, Serialize};

use crate::record::record;
use crate::{Record, Subscription};

/// What a gateway call's correlation id carries: the subscription the call
/// was made under and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCorrelation {
    /// The subscription (`sub_…`).
    pub subscription_id: String,
    /// When the call was forwarded.
    pub created_at: Timestamp,
}

/// The format version, the first byte of a sealed correlation id.
const SEALED_VERSION: u8 = 1;
/// The sealed plaintext: the subscription's packed id and the time in
/// milliseconds (8 bytes, little-endian).
const SEALED_CLAIMS_LEN: usize = PACKED_ID_LEN + 8;
/// The length of a sealed correlation id in characters (unpadded base64url).
pub const SEALED_ID_LEN: usize = ((1 + SEALED_CLAIMS_LEN + Sealer::SEAL_OVERHEAD) * 4).div_ceil(3);

impl SealedCorrelation {
    /// The purpose the correlation key is derived for
    /// ([`Sealer::for_purpose`]).
    pub const PURPOSE: &'static str = "gateway-correlation";

    /// The correlation id of a call under `subscription_id` at `created_at`,
    /// sealed with `sealer` (which must be the platform's sealer for
    /// [`Self::PURPOSE`]).
    pub fn seal(&self, sealer: &Sealer) -> Result<String> {
        let sub = pack_id(IdKind::Subscription, &self.subscription_id).ok_or_else(|| {
            Error::Internal(format!(
                "subscription id '{}' cannot be sealed",
                self.subscription_id
            ))
        })?;
        let mut claims = Vec::with_capacity(SEALED_CLAIMS_LEN);
        claims.extend_from_slice(&sub);
        claims.extend_from_slice(&self.created_at.millis().to_le_bytes());
        let mut id = vec![SEALED_VERSION];
        id.extend(sealer.seal_bytes(&claims)?);
        Ok(URL_SAFE_NO_PAD.encode(id))
    }

    /// The claims of a correlation id [`Self::seal`] made with the same key;
    /// `None` for anything else (a stored correlation's id, a forgery, a
    /// damaged or foreign id).
    pub fn open(sealer: &Sealer, id: &str) -> Option<SealedCorrelation> {
        if id.len() != SEALED_ID_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
        let (version, sealed) = bytes.split_first()?;
        if *version != SEALED_VERSION {
            return None;
        }
        let claims = sealer.open_bytes(sealed)?;
        let (sub, millis) = claims.split_at_checked(PACKED_ID_LEN)?;
        let millis = i64::from_le_bytes(millis.try_into().ok()?);
        Some(SealedCorrelation {
            subscription_id: unpack_id(IdKind::Subscription, sub.try_into().ok()?)?,
            created_at: Timestamp::from_millis(millis),
        })
    }

    /// Whether the call is too old for its usage to be metered at `now`
    /// (kept as long as a stored correlation: [`Correlation::KEEP_DAYS`]
    /// whole days after the day of the call).
    pub fn expired(&self, now: Timestamp) -> bool {
        now.day() > self.created_at.day() + Correlation::KEEP_DAYS
    }

    /// The correlation `id` (these claims, sealed) stands for, given the
    /// subscription it names.
    pub fn correlation(&self, id: &str, subscription: &Subscription) -> Correlation {
        Correlation {
            id: id.to_string(),
            subscription_id: subscription.id.clone(),
            application_id: subscription.application_id.clone(),
            consumer_id: subscription.subscriber_id.clone(),
            service_id: subscription.service_id.clone(),
            provider_id: subscription.provider_id.clone(),
            pricing_plan_id: subscription.pricing_plan_id.clone(),
            test_mode: subscription.test_mode,
            created_at: self.created_at,
        }
    }
}

/// Correlation `id` as metering sees it: a gateway call's sealed id opened
/// with `sealer` (the subscription it names read from the store, `None`
/// once expired at `now`), or else a stored correlation (a managed
/// execution's).
pub fn resolve_correlation(
    kv: &dyn KeyValue,
    sealer: &Sealer,
    id: &str,
    now: Timestamp,
) -> Result<Option<Correlation>> {
    match SealedCorrelation::open(sealer, id) {
        Some(claims) if claims.expired(now) => Ok(None),
        Some(claims) => Ok(Subscription::load(kv, &claims.subscription_id)?
            .map(|subscription| claims.correlation(id, &subscription))),
        None => Correlation::load(kv, id),
    }
}

/// Everything metering needs to attribute usage reported for one call: a
/// gateway call's is made from its sealed id ([`resolve_correlation`]), a
/// managed execution's is stored when the execution is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Correlation {
    /// The correlation id: a gateway call's `x-correlation-id`, or an
    /// execution id.
    pub id: String,
    /// The subscription the call was made under.
    pub subscription_id: String,
    /// The calling application.
    pub application_id: String,
    /// The application's owner.
    pub consumer_id: String,
    /// The called service.
    pub service_id: String,
    /// The service's owner.
    pub provider_id: String,
    /// The subscription's plan.
    pub pricing_plan_id: String,
    /// Whether usage is test usage.
    pub test_mode: bool,
    /// When the call was forwarded (the execution created).
    pub created_at: Timestamp,
}
record!(Correlation, "correlation");

/// One correlation in this many also runs a step of the correlations' sweep.
const SWEEP_EVERY: u64 = 64;

impl Correlation {
    /// Whole days a correlation is kept after the day of its call: metering
    /// accepts usage up to 35 days back.
    pub const KEEP_DAYS: i64 = 36;

    /// Where correlations are registered to expire.
    pub fn expiry() -> DailyExpiry {
        DailyExpiry::new("expiry/correlations", Self::KEEP_DAYS)
    }

    /// The writes that make this correlation durable and registered to
    /// expire [`Self::KEEP_DAYS`] after `now`'s day (the record and its
    /// expiry slot), for the caller's one `set_many`; and the expiry slot's
    /// number, for [`Correlation::recorded`].
    pub fn entries(&self, kv: &dyn KeyValue, now: Timestamp) -> Result<(Entries, u64)> {
        let key = Self::key(&self.id);
        let slot = Self::expiry().slot(kv, now, &[&key])?;
        let record = serde_json::to_vec(self)
            .map_err(|e| Error::Internal(format!("cannot encode a correlation: {e}")))?;
        Ok((vec![(key, record), slot.entry], slot.seq))
    }

    /// After the correlation with expiry slot `slot` was written: one call
    /// in [`SWEEP_EVERY`] deletes a chunk of expired correlations.
    /// Housekeeping: a failure is logged, never the caller's.
    pub fn recorded(kv: &dyn KeyValue, slot: u64, now: Timestamp) {
        if slot.is_multiple_of(SWEEP_EVERY) {
            if let Err(e) = Self::expiry().sweep_step(kv, now) {
                eprintln!("sweeping expired correlations failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_store::MemoryStore;

    const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const SUB: &str = "sub_0123456789abcdefghjkmnpqrs";

    fn sealer() -> Sealer {
        Sealer::load(&MemoryStore::new(), Some(KEY))
            .unwrap()
            .for_purpose(SealedCorrelation::PURPOSE)
    }

    fn claims() -> SealedCorrelation {
        SealedCorrelation {
            subscription_id: SUB.into(),
            created_at: Timestamp::from_millis(1_780_000_000_123),
        }
    }

    fn subscription() -> Subscription {
        Subscription {
            id: SUB.into(),
            application_id: "app_1".into(),
            subscriber_id: "acc_consumer".into(),
            service_id: "svc_1".into(),
            provider_id: "acc_provider".into(),
            pricing_plan_id: "plan_1".into(),
            test_mode: true,
            created_at: Timestamp::from_millis(0),
            index_seq: 1,
            limits: None,
        }
    }

    #[test]
    fn a_sealed_id_opens_to_its_subscription_and_time() {
        let id = claims().seal(&sealer()).unwrap();
        assert_eq!(id.len(), SEALED_ID_LEN);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(SealedCorrelation::open(&sealer(), &id), Some(claims()));
    }

    #[test]
    fn every_call_gets_an_id_of_its_own() {
        let ids: std::collections::HashSet<String> = (0..1_000)
            .map(|_| claims().seal(&sealer()).unwrap())
            .collect();
        assert_eq!(ids.len(), 1_000);
    }

    #[test]
    fn forged_damaged_and_foreign_ids_do_not_open() {
        let id = claims().seal(&sealer()).unwrap();
        let mut damaged = id.clone().into_bytes();
        damaged[20] = if damaged[20] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        let foreign = Sealer::load(&MemoryStore::new(), Some(KEY))
            .unwrap()
            .for_purpose("oauth-token");
        for bad in [
            damaged.as_str(),
            &id[1..],
            "7f6c1f43-6ad3-4b0e-9b7c-0d3e2f7a9c11",
            "exe_0123456789abcdefghjkmnpqrs",
            "",
        ] {
            assert_eq!(SealedCorrelation::open(&sealer(), bad), None, "{bad}");
        }
        assert_eq!(SealedCorrelation::open(&foreign, &id), None);
    }

    #[test]
    fn a_sealed_correlation_resolves_through_its_subscription_until_it_expires() {
        let kv = MemoryStore::new();
        subscription().save(&kv).unwrap();
        let id = claims().seal(&sealer()).unwrap();
        let at = claims().created_at;
        let resolved = resolve_correlation(&kv, &sealer(), &id, at)
            .unwrap()
            .unwrap();
        assert_eq!(resolved.id, id);
        assert_eq!(resolved.subscription_id, SUB);
        assert_eq!(resolved.provider_id, "acc_provider");
        assert_eq!(resolved.pricing_plan_id, "plan_1");
        assert!(resolved.test_mode);
        assert_eq!(resolved.created_at, at);
        let last_day = Timestamp::from_millis(
            (at.day() + Correlation::KEEP_DAYS) * qmarket_core::time::DAY_MILLIS,
        );
        assert!(resolve_correlation(&kv, &sealer(), &id, last_day)
            .unwrap()
            .is_some());
        let next_day = last_day.plus_seconds(24 * 60 * 60);
        assert_eq!(
            resolve_correlation(&kv, &sealer(), &id, next_day).unwrap(),
            None
        );
    }

    #[test]
    fn a_stored_correlation_resolves_by_its_id() {
        let kv = MemoryStore::new();
        let stored = claims().correlation("exe_0123456789abcdefghjkmnpqrs", &subscription());
        stored.save(&kv).unwrap();
        assert_eq!(
            resolve_correlation(&kv, &sealer(), &stored.id, claims().created_at).unwrap(),
            Some(stored)
        );
    }
}
