//! What a provider may send to create or change a pricing plan, and how it
//! is checked.

use qmarket_core::id::new_id;
use qmarket_core::{IdKind, Result};
use qmarket_model::{PlanLimits, PlanType, PricingModel, Product};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pricing_model_input::{self, CheckedPricing, PricingFields};
use crate::validation::Violations;

/// The longest plan name, product name or unit.
pub const MAX_TEXT_CHARS: usize = 100;
/// The most products a plan may have.
pub const MAX_PRODUCTS: usize = 50;

/// The body of `POST /api/services/{id}/pricing-plans`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewPricingPlan {
    /// 1–100 characters.
    pub name: String,
    /// `FREE` or `COMMERCIAL` (the default).
    #[serde(default, rename = "type")]
    pub kind: Option<PlanType>,
    /// What it charges for; at least one for `COMMERCIAL`.
    #[serde(default)]
    pub products: Vec<ProductInput>,
    /// The rate limit and quota of each subscription's gateway calls.
    #[serde(default)]
    pub limits: Option<PlanLimits>,
}

/// The body of `PATCH /api/services/{id}/pricing-plans/{planId}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdatePricingPlan {
    /// New name (always allowed).
    #[serde(default)]
    pub name: Option<String>,
    /// New type (not once the plan has subscriptions).
    #[serde(default, rename = "type")]
    pub kind: Option<PlanType>,
    /// The new product list, replacing the old one (not once the plan has
    /// subscriptions). A product that carries the `id` of one of the plan's
    /// products keeps that id.
    #[serde(default)]
    pub products: Option<Vec<ProductInput>>,
    /// New limits, `null` for none (not once the plan has subscriptions).
    #[serde(default, deserialize_with = "crate::nullable::deserialize")]
    pub limits: Option<Option<PlanLimits>>,
}

/// A product as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProductInput {
    /// On update only: the id of the plan's product this one replaces.
    #[serde(default)]
    pub id: Option<String>,
    /// 1–100 characters, unique within the plan (ignoring case).
    pub name: String,
    /// EUR per unit (per package for `PACKAGE`): a JSON number or numeric
    /// string, ≥ 0, at most 10 fractional and 9 integer digits. Required
    /// unless the product has tiers, whose first tier's price it then is.
    #[serde(default)]
    pub unit_price: Option<Value>,
    /// 1–100 characters, e.g. `call`.
    pub unit: String,
    /// `PER_UNIT` (the default), `GRADUATED`, `VOLUME` or `PACKAGE`.
    #[serde(default)]
    pub pricing_model: Option<Value>,
    /// `[{upTo, unitPrice}]` of a `GRADUATED` or `VOLUME` product.
    #[serde(default)]
    pub tiers: Option<Value>,
    /// Units per package of a `PACKAGE` product.
    #[serde(default)]
    pub package_size: Option<Value>,
    /// Units per month and subscription that cost nothing (default 0).
    #[serde(default)]
    pub free_allowance: Option<Value>,
}

impl From<&Product> for ProductInput {
    /// The input that gives `product` again (its id kept).
    fn from(p: &Product) -> Self {
        let text = |q: qmarket_core::decimal::Quantity| Value::String(q.to_string());
        ProductInput {
            id: Some(p.id.clone()),
            name: p.name.clone(),
            unit_price: Some(Value::String(p.unit_price.to_string())),
            unit: p.unit.clone(),
            pricing_model: Some(Value::String(p.pricing_model.as_str().into())),
            tiers: p.pricing_model.is_tiered().then(|| {
                Value::Array(
                    p.tiers
                        .iter()
                        .map(|t| json!({"upTo": t.up_to.map(text), "unitPrice": t.unit_price.to_string()}))
                        .collect(),
                )
            }),
            package_size: p.package_size.map(text),
            free_allowance: Some(text(p.free_allowance)),
        }
    }
}

/// Checks a plan's name, type and products (`existing` are the plan's
/// current products when it is being changed) and gives the products their
/// ids. Every invalid field is reported at once.
pub(crate) fn check(
    v: &mut Violations,
    kind: PlanType,
    inputs: &[ProductInput],
    existing: &[Product],
) -> Result<Vec<Product>> {
    if inputs.len() > MAX_PRODUCTS {
        v.add(
            "products",
            format!(
                "has {} products; at most {MAX_PRODUCTS} are allowed",
                inputs.len()
            ),
        );
        return Ok(Vec::new());
    }
    if kind == PlanType::Commercial && inputs.is_empty() {
        v.add("products", "a COMMERCIAL plan needs at least one product");
    }
    let mut products = Vec::with_capacity(inputs.len());
    let mut seen_names: Vec<String> = Vec::new();
    let mut seen_ids: Vec<&str> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = |name: &str| format!("products[{i}].{name}");
        let name = v.text(&field("name"), &input.name, MAX_TEXT_CHARS);
        let folded = name.to_lowercase();
        if !name.is_empty() && seen_names.contains(&folded) {
            v.add(
                field("name"),
                format!("'{name}' appears more than once; product names are unique within a plan (ignoring case)"),
            );
        }
        seen_names.push(folded);
        let unit = v.text(&field("unit"), &input.unit, MAX_TEXT_CHARS);
        let CheckedPricing {
            model,
            unit_price,
            tiers,
            package_size,
            free_allowance,
        } = pricing_model_input::check(
            v,
            kind,
            i,
            &PricingFields {
                unit_price: input.unit_price.as_ref(),
                pricing_model: input.pricing_model.as_ref(),
                tiers: input.tiers.as_ref(),
                package_size: input.package_size.as_ref(),
                free_allowance: input.free_allowance.as_ref(),
            },
        );
        let id = match input.id.as_deref() {
            None => new_id(IdKind::Product)?,
            Some(id) if !existing.iter().any(|p| p.id == id) => {
                v.add(
                    field("id"),
                    "is not a product of this plan; leave it out for a new product",
                );
                String::new()
            }
            Some(id) if seen_ids.contains(&id) => {
                v.add(field("id"), "appears more than once");
                String::new()
            }
            Some(id) => {
                seen_ids.push(id);
                id.to_string()
            }
        };
        products.push(Product {
            id,
            name,
            unit_price,
            unit,
            pricing_model: model,
            tiers: if model.is_tiered() { tiers } else { Vec::new() },
            package_size: package_size.filter(|_| model == PricingModel::Package),
            free_allowance,
        });
    }
    Ok(products)
}

/// The most calls a limit may admit per window.
pub const MAX_LIMIT_REQUESTS: u64 = 1_000_000_000;

/// Checks a plan's limits: each admits 1 to [`MAX_LIMIT_REQUESTS`] calls
/// per window. An empty `limits` object means no limits.
pub(crate) fn check_limits(v: &mut Violations, limits: Option<PlanLimits>) -> Option<PlanLimits> {
    let limits = limits.filter(|l| !l.is_empty())?;
    let mut check = |field: &str, requests: u64| {
        if !(1..=MAX_LIMIT_REQUESTS).contains(&requests) {
            v.add(
                field,
                format!("must be a whole number from 1 to {MAX_LIMIT_REQUESTS}"),
            );
        }
    };
    if let Some(rate) = limits.rate_limit {
        check("limits.rateLimit.requests", rate.requests);
    }
    if let Some(quota) = limits.quota {
        check("limits.quota.requests", quota.requests);
    }
    Some(limits)
}
