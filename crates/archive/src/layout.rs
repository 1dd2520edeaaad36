//! What each runtime needs at the archive's root, and the most common way to
//! miss it: zipping the project folder instead of its contents.

use std::collections::{BTreeSet, HashMap};

use crate::validation::Findings;
use crate::wording::{self, quoted};
use crate::Runtime;

/// PlanQK's entry point.
pub(crate) const PROGRAM: &str = "src/program.py";
/// The conda environment.
pub(crate) const ENVIRONMENT: &str = "environment.yml";
/// The pip requirements.
pub(crate) const REQUIREMENTS: &str = "requirements.txt";
/// The component of a `WASM` service.
pub(crate) const COMPONENT: &str = "program.wasm";
/// The image recipe of a `DOCKER` service.
pub(crate) const DOCKERFILE: &str = "Dockerfile";

/// How much of `src/program.py` is searched for `run`.
pub(crate) const PROGRAM_SCAN: usize = 1 << 20;
const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Version 0x0d, layer 1: the component model's binary header.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// How many children the suggested `zip` command names before it says `.`.
const NAMED_CHILDREN: usize = 8;

/// The start of an entry kept for a content check, and its full size.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    keep: usize,
    pub(crate) head: Vec<u8>,
    pub(crate) size: u64,
}

impl Probe {
    /// A probe for the entry at `path` (normalized), if `runtime` looks into it.
    pub(crate) fn for_path(runtime: Runtime, path: &str) -> Option<Probe> {
        let keep = match (runtime, path) {
            (Runtime::PythonTemplate, PROGRAM) => PROGRAM_SCAN,
            (Runtime::Wasm, COMPONENT) => 8,
            _ => return None,
        };
        Some(Probe {
            keep,
            ..Probe::default()
        })
    }
}

impl std::io::Write for Probe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.keep - self.head.len();
        self.head.extend_from_slice(&buf[..buf.len().min(room)]);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// macOS's Finder metadata: never part of a project, ignored everywhere.
pub(crate) fn is_noise(path: &str) -> bool {
    path == "__MACOSX"
        || path.starts_with("__MACOSX/")
        || path.rsplit('/').next() == Some(".DS_Store")
}

/// The archive's paths (normalized, safe names only) and what they are.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    noise: usize,
}

impl Tree {
    /// Notes the entry at `path`.
    pub(crate) fn add(&mut self, path: &str, is_dir: bool) {
        if path.is_empty() {
            return;
        }
        if is_noise(path) {
            self.noise += 1;
            return;
        }
        let mut parent = path;
        while let Some((up, _)) = parent.rsplit_once('/') {
            self.dirs.insert(up.to_string());
            parent = up;
        }
        if is_dir {
            self.dirs.insert(path.to_string());
        } else {
            self.files.insert(path.to_string());
        }
    }

    fn has_file(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    /// The one folder everything lives in, if there is exactly one and no
    /// file beside it.
    fn single_top_folder(&self) -> Option<&str> {
        let mut tops = self
            .files
            .iter()
            .chain(&self.dirs)
            .map(|p| p.split('/').next().unwrap_or(p));
        let first = tops.next()?;
        let all_same = tops.all(|t| t == first);
        (all_same && !self.files.contains(first)).then_some(first)
    }

    /// The names right inside `folder`: folders first, then files, each
    /// sorted, as `zip -r` takes them.
    fn children(&self, folder: &str) -> Vec<&str> {
        let prefix = format!("{folder}/");
        let mut names = direct_children(&self.dirs, &prefix);
        names.extend(direct_children(&self.files, &prefix));
        names
    }
}

/// The paths of `set` right under `prefix`, without it (every ancestor
/// folder of a file is in the tree's folders, so this finds them all).
fn direct_children<'a>(set: &'a BTreeSet<String>, prefix: &str) -> Vec<&'a str> {
    set.iter()
        .filter_map(|p| p.strip_prefix(prefix))
        .filter(|rest| !rest.contains('/'))
        .collect()
}

/// Checks that `tree` holds what `runtime` needs at its root; `probes` are
/// the starts of the entries [`Probe::for_path`] asked for.
pub(crate) fn check(
    runtime: Runtime,
    tree: &Tree,
    probes: &HashMap<String, Probe>,
    findings: &mut Findings,
) {
    if tree.noise > 0 {
        findings.warning(
            None,
            format!(
                "the archive holds macOS metadata (__MACOSX/, .DS_Store: {}); it is ignored",
                wording::plural(tree.noise, "entry", "entries")
            ),
        );
    }
    if let Some(folder) = tree.single_top_folder() {
        // `src/` alone is a project missing its other files, not a project
        // zipped in its folder.
        if !(runtime == Runtime::PythonTemplate && folder == "src") {
            findings.error(None, folder_message(tree, folder));
            return;
        }
    }
    match runtime {
        Runtime::PythonTemplate => python(tree, probes, findings),
        Runtime::Wasm => wasm(tree, probes, findings),
        Runtime::Docker => {
            if !tree.has_file(DOCKERFILE) {
                findings.error(None, format!("the root holds no {DOCKERFILE}"));
            }
        }
    }
}

fn folder_message(tree: &Tree, folder: &str) -> String {
    let names = tree.children(folder);
    let contents = if names.is_empty() || names.len() > NAMED_CHILDREN {
        ".".to_string()
    } else {
        names
            .iter()
            .map(|n| shell_word(n))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "the archive holds the folder {} with the project inside; zip its contents instead: cd {} && zip -r planqk.zip {contents}",
        quoted(&format!("{folder}/")),
        shell_word(folder),
    )
}

/// `word` as one shell word: as is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+@%,:=/".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn python(tree: &Tree, probes: &HashMap<String, Probe>, findings: &mut Findings) {
    if !tree.has_file(PROGRAM) {
        findings.error(None, format!("the root holds no {PROGRAM}"));
    } else if let Some(probe) = probes.get(PROGRAM) {
        let truncated = probe.size > probe.head.len() as u64;
        if let Err(e) = std::str::from_utf8(&probe.head) {
            // A cut in the middle of a character at the scan's end is fine.
            if !(truncated && e.error_len().is_none()) {
                findings.error(
                    Some(PROGRAM),
                    format!("{PROGRAM} is not valid UTF-8 (at byte {})", e.valid_up_to()),
                );
            }
        }
        if !defines_run(&String::from_utf8_lossy(&probe.head)) {
            let within = if truncated {
                format!(" in its first {}", wording::size(PROGRAM_SCAN as u64))
            } else {
                String::new()
            };
            findings.error(
                Some(PROGRAM),
                format!(
                    "{PROGRAM} defines no top-level run function{within} (def run(data, params) or async def run(...))"
                ),
            );
        }
    }
    match (tree.has_file(ENVIRONMENT), tree.has_file(REQUIREMENTS)) {
        (false, false) => findings.error(
            None,
            format!("the root holds neither {ENVIRONMENT} nor {REQUIREMENTS}"),
        ),
        (true, false) => findings.warning(
            Some(ENVIRONMENT),
            format!(
                "{ENVIRONMENT} without {REQUIREMENTS}: the dependencies are read from its pip: section; conda packages outside it are not installed"
            ),
        ),
        _ => {}
    }
}

/// Whether `source` has a line `def run(` or `async def run(` at column 0
/// (spaces allowed between the words).
pub(crate) fn defines_run(source: &str) -> bool {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    source.lines().any(|line| {
        let line = match line.strip_prefix("async") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start_matches([' ', '\t']),
            Some(_) => return false,
            None => line,
        };
        let Some(rest) = line.strip_prefix("def") else {
            return false;
        };
        rest.starts_with([' ', '\t'])
            && rest
                .trim_start_matches([' ', '\t'])
                .strip_prefix("run")
                .is_some_and(|r| r.trim_start_matches([' ', '\t']).starts_with('('))
    })
}

fn wasm(tree: &Tree, probes: &HashMap<String, Probe>, findings: &mut Findings) {
    if !tree.has_file(COMPONENT) {
        findings.error(None, format!("the root holds no {COMPONENT}"));
        return;
    }
    let Some(probe) = probes.get(COMPONENT) else {
        return;
    };
    let head = &probe.head;
    let problem = if head.len() < 8 || &head[..4] != WASM_MAGIC {
        format!("{COMPONENT} is not a WebAssembly binary (it does not start with \\0asm)")
    } else if head[4..8] == COMPONENT_VERSION {
        return;
    } else if head[4..8] == MODULE_VERSION {
        format!(
            "{COMPONENT} is a core WebAssembly module; a WASI 0.2 command component is needed (build it for wasm32-wasip2)"
        )
    } else {
        format!(
            "{COMPONENT} has an unknown WebAssembly version {:02x} {:02x} {:02x} {:02x}; a WASI 0.2 command component is needed (build it for wasm32-wasip2)",
            head[4], head[5], head[6], head[7]
        )
    };
    findings.error(Some(COMPONENT), problem);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_is_found_at_the_top_level_only() {
        assert!(defines_run(
            "import x\n\ndef run(data, params):\n    pass\n"
        ));
        assert!(defines_run(
            "async def run(data=None, params=None) -> dict:\n"
        ));
        assert!(defines_run("\u{feff}def  run (data):\r\n"));
        assert!(defines_run(
            "# comment\n\n   \ndef run(**kw):  # the entry point\n"
        ));
        assert!(!defines_run("class A:\n    def run(self):\n"));
        assert!(!defines_run("def runner(data):\n"));
        assert!(!defines_run("# def run(data):\n"));
        assert!(!defines_run("asyncdef run(x):\n"));
        assert!(!defines_run("def run\n"));
    }

    #[test]
    fn noise_is_macos_metadata_only() {
        assert!(is_noise("__MACOSX/._program.py"));
        assert!(is_noise("src/.DS_Store"));
        assert!(!is_noise("src/DS_Store.py"));
    }

    #[test]
    fn odd_names_are_quoted_for_the_shell() {
        assert_eq!(shell_word("src"), "src");
        assert_eq!(shell_word("my project"), "'my project'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
