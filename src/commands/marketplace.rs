//! `qmarket marketplace`: published services of every provider.

use clap::{Args, Subcommand};
use qmarket_client::{collect, MarketplaceFilter, MarketplaceService};

use crate::commands::plans::print_plans;
use crate::commands::services::service_fields;
use crate::context::{Context, ListArgs};
use crate::exit::usage;
use crate::output::{self, Rows};

/// The marketplace.
#[derive(Debug, Subcommand)]
pub enum MarketplaceCommand {
    /// List published services.
    #[command(after_help = "Example:\n  qmarket marketplace list --backend IBM")]
    List(FilterArgs),
    /// Find published services whose name or description contains TEXT.
    #[command(after_help = "Example:\n  qmarket marketplace search \"quantum walk\"")]
    Search {
        /// The text to look for.
        text: String,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Show a published service with its plans and their products.
    #[command(after_help = "Example:\n  qmarket marketplace show svc_…")]
    Show {
        /// The service (`svc_…`).
        id: String,
    },
}

/// Which entries.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only services on this quantum backend.
    #[arg(long)]
    backend: Option<String>,
    #[command(flatten)]
    list: ListArgs,
}

fn print_entries(
    context: &Context,
    entries: &[MarketplaceService],
    more: bool,
) -> anyhow::Result<()> {
    if context.json {
        return output::json(&entries);
    }
    let mut rows = Rows::new(&["ID", "NAME", "TYPE", "BACKEND", "PLANS"]);
    for entry in entries {
        let plans: Vec<&str> = entry
            .pricing_plans
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let service = &entry.service;
        rows.row(vec![
            service.id.clone(),
            service.name.clone(),
            service.kind.clone(),
            service.quantum_backend.clone(),
            output::or_dash(Some(&plans.join(", "))),
        ]);
    }
    rows.print("No published services.");
    output::more_hint(more);
    Ok(())
}

impl MarketplaceCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        match self {
            MarketplaceCommand::List(args) => {
                let filter = MarketplaceFilter {
                    text: None,
                    quantum_backend: args.backend,
                };
                let listing = collect(args.list.max(), |page| client.marketplace(&filter, page))?;
                print_entries(context, &listing.items, listing.more)
            }
            MarketplaceCommand::Search { text, filter } => {
                let wanted = MarketplaceFilter {
                    text: Some(text),
                    quantum_backend: filter.backend,
                };
                let listing = collect(filter.list.max(), |page| client.marketplace(&wanted, page))?;
                print_entries(context, &listing.items, listing.more)
            }
            MarketplaceCommand::Show { id } => {
                // The marketplace has no single-entry endpoint: look it up.
                let everything = collect(None, |page| {
                    client.marketplace(&MarketplaceFilter::default(), page)
                })?;
                let entry = everything
                    .items
                    .into_iter()
                    .find(|e| e.service.id == id)
                    .ok_or_else(|| usage(format!("{id} is not in the marketplace")))?;
                if context.json {
                    return output::json(&entry);
                }
                output::fields(&service_fields(&entry.service));
                println!();
                print_plans(&entry.pricing_plans);
                Ok(())
            }
        }
    }
}
