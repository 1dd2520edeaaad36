//! `qmarket token`: a fresh OAuth2 access token of an application.

use clap::Args;

use crate::context::Context;
use crate::output;

/// Print a fresh OAuth2 access token of an application.
///
/// The client-credentials grant with the application's kept credentials,
/// for calling the gateway with any HTTP client.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket token --application app_…\n  \
                        curl -H \"Authorization: Bearer $(qmarket token)\" \"$QMARKET_URL/gateway/svc_…/\"")]
pub struct TokenCommand {
    /// The application (`app_…`) whose credentials the profile keeps;
    /// may be left out when it keeps one.
    #[arg(long)]
    application: Option<String>,
}

impl TokenCommand {
    /// `POST /oauth/token`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let (_, credentials) = context.credentials(self.application.as_deref())?;
        let answer = client.issue_token(&credentials)?;
        if context.json {
            return output::json(&answer);
        }
        println!("{}", answer.access_token.expose());
        Ok(())
    }
}
