//! The runtimes a managed service's archive is checked for.

use serde::{Deserialize, Serialize};

/// How the platform runs a managed service; each runtime expects its own
/// files at the archive's root.
///
/// The same names as the API's `runtime` field (`PYTHON_TEMPLATE`, `WASM`,
/// `DOCKER`); kept here rather than taken from the model crate so the
/// validator stays free of the platform's record types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Runtime {
    /// PlanQK's Python coding template: `src/program.py` defining `run`, and
    /// `environment.yml` or `requirements.txt`.
    #[default]
    PythonTemplate,
    /// A WASI 0.2 command component: `program.wasm`.
    Wasm,
    /// A container image built from the root's `Dockerfile`.
    Docker,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_use_the_api_names() {
        for (runtime, name) in [
            (Runtime::PythonTemplate, "\"PYTHON_TEMPLATE\""),
            (Runtime::Wasm, "\"WASM\""),
            (Runtime::Docker, "\"DOCKER\""),
        ] {
            assert_eq!(serde_json::to_string(&runtime).unwrap(), name);
            assert_eq!(serde_json::from_str::<Runtime>(name).unwrap(), runtime);
        }
    }
}
