//! A build's source on the worker's disk: fetched once per build, checked,
//! unpacked, and shared by every job of that build on this machine.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use qmarket_managed::build::archive_runtime;
use qmarket_managed::protocol::Assignment;
use sha2::{Digest, Sha256};

use crate::Platform;

/// The unpacked source of `job`'s build under `work_dir`, fetching and
/// unpacking it first if this machine does not have it yet. The error is
/// said to the provider as it is.
pub fn prepare(platform: &Platform, work_dir: &Path, job: &Assignment) -> Result<PathBuf, String> {
    let dir = work_dir.join("builds").join(&job.build_id);
    let source = dir.join("source");
    let ready = dir.join(".ready");
    if ready.exists() {
        return Ok(source);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let unique = format!("{}.{}", std::process::id(), job.attempt);
    let zip_path = dir.join(format!("archive.zip.{unique}"));
    let mut zip = fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&zip_path)
        .map_err(|e| format!("cannot write the archive: {e}"))?;
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    for n in 0..job.archive.chunks {
        let chunk = platform
            .archive_chunk(&job.build_id, n)
            .map_err(|e| format!("fetching the archive failed: {e}"))?;
        hasher.update(&chunk);
        len += chunk.len() as u64;
        zip.write_all(&chunk)
            .map_err(|e| format!("cannot write the archive: {e}"))?;
    }
    let sha256: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if len != job.archive.len || sha256 != job.archive.sha256 {
        let _ = fs::remove_file(&zip_path);
        return Err("the archive fetched does not match the one uploaded".into());
    }
    zip.seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read the archive: {e}"))?;
    let unpacked = dir.join(format!("source.{unique}"));
    let extracted = qmarket_archive::extract(&mut zip, archive_runtime(job.runtime), &unpacked);
    let _ = fs::remove_file(&zip_path);
    extracted.map_err(|e| {
        let _ = fs::remove_dir_all(&unpacked);
        format!("the archive could not be unpacked: {e}")
    })?;
    // Another worker on this machine may have unpacked it meanwhile: keep
    // whichever is in place.
    if fs::rename(&unpacked, &source).is_err() {
        let _ = fs::remove_dir_all(&unpacked);
    }
    fs::write(&ready, b"").map_err(|e| format!("cannot mark the source ready: {e}"))?;
    Ok(source)
}
