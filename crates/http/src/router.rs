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
