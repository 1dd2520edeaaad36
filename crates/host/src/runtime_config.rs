//! The Spin-format runtime configuration file (`--runtime-config-file`).
//!
//! Key-value stores and outbound HTTP are configurable, with Spin's keys:
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//!
//! [key_value_store.cache]
//! type = "spin"          # SQLite; `path` is optional
//! path = "cache.db"      # relative to this file's directory
//!
//! [outbound_http]
//! connection_pooling = true   # keep connections alive (the default)
//! max_connections = 256       # all outbound connections (default: unbounded)
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why the runtime configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeConfigError {
    /// The file could not be read.
    #[error("cannot read runtime config {path}: {source}")]
    Read {
        /// The file path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid or uses something unsupported.
    #[error("invalid runtime config {path}: {message}")]
    Invalid {
        /// The file path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// How one key-value store label is backed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueStoreConfig {
    /// SQLite; `None` means the default database in the state directory.
    Sqlite {
        /// The database file.
        path: Option<PathBuf>,
    },
    /// Redis at `url`.
    Redis {
        /// A `redis://` URL.
        url: String,
    },
}

/// The parsed runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
    /// The `[outbound_http]` table, when given.
    pub outbound_http: Option<OutboundHttpConfig>,
}

/// Spin's `[outbound_http]` table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundHttpConfig {
    /// Keep connections alive between requests (Spin: `false` when the
    /// table is given without it).
    #[serde(default)]
    pub connection_pooling: bool,
    /// At most this many outbound connections at a time.
    #[serde(default)]
    pub max_connections: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    outbound_http: Option<OutboundHttpConfig>,
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum RawStore {
    #[serde(rename = "spin")]
    Spin { path: Option<PathBuf> },
    #[serde(rename = "redis")]
    Redis { url: String },
}

impl RuntimeConfig {
    /// Reads the runtime configuration at `path`.
    pub fn from_file(path: &Path) -> Result<Self, RuntimeConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuntimeConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, dir).map_err(|message| RuntimeConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses runtime configuration text; relative paths resolve against `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Self, String> {
        let raw: RawRuntimeConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let key_value_stores = raw
            .key_value_store
            .into_iter()
            .map(|(label, store)| {
                let config = match store {
                    RawStore::Spin { path } => KeyValueStoreConfig::Sqlite {
                        path: path.map(|p| dir.join(p)),
                    },
                    RawStore::Redis { url } => {
                        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                            return Err(format!(
                                "key_value_store.{label}: url must start with redis:// or rediss://"
                            ));
                        }
                        KeyValueStoreConfig::Redis { url }
                    }
                };
                Ok((label, config))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            key_value_stores,
            outbound_http: raw.outbound_http,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_and_spin_stores_are_read() {
        let cfg = RuntimeConfig::parse(
            r#"
[key_value_store.default]
type = "redis"
url = "redis://127.0.0.1:6379"
[key_value_store.cache]
type = "spin"
path = "cache.db"
[key_value_store.plain]
type = "spin"
"#,
            Path::new("/etc/app"),
        )
        .expect("parses");
        assert_eq!(
            cfg.key_value_stores["default"],
            KeyValueStoreConfig::Redis {
                url: "redis://127.0.0.1:6379".into()
            }
        );
        assert_eq!(
            cfg.key_value_stores["cache"],
            KeyValueStoreConfig::Sqlite {
                path: Some(PathBuf::from("/etc/app/cache.db"))
            }
        );
        assert_eq!(
            cfg.key_value_stores["plain"],
            KeyValueStoreConfig::Sqlite { path: None }
        );
    }

    #[test]
    fn the_outbound_http_table_is_read_with_spins_keys() {
        let cfg = RuntimeConfig::parse(
            "[outbound_http]\nconnection_pooling = true\nmax_connections = 8\n",
            Path::new("."),
        )
        .expect("parses");
        assert_eq!(
            cfg.outbound_http,
            Some(OutboundHttpConfig {
                connection_pooling: true,
                max_connections: Some(8)
            })
        );
        let off = RuntimeConfig::parse("[outbound_http]\n", Path::new(".")).expect("parses");
        assert_eq!(off.outbound_http.map(|o| o.connection_pooling), Some(false));
        assert!(RuntimeConfig::parse("[outbound_http]\nretries = 3\n", Path::new(".")).is_err());
    }

    #[test]
    fn unknown_store_types_and_sections_are_rejected() {
        assert!(RuntimeConfig::parse(
            "[key_value_store.x]\ntype = \"azure_cosmos\"\n",
            Path::new(".")
        )
        .is_err());
        assert!(RuntimeConfig::parse(
            "[sqlite_database.default]\ntype = \"spin\"\n",
            Path::new(".")
        )
        .is_err());
        assert!(RuntimeConfig::parse(
            "[key_value_store.x]\ntype = \"redis\"\nurl = \"http://x\"\n",
            Path::new(".")
        )
        .is_err());
    }
}
