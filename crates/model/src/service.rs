//! Services offered by providers.

use qmarket_core::{Error, Result, Timestamp};
use qmarket_store::{set_json, KeyValue};
use serde::{Deserialize, Serialize};

use crate::Record;

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lifecycle {
    /// Not published.
    #[default]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The longest an execution may run, in seconds.
    #[serde(default = "Resources::default_timeout")]
    pub timeout_seconds: u32,
}

impl Resources {
    /// The timeout of a service that names none (one hour).
    pub const fn default_timeout() -> u32 {
        3600
    }
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
///
/// Fields that change independently live under keys of their own, so that
/// no writer's read-modify-write of one can undo another's change: the
/// record at `service/{id}` holds what `PATCH` edits; the publication state
/// (`lifecycle`, `marketplace_seq`) is a [`ServiceState`] at
/// `service/{id}/lifecycle`, written only by the publication transitions;
/// the API specification is kept at `service/{id}/api-spec`, with the time
/// it last changed at `service/{id}/api-spec/updated`. [`Record::load`]
/// reads all three in one round trip; [`Record::save`] writes the edited
/// record only.
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
    /// Publication state (kept in the [`ServiceState`]).
    #[serde(skip)]
    pub lifecycle: Lifecycle,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its edited fields last changed.
    pub updated_at: Timestamp,
    /// Sequence number in the owner's service index.
    pub index_seq: u64,
    /// Sequence number in the marketplace index while published (kept in
    /// the [`ServiceState`]).
    #[serde(skip)]
    pub marketplace_seq: Option<u64>,
    /// When the publication state or the API specification last changed.
    #[serde(skip)]
    pub other_changes_at: Option<Timestamp>,
}

/// The publication state of a service, under a key of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    /// How far it is published.
    pub lifecycle: Lifecycle,
    /// Its position in the marketplace index while published.
    pub marketplace_seq: Option<u64>,
    /// When this changed.
    pub changed_at: Option<Timestamp>,
}

impl Record for Service {
    const PREFIX: &'static str = "service";

    fn id(&self) -> &str {
        &self.id
    }

    fn load(kv: &dyn KeyValue, id: &str) -> Result<Option<Self>> {
        let keys = [
            Self::key(id),
            Self::state_key(id),
            Self::api_spec_updated_key(id),
        ];
        let mut values = kv.get_many(&keys)?.into_iter();
        let (Some(Some(record)), state, spec_updated) = (
            values.next(),
            values.next().flatten(),
            values.next().flatten(),
        ) else {
            return Ok(None);
        };
        let unreadable =
            |e: serde_json::Error| Error::Internal(format!("service {id} is unreadable: {e}"));
        let mut service: Service = serde_json::from_slice(&record).map_err(unreadable)?;
        let state: ServiceState = match state {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(unreadable)?,
            None => ServiceState::default(),
        };
        let spec_updated: Option<Timestamp> = match spec_updated {
            Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(unreadable)?),
            None => None,
        };
        service.lifecycle = state.lifecycle;
        service.marketplace_seq = state.marketplace_seq;
        service.other_changes_at = state.changed_at.max(spec_updated);
        Ok(Some(service))
    }
}

impl Service {
    /// The key of service `id`'s [`ServiceState`].
    pub fn state_key(id: &str) -> String {
        format!("service/{id}/lifecycle")
    }

    /// The key of the time service `id`'s API specification last changed.
    pub fn api_spec_updated_key(id: &str) -> String {
        format!("service/{id}/api-spec/updated")
    }

    /// The publication state as loaded.
    pub fn state(&self) -> ServiceState {
        ServiceState {
            lifecycle: self.lifecycle,
            marketplace_seq: self.marketplace_seq,
            changed_at: self.other_changes_at,
        }
    }

    /// Writes the record and its publication state in one step: for a
    /// service being created (and for tests that seed one).
    pub fn save_with_state(&self, kv: &dyn KeyValue) -> Result<()> {
        let encode =
            |e: serde_json::Error| Error::Internal(format!("cannot encode a service: {e}"));
        kv.set_many(&[
            (
                Self::key(&self.id),
                serde_json::to_vec(self).map_err(encode)?,
            ),
            (
                Self::state_key(&self.id),
                serde_json::to_vec(&self.state()).map_err(encode)?,
            ),
        ])?;
        Ok(())
    }

    /// Writes the publication state of service `id` (the record untouched).
    pub fn save_state(kv: &dyn KeyValue, id: &str, state: &ServiceState) -> Result<()> {
        set_json(kv, &Self::state_key(id), state)
    }

    /// When anything about the service last changed.
    pub fn changed_at(&self) -> Timestamp {
        self.other_changes_at
            .map_or(self.updated_at, |t| t.max(self.updated_at))
    }
}

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
            other_changes_at: None,
        }
    }

    /// The key of the service's OpenAPI document.
    pub fn api_spec_key(id: &str) -> String {
        format!("service/{id}/api-spec")
    }

    /// The announcements of deletions of service `id` (see
    /// `qmarket_store::Announcements`): a subscriber checks them after
    /// counting itself in.
    pub fn deleting_key(id: &str) -> String {
        format!("service/{id}/deleting")
    }

    /// The counter of the service's active subscriptions.
    pub fn subscription_count_key(id: &str) -> String {
        format!("service/{id}/subscriptions/count")
    }
}
