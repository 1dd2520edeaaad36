//! Pricing plans and their products.

use serde::{Deserialize, Serialize};

use crate::client::escape;
use crate::{Client, Error, Other, Page, PageRequest};

/// A pricing plan of a service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingPlan {
    /// `plan_…`
    pub id: String,
    /// The service it prices.
    #[serde(default)]
    pub service_id: String,
    /// Its name.
    pub name: String,
    /// `FREE` or `COMMERCIAL`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `EUR`.
    #[serde(default)]
    pub currency: String,
    /// What it charges for.
    #[serde(default)]
    pub products: Vec<Product>,
    /// The rate limit and quota of each subscription's gateway calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<PlanLimits>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A plan's limits per subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanLimits {
    /// Calls per second, minute or hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Limit>,
    /// Calls per UTC day or calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Limit>,
}

/// `requests` per `per` (`SECOND`, `MINUTE`, `HOUR`, `DAY` or `MONTH`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limit {
    /// How many calls.
    pub requests: u64,
    /// In which window.
    pub per: String,
}

/// A tier of a `GRADUATED` or `VOLUME` product.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// The tier's last unit (inclusive); `None` for the unbounded last tier.
    pub up_to: Option<String>,
    /// EUR per unit in the tier.
    pub unit_price: String,
}

/// A product of a plan: what a unit of it costs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `prod_…`: what a service reports usage of.
    pub id: String,
    /// Its name (`API`).
    pub name: String,
    /// EUR per unit, a decimal string (`0.00001`): per package for
    /// `PACKAGE`, the first tier's price for `GRADUATED` and `VOLUME`.
    pub unit_price: String,
    /// The unit (`call`).
    pub unit: String,
    /// `PER_UNIT`, `GRADUATED`, `VOLUME` or `PACKAGE` (`PER_UNIT` when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    /// The tiers of a `GRADUATED` or `VOLUME` product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// Units per package of a `PACKAGE` product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_size: Option<String>,
    /// Units per month and subscription that cost nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_allowance: Option<String>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A plan to create.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPricingPlan {
    /// Its name.
    pub name: String,
    /// `FREE` or `COMMERCIAL` (the platform's default when absent).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its products.
    pub products: Vec<NewProduct>,
}

/// A product to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewProduct {
    /// Its name.
    pub name: String,
    /// EUR per unit, a decimal string.
    pub unit_price: String,
    /// The unit.
    pub unit: String,
}

fn plans_path(service: &str) -> String {
    format!("/api/services/{}/pricing-plans", escape(service))
}

fn plan_path(service: &str, plan: &str) -> String {
    format!("{}/{}", plans_path(service), escape(plan))
}

impl Client {
    /// `GET /api/services/{id}/pricing-plans`.
    pub fn pricing_plans(
        &self,
        service: &str,
        page: &PageRequest,
    ) -> Result<Page<PricingPlan>, Error> {
        self.get(&plans_path(service), &page.query())
    }

    /// `GET /api/services/{id}/pricing-plans/{planId}`.
    pub fn pricing_plan(&self, service: &str, plan: &str) -> Result<PricingPlan, Error> {
        self.get(&plan_path(service, plan), &[])
    }

    /// `POST /api/services/{id}/pricing-plans` with `plan` (a
    /// [`NewPricingPlan`], or a plan document read from a file).
    pub fn create_pricing_plan(
        &self,
        service: &str,
        plan: &impl Serialize,
    ) -> Result<PricingPlan, Error> {
        self.send("POST", &plans_path(service), plan)
    }

    /// `PATCH /api/services/{id}/pricing-plans/{planId}` with `change` (any
    /// of `name`, `type`, `products`, `limits`).
    pub fn update_pricing_plan(
        &self,
        service: &str,
        plan: &str,
        change: &impl Serialize,
    ) -> Result<PricingPlan, Error> {
        self.send("PATCH", &plan_path(service, plan), change)
    }

    /// `DELETE /api/services/{id}/pricing-plans/{planId}`.
    pub fn delete_pricing_plan(&self, service: &str, plan: &str) -> Result<(), Error> {
        self.delete(&plan_path(service, plan))
    }
}
