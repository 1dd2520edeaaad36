//! Extraction: the files land where the archive says, nothing lands
//! anywhere else.

use std::fs;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use qmarket_archive::{extract, Error, ExtractedFile, Runtime, State};

use crate::support::*;

const PYTHON: Runtime = Runtime::PythonTemplate;

/// Every path under `dir`, relative and sorted, folders with a `/`.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(at).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_valid_project_lands_file_by_file_under_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("build");
    let upload = python_project()
        .file("src/libs/helpers.py", b"X = 1\n")
        .bytes();
    let out = extract(Cursor::new(upload), PYTHON, &dir).unwrap();

    assert_eq!(
        listing(&dir),
        [
            "environment.yml",
            "requirements.txt",
            "src/",
            "src/libs/",
            "src/libs/helpers.py",
            "src/program.py"
        ]
    );
    assert_eq!(fs::read(dir.join("src/program.py")).unwrap(), PROGRAM);
    assert_eq!(fs::read(dir.join("environment.yml")).unwrap(), ENVIRONMENT);
    let file = |path: &str, size: usize| ExtractedFile {
        path: PathBuf::from(path),
        size: size as u64,
        executable: false,
    };
    assert_eq!(
        out.files,
        [
            file("src/program.py", PROGRAM.len()),
            file("environment.yml", ENVIRONMENT.len()),
            file("requirements.txt", REQUIREMENTS.len()),
            file("src/libs/helpers.py", 6),
        ]
    );
    assert_eq!(
        out.folders,
        [PathBuf::from("src"), PathBuf::from("src/libs")]
    );
    assert_eq!(out.validation.state, State::Success);
}

#[cfg(unix)]
#[test]
fn files_get_sane_modes_and_keep_only_the_execute_bit() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let upload = python_project()
        .with_mode("run.sh", b"#!/bin/sh\n", 0o4777)
        .with_mode("data.txt", b"d", 0o666)
        .bytes();
    let out = extract(Cursor::new(upload), PYTHON, tmp.path()).unwrap();
    let mode = |p: &str| {
        fs::metadata(tmp.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    // The umask may take more away, never add: no setuid, no world-write.
    assert_eq!(mode("run.sh") & !0o755, 0);
    assert_ne!(mode("run.sh") & 0o100, 0);
    assert_eq!(mode("data.txt") & !0o644, 0);
    assert!(out
        .files
        .iter()
        .any(|f| f.path == Path::new("run.sh") && f.executable));
}

#[test]
fn a_refused_archive_writes_nothing_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("build");
    let upload = rename(
        python_project().file("QQQQQQQQQQ", b"owned").bytes(),
        "QQQQQQQQQQ",
        b"../escaped",
    );
    match extract(Cursor::new(upload), PYTHON, &dir) {
        Err(Error::Refused(v)) => {
            assert_eq!(v.texts(), ["entry '../escaped' has a '..' path component"])
        }
        other => panic!("{other:?}"),
    }
    assert!(!dir.exists());
    assert_eq!(listing(tmp.path()), Vec::<String>::new());
}

#[test]
fn not_a_zip_is_refused_by_extract_too() {
    let tmp = tempfile::tempdir().unwrap();
    let err = extract(Cursor::new(b"nope".to_vec()), PYTHON, tmp.path()).unwrap_err();
    assert!(matches!(err, Error::Refused(v) if v.state == State::Error));
}

#[cfg(unix)]
#[test]
fn a_symlink_already_in_the_folder_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    let dir = tmp.path().join("build");
    fs::create_dir_all(&outside).unwrap();
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("src")).unwrap();
    std::os::unix::fs::symlink(outside.join("env"), dir.join("environment.yml")).unwrap();

    let err = extract(Cursor::new(python_project().bytes()), PYTHON, &dir).unwrap_err();
    match err {
        Error::Write { path, .. } => assert!(
            path == dir.join("src") || path == dir.join("environment.yml"),
            "{path:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(listing(&outside), Vec::<String>::new());
}

#[test]
fn an_existing_file_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("requirements.txt"), "mine").unwrap();
    let err = extract(Cursor::new(python_project().bytes()), PYTHON, tmp.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Write { path, .. } if path.ends_with("requirements.txt")),
        "{err:?}"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("requirements.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn macos_metadata_is_left_out_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let upload = python_project()
        .file("__MACOSX/._requirements.txt", b"\0\x05")
        .file("src/.DS_Store", b"Bud1")
        .bytes();
    let out = extract(Cursor::new(upload), PYTHON, tmp.path()).unwrap();
    assert_eq!(
        listing(tmp.path()),
        [
            "environment.yml",
            "requirements.txt",
            "src/",
            "src/program.py"
        ]
    );
    assert_eq!(out.validation.state, State::Warning);
    assert_eq!(
        out.validation.texts(),
        ["the archive holds macOS metadata (__MACOSX/, .DS_Store: 2 entries); it is ignored"]
    );
}

/// An upload whose data at `at` reads differently after `steady` reads
/// that start there (the reads of an entry's data, not the tail reads that
/// look for the end record).
struct Unstable {
    upload: Cursor<Vec<u8>>,
    at: u64,
    steady: usize,
}

impl Read for Unstable {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = self.upload.position();
        let n = self.upload.read(buf)?;
        if start == self.at && n > 0 {
            match self.steady.checked_sub(1) {
                Some(left) => self.steady = left,
                None => buf[0] ^= 0xff,
            }
        }
        Ok(n)
    }
}

impl Seek for Unstable {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.upload.seek(pos)
    }
}

#[test]
fn an_entry_that_reads_differently_the_second_time_stops_extraction() {
    let tmp = tempfile::tempdir().unwrap();
    let upload = python_project().stored("data.txt", b"steady").bytes();
    let at = headers(&upload, "data.txt").local as u64 + 30 + 8;
    let reader = Unstable {
        upload: Cursor::new(upload),
        at,
        // Validation reads it as it was; extraction does not.
        steady: 1,
    };
    match extract(reader, PYTHON, tmp.path()) {
        Err(Error::Changed { entry }) => assert_eq!(entry, "'data.txt'"),
        other => panic!("{other:?}"),
    }
}
