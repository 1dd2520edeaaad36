//! The host's bounds on what clients and components may take: the header,
//! idle and request deadlines on connections, and the memory limit of a
//! component instance.

mod host_support;

use host_support::{
    connect, get, guests_manifest, is_timeout, raw_exchange, read_until_closed, start, HANG_GUARD,
};
use qmarket_host::{TestApp, TestAppOptions, Timeouts};
use std::io::{Read, Write};
use std::time::Duration;

/// The test guests served with `timeouts` (the rest at their defaults).
fn guests_within(timeouts: Timeouts) -> TestApp {
    start(TestAppOptions {
        timeouts,
        ..TestAppOptions::new(guests_manifest())
    })
}

/// A limit far beyond the hang guard: it never fires during a test.
const NEVER: Duration = Duration::from_secs(3600);

fn short(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

// ---------------------------------------------------------------- connections

#[test]
fn a_client_that_stalls_mid_request_line_is_disconnected_after_the_header_timeout() {
    let app = guests_within(Timeouts {
        header_read: short(300),
        idle: NEVER,
        request_deadline: NEVER,
        ..Timeouts::default()
    });
    let mut stream = connect(app.addr());
    stream
        .write_all(b"GET /echo/x HT")
        .expect("sends half a line");

    let closed = read_until_closed(&mut stream);

    match closed {
        Ok(bytes) => assert!(
            bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&bytes)
        ),
        Err(e) => panic!("the host kept the stalled connection open for {HANG_GUARD:?}: {e}"),
    }
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = guests_within(Timeouts {
        header_read: NEVER,
        idle: short(300),
        request_deadline: NEVER,
        ..Timeouts::default()
    });
    let mut stream = connect(app.addr());
    stream
        .write_all(b"GET /.well-known/spin/health HTTP/1.1\r\nhost: test\r\n\r\n")
        .expect("sends a request");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.ends_with(b"\r\n\r\nOK") {
        let n = stream.read(&mut chunk).expect("reads the answer");
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&chunk[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));

    let after = read_until_closed(&mut stream);

    match after {
        Ok(rest) => assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest)),
        Err(e) => panic!("the idle connection stayed open for {HANG_GUARD:?}: {e}"),
    }
}

#[test]
fn stalled_clients_and_busy_guests_do_not_stop_another_client_from_being_served() {
    // Setup: limits that never fire here, so the stalled ones stay stalled.
    let app = guests_within(Timeouts {
        header_read: NEVER,
        idle: NEVER,
        request_deadline: NEVER,
        ..Timeouts::default()
    });
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(connect(app.addr()));
        let mut half = connect(app.addr());
        half.write_all(b"GET /echo/x HTTP/1.1\r\nhost: te")
            .expect("sends half a head");
        stalled.push(half);
    }
    // More guests that compute for ever than the host has worker threads.
    for _ in 0..3 {
        let mut busy = connect(app.addr());
        busy.write_all(b"GET /hog/spin HTTP/1.1\r\nhost: test\r\n\r\n")
            .expect("sends a request");
        stalled.push(busy);
    }
    std::thread::sleep(Duration::from_millis(500));

    // Exec
    let reply = get(&app.url("/echo/served"));

    // Check
    assert_eq!(reply.status, 200);
    assert_eq!(reply.lines()["component"], "echo-wild");
    for mut stream in stalled {
        let mut byte = [0u8; 1];
        stream
            .set_read_timeout(Some(Duration::from_millis(1)))
            .expect("sets a read timeout");
        let still_open = matches!(stream.read(&mut byte), Err(e) if is_timeout(&e));
        assert!(
            still_open,
            "a stalled connection was closed, so it proved nothing"
        );
    }
}

// ---------------------------------------------------------------- deadline

fn deadline_of(ms: u64) -> Timeouts {
    Timeouts {
        header_read: NEVER,
        idle: NEVER,
        request_deadline: short(ms),
        ..Timeouts::default()
    }
}

#[test]
fn a_guest_that_never_answers_is_cut_at_the_deadline_with_a_504() {
    let app = guests_within(deadline_of(500));

    let waiting = get(&app.url("/hog/sleep"));
    let computing = get(&app.url("/hog/spin"));
    let next = get(&app.url("/hog/fine"));

    assert_eq!(waiting.status, 504, "a guest waiting in a host call");
    assert_eq!(
        computing.status, 504,
        "a guest computing without host calls"
    );
    assert_eq!((next.status, next.text().as_str()), (200, "ok"));
}

#[test]
fn an_answer_still_streaming_at_the_deadline_is_cut_off_not_completed() {
    let app = guests_within(deadline_of(500));

    let answer = raw_exchange(
        app.addr(),
        b"GET /hog/stall-body HTTP/1.1\r\nhost: test\r\n\r\n",
    );

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{answer}"
    );
    assert!(answer.contains("first bytes"), "{answer}");
    assert!(
        !answer.ends_with("0\r\n\r\n"),
        "the cut answer must not end like a complete one: {answer:?}"
    );
}

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
