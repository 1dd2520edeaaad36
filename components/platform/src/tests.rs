//! The platform's own endpoints, and the OpenAPI document checked against
//! the routes of `spin.toml` and the rules every operation follows.
use super::*;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("the built-in document is JSON")
}

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The OpenAPI path of every route of `spin.toml` (except the catch-all).
fn spin_routes() -> BTreeSet<String> {
    let manifest: toml::Table = repo_file("spin.toml").parse().expect("spin.toml is TOML");
    manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]] entries")
        .iter()
        .map(|t| t["route"].as_str().expect("a route").to_string())
        .filter(|route| route != "/...")
        .map(|route| {
            route
                .split('/')
                .map(|segment| match segment.strip_prefix(':') {
                    Some(param) => format!("{{{param}}}"),
                    None => segment.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// Whether `route` (exact, or a wildcard `/prefix/...`) serves `path`.
fn serves(route: &str, path: &str) -> bool {
    match route.strip_suffix("...") {
        Some(prefix) => path.starts_with(prefix),
        None => route == path,
    }
}

/// Every `(path, method, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                found.push((path.clone(), method.to_string(), op.clone()));
            }
        }
    }
    found
}

/// Follows a local `$ref` (`#/a/b`) from `value`, once per level.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            resolve(doc, doc.pointer(pointer).expect("the reference resolves"))
        }
        None => value,
    }
}

/// Every `$ref` anywhere in `value`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn health_answers_up() {
    let r = route(&Request::new(Method::Get, "/api/health"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_value(), json!({"status": "UP"}));
}

#[test]
fn unknown_paths_get_a_problem_404() {
    let r = route(&Request::new(Method::Get, "/api/nothing-here"));
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[test]
fn the_openapi_document_is_served_as_json_equal_to_openapi_yaml() {
    // Setup
    let yaml: Value = serde_norway::from_str(&repo_file("openapi.yaml")).expect("YAML");
    // Exec
    let r = route(&Request::new(Method::Get, "/api/openapi.json"));
    // Check
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json_value(), yaml);
}

#[test]
fn the_openapi_document_answers_get_only() {
    let r = route(&Request::new(Method::Post, "/api/openapi.json"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[test]
fn every_spin_route_has_a_path_item_and_every_path_is_routed() {
    // Setup
    let doc = document();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    // Exec
    let routed = spin_routes();
    // Check
    let undocumented: Vec<_> = routed
        .iter()
        .filter(|route| !documented.iter().any(|path| serves(route, path)))
        .collect();
    let unrouted: Vec<_> = documented
        .iter()
        .filter(|path| !routed.iter().any(|route| serves(route, path)))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes without a path item: {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "paths no route serves: {unrouted:?}");
    assert!(routed.contains("/api/openapi.json"));
}

#[test]
fn every_operation_but_health_and_the_document_declares_a_problem_4xx() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        if path == "/api/health" || path == "/api/openapi.json" {
            continue;
        }
        let responses = op["responses"].as_object().expect("responses");
        let problem_4xx = responses.iter().any(|(status, response)| {
            status.starts_with('4')
                && resolve(&doc, response)["content"]["application/problem+json"]["schema"]["$ref"]
                    == "#/components/schemas/Problem"
        });
        assert!(
            problem_4xx,
            "{method} {path} declares no 4xx Problem response"
        );
    }
}

#[test]
fn every_error_response_is_a_problem_except_the_oauth_errors() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().expect("responses") {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = &resolve(&doc, response)["content"];
            let is_problem = content["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem";
            let is_oauth = path == "/oauth/token"
                && content["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/OAuthError";
            assert!(is_problem || is_oauth, "{method} {path} {status}");
        }
    }
}

#[test]
fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    // Setup
    let doc = document();
    // Check
    assert!(doc["openapi"].as_str().expect("openapi").starts_with("3.1"));
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    assert!(doc["paths"].is_object());
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} references", refs.len());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is not a local reference"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
}

#[test]
fn every_operation_is_unique_and_names_known_security_schemes() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    for name in ["bearerAuth", "xAuthToken", "basicClient"] {
        assert!(schemes.contains_key(name), "{name}");
    }
    let mut ids = BTreeSet::new();
    let global = doc["security"].clone();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("operationId").to_string();
        assert!(ids.insert(id.clone()), "{id} twice");
        let security = op.get("security").unwrap_or(&global);
        for requirement in security.as_array().expect("a security list") {
            for name in requirement.as_object().expect("a requirement").keys() {
                assert!(schemes.contains_key(name), "{method} {path}: {name}");
            }
        }
        for param in item_and_op_params(&doc, &path, &op) {
            if param["in"] == "path" {
                assert!(path.contains(&format!("{{{}}}", param["name"].as_str().unwrap_or(""))));
            }
        }
    }
}

fn item_and_op_params<'a>(doc: &'a Value, path: &str, op: &'a Value) -> Vec<&'a Value> {
    let item = &doc["paths"][path];
    item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(op["parameters"].as_array().into_iter().flatten())
        .map(|p| resolve(doc, p))
        .collect()
}

#[test]
fn every_path_parameter_of_a_path_is_declared() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let declared: BTreeSet<String> = item_and_op_params(&doc, &path, &op)
            .into_iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().expect("a name").to_string())
            .collect();
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, in_path, "{method} {path}");
    }
}
