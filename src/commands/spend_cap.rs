//! `qmarket spend-cap`: a subscription's monthly spend cap.

use clap::Args;
use qmarket_client::SpendCap;

use crate::context::Context;
use crate::output;

/// Show, set or remove a subscription's monthly spend cap.
///
/// Once the month's bill reaches the cap, the gateway refuses the
/// subscription's calls (402) until the next month or a higher cap. Only the
/// subscriber sets or removes it.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket spend-cap sub_… --set 25")]
pub struct SpendCapCommand {
    /// The subscription (`sub_…`).
    subscription: String,
    /// The cap in EUR per calendar month.
    #[arg(long, conflicts_with = "remove")]
    set: Option<String>,
    /// Remove the cap.
    #[arg(long)]
    remove: bool,
}

impl SpendCapCommand {
    /// `GET|PUT|DELETE /api/subscriptions/{id}/spend-cap`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        if self.remove {
            client.remove_spend_cap(&self.subscription)?;
        }
        let cap = match &self.set {
            Some(amount) => client.set_spend_cap(&self.subscription, amount)?,
            None => client.spend_cap(&self.subscription)?,
        };
        if context.json {
            return output::json(&cap);
        }
        print_cap(&cap);
        Ok(())
    }
}

fn print_cap(cap: &SpendCap) {
    output::fields(&[
        ("subscription", cap.subscription_id.clone()),
        (
            "monthly cap",
            cap.monthly_cap
                .as_ref()
                .map_or("none".into(), |c| format!("{c} {}", cap.currency)),
        ),
        ("month", cap.month.clone()),
        ("spent", format!("{} {}", cap.spent, cap.currency)),
        (
            "calls",
            if cap.reached {
                "refused (402) until the next month or a higher cap"
            } else {
                "admitted"
            }
            .into(),
        ),
    ]);
}
