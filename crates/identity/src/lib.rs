//! Identity: who may call the platform, and as whom.
//!
//! - Accounts and their personal access tokens ([`account`], [`access_token`]):
//!   sign-up returns a first token with scope `API`; token values are shown
//!   once and stored only as SHA-256 hashes.
//! - Consumer applications ([`application`]) and their subscriptions to
//!   services ([`subscription`]).
//! - The OAuth2 client-credentials grant ([`oauth`]) that gives applications
//!   bearer tokens for the gateway.
//! - [`authenticate_account`], [`authenticate_api`] and
//!   [`authenticate_application`]: the checks every component runs on its
//!   callers.
//!
//! ```
//! use qmarket_core::Timestamp;
//! use qmarket_http::{Method, Request};
//! use qmarket_identity::{account, authenticate_api};
//! use qmarket_store::MemoryStore;
//!
//! let kv = MemoryStore::new();
//! let now = Timestamp::now();
//! let input = account::NewAccount { name: "Ada".into(), email: "ada@example.org".into() };
//! let created = account::sign_up(&kv, input, now).unwrap();
//! let req = Request::new(Method::Get, "/api/me")
//!     .with_header("X-Auth-Token", created.access_token.value.expose());
//! assert_eq!(authenticate_api(&req, &kv, now).unwrap().account_id, created.id);
//! ```
#![deny(missing_docs)]

pub mod access_token;
pub mod account;
pub mod application;
mod authentication;
pub mod client_credentials;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod limits;
mod listing;
pub mod oauth;
pub mod subscription;
pub mod validate;

pub use authentication::{
    account_for_token_value, application_claims, application_principal, authenticate_account,
    authenticate_api, authenticate_application, AccountPrincipal, ApplicationPrincipal,
};
pub use listing::Listed;
