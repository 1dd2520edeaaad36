//! The project file, `qmarket.json`: what the platform needs to know about
//! the service besides its code. PlanQK's command line keeps the same in
//! `planqk.json`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use qmarket_client::Resources;

use crate::{ProjectError, Runtime};

/// The project file's name.
pub const PROJECT_FILE: &str = "qmarket.json";

/// The project file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectFile {
    /// The service's name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the platform runs it.
    pub runtime: Runtime,
    /// The quantum backend it uses (`GET /api/quantum-backends`).
    pub quantum_backend: String,
    /// What one execution may use (the platform's defaults where absent).
    #[serde(default)]
    pub resources: Resources,
    /// The service on the platform, once deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

/// A project: its folder and its project file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The folder.
    pub dir: PathBuf,
    /// The project file.
    pub file: ProjectFile,
}

impl Project {
    /// The project in `dir`.
    pub fn load(dir: &Path) -> Result<Project, ProjectError> {
        let path = dir.join(PROJECT_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProjectError::NotAProject {
                    dir: dir.to_path_buf(),
                    file: PROJECT_FILE,
                })
            }
            Err(source) => return Err(ProjectError::Read { path, source }),
        };
        let file = serde_json::from_str(&text).map_err(|e| ProjectError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Project {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// Writes the project file.
    pub fn save(&self) -> Result<(), ProjectError> {
        self.file.write_to(&self.dir)
    }

    /// `input/<name>.json` of the project, if it has one: PlanQK's template
    /// keeps example inputs there (`data.json`, `params.json`).
    pub fn example_input(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join("input").join(format!("{name}.json"));
        path.is_file().then_some(path)
    }
}

impl ProjectFile {
    /// Writes this project file into `dir`.
    pub(crate) fn write_to(&self, dir: &Path) -> Result<(), ProjectError> {
        let path = dir.join(PROJECT_FILE);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| ProjectError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        fs::write(&path, text).map_err(|source| ProjectError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_file_uses_the_apis_names() {
        let file: ProjectFile = serde_json::from_str(
            r#"{"name": "sampler", "runtime": "PYTHON_TEMPLATE", "quantumBackend": "NONE",
                "resources": {"milliCpus": 500}, "serviceId": "svc_1"}"#,
        )
        .unwrap();
        assert_eq!(file.runtime, Runtime::PythonTemplate);
        assert_eq!(file.resources.milli_cpus, Some(500));
        assert_eq!(file.service_id.as_deref(), Some("svc_1"));
    }

    #[test]
    fn a_misspelt_field_is_refused_rather_than_ignored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(PROJECT_FILE),
            r#"{"name": "s", "runtime": "WASM", "quantumBackend": "NONE", "sevriceId": "svc_1"}"#,
        )
        .unwrap();
        let error = Project::load(dir.path()).unwrap_err();
        assert!(error.to_string().contains("sevriceId"), "{error}");
    }

    #[test]
    fn a_folder_without_a_project_file_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let error = Project::load(dir.path()).unwrap_err();
        assert!(error.to_string().contains("qmarket init"), "{error}");
    }
}
