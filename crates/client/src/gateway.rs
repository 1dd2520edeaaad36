//! The gateway, with an application's OAuth2 access token: calls to
//! services, and PlanQK's execution API of managed services.

use base64::Engine as _;
use qmarket_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{escape, Answer, Body};
use crate::{Client, Error, Execution, LogEntry, Other};

/// The header that carries a gateway call's correlation id.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// An application's OAuth2 client credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentials {
    /// The consumer key (client id).
    pub consumer_key: String,
    /// The consumer secret.
    pub consumer_secret: Secret,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// The bearer token for the gateway.
    pub access_token: Secret,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Its scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A service's answer relayed by the gateway, as it is.
#[derive(Debug, Clone)]
pub struct GatewayReply {
    /// The status.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl GatewayReply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The call's correlation id (opaque), as the gateway echoed it.
    pub fn correlation_id(&self) -> Option<&str> {
        self.header(CORRELATION_HEADER)
    }
}

impl Client {
    /// `POST /oauth/token`: a fresh access token for the application with
    /// `credentials` (client-credentials grant, HTTP Basic).
    pub fn issue_token(&self, credentials: &ClientCredentials) -> Result<TokenAnswer, Error> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            credentials.consumer_key,
            credentials.consumer_secret.expose()
        ));
        let url = self.url("/oauth/token", &[]);
        let body = Body {
            content_type: "application/x-www-form-urlencoded",
            bytes: b"grant_type=client_credentials".to_vec(),
        };
        let headers = [("authorization".to_string(), format!("Basic {basic}"))];
        self.exchange("POST", &url, None, &headers, Some(body))?
            .json()
    }

    /// The gateway as the application holding `access_token` reaches it.
    pub fn gateway(&self, access_token: Secret) -> Gateway {
        Gateway {
            client: self.clone(),
            token: access_token,
        }
    }
}

/// The gateway with one application's access token.
#[derive(Clone)]
pub struct Gateway {
    client: Client,
    token: Secret,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("platform", &self.client.base_url())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    fn service_url(&self, service: &str, rest: &str) -> String {
        self.client
            .url(&format!("/gateway/{}{rest}", escape(service)), &[])
    }

    fn exchange(&self, method: &str, url: &str, body: Option<Body<'_>>) -> Result<Answer, Error> {
        self.client
            .exchange(method, url, Some(&self.token), &[], body)
    }

    /// `method /gateway/{service}{path}` (`path` starts with `/` and may
    /// carry a query) with `headers` and `body` (its media type first):
    /// the service's answer as it is, whatever its status.
    pub fn call(
        &self,
        method: &str,
        service: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<GatewayReply, Error> {
        if !path.starts_with('/') {
            return Err(Error::InvalidRequest(format!(
                "the path `{path}` does not start with `/`"
            )));
        }
        let url = self.service_url(service, path);
        let body = body.map(|(content_type, bytes)| Body {
            content_type,
            bytes,
        });
        let answer = self
            .client
            .exchange(method, &url, Some(&self.token), headers, body)?;
        Ok(GatewayReply {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }

    /// `POST /gateway/{service}/` with `input` (`{data, params}`): a new
    /// execution, `PENDING`.
    pub fn start_execution(&self, service: &str, input: &Value) -> Result<Execution, Error> {
        let url = self.service_url(service, "/");
        self.exchange("POST", &url, Some(Body::json(input)?))?
            .json()
    }

    /// `GET /gateway/{service}/`: the application's executions, newest first.
    pub fn executions(&self, service: &str) -> Result<Vec<Execution>, Error> {
        let url = self.service_url(service, "/");
        self.exchange("GET", &url, None)?.json()
    }

    /// `GET /gateway/{service}/{id}`.
    pub fn execution(&self, service: &str, id: &str) -> Result<Execution, Error> {
        let url = self.service_url(service, &format!("/{}", escape(id)));
        self.exchange("GET", &url, None)?.json()
    }

    /// `GET /gateway/{service}/{id}/log`, oldest line first.
    pub fn execution_log(&self, service: &str, id: &str) -> Result<Vec<LogEntry>, Error> {
        let url = self.service_url(service, &format!("/{}/log", escape(id)));
        self.exchange("GET", &url, None)?.json()
    }

    /// `GET /gateway/{service}/{id}/result`: the program's result (or
    /// `{code, detail}`) with `_links` and `_embedded`; 409 while it runs.
    pub fn execution_result(&self, service: &str, id: &str) -> Result<Value, Error> {
        let url = self.service_url(service, &format!("/{}/result", escape(id)));
        self.exchange("GET", &url, None)?.json()
    }

    /// `GET /gateway/{service}/{id}/result/{file}`: one result file.
    pub fn result_file(&self, service: &str, id: &str, file: &str) -> Result<Vec<u8>, Error> {
        let url = self.service_url(service, &format!("/{}/result/{}", escape(id), escape(file)));
        Ok(self.exchange("GET", &url, None)?.success()?.body)
    }

    /// `PUT /gateway/{service}/{id}/cancel`: the execution after the cancel.
    pub fn cancel_execution(&self, service: &str, id: &str) -> Result<Execution, Error> {
        let url = self.service_url(service, &format!("/{}/cancel", escape(id)));
        self.exchange("PUT", &url, None)?.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_correlation_id_is_read_whatever_its_shape() {
        let reply = GatewayReply {
            status: 200,
            headers: vec![(CORRELATION_HEADER.into(), "eyJ2IjoxfQ.c2VhbGVk-_x".into())],
            body: Vec::new(),
        };
        assert_eq!(reply.correlation_id(), Some("eyJ2IjoxfQ.c2VhbGVk-_x"));
        assert_eq!(reply.header("X-Correlation-ID"), reply.correlation_id());
    }
}
