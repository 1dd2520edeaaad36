//! The host's bounds on what a component instance may take: its memory.

mod host_support;

use host_support::{get, guests_manifest, start};
use qmarket_host::TestAppOptions;

// ---------------------------------------------------------------- memory

#[test]
fn a_guest_that_grows_past_the_memory_limit_gets_a_500_and_others_are_unaffected() {
    let app = start(TestAppOptions::new(guests_manifest()));
    let url = app.url("/hog/alloc/80");
    let hogs: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&url).status)
        })
        .collect();

    let within = get(&app.url("/hog/alloc/16"));
    let echo = get(&app.url("/echo/x"));

    for hog in hogs {
        assert_eq!(hog.join().expect("thread"), 500, "80 MiB is past 64 MiB");
    }
    assert_eq!(
        (within.status, within.text().as_str()),
        (200, "allocated 16 MiB")
    );
    assert_eq!(echo.status, 200);
    assert_eq!(get(&app.url("/hog/alloc/16")).status, 200);
}

#[test]
fn the_memory_limit_is_a_host_option() {
    let app = start(TestAppOptions {
        max_memory_bytes: Some(128 << 20),
        ..TestAppOptions::new(guests_manifest())
    });

    let reply = get(&app.url("/hog/alloc/80"));

    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "allocated 80 MiB")
    );
}
