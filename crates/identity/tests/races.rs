//! Writers whose changes exclude each other, racing on one store from many
//! threads in both orders: the invariants hold whichever wins.
//!
//! - A plan's products never change after a subscription to it exists.
//! - A service is never deleted while a subscription to it exists.
//! - A service edit racing a publication never undoes it.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use qmarket_catalog::{lifecycle, pricing_plan, service, PricingPlanView, ServiceView};
use qmarket_core::{Result, Timestamp};
use qmarket_http::StatusOf;
use qmarket_identity::subscription::{self, NewSubscription};
use qmarket_model::{Lifecycle, Record, Service, Subscription};
use qmarket_sealing::Sealer;
use qmarket_store::{KeyValue, MemoryStore};
use serde_json::json;
use support::{account, app};

const ROUNDS: usize = 400;

/// A memory store that numbers every write, so a test can tell which of
/// two writes came first.
#[derive(Default)]
struct Sequenced {
    inner: MemoryStore,
    clock: AtomicU64,
    writes: Mutex<Vec<(u64, String)>>,
}

impl Sequenced {
    fn log(&self, key: &str) {
        let n = self.clock.fetch_add(1, Ordering::SeqCst);
        self.writes.lock().unwrap().push((n, key.to_string()));
    }

    /// When `key` was last written, if ever.
    fn last_write(&self, key: &str) -> Option<u64> {
        let writes = self.writes.lock().unwrap();
        writes
            .iter()
            .filter(|(_, k)| k == key)
            .map(|(n, _)| *n)
            .max()
    }
}

impl KeyValue for Sequenced {
    fn get(&self, key: &str) -> qmarket_store::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> qmarket_store::Result<()> {
        let result = self.inner.set(key, value);
        self.log(key);
        result
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> qmarket_store::Result<()> {
        let result = self.inner.set_many(entries);
        for (key, _) in entries {
            self.log(key);
        }
        result
    }
    fn delete(&self, key: &str) -> qmarket_store::Result<()> {
        let result = self.inner.delete(key);
        self.log(key);
        result
    }
    fn exists(&self, key: &str) -> qmarket_store::Result<bool> {
        self.inner.exists(key)
    }
    fn increment(&self, key: &str, delta: i64) -> qmarket_store::Result<i64> {
        self.inner.increment(key, delta)
    }
}

struct Scene {
    kv: Arc<Sequenced>,
    provider: String,
    consumer: String,
    app: String,
    service: ServiceView,
    plan: PricingPlanView,
}

fn sealer() -> Sealer {
    Sealer::from_key(&[7; 32])
}

/// A provider's service with one plan (published or not) and a consumer's
/// application.
fn scene(published: bool) -> Scene {
    let kv = Arc::new(Sequenced::default());
    let provider = account(&kv.inner, "provider").id;
    let consumer = account(&kv.inner, "consumer").id;
    let app = app(&kv.inner, &consumer).id;
    let now = Timestamp::now();
    let input = serde_json::from_value(json!({
        "name": "Walk", "type": "EXTERNAL", "quantumBackend": "IBM",
        "url": "https://walk.example.org"
    }))
    .unwrap();
    let service = service::create(&*kv, &sealer(), &provider, input, now).unwrap();
    let plan_input = serde_json::from_value(json!({
        "name": "Pay per use",
        "products": [{"name": "API", "unitPrice": "0.00001", "unit": "call"}]
    }))
    .unwrap();
    let plan = pricing_plan::create(&*kv, &provider, &service.id, plan_input, now).unwrap();
    if published {
        lifecycle::publish(&*kv, &provider, &service.id, now).unwrap();
    }
    Scene {
        kv,
        provider,
        consumer,
        app,
        service,
        plan,
    }
}

/// Runs `a` and `b` at once (released together by a barrier, then `b`
/// delayed by a few microseconds that vary with `round`, and in odd rounds
/// started first), returning both outcomes.
fn race<A, B>(
    round: usize,
    a: impl FnOnce() -> A + Send + 'static,
    b: impl FnOnce() -> B + Send + 'static,
) -> (A, B)
where
    A: Send + 'static,
    B: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(2));
    let (ba, bb) = (barrier.clone(), barrier);
    let spawn_a = move || {
        std::thread::spawn(move || {
            ba.wait();
            a()
        })
    };
    let delay = std::time::Duration::from_micros((round % 13 * 5) as u64);
    let spawn_b = move || {
        std::thread::spawn(move || {
            bb.wait();
            std::thread::sleep(delay);
            b()
        })
    };
    let (ta, tb) = if round % 2 == 1 {
        let tb = spawn_b();
        (spawn_a(), tb)
    } else {
        let ta = spawn_a();
        (ta, spawn_b())
    };
    (ta.join().unwrap(), tb.join().unwrap())
}

fn subscribe(s: &Scene) -> impl FnOnce() -> Result<subscription::SubscriptionView> + Send {
    let (kv, consumer, app) = (s.kv.clone(), s.consumer.clone(), s.app.clone());
    let input = NewSubscription {
        service_id: s.service.id.clone(),
        pricing_plan_id: s.plan.id.clone(),
    };
    move || subscription::subscribe(&*kv, &consumer, &app, input, Timestamp::now())
}

#[test]
fn a_plans_products_never_change_after_a_subscription_to_it_exists() {
    let (mut both, mut only_one, mut neither) = (0, 0, 0);
    for round in 0..ROUNDS {
        // Setup
        let s = scene(true);
        let (kv, provider, svc, plan) = (
            s.kv.clone(),
            s.provider.clone(),
            s.service.id.clone(),
            s.plan.id.clone(),
        );
        let change = move || {
            let patch = serde_json::from_value(json!({
                "products": [{"name": "API", "unitPrice": "0.00002", "unit": "call"}]
            }))
            .unwrap();
            pricing_plan::update(&*kv, &provider, &svc, &plan, patch, Timestamp::now())
        };
        // Exec
        let (subscribed, changed) = race(round, subscribe(&s), change);
        // Check: a change that took effect was written before the
        // subscription was recorded; a refused one is a 409.
        let plan_written = s.kv.last_write(&format!("plan/{}", s.plan.id)).unwrap();
        match (&subscribed, &changed) {
            (Ok(sub), Ok(_)) => {
                let sub_written = s.kv.last_write(&format!("sub/{}", sub.id)).unwrap();
                assert!(
                    plan_written < sub_written,
                    "round {round}: the plan changed after subscription {} was recorded",
                    sub.id
                );
                both += 1;
            }
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
                assert_eq!(e.status(), 409, "round {round}: {e}");
                only_one += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!((a.status(), b.status()), (409, 409), "round {round}");
                neither += 1;
            }
        }
        if let Ok(sub) = &subscribed {
            let stored = pricing_plan::get(&*s.kv, &s.consumer, &s.service.id, &s.plan.id).unwrap();
            let price = stored.products[0].unit_price.to_string();
            let expected = if changed.is_ok() {
                "0.00002"
            } else {
                "0.00001"
            };
            assert_eq!(price, expected, "round {round}, {}", sub.id);
        }
    }
    eprintln!("plan change vs subscribe: both {both}, one {only_one}, neither {neither}");
}

#[test]
fn a_service_is_never_deleted_while_a_subscription_to_it_exists() {
    let (mut subscribed_only, mut deleted_only, mut neither) = (0, 0, 0);
    for round in 0..ROUNDS {
        // Setup
        let s = scene(true);
        let (kv, provider, svc) = (s.kv.clone(), s.provider.clone(), s.service.id.clone());
        let delete = move || service::delete(&*kv, &provider, &svc);
        // Exec
        let (subscribed, deleted) = race(round, subscribe(&s), delete);
        // Check
        let exists = Service::load(&*s.kv, &s.service.id).unwrap().is_some();
        match (&subscribed, &deleted) {
            (Ok(sub), Ok(())) => panic!(
                "round {round}: service deleted while subscription {} was created",
                sub.id
            ),
            (Ok(sub), Err(e)) => {
                assert_eq!(e.status(), 409, "round {round}: {e}");
                assert!(exists, "round {round}");
                assert!(Subscription::load(&*s.kv, &sub.id).unwrap().is_some());
                subscribed_only += 1;
            }
            (Err(e), Ok(())) => {
                assert!(matches!(e.status(), 404 | 409), "round {round}: {e}");
                assert!(!exists, "round {round}");
                deleted_only += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!((a.status(), b.status()), (409, 409), "round {round}");
                neither += 1;
            }
        }
    }
    eprintln!(
        "delete vs subscribe: subscribed {subscribed_only}, deleted {deleted_only}, neither {neither}"
    );
}

#[test]
fn an_edit_racing_a_publication_keeps_both() {
    for round in 0..ROUNDS {
        // Setup
        let s = scene(false);
        let (kv, provider, svc) = (s.kv.clone(), s.provider.clone(), s.service.id.clone());
        let publish = move || lifecycle::publish(&*kv, &provider, &svc, Timestamp::now());
        let (kv, provider, svc) = (s.kv.clone(), s.provider.clone(), s.service.id.clone());
        let edit = move || {
            let patch = serde_json::from_value(json!({"description": "edited"})).unwrap();
            service::update(&*kv, &sealer(), &provider, &svc, patch, Timestamp::now())
        };
        // Exec
        let (published, edited) = race(round, publish, edit);
        // Check
        published.unwrap();
        edited.unwrap();
        let now = service::get(&*s.kv, &s.provider, &s.service.id).unwrap();
        assert_eq!(now.lifecycle, Lifecycle::Published, "round {round}");
        assert_eq!(now.description, "edited", "round {round}");
    }
}
