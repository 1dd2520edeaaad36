//! The platform manifest (`spin.toml`) against the workspace it is built
//! from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Every workspace package's directory (relative to the workspace) and the
/// names of the workspace packages it depends on (normal dependencies).
fn workspace() -> BTreeMap<String, (String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("path"));
            let dir = manifest
                .parent()
                .expect("a directory")
                .strip_prefix(root)
                .expect("inside the workspace")
                .to_string_lossy()
                .into_owned();
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|name| names.contains(name))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().expect("name").to_string(), (dir, deps))
        })
        .collect()
}

#[test]
fn every_component_build_watches_the_sources_of_every_workspace_crate_it_uses() {
    // Setup
    let packages = workspace();
    let manifest: toml::Table =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spin.toml"))
            .expect("spin.toml")
            .parse()
            .expect("TOML");
    let components = manifest["component"].as_table().expect("components");

    // Exec + Check
    for (id, component) in components {
        let build = &component["build"];
        let command = build["command"].as_str().expect("a build command");
        let package = command
            .split_whitespace()
            .skip_while(|word| *word != "-p")
            .nth(1)
            .unwrap_or_else(|| panic!("{id}: `-p <package>` in {command:?}"));
        let watched: BTreeSet<&str> = build["watch"]
            .as_array()
            .unwrap_or_else(|| panic!("{id} has watch globs"))
            .iter()
            .filter_map(|glob| glob.as_str())
            .collect();
        let mut used = BTreeSet::new();
        let mut todo = vec![package.to_string()];
        while let Some(name) = todo.pop() {
            if used.insert(name.clone()) {
                todo.extend(packages[&name].1.iter().cloned());
            }
        }
        for name in &used {
            let glob = format!("{}/src/**/*.rs", packages[name].0);
            assert!(
                watched.contains(glob.as_str()),
                "{id} uses {name}: watch {glob}"
            );
        }
    }
}
