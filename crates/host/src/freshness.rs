//! Whether a component's Wasm file is at least as new as the sources its
//! build watches.
//!
//! The host runs prebuilt `.wasm` files; nothing rebuilds them when their
//! sources change, so a test run after an edit would otherwise test the old
//! component. The `watch` globs of a component's `[component.<id>.build]`
//! section name its sources (they drive `spin watch` too); a Wasm file
//! older than any file they match is refused at start-up.
//!
//! Globs follow `spin watch`: relative to the manifest's directory (or the
//! build's `workdir`), `*` stays within one path segment and `**` spans
//! any number. Directories named `.git` or `target` below a glob's fixed
//! prefix are not searched: they hold no sources and can be huge.

use crate::manifest::BuildWatch;
use globset::{GlobBuilder, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// Directories never searched for watched sources.
const SKIPPED_DIRS: &[&str] = &[".git", "target"];

/// Why a component's freshness could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum FreshnessError {
    /// The Wasm file is older than a watched source.
    #[error(
        "component `{component}`: {} is older than {}, which its build watches; \
         rebuild the components (scripts/build-wasm.sh, or `spin build`)",
        wasm.display(), source_file.display()
    )]
    Stale {
        /// The component id.
        component: String,
        /// Its Wasm file.
        wasm: PathBuf,
        /// The newest watched source, changed after the Wasm file was built.
        source_file: PathBuf,
    },
    /// A `watch` entry is not a valid glob.
    #[error("component `{component}`: watch glob `{glob}` is invalid: {message}")]
    BadGlob {
        /// The component id.
        component: String,
        /// The glob as written.
        glob: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Fails when `wasm` is older than the newest file `watch` matches. A Wasm
/// file that cannot be read is left to the loader to report.
pub fn check(component: &str, wasm: &Path, watch: &BuildWatch) -> Result<(), FreshnessError> {
    let Some(built) = modified(wasm) else {
        return Ok(());
    };
    match newest_match(component, watch)? {
        Some((source_file, changed)) if changed > built => Err(FreshnessError::Stale {
            component: component.to_string(),
            wasm: wasm.to_owned(),
            source_file,
        }),
        _ => Ok(()),
    }
}

/// The most recently modified file that `watch` matches, with its time.
fn newest_match(
    component: &str,
    watch: &BuildWatch,
) -> Result<Option<(PathBuf, SystemTime)>, FreshnessError> {
    let mut set = GlobSetBuilder::new();
    let mut roots = Vec::new();
    for glob in &watch.globs {
        let pattern = absolute_pattern(&watch.dir, glob);
        let compiled = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| FreshnessError::BadGlob {
                component: component.to_string(),
                glob: glob.clone(),
                message: e.kind().to_string(),
            })?;
        set.add(compiled);
        roots.push(fixed_prefix(&watch.dir, glob));
    }
    let set = set.build().map_err(|e| FreshnessError::BadGlob {
        component: component.to_string(),
        glob: watch.globs.join(", "),
        message: e.to_string(),
    })?;

    // Walk each root once, and no root inside another.
    roots.sort();
    roots.dedup();
    let mut walked: Vec<PathBuf> = Vec::new();
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    for root in roots {
        if walked.iter().any(|w| root.starts_with(w)) {
            continue;
        }
        let entries = walkdir::WalkDir::new(&root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|entry| {
                entry.depth() == 0
                    || !entry.file_type().is_dir()
                    || !SKIPPED_DIRS.iter().any(|d| entry.file_name() == *d)
            });
        // Unreadable entries cannot be sources the build could have used.
        for entry in entries.filter_map(Result::ok) {
            if !entry.file_type().is_file() || !set.is_match(entry.path()) {
                continue;
            }
            if let Some(changed) = modified(entry.path()) {
                if newest.as_ref().is_none_or(|(_, time)| changed > *time) {
                    newest = Some((entry.path().to_path_buf(), changed));
                }
            }
        }
        walked.push(root);
    }
    Ok(newest)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `glob` anchored at `dir` (escaped, so the directory's own name is
/// never read as a pattern), unless it is absolute already.
fn absolute_pattern(dir: &Path, glob: &str) -> String {
    if Path::new(glob).is_absolute() {
        return glob.to_string();
    }
    let dir = globset::escape(&dir.to_string_lossy());
    format!("{}/{glob}", dir.trim_end_matches('/'))
}

/// The directory below which `glob` can match: its leading segments
/// without pattern characters, the last of which (a file name) dropped.
fn fixed_prefix(dir: &Path, glob: &str) -> PathBuf {
    let glob_path = Path::new(glob);
    let mut prefix = if glob_path.is_absolute() {
        PathBuf::new()
    } else {
        dir.to_path_buf()
    };
    let segments: Vec<Component<'_>> = glob_path.components().collect();
    for (i, segment) in segments.iter().enumerate() {
        let text = segment.as_os_str().to_string_lossy();
        let last = i + 1 == segments.len();
        if last || text.contains(['*', '?', '[', '{']) {
            break;
        }
        prefix.push(segment.as_os_str());
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::time::Duration;

    /// A directory with `src/lib.rs`, `Cargo.toml`, an unwatched file, and
    /// `component.wasm` built `wasm_age` after (or, negative, before) them.
    struct Project {
        dir: tempfile::TempDir,
    }

    impl Project {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("a temporary directory");
            fs::create_dir_all(dir.path().join("src/deep")).expect("creates src");
            fs::create_dir_all(dir.path().join("target")).expect("creates target");
            for file in [
                "src/lib.rs",
                "src/deep/mod.rs",
                "Cargo.toml",
                "README.md",
                "target/generated.rs",
                "component.wasm",
            ] {
                fs::write(dir.path().join(file), file).expect("writes a file");
            }
            let project = Self { dir };
            for file in [
                "src/lib.rs",
                "src/deep/mod.rs",
                "Cargo.toml",
                "README.md",
                "target/generated.rs",
            ] {
                project.age(file, 100);
            }
            project.age("component.wasm", 50);
            project
        }

        fn path(&self, file: &str) -> PathBuf {
            self.dir.path().join(file)
        }

        /// Sets `file`'s modification time to `seconds` ago.
        fn age(&self, file: &str, seconds: u64) {
            let time = SystemTime::now() - Duration::from_secs(seconds);
            File::options()
                .write(true)
                .open(self.path(file))
                .and_then(|f| f.set_modified(time))
                .expect("sets the modification time");
        }

        fn watch(&self, globs: &[&str]) -> BuildWatch {
            BuildWatch {
                dir: self.dir.path().to_path_buf(),
                globs: globs.iter().map(|g| g.to_string()).collect(),
            }
        }

        fn check(&self, globs: &[&str]) -> Result<(), FreshnessError> {
            check("hello", &self.path("component.wasm"), &self.watch(globs))
        }
    }

    const GLOBS: &[&str] = &["src/**/*.rs", "Cargo.toml"];

    #[test]
    fn a_wasm_newer_than_its_sources_is_fresh() {
        let project = Project::new();
        project.check(GLOBS).expect("fresh");
    }

    #[test]
    fn a_source_touched_after_the_wasm_makes_it_stale_naming_component_and_source() {
        let project = Project::new();
        project.age("src/deep/mod.rs", 10);

        let err = project.check(GLOBS).expect_err("stale").to_string();

        assert!(err.contains("`hello`"), "{err}");
        assert!(err.contains("src/deep/mod.rs"), "{err}");
        assert!(err.contains("scripts/build-wasm.sh"), "{err}");
    }

    #[test]
    fn the_newest_of_several_changed_sources_is_named() {
        let project = Project::new();
        project.age("src/lib.rs", 20);
        project.age("Cargo.toml", 10);

        let err = project.check(GLOBS).expect_err("stale").to_string();

        assert!(err.contains("Cargo.toml"), "{err}");
    }

    #[test]
    fn rebuilding_makes_a_stale_component_fresh_again() {
        let project = Project::new();
        project.age("src/lib.rs", 10);
        assert!(project.check(GLOBS).is_err());

        project.age("component.wasm", 0);

        project.check(GLOBS).expect("fresh again");
    }

    #[test]
    fn files_the_globs_do_not_match_do_not_count() {
        let project = Project::new();
        project.age("README.md", 0);
        project.age("target/generated.rs", 0);

        project.check(GLOBS).expect("fresh");
        project
            .check(&["**/*.rs"])
            .expect("target/ is not searched");
    }

    #[test]
    fn a_single_star_stays_within_one_directory() {
        let project = Project::new();
        project.age("src/deep/mod.rs", 0);

        project
            .check(&["src/*.rs"])
            .expect("deep/mod.rs is not in src/*.rs");
        assert!(project.check(&["src/*/*.rs"]).is_err());
    }

    #[test]
    fn a_missing_wasm_is_left_to_the_loader() {
        let project = Project::new();
        fs::remove_file(project.path("component.wasm")).expect("removes the wasm");
        project.check(GLOBS).expect("not this check's error");
    }

    #[test]
    fn an_invalid_glob_is_an_error_naming_it() {
        let project = Project::new();
        let err = project
            .check(&["src/[.rs"])
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("src/[.rs"), "{err}");
    }
}
