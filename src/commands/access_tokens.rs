//! `qmarket access-tokens`: personal access tokens.

use clap::{Args, Subcommand};
use qmarket_client::{collect, NewAccessToken};

use crate::context::{Context, ListArgs};
use crate::output::{self, Rows};

/// Personal access tokens.
#[derive(Debug, Subcommand)]
pub enum AccessTokensCommand {
    /// Create a token with scope API (its value is shown only now): for
    /// a service to report usage, or for another machine.
    #[command(after_help = "Example:\n  qmarket access-tokens create --name metering")]
    Create(CreateArgs),
    /// List your tokens (never their values).
    #[command(after_help = "Example:\n  qmarket access-tokens list")]
    List(ListArgs),
    /// Revoke a token: it stops working at once.
    #[command(after_help = "Example:\n  qmarket access-tokens delete pat_…")]
    Delete {
        /// The token's id (`pat_…`).
        id: String,
    },
}

/// What a new token is.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Its name.
    #[arg(long)]
    name: String,
    /// When it stops working (RFC 3339); never by default.
    #[arg(long, value_name = "TIMESTAMP")]
    expires_at: Option<String>,
}

impl AccessTokensCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        match self {
            AccessTokensCommand::Create(args) => {
                let token = client.create_access_token(&NewAccessToken {
                    name: args.name,
                    scopes: vec!["API".into()],
                    expires_at: args.expires_at,
                })?;
                if context.json {
                    return output::json(&token);
                }
                println!(
                    "Created {} ({}). Its value, shown only now:",
                    token.id, token.name
                );
                println!("{}", token.value.expose());
            }
            AccessTokensCommand::List(list) => {
                let listing = collect(list.max(), |page| client.access_tokens(page))?;
                if context.json {
                    return output::json(&listing.items);
                }
                let mut rows = Rows::new(&["ID", "NAME", "SCOPES", "EXPIRES"]);
                for token in &listing.items {
                    rows.row(vec![
                        token.id.clone(),
                        token.name.clone(),
                        token.scopes.join(","),
                        output::or_dash(token.expires_at.as_deref()),
                    ]);
                }
                rows.print("No access tokens.");
                output::more_hint(listing.more);
            }
            AccessTokensCommand::Delete { id } => {
                client.delete_access_token(&id)?;
                if context.json {
                    return output::json(&serde_json::json!({"deleted": id}));
                }
                println!("Revoked {id}.");
            }
        }
        Ok(())
    }
}
