//! `qmarket metering`: the usage a provider's services reported.

use clap::{Args, Subcommand};
use qmarket_client::{collect, EventFilter, Window};

use crate::context::{Context, ListArgs};
use crate::output::{self, Rows};

/// Metering.
#[derive(Debug, Subcommand)]
pub enum MeteringCommand {
    /// List a service's metering events, newest first.
    #[command(
        after_help = "Example:\n  qmarket metering events --service svc_… --test-mode --from 2026-11-01"
    )]
    Events(EventsArgs),
}

/// A window of whole UTC days or timestamps.
#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    /// From this time on (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "WHEN")]
    from: Option<String>,
    /// Before this time (RFC 3339 or YYYY-MM-DD, exclusive).
    #[arg(long, value_name = "WHEN")]
    to: Option<String>,
}

impl WindowArgs {
    /// The window.
    pub fn window(&self) -> Window {
        Window {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// Which events.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The service (`svc_…`).
    #[arg(long)]
    service: String,
    #[command(flatten)]
    window: WindowArgs,
    /// Only test usage (of an internally published service).
    #[arg(long, conflicts_with = "live")]
    test_mode: bool,
    /// Only live usage.
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    list: ListArgs,
}

impl MeteringCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let MeteringCommand::Events(args) = self;
        let filter = EventFilter {
            window: args.window.window(),
            test_mode: match (args.test_mode, args.live) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        };
        let listing = collect(args.list.max(), |page| {
            client.metering_events(&args.service, &filter, page)
        })?;
        if context.json {
            return output::json(&listing.items);
        }
        let mut rows = Rows::new(&[
            "TIME",
            "PRODUCT",
            "COUNT",
            "UNIT",
            "AMOUNT",
            "MODE",
            "CORRELATION ID",
        ]);
        for event in &listing.items {
            rows.row(vec![
                event.timestamp.clone(),
                event.product_name.clone(),
                event.count.clone(),
                event.unit.clone(),
                format!("{} {}", event.amount, event.currency),
                if event.test_mode { "test" } else { "live" }.to_string(),
                event.correlation_id.clone(),
            ]);
        }
        rows.print("No metering events.");
        output::more_hint(listing.more);
        Ok(())
    }
}
