//! Files a runtime uses: the programs it starts, and a program's input files.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Writes `bytes` to a new file `path` with `mode`.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Writes each request key as `<key>.json` into `dir` (read-only for the
/// program); keys that are no plain file names are left out, with a warning.
pub(crate) fn write_inputs(
    dir: &Path,
    request: &serde_json::Map<String, Value>,
) -> io::Result<Vec<String>> {
    fs::create_dir_all(dir)?;
    let mut warnings = Vec::new();
    for (key, value) in request {
        let plain = !key.is_empty()
            && !key.starts_with('.')
            && key.len() <= 200
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !plain {
            warnings.push(format!(
                "the request key {key:?} is no file name: no input file written for it"
            ));
            continue;
        }
        let text = serde_json::to_vec(value).map_err(io::Error::other)?;
        write_file(&dir.join(format!("{key}.json")), &text, 0o444)?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555))?;
    Ok(warnings)
}

/// The first `name` on `PATH`, then in `/usr/bin`.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .map(|m| m.is_file() && m.mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}
