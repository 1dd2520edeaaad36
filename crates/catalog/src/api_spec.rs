//! API specifications: OpenAPI 3 documents given as JSON or YAML, checked,
//! kept as JSON, and a default one describing the gateway routes when the
//! provider gave none.

use qmarket_core::{Error, Result, Timestamp};
use qmarket_model::{Service, ServiceType};
use qmarket_store::KeyValue;
use serde_json::{json, Map, Number, Value};

/// The largest document accepted, as text or as stored JSON (1 MiB).
pub const MAX_SPEC_BYTES: usize = 1 << 20;

/// How deeply objects and arrays may nest.
pub const MAX_DEPTH: usize = 64;

/// The media types `PUT /api/services/{id}/api-spec` accepts as text.
pub const TEXT_MEDIA_TYPES: &[&str] = &[
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "application/json",
    "application/vnd.oai.openapi",
    "application/vnd.oai.openapi+json",
];

/// The document in a JSON value: an object is the document itself, a string
/// is its YAML or JSON text. Unparsable text is a 400, a document that is not
/// OpenAPI 3 a 422, an oversized one a 413.
pub fn parse_value(value: &Value) -> Result<Value> {
    match value {
        Value::String(text) => parse_text(text),
        Value::Object(_) => {
            check_depth(value, 0)?;
            check_openapi(value)?;
            check_size(value)?;
            Ok(value.clone())
        }
        _ => Err(Error::unprocessable_field(
            "apiSpecification",
            "must be an OpenAPI 3 document: a JSON object, or its YAML or JSON text",
        )),
    }
}

/// The document in `text` (YAML, of which JSON is a subset).
pub fn parse_text(text: &str) -> Result<Value> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the API specification has {} bytes; at most {MAX_SPEC_BYTES} are accepted",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Err(Error::invalid_field("apiSpecification", "is empty"));
    }
    if bracket_depth(text) > MAX_BRACKET_DEPTH {
        return Err(too_deep());
    }
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        Error::invalid_field(
            "apiSpecification",
            format!("is not valid YAML or JSON: {e}"),
        )
    })?;
    let doc = yaml_to_json(yaml, 0)?;
    check_openapi(&doc)?;
    check_size(&doc)?;
    Ok(doc)
}

/// Converts YAML to JSON: mapping keys that are numbers or booleans (such as
/// unquoted response codes, `200:`) become strings, tags are dropped.
fn yaml_to_json(yaml: serde_norway::Value, depth: usize) -> Result<Value> {
    use serde_norway::Value as Y;
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        Error::unprocessable_field(
                            "apiSpecification",
                            format!("holds the number {n}, which JSON cannot represent"),
                        )
                    })?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|item| yaml_to_json(item, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key =
                    match key {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        Y::Null => "null".to_string(),
                        _ => return Err(Error::unprocessable_field(
                            "apiSpecification",
                            "has a mapping key that is a list or mapping; OpenAPI keys are strings",
                        )),
                    };
                map.insert(key, yaml_to_json(value, depth + 1)?);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value, depth)?,
    })
}

/// How many `[` and `{` may be open at once in a YAML text before it is
/// parsed: the YAML scanner's work grows with the square of the flow
/// nesting (100,000 `[` kept a worker busy for 20 s), while the document
/// may nest only [`MAX_DEPTH`] levels anyway. Brackets inside quoted
/// strings count too, which only matters for a text with hundreds of
/// unbalanced ones.
const MAX_BRACKET_DEPTH: usize = 1000;

/// The deepest nesting of `[`/`{` in `text`, counting every bracket.
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn too_deep() -> Error {
    Error::unprocessable_field(
        "apiSpecification",
        format!("nests objects and arrays more than {MAX_DEPTH} levels deep"),
    )
}

fn check_depth(value: &Value, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check_depth(v, depth + 1)),
        Value::Object(map) => map.values().try_for_each(|v| check_depth(v, depth + 1)),
        _ => Ok(()),
    }
}

fn check_size(doc: &Value) -> Result<()> {
    let size = serde_json::to_vec(doc)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if size > MAX_SPEC_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the API specification takes {size} bytes as JSON; at most {MAX_SPEC_BYTES} are accepted"
        )));
    }
    Ok(())
}

/// A 422 unless `doc` is an OpenAPI 3.x document: an object with an
/// `openapi` string `3.x.y` and a `paths` object.
fn check_openapi(doc: &Value) -> Result<()> {
    let not_openapi = |why: &str| {
        Error::unprocessable_field(
            "apiSpecification",
            format!("is not an OpenAPI 3.x document: {why}"),
        )
    };
    let Value::Object(map) = doc else {
        return Err(not_openapi(
            "it must be an object with 'openapi' and 'paths'",
        ));
    };
    if map.contains_key("swagger") && !map.contains_key("openapi") {
        return Err(not_openapi(
            "Swagger/OpenAPI 2.0 documents are not accepted; convert it to OpenAPI 3",
        ));
    }
    match map.get("openapi") {
        None => {
            return Err(not_openapi(
                "the 'openapi' field (e.g. \"3.0.3\") is missing",
            ))
        }
        Some(Value::String(version)) => {
            if !is_version_3(version) {
                return Err(not_openapi(&format!(
                    "'openapi' is \"{}\"; a version 3.x.y such as \"3.0.3\" or \"3.1.0\" is required",
                    version.chars().take(20).collect::<String>()
                )));
            }
        }
        Some(_) => {
            return Err(not_openapi(
                "'openapi' must be a string such as \"3.0.3\" (quote it in YAML)",
            ))
        }
    }
    match map.get("paths") {
        Some(Value::Object(_)) => Ok(()),
        None => Err(not_openapi("the 'paths' object is missing")),
        Some(_) => Err(not_openapi("'paths' must be an object")),
    }
}

fn is_version_3(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts[0] == "3"
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The stored document of service `id`, if the provider gave one.
pub(crate) fn load(kv: &dyn KeyValue, id: &str) -> Result<Option<Value>> {
    qmarket_store::get_json(kv, &Service::api_spec_key(id))
}

/// Stores `doc` as the document of service `id`, changed at `now`, in one
/// step (the service record itself is not touched).
pub(crate) fn store(kv: &dyn KeyValue, id: &str, doc: &Value, now: Timestamp) -> Result<()> {
    let encode = |e: serde_json::Error| Error::Internal(format!("cannot encode a document: {e}"));
    kv.set_many(&[
        (
            Service::api_spec_key(id),
            serde_json::to_vec(doc).map_err(encode)?,
        ),
        (
            Service::api_spec_updated_key(id),
            serde_json::to_vec(&now).map_err(encode)?,
        ),
    ])?;
    Ok(())
}

/// Removes the document of service `id` (at `now`: the default one is
/// served from then on).
pub(crate) fn remove(kv: &dyn KeyValue, id: &str, now: Timestamp) -> Result<()> {
    kv.delete(&Service::api_spec_key(id))?;
    qmarket_store::set_json(kv, &Service::api_spec_updated_key(id), &now)
}

/// The document served when the provider gave none: the gateway routes of
/// the service, with the bearer token the gateway expects.
pub fn default_for(service: &Service) -> Value {
    let base = format!("/gateway/{}", service.id);
    let paths = match service.kind {
        ServiceType::External => external_paths(),
        ServiceType::Managed => managed_paths(),
    };
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": service.name,
            "description": if service.description.is_empty() {
                "Default specification: the provider has not described this service's API.".to_string()
            } else {
                service.description.clone()
            },
            "version": "1.0.0"
        },
        "servers": [{"url": base}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An application's OAuth2 access token from POST /oauth/token (client credentials)."
                }
            }
        },
        "paths": paths
    })
}

fn external_paths() -> Value {
    let operation = |method: &str| {
        json!({
            "summary": format!("{method} forwarded to the service"),
            "description": "The gateway forwards the request (method, path, query, body) to the service and returns its answer as it is.",
            "responses": {
                "default": {"description": "The service's response."},
                "401": {"description": "Missing or invalid access token."},
                "403": {"description": "The application is not subscribed to this service."},
                "502": {"description": "The service could not be reached."},
                "504": {"description": "The service did not answer in time."}
            }
        })
    };
    let item = |with_param: bool| {
        let mut item = Map::new();
        if with_param {
            item.insert(
                "parameters".into(),
                json!([{
                    "name": "path",
                    "in": "path",
                    "required": true,
                    "description": "Any path below the service's URL.",
                    "schema": {"type": "string"}
                }]),
            );
        }
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            item.insert(method.into(), operation(&method.to_ascii_uppercase()));
        }
        Value::Object(item)
    };
    json!({"/": item(false), "/{path}": item(true)})
}

fn managed_paths() -> Value {
    let execution = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["UNKNOWN", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]},
            "createdAt": {"type": "string", "format": "date-time"},
            "startedAt": {"type": "string", "format": "date-time", "nullable": true},
            "endedAt": {"type": "string", "format": "date-time", "nullable": true}
        }
    });
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
    json!({
        "/": {
            "post": {
                "summary": "Start an execution",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"data": {"type": "object"}, "params": {"type": "object"}}
                }}}},
                "responses": {"201": {"description": "Execution created.", "content": {"application/json": {"schema": execution}}}}
            },
            "get": {
                "summary": "The application's executions",
                "responses": {"200": {"description": "Executions.", "content": {"application/json": {"schema": {"type": "array", "items": execution}}}}}
            }
        },
        "/{id}": {
            "parameters": id,
            "get": {"summary": "An execution", "responses": {"200": {"description": "The execution.", "content": {"application/json": {"schema": execution}}}}}
        },
        "/{id}/result": {
            "parameters": id,
            "get": {"summary": "The execution's result", "responses": {"200": {"description": "The result."}, "409": {"description": "Not finished."}}}
        },
        "/{id}/log": {
            "parameters": id,
            "get": {"summary": "The execution's log", "responses": {"200": {"description": "Log entries."}}}
        },
        "/{id}/cancel": {
            "parameters": id,
            "put": {"summary": "Cancel the execution", "responses": {"200": {"description": "The execution."}}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    #[test]
    fn a_yaml_document_with_numeric_response_codes_becomes_json() {
        let doc = parse_text(
            "openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths:\n  /run:\n    post:\n      responses:\n        200:\n          description: ok\n",
        )
        .unwrap();
        assert_eq!(
            doc["paths"]["/run"]["post"]["responses"]["200"]["description"],
            "ok"
        );
    }

    #[test]
    fn a_json_object_and_json_text_are_accepted() {
        let doc = json!({"openapi": "3.1.0", "paths": {}});
        assert_eq!(parse_value(&doc).unwrap(), doc);
        assert_eq!(parse_value(&Value::String(doc.to_string())).unwrap(), doc);
    }

    #[test]
    fn documents_that_are_not_openapi_3_are_refused_with_the_reason() {
        for (doc, says, status) in [
            (json!({"swagger": "2.0", "paths": {}}), "2.0", 422),
            (json!({"openapi": "2.0.0", "paths": {}}), "3.x.y", 422),
            (
                json!({"openapi": 3.0, "paths": {}}),
                "must be a string",
                422,
            ),
            (json!({"openapi": "3.0"}), "3.x.y", 422),
            (
                json!({"openapi": "3.0.3"}),
                "'paths' object is missing",
                422,
            ),
            (
                json!({"openapi": "3.0.3", "paths": []}),
                "must be an object",
                422,
            ),
            (json!([1, 2]), "JSON object", 422),
            (json!(true), "JSON object", 422),
            (json!("just: [unclosed"), "not valid YAML", 400),
            (json!("hello"), "must be an object", 422),
            (json!(""), "empty", 400),
        ] {
            let err = parse_value(&doc).unwrap_err();
            assert_eq!(err.status(), status, "{doc}: {err}");
            assert!(err.to_string().contains(says), "{doc}: {err}");
        }
    }

    #[test]
    fn unquoted_yaml_versions_are_refused_with_a_hint() {
        let err = parse_text("openapi: 3.0\npaths: {}\n").unwrap_err();
        assert!(err.to_string().contains("quote it"), "{err}");
    }

    #[test]
    fn deeply_nested_documents_are_refused() {
        let mut deep = json!({});
        for _ in 0..100 {
            deep = json!({ "x": deep });
        }
        let doc = json!({"openapi": "3.0.3", "paths": {"/a": deep}});
        assert_eq!(parse_value(&doc).unwrap_err().status(), 422);
        let yaml = format!(
            "openapi: 3.0.3\npaths: {}{}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse_text(&yaml).is_err());
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_the_yaml_scanner_sees_it() {
        let yaml = format!("openapi: 3.0.3\npaths: {}", "[".repeat(100_000));
        let err = parse_text(&yaml).unwrap_err();
        assert_eq!(err.status(), 422, "{err}");
        assert!(err.to_string().contains("levels deep"), "{err}");
        assert_eq!(bracket_depth("a: [{b: '[', c: ']'}] [ ]"), 3);
    }

    #[test]
    fn oversized_text_is_refused() {
        let text = format!(
            "openapi: 3.0.3\npaths: {{}}\nx: '{}'\n",
            "a".repeat(MAX_SPEC_BYTES)
        );
        assert_eq!(parse_text(&text).unwrap_err().status(), 413);
    }

    #[test]
    fn alias_bombs_are_refused_without_expanding_them() {
        let mut text =
            String::from("openapi: 3.0.3\npaths: {}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_text(&text).unwrap_err();
        assert!(err.status() == 400 || err.status() == 413, "{err}");
    }

    #[test]
    fn the_default_document_describes_the_gateway_routes_and_is_itself_valid() {
        let service = crate::service::tests_support::external_service("svc_x");
        let doc = default_for(&service);
        assert_eq!(doc["servers"][0]["url"], "/gateway/svc_x");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
            "bearer"
        );
        assert!(doc["paths"]["/{path}"]["post"].is_object());
        assert!(parse_value(&doc).is_ok());
    }
}
