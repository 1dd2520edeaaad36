//! Applications (a consumer's OAuth2 clients) and their subscriptions.

use qmarket_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::escape;
use crate::{Client, Error, Other, Page, PageRequest};

/// An application, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `app_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// The OAuth2 client id.
    pub consumer_key: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// An application just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApplication {
    /// `app_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// The OAuth2 client id.
    pub consumer_key: String,
    /// The OAuth2 client secret.
    pub consumer_secret: Secret,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// An application's subscription to a service under a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `sub_…`
    pub id: String,
    /// The subscribed application.
    pub application_id: String,
    /// The service.
    pub service_id: String,
    /// The plan its usage is billed under.
    pub pricing_plan_id: String,
    /// Whether its usage is test usage (the owner's own subscription to an
    /// `ACCESSIBLE` service).
    #[serde(default)]
    pub test_mode: bool,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

fn application_path(id: &str) -> String {
    format!("/api/applications/{}", escape(id))
}

impl Client {
    /// `POST /api/applications`.
    pub fn create_application(&self, name: &str) -> Result<CreatedApplication, Error> {
        self.send("POST", "/api/applications", &json!({ "name": name }))
    }

    /// `GET /api/applications`.
    pub fn applications(&self, page: &PageRequest) -> Result<Page<Application>, Error> {
        self.get("/api/applications", &page.query())
    }

    /// `GET /api/applications/{id}`.
    pub fn application(&self, id: &str) -> Result<Application, Error> {
        self.get(&application_path(id), &[])
    }

    /// `DELETE /api/applications/{id}`: its credentials and tokens stop working.
    pub fn delete_application(&self, id: &str) -> Result<(), Error> {
        self.delete(&application_path(id))
    }

    /// `GET /api/applications/{id}/subscriptions`.
    pub fn subscriptions(
        &self,
        application: &str,
        page: &PageRequest,
    ) -> Result<Page<Subscription>, Error> {
        self.get(
            &format!("{}/subscriptions", application_path(application)),
            &page.query(),
        )
    }

    /// `POST /api/applications/{id}/subscriptions`.
    pub fn subscribe(
        &self,
        application: &str,
        service: &str,
        pricing_plan: &str,
    ) -> Result<Subscription, Error> {
        self.send(
            "POST",
            &format!("{}/subscriptions", application_path(application)),
            &json!({ "serviceId": service, "pricingPlanId": pricing_plan }),
        )
    }

    /// `GET /api/subscriptions/{id}`.
    pub fn subscription(&self, id: &str) -> Result<Subscription, Error> {
        self.get(&format!("/api/subscriptions/{}", escape(id)), &[])
    }

    /// `DELETE /api/subscriptions/{id}`.
    pub fn unsubscribe(&self, id: &str) -> Result<(), Error> {
        self.delete(&format!("/api/subscriptions/{}", escape(id)))
    }
}
