//! A new project from PlanQK's Python template.

use std::fs;
use std::path::{Path, PathBuf};

use crate::local::{DEFAULT_MEMORY_IN_MEGABYTES, DEFAULT_MILLI_CPUS, DEFAULT_TIMEOUT_SECONDS};
use crate::project_file::ProjectFile;
use crate::{ProjectError, Resources, Runtime};

/// The quantum backend a new project names (the example needs none).
const DEFAULT_QUANTUM_BACKEND: &str = "NONE";

/// The template's files, by path; `{{name}}` is the project's name.
const FILES: &[(&str, &str)] = &[
    ("README.md", include_str!("../template/README.md")),
    (
        "environment.yml",
        include_str!("../template/environment.yml"),
    ),
    (
        "requirements.txt",
        include_str!("../template/requirements.txt"),
    ),
    (
        "src/__init__.py",
        include_str!("../template/src/__init__.py"),
    ),
    ("src/program.py", include_str!("../template/src/program.py")),
    (
        "src/libs/__init__.py",
        include_str!("../template/src/libs/__init__.py"),
    ),
    (
        "src/libs/return_objects.py",
        include_str!("../template/src/libs/return_objects.py"),
    ),
    (
        "input/data.json",
        include_str!("../template/input/data.json"),
    ),
    (
        "input/params.json",
        include_str!("../template/input/params.json"),
    ),
];

/// Writes a new `PYTHON_TEMPLATE` project named `name` into `dir` (created;
/// it must not hold anything yet). Returns the files written, relative to
/// `dir`, the project file first.
pub fn init(dir: &Path, name: &str) -> Result<Vec<PathBuf>, ProjectError> {
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(ProjectError::Invalid {
            path: dir.to_path_buf(),
            reason: "a project needs a name of printable characters".into(),
        });
    }
    let occupied = fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        return Err(ProjectError::NotEmpty(dir.to_path_buf()));
    }
    let file = ProjectFile {
        name: name.to_string(),
        description: Some(format!("{name}: samples a rotated qubit")),
        runtime: Runtime::PythonTemplate,
        quantum_backend: DEFAULT_QUANTUM_BACKEND.to_string(),
        resources: Resources {
            milli_cpus: Some(DEFAULT_MILLI_CPUS),
            memory_in_megabytes: Some(DEFAULT_MEMORY_IN_MEGABYTES),
            timeout_seconds: Some(DEFAULT_TIMEOUT_SECONDS),
        },
        service_id: None,
    };
    let mut written = Vec::with_capacity(FILES.len() + 1);
    for (path, text) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|source| ProjectError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&target, text.replace("{{name}}", name)).map_err(|source| {
            ProjectError::Write {
                path: target.clone(),
                source,
            }
        })?;
        written.push(PathBuf::from(path));
    }
    file.write_to(dir)?;
    written.insert(0, PathBuf::from(crate::PROJECT_FILE));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Project;

    #[test]
    fn a_new_project_has_planqks_template_shape() {
        let dir = tempfile::tempdir().unwrap();
        let project_dir = dir.path().join("sampler");
        let files = init(&project_dir, "sampler").unwrap();
        for path in [
            "qmarket.json",
            "src/program.py",
            "src/libs/return_objects.py",
            "environment.yml",
            "requirements.txt",
            "input/data.json",
            "input/params.json",
        ] {
            assert!(files.contains(&PathBuf::from(path)), "{path} in {files:?}");
            assert!(project_dir.join(path).is_file(), "{path}");
        }
        let program = fs::read_to_string(project_dir.join("src/program.py")).unwrap();
        assert!(program.contains("def run(data"), "{program}");
        let project = Project::load(&project_dir).unwrap();
        assert_eq!(project.file.name, "sampler");
        assert_eq!(project.file.runtime, Runtime::PythonTemplate);
        assert_eq!(project.file.resources.milli_cpus, Some(1000));
        let environment = fs::read_to_string(project_dir.join("environment.yml")).unwrap();
        assert!(environment.starts_with("name: sampler\n"), "{environment}");
    }

    #[test]
    fn a_folder_that_holds_something_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            init(dir.path(), "sampler"),
            Err(ProjectError::NotEmpty(_))
        ));
        assert_eq!(
            fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "mine"
        );
    }
}
