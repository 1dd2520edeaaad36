//! Zip bombs: entries that unpack to more than they declare, or declare an
//! absurd compression ratio. Data is only ever read through a bound of the
//! declared size plus one byte, so a lie costs one byte, not gigabytes.

use std::io::{self, Read, Write};

use flate2::read::DeflateDecoder;

use crate::archive::{Entry, DEFLATED, STORED};
use crate::{wording, Limits};

/// What unpacking one entry found.
#[derive(Debug)]
pub(crate) enum Content {
    /// The data ended within the bound.
    Unpacked {
        /// Bytes unpacked.
        size: u64,
        /// Their CRC-32.
        crc32: u32,
    },
    /// The data went on past the bound.
    TooLong,
    /// The data cannot be decoded (a broken deflate stream, a method that
    /// is not supported, or a position past the upload's end).
    Damaged,
    /// The sink refused the bytes (a file that cannot be written).
    Unwritable(
        #[cfg_attr(
            not(feature = "extract"),
            expect(dead_code, reason = "only extraction's files can refuse bytes")
        )]
        io::Error,
    ),
}

/// The message for an entry whose declared ratio is absurd, if it is.
pub(crate) fn absurd_ratio(entry: &Entry, limits: &Limits) -> Option<String> {
    let too_high =
        u128::from(entry.size) > u128::from(limits.max_ratio) * u128::from(entry.compressed_size);
    (entry.size > limits.ratio_above && too_high).then(|| {
        format!(
            "entry {} declares a compression ratio of {}:1 ({} packed into {}); at most {}:1 is allowed for entries over {}",
            entry.quoted(),
            entry.size / entry.compressed_size.max(1),
            wording::size(entry.size),
            wording::size(entry.compressed_size),
            limits.max_ratio,
            wording::size(limits.ratio_above),
        )
    })
}

/// Decodes `packed` (data of compression `method`) into `sink`, stopping
/// as soon as more than `cap` bytes come out.
pub(crate) fn unpack<R: Read, W: Write>(packed: R, method: u16, cap: u64, sink: &mut W) -> Content {
    match method {
        STORED => copy_bounded(packed, cap, sink),
        DEFLATED => copy_bounded(DeflateDecoder::new(packed), cap, sink),
        _ => Content::Damaged,
    }
}

fn copy_bounded<R: Read, W: Write>(mut source: R, cap: u64, sink: &mut W) -> Content {
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    let mut crc = crc32fast::Hasher::new();
    loop {
        // One byte past the cap is enough to know the entry lies.
        let want = (cap - size).saturating_add(1).min(buf.len() as u64) as usize;
        let n = match source.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Content::Damaged,
        };
        if size + n as u64 > cap {
            return Content::TooLong;
        }
        size += n as u64;
        crc.update(&buf[..n]);
        if let Err(e) = sink.write_all(&buf[..n]) {
            return Content::Unwritable(e);
        }
    }
    Content::Unpacked {
        size,
        crc32: crc.finalize(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::DeflateEncoder, Compression};

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Counts how much the decoder was asked for.
    struct Counting<R>(R, u64);
    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn data_within_the_cap_is_unpacked_with_its_crc() {
        let data = b"hello hello hello";
        let mut out = Vec::new();
        match unpack(&deflated(data)[..], DEFLATED, data.len() as u64, &mut out) {
            Content::Unpacked { size, crc32 } => {
                assert_eq!(size, data.len() as u64);
                assert_eq!(crc32, crc32fast::hash(data));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out, data);
    }

    #[test]
    fn a_bomb_is_stopped_one_byte_past_its_declared_size() {
        // 64 MiB of zeros in about 64 KiB: only a little of it is inflated.
        let packed = deflated(&vec![0; 64 << 20]);
        let mut counting = Counting(&packed[..], 0);
        let mut out = Vec::new();
        assert!(matches!(
            unpack(&mut counting, DEFLATED, 100, &mut out),
            Content::TooLong
        ));
        assert!(out.len() <= 100, "nothing past the cap reaches the sink");
        assert!(counting.1 < 64 * 1024, "read {} packed bytes", counting.1);
    }

    #[test]
    fn stored_data_longer_than_declared_is_too_long() {
        assert!(matches!(
            unpack(&b"abcdef"[..], STORED, 5, &mut io::sink()),
            Content::TooLong
        ));
        assert!(matches!(
            unpack(&b"abcde"[..], STORED, 5, &mut io::sink()),
            Content::Unpacked { size: 5, .. }
        ));
    }

    #[test]
    fn broken_deflate_data_is_damaged() {
        assert!(matches!(
            unpack(&[0xff; 32][..], DEFLATED, 1000, &mut io::sink()),
            Content::Damaged
        ));
    }
}
