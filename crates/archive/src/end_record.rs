//! The end-of-central-directory record, read before `zip` parses the
//! directory: its entry count lets an archive of a million entries be refused
//! without holding a million entries in memory.

use std::io::{self, Read, Seek, SeekFrom};

const END_SIGNATURE: &[u8; 4] = b"PK\x05\x06";
const END_LEN: usize = 22;
const MAX_COMMENT: usize = u16::MAX as usize;
const ZIP64_LOCATOR_SIGNATURE: &[u8; 4] = b"PK\x06\x07";
const ZIP64_LOCATOR_LEN: usize = 20;
const ZIP64_END_SIGNATURE: &[u8; 4] = b"PK\x06\x06";
const ZIP64_END_LEN: usize = 56;

/// How many entries the archive's last end record declares; `None` when the
/// upload ends without one (not a ZIP, or truncated).
///
/// A ZIP64 count that cannot be read is returned as the classic record's
/// `0xFFFF`; `zip` then has the last word on the directory.
pub(crate) fn declared_entries<R: Read + Seek>(reader: &mut R) -> io::Result<Option<u64>> {
    let len = reader.seek(SeekFrom::End(0))?;
    if len < END_LEN as u64 {
        return Ok(None);
    }
    let tail_len = len.min((END_LEN + MAX_COMMENT) as u64) as usize;
    let tail_start = len - tail_len as u64;
    reader.seek(SeekFrom::Start(tail_start))?;
    let mut tail = vec![0; tail_len];
    reader.read_exact(&mut tail)?;

    // The record whose comment ends the upload, else the last that fits
    // (some writers pad after it); a signature inside a comment loses.
    let starts = || (0..=tail_len.saturating_sub(END_LEN)).rev();
    let Some(at) = starts()
        .find(|&at| fits_end_record(&tail, at) && ends_at(&tail, at))
        .or_else(|| starts().find(|&at| fits_end_record(&tail, at)))
    else {
        return Ok(None);
    };
    let entries = u16_at(&tail, at + 10);
    if entries != u16::MAX {
        return Ok(Some(u64::from(entries)));
    }
    let zip64 = match at.checked_sub(ZIP64_LOCATOR_LEN) {
        Some(locator) if &tail[locator..locator + 4] == ZIP64_LOCATOR_SIGNATURE => {
            zip64_entries(reader, u64_at(&tail, locator + 8))?
        }
        _ => None,
    };
    Ok(Some(zip64.unwrap_or(u64::from(u16::MAX))))
}

/// Whether an end record starts at `at` and its comment ends within the tail.
fn fits_end_record(tail: &[u8], at: usize) -> bool {
    &tail[at..at + 4] == END_SIGNATURE
        && at + END_LEN + usize::from(u16_at(tail, at + 20)) <= tail.len()
}

fn ends_at(tail: &[u8], at: usize) -> bool {
    at + END_LEN + usize::from(u16_at(tail, at + 20)) == tail.len()
}

fn zip64_entries<R: Read + Seek>(reader: &mut R, offset: u64) -> io::Result<Option<u64>> {
    let mut record = [0; ZIP64_END_LEN];
    if reader.seek(SeekFrom::Start(offset)).is_err() {
        return Ok(None);
    }
    match reader.read_exact(&mut record) {
        Ok(()) if &record[..4] == ZIP64_END_SIGNATURE => Ok(Some(u64_at(&record, 32))),
        Ok(()) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
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

    fn end_record(entries: u16, comment: &[u8]) -> Vec<u8> {
        let mut r = END_SIGNATURE.to_vec();
        r.extend([0; 4]);
        r.extend(entries.to_le_bytes());
        r.extend(entries.to_le_bytes());
        r.extend([0; 8]);
        r.extend((comment.len() as u16).to_le_bytes());
        r.extend(comment);
        r
    }

    #[test]
    fn the_count_is_read_past_a_comment() {
        let mut bytes = b"junk".to_vec();
        let fake = end_record(9, b"");
        let mut comment = b"a comment ".to_vec();
        comment.extend(&fake);
        comment.extend(b" and more");
        bytes.extend(end_record(7, &comment));
        assert_eq!(declared_entries(&mut Cursor::new(bytes)).unwrap(), Some(7));
    }

    #[test]
    fn no_end_record_means_no_count() {
        assert_eq!(
            declared_entries(&mut Cursor::new(b"hello".to_vec())).unwrap(),
            None
        );
        assert_eq!(
            declared_entries(&mut Cursor::new(Vec::new())).unwrap(),
            None
        );
    }

    #[test]
    fn a_zip64_count_is_read_from_the_zip64_record() {
        let mut bytes = ZIP64_END_SIGNATURE.to_vec();
        bytes.extend([0; 28]);
        bytes.extend(1_000_000u64.to_le_bytes());
        bytes.extend([0; 16]);
        bytes.extend(ZIP64_LOCATOR_SIGNATURE);
        bytes.extend([0; 4]);
        bytes.extend(0u64.to_le_bytes());
        bytes.extend([0; 4]);
        bytes.extend(end_record(u16::MAX, b""));
        assert_eq!(
            declared_entries(&mut Cursor::new(bytes)).unwrap(),
            Some(1_000_000)
        );
    }
}
