//! `qmarket applications`: a consumer's applications.

use clap::{Args, Subcommand};
use qmarket_client::collect;
use qmarket_client::profile::StoredApplication;
use qmarket_client::ClientCredentials;
use serde_json::json;

use crate::context::{Context, ListArgs};
use crate::output::{self, Rows};

/// Applications.
#[derive(Debug, Subcommand)]
pub enum ApplicationsCommand {
    /// Create an application. Its consumer secret is shown only now, and
    /// kept with its key in the profile for `token`, `call` and `run`.
    #[command(after_help = "Example:\n  qmarket applications create --name notebook")]
    Create(CreateArgs),
    /// List your applications.
    #[command(after_help = "Example:\n  qmarket applications list")]
    List(ListArgs),
    /// Show an application and its subscriptions.
    #[command(after_help = "Example:\n  qmarket applications show app_…")]
    Show {
        /// The application (`app_…`).
        id: String,
    },
    /// Delete an application: its credentials and tokens stop working.
    #[command(after_help = "Example:\n  qmarket applications delete app_…")]
    Delete {
        /// The application (`app_…`).
        id: String,
    },
}

/// A new application.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Its name.
    #[arg(long)]
    name: String,
}

impl ApplicationsCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        match self {
            ApplicationsCommand::Create(args) => {
                let created = client.create_application(&args.name)?;
                let mut store = context.store()?;
                store.profile_mut(&context.profile).applications.insert(
                    created.id.clone(),
                    StoredApplication {
                        name: created.name.clone(),
                        credentials: ClientCredentials {
                            consumer_key: created.consumer_key.clone(),
                            consumer_secret: created.consumer_secret.clone(),
                        },
                    },
                );
                store.save()?;
                if context.json {
                    return output::json(&created);
                }
                output::fields(&[
                    ("id", created.id.clone()),
                    ("name", created.name.clone()),
                    ("consumer key", created.consumer_key.clone()),
                    (
                        "consumer secret",
                        created.consumer_secret.expose().to_string(),
                    ),
                ]);
                println!(
                    "The consumer secret is shown only now; it is kept in profile `{}` ({}).",
                    context.profile,
                    store.path().display()
                );
            }
            ApplicationsCommand::List(list) => {
                let listing = collect(list.max(), |page| client.applications(page))?;
                if context.json {
                    return output::json(&listing.items);
                }
                let stored = context.stored_profile()?.applications;
                let mut rows = Rows::new(&["ID", "NAME", "CONSUMER KEY", "CREDENTIALS"]);
                for app in &listing.items {
                    rows.row(vec![
                        app.id.clone(),
                        app.name.clone(),
                        app.consumer_key.clone(),
                        if stored.contains_key(&app.id) {
                            "kept"
                        } else {
                            "-"
                        }
                        .into(),
                    ]);
                }
                rows.print("No applications.");
                output::more_hint(listing.more);
            }
            ApplicationsCommand::Show { id } => {
                let app = client.application(&id)?;
                let subscriptions = collect(None, |page| client.subscriptions(&id, page))?.items;
                if context.json {
                    return output::json(
                        &json!({"application": app, "subscriptions": subscriptions}),
                    );
                }
                output::fields(&[
                    ("id", app.id.clone()),
                    ("name", app.name.clone()),
                    ("consumer key", app.consumer_key.clone()),
                ]);
                println!();
                let mut rows = Rows::new(&["SUBSCRIPTION", "SERVICE", "PLAN", "MODE"]);
                for subscription in &subscriptions {
                    rows.row(vec![
                        subscription.id.clone(),
                        subscription.service_id.clone(),
                        subscription.pricing_plan_id.clone(),
                        if subscription.test_mode {
                            "test"
                        } else {
                            "live"
                        }
                        .into(),
                    ]);
                }
                rows.print("No subscriptions.");
            }
            ApplicationsCommand::Delete { id } => {
                client.delete_application(&id)?;
                let mut store = context.store()?;
                if store
                    .profile_mut(&context.profile)
                    .applications
                    .remove(&id)
                    .is_some()
                {
                    store.save()?;
                }
                if context.json {
                    return output::json(&json!({"deleted": id}));
                }
                println!("Deleted {id}.");
            }
        }
        Ok(())
    }
}
