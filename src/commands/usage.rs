//! `qmarket usage`: one subscription's usage bill.

use clap::Args;
use qmarket_client::{Usage, UsageLine};

use crate::commands::metering::WindowArgs;
use crate::context::Context;
use crate::output::{self, Rows};

/// Show a subscription's usage bill.
///
/// Each product's quantity and amount, and the exact total (for the subscriber and the service's owner).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket usage sub_… --from 2026-11-01 --to 2026-12-01")]
pub struct UsageCommand {
    /// The subscription (`sub_…`).
    subscription: String,
    #[command(flatten)]
    window: WindowArgs,
}

/// Prints the lines of `usage`.
pub fn print_usage(usage: &Usage) {
    print_usage_lines(&usage.lines, &usage.currency);
}

/// Prints bill lines (of a usage bill or an invoice).
pub fn print_usage_lines(lines: &[UsageLine], currency: &str) {
    let mut rows = Rows::new(&["PRODUCT", "UNIT PRICE", "QUANTITY", "UNIT", "AMOUNT"]);
    for line in lines {
        rows.row(vec![
            line.product_name.clone(),
            line.unit_price.clone(),
            line.quantity.clone(),
            line.unit.clone(),
            format!("{} {currency}", line.amount),
        ]);
    }
    rows.print("No usage.");
}

impl UsageCommand {
    /// `GET /api/subscriptions/{id}/usage`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let usage = client.usage(&self.subscription, &self.window.window())?;
        if context.json {
            return output::json(&usage);
        }
        output::fields(&[
            ("subscription", usage.subscription_id.clone()),
            (
                "window",
                format!(
                    "{} to {}",
                    output::or_dash(usage.from.as_deref()),
                    output::or_dash(usage.to.as_deref())
                ),
            ),
            ("mode", if usage.test_mode { "test" } else { "live" }.into()),
        ]);
        println!();
        print_usage(&usage);
        println!();
        println!("Total: {} {}", usage.total, usage.currency);
        Ok(())
    }
}
