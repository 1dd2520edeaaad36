//! Parsing of `spin.toml` (manifest version 2).
//!
//! Only what the host implements is accepted: features of Spin that the host
//! does not provide (other trigger types, `files`, SQLite databases, AI models,
//! component dependencies, remote sources, ...) stop start-up with an error
//! that names the feature, instead of being silently ignored.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid TOML or does not have the expected shape.
    #[error("invalid manifest {path}: {message}")]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong, with its location when known.
        message: String,
    },
    /// The manifest is not `spin_manifest_version = 2`.
    #[error("{path}: unsupported spin_manifest_version {version}; only version 2 is supported")]
    UnsupportedVersion {
        /// The manifest path.
        path: PathBuf,
        /// The version found.
        version: String,
    },
    /// The manifest uses a Spin feature this host does not implement.
    #[error("{path}: {feature} is not supported by the qmarket host")]
    Unsupported {
        /// The manifest path.
        path: PathBuf,
        /// The feature and where it is used.
        feature: String,
    },
}

/// An application variable declared in `[variables]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    /// The value used when no provider supplies one.
    pub default: Option<String>,
    /// Whether start-up fails when no value is available.
    pub required: bool,
    /// Whether the value must be kept out of logs.
    pub secret: bool,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// The route pattern as written (`/api/...`, `/users/:id`).
    pub route: String,
    /// The id of the component that handles it.
    pub component: String,
}

/// One `[component.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDecl {
    /// The component id.
    pub id: String,
    /// The Wasm file, resolved against the manifest's directory.
    pub source: PathBuf,
    /// Key-value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// Outbound HTTP patterns, possibly containing `{{ variable }}` templates.
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name to template over application variables.
    pub variables: BTreeMap<String, String>,
    /// Environment variables visible to the guest.
    pub environment: BTreeMap<String, String>,
    /// The sources its `[component.<id>.build]` section watches, if any.
    pub build_watch: Option<BuildWatch>,
}

/// The `watch` globs of a component's build: the files its Wasm is built
/// from, as far as the manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildWatch {
    /// The directory the globs are relative to: the manifest's, joined with
    /// the build's `workdir` when it has one (as `spin watch` reads them).
    pub dir: PathBuf,
    /// The globs as written (`src/**/*.rs`, `Cargo.toml`).
    pub globs: Vec<String>,
}

/// A parsed and validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The application name.
    pub name: String,
    /// The directory holding the manifest; relative paths resolve against it.
    pub dir: PathBuf,
    /// Application variables by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// HTTP routes in manifest order.
    pub routes: Vec<HttpRoute>,
    /// Components by id.
    pub components: BTreeMap<String, ComponentDecl>,
}

/// Component keys of Spin manifests that this host does not implement.
const UNSUPPORTED_COMPONENT_KEYS: &[&str] = &[
    "files",
    "exclude_files",
    "sqlite_databases",
    "ai_models",
    "dependencies",
    "dependencies_inherit_configuration",
    "allowed_http_hosts",
    "tool",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, toml::Value>,
    #[serde(default)]
    component: BTreeMap<String, toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    version: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    authors: Vec<String>,
    #[serde(default)]
    trigger: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    id: Option<String>,
    route: toml::Value,
    component: toml::Value,
    executor: Option<RawExecutor>,
}

#[derive(Deserialize)]
struct RawExecutor {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    #[allow(dead_code, reason = "accepted for compatibility, not used")]
    description: Option<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    /// Run by `spin build`; the host reads only what it watches.
    build: Option<RawBuild>,
}

#[derive(Deserialize)]
struct RawBuild {
    #[allow(dead_code, reason = "run by `spin build`, not by the host")]
    command: toml::Value,
    workdir: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, path, &dir)
    }

    /// Parses manifest text; `path` is used in messages, `dir` to resolve sources.
    pub fn parse(text: &str, path: &Path, dir: &Path) -> Result<Self, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        };
        let unsupported = |feature: String| ManifestError::Unsupported {
            path: path.to_owned(),
            feature,
        };
        let raw: RawManifest = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;

        match raw.spin_manifest_version.as_integer() {
            Some(2) => {}
            _ => {
                return Err(ManifestError::UnsupportedVersion {
                    path: path.to_owned(),
                    version: raw.spin_manifest_version.to_string(),
                })
            }
        }
        if raw.application.trigger.is_some() {
            return Err(unsupported("`[application.trigger]` settings".into()));
        }

        let mut variables = BTreeMap::new();
        for (name, var) in raw.variables {
            check_variable_name(&name).map_err(|m| invalid(format!("variable `{name}`: {m}")))?;
            match (&var.default, var.required) {
                (Some(_), true) => {
                    return Err(invalid(format!(
                        "variable `{name}` cannot be both required and have a default"
                    )))
                }
                (None, false) => {
                    return Err(invalid(format!(
                        "variable `{name}` must be required or have a default"
                    )))
                }
                _ => {}
            }
            variables.insert(
                name,
                VariableDecl {
                    default: var.default,
                    required: var.required,
                    secret: var.secret,
                },
            );
        }

        let mut routes = Vec::new();
        for (kind, value) in raw.trigger {
            if kind != "http" {
                return Err(unsupported(format!("the `{kind}` trigger")));
            }
            let entries: Vec<RawHttpTrigger> = value
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("[[trigger.http]]: {e}")))?;
            for entry in entries {
                if let Some(executor) = entry.executor {
                    if executor.kind != "spin" {
                        return Err(unsupported(format!(
                            "the `{}` HTTP executor",
                            executor.kind
                        )));
                    }
                }
                let component = match entry.component {
                    toml::Value::String(id) => id,
                    _ => {
                        return Err(unsupported(
                            "an inline component in [[trigger.http]]".into(),
                        ))
                    }
                };
                let route = match entry.route {
                    toml::Value::String(route) => route,
                    toml::Value::Table(t)
                        if t.get("private").and_then(toml::Value::as_bool) == Some(true) =>
                    {
                        // Private endpoints are reachable only through service
                        // chaining, which this host does not offer: not routed.
                        continue;
                    }
                    other => {
                        return Err(invalid(format!(
                            "route of component `{component}` must be a string, found {other}"
                        )))
                    }
                };
                routes.push(HttpRoute { route, component });
            }
        }

        let mut components = BTreeMap::new();
        for (id, table) in raw.component {
            if let Some(key) = UNSUPPORTED_COMPONENT_KEYS
                .iter()
                .find(|key| table.contains_key(**key))
            {
                return Err(unsupported(format!("`{key}` (in component `{id}`)")));
            }
            let comp: RawComponent = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("component `{id}`: {e}")))?;
            let source = match comp.source {
                toml::Value::String(s) => dir.join(s),
                _ => {
                    return Err(unsupported(format!(
                        "a non-file `source` (in component `{id}`)"
                    )))
                }
            };
            for name in comp.variables.keys() {
                check_variable_name(name)
                    .map_err(|m| invalid(format!("variable `{name}` of component `{id}`: {m}")))?;
            }
            components.insert(
                id.clone(),
                ComponentDecl {
                    id,
                    source,
                    key_value_stores: comp.key_value_stores,
                    allowed_outbound_hosts: comp.allowed_outbound_hosts,
                    variables: comp.variables,
                    environment: comp.environment,
                    build_watch: comp
                        .build
                        .filter(|build| !build.watch.is_empty())
                        .map(|build| BuildWatch {
                            dir: match build.workdir {
                                Some(workdir) => dir.join(workdir),
                                None => dir.to_owned(),
                            },
                            globs: build.watch,
                        }),
                },
            );
        }

        for route in &routes {
            if !components.contains_key(&route.component) {
                return Err(invalid(format!(
                    "route `{}` names component `{}`, which is not defined",
                    route.route, route.component
                )));
            }
        }

        Ok(Manifest {
            name: raw.application.name,
            dir: dir.to_owned(),
            variables,
            routes,
            components,
        })
    }
}

/// Checks Spin's variable name rule: lower-case ASCII letters, digits and
/// underscores, starting with a letter.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() => {}
        _ => return Err("must start with a lower-case letter".into()),
    }
    if chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        Ok(())
    } else {
        Err("may contain only lower-case letters, digits and underscores".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("spin.toml"), Path::new("/app"))
    }

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[[trigger.http]]
route = "/hello/..."
component = "hello"
[component.hello]
source = "target/hello.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["https://example.com"]
environment = { MODE = "test" }
[component.hello.variables]
greeting = "Hello {{ who }}"
[component.hello.build]
command = "cargo build"
watch = ["src/**/*.rs", "Cargo.toml"]
[variables]
who = { default = "world" }
token = { required = true, secret = true }
"#;

    #[test]
    fn a_complete_manifest_parses_with_sources_resolved_against_its_directory() {
        let m = parse(MINIMAL).expect("parses");
        assert_eq!(m.name, "demo");
        assert_eq!(
            m.routes,
            vec![HttpRoute {
                route: "/hello/...".into(),
                component: "hello".into()
            }]
        );
        let hello = &m.components["hello"];
        assert_eq!(hello.source, PathBuf::from("/app/target/hello.wasm"));
        assert_eq!(hello.key_value_stores, vec!["default".to_string()]);
        assert_eq!(hello.variables["greeting"], "Hello {{ who }}");
        assert_eq!(hello.environment["MODE"], "test");
        assert_eq!(
            hello.build_watch,
            Some(BuildWatch {
                dir: PathBuf::from("/app"),
                globs: vec!["src/**/*.rs".into(), "Cargo.toml".into()],
            })
        );
        assert!(m.variables["token"].required && m.variables["token"].secret);
        assert_eq!(m.variables["who"].default.as_deref(), Some("world"));
    }

    #[test]
    fn a_build_workdir_is_where_its_watch_globs_start() {
        let text = MINIMAL.replace(
            "command = \"cargo build\"",
            "command = \"cargo build\"\nworkdir = \"hello\"",
        );
        let m = parse(&text).expect("parses");
        let watch = m.components["hello"].build_watch.clone().expect("watches");
        assert_eq!(watch.dir, PathBuf::from("/app/hello"));
    }

    #[test]
    fn an_unknown_component_feature_is_rejected_by_name() {
        let text = MINIMAL.replace(
            "key_value_stores = [\"default\"]",
            "files = [\"static/**\"]",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("`files`") && err.contains("not supported"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_field_is_rejected() {
        let text = MINIMAL.replace("key_value_stores", "key_value_storez");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("key_value_storez"), "{err}");
    }

    #[test]
    fn a_non_http_trigger_is_rejected() {
        let text =
            format!("{MINIMAL}\n[[trigger.redis]]\ncomponent = \"hello\"\nchannel = \"x\"\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("`redis` trigger"), "{err}");
    }

    #[test]
    fn version_one_manifests_are_rejected() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(matches!(
            parse(&text),
            Err(ManifestError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn a_route_to_an_undefined_component_is_rejected() {
        let text = MINIMAL.replace("component = \"hello\"", "component = \"nobody\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("nobody"), "{err}");
    }

    #[test]
    fn a_variable_needs_a_default_or_required() {
        let text = MINIMAL.replace("who = { default = \"world\" }", "who = { secret = true }");
        assert!(parse(&text).is_err());
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(check_variable_name("api_key2").is_ok());
        assert!(check_variable_name("ApiKey").is_err());
        assert!(check_variable_name("2fa").is_err());
        assert!(check_variable_name("").is_err());
    }
}
