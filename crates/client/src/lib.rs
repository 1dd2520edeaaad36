//! A typed client of the qmarket platform's HTTP API (`docs/API.md`), and
//! the profiles a command line connects with.
//!
//! [`Client`] speaks the platform API with a personal access token:
//! accounts and tokens, services and their API specifications, pricing
//! plans, the marketplace, applications and subscriptions, metering events
//! and usage bills, managed services' uploads and builds. [`Gateway`]
//! speaks to services through the gateway with an application's OAuth2
//! access token (from [`Client::issue_token`]): plain calls and PlanQK's
//! execution API of managed services.
//!
//! Every failure is an [`Error`]: the platform's refusal carries its RFC 9457
//! [`Problem`] (its `detail` is what to show a person), a transport failure
//! says what could not be reached. Ids, decimals and timestamps are kept as
//! the strings the platform sent: they are opaque here.
//!
//! Records keep every field the platform sent, also those this crate does
//! not name (in `other`), so printing one as JSON shows the whole answer.
//!
//! ```no_run
//! use qmarket_client::{Client, NewService, PageRequest};
//! use qmarket_core::secret::Secret;
//!
//! # fn main() -> Result<(), qmarket_client::Error> {
//! let client = Client::new("http://127.0.0.1:3000", Some(Secret::new("pat-value")))?;
//! let service = client.create_service(&NewService::external(
//!     "Quantum walk",
//!     "https://walk.example.org",
//!     "SIMULATOR",
//! ))?;
//! let page = client.services(&PageRequest::first(50))?;
//! println!("{} created; {} services", service.id, page.items.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod account;
mod application;
mod billing;
mod client;
mod error;
mod gateway;
mod managed;
mod metering;
mod page;
mod pricing_plan;
pub mod profile;
mod service;

pub use account::{AccessToken, Account, CreatedAccessToken, NewAccessToken};
pub use application::{Application, CreatedApplication, Subscription};
pub use billing::{Call, CallEvent, Invoice, Revenue, RevenueLine, SpendCap};
pub use client::Client;
pub use error::{Error, FieldError, Problem};
pub use gateway::{ClientCredentials, Gateway, GatewayReply, TokenAnswer, CORRELATION_HEADER};
pub use managed::{Build, Execution, LogEntry, ValidationResult};
pub use metering::{EventFilter, MeteringEvent, Usage, UsageLine, Window};
pub use page::{collect, Listing, Page, PageRequest, MAX_PAGE};
pub use pricing_plan::{Limit, NewPricingPlan, NewProduct, PlanLimits, PricingPlan, Product, Tier};
pub use service::{
    MarketplaceFilter, MarketplaceService, NewService, Resources, SecurityConfiguration, Service,
    ServiceFields, ServicePatch, ServiceType,
};

/// Fields of a record this crate does not name, kept as the platform sent them.
pub type Other = serde_json::Map<String, serde_json::Value>;
