//! Applications: creation, listing, ownership, deletion, concurrency.

mod support;

use qmarket_http::StatusOf;
use std::collections::HashSet;
use std::sync::Arc;

use qmarket_http::PageQuery;
use qmarket_identity::application::{self, NewApplication};
use qmarket_model::{Application, Record};
use qmarket_store::{KeyValue, MemoryStore};
use support::{account, app, now};

fn page(limit: usize, cursor: Option<String>) -> PageQuery {
    PageQuery { limit, cursor }
}

#[test]
fn an_application_stores_only_the_hash_of_its_secret() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    assert!(created.consumer_secret.expose().len() > 40);
    let stored = Application::load(&kv, &created.id).unwrap().unwrap();
    assert_eq!(
        stored.consumer_secret_hash,
        qmarket_core::secret::hash(created.consumer_secret.expose())
    );
    let dump = kv.dump();
    assert!(dump
        .iter()
        .all(|(k, v)| !k.contains(created.consumer_secret.expose())
            && !String::from_utf8_lossy(v).contains(created.consumer_secret.expose())));
}

#[test]
fn application_names_are_validated() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    for bad in ["", "   ", &"n".repeat(101)] {
        let err = application::create(&kv, &ada.id, NewApplication { name: bad.into() }, now())
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.field_errors()[0].field, "name");
    }
}

#[test]
fn applications_are_listed_newest_first_page_by_page() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let ids: Vec<String> = (0..5).map(|_| app(&kv, &ada.id).id).collect();
    let first = application::list(&kv, &ada.id, &page(2, None)).unwrap();
    assert_eq!(
        first.items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        [ids[4].clone(), ids[3].clone()]
    );
    let second = application::list(&kv, &ada.id, &page(2, first.next_cursor)).unwrap();
    let third = application::list(&kv, &ada.id, &page(2, second.next_cursor)).unwrap();
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.items[0].id, ids[0]);
    assert_eq!(third.next_cursor, None);
}

#[test]
fn another_accounts_application_answers_404_like_a_missing_one() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let bob = account(&kv, "bob");
    let bobs = app(&kv, &bob.id);
    assert_eq!(
        application::get(&kv, &ada.id, &bobs.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        application::delete(&kv, &ada.id, &bobs.id)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        application::get(&kv, &ada.id, "app_nope")
            .unwrap_err()
            .status(),
        404
    );
    assert!(application::list(&kv, &ada.id, &page(50, None))
        .unwrap()
        .items
        .is_empty());
    assert!(application::get(&kv, &bob.id, &bobs.id).is_ok());
}

#[test]
fn a_deleted_application_is_gone_with_its_consumer_key() {
    let kv = MemoryStore::new();
    let ada = account(&kv, "ada");
    let created = app(&kv, &ada.id);
    application::delete(&kv, &ada.id, &created.id).unwrap();
    assert!(!kv
        .exists(&Application::by_consumer_key_key(&created.consumer_key))
        .unwrap());
    assert!(application::list(&kv, &ada.id, &page(50, None))
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        application::delete(&kv, &ada.id, &created.id)
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn fifty_threads_creating_applications_for_one_account_are_all_listed() {
    // Setup
    let kv = Arc::new(MemoryStore::new());
    let ada = account(&kv, "ada");
    // Exec
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let (kv, acc) = (kv.clone(), ada.id.clone());
            std::thread::spawn(move || {
                application::create(
                    &*kv,
                    &acc,
                    NewApplication {
                        name: format!("app {i}"),
                    },
                    now(),
                )
                .map(|a| a.id)
            })
        })
        .collect();
    let created: HashSet<String> = handles
        .into_iter()
        .map(|h| h.join().expect("thread").expect("create"))
        .collect();
    // Check
    let listed = application::list(&*kv, &ada.id, &page(500, None)).unwrap();
    let listed: HashSet<String> = listed.items.into_iter().map(|a| a.id).collect();
    assert_eq!(created.len(), 50);
    assert_eq!(listed, created);
}
