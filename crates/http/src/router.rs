//! Matching request paths against route patterns such as
//! `/api/services/:svc/pricing-plans/:plan`, and checking what the
//! parameters hold before any handler sees them.
//!
//! A parameter named after an id prefix (`:svc`, `:plan`, `:app`, `:sub`,
//! `:pat`, `:acc`, `:prod`, `:evt`, `:exe`) holds an id of that kind; any
//! other name (`:file`) holds one plain path segment. [`Params::get`] is the
//! only way to read a parameter, and it answers 404 for a value that cannot
//! name anything: an id of the wrong prefix or alphabet, or a segment that
//! decodes to something containing `/`, `\`, a control character, or to `.`
//! or `..`. Such a value therefore never reaches the store, where a decoded
//! `/` would turn an id into a path to another record.

use qmarket_core::id::{is_well_formed, IdKind};
use qmarket_core::{Error, Result};

/// A route pattern: literal segments and `:name` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pattern: &'a str,
}

/// What a parameter may hold, from its name in the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamKind {
    Id(IdKind),
    Segment,
}

impl ParamKind {
    fn of(name: &str) -> Self {
        IdKind::ALL
            .iter()
            .find(|kind| kind.prefix().trim_end_matches('_') == name)
            .map_or(ParamKind::Segment, |kind| ParamKind::Id(*kind))
    }
}

/// One captured parameter: its name, its decoded value, and whether the
/// value is acceptable for the parameter's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    name: String,
    value: String,
    kind: ParamKind,
    acceptable: bool,
}

/// The parameters a matched route captured, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<Param>);

/// The longest value quoted back in a 404.
const SHOWN_CHARS: usize = 100;

impl Params {
    /// The value of parameter `name`: a well-formed id for an id parameter,
    /// a plain segment otherwise. 404 (as for something that does not
    /// exist) when the value cannot be one; 500 when the route has no such
    /// parameter (a bug in the caller).
    pub fn get(&self, name: &str) -> Result<&str> {
        let param = self
            .0
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::Internal(format!("the route has no parameter '{name}'")))?;
        if param.acceptable {
            return Ok(&param.value);
        }
        let shown: String = param
            .value
            .chars()
            .filter(|c| !c.is_control())
            .take(SHOWN_CHARS)
            .collect();
        Err(match param.kind {
            ParamKind::Id(kind) => Error::not_found(kind.noun(), &shown),
            ParamKind::Segment => Error::NotFound(format!("'{shown}' does not exist")),
        })
    }
}

/// Whether a decoded path segment names one thing: no separators, no
/// control characters, not a dot segment.
fn plain_segment(value: &str) -> bool {
    !value.is_empty()
        && value != "."
        && value != ".."
        && !value
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

/// `%XX` escapes decoded; invalid UTF-8 replaced (such a value is never
/// acceptable anyway). `+` stays `+`: it means a space only in forms.
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

impl<'a> Route<'a> {
    /// The route for `pattern`.
    pub const fn new(pattern: &'a str) -> Self {
        Route { pattern }
    }

    /// The parameters if `path` matches: same number of segments, literals
    /// equal, parameters non-empty. One trailing slash is ignored; empty
    /// segments (`//`) never match. Whether each value is acceptable is
    /// decided here and enforced by [`Params::get`].
    pub fn matches(&self, path: &str) -> Option<Params> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let mut wanted = self.pattern.split('/');
        let mut given = path.split('/');
        let mut params = Vec::new();
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return Some(Params(params)),
                (Some(w), Some(g)) => {
                    if let Some(name) = w.strip_prefix(':') {
                        if g.is_empty() {
                            return None;
                        }
                        let kind = ParamKind::of(name);
                        let value = decode_segment(g);
                        let acceptable = match kind {
                            ParamKind::Id(id_kind) => is_well_formed(id_kind, &value),
                            ParamKind::Segment => plain_segment(&value),
                        };
                        params.push(Param {
                            name: name.to_string(),
                            value,
                            kind,
                            acceptable,
                        });
                    } else if w != g {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }
}

/// The 405 problem unless `req` uses one of `methods`.
pub fn allow(req: &crate::Request, methods: &[crate::Method]) -> qmarket_core::Result<()> {
    if methods.contains(&req.method) {
        return Ok(());
    }
    let names: Vec<&str> = methods.iter().map(crate::Method::as_str).collect();
    Err(qmarket_core::Error::MethodNotAllowed(format!(
        "{} answers {} only",
        shown_path(&req.path),
        names.join(", ")
    )))
}

/// The 404 for a request no endpoint serves.
pub fn no_endpoint(req: &crate::Request) -> qmarket_core::Error {
    qmarket_core::Error::NotFound(format!("no endpoint at {}", shown_path(&req.path)))
}

/// A path as quoted back in problems: at most 200 characters.
fn shown_path(path: &str) -> String {
    path.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Method, Request, StatusOf};

    const SVC: &str = "svc_0123456789abcdefghjkmnpqrs";
    const PLAN: &str = "plan_0123456789abcdefghjkmnpqrs";

    #[test]
    fn literal_routes_match_exactly() {
        let route = Route::new("/api/services");
        assert!(route.matches("/api/services").is_some());
        assert!(route.matches("/api/services/").is_some());
        assert!(route.matches("/api/service").is_none());
        assert!(route.matches("/api/services/x").is_none());
    }

    #[test]
    fn id_parameters_are_captured_decoded_and_checked() {
        let p = Route::new("/api/services/:svc/pricing-plans/:plan")
            .matches(&format!(
                "/api/services/{SVC}/pricing-plans/plan%5F{}",
                &PLAN[5..]
            ))
            .unwrap();
        assert_eq!(p.get("svc").unwrap(), SVC);
        assert_eq!(p.get("plan").unwrap(), PLAN);
        assert_eq!(p.get("other").unwrap_err().status(), 500);
    }

    #[test]
    fn ids_of_the_wrong_kind_or_alphabet_are_not_found() {
        let route = Route::new("/api/services/:svc");
        for bad in [
            PLAN.to_string(),
            "svc_1".to_string(),
            format!("{}A", &SVC[..SVC.len() - 1]),
            format!("{SVC}%2Fevents%2F00000000000000000001"),
            format!("{SVC}%2F..%2Fx"),
            format!("{SVC}%00"),
            "..".to_string(),
        ] {
            let params = route.matches(&format!("/api/services/{bad}")).unwrap();
            let err = params.get("svc").unwrap_err();
            assert_eq!(err.status(), 404, "{bad}");
            assert!(err.to_string().starts_with("service '"), "{err}");
        }
    }

    #[test]
    fn a_decoded_slash_in_a_segment_parameter_is_not_found() {
        let route = Route::new("/files/:file");
        assert_eq!(
            route.matches("/files/a.txt").unwrap().get("file").unwrap(),
            "a.txt"
        );
        assert_eq!(
            route.matches("/files/a+b").unwrap().get("file").unwrap(),
            "a+b"
        );
        for bad in ["a%2Fb", "%2e%2e", "..", ".", "a%5Cb", "a%0Ab"] {
            let params = route.matches(&format!("/files/{bad}")).unwrap();
            assert_eq!(params.get("file").unwrap_err().status(), 404, "{bad}");
        }
    }

    #[test]
    fn empty_segments_never_match_parameters() {
        assert!(Route::new("/api/services/:svc")
            .matches("/api/services//")
            .is_none());
        assert!(Route::new("/api/services/:svc/publish")
            .matches("/api/services//publish")
            .is_none());
    }

    #[test]
    fn allow_names_the_accepted_methods() {
        let req = Request::new(Method::Delete, "/api/me");
        assert!(allow(&req, &[Method::Delete]).is_ok());
        let err = allow(&req, &[Method::Get, Method::Post]).unwrap_err();
        assert_eq!(err.status(), 405);
        assert_eq!(err.to_string(), "/api/me answers GET, POST only");
    }

    #[test]
    fn no_endpoint_quotes_at_most_200_characters_of_the_path() {
        let long = format!("/{}", "a".repeat(500));
        let err = no_endpoint(&Request::new(Method::Get, &long));
        assert_eq!(err.status(), 404);
        assert!(err.to_string().len() < 230);
    }
}
