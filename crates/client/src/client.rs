//! The platform API with a personal access token: how a request is made
//! and an answer read. The endpoints are in the modules of their records.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use qmarket_core::secret::Secret;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Problem};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest exchange: the platform's own request deadline (900 s) and a
/// little more, so a call the platform still serves is never cut off here.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(960);
/// The largest answer read (a managed execution's result file may be large).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// Everything but RFC 3986's unreserved characters is escaped in a path
/// segment or a query value: an id is opaque and may hold anything.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one URL path segment or query value.
pub(crate) fn escape(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// A client of one platform, with the caller's personal access token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<Secret>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A request body and its media type.
pub(crate) struct Body<'a> {
    pub(crate) content_type: &'a str,
    pub(crate) bytes: Vec<u8>,
}

impl Body<'_> {
    /// `value` as JSON.
    pub(crate) fn json(value: &impl Serialize) -> Result<Body<'static>, Error> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::InvalidRequest(format!("the body cannot be written: {e}")))?;
        Ok(Body {
            content_type: "application/json",
            bytes,
        })
    }
}

/// An answer as it came.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) url: String,
    pub(crate) status: u16,
    /// Names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body of a 2xx answer; a refusal otherwise.
    pub(crate) fn success(self) -> Result<Answer, Error> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            let problem = Problem::from_answer(self.status, &self.body);
            Err(Error::Refused(Box::new(problem)))
        }
    }

    /// The body of a 2xx answer read as `T`.
    pub(crate) fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let answer = self.success()?;
        serde_json::from_slice(&answer.body).map_err(|e| Error::UnexpectedAnswer {
            url: answer.url.clone(),
            status: answer.status,
            reason: format!("not the JSON the API describes: {e}"),
        })
    }
}

impl Client {
    /// A client of the platform at `base` (`https://qmarket.example`),
    /// calling with the personal access token `token` (none: only the
    /// endpoints that need no credential work).
    pub fn new(base: &str, token: Option<Secret>) -> Result<Client, Error> {
        let base = base.trim().trim_end_matches('/');
        let valid = ["http://", "https://"]
            .iter()
            .any(|scheme| base.len() > scheme.len() && base.starts_with(scheme));
        if !valid || base.parse::<ureq::http::Uri>().is_err() {
            return Err(Error::InvalidRequest(format!(
                "the platform URL `{base}` is not an http:// or https:// URL"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(EXCHANGE_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .allow_non_standard_methods(true)
            .build()
            .new_agent();
        Ok(Client {
            base: base.to_string(),
            token,
            agent,
        })
    }

    /// The platform's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL of `path` (which starts with `/`) with `query` (values
    /// escaped; pairs whose value is `None` left out).
    pub(crate) fn url(&self, path: &str, query: &[(&str, Option<String>)]) -> String {
        let mut url = format!("{}{path}", self.base);
        let mut separator = if path.contains('?') { '&' } else { '?' };
        for (name, value) in query {
            if let Some(value) = value {
                url.push(separator);
                url.push_str(name);
                url.push('=');
                url.push_str(&escape(value));
                separator = '&';
            }
        }
        url
    }

    /// Sends one request and reads the whole answer, whatever its status.
    pub(crate) fn exchange(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&Secret>,
        headers: &[(String, String)],
        body: Option<Body<'_>>,
    ) -> Result<Answer, Error> {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {}", token.expose()));
        }
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let (request, bytes) = match body {
            Some(body) => (
                request.header("content-type", body.content_type),
                body.bytes,
            ),
            None => (request, Vec::new()),
        };
        let request = request
            .body(bytes)
            .map_err(|e| Error::InvalidRequest(format!("{method} {url}: {e}")))?;
        let transport = |e: &dyn std::fmt::Display| Error::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let mut response = self.agent.run(request).map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| transport(&e))?;
        Ok(Answer {
            url: url.to_string(),
            status,
            headers,
            body,
        })
    }

    /// A request with the personal access token.
    pub(crate) fn platform(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, Option<String>)],
        body: Option<Body<'_>>,
    ) -> Result<Answer, Error> {
        let url = self.url(path, query);
        self.exchange(method, &url, self.token.as_ref(), &[], body)
    }

    /// `GET path` read as `T`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, Option<String>)],
    ) -> Result<T, Error> {
        self.platform("GET", path, query, None)?.json()
    }

    /// `method path` with `body` as JSON, read as `T`.
    pub(crate) fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, Error> {
        self.platform(method, path, &[], Some(Body::json(body)?))?
            .json()
    }

    /// `POST path` without a body, read as `T`.
    pub(crate) fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.platform("POST", path, &[], None)?.json()
    }

    /// `DELETE path`: any 2xx is done.
    pub(crate) fn delete(&self, path: &str) -> Result<(), Error> {
        self.platform("DELETE", path, &[], None)?
            .success()
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_query_values_are_escaped() {
        let client = Client::new("http://127.0.0.1:3000/", None).unwrap();
        assert_eq!(
            client.url(
                &format!("/api/services/{}", escape("svc_1/../x")),
                &[("q", Some("a b&c".into())), ("to", None)]
            ),
            "http://127.0.0.1:3000/api/services/svc_1%2F..%2Fx?q=a%20b%26c"
        );
    }

    #[test]
    fn a_platform_url_must_be_http_or_https() {
        for bad in [
            "127.0.0.1:3000",
            "ftp://example.org",
            "http://",
            "http://a b",
        ] {
            assert!(
                matches!(Client::new(bad, None), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert!(Client::new("https://qmarket.example", None).is_ok());
    }
}
