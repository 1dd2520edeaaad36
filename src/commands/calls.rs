//! `qmarket calls`: a subscription's gateway calls and what each cost.

use clap::Args;
use qmarket_client::collect;

use crate::commands::metering::WindowArgs;
use crate::context::{Context, ListArgs};
use crate::output::{self, Rows};

/// Show a subscription's gateway calls, newest first, with what each cost.
///
/// Each call's status, duration and the metering events it caused (for the
/// subscriber and the service's owner).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket calls sub_… --from 2026-12-01")]
pub struct CallsCommand {
    /// The subscription (`sub_…`).
    subscription: String,
    #[command(flatten)]
    window: WindowArgs,
    #[command(flatten)]
    list: ListArgs,
}

impl CallsCommand {
    /// `GET /api/subscriptions/{id}/calls`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let window = self.window.window();
        let listing = collect(self.list.max(), |page| {
            client.calls(&self.subscription, &window, page)
        })?;
        if context.json {
            return output::json(&listing.items);
        }
        let mut rows = Rows::new(&[
            "STARTED",
            "STATUS",
            "METHOD",
            "PATH",
            "MS",
            "USAGE",
            "AMOUNT",
            "CORRELATION ID",
        ]);
        for call in &listing.items {
            let usage: Vec<String> = call
                .events
                .iter()
                .map(|e| format!("{} {} {}", e.count, e.unit, e.product_name))
                .collect();
            rows.row(vec![
                call.started_at.clone(),
                call.status.to_string(),
                call.method.clone(),
                call.path.clone(),
                call.duration_ms.to_string(),
                if usage.is_empty() {
                    "-".into()
                } else {
                    usage.join(", ")
                },
                format!("{} {}", call.amount, call.currency),
                call.correlation_id.clone(),
            ]);
        }
        rows.print("No calls.");
        output::more_hint(listing.more);
        Ok(())
    }
}
