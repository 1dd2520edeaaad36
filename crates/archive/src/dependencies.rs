//! The dependency lists a `PYTHON_TEMPLATE` build installs:
//! `requirements.txt`, or the `pip:` list of `environment.yml`.

use serde_norway::Value;

use crate::error::{Error, Result};

/// The requirement lines of a `requirements.txt`, as pip reads them:
/// continuation lines (`\` at the end) joined, comments (`#` at the start or
/// after a space) and blank lines dropped, surrounding space trimmed.
/// Option lines (`-r other.txt`, `--index-url …`) are kept as they are.
pub fn requirements(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = without_comment(line);
        if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
            continue;
        }
        pending.push_str(line);
        let requirement = pending.trim();
        if !requirement.is_empty() {
            lines.push(requirement.to_string());
        }
        pending.clear();
    }
    let rest = pending.trim();
    if !rest.is_empty() {
        lines.push(rest.to_string());
    }
    lines
}

/// `line` up to a `#` that starts it or follows whitespace (pip's rule: a
/// `#` inside a URL fragment stays).
fn without_comment(line: &str) -> &str {
    let mut previous_space = true;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_space {
            return line[..at].trim_end();
        }
        previous_space = c.is_whitespace();
    }
    line
}

/// What an `environment.yml` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// The `python` dependency as written (`python=3.11`), if any.
    pub python: Option<String>,
    /// The `pip:` list: what the build installs.
    pub pip: Vec<String>,
    /// Every other entry of `dependencies:` (conda packages such as
    /// `numpy=1.26`): not installed, so the build warns about each by name.
    pub conda_only: Vec<String>,
}

/// Reads an `environment.yml`: its `dependencies:` list of conda package
/// specifications and at most one `pip:` list (a missing `dependencies:` is
/// an empty environment).
pub fn environment(text: &str) -> Result<Environment> {
    let document: Value =
        serde_norway::from_str(text).map_err(|e| Error::Environment(e.to_string()))?;
    let mut env = Environment::default();
    let dependencies = match &document {
        Value::Null => return Ok(env),
        Value::Mapping(top) => match top.get("dependencies") {
            None | Some(Value::Null) => return Ok(env),
            Some(Value::Sequence(list)) => list,
            Some(_) => return Err(shape("dependencies: is not a list")),
        },
        _ => return Err(shape("the document is not a mapping")),
    };
    for item in dependencies {
        match item {
            Value::String(spec) => match package_name(spec).as_str() {
                "python" => env.python = Some(spec.clone()),
                "pip" => {}
                _ => env.conda_only.push(spec.clone()),
            },
            Value::Mapping(map) => {
                let Some(Value::Sequence(pip)) = map.get("pip").filter(|_| map.len() == 1) else {
                    return Err(shape("a dependencies: entry is a mapping other than pip:"));
                };
                for spec in pip {
                    match spec {
                        Value::String(spec) => env.pip.push(spec.trim().to_string()),
                        _ => return Err(shape("an entry of pip: is not a string")),
                    }
                }
            }
            _ => return Err(shape("a dependencies: entry is neither a package nor pip:")),
        }
    }
    Ok(env)
}

fn shape(what: &str) -> Error {
    Error::Environment(what.to_string())
}

/// The package a conda specification names: `conda-forge::NumPy>=1` → `numpy`.
fn package_name(spec: &str) -> String {
    let spec = spec.trim();
    let spec = spec.rsplit_once("::").map_or(spec, |(_, name)| name);
    spec.split(|c: char| "=<>!~ [".contains(c))
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}
