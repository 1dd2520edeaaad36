//! Consumer applications (the OAuth2 clients).

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;

/// A consumer's application: the client of the client-credentials grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `app_…`
    pub id: String,
    /// The owning (consumer) account.
    pub account_id: String,
    /// Display name.
    pub name: String,
    /// The OAuth2 client id.
    pub consumer_key: String,
    /// SHA-256 (hex) of the consumer secret.
    pub consumer_secret_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Sequence number in the account's application index.
    pub index_seq: u64,
}
record!(Application, "app");

impl Application {
    /// The key holding the id of the application with consumer key `key`.
    pub fn by_consumer_key_key(key: &str) -> String {
        format!("app-key/{key}")
    }

    /// The index of account `acc`'s applications (values: application ids).
    pub fn account_index(acc: &str) -> String {
        format!("account/{acc}/apps")
    }
}
