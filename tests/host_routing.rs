//! Routing, Spin's request headers, health, 404s and traps, through the
//! test guests on the embedded host.

mod host_support;

use host_support::{get, guests};

#[test]
fn an_exact_route_beats_a_wildcard() {
    let app = guests();
    let reply = get(&app.url("/echo/exact"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.lines()["component"], "echo-exact");
    assert_eq!(
        get(&app.url("/echo/other")).lines()["component"],
        "echo-wild"
    );
}

#[test]
fn the_longest_wildcard_prefix_wins() {
    let app = guests();
    assert_eq!(
        get(&app.url("/echo/deeper/x")).lines()["component"],
        "echo-deeper"
    );
    assert_eq!(
        get(&app.url("/echo/deep")).lines()["component"],
        "echo-wild"
    );
    assert_eq!(get(&app.url("/echo")).lines()["component"], "echo-wild");
}

#[test]
fn literal_segments_beat_parameters_and_parameters_become_headers() {
    let app = guests();
    let me = get(&app.url("/users/me/orders/9")).lines();
    assert_eq!(me["component"], "echo-me");
    assert_eq!(me["spin-path-match-order"], "9");

    let params = get(&app.url("/users/42/orders/7")).lines();
    assert_eq!(params["component"], "echo-params");
    assert_eq!(params["spin-path-match-id"], "42");
    assert_eq!(params["spin-path-match-order"], "7");
    assert_eq!(params["spin-matched-route"], "/users/:id/orders/:order");
}

#[test]
fn spin_headers_carry_the_values_spin_sets_for_a_wildcard_route() {
    let app = guests();
    let h = get(&app.url("/echo/deeper/a/b?x=1&y=2")).lines();
    let port = app.addr().port();
    assert_eq!(
        h["spin-full-url"],
        format!("http://127.0.0.1:{port}/echo/deeper/a/b?x=1&y=2")
    );
    assert_eq!(h["spin-path-info"], "/a/b");
    assert_eq!(h["spin-matched-route"], "/echo/deeper/...");
    assert_eq!(h["spin-raw-component-route"], "/echo/deeper/...");
    assert_eq!(h["spin-component-route"], "/echo/deeper");
    assert_eq!(h["spin-base-path"], "/");
    let client = &h["spin-client-addr"];
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    assert!(
        client["127.0.0.1:".len()..].parse::<u16>().is_ok(),
        "{client}"
    );
}

#[test]
fn path_info_keeps_spins_trailing_slash_rules() {
    let app = guests();
    assert_eq!(get(&app.url("/echo/deeper")).lines()["spin-path-info"], "");
    assert_eq!(
        get(&app.url("/echo/deeper/")).lines()["spin-path-info"],
        "/"
    );
    assert_eq!(
        get(&app.url("/echo/deeper/x/")).lines()["spin-path-info"],
        "/x/"
    );
}

#[test]
fn an_exact_route_has_empty_path_info_and_the_same_component_route() {
    let app = guests();
    let h = get(&app.url("/echo/exact")).lines();
    assert_eq!(h["spin-path-info"], "");
    assert_eq!(h["spin-component-route"], "/echo/exact");
    assert_eq!(h["spin-matched-route"], "/echo/exact");
}

#[test]
fn an_unmatched_path_is_a_404_with_an_empty_body() {
    let app = guests();
    let reply = get(&app.url("/nowhere"));
    assert_eq!(reply.status, 404);
    assert!(reply.bytes.is_empty());
}

#[test]
fn the_well_known_health_endpoint_answers_ok() {
    let app = guests();
    let reply = get(&app.url("/.well-known/spin/health"));
    assert_eq!((reply.status, reply.text().as_str()), (200, "OK"));
}

#[test]
fn a_trapping_guest_gives_500_and_the_next_request_succeeds() {
    let app = guests();
    assert_eq!(get(&app.url("/trap/boom")).status, 500);
    let next = get(&app.url("/trap/fine"));
    assert_eq!((next.status, next.text().as_str()), (200, "alive"));
    assert_eq!(get(&app.url("/echo/exact")).status, 200);
}

#[test]
fn requests_are_served_concurrently_with_a_fresh_instance_each() {
    let app = guests();
    let url = app.url("/echo/x");
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&url).status)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), 200);
    }
}
