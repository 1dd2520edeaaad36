//! HTTP routing with Spin's rules.
//!
//! A route is a path of literal and `:param` segments, optionally ending in a
//! `/...` wildcard. Exact routes beat wildcards, among candidates the one with
//! more segments wins, and at the same position a literal beats a parameter.
//! Duplicate routes: the last one wins.

use std::cmp::Ordering;

/// A route that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid route `{route}` of component `{component}`: {reason}")]
pub struct RouteError {
    /// The route as written.
    pub route: String,
    /// The component it belongs to.
    pub component: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A route that replaced an earlier one with the same pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRoute {
    /// The duplicated route.
    pub route: String,
    /// The component that no longer receives it.
    pub replaced: String,
    /// The component that receives it.
    pub effective: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Route {
    component: String,
    raw: String,
    based: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// The routing table of an application.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

/// The outcome of routing one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'r> {
    /// The component that handles the request.
    pub component: &'r str,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: &'r str,
    /// The route normalised and prefixed with the base (`spin-matched-route`).
    pub based_route: &'r str,
    /// The route without its trailing `/...` (`spin-component-route`).
    pub component_route: &'r str,
    /// The part of the path matched by the wildcard (`spin-path-info`).
    pub path_info: String,
    /// Values of `:param` segments, in route order.
    pub params: Vec<(&'r str, String)>,
}

impl Router {
    /// Builds a router from `(route, component)` pairs in manifest order.
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Self, Vec<DuplicateRoute>), RouteError> {
        let mut routes: Vec<Route> = Vec::new();
        let mut duplicates = Vec::new();
        for (raw, component) in entries {
            let route = parse_route(raw, component)?;
            if let Some(existing) = routes.iter_mut().find(|r| r.based == route.based) {
                duplicates.push(DuplicateRoute {
                    route: route.raw.clone(),
                    replaced: existing.component.clone(),
                    effective: route.component.clone(),
                });
                *existing = route;
            } else {
                routes.push(route);
            }
        }
        Ok((Self { routes }, duplicates))
    }

    /// Finds the component for `path` (no query string).
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let best = self
            .routes
            .iter()
            .filter(|r| matches(r, &segments))
            .max_by(|a, b| precedence(a, b))?;

        let params = best
            .segments
            .iter()
            .zip(&segments)
            .filter_map(|(seg, value)| match seg {
                Segment::Param(name) => Some((name.as_str(), (*value).to_string())),
                Segment::Literal(_) => None,
            })
            .collect();
        let path_info = if best.wildcard {
            let rest = segments[best.segments.len()..].join("/");
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        } else {
            String::new()
        };
        Some(RouteMatch {
            component: &best.component,
            raw_route: &best.raw,
            based_route: &best.based,
            component_route: best.raw.strip_suffix("/...").unwrap_or(&best.raw),
            path_info,
            params,
        })
    }
}

fn parse_route(raw: &str, component: &str) -> Result<Route, RouteError> {
    let err = |reason: &str| RouteError {
        route: raw.to_string(),
        component: component.to_string(),
        reason: reason.to_string(),
    };
    let mut based = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    if based.len() > 1 && based.ends_with('/') {
        based.pop();
    }
    let (prefix, wildcard) = match based.strip_suffix("/...") {
        Some(prefix) => (prefix.to_string(), true),
        None if based == "/..." || based == "..." => (String::new(), true),
        None => (based.clone(), false),
    };
    let mut segments = Vec::new();
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        if seg == "..." {
            return Err(err("`...` may only end a route"));
        }
        match seg.strip_prefix(':') {
            Some("") => return Err(err("a `:` parameter needs a name")),
            Some(name) => segments.push(Segment::Param(name.to_string())),
            None => segments.push(Segment::Literal(seg.to_string())),
        }
    }
    Ok(Route {
        component: component.to_string(),
        raw: raw.to_string(),
        based,
        segments,
        wildcard,
    })
}

fn matches(route: &Route, path: &[&str]) -> bool {
    let count_ok = if route.wildcard {
        path.len() >= route.segments.len()
    } else {
        path.len() == route.segments.len()
    };
    count_ok
        && route.segments.iter().zip(path).all(|(seg, p)| match seg {
            Segment::Literal(lit) => lit == p,
            Segment::Param(_) => true,
        })
}

/// Orders two matching routes: the greater one wins.
fn precedence(a: &Route, b: &Route) -> Ordering {
    let rank = |seg: &Segment| match seg {
        Segment::Literal(_) => 1,
        Segment::Param(_) => 0,
    };
    (!a.wildcard)
        .cmp(&!b.wildcard)
        .then(a.segments.len().cmp(&b.segments.len()))
        .then_with(|| {
            let ra: Vec<u8> = a.segments.iter().map(rank).collect();
            let rb: Vec<u8> = b.segments.iter().map(rank).collect();
            ra.cmp(&rb)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::build(routes.iter().copied())
            .expect("valid routes")
            .0
    }

    fn component<'r>(router: &'r Router, path: &str) -> Option<&'r str> {
        router.route(path).map(|m| m.component)
    }

    #[test]
    fn exact_beats_wildcard() {
        let r = router(&[("/api/...", "wild"), ("/api/health", "exact")]);
        assert_eq!(component(&r, "/api/health"), Some("exact"));
        assert_eq!(component(&r, "/api/other"), Some("wild"));
    }

    #[test]
    fn longest_wildcard_prefix_wins() {
        let r = router(&[
            ("/...", "root"),
            ("/api/...", "api"),
            ("/api/users/...", "users"),
        ]);
        assert_eq!(component(&r, "/api/users/42"), Some("users"));
        assert_eq!(component(&r, "/api/orders"), Some("api"));
        assert_eq!(component(&r, "/elsewhere"), Some("root"));
        assert_eq!(component(&r, "/"), Some("root"));
    }

    #[test]
    fn literal_segments_beat_parameters() {
        let r = router(&[("/users/:id", "by_id"), ("/users/me", "me")]);
        assert_eq!(component(&r, "/users/me"), Some("me"));
        assert_eq!(component(&r, "/users/7"), Some("by_id"));
    }

    #[test]
    fn parameters_are_captured_by_name() {
        let r = router(&[("/users/:id/orders/:order", "orders")]);
        let m = r.route("/users/7/orders/99").expect("matches");
        assert_eq!(
            m.params,
            vec![("id", "7".to_string()), ("order", "99".to_string())]
        );
    }

    #[test]
    fn unmatched_paths_have_no_route() {
        let r = router(&[("/api/health", "health")]);
        assert_eq!(component(&r, "/api"), None);
        assert_eq!(component(&r, "/api/health/deep"), None);
    }

    #[test]
    fn path_info_follows_spin_for_trailing_slashes() {
        let r = router(&[("/foo/...", "foo")]);
        let info = |p: &str| r.route(p).expect("matches").path_info;
        assert_eq!(info("/foo"), "");
        assert_eq!(info("/foo/"), "/");
        assert_eq!(info("/foo/bar"), "/bar");
        assert_eq!(info("/foo/bar/"), "/bar/");
        assert_eq!(info("/foo/bar/baz"), "/bar/baz");
    }

    #[test]
    fn component_route_drops_the_wildcard() {
        let r = router(&[("/foo/...", "foo"), ("/exact", "exact")]);
        let m = r.route("/foo/x").expect("matches");
        assert_eq!(m.component_route, "/foo");
        assert_eq!(m.raw_route, "/foo/...");
        assert_eq!(m.based_route, "/foo/...");
        assert_eq!(
            r.route("/exact").expect("matches").component_route,
            "/exact"
        );
    }

    #[test]
    fn duplicate_routes_last_one_wins() {
        let (r, dups) = Router::build([("/a", "first"), ("/a", "second")]).expect("valid");
        assert_eq!(component(&r, "/a"), Some("second"));
        assert_eq!(
            dups,
            vec![DuplicateRoute {
                route: "/a".into(),
                replaced: "first".into(),
                effective: "second".into()
            }]
        );
    }

    #[test]
    fn a_wildcard_in_the_middle_is_rejected() {
        assert!(Router::build([("/a/.../b", "x")]).is_err());
    }
}
