//! `qmarket login`, `qmarket logout`, `qmarket whoami`: profiles.

use std::io::BufRead;

use anyhow::Context as _;
use clap::Args;
use qmarket_client::Client;
use qmarket_core::secret::Secret;
use serde_json::json;

use crate::context::Context;
use crate::exit::usage;
use crate::output;

/// Store a profile: the platform's URL and your personal access token.
///
/// The token is checked with the platform first, and never printed.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmarket login --url https://qmarket.example --token \"$PAT\"\n  \
                        echo \"$PAT\" | qmarket login --url http://127.0.0.1:3000 --profile local"
)]
pub struct LoginCommand {
    /// The platform's base URL.
    #[arg(long)]
    url: String,
    /// A personal access token with scope API; read from standard input
    /// when not given.
    #[arg(long, value_name = "PAT")]
    token: Option<String>,
}

impl LoginCommand {
    /// Checks the token (`GET /api/me`) and stores the profile.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let token = match self.token {
            Some(token) => token,
            None => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the token from standard input")?;
                line
            }
        };
        let token = token.trim();
        if token.is_empty() {
            return Err(usage(
                "no token: pass --token PAT, or the token on standard input",
            ));
        }
        let client = Client::new(&self.url, Some(Secret::new(token)))?;
        let account = client
            .me()
            .context("the platform does not accept this token")?;
        let mut store = context.store()?;
        let profile = store.profile_mut(&context.profile);
        profile.url = Some(client.base_url().to_string());
        profile.token = Some(Secret::new(token));
        store.save()?;
        if context.json {
            return output::json(&json!({
                "profile": context.profile,
                "url": client.base_url(),
                "account": account,
                "file": store.path(),
            }));
        }
        println!(
            "Logged in to {} as {} <{}>.",
            client.base_url(),
            account.name,
            account.email
        );
        println!(
            "Profile `{}` saved in {} (readable only by you).",
            context.profile,
            store.path().display()
        );
        Ok(())
    }
}

/// Remove a profile: its URL, token and applications' credentials.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket logout --profile local")]
pub struct LogoutCommand {}

impl LogoutCommand {
    /// Removes the profile from the file.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let mut store = context.store()?;
        let removed = store.remove(&context.profile);
        if removed {
            store.save()?;
        }
        if context.json {
            return output::json(&json!({"profile": context.profile, "removed": removed}));
        }
        if removed {
            println!(
                "Profile `{}` removed from {}.",
                context.profile,
                store.path().display()
            );
        } else {
            println!("There is no profile `{}`.", context.profile);
        }
        Ok(())
    }
}

/// Show the account the profile (or QMARKET_URL and QMARKET_TOKEN) logs in as.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket whoami")]
pub struct WhoamiCommand {}

impl WhoamiCommand {
    /// `GET /api/me`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let account = client.me()?;
        if context.json {
            return output::json(&account);
        }
        output::fields(&[
            ("platform", client.base_url().to_string()),
            ("profile", context.profile.clone()),
            ("account", account.id),
            ("name", account.name),
            ("email", account.email),
        ]);
        Ok(())
    }
}
