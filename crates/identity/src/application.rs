//! Consumer applications: the OAuth2 clients that call services through the
//! gateway.

use qmarket_core::id::{is_well_formed, new_id};
use qmarket_core::secret::{self, Secret};
use qmarket_core::{Error, IdKind, Result, Timestamp};
use qmarket_http::PageQuery;
use qmarket_model::{Application, Record};
use qmarket_store::{Index, KeyValue};
use serde::{Deserialize, Serialize};

use crate::access_token::shown_id;
use crate::listing::{self, Listed};
use crate::{subscription, validate};

/// What every consumer key starts with.
pub const CONSUMER_KEY_PREFIX: &str = "qmk_";
/// What every consumer secret starts with.
pub const CONSUMER_SECRET_PREFIX: &str = "qms_";

/// The body of `POST /api/applications`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewApplication {
    /// 1–100 characters.
    pub name: String,
}

/// An application as its owner sees it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationView {
    /// `app_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// The OAuth2 client id.
    pub consumer_key: String,
    /// When it was created.
    pub created_at: Timestamp,
}

impl From<Application> for ApplicationView {
    fn from(app: Application) -> Self {
        ApplicationView {
            id: app.id,
            name: app.name,
            consumer_key: app.consumer_key,
            created_at: app.created_at,
        }
    }
}

/// An application just created, with its consumer secret: the only time the
/// secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApplication {
    /// `app_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// The OAuth2 client id.
    pub consumer_key: String,
    /// The OAuth2 client secret.
    pub consumer_secret: Secret,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Creates an application of account `account_id`; 400 for a bad name.
pub fn create(
    kv: &dyn KeyValue,
    account_id: &str,
    input: NewApplication,
    now: Timestamp,
) -> Result<CreatedApplication> {
    let name = validate::name("name", &input.name)?;
    let id = new_id(IdKind::Application)?;
    let consumer_key = secret::new_secret(CONSUMER_KEY_PREFIX)?;
    let consumer_secret = secret::new_secret(CONSUMER_SECRET_PREFIX)?;
    let index_seq = Index::new(Application::account_index(account_id)).append(kv, &id)?;
    let app = Application {
        id,
        account_id: account_id.to_string(),
        name,
        consumer_key,
        consumer_secret_hash: secret::hash(&consumer_secret),
        created_at: now,
        index_seq,
    };
    app.save(kv)?;
    // The key lookup goes last: the credentials work once the record exists.
    kv.set(
        &Application::by_consumer_key_key(&app.consumer_key),
        app.id.as_bytes(),
    )?;
    Ok(CreatedApplication {
        id: app.id,
        name: app.name,
        consumer_key: app.consumer_key,
        consumer_secret: Secret::new(consumer_secret),
        created_at: app.created_at,
    })
}

/// Application `app_id` if account `account_id` owns it; 404 otherwise
/// (whether it belongs to another account or does not exist).
pub fn owned(kv: &dyn KeyValue, account_id: &str, app_id: &str) -> Result<Application> {
    let not_found = || Error::not_found("application", &shown_id(app_id));
    if !is_well_formed(IdKind::Application, app_id) {
        return Err(not_found());
    }
    Application::load(kv, app_id)?
        .filter(|app| app.account_id == account_id)
        .ok_or_else(not_found)
}

/// Application `app_id` of account `account_id` (404 otherwise).
pub fn get(kv: &dyn KeyValue, account_id: &str, app_id: &str) -> Result<ApplicationView> {
    owned(kv, account_id, app_id).map(ApplicationView::from)
}

/// The page `query` asks for of account `account_id`'s applications.
pub fn list(
    kv: &dyn KeyValue,
    account_id: &str,
    query: &PageQuery,
) -> Result<Listed<ApplicationView>> {
    let index = Index::new(Application::account_index(account_id));
    listing::page(kv, &index, query, |id| {
        Ok(Application::load(kv, id)?
            .filter(|app| app.account_id == account_id)
            .map(ApplicationView::from))
    })
}

/// Deletes application `app_id` of account `account_id` (404 otherwise):
/// its credentials and OAuth2 tokens stop working at once, and its
/// subscriptions end (gateway keys removed, service counters decremented).
pub fn delete(kv: &dyn KeyValue, account_id: &str, app_id: &str) -> Result<()> {
    let app = owned(kv, account_id, app_id)?;
    // No new tokens from here on.
    kv.delete(&Application::by_consumer_key_key(&app.consumer_key))?;
    subscription::end_all_of_application(kv, &app.id)?;
    // Tokens already issued fail once the record is gone.
    Application::remove(kv, &app.id)?;
    Index::new(Application::account_index(account_id)).remove(kv, app.index_seq)?;
    // A subscription made while this deletion ran (its maker read the
    // application before it was removed) is ended too.
    subscription::end_all_of_application(kv, &app.id)?;
    Ok(())
}
