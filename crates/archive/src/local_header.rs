//! The local header in front of each entry's data: where the data starts,
//! and what it declares, which must agree with the central directory (some
//! unzippers trust one, some the other).

use std::io::{self, Read, Seek, SeekFrom};

const SIGNATURE: &[u8; 4] = b"PK\x03\x04";
const FIXED_LEN: u64 = 30;
const ZIP64_EXTRA: u16 = 0x0001;
const ZIP64_MARK: u32 = u32::MAX;
/// Bit 3 of the flags: CRC and sizes follow the data, the header holds zeros.
pub(crate) const DATA_DESCRIPTOR: u16 = 1 << 3;

/// What one local header declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalHeader {
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc32: u32,
    pub(crate) compressed_size: u64,
    pub(crate) size: u64,
    /// Where the entry's data starts.
    pub(crate) data_start: u64,
}

/// Reads the local header at `at`; `None` if there is none (wrong signature,
/// or the upload ends inside it).
pub(crate) fn read<R: Read + Seek>(reader: &mut R, at: u64) -> io::Result<Option<LocalHeader>> {
    reader.seek(SeekFrom::Start(at))?;
    let mut fixed = [0; FIXED_LEN as usize];
    if !read_all(reader, &mut fixed)? || &fixed[..4] != SIGNATURE {
        return Ok(None);
    }
    let name_len = u16_at(&fixed, 26);
    let extra_len = u16_at(&fixed, 28);
    let mut variable = vec![0; usize::from(name_len) + usize::from(extra_len)];
    if !read_all(reader, &mut variable)? {
        return Ok(None);
    }
    let extra = &variable[usize::from(name_len)..];
    let mut compressed_size = u64::from(u32_at(&fixed, 18));
    let mut size = u64::from(u32_at(&fixed, 22));
    if compressed_size == u64::from(ZIP64_MARK) || size == u64::from(ZIP64_MARK) {
        if let Some(zip64) = field(extra, ZIP64_EXTRA) {
            (size, compressed_size) = zip64_sizes(zip64, size, compressed_size);
        }
    }
    Ok(Some(LocalHeader {
        flags: u16_at(&fixed, 6),
        method: u16_at(&fixed, 8),
        crc32: u32_at(&fixed, 14),
        compressed_size,
        size,
        data_start: at + FIXED_LEN + u64::from(name_len) + u64::from(extra_len),
    }))
}

/// The ZIP64 sizes replacing the marked ones. The format asks for both in a
/// local header; writers that put only the marked ones are read too.
fn zip64_sizes(zip64: &[u8], size: u64, compressed: u64) -> (u64, u64) {
    let mark = u64::from(ZIP64_MARK);
    if zip64.len() >= 16 {
        let pick = |value: u64, at: usize| {
            if value == mark {
                u64_at(zip64, at)
            } else {
                value
            }
        };
        return (pick(size, 0), pick(compressed, 8));
    }
    let mut values = zip64.chunks_exact(8).map(|c| u64_at(c, 0));
    let size = if size == mark {
        values.next().unwrap_or(size)
    } else {
        size
    };
    let compressed = if compressed == mark {
        values.next().unwrap_or(compressed)
    } else {
        compressed
    };
    (size, compressed)
}

/// The data of extra field `id`, if present.
fn field(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let (this, len) = (u16_at(extra, 0), usize::from(u16_at(extra, 2)));
        let data = extra.get(4..4 + len)?;
        if this == id {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// `read_exact` that answers `false` where the upload ends early.
fn read_all<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn header(compressed: u32, size: u32, extra: &[u8]) -> Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend(20u16.to_le_bytes()); // version
        h.extend(0u16.to_le_bytes()); // flags
        h.extend(8u16.to_le_bytes()); // method
        h.extend([0; 4]); // time, date
        h.extend(0xdead_beefu32.to_le_bytes());
        h.extend(compressed.to_le_bytes());
        h.extend(size.to_le_bytes());
        h.extend(1u16.to_le_bytes());
        h.extend((extra.len() as u16).to_le_bytes());
        h.push(b'a');
        h.extend(extra);
        h
    }

    #[test]
    fn a_header_says_where_the_data_starts() {
        let mut bytes = vec![0; 5];
        bytes.extend(header(3, 4, b"\x99\x99\x00\x00"));
        let h = read(&mut Cursor::new(bytes), 5).unwrap().unwrap();
        assert_eq!(
            (h.method, h.crc32, h.compressed_size, h.size),
            (8, 0xdead_beef, 3, 4)
        );
        assert_eq!(h.data_start, 5 + 30 + 1 + 4);
    }

    #[test]
    fn zip64_sizes_come_from_the_extra_field() {
        let mut extra = ZIP64_EXTRA.to_le_bytes().to_vec();
        extra.extend(16u16.to_le_bytes());
        extra.extend((5u64 << 32).to_le_bytes());
        extra.extend((6u64 << 32).to_le_bytes());
        let h = read(&mut Cursor::new(header(ZIP64_MARK, ZIP64_MARK, &extra)), 0)
            .unwrap()
            .unwrap();
        assert_eq!((h.size, h.compressed_size), (5 << 32, 6 << 32));
    }

    #[test]
    fn no_signature_or_a_cut_header_is_no_header() {
        assert_eq!(read(&mut Cursor::new(vec![0; 64]), 0).unwrap(), None);
        let cut = header(1, 1, b"")[..20].to_vec();
        assert_eq!(read(&mut Cursor::new(cut), 0).unwrap(), None);
    }
}
