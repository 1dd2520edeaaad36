//! An incoming request, owned and Spin-independent.

/// HTTP methods the platform distinguishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// Anything else, as sent.
    Other(String),
}

impl Method {
    /// The method named `name` (case-sensitive, as HTTP defines).
    pub fn parse(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        }
    }

    /// The method's name.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other(name) => name,
        }
    }
}

/// An HTTP request: method, path, decoded query pairs, headers, body.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, percent-encoded as received, without the query.
    pub path: String,
    /// The raw query string (without `?`), empty when there is none.
    pub query: String,
    /// Header names in lower case, with their values in arrival order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with no query, headers or body (for tests and internal calls).
    pub fn new(method: Method, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Request {
            method,
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This request with header `name: value` added.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// This request with `body`.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of header `name` (any case) if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        crate::form::pairs(self.query.as_bytes())
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_percent_decoded() {
        let req = Request::new(Method::Get, "/x?q=quantum%20walk&limit=5&flag&q=second");
        assert_eq!(req.query_param("q").as_deref(), Some("quantum walk"));
        assert_eq!(req.query_param("limit").as_deref(), Some("5"));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("missing"), None);
    }

    #[test]
    fn broken_escapes_are_kept_literally() {
        let req = Request::new(Method::Get, "/x?a=100%&b=%zz&c=a+b%2Bc");
        assert_eq!(req.query_param("a").as_deref(), Some("100%"));
        assert_eq!(req.query_param("b").as_deref(), Some("%zz"));
        assert_eq!(req.query_param("c").as_deref(), Some("a b+c"));
    }

    #[test]
    fn headers_are_found_in_any_case() {
        let req = Request::new(Method::Post, "/").with_header("X-Auth-Token", "t");
        assert_eq!(req.header("x-auth-token"), Some("t"));
        assert_eq!(req.header("X-AUTH-TOKEN"), Some("t"));
    }
}
