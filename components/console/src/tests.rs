//! What the console answers, over a small table of files and over the
//! files the build embedded.
use super::*;
use qmarket_http::{Method, Request};
use site::{accepts_html, cache_control, content_type, Site, Target};

const PAGE: &[u8] = b"<!doctype html><title>qmarket</title>";
const SCRIPT: &[u8] = b"console.log(1)";
const FILES_HERE: &[(&str, &[u8])] = &[
    ("/index.html", PAGE),
    ("/assets/index-Ab12Cd.js", SCRIPT),
    ("/assets/index-Ef34Gh.css", b"body{}"),
];
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn get(path: &str, accept: Option<&str>) -> qmarket_http::Response {
    let mut req = Request::new(Method::Get, path);
    if let Some(accept) = accept {
        req = req.with_header("Accept", accept);
    }
    site::answer(&Site::new(FILES_HERE), &req)
}

#[test]
fn the_root_is_the_app_page_revalidated_every_time() {
    let r = get("/", Some(BROWSER));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PAGE);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert!(r
        .header("content-security-policy")
        .is_some_and(|p| p.contains("script-src 'self'")));
}

#[test]
fn the_root_is_the_page_whatever_the_client_accepts() {
    assert_eq!(get("/", None).body, PAGE);
    assert_eq!(get("/index.html", Some("*/*")).body, PAGE);
}

#[test]
fn hashed_files_are_cached_for_a_year_as_immutable() {
    let r = get("/assets/index-Ab12Cd.js", Some("*/*"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, SCRIPT);
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn a_deep_link_a_browser_opens_gets_the_app_page() {
    let r = get("/services/svc_0123456789abcdefghjkmnpqrs", Some(BROWSER));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PAGE);
    assert_eq!(r.header("vary"), Some("Accept"));
}

#[test]
fn an_unknown_path_asked_for_as_data_is_a_problem_404() {
    for accept in [None, Some("*/*"), Some("application/json")] {
        let r = get("/services/x", accept);
        assert_eq!(r.status, 404, "{accept:?}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.json_value()["status"], 404);
    }
}

#[test]
fn a_missing_hashed_file_is_a_404_even_for_a_browser() {
    let r = get("/assets/index-Old999.js", Some(BROWSER));
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[test]
fn other_methods_than_get_and_head_are_refused_with_405() {
    let r = site::answer(
        &Site::new(FILES_HERE),
        &Request::new(Method::Post, "/").with_header("accept", BROWSER),
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[test]
fn head_answers_the_headers_of_get_without_a_body() {
    let r = site::answer(
        &Site::new(FILES_HERE),
        &Request::new(Method::Head, "/assets/index-Ab12Cd.js"),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

#[test]
fn html_is_accepted_only_when_listed_and_not_refused() {
    assert!(accepts_html(Some(BROWSER)));
    assert!(accepts_html(Some("TEXT/HTML")));
    assert!(accepts_html(Some("application/json, text/html;q=0.5")));
    assert!(!accepts_html(Some("text/html;q=0")));
    assert!(!accepts_html(Some("*/*")));
    assert!(!accepts_html(Some("text/htmlx")));
    assert!(!accepts_html(None));
}

#[test]
fn content_types_follow_the_extension() {
    assert_eq!(content_type("/a.CSS"), "text/css; charset=utf-8");
    assert_eq!(content_type("/assets/x.svg"), "image/svg+xml");
    assert_eq!(content_type("/noextension"), "application/octet-stream");
}

#[test]
fn only_hashed_files_are_immutable() {
    assert_eq!(cache_control("/assets/a-1.js"), headers::IMMUTABLE);
    assert_eq!(cache_control("/index.html"), headers::NO_CACHE);
    assert_eq!(cache_control("/favicon.svg"), headers::NO_CACHE);
}

#[test]
fn a_site_without_a_page_has_nothing_at_the_root() {
    let site = Site::new(&[]);
    assert_eq!(site.target("/", Some(BROWSER)), Target::Missing);
}

#[test]
fn the_embedded_page_names_only_hashed_files_that_are_embedded() {
    // Setup
    let site = Site::new(FILES);
    let (_, page) = site.file(site::INDEX).expect("the build embeds index.html");
    let page = std::str::from_utf8(page).expect("UTF-8");
    // Exec
    let referenced: Vec<&str> = page
        .split('"')
        .filter(|piece| piece.starts_with(site::HASHED_DIR))
        .collect();
    // Check
    assert!(!referenced.is_empty(), "the page loads its script: {page}");
    for path in referenced {
        assert!(site.file(path).is_some(), "{path} is not embedded");
    }
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );
}
