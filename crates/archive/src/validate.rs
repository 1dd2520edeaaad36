//! Checking an upload against every rule, collecting every message.

use std::collections::HashMap;
use std::io::{Read, Seek};

use crate::archive::{self, Archive, Entry, DEFLATED, ENCRYPTED_FLAG, STORED};
use crate::bomb::{self, Content};
use crate::error::Result;
use crate::layout::{self, Probe, Tree};
use crate::local_header::{LocalHeader, DATA_DESCRIPTOR};
use crate::validation::{Findings, Validation};
use crate::{wording, Limits, Runtime};

/// Checks the ZIP archive `reader` holds against the platform's rules for
/// `runtime` ([`Limits::PLATFORM`]).
///
/// Reads the end record, the central directory (after its entry count
/// passed), then every entry's data once, in stored order, through a bound
/// of its declared size: beyond the directory's entries, memory stays at a
/// few buffers and the first 1 MiB of `src/program.py`, whatever the upload
/// holds.
///
/// `Err` only when the reader itself fails; a broken archive is a
/// [`Validation`] in state `ERROR`. The reader should behave like a file:
/// seeking past the end succeeds and reading there returns no bytes (an
/// error is taken for a failing store, whatever the archive says).
pub fn validate<R: Read + Seek>(reader: R, runtime: Runtime) -> Result<Validation> {
    validate_with(reader, runtime, &Limits::PLATFORM)
}

/// [`validate`] with other limits.
pub fn validate_with<R: Read + Seek>(
    reader: R,
    runtime: Runtime,
    limits: &Limits,
) -> Result<Validation> {
    match archive::open(reader, limits)? {
        Ok(mut archive) => check(&mut archive, runtime, limits),
        Err(refusal) => {
            let mut findings = Findings::default();
            findings.error(None, refusal);
            Ok(findings.finish(0, 0))
        }
    }
}

/// Every check on an opened archive.
pub(crate) fn check<R: Read + Seek>(
    archive: &mut Archive<R>,
    runtime: Runtime,
    limits: &Limits,
) -> Result<Validation> {
    let mut findings = Findings::default();
    if archive.duplicate_names {
        findings.error(None, "the archive lists an entry name more than once");
    }
    let mut readable = vec![true; archive.entries.len()];
    for (entry, readable) in archive.entries.iter().zip(&mut readable) {
        *readable = entry_rules(entry, limits, &mut findings);
    }
    clashes(&archive.entries, &mut findings);

    let declared = archive
        .entries
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.size));
    if declared > limits.max_unpacked {
        findings.error(
            None,
            format!(
                "the archive unpacks to {}; at most {} are allowed",
                wording::size(declared),
                wording::size(limits.max_unpacked)
            ),
        );
    }

    let unpacked = read_entries(archive, runtime, limits, &readable, &mut findings)?;

    let mut tree = Tree::default();
    for entry in archive.entries.iter().filter(|e| e.name_problem.is_none()) {
        tree.add(&entry.path, entry.is_dir);
    }
    layout::check(runtime, &tree, &unpacked.probes, &mut findings);
    Ok(findings.finish(archive.entries.len(), unpacked.total))
}

/// The rules on one entry's declaration; whether its data can be read.
fn entry_rules(entry: &Entry, limits: &Limits, findings: &mut Findings) -> bool {
    let name = Some(entry.name.as_str());
    let q = entry.quoted();
    if let Some(problem) = &entry.name_problem {
        findings.error(name, problem.clone());
    }
    if entry.is_symlink() {
        findings.error(name, format!("entry {q} is a symbolic link"));
    }
    if entry.is_encrypted() {
        findings.error(name, format!("entry {q} is encrypted"));
        return false;
    }
    if entry.method != STORED && entry.method != DEFLATED {
        findings.error(
            name,
            format!(
                "entry {q} uses compression method {}; only stored (0) and deflate (8) are supported",
                entry.method
            ),
        );
        return false;
    }
    if let Some(absurd) = bomb::absurd_ratio(entry, limits) {
        findings.error(name, absurd);
        return false;
    }
    true
}

/// Entries that would unpack onto each other, or under a file.
fn clashes(entries: &[Entry], findings: &mut Findings) {
    let safe = || {
        entries
            .iter()
            .filter(|e| e.name_problem.is_none() && !e.path.is_empty())
    };
    let mut by_path: HashMap<&str, &Entry> = HashMap::new();
    for entry in safe() {
        if let Some(first) = by_path.get(entry.path.as_str()) {
            if first.is_dir != entry.is_dir || !entry.is_dir {
                findings.error(
                    Some(&entry.name),
                    format!(
                        "entry {} unpacks to the same path as {}",
                        entry.quoted(),
                        first.quoted()
                    ),
                );
            }
        } else {
            by_path.insert(&entry.path, entry);
        }
    }
    for entry in safe() {
        let mut parent = entry.path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            if let Some(file) = by_path.get(up).filter(|e| !e.is_dir) {
                findings.error(
                    Some(&entry.name),
                    format!(
                        "entry {} lies under {}, which is a file",
                        entry.quoted(),
                        file.quoted()
                    ),
                );
                break;
            }
            parent = up;
        }
    }
}

/// What reading the data found beyond the messages.
struct Unpacked {
    total: u64,
    probes: HashMap<String, Probe>,
}

/// Reads every readable entry's data once, in the order it is stored, within
/// its declared size and the archive's budget.
fn read_entries<R: Read + Seek>(
    archive: &mut Archive<R>,
    runtime: Runtime,
    limits: &Limits,
    readable: &[bool],
    findings: &mut Findings,
) -> Result<Unpacked> {
    let mut order: Vec<usize> = (0..archive.entries.len()).collect();
    order.sort_by_key(|&i| archive.entries[i].header_start);
    let mut unpacked = Unpacked {
        total: 0,
        probes: HashMap::new(),
    };
    let mut overlaps = Vec::new();
    let mut stored_end = 0u64;
    let mut previous: Option<usize> = None;
    let mut budget_spent = false;
    for index in order {
        let header = archive.local_header(index)?;
        let entry = &archive.entries[index];
        let name = Some(entry.name.as_str());
        let Some(header) = header else {
            findings.error(
                name,
                format!(
                    "entry {} is damaged: its local header is missing or cut short",
                    entry.quoted()
                ),
            );
            continue;
        };
        if let Some(before) = previous.filter(|_| entry.header_start < stored_end) {
            overlaps.push((before, index));
        }
        let end = header.data_start.saturating_add(entry.compressed_size);
        if end > stored_end {
            stored_end = end;
            previous = Some(index);
        }
        local_rules(entry, &header, findings);
        if !readable[index] || budget_spent || header.flags & ENCRYPTED_FLAG != 0 {
            continue;
        }

        let remaining = limits.max_unpacked - unpacked.total;
        let cap = entry.size.min(remaining);
        let mut probe = (!entry.is_dir && entry.name_problem.is_none())
            .then(|| Probe::for_path(runtime, &entry.path))
            .flatten();
        let content = match probe.as_mut() {
            Some(probe) => archive.unpack(index, header.data_start, cap, probe)?,
            None => archive.unpack(index, header.data_start, cap, &mut std::io::sink())?,
        };
        let entry = &archive.entries[index];
        let name = Some(entry.name.as_str());
        let q = entry.quoted();
        match content {
            // The budget ran out before this entry's declared size: every
            // entry so far unpacked to at most what it declared, so the
            // declared total is over the limit and already said so.
            Content::TooLong if cap < entry.size => budget_spent = true,
            Content::TooLong => findings.error(
                name,
                format!(
                    "entry {q} unpacks to more than the {} bytes it declares",
                    wording::count(entry.size)
                ),
            ),
            Content::Unpacked { size, crc32 } => {
                unpacked.total += size;
                if size != entry.size {
                    findings.error(
                        name,
                        format!(
                            "entry {q} unpacks to {} bytes but declares {}",
                            wording::count(size),
                            wording::count(entry.size)
                        ),
                    );
                } else if crc32 != entry.crc32 {
                    findings.error(
                        name,
                        format!("entry {q} is damaged: its CRC-32 does not match its data"),
                    );
                } else if let Some(probe) = probe {
                    unpacked.probes.insert(entry.path.clone(), probe);
                }
            }
            Content::Damaged | Content::Unwritable(_) => findings.error(
                name,
                format!("entry {q} is damaged: its data cannot be decompressed"),
            ),
        }
    }
    if let Some(&(first, second)) = overlaps.first() {
        let more = overlaps.len() - 1;
        let also = if more > 0 {
            format!(
                ", and {} more overlap",
                wording::plural(more, "entry", "entries")
            )
        } else {
            String::new()
        };
        let entries = &archive.entries;
        findings.error(
            Some(&entries[second].name),
            format!(
                "entries {} and {} overlap in the archive{also}",
                entries[first].quoted(),
                entries[second].quoted()
            ),
        );
    }
    Ok(unpacked)
}

/// The local header must declare what the central directory declares.
fn local_rules(entry: &Entry, local: &LocalHeader, findings: &mut Findings) {
    let name = Some(entry.name.as_str());
    let q = entry.quoted();
    if local.flags & ENCRYPTED_FLAG != 0 && !entry.is_encrypted() {
        findings.error(
            name,
            format!("entry {q} is encrypted (its local header says so)"),
        );
    }
    if local.method != entry.method {
        findings.error(
            name,
            format!(
                "entry {q} uses compression method {} in the central directory but {} in its local header",
                entry.method, local.method
            ),
        );
    }
    // With a data descriptor the local header may hold zeros instead.
    let deferred = local.flags & DATA_DESCRIPTOR != 0;
    let differs = |local: u64, central: u64| local != central && !(deferred && local == 0);
    for (what, central, local) in [
        ("an uncompressed size", entry.size, local.size),
        (
            "a compressed size",
            entry.compressed_size,
            local.compressed_size,
        ),
    ] {
        if differs(local, central) {
            findings.error(
                name,
                format!(
                    "entry {q} declares {what} of {} bytes in the central directory but {} bytes in its local header",
                    wording::count(central),
                    wording::count(local)
                ),
            );
        }
    }
    if differs(u64::from(local.crc32), u64::from(entry.crc32)) {
        findings.error(
            name,
            format!("entry {q} declares another CRC-32 in its local header than in the central directory"),
        );
    }
}
