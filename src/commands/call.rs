//! `qmarket call`: one request through the gateway.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use qmarket_client::GatewayReply;
use serde_json::{json, Value};

use crate::context::Context;
use crate::exit::{usage, Failure};
use crate::output;

/// Call a service through the gateway.
///
/// With a fresh token of the application; prints the status, the call's
/// correlation id and the body.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket call svc_… /run -X POST -d '{\"data\": {}}'")]
pub struct CallCommand {
    /// The service (`svc_…`).
    service: String,
    /// The path under the service (and a query), e.g. `/run?shots=10`.
    #[arg(default_value = "/")]
    path: String,
    /// The method [default: GET, or POST when a body is given].
    #[arg(short = 'X', long)]
    method: Option<String>,
    /// The body (sent as application/json unless a Content-Type header is given).
    #[arg(short = 'd', long, conflicts_with = "data_file")]
    data: Option<String>,
    /// The body, read from a file.
    #[arg(long, value_name = "FILE")]
    data_file: Option<PathBuf>,
    /// A header, `Name: value` (repeat for more).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The application (`app_…`) whose credentials the profile keeps.
    #[arg(long)]
    application: Option<String>,
}

fn print_reply(context: &Context, reply: &GatewayReply) -> anyhow::Result<()> {
    let correlation = reply.correlation_id();
    if context.json {
        let text = String::from_utf8_lossy(&reply.body);
        let body = serde_json::from_slice::<Value>(&reply.body)
            .unwrap_or_else(|_| Value::String(text.into_owned()));
        return output::json(&json!({
            "status": reply.status,
            "correlationId": correlation,
            "contentType": reply.header("content-type"),
            "body": body,
        }));
    }
    println!("status: {}", reply.status);
    println!("correlation id: {}", output::or_dash(correlation));
    println!();
    println!("{}", String::from_utf8_lossy(&reply.body).trim_end());
    Ok(())
}

impl CallCommand {
    /// Issues a token and makes the call.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let body = match (&self.data, &self.data_file) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(file)) => Some(
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?,
            ),
            (None, None) => None,
        };
        let mut headers = Vec::new();
        for header in &self.headers {
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| usage(format!("`{header}` is not a header (NAME: VALUE)")))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        let content_type = headers
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|at| headers.remove(at).1)
            .unwrap_or_else(|| "application/json".to_string());
        let method = self
            .method
            .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into())
            .to_ascii_uppercase();
        let path = if self.path.starts_with('/') {
            self.path
        } else {
            format!("/{}", self.path)
        };
        let (_, credentials) = context.credentials(self.application.as_deref())?;
        let token = client.issue_token(&credentials)?;
        let reply = client.gateway(token.access_token).call(
            &method,
            &self.service,
            &path,
            &headers,
            body.map(|bytes| (content_type.as_str(), bytes)),
        )?;
        print_reply(context, &reply)?;
        if reply.status >= 400 {
            return Err(Failure::Refused(format!("the call answered {}", reply.status)).into());
        }
        Ok(())
    }
}
