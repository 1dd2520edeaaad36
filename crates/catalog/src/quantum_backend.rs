//! The quantum backends a service may name.

use serde::Serialize;

/// A quantum backend: its id (what services store) and display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuantumBackend {
    /// The id, e.g. `IBM`.
    pub id: &'static str,
    /// The display name, e.g. `IBM Quantum`.
    pub name: &'static str,
}

/// Every backend, in display order.
pub const ALL: &[QuantumBackend] = &[
    QuantumBackend {
        id: "NONE",
        name: "None",
    },
    QuantumBackend {
        id: "SIMULATOR",
        name: "Simulator",
    },
    QuantumBackend {
        id: "IBM",
        name: "IBM Quantum",
    },
    QuantumBackend {
        id: "IONQ",
        name: "IonQ",
    },
    QuantumBackend {
        id: "RIGETTI",
        name: "Rigetti",
    },
    QuantumBackend {
        id: "DWAVE",
        name: "D-Wave",
    },
    QuantumBackend {
        id: "AWS_BRAKET",
        name: "Amazon Braket",
    },
    QuantumBackend {
        id: "AZURE_QUANTUM",
        name: "Azure Quantum",
    },
    QuantumBackend {
        id: "QUANTINUUM",
        name: "Quantinuum",
    },
    QuantumBackend {
        id: "PASQAL",
        name: "Pasqal",
    },
];

/// Whether `id` names a backend (ids are compared exactly: `IBM`, not `ibm`).
pub fn is_known(id: &str) -> bool {
    ALL.iter().any(|b| b.id == id)
}

/// The sentence that lists the accepted ids, for error details.
pub(crate) fn expected() -> String {
    let ids: Vec<&str> = ALL.iter().map(|b| b.id).collect();
    format!("must be one of {}", ids.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_backends_are_all_known() {
        for id in [
            "NONE",
            "SIMULATOR",
            "IBM",
            "IONQ",
            "RIGETTI",
            "DWAVE",
            "AWS_BRAKET",
            "AZURE_QUANTUM",
        ] {
            assert!(is_known(id), "{id}");
        }
    }

    #[test]
    fn unknown_or_miscased_backends_are_not() {
        for id in ["", "ibm", "GOOGLE", "IBM "] {
            assert!(!is_known(id), "{id}");
        }
    }
}
