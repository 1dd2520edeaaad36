//! Services offered by providers.

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;

/// Where a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// On the provider's own infrastructure, reached through the gateway.
    External,
    /// Code uploaded to and executed by the platform.
    Managed,
}

/// How far a service is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lifecycle {
    /// Not published.
    Created,
    /// Published internally: the owner's own applications may subscribe (test mode).
    Accessible,
    /// Listed in the marketplace.
    Published,
}

/// How the gateway authenticates to an external service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityType {
    /// No credentials.
    None,
    /// HTTP Basic with a username and password.
    Basic,
}

/// The stored security configuration; the password only ever sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityConfiguration {
    /// `NONE` or `BASIC`.
    #[serde(rename = "type")]
    pub kind: SecurityType,
    /// The Basic username.
    pub username: Option<String>,
    /// The Basic password, encrypted (never plaintext, never returned).
    pub sealed_password: Option<String>,
}

/// How a managed service is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Runtime {
    /// PlanQK's Python coding template.
    PythonTemplate,
    /// A custom container.
    Docker,
    /// A WebAssembly component.
    Wasm,
}

/// Resources granted to one execution of a managed service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// CPU in thousandths of a core.
    pub milli_cpus: u32,
    /// Memory in MiB.
    pub memory_in_megabytes: u32,
}

/// The configuration of a `MANAGED` service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedConfig {
    /// The runtime.
    pub runtime: Runtime,
    /// The resources.
    pub resources: Resources,
}

/// A provider's service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `svc_…`
    pub id: String,
    /// The provider's account.
    pub owner_id: String,
    /// Display name.
    pub name: String,
    /// `EXTERNAL` or `MANAGED`.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Free text shown in the marketplace.
    pub description: String,
    /// One of the ids of `GET /api/quantum-backends`.
    pub quantum_backend: String,
    /// The base URL of an external service.
    pub url: Option<String>,
    /// How the gateway authenticates upstream.
    pub security_configuration: SecurityConfiguration,
    /// Runtime and resources of a managed service.
    pub managed: Option<ManagedConfig>,
    /// Publication state.
    pub lifecycle: Lifecycle,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Sequence number in the owner's service index.
    pub index_seq: u64,
    /// Sequence number in the marketplace index while published.
    pub marketplace_seq: Option<u64>,
}
record!(Service, "service");

impl SecurityConfiguration {
    /// No upstream credentials.
    pub fn none() -> Self {
        SecurityConfiguration {
            kind: SecurityType::None,
            username: None,
            sealed_password: None,
        }
    }
}

impl Service {
    /// A service of `kind` owned by `owner`, created at `now`, with every
    /// other field empty: unpublished, no URL, no credentials, no index
    /// position yet. Callers fill in what they know with struct update syntax.
    pub fn draft(id: String, owner: &str, kind: ServiceType, now: Timestamp) -> Self {
        Service {
            id,
            owner_id: owner.to_string(),
            name: String::new(),
            kind,
            description: String::new(),
            quantum_backend: String::new(),
            url: None,
            security_configuration: SecurityConfiguration::none(),
            managed: None,
            lifecycle: Lifecycle::Created,
            created_at: now,
            updated_at: now,
            index_seq: 0,
            marketplace_seq: None,
        }
    }

    /// The key of the service's OpenAPI document.
    pub fn api_spec_key(id: &str) -> String {
        format!("service/{id}/api-spec")
    }

    /// The counter of the service's active subscriptions.
    pub fn subscription_count_key(id: &str) -> String {
        format!("service/{id}/subscriptions/count")
    }
}
