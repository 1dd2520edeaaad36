//! Loading and saving records by id.

use qmarket_core::Result;
use qmarket_store::{get_json, set_json, KeyValue};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A record stored as JSON under `{PREFIX}/{id}`.
pub trait Record: Serialize + DeserializeOwned {
    /// The key prefix, e.g. `service`.
    const PREFIX: &'static str;

    /// The record's id.
    fn id(&self) -> &str;

    /// The key of the record with `id`.
    fn key(id: &str) -> String {
        format!("{}/{id}", Self::PREFIX)
    }

    /// The record with `id`, if any.
    fn load(kv: &dyn KeyValue, id: &str) -> Result<Option<Self>> {
        get_json(kv, &Self::key(id))
    }

    /// Writes this record (whole) under its key.
    fn save(&self, kv: &dyn KeyValue) -> Result<()> {
        set_json(kv, &Self::key(self.id()), self)
    }

    /// Removes the record with `id`.
    fn remove(kv: &dyn KeyValue, id: &str) -> Result<()> {
        kv.delete(&Self::key(id))?;
        Ok(())
    }
}

/// Implements [`Record`] for a struct with an `id: String` field.
macro_rules! record {
    ($type:ty, $prefix:literal) => {
        impl $crate::Record for $type {
            const PREFIX: &'static str = $prefix;
            fn id(&self) -> &str {
                &self.id
            }
        }
    };
}
pub(crate) use record;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Account, Correlation};
    use qmarket_core::Timestamp;
    use qmarket_store::MemoryStore;

    #[test]
    fn a_saved_record_loads_back_and_removes() {
        let kv = MemoryStore::new();
        let account = Account {
            id: "acc_1".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
            created_at: Timestamp::from_millis(0),
        };
        account.save(&kv).unwrap();
        assert_eq!(Account::load(&kv, "acc_1").unwrap(), Some(account));
        assert!(kv.exists("account/acc_1").unwrap());
        Account::remove(&kv, "acc_1").unwrap();
        assert_eq!(Account::load(&kv, "acc_1").unwrap(), None);
    }

    #[test]
    fn records_of_different_kinds_do_not_share_keys() {
        assert_eq!(Account::key("x"), "account/x");
        assert_eq!(Correlation::key("x"), "correlation/x");
    }
}
