//! What clients are shown: response shapes built from the stored records,
//! without sealed secrets or bookkeeping fields.

use qmarket_core::decimal::{Price, Quantity};
use qmarket_core::Timestamp;
use qmarket_model::{
    Lifecycle, PlanLimits, PlanType, PricingModel, PricingPlan, Product, Runtime, SecurityType,
    Service, ServiceType, Tier,
};
use serde::Serialize;

/// A service as its owner sees it; never the password.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// `svc_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `EXTERNAL` or `MANAGED`.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Free text.
    pub description: String,
    /// A quantum backend id.
    pub quantum_backend: String,
    /// The upstream base URL (`EXTERNAL`), else `null`.
    pub url: Option<String>,
    /// `{type, username}`.
    pub security_configuration: SecurityView,
    /// `PYTHON_TEMPLATE`, `DOCKER` or `WASM` (`MANAGED` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    /// Resources per execution (`MANAGED` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesView>,
    /// `CREATED`, `ACCESSIBLE` or `PUBLISHED`.
    pub lifecycle: Lifecycle,
    /// The provider's account.
    pub owner_id: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The security configuration without the password.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityView {
    /// `NONE` or `BASIC`.
    #[serde(rename = "type")]
    pub kind: SecurityType,
    /// The Basic username, `null` for `NONE`.
    pub username: Option<String>,
}

/// Resources of a managed service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesView {
    /// Thousandths of a CPU core.
    pub milli_cpus: u32,
    /// MiB of memory.
    pub memory_in_megabytes: u32,
    /// The longest an execution may run, in seconds.
    pub timeout_seconds: u32,
}

impl From<&Service> for ServiceView {
    fn from(s: &Service) -> Self {
        ServiceView {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind,
            description: s.description.clone(),
            quantum_backend: s.quantum_backend.clone(),
            url: s.url.clone(),
            security_configuration: SecurityView {
                kind: s.security_configuration.kind,
                username: s.security_configuration.username.clone(),
            },
            runtime: s.managed.as_ref().map(|m| m.runtime),
            resources: s.managed.as_ref().map(|m| ResourcesView {
                milli_cpus: m.resources.milli_cpus,
                memory_in_megabytes: m.resources.memory_in_megabytes,
                timeout_seconds: m.resources.timeout_seconds,
            }),
            lifecycle: s.lifecycle,
            owner_id: s.owner_id.clone(),
            created_at: s.created_at,
            updated_at: s.changed_at(),
        }
    }
}

/// A pricing plan as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingPlanView {
    /// `plan_…`
    pub id: String,
    /// The service it prices.
    pub service_id: String,
    /// Display name.
    pub name: String,
    /// `FREE` or `COMMERCIAL`.
    #[serde(rename = "type")]
    pub kind: PlanType,
    /// Always `EUR`.
    pub currency: String,
    /// What it charges for.
    pub products: Vec<ProductView>,
    /// The rate limit and quota of each subscription's gateway calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<PlanLimits>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A product of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    /// `prod_…`: what the provider reports usage against.
    pub id: String,
    /// Unique within the plan.
    pub name: String,
    /// EUR per unit (per package for `PACKAGE`, the first tier's price
    /// for `GRADUATED` and `VOLUME`), as a decimal string.
    pub unit_price: Price,
    /// The unit, e.g. `call`.
    pub unit: String,
    /// `PER_UNIT`, `GRADUATED`, `VOLUME` or `PACKAGE`.
    pub pricing_model: PricingModel,
    /// `[{upTo, unitPrice}]` (`GRADUATED` and `VOLUME` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// Units per package (`PACKAGE` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_size: Option<Quantity>,
    /// Units per calendar month and subscription that cost nothing.
    pub free_allowance: Quantity,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            id: p.id.clone(),
            name: p.name.clone(),
            unit_price: p.unit_price,
            unit: p.unit.clone(),
            pricing_model: p.pricing_model,
            tiers: p.tiers.clone(),
            package_size: p.package_size,
            free_allowance: p.free_allowance,
        }
    }
}

impl From<&PricingPlan> for PricingPlanView {
    fn from(p: &PricingPlan) -> Self {
        PricingPlanView {
            id: p.id.clone(),
            service_id: p.service_id.clone(),
            name: p.name.clone(),
            kind: p.kind,
            currency: p.currency.clone(),
            products: p.products.iter().map(ProductView::from).collect(),
            limits: p.limits,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A published service as everyone sees it in the marketplace: no URL, no
/// security configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceServiceView {
    /// `svc_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `EXTERNAL` or `MANAGED`.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Free text.
    pub description: String,
    /// A quantum backend id.
    pub quantum_backend: String,
    /// Always `PUBLISHED`.
    pub lifecycle: Lifecycle,
    /// The provider's account.
    pub owner_id: String,
    /// The plans a consumer may subscribe with.
    pub pricing_plans: Vec<PricingPlanView>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl MarketplaceServiceView {
    /// The marketplace entry of `service` with its `plans`.
    pub fn new(service: &Service, plans: Vec<PricingPlanView>) -> Self {
        MarketplaceServiceView {
            id: service.id.clone(),
            name: service.name.clone(),
            kind: service.kind,
            description: service.description.clone(),
            quantum_backend: service.quantum_backend.clone(),
            lifecycle: service.lifecycle,
            owner_id: service.owner_id.clone(),
            pricing_plans: plans,
            created_at: service.created_at,
            updated_at: service.changed_at(),
        }
    }
}
