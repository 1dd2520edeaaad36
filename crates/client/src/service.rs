//! Services (the provider's side), their API specifications, and the
//! marketplace.

use qmarket_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{escape, Body};
use crate::pricing_plan::PricingPlan;
use crate::{Client, Error, Other, Page, PageRequest};

/// Where a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// On the provider's own servers, reached through the gateway.
    External,
    /// Code uploaded to the platform and run by its workers.
    Managed,
}

/// What one execution of a managed service may use (every field optional
/// on input; the platform fills in its defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Thousandths of a CPU core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milli_cpus: Option<u32>,
    /// Memory in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_in_megabytes: Option<u32>,
    /// The longest one execution may run, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
}

impl Resources {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }
}

/// How the gateway authenticates at an external service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityConfiguration {
    /// `NONE` or `BASIC`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The Basic user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The Basic password: sent, never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

impl SecurityConfiguration {
    /// HTTP Basic with `username` and `password`.
    pub fn basic(username: &str, password: Secret) -> Self {
        SecurityConfiguration {
            kind: "BASIC".into(),
            username: Some(username.to_string()),
            password: Some(password),
        }
    }
}

/// A service as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `svc_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// `EXTERNAL` or `MANAGED`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// The quantum backend it uses.
    #[serde(default)]
    pub quantum_backend: String,
    /// Where an external service runs (none in the marketplace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `CREATED`, `ACCESSIBLE` or `PUBLISHED`.
    pub lifecycle: String,
    /// A managed service's runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// A managed service's resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// What a service is created with or changed to, besides its name and
/// type: only the fields set are sent.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceFields {
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A quantum backend id (`GET /api/quantum-backends`); a new service
    /// needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantum_backend: Option<String>,
    /// Where an external service runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// How the gateway authenticates at an external service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_configuration: Option<SecurityConfiguration>,
    /// Its OpenAPI document (a JSON object, or YAML text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_specification: Option<Value>,
    /// A managed service's runtime (`PYTHON_TEMPLATE`, `WASM`, `DOCKER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// A managed service's resources (the fields set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// A service to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewService {
    /// Its name.
    pub name: String,
    /// External or managed.
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Everything else it is created with.
    #[serde(flatten)]
    pub fields: ServiceFields,
}

impl NewService {
    /// An external service `name` at `url` on `quantum_backend`.
    pub fn external(name: &str, url: &str, quantum_backend: &str) -> NewService {
        NewService {
            name: name.to_string(),
            kind: ServiceType::External,
            fields: ServiceFields {
                quantum_backend: Some(quantum_backend.to_string()),
                url: Some(url.to_string()),
                ..ServiceFields::default()
            },
        }
    }

    /// A managed service `name` of `runtime` on `quantum_backend`.
    pub fn managed(name: &str, runtime: &str, quantum_backend: &str) -> NewService {
        NewService {
            name: name.to_string(),
            kind: ServiceType::Managed,
            fields: ServiceFields {
                quantum_backend: Some(quantum_backend.to_string()),
                runtime: Some(runtime.to_string()),
                ..ServiceFields::default()
            },
        }
    }
}

/// A change of a service: only the fields set are changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServicePatch {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The other fields to change.
    #[serde(flatten)]
    pub fields: ServiceFields,
}

/// A published service as every account sees it in the marketplace: no
/// URL, no security configuration, with its pricing plans.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceService {
    /// The service.
    #[serde(flatten)]
    pub service: Service,
    /// Its pricing plans.
    #[serde(default)]
    pub pricing_plans: Vec<PricingPlan>,
}

/// Which marketplace entries to list.
#[derive(Debug, Clone, Default)]
pub struct MarketplaceFilter {
    /// Only services whose name or description contains this text.
    pub text: Option<String>,
    /// Only services on this quantum backend.
    pub quantum_backend: Option<String>,
}

fn service_path(id: &str) -> String {
    format!("/api/services/{}", escape(id))
}

impl Client {
    /// `GET /api/services`: a page of the caller's services.
    pub fn services(&self, page: &PageRequest) -> Result<Page<Service>, Error> {
        self.get("/api/services", &page.query())
    }

    /// `GET /api/services/{id}`.
    pub fn service(&self, id: &str) -> Result<Service, Error> {
        self.get(&service_path(id), &[])
    }

    /// `POST /api/services`.
    pub fn create_service(&self, service: &NewService) -> Result<Service, Error> {
        self.send("POST", "/api/services", service)
    }

    /// `PATCH /api/services/{id}`.
    pub fn update_service(&self, id: &str, patch: &ServicePatch) -> Result<Service, Error> {
        self.send("PATCH", &service_path(id), patch)
    }

    /// `DELETE /api/services/{id}`.
    pub fn delete_service(&self, id: &str) -> Result<(), Error> {
        self.delete(&service_path(id))
    }

    /// `POST /api/services/{id}/publish-internal`: `ACCESSIBLE`, test mode.
    pub fn publish_internal(&self, id: &str) -> Result<Service, Error> {
        self.post_empty(&format!("{}/publish-internal", service_path(id)))
    }

    /// `POST /api/services/{id}/publish`: `PUBLISHED`, in the marketplace.
    pub fn publish(&self, id: &str) -> Result<Service, Error> {
        self.post_empty(&format!("{}/publish", service_path(id)))
    }

    /// `POST /api/services/{id}/unpublish`: back to `CREATED`.
    pub fn unpublish(&self, id: &str) -> Result<Service, Error> {
        self.post_empty(&format!("{}/unpublish", service_path(id)))
    }

    /// `GET /api/services/{id}/api-spec`: the OpenAPI document.
    pub fn api_spec(&self, id: &str) -> Result<Value, Error> {
        self.get(&format!("{}/api-spec", service_path(id)), &[])
    }

    /// `PUT /api/services/{id}/api-spec` with `document`, JSON or YAML
    /// (`yaml`); answers the stored document.
    pub fn put_api_spec(&self, id: &str, document: Vec<u8>, yaml: bool) -> Result<Value, Error> {
        let body = Body {
            content_type: if yaml {
                "application/yaml"
            } else {
                "application/json"
            },
            bytes: document,
        };
        self.platform(
            "PUT",
            &format!("{}/api-spec", service_path(id)),
            &[],
            Some(body),
        )?
        .json()
    }

    /// `GET /api/marketplace/services`: a page of published services.
    pub fn marketplace(
        &self,
        filter: &MarketplaceFilter,
        page: &PageRequest,
    ) -> Result<Page<MarketplaceService>, Error> {
        let [limit, cursor] = page.query();
        self.get(
            "/api/marketplace/services",
            &[
                ("q", filter.text.clone()),
                ("quantumBackend", filter.quantum_backend.clone()),
                limit,
                cursor,
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_service_sends_only_what_is_set() {
        let external = NewService::external("Walk", "https://walk.example.org", "SIMULATOR");
        assert_eq!(
            serde_json::to_value(&external).unwrap(),
            serde_json::json!({"name": "Walk", "type": "EXTERNAL", "quantumBackend": "SIMULATOR",
                               "url": "https://walk.example.org"})
        );
        let managed = NewService::managed("Sum", "PYTHON_TEMPLATE", "NONE");
        assert_eq!(
            serde_json::to_value(&managed).unwrap(),
            serde_json::json!({"name": "Sum", "type": "MANAGED", "quantumBackend": "NONE",
                               "runtime": "PYTHON_TEMPLATE"})
        );
    }

    #[test]
    fn a_service_keeps_the_fields_it_does_not_name() {
        let text = r#"{"id":"svc_1","name":"Walk","type":"EXTERNAL","description":"","quantumBackend":"NONE","url":"https://w","securityConfiguration":{"type":"NONE","username":null},"lifecycle":"CREATED","ownerId":"acc_1","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}"#;
        let service: Service = serde_json::from_str(text).unwrap();
        assert_eq!(service.other["ownerId"], "acc_1");
        let again: Value = serde_json::to_value(&service).unwrap();
        assert_eq!(again, serde_json::from_str::<Value>(text).unwrap());
    }
}
