//! Values larger than one store value: archives, inputs, results and
//! result files, kept in chunks of at most [`CHUNK_BYTES`].
//!
//! Hosted Spin stores accept values of up to 1 MB, so a blob is written as
//! numbered chunks under its prefix (`{prefix}/{n}`), then described by a
//! [`BlobInfo`] (length, chunk count, SHA-256) that its owner keeps in its
//! own record: a blob whose info was never saved is never read. A writer
//! never holds more than one chunk ([`BlobWriter`]); a reader fetches the
//! chunks it needs ([`BlobReader`], `Read + Seek`, for ZIP archives).

use std::io::{Read, Seek, SeekFrom};

use qmarket_core::{secret, Error, Result};
use qmarket_store::{Entries, KeyValue};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most bytes in one chunk: within what hosted stores accept per value.
pub const CHUNK_BYTES: usize = 1_000_000;

/// Where a blob's chunks live, and what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobInfo {
    /// The key prefix of its chunks.
    pub prefix: String,
    /// Its length in bytes.
    pub len: u64,
    /// How many chunks.
    pub chunks: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

fn chunk_key(prefix: &str, n: u64) -> String {
    format!("{prefix}/{n}")
}

/// Writes a blob chunk by chunk as its bytes arrive.
pub struct BlobWriter {
    prefix: String,
    max_bytes: u64,
    pending: Vec<u8>,
    written: u64,
    chunks: u64,
    hasher: Sha256,
}

impl BlobWriter {
    /// A writer of a blob under `prefix` of at most `max_bytes`.
    pub fn new(prefix: impl Into<String>, max_bytes: u64) -> Self {
        BlobWriter {
            prefix: prefix.into(),
            max_bytes,
            pending: Vec::with_capacity(CHUNK_BYTES),
            written: 0,
            chunks: 0,
            hasher: Sha256::new(),
        }
    }

    /// Takes `bytes`, writing full chunks as they fill up; 413 once more
    /// than the limit arrived.
    pub fn write(&mut self, kv: &dyn KeyValue, mut bytes: &[u8]) -> Result<()> {
        if self.written + bytes.len() as u64 > self.max_bytes {
            return Err(Error::PayloadTooLarge(format!(
                "the body is larger than the limit of {} bytes",
                self.max_bytes
            )));
        }
        self.written += bytes.len() as u64;
        self.hasher.update(bytes);
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.pending.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = later;
            if self.pending.len() == CHUNK_BYTES {
                self.flush(kv)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, kv: &dyn KeyValue) -> Result<()> {
        kv.set(&chunk_key(&self.prefix, self.chunks), &self.pending)?;
        self.chunks += 1;
        self.pending.clear();
        Ok(())
    }

    /// Deletes the chunks written so far (of an upload that failed), as far
    /// as the store lets it: what is left is never referenced.
    pub fn abandon(self, kv: &dyn KeyValue) {
        let keys: Vec<String> = (0..self.chunks)
            .map(|n| chunk_key(&self.prefix, n))
            .collect();
        if !keys.is_empty() {
            let _ = kv.delete_many(&keys);
        }
    }

    /// Writes the last chunk and describes the blob.
    pub fn finish(mut self, kv: &dyn KeyValue) -> Result<BlobInfo> {
        if !self.pending.is_empty() || self.chunks == 0 {
            self.flush(kv)?;
        }
        Ok(BlobInfo {
            prefix: self.prefix,
            len: self.written,
            chunks: self.chunks,
            sha256: secret::hex(&self.hasher.finalize()),
        })
    }
}

/// Writes `bytes` as a blob under `prefix` (for values already in memory,
/// such as an execution's input).
pub fn put(kv: &dyn KeyValue, prefix: &str, bytes: &[u8]) -> Result<BlobInfo> {
    let mut writer = BlobWriter::new(prefix, u64::MAX);
    writer.write(kv, bytes)?;
    writer.finish(kv)
}

/// The `(key, value)` entries of a blob small enough to go into the
/// caller's own `set_many`, with its info.
pub fn entries(prefix: &str, bytes: &[u8]) -> (Entries, BlobInfo) {
    let chunks: Entries = if bytes.is_empty() {
        vec![(chunk_key(prefix, 0), Vec::new())]
    } else {
        bytes
            .chunks(CHUNK_BYTES)
            .enumerate()
            .map(|(n, chunk)| (chunk_key(prefix, n as u64), chunk.to_vec()))
            .collect()
    };
    let info = BlobInfo {
        prefix: prefix.to_string(),
        len: bytes.len() as u64,
        chunks: chunks.len() as u64,
        sha256: secret::hex(&Sha256::digest(bytes)),
    };
    (chunks, info)
}

impl BlobInfo {
    /// Chunk `n` (0-based).
    pub fn chunk(&self, kv: &dyn KeyValue, n: u64) -> Result<Vec<u8>> {
        if n >= self.chunks {
            return Err(Error::NotFound(format!("chunk {n} does not exist")));
        }
        kv.get(&chunk_key(&self.prefix, n))?
            .ok_or_else(|| Error::Internal(format!("chunk {n} of {} is missing", self.prefix)))
    }

    /// All of it (for blobs known to be small).
    pub fn read_all(&self, kv: &dyn KeyValue) -> Result<Vec<u8>> {
        let keys: Vec<String> = (0..self.chunks)
            .map(|n| chunk_key(&self.prefix, n))
            .collect();
        let mut bytes = Vec::with_capacity(self.len as usize);
        for (n, chunk) in kv.get_many(&keys)?.into_iter().enumerate() {
            let chunk = chunk.ok_or_else(|| {
                Error::Internal(format!("chunk {n} of {} is missing", self.prefix))
            })?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The keys of its chunks (to delete them).
    pub fn keys(&self) -> Vec<String> {
        (0..self.chunks)
            .map(|n| chunk_key(&self.prefix, n))
            .collect()
    }

    /// A reader that fetches chunks as it needs them.
    pub fn reader<'a>(&'a self, kv: &'a dyn KeyValue) -> BlobReader<'a> {
        BlobReader {
            info: self,
            kv,
            position: 0,
            cached: None,
        }
    }
}

/// `Read + Seek` over a stored blob, one chunk in memory at a time.
pub struct BlobReader<'a> {
    info: &'a BlobInfo,
    kv: &'a dyn KeyValue,
    position: u64,
    cached: Option<(u64, Vec<u8>)>,
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.info.len || buf.is_empty() {
            return Ok(0);
        }
        let n = self.position / CHUNK_BYTES as u64;
        if self.cached.as_ref().map(|(c, _)| *c) != Some(n) {
            let chunk = self
                .info
                .chunk(self.kv, n)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.cached = Some((n, chunk));
        }
        let (_, chunk) = self.cached.as_ref().expect("cached just above");
        let offset = (self.position % CHUNK_BYTES as u64) as usize;
        let available = &chunk[offset.min(chunk.len())..];
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.position += count as u64;
        Ok(count)
    }
}

impl Seek for BlobReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.info.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_store::MemoryStore;

    #[test]
    fn a_blob_is_written_in_chunks_and_read_back_whole_or_by_seeking() {
        let kv = MemoryStore::new();
        let bytes: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
        let mut writer = BlobWriter::new("blob/x", 10_000_000);
        for piece in bytes.chunks(65_536) {
            writer.write(&kv, piece).unwrap();
        }
        let info = writer.finish(&kv).unwrap();
        assert_eq!((info.len, info.chunks), (2_500_000, 3));
        assert!(kv.dump().iter().all(|(_, v)| v.len() <= CHUNK_BYTES));
        assert_eq!(info.read_all(&kv).unwrap(), bytes);
        let mut reader = info.reader(&kv);
        reader.seek(SeekFrom::End(-10)).unwrap();
        let mut tail = Vec::new();
        reader.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, &bytes[bytes.len() - 10..]);
        reader.seek(SeekFrom::Start(999_990)).unwrap();
        let mut across = [0u8; 20];
        reader.read_exact(&mut across).unwrap();
        assert_eq!(&across[..], &bytes[999_990..1_000_010]);
        let again = put(&kv, "blob/y", &bytes).unwrap();
        assert_eq!(
            (again.len, again.chunks, again.sha256),
            (info.len, info.chunks, info.sha256)
        );
    }

    #[test]
    fn a_blob_over_its_limit_is_refused_as_it_arrives() {
        let kv = MemoryStore::new();
        let mut writer = BlobWriter::new("blob/x", 10);
        writer.write(&kv, b"0123456789").unwrap();
        let err = writer.write(&kv, b"!").unwrap_err();
        assert!(matches!(err, Error::PayloadTooLarge(_)), "{err}");
    }

    #[test]
    fn small_blobs_go_into_the_callers_own_write() {
        let (one, info) = entries("in/x", b"{}");
        assert_eq!(one, [("in/x/0".to_string(), b"{}".to_vec())]);
        assert_eq!((info.len, info.chunks), (2, 1));
        let (empty, info) = entries("in/empty", b"");
        assert_eq!(empty.len(), 1);
        assert_eq!(info.len, 0);
    }
}
