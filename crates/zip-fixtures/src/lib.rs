//! ZIP archives for tests: built with the `zip` crate, then patched into the
//! ones no honest writer makes (hostile names, lying sizes, bombs).
//!
//! The archive rules' own tests and the platform's end-to-end upload tests
//! share these, so both check the same hostile bytes.

use std::io::{Cursor, Write};

use zip::write::{SimpleFileOptions, ZipWriter};
use zip::CompressionMethod;

/// Offsets of the fields the tests patch, from the start of a header:
/// the local header's general-purpose flags.
pub const LOCAL_FLAGS: usize = 6;
/// The local header's compression method.
pub const LOCAL_METHOD: usize = 8;
/// The local header's CRC-32.
pub const LOCAL_CRC: usize = 14;
/// The local header's uncompressed size.
pub const LOCAL_SIZE: usize = 22;
/// The central header's general-purpose flags.
pub const CENTRAL_FLAGS: usize = 8;
/// The central header's compression method.
pub const CENTRAL_METHOD: usize = 10;
/// The central header's CRC-32.
pub const CENTRAL_CRC: usize = 16;
/// The central header's compressed size.
pub const CENTRAL_COMPRESSED: usize = 20;
/// The central header's uncompressed size.
pub const CENTRAL_SIZE: usize = 24;
/// The central header's offset of its local header.
pub const CENTRAL_LOCAL_OFFSET: usize = 42;

/// A `src/program.py` that defines `run`.
pub const PROGRAM: &[u8] =
    b"import json\n\ndef run(data=None, params=None):\n    return {\"sum\": 1}\n";
/// An `environment.yml` that installs `requirements.txt`.
pub const ENVIRONMENT: &[u8] =
    b"name: planqk\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - -r requirements.txt\n";
/// A `requirements.txt`.
pub const REQUIREMENTS: &[u8] = b"numpy==2.1.0\n";

/// An archive being written.
pub struct Zip(ZipWriter<Cursor<Vec<u8>>>);

impl Default for Zip {
    fn default() -> Self {
        Self::new()
    }
}

impl Zip {
    /// An empty archive.
    pub fn new() -> Self {
        Zip(ZipWriter::new(Cursor::new(Vec::new())))
    }

    /// A deflated file.
    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.with(name, data, SimpleFileOptions::default())
    }

    /// A file stored as is.
    pub fn stored(self, name: &str, data: &[u8]) -> Self {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        self.with(name, data, options)
    }

    /// A file with Unix permissions `mode`.
    pub fn with_mode(self, name: &str, data: &[u8], mode: u32) -> Self {
        self.with(
            name,
            data,
            SimpleFileOptions::default().unix_permissions(mode),
        )
    }

    fn with(mut self, name: &str, data: &[u8], options: SimpleFileOptions) -> Self {
        self.0.start_file(name, options).unwrap();
        self.0.write_all(data).unwrap();
        self
    }

    /// A folder entry (`name` ends in `/`).
    pub fn dir(mut self, name: &str) -> Self {
        self.0
            .add_directory(name, SimpleFileOptions::default())
            .unwrap();
        self
    }

    /// A symbolic link to `target`.
    pub fn symlink(mut self, name: &str, target: &str) -> Self {
        self.0
            .add_symlink(name, target, SimpleFileOptions::default())
            .unwrap();
        self
    }

    /// The finished archive.
    pub fn bytes(self) -> Vec<u8> {
        self.0.finish().unwrap().into_inner()
    }
}

/// PlanQK's template, as a provider zips it from inside the project.
pub fn python_project() -> Zip {
    Zip::new()
        .dir("src/")
        .file("src/program.py", PROGRAM)
        .file("environment.yml", ENVIRONMENT)
        .file("requirements.txt", REQUIREMENTS)
}

/// Where one entry's headers start.
pub struct Headers {
    /// Its local header.
    pub local: usize,
    /// Its central directory header.
    pub central: usize,
}

/// The headers of the entry named `name` (the first of each kind).
pub fn headers(bytes: &[u8], name: &str) -> Headers {
    let find = |signature: &[u8], name_at: usize, name_len_at: usize| {
        (0..bytes.len() - name_at)
            .find(|&at| {
                bytes[at..].starts_with(signature)
                    && bytes[at + name_at..].starts_with(name.as_bytes())
                    && u16_at(bytes, at + name_len_at) as usize == name.len()
            })
            .unwrap_or_else(|| panic!("no header for {name}"))
    };
    Headers {
        local: find(b"PK\x03\x04", 30, 26),
        central: find(b"PK\x01\x02", 46, 28),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The little-endian `u32` at `at`.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Writes a little-endian `u16` at `at`.
pub fn set_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u32` at `at`.
pub fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Renames every occurrence of `from` (an entry's name, in its local and
/// central header) to `to`, which has the same length: how names that no
/// writer would accept get into an archive.
pub fn rename(mut bytes: Vec<u8>, from: &str, to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut at = 0;
    let mut renamed = 0;
    while let Some(found) = bytes[at..]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
    {
        let start = at + found;
        bytes[start..start + to.len()].copy_from_slice(to);
        at = start + to.len();
        renamed += 1;
    }
    assert_eq!(
        renamed, 2,
        "{from} should be in one local and one central header"
    );
    bytes
}

/// Sets the declared uncompressed size of `name` in both headers.
pub fn declare_size(mut bytes: Vec<u8>, name: &str, size: u32) -> Vec<u8> {
    let h = headers(&bytes, name);
    set_u32(&mut bytes, h.local + LOCAL_SIZE, size);
    set_u32(&mut bytes, h.central + CENTRAL_SIZE, size);
    bytes
}

/// PlanQK's template zipped as its folder `myproject/` (not its contents).
pub fn folder_zipped() -> Vec<u8> {
    Zip::new()
        .dir("myproject/")
        .dir("myproject/src/")
        .file("myproject/src/program.py", PROGRAM)
        .file("myproject/environment.yml", ENVIRONMENT)
        .file("myproject/requirements.txt", REQUIREMENTS)
        .bytes()
}

/// The project plus one entry renamed to `name` after writing.
pub fn with_hostile_name(name: &[u8]) -> Vec<u8> {
    let placeholder = "Q".repeat(name.len());
    let bytes = python_project().file(&placeholder, b"x").bytes();
    rename(bytes, &placeholder, name)
}

/// The project plus `bomb.bin`: `len` zero bytes, deflated.
pub fn with_zeros(len: usize) -> Vec<u8> {
    python_project().file("bomb.bin", &vec![0; len]).bytes()
}

/// Only the central directory declares `size`; the local header is honest.
pub fn central_size_lies(mut bytes: Vec<u8>, name: &str, size: u32) -> Vec<u8> {
    let central = headers(&bytes, name).central;
    set_u32(&mut bytes, central + CENTRAL_SIZE, size);
    bytes
}

/// The project plus `n` empty files under `data/`.
pub fn with_empty_files(n: usize) -> Vec<u8> {
    (0..n)
        .fold(python_project(), |zip, i| {
            zip.stored(&format!("data/{i}"), b"")
        })
        .bytes()
}

/// `src/program.py` holding `program`, with a `requirements.txt`.
pub fn with_program(program: &[u8]) -> Vec<u8> {
    Zip::new()
        .file("src/program.py", program)
        .file("requirements.txt", REQUIREMENTS)
        .bytes()
}

/// A `WASM` service's archive: `program` as `program.wasm` at the root.
pub fn wasm_project(program: &[u8]) -> Vec<u8> {
    Zip::new().file("program.wasm", program).bytes()
}

/// The archive `zip -r planqk.zip <entries…>` makes from inside `root`:
/// each entry a file or a folder (with everything under it, folders
/// first), named relative to `root`.
pub fn zip_from(root: &std::path::Path, entries: &[&str]) -> Vec<u8> {
    fn add(zip: Zip, root: &std::path::Path, relative: &str) -> Zip {
        let path = root.join(relative);
        if path.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
                .into_iter()
                .fold(zip.dir(&format!("{relative}/")), |zip, name| {
                    add(zip, root, &format!("{relative}/{name}"))
                })
        } else {
            zip.file(relative, &std::fs::read(&path).unwrap())
        }
    }
    entries
        .iter()
        .fold(Zip::new(), |zip, entry| add(zip, root, entry))
        .bytes()
}
