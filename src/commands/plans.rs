//! `qmarket plans`: pricing plans of a provider's services.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use qmarket_client::{collect, NewPricingPlan, NewProduct, PricingPlan};
use serde_json::Value;

use crate::context::{Context, ListArgs};
use crate::exit::usage;
use crate::output::{self, Rows};

/// Pricing plans.
#[derive(Debug, Subcommand)]
pub enum PlansCommand {
    /// Create a plan from flags or from a JSON file (the API's body).
    #[command(
        after_help = "Example:\n  qmarket plans create --service svc_… --name \"Pay per use\" \
                            --product 'API=0.00001/call'\n  qmarket plans create --service svc_… --file plan.json"
    )]
    Create(CreateArgs),
    /// List a service's plans.
    #[command(after_help = "Example:\n  qmarket plans list --service svc_…")]
    List {
        /// The service (`svc_…`).
        #[arg(long)]
        service: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Show a plan with its products' ids.
    #[command(after_help = "Example:\n  qmarket plans show --service svc_… plan_…")]
    Show {
        /// The service (`svc_…`).
        #[arg(long)]
        service: String,
        /// The plan (`plan_…`).
        id: String,
    },
    /// Delete a plan (refused while it has subscriptions).
    #[command(after_help = "Example:\n  qmarket plans delete --service svc_… plan_…")]
    Delete {
        /// The service (`svc_…`).
        #[arg(long)]
        service: String,
        /// The plan (`plan_…`).
        id: String,
    },
}

/// A new plan.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The service (`svc_…`).
    #[arg(long)]
    service: String,
    /// Its name.
    #[arg(long, required_unless_present = "file", conflicts_with = "file")]
    name: Option<String>,
    /// FREE or COMMERCIAL (the platform's default when absent).
    #[arg(long = "type", value_parser = ["FREE", "COMMERCIAL"], conflicts_with = "file")]
    kind: Option<String>,
    /// A product, as NAME=UNIT_PRICE/UNIT (EUR per unit; repeat for more).
    #[arg(long = "product", value_name = "NAME=PRICE/UNIT", value_parser = product,
          conflicts_with = "file")]
    products: Vec<NewProduct>,
    /// A JSON file holding the plan: {"name", "type", "products": [{"name", "unitPrice", "unit"}]}.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

/// `NAME=PRICE/UNIT` as a product.
fn product(text: &str) -> Result<NewProduct, String> {
    let (name, rest) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=PRICE/UNIT"))?;
    let (price, unit) = rest
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not NAME=PRICE/UNIT"))?;
    if name.trim().is_empty() || price.trim().is_empty() || unit.trim().is_empty() {
        return Err(format!("`{text}` is not NAME=PRICE/UNIT"));
    }
    Ok(NewProduct {
        name: name.trim().to_string(),
        unit_price: price.trim().to_string(),
        unit: unit.trim().to_string(),
    })
}

/// Prints `plan` with its products.
fn print_plan(context: &Context, plan: &PricingPlan) -> anyhow::Result<()> {
    if context.json {
        return output::json(plan);
    }
    output::fields(&[
        ("id", plan.id.clone()),
        ("service", plan.service_id.clone()),
        ("name", plan.name.clone()),
        ("type", plan.kind.clone()),
        ("currency", plan.currency.clone()),
    ]);
    println!();
    let mut rows = Rows::new(&["PRODUCT", "NAME", "UNIT PRICE", "UNIT"]);
    for product in &plan.products {
        rows.row(vec![
            product.id.clone(),
            product.name.clone(),
            product.unit_price.clone(),
            product.unit.clone(),
        ]);
    }
    rows.print("No products.");
    Ok(())
}

/// Prints `plans`, a row each, with their products.
pub fn print_plans(plans: &[PricingPlan]) {
    let mut rows = Rows::new(&["ID", "NAME", "TYPE", "PRODUCTS"]);
    for plan in plans {
        rows.row(vec![
            plan.id.clone(),
            plan.name.clone(),
            plan.kind.clone(),
            products_cell(plan),
        ]);
    }
    rows.print("No pricing plans.");
}

/// The products of `plan` in one cell: `API 0.00001 EUR/call`.
fn products_cell(plan: &PricingPlan) -> String {
    let products: Vec<String> = plan
        .products
        .iter()
        .map(|p| format!("{} {} {}/{}", p.name, p.unit_price, plan.currency, p.unit))
        .collect();
    if products.is_empty() {
        "-".into()
    } else {
        products.join(", ")
    }
}

impl PlansCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        match self {
            PlansCommand::Create(args) => {
                let plan = match (&args.file, args.name) {
                    (Some(file), _) => {
                        let text = std::fs::read_to_string(file)
                            .with_context(|| format!("cannot read {}", file.display()))?;
                        let body: Value = serde_json::from_str(&text)
                            .map_err(|e| usage(format!("{} is not JSON: {e}", file.display())))?;
                        client.create_pricing_plan(&args.service, &body)?
                    }
                    (None, Some(name)) => client.create_pricing_plan(
                        &args.service,
                        &NewPricingPlan {
                            name,
                            kind: args.kind,
                            products: args.products,
                        },
                    )?,
                    (None, None) => return Err(usage("a plan needs --name or --file")),
                };
                print_plan(context, &plan)
            }
            PlansCommand::List { service, list } => {
                let listing = collect(list.max(), |page| client.pricing_plans(&service, page))?;
                if context.json {
                    return output::json(&listing.items);
                }
                print_plans(&listing.items);
                output::more_hint(listing.more);
                Ok(())
            }
            PlansCommand::Show { service, id } => {
                print_plan(context, &client.pricing_plan(&service, &id)?)
            }
            PlansCommand::Delete { service, id } => {
                client.delete_pricing_plan(&service, &id)?;
                if context.json {
                    return output::json(&serde_json::json!({"deleted": id}));
                }
                println!("Deleted {id}.");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_flag_reads_name_price_and_unit() {
        assert_eq!(
            product("API=0.00001/call").unwrap(),
            NewProduct {
                name: "API".into(),
                unit_price: "0.00001".into(),
                unit: "call".into()
            }
        );
        assert_eq!(
            product("CPU time=0.003/cpu-second").unwrap().unit,
            "cpu-second"
        );
        for bad in ["API", "API=0.1", "=0.1/call", "API=/call", "API=0.1/"] {
            assert!(product(bad).is_err(), "{bad}");
        }
    }
}
