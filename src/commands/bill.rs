//! `qmarket bill`: what a consumer's subscriptions cost, together.

use anyhow::Context as _;
use clap::Args;
use qmarket_client::{collect, Application, PageRequest};
use qmarket_core::decimal::{Amount, Sign};
use serde_json::json;

use crate::commands::metering::WindowArgs;
use crate::context::Context;
use crate::output::{self, Rows};

/// The most integer digits an amount of a bill has.
const AMOUNT_INTEGER_DIGITS: usize = 20;

/// Show your bill over all your subscriptions.
///
/// Every subscription of your applications (or of one),
/// its total, and the exact sum of them all.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket bill --from 2026-11-01 --to 2026-12-01")]
pub struct BillCommand {
    /// Only this application's subscriptions (`app_…`).
    #[arg(long)]
    application: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
}

impl BillCommand {
    /// Gathers every subscription's usage and adds them up.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let applications: Vec<Application> = match &self.application {
            Some(id) => vec![client.application(id)?],
            None => collect(None, |page| client.applications(page))?.items,
        };
        let window = self.window.window();
        let mut total = Amount::ZERO;
        let mut rows = Rows::new(&["APPLICATION", "SUBSCRIPTION", "SERVICE", "MODE", "TOTAL"]);
        let mut bills = Vec::new();
        for application in &applications {
            let subscriptions = collect(None, |page: &PageRequest| {
                client.subscriptions(&application.id, page)
            })?;
            for subscription in subscriptions.items {
                let usage = client.usage(&subscription.id, &window)?;
                let amount = Amount::parse(&usage.total, AMOUNT_INTEGER_DIGITS, Sign::NonNegative)
                    .with_context(|| {
                        format!("the total of {} is not an amount", subscription.id)
                    })?;
                total = total
                    .checked_add(amount)
                    .context("the bill's total is too large")?;
                rows.row(vec![
                    application.name.clone(),
                    subscription.id.clone(),
                    subscription.service_id.clone(),
                    if usage.test_mode { "test" } else { "live" }.into(),
                    format!("{} {}", usage.total, usage.currency),
                ]);
                bills.push(json!({
                    "applicationId": application.id,
                    "serviceId": subscription.service_id,
                    "usage": usage,
                }));
            }
        }
        if context.json {
            return output::json(&json!({
                "from": window.from,
                "to": window.to,
                "currency": "EUR",
                "subscriptions": bills,
                "total": total.to_string(),
            }));
        }
        rows.print("No subscriptions.");
        println!();
        println!("Total: {total} EUR");
        Ok(())
    }
}
