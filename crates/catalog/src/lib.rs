//! The service catalogue: providers' services, their API specifications,
//! the quantum backends they may name, the marketplace of published
//! services, and the pricing plans that say what subscribers pay.
//!
//! Every operation takes the store and, where it acts for someone, the
//! caller's account id: authentication happens before, in the component.
//! Something of another account is answered exactly like something that does
//! not exist (404).
//!
//! Listings never scan the store: each one walks a
//! [`qmarket_store::Index`] (an owner's services, a service's plans, the
//! marketplace) and loads the records it names, skipping entries whose record
//! is gone or no longer points back at that entry (left behind by a race).
//!
//! ```
//! use qmarket_catalog::{service, NewService};
//! use qmarket_core::Timestamp;
//! use qmarket_sealing::Sealer;
//! use qmarket_store::MemoryStore;
//!
//! let kv = MemoryStore::new();
//! let sealer = Sealer::from_key(&[7; 32]);
//! let input: NewService = serde_json::from_value(serde_json::json!({
//!     "name": "Quantum walk", "type": "EXTERNAL", "quantumBackend": "IBM",
//!     "url": "https://walk.example.org/api",
//!     "securityConfiguration": {"type": "BASIC", "username": "u", "password": "p"}
//! })).unwrap();
//! let created = service::create(&kv, &sealer, "acc_1", input, Timestamp::now()).unwrap();
//! assert_eq!(created.security_configuration.username.as_deref(), Some("u"));
//! assert_eq!(service::list(&kv, "acc_1", None, 10).unwrap().items.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod api_spec;
pub mod lifecycle;
mod listing;
pub mod marketplace;
mod nullable;
mod pricing_model_input;
pub mod pricing_plan;
mod pricing_plan_input;
pub mod quantum_backend;
pub mod service;
mod service_input;
mod service_url;
mod validation;
mod view;

pub use listing::Listing;
pub use pricing_model_input::{MAX_PRICE_INTEGER_DIGITS, MAX_QUANTITY_INTEGER_DIGITS, MAX_TIERS};
pub use pricing_plan_input::{NewPricingPlan, ProductInput, UpdatePricingPlan};
pub use service_input::{NewService, ResourcesInput, SecurityInput, UpdateService};
pub use view::{
    MarketplaceServiceView, PricingPlanView, ProductView, ResourcesView, SecurityView, ServiceView,
};
