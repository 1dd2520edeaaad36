//! The caller's account and personal access tokens.

use qmarket_core::secret::Secret;
use serde::{Deserialize, Serialize};

use crate::client::escape;
use crate::{Client, Error, Other, Page, PageRequest};

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `acc_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its e-mail address.
    pub email: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A personal access token, without its value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// `pat_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do (`API`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When it stops working, if ever.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A personal access token just created: the only time its value is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccessToken {
    /// `pat_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// The secret to send as `Authorization: Bearer` or `X-Auth-Token`.
    pub value: Secret,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A personal access token to create.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccessToken {
    /// Its name.
    pub name: String,
    /// What it may do (`API`: the platform and the metering API).
    pub scopes: Vec<String>,
    /// When it stops working (RFC 3339); never when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Client {
    /// `GET /api/me`: the caller's account.
    pub fn me(&self) -> Result<Account, Error> {
        self.get("/api/me", &[])
    }

    /// `GET /api/access-tokens`.
    pub fn access_tokens(&self, page: &PageRequest) -> Result<Page<AccessToken>, Error> {
        self.get("/api/access-tokens", &page.query())
    }

    /// `POST /api/access-tokens`.
    pub fn create_access_token(&self, token: &NewAccessToken) -> Result<CreatedAccessToken, Error> {
        self.send("POST", "/api/access-tokens", token)
    }

    /// `DELETE /api/access-tokens/{id}`: the token stops working at once.
    pub fn delete_access_token(&self, id: &str) -> Result<(), Error> {
        self.delete(&format!("/api/access-tokens/{}", escape(id)))
    }
}
