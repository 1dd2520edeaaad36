//! `qmarket revenue`: what a service's subscriptions were invoiced in a month.

use clap::Args;

use crate::context::Context;
use crate::output::{self, Rows};

/// Show a service's revenue of a month (provider): each subscription's
/// invoice total with its plan, live and test-mode subscriptions summed
/// apart (test mode is not billed).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket revenue --service svc_… --month 2026-11")]
pub struct RevenueCommand {
    /// The service (`svc_…`).
    #[arg(long)]
    service: String,
    /// The month (`YYYY-MM`, UTC); the current one when left out.
    #[arg(long)]
    month: Option<String>,
}

impl RevenueCommand {
    /// `GET /api/services/{id}/revenue`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let revenue = context
            .client()?
            .revenue(&self.service, self.month.as_deref())?;
        if context.json {
            return output::json(&revenue);
        }
        output::fields(&[
            ("service", revenue.service_id.clone()),
            ("month", revenue.month.clone()),
            ("status", revenue.status.clone()),
            ("final at", revenue.final_at.clone()),
        ]);
        println!();
        let mut rows = Rows::new(&["SUBSCRIPTION", "APPLICATION", "PLAN", "MODE", "TOTAL"]);
        for line in &revenue.subscriptions {
            rows.row(vec![
                line.subscription_id.clone(),
                line.application_id.clone(),
                line.pricing_plan_name.clone(),
                if line.test_mode { "test" } else { "live" }.into(),
                format!("{} {}", line.total, revenue.currency),
            ]);
        }
        rows.print("No subscriptions in this month.");
        println!();
        println!("Revenue: {} {}", revenue.total, revenue.currency);
        println!(
            "Test mode (not billed): {} {}",
            revenue.test_mode_total, revenue.currency
        );
        Ok(())
    }
}
