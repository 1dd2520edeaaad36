//! Routing, Spin's request headers, health, 404s and traps, through the
//! test guests on the embedded host.

mod host_support;

use host_support::{get, guests, raw_exchange};

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

/// The header lines of the echo guest's answer in `exchange`, in order.
fn echoed_headers(exchange: &str) -> Vec<String> {
    let body = exchange.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    body.lines()
        .skip_while(|l| !l.starts_with("component: "))
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn a_header_named_in_connection_reaches_the_component_as_under_spin() {
    let app = guests();
    let answer = raw_exchange(
        app.addr(),
        b"GET /echo/exact HTTP/1.1\r\nhost: test\r\nconnection: close, x-hop\r\n\
          x-hop: for this connection\r\nkeep-alive: timeout=5\r\nx-other: 1\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let headers = echoed_headers(&answer);
    assert!(
        headers.contains(&"x-hop: for this connection".to_string()),
        "Spin passes the headers Connection names: {headers:?}"
    );
    assert!(headers.contains(&"x-other: 1".to_string()), "{headers:?}");
    for removed in ["connection", "keep-alive", "host"] {
        assert!(
            !headers
                .iter()
                .any(|h| h.starts_with(&format!("{removed}: "))),
            "{removed} is removed, as by Spin and wasmtime: {headers:?}"
        );
    }
}

#[test]
fn a_spin_header_sent_by_the_client_reaches_the_component_ahead_of_the_hosts() {
    let app = guests();
    let answer = raw_exchange(
        app.addr(),
        b"GET /echo/exact HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\
          spin-client-addr: 203.0.113.9:1\r\n\r\n",
    );
    let client_addrs: Vec<String> = echoed_headers(&answer)
        .into_iter()
        .filter_map(|h| h.strip_prefix("spin-client-addr: ").map(str::to_string))
        .collect();
    assert_eq!(client_addrs.len(), 2, "{client_addrs:?}");
    assert_eq!(
        client_addrs[0], "203.0.113.9:1",
        "the client's, as Spin keeps it"
    );
    assert!(
        client_addrs[1].starts_with("127.0.0.1:"),
        "the host's comes last: {client_addrs:?}"
    );
}
