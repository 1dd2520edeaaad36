//! Opening an upload: the entry count from the end record, then the central
//! directory through `zip`, kept as plain [`Entry`] values so the reader is
//! free again for reading the entries' data.

use std::io::{Read, Seek, Write};

use crate::bomb::{self, Content};
use crate::entry_name;
use crate::error::{Error, Result};
use crate::local_header::{self, LocalHeader};
use crate::tracked::Tracked;
use crate::{end_record, wording, Limits};

/// Compression method 0: the data as is.
pub(crate) const STORED: u16 = 0;
/// Compression method 8: deflate.
pub(crate) const DEFLATED: u16 = 8;
/// Flag bit 0: the entry is encrypted.
pub(crate) const ENCRYPTED_FLAG: u16 = 1;
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// The message for an upload without an end-of-central-directory record.
pub(crate) const NOT_A_ZIP: &str =
    "the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record";
/// The message for an upload whose central directory cannot be parsed.
pub(crate) const UNREADABLE: &str =
    "the upload is not a readable ZIP archive: its central directory is damaged or truncated";

/// One entry as the central directory declares it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name as decoded by `zip` (UTF-8, else code page 437).
    pub(crate) name: String,
    /// Why the name is unsafe, if it is.
    pub(crate) name_problem: Option<String>,
    /// The path it unpacks to (see [`entry_name::normalized`]).
    pub(crate) path: String,
    pub(crate) is_dir: bool,
    pub(crate) header_start: u64,
    pub(crate) compressed_size: u64,
    pub(crate) size: u64,
    pub(crate) crc32: u32,
    pub(crate) method: u16,
    pub(crate) flags: u16,
    pub(crate) external_attributes: u32,
}

impl Entry {
    /// Unix mode `S_IFLNK` in the external attributes, whatever system the
    /// entry says it was made on (some unzippers honour it regardless).
    pub(crate) fn is_symlink(&self) -> bool {
        (self.external_attributes >> 16) & S_IFMT == S_IFLNK
    }

    pub(crate) fn is_encrypted(&self) -> bool {
        self.flags & ENCRYPTED_FLAG != 0
    }

    /// Whether a Unix mode with an execute bit came with it.
    #[cfg(feature = "extract")]
    pub(crate) fn is_executable(&self) -> bool {
        (self.external_attributes >> 16) & 0o111 != 0
    }

    /// The name in quotes, for messages.
    pub(crate) fn quoted(&self) -> String {
        wording::quoted(&self.name)
    }
}

/// An opened upload.
pub(crate) struct Archive<R> {
    reader: Tracked<R>,
    /// Every entry, in central-directory order.
    pub(crate) entries: Vec<Entry>,
    /// Whether the directory lists some name twice (`zip` keeps the last).
    pub(crate) duplicate_names: bool,
}

/// Opens `reader`; the inner `Err` is the one message of an upload that
/// cannot be looked into (not a ZIP, unreadable, too many entries).
pub(crate) fn open<R: Read + Seek>(
    reader: R,
    limits: &Limits,
) -> Result<std::result::Result<Archive<R>, String>> {
    let mut reader = Tracked::new(reader);
    let declared = match end_record::declared_entries(&mut reader) {
        Ok(declared) => declared,
        Err(_) => return refused_unless_failed(&mut reader, NOT_A_ZIP),
    };
    match declared {
        None => return Ok(Err(NOT_A_ZIP.to_string())),
        Some(n) if n > limits.max_entries => return Ok(Err(too_many(n, limits))),
        Some(_) => {}
    }
    let (entries, duplicate_names) = match zip::ZipArchive::new(&mut reader) {
        Ok(archive) => (entries(&archive), archive.has_duplicate_names()),
        Err(_) => return refused_unless_failed(&mut reader, UNREADABLE),
    };
    let Some(entries) = entries else {
        return Ok(Err(UNREADABLE.to_string()));
    };
    if entries.len() as u64 > limits.max_entries {
        return Ok(Err(too_many(entries.len() as u64, limits)));
    }
    Ok(Ok(Archive {
        reader,
        entries,
        duplicate_names,
    }))
}

fn too_many(n: u64, limits: &Limits) -> String {
    format!(
        "the archive holds {} entries; at most {} are allowed",
        wording::count(n),
        wording::count(limits.max_entries)
    )
}

/// A store failure is an error; anything else is the archive's fault.
fn refused_unless_failed<T, R>(
    reader: &mut Tracked<R>,
    message: &str,
) -> Result<std::result::Result<T, String>> {
    match reader.failure() {
        Some(failure) => Err(Error::Read(failure)),
        None => Ok(Err(message.to_string())),
    }
}

fn entries<R: Read + Seek>(archive: &zip::ZipArchive<R>) -> Option<Vec<Entry>> {
    (0..archive.len())
        .map(|i| {
            let e = archive.by_index_data(i).ok()?;
            let name = e.name().ok()?.into_owned();
            Some(Entry {
                name_problem: entry_name::problem(&name, e.name_raw(), i + 1),
                path: entry_name::normalized(&name),
                is_dir: name.ends_with('/'),
                header_start: e.header_start(),
                compressed_size: e.compressed_size(),
                size: e.size(),
                crc32: e.crc32(),
                // The enum's variants depend on `zip`'s features (which the
                // tests' writer turns on); the number does not.
                #[allow(deprecated)]
                method: e.compression().to_u16(),
                flags: e.flags().as_u16(),
                external_attributes: e.external_attributes(),
                name,
            })
        })
        .collect()
}

impl<R: Read + Seek> Archive<R> {
    /// The local header of entry `index`; `None` if it is missing or cut.
    pub(crate) fn local_header(&mut self, index: usize) -> Result<Option<LocalHeader>> {
        let at = self.entries[index].header_start;
        let header = local_header::read(&mut self.reader, at);
        self.or_failure(header.unwrap_or(None))
    }

    /// Unpacks entry `index`, whose data starts at `data_start`, into `sink`,
    /// reading at most `cap` + 1 bytes of output.
    pub(crate) fn unpack<W: Write>(
        &mut self,
        index: usize,
        data_start: u64,
        cap: u64,
        sink: &mut W,
    ) -> Result<Content> {
        let (method, packed) = (
            self.entries[index].method,
            self.entries[index].compressed_size,
        );
        let content = match self.reader.seek(std::io::SeekFrom::Start(data_start)) {
            Ok(_) => bomb::unpack((&mut self.reader).take(packed), method, cap, sink),
            Err(_) => Content::Damaged,
        };
        self.or_failure(content)
    }

    /// `value`, unless the caller's reader failed meanwhile.
    fn or_failure<T>(&mut self, value: T) -> Result<T> {
        match self.reader.failure() {
            Some(failure) => Err(Error::Read(failure)),
            None => Ok(value),
        }
    }
}
