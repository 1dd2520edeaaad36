//! `Option<Option<T>>` fields: absent (keep), `null` (clear), or a value.

use serde::{Deserialize, Deserializer};

/// Deserializes a present field into `Some(..)`, `null` included, so that
/// `#[serde(default)]` leaves an absent one `None`.
pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
