//! Profiles: which platform to talk to, with which personal access token,
//! and the client credentials of the applications created through them.
//!
//! They live in one TOML file, `profiles.toml`, in the user's config
//! directory (`~/.config/qmarket` on Linux). The file holds secrets, so it
//! is written readable by its owner only (mode 0600, in a 0700 directory),
//! always whole: a new file is written beside it and renamed over it.
//!
//! ```
//! use qmarket_client::profile::ProfileStore;
//! use qmarket_core::secret::Secret;
//!
//! # fn main() -> Result<(), qmarket_client::profile::ProfileError> {
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = ProfileStore::open(dir.path())?;
//! let profile = store.profile_mut("default");
//! profile.url = Some("http://127.0.0.1:3000".into());
//! profile.token = Some(Secret::new("pat-value"));
//! store.save()?;
//! assert_eq!(
//!     ProfileStore::open(dir.path())?.get("default").unwrap().url.as_deref(),
//!     Some("http://127.0.0.1:3000")
//! );
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use qmarket_core::secret::Secret;
use serde::{Deserialize, Serialize};

use crate::ClientCredentials;

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";
/// The file's name in its directory.
pub const FILE_NAME: &str = "profiles.toml";
/// The file's mode: its owner reads and writes, nobody else.
pub const FILE_MODE: u32 = 0o600;
/// The directory's mode.
pub const DIR_MODE: u32 = 0o700;

/// Why the profiles could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a profiles file.
    #[error("{path} is not a valid profiles file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The platform's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The personal access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Applications created through this profile, by id, with the
    /// credentials the platform showed once.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub applications: BTreeMap<String, StoredApplication>,
}

/// An application's name and client credentials, kept to get tokens later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredApplication {
    /// Its name.
    pub name: String,
    /// Its client credentials.
    #[serde(flatten)]
    pub credentials: ClientCredentials,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfilesFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The profiles file, read into memory.
#[derive(Debug)]
pub struct ProfileStore {
    dir: PathBuf,
    file: ProfilesFile,
}

impl ProfileStore {
    /// The user's config directory for qmarket (`~/.config/qmarket` on
    /// Linux), if the system has one.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|dir| dir.join("qmarket"))
    }

    /// The profiles in `dir` (none yet when the file does not exist).
    pub fn open(dir: &Path) -> Result<ProfileStore, ProfileError> {
        let path = dir.join(FILE_NAME);
        let file = match fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ProfileError::Invalid {
                path: path.clone(),
                reason: e.message().to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ProfilesFile::default(),
            Err(source) => return Err(ProfileError::Read { path, source }),
        };
        Ok(ProfileStore {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Profile `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.file.profiles.get(name)
    }

    /// Profile `name`, made empty if there is none.
    pub fn profile_mut(&mut self, name: &str) -> &mut Profile {
        self.file.profiles.entry(name.to_string()).or_default()
    }

    /// Removes profile `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        self.file.profiles.remove(name).is_some()
    }

    /// The names of the profiles.
    pub fn names(&self) -> Vec<&str> {
        self.file.profiles.keys().map(String::as_str).collect()
    }

    /// Writes the file: mode 0600 in a 0700 directory, replaced whole.
    pub fn save(&self) -> Result<(), ProfileError> {
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ProfileError::Write { path, source }
        };
        if !self.dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(&self.dir)
                .map_err(write_error(&self.dir))?;
        }
        let text = toml::to_string(&self.file).map_err(|e| ProfileError::Write {
            path: self.path(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let fresh = self
            .dir
            .join(format!(".{FILE_NAME}.{}.new", std::process::id()));
        let written = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&fresh)?;
            // The mode given at creation is reduced by the umask; set it whole.
            file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&fresh, self.path())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&fresh);
        }
        written.map_err(write_error(&self.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_profile_file_is_readable_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("qmarket");
        let mut store = ProfileStore::open(&config).unwrap();
        store.profile_mut("default").token = Some(Secret::new("pat-secret-value"));
        store.save().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&config.join(FILE_NAME)), 0o600);
        assert_eq!(mode(&config), 0o700);
        // Saving again keeps the mode, also over a file someone opened up.
        fs::set_permissions(config.join(FILE_NAME), fs::Permissions::from_mode(0o644)).unwrap();
        store.save().unwrap();
        assert_eq!(mode(&config.join(FILE_NAME)), 0o600);
    }

    #[test]
    fn profiles_keep_their_applications_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = ProfileStore::open(dir.path()).unwrap();
        let profile = store.profile_mut("lab");
        profile.url = Some("https://qmarket.example".into());
        profile.applications.insert(
            "app_1".into(),
            StoredApplication {
                name: "Notebook".into(),
                credentials: ClientCredentials {
                    consumer_key: "key".into(),
                    consumer_secret: Secret::new("secret"),
                },
            },
        );
        store.save().unwrap();
        let again = ProfileStore::open(dir.path()).unwrap();
        assert_eq!(again.get("lab"), store.get("lab"));
        assert_eq!(again.names(), vec!["lab"]);
    }

    #[test]
    fn a_file_that_is_not_toml_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), "profiles = [").unwrap();
        let error = ProfileStore::open(dir.path()).unwrap_err();
        assert!(error.to_string().contains(FILE_NAME), "{error}");
    }
}
