//! A service's dependency list: `requirements.txt`, or else the `pip:`
//! list of `environment.yml`, normalised so that equal lists share one
//! environment.

use std::path::Path;

use serde_norway::Value as Yaml;

use crate::BuildFailure;

/// The requirements file of PlanQK's template.
pub(crate) const REQUIREMENTS_FILE: &str = "requirements.txt";
/// The Conda environment file of PlanQK's template.
pub(crate) const ENVIRONMENT_FILE: &str = "environment.yml";

/// What pip installs, and what the provider should hear about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dependencies {
    /// Which file the list came from (`None`: the archive has neither).
    pub file: Option<&'static str>,
    /// pip's options (`--extra-index-url …`, in their order), then the
    /// requirements, sorted and without duplicates.
    pub lines: Vec<String>,
    /// Entries that are not installed (Conda-only dependencies).
    pub warnings: Vec<String>,
}

impl Dependencies {
    /// Reads the list of the service in `source`, for an interpreter of
    /// `python_version` (`3.11.7`).
    pub fn read(source: &Path, python_version: &str) -> Result<Self, BuildFailure> {
        let requirements = source.join(REQUIREMENTS_FILE);
        if requirements.is_file() {
            let text = read_text(&requirements)?;
            return Ok(Dependencies {
                file: Some(REQUIREMENTS_FILE),
                lines: normalise(REQUIREMENTS_FILE, logical_lines(&text))?,
                warnings: Vec::new(),
            });
        }
        let environment = source.join(ENVIRONMENT_FILE);
        if environment.is_file() {
            let text = read_text(&environment)?;
            return from_environment(&text, python_version);
        }
        Ok(Dependencies {
            file: None,
            lines: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// The list as a requirements file for pip.
    pub fn requirements_file(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

fn read_text(path: &Path) -> Result<String, BuildFailure> {
    let bytes = std::fs::read(path)
        .map_err(|e| BuildFailure(format!("{} cannot be read: {e}", file_name(path))))?;
    String::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}').to_owned())
        .map_err(|_| BuildFailure(format!("{} is not UTF-8 text", file_name(path))))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Lines of a requirements file with continuations joined and comments
/// dropped, each with its line number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let (number, mut line) = pending.take().unwrap_or((index + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(head) => {
                line.push_str(head);
                pending = Some((number, line));
            }
            None => {
                line.push_str(raw);
                lines.push((number, line));
            }
        }
    }
    lines.extend(pending);
    lines
        .into_iter()
        .map(|(n, l)| (n, strip_comment(&l).to_owned()))
        .collect()
}

/// A line without its comment (`#` at the start or after whitespace, as pip reads it).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// Options first (in order), then requirements sorted, whitespace collapsed.
fn normalise(origin: &str, lines: Vec<(usize, String)>) -> Result<Vec<String>, BuildFailure> {
    let mut options = Vec::new();
    let mut requirements = Vec::new();
    for (number, line) in lines {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        if let Some(reason) = unsupported(&line) {
            return Err(BuildFailure(format!(
                "{origin} line {number} (`{line}`): {reason}"
            )));
        }
        if line.starts_with('-') {
            options.push(line);
        } else {
            requirements.push(line);
        }
    }
    requirements.sort();
    requirements.dedup();
    options.extend(requirements);
    Ok(options)
}

/// Why a line cannot be part of a shared environment, if it cannot.
fn unsupported(line: &str) -> Option<&'static str> {
    let first = line.split([' ', '=']).next().unwrap_or("");
    match first {
        "-r" | "--requirement" | "-c" | "--constraint" => {
            Some("including other files is not supported: list every requirement in this file")
        }
        "-e" | "--editable" => Some("editable installs are not supported"),
        _ if first.starts_with("-r") || first.starts_with("-c") || first.starts_with("-e") => {
            Some("including other files and editable installs are not supported")
        }
        _ if line.starts_with('.') || line.starts_with('/') || line.starts_with("file:") => {
            Some("local paths are not supported: dependencies are installed from the package index")
        }
        _ => None,
    }
}

/// The `pip:` list of a Conda environment file; its other dependencies
/// become warnings, except `python` and `pip` themselves.
fn from_environment(text: &str, python_version: &str) -> Result<Dependencies, BuildFailure> {
    let document: Yaml = serde_norway::from_str(text)
        .map_err(|e| BuildFailure(format!("{ENVIRONMENT_FILE} is not valid YAML: {e}")))?;
    let mut warnings = Vec::new();
    let mut pip = Vec::new();
    let dependencies = match document.get("dependencies") {
        None | Some(Yaml::Null) => &[][..],
        Some(Yaml::Sequence(items)) => items.as_slice(),
        Some(_) => {
            return Err(BuildFailure(format!(
                "{ENVIRONMENT_FILE}: `dependencies` is not a list"
            )))
        }
    };
    for item in dependencies {
        match item {
            Yaml::String(spec) => {
                if let Some(warning) = conda_warning(spec.trim(), python_version) {
                    warnings.push(warning);
                }
            }
            Yaml::Number(n) => warnings.push(format!(
                "{ENVIRONMENT_FILE}: the dependency `{n}` is not installed (not a package name)"
            )),
            Yaml::Mapping(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        (Some("pip"), Yaml::Sequence(entries)) => {
                            for entry in entries {
                                match entry {
                                    Yaml::String(s) => pip.push(s.clone()),
                                    other => {
                                        return Err(BuildFailure(format!(
                                            "{ENVIRONMENT_FILE}: a `pip:` entry is not a string: {}",
                                            yaml_text(other)
                                        )))
                                    }
                                }
                            }
                        }
                        (Some("pip"), _) => {
                            return Err(BuildFailure(format!(
                                "{ENVIRONMENT_FILE}: `pip:` is not a list"
                            )))
                        }
                        (key, _) => warnings.push(format!(
                            "{ENVIRONMENT_FILE}: the dependency entry `{}` is not installed (only `pip:` lists are)",
                            key.unwrap_or("?")
                        )),
                    }
                }
            }
            other => warnings.push(format!(
                "{ENVIRONMENT_FILE}: the dependency `{}` is not installed",
                yaml_text(other)
            )),
        }
    }
    let lines = pip
        .into_iter()
        .enumerate()
        .map(|(i, l)| (i + 1, strip_comment(&l).to_owned()))
        .collect();
    Ok(Dependencies {
        file: Some(ENVIRONMENT_FILE),
        lines: normalise(&format!("{ENVIRONMENT_FILE} `pip:` entry"), lines)?,
        warnings,
    })
}

fn yaml_text(value: &Yaml) -> String {
    serde_norway::to_string(value)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The warning for a Conda dependency that pip does not install, if any:
/// `pip` needs none, and `python` only when it asks for another version.
fn conda_warning(spec: &str, python_version: &str) -> Option<String> {
    // A spec may name a channel (`conda-forge::numpy=1.26`).
    let bare = spec.rsplit("::").next().unwrap_or(spec);
    let name_end = bare
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(bare.len());
    let (name, constraint) = bare.split_at(name_end);
    let constraint = constraint.trim();
    match name.to_ascii_lowercase().as_str() {
        "pip" => None,
        "python" => {
            let wanted = constraint
                .strip_prefix("==")
                .or_else(|| constraint.strip_prefix('='))
                .map(|v| v.trim().trim_end_matches(".*"));
            match wanted {
                Some(v) if !v.is_empty() && !version_matches(v, python_version) => Some(format!(
                    "{ENVIRONMENT_FILE} asks for `{spec}`; executions run on Python {python_version}"
                )),
                _ => None,
            }
        }
        _ => Some(format!(
            "{ENVIRONMENT_FILE}: the Conda dependency `{spec}` is not installed: only the `pip:` \
             list is (list it there, or in {REQUIREMENTS_FILE}, under its PyPI name)"
        )),
    }
}

/// Whether `version` (`3.11.7`) is `wanted` (`3.11`) or starts with it
/// component by component.
fn version_matches(wanted: &str, version: &str) -> bool {
    let wanted: Vec<&str> = wanted.split('.').collect();
    let version: Vec<&str> = version.split('.').collect();
    wanted.len() <= version.len() && wanted.iter().zip(&version).all(|(w, v)| w == v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(text: &str) -> Result<Dependencies, BuildFailure> {
        from_environment(text, "3.11.7")
    }

    #[test]
    fn requirements_are_sorted_deduplicated_and_stripped_of_comments() {
        let lines = normalise(
            "requirements.txt",
            logical_lines(
                "# tools\nloguru==0.7.3  # logging\n\n--extra-index-url https://example.org/simple\nnumpy  >=1.26\nloguru==0.7.3\nqiskit \\\n  ==1.0\nurl#fragment\n",
            ),
        )
        .unwrap();
        assert_eq!(
            lines,
            [
                "--extra-index-url https://example.org/simple",
                "loguru==0.7.3",
                "numpy >=1.26",
                "qiskit ==1.0",
                "url#fragment",
            ]
        );
    }

    #[test]
    fn includes_editables_and_local_paths_are_refused_with_their_line() {
        for (text, line) in [
            ("loguru\n-r base.txt\n", 2),
            ("-e .\n", 1),
            ("./wheels/x.whl\n", 1),
            ("--requirement=other.txt\n", 1),
        ] {
            let error = normalise("requirements.txt", logical_lines(text)).unwrap_err();
            assert!(error.0.contains(&format!("line {line}")), "{error}");
        }
    }

    #[test]
    fn the_pip_list_of_environment_yml_is_installed_and_conda_only_entries_are_warnings() {
        let deps = environment(
            "name: x\nchannels: [defaults]\ndependencies:\n  - python=3.11\n  - pip=23.3\n  - numpy=1.26\n  - conda-forge::scipy\n  - pip:\n      - loguru==0.7.3\n      - qiskit==1.0 # comment\n",
        )
        .unwrap();
        assert_eq!(deps.lines, ["loguru==0.7.3", "qiskit==1.0"]);
        assert_eq!(deps.warnings.len(), 2, "{:?}", deps.warnings);
        assert!(deps.warnings[0].contains("`numpy=1.26`"));
        assert!(deps.warnings[1].contains("`conda-forge::scipy`"));
    }

    #[test]
    fn another_python_version_is_a_warning_and_the_same_one_is_not() {
        for (spec, warned) in [
            ("python=3.11", false),
            ("python==3.11.7", false),
            ("python=3.11.*", false),
            ("python>=3.9", false),
            ("python", false),
            ("python=3.9", true),
            ("python=3.1", true),
        ] {
            let deps = environment(&format!("dependencies:\n  - {spec}\n")).unwrap();
            assert_eq!(
                !deps.warnings.is_empty(),
                warned,
                "{spec}: {:?}",
                deps.warnings
            );
        }
    }

    #[test]
    fn a_broken_environment_file_fails_the_build() {
        assert!(environment("dependencies: [").is_err());
        assert!(environment("dependencies: 3").is_err());
        assert!(environment("dependencies:\n  - pip: loguru\n").is_err());
    }

    #[test]
    fn an_environment_without_dependencies_installs_nothing() {
        assert_eq!(
            environment("name: x\n").unwrap().lines,
            Vec::<String>::new()
        );
    }
}
