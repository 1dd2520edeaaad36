//! Newest-first lists kept without read-modify-write and listed without scans.

use std::ops::RangeInclusive;

use crate::{counter, KeyValue, Result};

/// The most empty slots (removed entries, or appends whose writer died) one
/// page visits before it returns early with a cursor, so a page's cost stays
/// bounded whatever was removed before it.
const MAX_HOLES_PER_PAGE: u64 = 1_000;
/// The fewest and most slots read in one batch while listing.
const MIN_BATCH: usize = 16;
const MAX_BATCH: usize = 256;

/// One page of an index, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// `(sequence, value)` pairs, highest sequence first.
    pub entries: Vec<(u64, String)>,
    /// Pass as `before` to get the next page; `None` at the end.
    pub next: Option<u64>,
}

/// An append-only list under a key prefix.
///
/// `append` takes a sequence number with an atomic increment of
/// `{prefix}/seq` and writes the value under `{prefix}/{seq:020}`: concurrent
/// appends get distinct numbers and distinct keys, so none is lost. Listing
/// walks the numbers downwards, one `get` per slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    prefix: String,
}

impl Index {
    /// The index stored under `prefix` (e.g. `account/acc_x/services`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The key of slot `seq`: for callers that write a slot together with
    /// other keys in one `set_many`.
    pub fn slot_key(&self, seq: u64) -> String {
        format!("{}/{seq:020}", self.prefix)
    }

    fn slot(&self, seq: u64) -> String {
        self.slot_key(seq)
    }

    /// The key of the counter of sequence numbers handed out: for callers
    /// that read the counters of many indexes in one round trip.
    pub fn seq_key(&self) -> String {
        format!("{}/seq", self.prefix)
    }

    /// Appends `value`; returns its sequence number (keep it to remove it).
    pub fn append(&self, kv: &dyn KeyValue, value: &str) -> Result<u64> {
        let seq = self.reserve(kv)?;
        self.put(kv, seq, value)?;
        Ok(seq)
    }

    /// Takes the next sequence number without writing its slot: the first
    /// half of [`Index::append`], for callers that record the number before
    /// they fill the slot with [`Index::put`]. A number never filled is an
    /// empty slot that listings skip.
    pub fn reserve(&self, kv: &dyn KeyValue) -> Result<u64> {
        self.reserve_many(kv, 1).map(|range| *range.start())
    }

    /// Takes `count` (≥ 1) consecutive sequence numbers with one increment.
    pub fn reserve_many(&self, kv: &dyn KeyValue, count: u64) -> Result<RangeInclusive<u64>> {
        let delta = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
        let last = u64::try_from(kv.increment(&self.seq_key(), delta)?).unwrap_or(0);
        Ok((last + 1).saturating_sub(count.max(1))..=last)
    }

    /// The raw contents of slots `seqs` (in one round trip), `None` where a
    /// slot is empty.
    pub fn slots(
        &self,
        kv: &dyn KeyValue,
        seqs: impl IntoIterator<Item = u64>,
    ) -> Result<Vec<(u64, Option<Vec<u8>>)>> {
        let seqs: Vec<u64> = seqs.into_iter().collect();
        let keys: Vec<String> = seqs.iter().map(|&s| self.slot(s)).collect();
        Ok(seqs.into_iter().zip(kv.get_many(&keys)?).collect())
    }

    /// Writes `value` into slot `seq`. Writing the same value again is
    /// harmless, so a caller may repeat it to finish an append that failed
    /// after [`Index::reserve`].
    pub fn put(&self, kv: &dyn KeyValue, seq: u64, value: &str) -> Result<()> {
        kv.set(&self.slot(seq), value.as_bytes())
    }

    /// Removes the entry with sequence number `seq`.
    pub fn remove(&self, kv: &dyn KeyValue, seq: u64) -> Result<()> {
        kv.delete(&self.slot(seq))
    }

    /// The highest sequence number handed out so far (0 for an empty index).
    pub fn last_seq(&self, kv: &dyn KeyValue) -> Result<u64> {
        Ok(u64::try_from(counter(kv, &self.seq_key())?).unwrap_or(0))
    }

    /// Up to `limit` entries with sequence numbers below `before` (all when
    /// `None`), newest first.
    pub fn page(&self, kv: &dyn KeyValue, before: Option<u64>, limit: usize) -> Result<Page> {
        let last = self.last_seq(kv)?;
        self.page_up_to(kv, last, before, limit)
    }

    /// [`Index::page`] for a caller that already read the index's last
    /// sequence number (`last`, e.g. with other indexes' in one round
    /// trip).
    pub fn page_up_to(
        &self,
        kv: &dyn KeyValue,
        last: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page> {
        let mut seq = before.map_or(last, |b| b.saturating_sub(1).min(last));
        let mut entries = Vec::new();
        let mut holes = 0;
        // Slots are read a batch at a time (one round trip each), as many
        // as the page still needs, within bounds.
        'walk: while seq > 0 && entries.len() < limit {
            let want = (limit - entries.len()).clamp(MIN_BATCH, MAX_BATCH) as u64;
            let low = seq.saturating_sub(want - 1).max(1);
            for (slot, value) in self.slots(kv, (low..=seq).rev())? {
                seq = slot - 1;
                match value {
                    Some(bytes) => {
                        entries.push((slot, String::from_utf8_lossy(&bytes).into_owned()));
                        if entries.len() == limit {
                            break 'walk;
                        }
                    }
                    None => {
                        holes += 1;
                        if holes >= MAX_HOLES_PER_PAGE {
                            break 'walk;
                        }
                    }
                }
            }
        }
        // `seq` is the next slot not yet visited.
        let next = (seq > 0).then_some(seq + 1);
        Ok(Page { entries, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn values(page: &Page) -> Vec<&str> {
        page.entries.iter().map(|(_, v)| v.as_str()).collect()
    }

    #[test]
    fn pages_list_newest_first_and_end_with_no_cursor() {
        let kv = MemoryStore::new();
        let index = Index::new("things");
        for v in ["a", "b", "c", "d", "e"] {
            index.append(&kv, v).unwrap();
        }
        let first = index.page(&kv, None, 2).unwrap();
        assert_eq!(values(&first), ["e", "d"]);
        let second = index.page(&kv, first.next, 2).unwrap();
        assert_eq!(values(&second), ["c", "b"]);
        let third = index.page(&kv, second.next, 2).unwrap();
        assert_eq!(values(&third), ["a"]);
        assert_eq!(third.next, None);
    }

    #[test]
    fn removed_entries_are_skipped() {
        let kv = MemoryStore::new();
        let index = Index::new("things");
        let a = index.append(&kv, "a").unwrap();
        index.append(&kv, "b").unwrap();
        index.remove(&kv, a).unwrap();
        let page = index.page(&kv, None, 10).unwrap();
        assert_eq!(values(&page), ["b"]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn a_reserved_slot_is_skipped_until_it_is_put_and_a_repeated_put_lists_once() {
        let kv = MemoryStore::new();
        let index = Index::new("things");
        index.append(&kv, "a").unwrap();
        let seq = index.reserve(&kv).unwrap();
        index.append(&kv, "c").unwrap();
        assert_eq!(values(&index.page(&kv, None, 10).unwrap()), ["c", "a"]);
        index.put(&kv, seq, "b").unwrap();
        index.put(&kv, seq, "b").unwrap();
        assert_eq!(values(&index.page(&kv, None, 10).unwrap()), ["c", "b", "a"]);
    }

    #[test]
    fn an_empty_index_lists_nothing() {
        let kv = MemoryStore::new();
        let page = Index::new("none").page(&kv, None, 10).unwrap();
        assert!(page.entries.is_empty());
        assert_eq!(page.next, None);
    }

    #[test]
    fn a_long_run_of_holes_ends_the_page_early_with_a_cursor() {
        let kv = MemoryStore::new();
        let index = Index::new("holes");
        index.append(&kv, "old").unwrap();
        for _ in 0..1_500 {
            let seq = index.append(&kv, "gone").unwrap();
            index.remove(&kv, seq).unwrap();
        }
        let first = index.page(&kv, None, 10).unwrap();
        assert!(first.entries.is_empty());
        let second = index.page(&kv, first.next, 10).unwrap();
        assert_eq!(values(&second), ["old"]);
        assert_eq!(second.next, None);
    }

    #[test]
    fn reserving_many_takes_consecutive_numbers_once() {
        let kv = MemoryStore::new();
        let index = Index::new("r");
        assert_eq!(index.reserve(&kv).unwrap(), 1);
        assert_eq!(index.reserve_many(&kv, 3).unwrap(), 2..=4);
        assert_eq!(index.reserve(&kv).unwrap(), 5);
        assert_eq!(index.last_seq(&kv).unwrap(), 5);
    }

    #[test]
    fn a_page_stops_exactly_at_its_limit_and_continues_there() {
        let kv = MemoryStore::new();
        let index = Index::new("many");
        for i in 0..100 {
            index.append(&kv, &i.to_string()).unwrap();
        }
        let first = index.page(&kv, None, 30).unwrap();
        assert_eq!(first.entries.len(), 30);
        assert_eq!(first.entries[0].1, "99");
        assert_eq!(first.next, Some(71));
        let second = index.page(&kv, first.next, 100).unwrap();
        assert_eq!(second.entries.len(), 70);
        assert_eq!(second.entries[0].1, "69");
        assert_eq!(second.next, None);
    }

    #[test]
    fn concurrent_appends_are_all_listed() {
        let kv = std::sync::Arc::new(MemoryStore::new());
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let kv = kv.clone();
                std::thread::spawn(move || Index::new("c").append(&*kv, &i.to_string()).unwrap())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let page = Index::new("c").page(&*kv, None, 500).unwrap();
        assert_eq!(page.entries.len(), 50);
    }
}
