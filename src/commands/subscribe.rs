//! `qmarket subscribe`, `qmarket unsubscribe`.

use clap::Args;
use qmarket_client::{collect, Subscription};
use serde_json::json;

use crate::context::Context;
use crate::exit::usage;
use crate::output;

/// Subscribe an application to a service under one of its plans.
///
/// To your own internally published service, in test mode.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmarket subscribe --application app_… --service svc_… --plan plan_…"
)]
pub struct SubscribeCommand {
    /// The application (`app_…`).
    #[arg(long)]
    application: String,
    /// The service (`svc_…`).
    #[arg(long)]
    service: String,
    /// The plan (`plan_…`); may be left out when the service has one plan.
    #[arg(long)]
    plan: Option<String>,
}

fn print_subscription(context: &Context, subscription: &Subscription) -> anyhow::Result<()> {
    if context.json {
        return output::json(subscription);
    }
    output::fields(&[
        ("subscription", subscription.id.clone()),
        ("application", subscription.application_id.clone()),
        ("service", subscription.service_id.clone()),
        ("plan", subscription.pricing_plan_id.clone()),
        (
            "mode",
            if subscription.test_mode {
                "test"
            } else {
                "live"
            }
            .into(),
        ),
    ]);
    Ok(())
}

impl SubscribeCommand {
    /// `POST /api/applications/{id}/subscriptions`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let plan = match self.plan {
            Some(plan) => plan,
            None => {
                let plans = collect(None, |page| client.pricing_plans(&self.service, page))?.items;
                match plans.as_slice() {
                    [only] => only.id.clone(),
                    [] => return Err(usage(format!("{} has no pricing plan", self.service))),
                    several => {
                        let ids: Vec<&str> = several.iter().map(|p| p.id.as_str()).collect();
                        return Err(usage(format!(
                            "{} has several plans ({}): choose one with --plan",
                            self.service,
                            ids.join(", ")
                        )));
                    }
                }
            }
        };
        let subscription = client.subscribe(&self.application, &self.service, &plan)?;
        print_subscription(context, &subscription)
    }
}

/// End a subscription: the application's calls are refused from then on.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket unsubscribe sub_…")]
pub struct UnsubscribeCommand {
    /// The subscription (`sub_…`).
    subscription: String,
}

impl UnsubscribeCommand {
    /// `DELETE /api/subscriptions/{id}`.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        context.client()?.unsubscribe(&self.subscription)?;
        if context.json {
            return output::json(&json!({"deleted": self.subscription}));
        }
        println!("Ended {}.", self.subscription);
        Ok(())
    }
}
