//! Accounts and their personal access tokens.

use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::record::record;

/// A provider's or consumer's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `acc_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address, unique across accounts (compared in lower case).
    pub email: String,
    /// When it was created.
    pub created_at: Timestamp,
}
record!(Account, "account");

/// What a personal access token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// The platform API and the metering API.
    #[serde(rename = "API")]
    Api,
}

/// A personal access token; its value is kept only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// `pat_…`
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// What it may be used for.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// SHA-256 (hex) of the value.
    pub value_hash: String,
    /// Sequence number in the account's token index.
    pub index_seq: u64,
}
record!(AccessToken, "pat");

impl Account {
    /// The claim counter of e-mail address `email` (compared in lower case):
    /// the first account to claim it owns it.
    pub fn email_claim_key(email: &str) -> String {
        format!(
            "account-email/{}",
            qmarket_core::secret::hash(&email.to_lowercase())
        )
    }
}

impl AccessToken {
    /// The key holding the id of the token whose value hashes to `value_hash`.
    pub fn by_value_hash_key(value_hash: &str) -> String {
        format!("pat-hash/{value_hash}")
    }

    /// The index of account `acc`'s tokens (values: token ids).
    pub fn account_index(acc: &str) -> String {
        format!("account/{acc}/pats")
    }
}
