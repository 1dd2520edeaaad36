//! `qmarket plans`: pricing plans of a provider's services.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use qmarket_client::{collect, NewPricingPlan, NewProduct, PlanLimits, PricingPlan, Product};
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
    /// Change a plan: its name, or anything from a JSON file (the API's
    /// PATCH body). Once a plan has subscriptions, only its name may change.
    #[command(
        after_help = "Example:\n  qmarket plans update --service svc_… plan_… --name \"Pay per use\"\n  \
                      qmarket plans update --service svc_… plan_… --file change.json"
    )]
    Update(UpdateArgs),
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

/// A change of a plan.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The service (`svc_…`).
    #[arg(long)]
    service: String,
    /// The plan (`plan_…`).
    id: String,
    /// Its new name.
    #[arg(long, required_unless_present = "file", conflicts_with = "file")]
    name: Option<String>,
    /// A JSON file holding the change: any of {"name", "type", "products",
    /// "limits"}; `products` replaces the list (a product with the `id` of
    /// one of the plan's keeps it), `"limits": null` removes the limits.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

/// The JSON document in `file`.
fn json_file(file: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| usage(format!("{} is not JSON: {e}", file.display())))
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
    let mut rows = Rows::new(&["PRODUCT", "NAME", "PRICE"]);
    for product in &plan.products {
        rows.row(vec![
            product.id.clone(),
            product.name.clone(),
            price_words(product, &plan.currency),
        ]);
    }
    rows.print("No products.");
    println!();
    println!("Limits: {}", limits_words(plan.limits.as_ref()));
    Ok(())
}

/// How `product` is priced: `0.00001 EUR/call`, `graduated: 0 up to 1000,
/// 0.0001 beyond (EUR/call)`, `0.5 EUR per package of 100 call`, each
/// followed by its free allowance, if any.
fn price_words(product: &Product, currency: &str) -> String {
    let unit = &product.unit;
    let model = product.pricing_model.as_deref().unwrap_or("PER_UNIT");
    let mut words = match (model, product.package_size.as_deref()) {
        ("GRADUATED" | "VOLUME", _) => {
            let tiers: Vec<String> = product
                .tiers
                .iter()
                .map(|tier| match &tier.up_to {
                    Some(up_to) => format!("{} up to {up_to}", tier.unit_price),
                    None => format!("{} beyond", tier.unit_price),
                })
                .collect();
            format!(
                "{}: {} ({currency}/{unit})",
                model.to_ascii_lowercase(),
                tiers.join(", ")
            )
        }
        ("PACKAGE", Some(size)) => format!(
            "{} {currency} per package of {size} {unit}",
            product.unit_price
        ),
        _ => format!("{} {currency}/{unit}", product.unit_price),
    };
    if let Some(free) = product.free_allowance.as_deref().filter(|f| *f != "0") {
        words.push_str(&format!(", first {free} {unit} a month free"));
    }
    words
}

/// A plan's limits: `10 calls per second; 1000 calls per day`, or `none`.
fn limits_words(limits: Option<&PlanLimits>) -> String {
    let words: Vec<String> = limits
        .into_iter()
        .flat_map(|l| [&l.rate_limit, &l.quota])
        .flatten()
        .map(|l| format!("{} calls per {}", l.requests, l.per.to_ascii_lowercase()))
        .collect();
    if words.is_empty() {
        "none".into()
    } else {
        words.join("; ")
    }
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
        .map(|p| format!("{} {}", p.name, price_words(p, &plan.currency)))
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
                        client.create_pricing_plan(&args.service, &json_file(file)?)?
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
            PlansCommand::Update(args) => {
                let change = match (&args.file, args.name) {
                    (Some(file), _) => json_file(file)?,
                    (None, Some(name)) => serde_json::json!({ "name": name }),
                    (None, None) => return Err(usage("a change needs --name or --file")),
                };
                let plan = client.update_pricing_plan(&args.service, &args.id, &change)?;
                print_plan(context, &plan)
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
    use serde_json::json;

    fn product_view(value: Value) -> Product {
        serde_json::from_value(value).expect("a product")
    }

    #[test]
    fn every_pricing_model_is_put_in_words_with_its_free_allowance() {
        let per_unit = product_view(
            json!({"id": "prod_1", "name": "API", "unitPrice": "0.00001",
            "unit": "call", "pricingModel": "PER_UNIT", "freeAllowance": "0"}),
        );
        assert_eq!(price_words(&per_unit, "EUR"), "0.00001 EUR/call");
        let graduated = product_view(json!({"id": "prod_2", "name": "API", "unitPrice": "0",
            "unit": "call", "pricingModel": "GRADUATED", "freeAllowance": "10",
            "tiers": [{"upTo": "1000", "unitPrice": "0"}, {"upTo": null, "unitPrice": "0.0001"}]}));
        assert_eq!(
            price_words(&graduated, "EUR"),
            "graduated: 0 up to 1000, 0.0001 beyond (EUR/call), first 10 call a month free"
        );
        let volume = product_view(
            json!({"id": "prod_3", "name": "Shots", "unitPrice": "0.002",
            "unit": "shot", "pricingModel": "VOLUME",
            "tiers": [{"upTo": "100", "unitPrice": "0.002"}, {"upTo": null, "unitPrice": "0.001"}]}),
        );
        assert_eq!(
            price_words(&volume, "EUR"),
            "volume: 0.002 up to 100, 0.001 beyond (EUR/shot)"
        );
        let package = product_view(json!({"id": "prod_4", "name": "Jobs", "unitPrice": "0.5",
            "unit": "job", "pricingModel": "PACKAGE", "packageSize": "100"}));
        assert_eq!(
            price_words(&package, "EUR"),
            "0.5 EUR per package of 100 job"
        );
        // A product of a platform that knows no pricing models.
        let old = product_view(
            json!({"id": "prod_5", "name": "API", "unitPrice": "0.1", "unit": "call"}),
        );
        assert_eq!(price_words(&old, "EUR"), "0.1 EUR/call");
    }

    #[test]
    fn limits_are_put_in_words_and_no_limits_are_none() {
        let limits: PlanLimits = serde_json::from_value(json!({
            "rateLimit": {"requests": 10, "per": "SECOND"},
            "quota": {"requests": 1000, "per": "DAY"}
        }))
        .unwrap();
        assert_eq!(
            limits_words(Some(&limits)),
            "10 calls per second; 1000 calls per day"
        );
        let quota_only: PlanLimits =
            serde_json::from_value(json!({"quota": {"requests": 5, "per": "MONTH"}})).unwrap();
        assert_eq!(limits_words(Some(&quota_only)), "5 calls per month");
        assert_eq!(limits_words(None), "none");
    }

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
