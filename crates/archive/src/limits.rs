//! The numbers an archive must stay within.

/// Bounds on an archive's size and shape.
///
/// [`Limits::PLATFORM`] holds the API contract's numbers; other values exist
/// for tests and for a worker that wants tighter bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most entries (files and folders) an archive may list.
    pub max_entries: u64,
    /// The most bytes all entries may unpack to together.
    pub max_unpacked: u64,
    /// The highest compression ratio (unpacked : packed) an entry may have…
    pub max_ratio: u64,
    /// …once it unpacks to more than this many bytes (small files of one
    /// repeated byte compress absurdly well and are harmless).
    pub ratio_above: u64,
}

impl Limits {
    /// The platform's limits: 10,000 entries, 500 MiB unpacked, 1000:1 for
    /// entries over 1 MiB.
    pub const PLATFORM: Limits = Limits {
        max_entries: 10_000,
        max_unpacked: 500 << 20,
        max_ratio: 1000,
        ratio_above: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::PLATFORM
    }
}
