//! Reading what a Python build installs.

use qmarket_archive::{environment, requirements, Environment, Error};

#[test]
fn requirements_are_the_lines_pip_reads() {
    let text = "\
# pinned for the backend
numpy==2.1.0
qiskit>=1.0  # the SDK

-r extra.txt
git+https://example.org/pkg.git#egg=pkg
scipy \\
  ==1.14
";
    assert_eq!(
        requirements(text),
        [
            "numpy==2.1.0",
            "qiskit>=1.0",
            "-r extra.txt",
            "git+https://example.org/pkg.git#egg=pkg",
            "scipy   ==1.14",
        ]
    );
    assert!(requirements("\n  \n# nothing\n").is_empty());
}

#[test]
fn an_environment_gives_its_pip_list_and_names_its_conda_packages() {
    let text = "\
name: planqk-service
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - numpy=1.26
  - conda-forge::scipy>=1.11
  - pip:
      - qiskit==1.2.4
      - -r requirements.txt
";
    assert_eq!(
        environment(text).unwrap(),
        Environment {
            python: Some("python=3.11".into()),
            pip: vec!["qiskit==1.2.4".into(), "-r requirements.txt".into()],
            conda_only: vec!["numpy=1.26".into(), "conda-forge::scipy>=1.11".into()],
        }
    );
}

#[test]
fn an_environment_without_dependencies_is_empty() {
    assert_eq!(environment("name: x\n").unwrap(), Environment::default());
    assert_eq!(environment("").unwrap(), Environment::default());
}

#[test]
fn an_environment_of_another_shape_is_an_error() {
    for (text, reason) in [
        ("dependencies: numpy\n", "dependencies: is not a list"),
        ("- a\n- b\n", "the document is not a mapping"),
        (
            "dependencies:\n  - pip:\n      - 3\n",
            "an entry of pip: is not a string",
        ),
        (
            "dependencies:\n  - conda: [x]\n",
            "a dependencies: entry is a mapping other than pip:",
        ),
        (
            "dependencies:\n  - 42\n",
            "a dependencies: entry is neither a package nor pip:",
        ),
    ] {
        match environment(text) {
            Err(Error::Environment(e)) => assert_eq!(e, reason, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(
        environment("dependencies: [unclosed\n"),
        Err(Error::Environment(_))
    ));
}
