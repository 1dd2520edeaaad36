//! Matching request paths against route patterns such as
//! `/api/services/:id/pricing-plans/:planId`.

use crate::request::percent_decode;

/// A route pattern: literal segments and `:name` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pattern: &'a str,
}

/// The parameters a matched route captured, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of parameter `name`, or `""` if the route has none such.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl<'a> Route<'a> {
    /// The route for `pattern`.
    pub const fn new(pattern: &'a str) -> Self {
        Route { pattern }
    }

    /// The parameters if `path` matches: same number of segments, literals
    /// equal, parameters non-empty. One trailing slash is ignored; empty
    /// segments (`//`) never match.
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
                        params.push((name.to_string(), percent_decode(g)));
                    } else if w != g {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_match_exactly() {
        assert!(Route::new("/api/services")
            .matches("/api/services")
            .is_some());
        assert!(Route::new("/api/services")
            .matches("/api/services/")
            .is_some());
        assert!(Route::new("/api/services")
            .matches("/api/service")
            .is_none());
        assert!(Route::new("/api/services")
            .matches("/api/services/x")
            .is_none());
    }

    #[test]
    fn parameters_are_captured_and_decoded() {
        let p = Route::new("/api/services/:id/pricing-plans/:planId")
            .matches("/api/services/svc_1/pricing-plans/plan%5F2")
            .unwrap();
        assert_eq!(p.get("id"), "svc_1");
        assert_eq!(p.get("planId"), "plan_2");
        assert_eq!(p.get("other"), "");
    }

    #[test]
    fn empty_segments_never_match_parameters() {
        assert!(Route::new("/api/services/:id")
            .matches("/api/services//")
            .is_none());
        assert!(Route::new("/api/services/:id/publish")
            .matches("/api/services//publish")
            .is_none());
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
mod endpoint_tests {
    use super::*;
    use crate::{Method, Request};

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
