//! Writing a validated archive's files under a folder, for the worker.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use crate::archive::{self, Archive, Entry};
use crate::bomb::Content;
use crate::entry_name;
use crate::error::{Error, Result};
use crate::layout;
use crate::validate::check;
use crate::validation::{Findings, Validation};
use crate::{Limits, Runtime};

/// One file [`extract`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedFile {
    /// Where, relative to the target folder.
    pub path: PathBuf,
    /// How many bytes.
    pub size: u64,
    /// Whether it was made executable (its entry carried an execute bit).
    pub executable: bool,
}

/// What [`extract`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// Every file, in the order they are stored in the archive.
    pub files: Vec<ExtractedFile>,
    /// Every folder it created, relative to the target folder.
    pub folders: Vec<PathBuf>,
    /// The validation it passed (its warnings are worth logging).
    pub validation: Validation,
}

/// Validates the archive `reader` holds for `runtime` and writes its files
/// under `dir` (created if missing).
///
/// Nothing is written unless the archive passes [`crate::validate`]: a
/// refusal is [`Error::Refused`]. Files are then created fresh (an existing
/// file or a symbolic link in the way is an error, never followed), only
/// through folders that are real folders under `dir`, with mode 0644 (0755
/// when the entry had an execute bit), each read again through its declared
/// size. macOS metadata (`__MACOSX/`, `.DS_Store`) is skipped. After an
/// error, what was written so far stays: the caller owns `dir`.
pub fn extract<R: Read + Seek>(reader: R, runtime: Runtime, dir: &Path) -> Result<Extracted> {
    extract_with(reader, runtime, dir, &Limits::PLATFORM)
}

/// [`extract`] with other limits.
pub fn extract_with<R: Read + Seek>(
    reader: R,
    runtime: Runtime,
    dir: &Path,
    limits: &Limits,
) -> Result<Extracted> {
    let mut archive = match archive::open(reader, limits)? {
        Ok(archive) => archive,
        Err(refusal) => {
            let mut findings = Findings::default();
            findings.error(None, refusal);
            return Err(Error::Refused(findings.finish(0, 0)));
        }
    };
    let validation = check(&mut archive, runtime, limits)?;
    if validation.is_refused() {
        return Err(Error::Refused(validation));
    }
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Extracted {
        files: Vec::new(),
        folders: Vec::new(),
        validation,
    };
    let mut order: Vec<usize> = (0..archive.entries.len()).collect();
    order.sort_by_key(|&i| archive.entries[i].header_start);
    for index in order {
        let entry = &archive.entries[index];
        if entry.path.is_empty() || layout::is_noise(&entry.path) {
            continue;
        }
        let relative = entry_name::relative_path(&entry.path).ok_or_else(|| Error::Write {
            path: dir.join(&entry.path),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path"),
        })?;
        if entry.is_dir {
            folders(dir, &relative, &mut out.folders)?;
        } else {
            if let Some(parent) = relative.parent() {
                folders(dir, parent, &mut out.folders)?;
            }
            let file = write_file(&mut archive, index, dir, relative)?;
            out.files.push(file);
        }
    }
    Ok(out)
}

/// Writes entry `index` to `dir/relative`, whose folder exists.
fn write_file<R: Read + Seek>(
    archive: &mut Archive<R>,
    index: usize,
    dir: &Path,
    relative: PathBuf,
) -> Result<ExtractedFile> {
    let path = dir.join(&relative);
    let entry: Entry = archive.entries[index].clone();
    let changed = || Error::Changed {
        entry: entry.quoted(),
    };
    let header = archive.local_header(index)?.ok_or_else(changed)?;
    let executable = entry.is_executable();
    let mut file = create_new(&path, executable).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    match archive.unpack(index, header.data_start, entry.size, &mut file)? {
        Content::Unpacked { size, crc32 } if size == entry.size && crc32 == entry.crc32 => {
            Ok(ExtractedFile {
                path: relative,
                size,
                executable,
            })
        }
        Content::Unwritable(source) => Err(Error::Write { path, source }),
        _ => Err(changed()),
    }
}

/// Opens a file that must not exist yet; `create_new` also refuses a
/// symbolic link in its place instead of following it.
fn create_new(path: &Path, executable: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)
}

/// Makes sure every folder of `relative` exists under `dir` as a real
/// folder (not a file, not a symbolic link), creating the missing ones.
fn folders(dir: &Path, relative: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut at = dir.to_path_buf();
    let mut rel = PathBuf::new();
    for part in relative.components() {
        at.push(part);
        rel.push(part);
        let failed = |source| Error::Write {
            path: at.clone(),
            source,
        };
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(failed(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a folder",
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                new_folder(&at).map_err(failed)?;
                created.push(rel.clone());
            }
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(())
}

fn new_folder(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().mode(0o755).create(path)
    }
    #[cfg(not(unix))]
    fs::create_dir(path)
}
