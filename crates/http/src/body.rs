//! Reading JSON request bodies with precise errors.

use serde::de::DeserializeOwned;

use crate::Request;
use qmarket_core::{Error, FieldError};

/// The largest JSON body the platform API accepts (1 MiB).
pub const MAX_JSON_BODY: usize = 1 << 20;

/// Parses the body of `req` as JSON into `T`.
///
/// Refuses bodies over [`MAX_JSON_BODY`] (413), a content type other than
/// JSON (415), malformed JSON, and values of the wrong shape (400, naming the
/// field by its JSON path). A key repeated in any object is refused (400)
/// whatever `T` is: serde would keep the last one in a map and refuse it in
/// a struct, and another reader of the same bytes may take the first.
/// Unknown fields are refused where `T` says so (`deny_unknown_fields`).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> qmarket_core::Result<T> {
    if req.body.len() > MAX_JSON_BODY {
        return Err(Error::PayloadTooLarge(format!(
            "the body has {} bytes; at most {MAX_JSON_BODY} are accepted",
            req.body.len()
        )));
    }
    if let Some(ct) = req.header("content-type") {
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json" && !media.ends_with("+json") {
            return Err(Error::UnsupportedMediaType(format!(
                "expected an application/json body, got '{}'",
                qmarket_core::excerpt(&media, 100)
            )));
        }
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request(
            "the request body is empty; a JSON object is expected",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(&req.body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The path holds the client's keys: bounded like any quoted value.
        let path = qmarket_core::excerpt(&e.path().to_string(), 200);
        let inner = e.into_inner();
        let message = without_values(&strip_position(&inner.to_string()));
        if inner.is_data() && path != "." {
            Error::BadRequest {
                detail: format!("{path}: {message}"),
                errors: vec![FieldError::new(path, message)],
            }
        } else {
            Error::bad_request(format!(
                "the body is not valid JSON of the expected shape: {message}"
            ))
        }
    })?;
    de.end()
        .map_err(|_| Error::bad_request("the body has trailing data after the JSON value"))?;
    // The body is valid JSON by now; this second pass only looks at keys.
    serde_json::from_slice::<UniqueKeys>(&req.body).map_err(|e| {
        Error::bad_request(format!(
            "the body is not valid JSON of the expected shape: {}",
            strip_position(&e.to_string())
        ))
    })?;
    Ok(value)
}

/// Any JSON value, refused when an object in it repeats a key.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key \"{}\" appears twice in one object",
                    qmarket_core::excerpt(&key, 100)
                )));
            }
            map.next_value::<UniqueKeys>()?;
            keys.insert(key);
        }
        Ok(UniqueKeys)
    }
}

/// serde_json appends " at line L column C"; the path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// serde's message without the client's value in it.
///
/// serde quotes what it refused (`invalid type: string "…", expected u32`,
/// `unknown variant `…`, expected one of …`): a value sent in the wrong
/// place may be a secret, and may be megabytes long. The field's path and
/// what was expected say enough; a string or variant value is left out, an
/// unknown field's name is cut to 100 characters.
fn without_values(message: &str) -> String {
    const QUOTED: [(&str, char, bool); 4] = [
        ("invalid type: string \"", '"', false),
        ("invalid value: string \"", '"', false),
        ("unknown variant `", '`', false),
        ("unknown field `", '`', true),
    ];
    for (prefix, quote, name_it) in QUOTED {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        // What follows the value is serde's own text naming what it
        // expected (", expected …" or ", there are no variants").
        let end = [", expected", ", there are no"]
            .iter()
            .filter_map(|tail| rest.rfind(&format!("{quote}{tail}")))
            .max()
            .unwrap_or(rest.len().saturating_sub(1));
        let value = &rest[..end];
        let after = rest.get(end + quote.len_utf8()..).unwrap_or("");
        let head = &prefix[..prefix.len() - quote.len_utf8()];
        return if name_it {
            format!(
                "{head}{quote}{}{quote}{after}",
                qmarket_core::excerpt(value, 100)
            )
        } else {
            format!("{}{after}", head.trim_end())
        };
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;
    use crate::StatusOf;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn parse(body: &str) -> qmarket_core::Result<Thing> {
        json_body(
            &Request::new(Method::Post, "/")
                .with_header("content-type", "application/json")
                .with_body(body),
        )
    }

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let err = parse(r#"{"name":"a","inner":{"count":"x"}}"#).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.field_errors()[0].field, "inner.count");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    enum Kind {
        Basic,
        Bearer,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Typed {
        kind: Option<Kind>,
        count: Option<u32>,
    }

    fn parse_typed(body: &str) -> qmarket_core::Result<Typed> {
        json_body(
            &Request::new(Method::Post, "/")
                .with_header("content-type", "application/json")
                .with_body(body),
        )
    }

    #[test]
    fn a_refused_string_value_is_never_quoted_back() {
        let secret = "pw-".to_string() + &"s".repeat(5000);
        for body in [
            json!({"count": secret}),
            json!({"kind": secret}),
            json!({"kind": {"nested": secret}}),
        ] {
            let err = parse_typed(&body.to_string()).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            let answer = format!("{err} {:?}", err.field_errors());
            assert!(!answer.contains("pw-s"), "{answer}");
        }
        let err = parse_typed(&json!({"count": "seven"}).to_string()).unwrap_err();
        assert_eq!(err.to_string(), "count: invalid type: string, expected u32");
        let err = parse_typed(&json!({"kind": "Digest"}).to_string()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kind: unknown variant, expected `Basic` or `Bearer`"
        );
    }

    #[test]
    fn an_unknown_field_is_named_but_a_long_name_is_cut() {
        let err = parse_typed(r#"{"colour":1}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `colour`, expected"),
            "{err}"
        );
        let long = "k".repeat(5000);
        let err = parse_typed(&format!(r#"{{"{long}":1}}"#)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!("`{}…`", "k".repeat(100))),
            "{message}"
        );
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn malformed_json_is_a_400() {
        let err = parse(r#"{"name":"#).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn unknown_and_duplicate_fields_are_refused() {
        assert_eq!(
            parse(r#"{"name":"a","extra":1}"#).unwrap_err().status(),
            400
        );
        assert_eq!(
            parse(r#"{"name":"a","name":"b"}"#).unwrap_err().status(),
            400
        );
    }

    #[test]
    fn a_key_repeated_in_any_object_is_refused() {
        for body in [
            r#"{"name":"a","inner":{"count":1,"count":2}}"#,
            r#"{"name":"a","inner":null,"inner":null}"#,
        ] {
            assert_eq!(parse(body).unwrap_err().status(), 400, "{body}");
        }
        let map = |body: &str| {
            json_body::<serde_json::Value>(
                &Request::new(Method::Post, "/")
                    .with_header("content-type", "application/json")
                    .with_body(body),
            )
        };
        let err = map(r#"{"a":[{"b":1,"b":1}]}"#).unwrap_err();
        assert!(
            err.to_string().contains(r#"key "b" appears twice"#),
            "{err}"
        );
        assert!(map(r#"{"a":{"b":1},"b":{"a":1.5},"c":[{"b":1},{"b":2e3}]}"#).is_ok());
    }

    #[test]
    fn missing_fields_are_named() {
        let err = parse(r#"{}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `name`"), "{err}");
    }

    #[test]
    fn other_content_types_are_refused() {
        let req = Request::new(Method::Post, "/")
            .with_header("content-type", "text/plain")
            .with_body("{}");
        assert_eq!(json_body::<Thing>(&req).unwrap_err().status(), 415);
    }

    #[test]
    fn empty_and_trailing_bodies_are_refused() {
        assert_eq!(parse("").unwrap_err().status(), 400);
        assert_eq!(parse(r#"{"name":"a"} {}"#).unwrap_err().status(), 400);
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!(r#"{{"name":"{}"}}"#, "a".repeat(MAX_JSON_BODY));
        assert_eq!(parse(&body).unwrap_err().status(), 413);
    }
}
