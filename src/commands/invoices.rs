//! `qmarket invoices`: a subscription's monthly invoices.

use std::io::Write;

use clap::Args;
use qmarket_client::collect;

use crate::commands::usage::print_usage_lines;
use crate::context::{Context, ListArgs};
use crate::output::{self, Rows};

/// Show a subscription's monthly invoices, or one month's, or the events
/// behind one month's as CSV.
///
/// An invoice is OPEN until its month's end plus the grace period, then FINAL
/// (for the subscriber and the service's owner).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  qmarket invoices sub_… --month 2026-11\n  qmarket invoices sub_… --month 2026-11 --events-csv > events.csv"
)]
pub struct InvoicesCommand {
    /// The subscription (`sub_…`).
    subscription: String,
    /// One month's invoice with its lines (`YYYY-MM`).
    #[arg(long)]
    month: Option<String>,
    /// Write that month's events to standard output as CSV, each priced at
    /// its margin (the amounts add up to the invoice's total).
    #[arg(long, requires = "month")]
    events_csv: bool,
    #[command(flatten)]
    list: ListArgs,
}

impl InvoicesCommand {
    /// `GET /api/subscriptions/{id}/invoices[/{month}[/events.csv]]`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        if let (Some(month), true) = (&self.month, self.events_csv) {
            let csv = client.invoice_events_csv(&self.subscription, month)?;
            std::io::stdout().write_all(&csv)?;
            return Ok(());
        }
        if let Some(month) = &self.month {
            let invoice = client.invoice(&self.subscription, month)?;
            if context.json {
                return output::json(&invoice);
            }
            output::fields(&[
                ("subscription", invoice.subscription_id.clone()),
                ("month", invoice.month.clone()),
                ("status", invoice.status.clone()),
                ("final at", invoice.final_at.clone()),
            ]);
            println!();
            print_usage_lines(&invoice.lines, &invoice.currency);
            println!();
            println!("Total: {} {}", invoice.total, invoice.currency);
            return Ok(());
        }
        let listing = collect(self.list.max(), |page| {
            client.invoices(&self.subscription, page)
        })?;
        if context.json {
            return output::json(&listing.items);
        }
        let mut rows = Rows::new(&["MONTH", "STATUS", "FINAL AT", "TOTAL"]);
        for invoice in &listing.items {
            rows.row(vec![
                invoice.month.clone(),
                invoice.status.clone(),
                invoice.final_at.clone(),
                format!("{} {}", invoice.total, invoice.currency),
            ]);
        }
        rows.print("No invoices.");
        output::more_hint(listing.more);
        Ok(())
    }
}
