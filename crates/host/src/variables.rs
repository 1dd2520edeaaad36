//! Application and component variables (`fermyon:spin/variables`).
//!
//! Application variables are resolved once at start-up: first from the
//! environment (`SPIN_VARIABLE_<NAME>`, upper case), then from the manifest
//! default. Component variables are templates over application variables
//! (`"https://{{ api_host }}"`) and are expanded once per component.

use crate::manifest::{Manifest, VariableDecl};
use std::collections::{BTreeMap, HashMap};

/// The prefix of environment variables that provide variable values.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

/// Why variables could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    /// A required application variable has no value.
    #[error("required variable `{name}` has no value: set {env}")]
    MissingRequired {
        /// The variable name.
        name: String,
        /// The environment variable that would provide it.
        env: String,
    },
    /// A template is malformed or names an undeclared variable.
    #[error("{context}: {reason}")]
    Template {
        /// Where the template appears.
        context: String,
        /// What is wrong.
        reason: String,
    },
}

/// Where variable values come from, besides manifest defaults.
#[derive(Debug, Clone, Default)]
pub struct VariableSource {
    /// Explicit `(NAME, value)` environment entries, e.g. `("SPIN_VARIABLE_TOKEN", "x")`.
    /// Plain variable names (`("token", "x")`) are accepted too.
    pub env: Vec<(String, String)>,
    /// Whether to also read the process environment.
    pub inherit_process_env: bool,
}

impl VariableSource {
    fn lookup(&self, name: &str) -> Option<String> {
        let env_name = env_name(name);
        self.env
            .iter()
            .rev()
            .find(|(k, _)| *k == env_name || k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                self.inherit_process_env
                    .then(|| std::env::var(&env_name).ok())
                    .flatten()
            })
    }
}

/// The environment variable that provides application variable `name`.
pub fn env_name(name: &str) -> String {
    format!("{ENV_PREFIX}{}", name.to_ascii_uppercase())
}

/// Resolved application variable values.
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: HashMap<String, String>,
}

impl AppVariables {
    /// Resolves every declared variable; a required one without value is an error.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        source: &VariableSource,
    ) -> Result<Self, VariablesError> {
        let mut values = HashMap::new();
        for (name, decl) in decls {
            match source.lookup(name).or_else(|| decl.default.clone()) {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None => {
                    return Err(VariablesError::MissingRequired {
                        name: name.clone(),
                        env: env_name(name),
                    })
                }
            }
        }
        Ok(Self { values })
    }

    /// Expands `{{ name }}` templates in `text`.
    pub fn expand(&self, text: &str, context: &str) -> Result<String, VariablesError> {
        expand_template(text, |name| self.values.get(name).cloned()).map_err(|reason| {
            VariablesError::Template {
                context: context.to_string(),
                reason,
            }
        })
    }

    /// Expands the component variables of every component of `manifest`.
    pub fn component_values(
        &self,
        manifest: &Manifest,
    ) -> Result<HashMap<String, ComponentVariables>, VariablesError> {
        manifest
            .components
            .values()
            .map(|c| {
                let values = c
                    .variables
                    .iter()
                    .map(|(name, template)| {
                        let ctx = format!("variable `{name}` of component `{}`", c.id);
                        Ok((name.clone(), self.expand(template, &ctx)?))
                    })
                    .collect::<Result<_, VariablesError>>()?;
                Ok((c.id.clone(), ComponentVariables { values }))
            })
            .collect()
    }
}

/// The expanded variables one component can read.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    values: HashMap<String, String>,
}

impl ComponentVariables {
    /// The value of `name`, if the component declares it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Expands `{{ name }}` occurrences with `lookup`; `{{` without `}}`, an
/// invalid name or an unknown variable is an error.
pub fn expand_template(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unterminated `{{{{` in `{text}`"))?;
        let name = after[..end].trim();
        crate::manifest::check_variable_name(name)
            .map_err(|m| format!("`{{{{ {name} }}}}` in `{text}`: {m}"))?;
        let value = lookup(name).ok_or_else(|| {
            format!("`{text}` refers to variable `{name}`, which is not declared in [variables]")
        })?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(default: Option<&str>) -> VariableDecl {
        VariableDecl {
            default: default.map(str::to_string),
            required: default.is_none(),
            secret: false,
        }
    }

    #[test]
    fn environment_beats_default() {
        let decls = BTreeMap::from([("greeting".to_string(), decl(Some("hi")))]);
        let source = VariableSource {
            env: vec![("SPIN_VARIABLE_GREETING".into(), "hello".into())],
            inherit_process_env: false,
        };
        let vars = AppVariables::resolve(&decls, &source).expect("resolves");
        assert_eq!(
            vars.expand("{{ greeting }}!", "t").expect("expands"),
            "hello!"
        );
    }

    #[test]
    fn default_applies_without_environment() {
        let decls = BTreeMap::from([("greeting".to_string(), decl(Some("hi")))]);
        let vars = AppVariables::resolve(&decls, &VariableSource::default()).expect("resolves");
        assert_eq!(vars.expand("{{greeting}}", "t").expect("expands"), "hi");
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        let decls = BTreeMap::from([("api_token".to_string(), decl(None))]);
        let err = AppVariables::resolve(&decls, &VariableSource::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("api_token") && msg.contains("SPIN_VARIABLE_API_TOKEN"),
            "{msg}"
        );
    }

    #[test]
    fn templates_reject_unknown_variables_and_bad_syntax() {
        let lookup = |n: &str| (n == "a").then(|| "1".to_string());
        assert_eq!(
            expand_template("x{{ a }}y{{a}}", lookup).expect("ok"),
            "x1y1"
        );
        assert!(expand_template("{{ b }}", lookup).is_err());
        assert!(expand_template("{{ a", lookup).is_err());
        assert!(expand_template("{{ A }}", lookup).is_err());
    }
}

mod host {
    use crate::bindings::fermyon::spin::variables::{Error, Host};
    use crate::state::RequestState;

    impl Host for RequestState {
        async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
            if let Err(reason) = crate::manifest::check_variable_name(&name) {
                return Ok(Err(Error::InvalidName(format!("{name}: {reason}"))));
            }
            Ok(self
                .variables
                .get(&name)
                .map(str::to_string)
                .ok_or(Error::Undefined(format!("no variable named `{name}`"))))
        }
    }
}
