//! The web console through the embedded host: the page at `/`, its hashed
//! assets, deep links into the app, and the problem+json answers around it
//! (the API's own 404s are still the platform's).

mod support;

use support::{platform, Api, Reply};

/// What a browser sends when it opens an address.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The `/assets/…` paths the page loads.
fn asset_paths(page: &str) -> Vec<String> {
    page.split('"')
        .filter(|piece| piece.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

#[track_caller]
fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json()["status"], status);
}

#[test]
fn the_root_serves_the_console_page_revalidated_and_with_a_content_security_policy() {
    // Setup
    let app = platform();
    // Exec
    let reply = app.get("/").send().expect(200);
    // Check
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert!(reply
        .header("content-security-policy")
        .is_some_and(|p| p.contains("default-src 'self'")));
    assert!(reply.text.contains("<title>qmarket console</title>"));
}

#[test]
fn the_pages_hashed_assets_are_served_as_immutable() {
    // Setup
    let app = platform();
    let page = app.get("/").send().expect(200).text;
    let assets = asset_paths(&page);
    assert!(assets.len() >= 2, "a script and a stylesheet: {page}");
    for path in assets {
        // Exec
        let reply = app.get(&path).send().expect(200);
        // Check
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert!(!reply.text.is_empty(), "{path}");
    }
}

#[test]
fn a_deep_link_a_browser_opens_gets_the_console_page() {
    let app = platform();
    let reply = app
        .get("/services/svc_0123456789abcdefghjkmnpqrs")
        .header("accept", BROWSER_ACCEPT)
        .send()
        .expect(200);
    assert!(reply.text.contains("<title>qmarket console</title>"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
}

#[test]
fn a_path_outside_the_api_asked_for_as_data_is_a_problem_404() {
    let app = platform();
    assert_problem(&app.get("/services/x").send(), 404);
    assert_problem(
        &app.get("/services/x")
            .header("accept", "application/json")
            .send(),
        404,
    );
    assert_problem(
        &app.get("/assets/index-gone.js")
            .header("accept", BROWSER_ACCEPT)
            .send(),
        404,
    );
}

#[test]
fn an_unknown_api_path_is_still_the_platforms_problem_404_even_for_a_browser() {
    let app = platform();
    let reply = app
        .get("/api/nothing-here")
        .header("accept", BROWSER_ACCEPT)
        .send();
    assert_problem(&reply, 404);
    assert!(
        reply.detail().contains("/api/nothing-here"),
        "{}",
        reply.text
    );
}

#[test]
fn methods_other_than_get_and_head_on_console_paths_are_a_problem_405() {
    let app = platform();
    let reply = app.post("/").header("accept", BROWSER_ACCEPT).send();
    assert_problem(&reply, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert_problem(&app.delete("/services").send(), 405);
}
