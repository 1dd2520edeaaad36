//! A project's contents as the ZIP the platform expects: every file at its
//! path relative to the project folder (`src/program.py`, never
//! `sampler/src/program.py`), as PlanQK's `zip -r planqk.zip src
//! environment.yml` run inside the folder makes it.

use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::ProjectError;

/// A packed project.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The archive.
    pub zip: Vec<u8>,
    /// The paths inside it, in order.
    pub files: Vec<String>,
}

/// Whether an entry of the project stays out of the archive: hidden files
/// and folders (`.git`, `.venv`, `.qmarket`), Python's caches.
fn left_out(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc")
}

/// Zips the contents of the project folder `dir`. Symbolic links are
/// refused (the platform refuses them in archives).
pub fn pack(dir: &Path) -> Result<Packed, ProjectError> {
    let mut files = Vec::new();
    gather(dir, dir, &mut files)?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let mut names = Vec::with_capacity(files.len());
    let zip_error = |path: &Path, e: &dyn std::fmt::Display| ProjectError::Unpackable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    for (name, path) in files {
        let metadata = fs::metadata(&path).map_err(|source| ProjectError::Read {
            path: path.clone(),
            source,
        })?;
        let executable = metadata.permissions().mode() & 0o111 != 0;
        let options = SimpleFileOptions::default()
            .unix_permissions(if executable { 0o755 } else { 0o644 })
            .large_file(metadata.len() >= u64::from(u32::MAX));
        let bytes = fs::read(&path).map_err(|source| ProjectError::Read {
            path: path.clone(),
            source,
        })?;
        writer
            .start_file(name.as_str(), options)
            .map_err(|e| zip_error(&path, &e))?;
        writer.write_all(&bytes).map_err(|e| zip_error(&path, &e))?;
        names.push(name);
    }
    let zip = writer
        .finish()
        .map_err(|e| zip_error(dir, &e))?
        .into_inner();
    Ok(Packed { zip, files: names })
}

/// Adds the files under `folder` (sorted by name) to `files` as
/// (archive path, file path).
fn gather(
    root: &Path,
    folder: &Path,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), ProjectError> {
    let read_error = |source| ProjectError::Read {
        path: folder.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(folder)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(ProjectError::Unpackable {
                path,
                reason: "its name is not UTF-8".into(),
            });
        };
        if left_out(&name) {
            continue;
        }
        let kind = entry.file_type().map_err(|source| ProjectError::Read {
            path: path.clone(),
            source,
        })?;
        if kind.is_symlink() {
            return Err(ProjectError::Unpackable {
                path,
                reason: "it is a symbolic link, and the platform refuses links in archives".into(),
            });
        }
        if kind.is_dir() {
            gather(root, &path, files)?;
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let archive_path: Vec<&str> = relative
                .components()
                .filter_map(|c| c.as_os_str().to_str())
                .collect();
            files.push((archive_path.join("/"), path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{init, Runtime};

    #[test]
    fn the_contents_are_at_the_archive_root_and_pass_the_platforms_rules() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("sampler");
        init(&project, "sampler").unwrap();
        fs::create_dir_all(project.join("src/__pycache__")).unwrap();
        fs::write(
            project.join("src/__pycache__/program.cpython-311.pyc"),
            b"\0",
        )
        .unwrap();
        fs::create_dir_all(project.join(".git")).unwrap();
        fs::write(project.join(".git/HEAD"), b"ref").unwrap();
        let packed = pack(&project).unwrap();
        assert!(packed.files.contains(&"src/program.py".to_string()));
        assert!(packed.files.contains(&"environment.yml".to_string()));
        assert!(
            packed.files.iter().all(|f| !f.starts_with("sampler/")
                && !f.contains("__pycache__")
                && !f.starts_with(".git")),
            "{:?}",
            packed.files
        );
        let validation =
            qmarket_archive::validate(Cursor::new(packed.zip), Runtime::PythonTemplate).unwrap();
        assert_eq!(
            validation.state,
            qmarket_archive::State::Success,
            "{validation:?}"
        );
    }

    #[test]
    fn a_symbolic_link_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real.txt"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link.txt")).unwrap();
        let error = pack(dir.path()).unwrap_err();
        assert!(error.to_string().contains("link.txt"), "{error}");
    }
}
