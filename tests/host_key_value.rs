//! Key-value through the guests: Spin and wasi:keyvalue on one store, on
//! SQLite (default) and on Redis (runtime config), atomics, CAS, batch,
//! access control and durability across restarts.

mod host_support;

use host_support::{delete, get, guests, guests_manifest, post, put, start, Redis, Scratch};
use qmarket_host::{TestApp, TestAppOptions};

fn on_redis(redis: &Redis, scratch: &Scratch) -> TestApp {
    start(TestAppOptions {
        runtime_config: Some(redis.runtime_config(scratch)),
        ..TestAppOptions::new(guests_manifest())
    })
}

fn crud_works(app: &TestApp) {
    let key = app.url("/kv/spin/default/fruit");
    assert_eq!(get(&key).status, 404, "a missing key reads as none");
    assert_eq!(put(&key, b"apple").status, 204);
    assert_eq!(get(&key).text(), "apple");
    assert_eq!(
        get(&app.url("/kv/spin-exists/default/fruit")).text(),
        "true"
    );
    assert_eq!(put(&app.url("/kv/spin/default/veg"), b"leek").status, 204);
    assert_eq!(get(&app.url("/kv/spin-keys/default")).text(), "fruit\nveg");
    assert_eq!(delete(&key).status, 204);
    assert_eq!(get(&key).status, 404);
    assert_eq!(
        get(&app.url("/kv/spin-exists/default/fruit")).text(),
        "false"
    );
    assert_eq!(delete(&key).status, 204, "deleting a missing key is fine");
}

fn increments_are_exact_under_concurrency(app: &TestApp) -> Vec<u8> {
    let url = app.url("/kv/incr/default/hits?by=1");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(200));
    let threads: Vec<_> = (0..200)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let reply = post(&url, b"");
                assert_eq!(reply.status, 200, "{}", reply.text());
                reply.text().parse::<i64>().expect("the new value")
            })
        })
        .collect();
    let mut seen: Vec<i64> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=200).collect::<Vec<_>>(),
        "every increment saw a distinct value"
    );
    assert_eq!(
        post(&app.url("/kv/incr/default/hits?by=0"), b"").text(),
        "200"
    );
    get(&app.url("/kv/spin/default/hits")).bytes
}

fn compare_and_swap_is_correct(app: &TestApp) {
    let cas = app.url("/kv/cas/default/lock");
    let first = post(&cas, b"owner-1");
    assert_eq!(
        (first.status, first.text().as_str()),
        (200, "swapped from <none>")
    );
    let second = post(&cas, b"owner-2");
    assert_eq!(
        (second.status, second.text().as_str()),
        (200, "swapped from owner-1")
    );

    let raced = post(&app.url("/kv/cas/default/lock?interfere=1"), b"owner-3");
    assert_eq!(raced.status, 409, "a swap after the value changed fails");
    assert_eq!(raced.text(), "cas failed; now interference");
    assert_eq!(
        get(&app.url("/kv/spin/default/lock")).text(),
        "interference"
    );

    let fresh = post(&app.url("/kv/cas/default/fresh?interfere=1"), b"mine");
    assert_eq!(
        fresh.status, 409,
        "an insert-if-absent loses to a concurrent insert"
    );
}

#[test]
fn get_set_delete_exists_and_get_keys_work_through_the_guest() {
    crud_works(&guests());
}

#[test]
fn a_key_written_through_spin_is_read_through_wasi_keyvalue_and_back() {
    let app = guests();
    assert_eq!(
        put(&app.url("/kv/spin/default/shared"), b"from spin").status,
        204
    );
    assert_eq!(get(&app.url("/kv/wasi/default/shared")).text(), "from spin");
    assert_eq!(
        put(&app.url("/kv/wasi/default/shared"), b"from wasi").status,
        204
    );
    assert_eq!(get(&app.url("/kv/spin/default/shared")).text(), "from wasi");
}

#[test]
fn sqlite_counters_are_eight_little_endian_bytes_like_spin() {
    let app = guests();
    assert_eq!(
        post(&app.url("/kv/incr/default/n?by=258"), b"").text(),
        "258"
    );
    assert_eq!(
        get(&app.url("/kv/spin/default/n")).bytes,
        258i64.to_le_bytes().to_vec()
    );
}

#[test]
fn two_hundred_concurrent_increments_give_exactly_200_on_sqlite() {
    let app = guests();
    let raw = increments_are_exact_under_concurrency(&app);
    assert_eq!(raw, 200i64.to_le_bytes());
}

#[test]
fn two_hundred_concurrent_increments_give_exactly_200_on_redis() {
    let redis = Redis::start();
    let scratch = Scratch::new();
    let app = on_redis(&redis, &scratch);
    let raw = increments_are_exact_under_concurrency(&app);
    assert_eq!(raw, b"200", "Redis counters are INCRBY decimal strings");
    assert_eq!(redis.command(&["GET", "hits"]), "200");
}

#[test]
fn compare_and_swap_fails_when_the_value_changed_on_sqlite() {
    compare_and_swap_is_correct(&guests());
}

#[test]
fn compare_and_swap_fails_when_the_value_changed_on_redis() {
    let redis = Redis::start();
    let scratch = Scratch::new();
    compare_and_swap_is_correct(&on_redis(&redis, &scratch));
}

#[test]
fn get_set_delete_exists_and_get_keys_work_on_redis() {
    let redis = Redis::start();
    let scratch = Scratch::new();
    let app = on_redis(&redis, &scratch);
    crud_works(&app);
    assert_eq!(put(&app.url("/kv/wasi/default/direct"), b"v").status, 204);
    assert_eq!(redis.command(&["GET", "direct"]), "v");
}

#[test]
fn batch_operations_set_get_and_delete_many() {
    let app = guests();
    let reply = post(&app.url("/kv/batch/default"), b"a=1\nb=2");
    assert_eq!(reply.text(), "a=1\nb=2\nmissing=<none>");
    assert_eq!(
        get(&app.url("/kv/spin/default/a")).status,
        404,
        "delete-many removed a"
    );
}

#[test]
fn opening_a_store_the_component_does_not_list_is_access_denied() {
    let app = guests();
    let spin = get(&app.url("/kv-denied/spin/default/x"));
    assert_eq!(
        (spin.status, spin.text().as_str()),
        (403, "Error::AccessDenied")
    );
    let wasi = get(&app.url("/kv-denied/wasi/default/x"));
    assert_eq!(wasi.status, 403, "{}", wasi.text());
}

#[test]
fn data_survives_a_host_restart() {
    let mut app = guests();
    assert_eq!(
        put(&app.url("/kv/spin/default/durable"), b"still here").status,
        204
    );
    assert_eq!(
        post(&app.url("/kv/incr/default/count?by=3"), b"").text(),
        "3"
    );
    app.restart().expect("restarts");
    assert_eq!(
        get(&app.url("/kv/spin/default/durable")).text(),
        "still here"
    );
    assert_eq!(
        post(&app.url("/kv/incr/default/count?by=1"), b"").text(),
        "4"
    );
    assert!(app.state_dir().join("sqlite_key_value.db").exists());
}

#[test]
fn a_given_state_dir_is_kept_and_reused_by_a_new_host() {
    let scratch = Scratch::new();
    let options = TestAppOptions {
        state_dir: Some(scratch.path().join("state")),
        ..TestAppOptions::new(guests_manifest())
    };
    {
        let app = start(options.clone());
        assert_eq!(put(&app.url("/kv/spin/default/k"), b"v").status, 204);
    }
    assert!(scratch.path().join("state/sqlite_key_value.db").exists());
    let app = start(options);
    assert_eq!(get(&app.url("/kv/spin/default/k")).text(), "v");
}

#[test]
fn an_unreachable_redis_is_a_store_error_for_the_guest_not_a_trap() {
    let scratch = Scratch::new();
    let port = host_support::free_port();
    let config = scratch.write(
        "runtime-config.toml",
        &format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{port}\"\n"
        ),
    );
    let app = start(TestAppOptions {
        runtime_config: Some(config),
        ..TestAppOptions::new(guests_manifest())
    });
    let reply = get(&app.url("/kv/spin/default/x"));
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(reply.text().contains("redis"), "{}", reply.text());
}

#[test]
fn each_request_logs_its_store_operations_by_kind() {
    // Setup: a host whose log lines the test keeps.
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = {
        let lines = lines.clone();
        qmarket_host::LogSink::new(move |line| lines.lock().expect("log").push(line.to_string()))
    };
    let app = start(TestAppOptions {
        log_sink: Some(sink),
        ..TestAppOptions::new(guests_manifest())
    });
    let logged = |prefix: &str| -> String {
        // The line is written once the guest has finished, which may be
        // just after its answer arrived.
        for _ in 0..500 {
            let found = lines
                .lock()
                .expect("log")
                .iter()
                .find(|l| l.starts_with(prefix))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no log line starting with {prefix:?}")
    };
    // Exec: a set; then set-many, get-many and delete-many.
    assert_eq!(put(&app.url("/kv/spin/default/a"), b"1").status, 204);
    assert_eq!(post(&app.url("/kv/batch/default"), b"x=1\ny=2").status, 200);
    // Check
    let set = logged("PUT /kv/spin/default/a kv ");
    assert!(set.contains(" reads=0 writes=1 outbound=0 set=1"), "{set}");
    let batch = logged("POST /kv/batch/default kv ");
    assert!(
        batch.contains(" reads=1 writes=2 outbound=0 get_many=1 set_many=1 delete_many=1"),
        "{batch}"
    );
}
