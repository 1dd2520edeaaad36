//! What a provider may send to create or change a service, and how it is
//! checked and merged into the stored record.

use qmarket_core::Result;
use qmarket_model::{
    ManagedConfig, Resources, Runtime, SecurityConfiguration, SecurityType, Service, ServiceType,
};
use qmarket_sealing::Sealer;
use serde::Deserialize;
use serde_json::Value;

use crate::validation::Violations;
use crate::{api_spec, quantum_backend, service_url};

/// The longest name.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// The longest Basic username or password.
pub const MAX_CREDENTIAL_CHARS: usize = 200;
/// CPU bounds of a managed service, in thousandths of a core.
pub const MILLI_CPUS: std::ops::RangeInclusive<u32> = 100..=16_000;
/// Memory bounds of a managed service, in MiB.
pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 128..=32_768;
/// Timeout bounds of a managed service's executions, in seconds.
pub const TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 1..=86_400;
/// Resources of a managed service that names none.
pub const DEFAULT_RESOURCES: Resources = Resources {
    milli_cpus: 1_000,
    memory_in_megabytes: 2_048,
    timeout_seconds: Resources::default_timeout(),
};

/// The body of `POST /api/services`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewService {
    /// 1–100 characters.
    pub name: String,
    /// `EXTERNAL` or `MANAGED`.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Up to 10 000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// One of the quantum backend ids.
    pub quantum_backend: String,
    /// Required for `EXTERNAL`: an absolute http(s) URL.
    #[serde(default)]
    pub url: Option<String>,
    /// `NONE` (default) or `BASIC` with username and password.
    #[serde(default)]
    pub security_configuration: Option<SecurityInput>,
    /// An OpenAPI 3 document: a JSON object, or YAML/JSON text.
    #[serde(default)]
    pub api_specification: Option<Value>,
    /// `MANAGED` only; default `PYTHON_TEMPLATE`.
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// `MANAGED` only; defaults fill what is missing.
    #[serde(default)]
    pub resources: Option<ResourcesInput>,
}

/// The body of `PATCH /api/services/{id}`: any creatable field; absent
/// fields keep their value, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateService {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New type.
    #[serde(default, rename = "type")]
    pub kind: Option<ServiceType>,
    /// New description (`null` empties it).
    #[serde(default, deserialize_with = "crate::nullable::deserialize")]
    pub description: Option<Option<String>>,
    /// New quantum backend.
    #[serde(default)]
    pub quantum_backend: Option<String>,
    /// New URL (`null` removes it, allowed for `MANAGED` only).
    #[serde(default, deserialize_with = "crate::nullable::deserialize")]
    pub url: Option<Option<String>>,
    /// New security configuration; `BASIC` without a password keeps the
    /// stored one.
    #[serde(default)]
    pub security_configuration: Option<SecurityInput>,
    /// New API specification (`null` returns to the default one).
    #[serde(default, deserialize_with = "crate::nullable::deserialize")]
    pub api_specification: Option<Option<Value>>,
    /// New runtime (`MANAGED`).
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// New resources (`MANAGED`); missing members keep their value.
    #[serde(default)]
    pub resources: Option<ResourcesInput>,
}

/// How the gateway authenticates upstream, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityInput {
    /// `NONE` or `BASIC`.
    #[serde(rename = "type")]
    pub kind: SecurityType,
    /// Required for `BASIC`.
    #[serde(default)]
    pub username: Option<String>,
    /// Required for `BASIC` unless one is stored already.
    #[serde(default)]
    pub password: Option<String>,
}

/// Resources of a managed service, as sent.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourcesInput {
    /// Thousandths of a CPU core (100–16 000).
    #[serde(default)]
    pub milli_cpus: Option<u32>,
    /// MiB of memory (128–32 768).
    #[serde(default)]
    pub memory_in_megabytes: Option<u32>,
    /// The longest an execution may run, in seconds (1–86 400).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

impl From<NewService> for UpdateService {
    fn from(n: NewService) -> Self {
        UpdateService {
            name: Some(n.name),
            kind: Some(n.kind),
            description: Some(n.description),
            quantum_backend: Some(n.quantum_backend),
            url: n.url.map(Some),
            security_configuration: n.security_configuration,
            api_specification: n.api_specification.map(Some),
            runtime: n.runtime,
            resources: n.resources,
        }
    }
}

/// What happens to the stored API specification.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SpecChange {
    /// Leave it.
    Keep,
    /// Replace it with this validated document.
    Set(Value),
    /// Remove it (the default one is served).
    Remove,
}

/// Checks `patch` against `service` (a fresh one when creating), applies it,
/// and seals a new password. Every invalid field is reported at once (400);
/// then an API specification that is not OpenAPI 3 is a 422.
pub(crate) fn apply(
    service: &mut Service,
    patch: UpdateService,
    sealer: &Sealer,
) -> Result<SpecChange> {
    let mut v = Violations::default();
    if let Some(name) = &patch.name {
        service.name = v.text("name", name, MAX_NAME_CHARS);
    }
    if let Some(description) = &patch.description {
        let text = description.as_deref().unwrap_or("").trim();
        let count = text.chars().count();
        if count > MAX_DESCRIPTION_CHARS {
            v.add(
                "description",
                format!("has {count} characters; at most {MAX_DESCRIPTION_CHARS} are allowed"),
            );
        }
        service.description = text.to_string();
    }
    if let Some(backend) = &patch.quantum_backend {
        if quantum_backend::is_known(backend) {
            service.quantum_backend = backend.clone();
        } else {
            v.add("quantumBackend", quantum_backend::expected());
        }
    }
    if let Some(kind) = patch.kind {
        service.kind = kind;
    }
    apply_url(service, &patch, &mut v);
    let new_password = apply_security(service, &patch, &mut v);
    apply_managed(service, &patch, &mut v);
    let spec = match patch.api_specification {
        None => SpecChange::Keep,
        Some(None) => SpecChange::Remove,
        Some(Some(value)) => match api_spec::parse_value(&value) {
            Ok(doc) => SpecChange::Set(doc),
            Err(e @ qmarket_core::Error::BadRequest { .. }) => {
                v.add("apiSpecification", e.to_string());
                SpecChange::Keep
            }
            Err(e) => {
                v.finish()?;
                return Err(e);
            }
        },
    };
    v.finish()?;
    if let Some(password) = new_password {
        service.security_configuration.sealed_password = Some(sealer.seal(&password)?);
    }
    Ok(spec)
}

fn apply_url(service: &mut Service, patch: &UpdateService, v: &mut Violations) {
    match service.kind {
        ServiceType::External => {
            match &patch.url {
                Some(Some(url)) => match service_url::check(url) {
                    Ok(()) => service.url = Some(url.clone()),
                    Err(why) => v.add("url", why),
                },
                Some(None) => service.url = None,
                None => {}
            }
            if service.url.is_none() && !matches!(&patch.url, Some(Some(_))) {
                v.add("url", "is required for an EXTERNAL service");
            }
        }
        ServiceType::Managed => {
            if let Some(Some(_)) = &patch.url {
                v.add(
                    "url",
                    "is accepted for EXTERNAL services only; the platform runs MANAGED ones itself",
                );
            }
            service.url = None;
        }
    }
}

/// Applies the security configuration; returns a password to seal.
fn apply_security(
    service: &mut Service,
    patch: &UpdateService,
    v: &mut Violations,
) -> Option<String> {
    let Some(input) = &patch.security_configuration else {
        if service.kind == ServiceType::Managed {
            // A service turned MANAGED has no upstream to authenticate to.
            service.security_configuration = SecurityConfiguration::none();
        }
        return None;
    };
    match input.kind {
        SecurityType::None => {
            if input.username.is_some() || input.password.is_some() {
                v.add(
                    "securityConfiguration",
                    "username and password are accepted with type BASIC only",
                );
            }
            service.security_configuration = SecurityConfiguration::none();
            None
        }
        SecurityType::Basic => {
            if service.kind == ServiceType::Managed {
                v.add(
                    "securityConfiguration.type",
                    "BASIC is for EXTERNAL services only; a MANAGED service has no upstream",
                );
                return None;
            }
            let username = match input.username.as_deref() {
                None => {
                    v.add("securityConfiguration.username", "is required for BASIC");
                    None
                }
                Some(name) => {
                    let name = credential(v, "securityConfiguration.username", name);
                    if name.contains(':') {
                        v.add(
                            "securityConfiguration.username",
                            "must not contain ':' (HTTP Basic separates it from the password with one)",
                        );
                    }
                    Some(name)
                }
            };
            let had_password = service.security_configuration.kind == SecurityType::Basic
                && service.security_configuration.sealed_password.is_some();
            let password = match input.password.as_deref() {
                Some(pw) => Some(credential(v, "securityConfiguration.password", pw)),
                None if had_password => None,
                None => {
                    v.add("securityConfiguration.password", "is required for BASIC");
                    None
                }
            };
            service.security_configuration.kind = SecurityType::Basic;
            service.security_configuration.username = username;
            password
        }
    }
}

/// A username or password: 1–200 characters, kept exactly as given.
fn credential(v: &mut Violations, field: &str, text: &str) -> String {
    let count = text.chars().count();
    if count == 0 {
        v.add(field, "must not be empty");
    } else if count > MAX_CREDENTIAL_CHARS {
        v.add(
            field,
            format!("has {count} characters; at most {MAX_CREDENTIAL_CHARS} are allowed"),
        );
    } else if text.chars().any(char::is_control) {
        v.add(field, "must not contain control characters");
    }
    text.to_string()
}

fn apply_managed(service: &mut Service, patch: &UpdateService, v: &mut Violations) {
    match service.kind {
        ServiceType::External => {
            if patch.runtime.is_some() {
                v.add("runtime", "is accepted for MANAGED services only");
            }
            if patch.resources.is_some() {
                v.add("resources", "is accepted for MANAGED services only");
            }
            service.managed = None;
        }
        ServiceType::Managed => {
            let mut config = service.managed.clone().unwrap_or(ManagedConfig {
                runtime: Runtime::PythonTemplate,
                resources: DEFAULT_RESOURCES,
            });
            if let Some(runtime) = patch.runtime {
                config.runtime = runtime;
            }
            if let Some(r) = patch.resources {
                if let Some(cpus) = r.milli_cpus {
                    if MILLI_CPUS.contains(&cpus) {
                        config.resources.milli_cpus = cpus;
                    } else {
                        v.add(
                            "resources.milliCpus",
                            format!(
                                "must be from {} to {}",
                                MILLI_CPUS.start(),
                                MILLI_CPUS.end()
                            ),
                        );
                    }
                }
                if let Some(mb) = r.memory_in_megabytes {
                    if MEMORY_MB.contains(&mb) {
                        config.resources.memory_in_megabytes = mb;
                    } else {
                        v.add(
                            "resources.memoryInMegabytes",
                            format!("must be from {} to {}", MEMORY_MB.start(), MEMORY_MB.end()),
                        );
                    }
                }
                if let Some(seconds) = r.timeout_seconds {
                    if TIMEOUT_SECONDS.contains(&seconds) {
                        config.resources.timeout_seconds = seconds;
                    } else {
                        v.add(
                            "resources.timeoutSeconds",
                            format!(
                                "must be from {} to {}",
                                TIMEOUT_SECONDS.start(),
                                TIMEOUT_SECONDS.end()
                            ),
                        );
                    }
                }
            }
            service.managed = Some(config);
        }
    }
}
