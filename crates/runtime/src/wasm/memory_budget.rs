//! The memory limit of one execution: the sum of the guest's linear
//! memories may not exceed [`Limits::memory_bytes`](crate::Limits::memory_bytes),
//! and the budget remembers that it refused a growth, so a guest that died
//! of it (a Rust guest aborts when an allocation fails, which is a trap) is
//! reported as having hit the memory limit rather than as a crash.

/// Elements one table may hold. Tables are host memory the guest can grow;
/// compilers emit small ones (a Rust program's function table has a few
/// thousand entries), so a fixed bound keeps them out of the way without
/// counting them against the service's memory.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// A [`wasmtime::ResourceLimiter`] over all the memories of one store.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: usize,
    used: usize,
    /// The growth last allowed, taken back if wasmtime then fails to grow.
    last_growth: usize,
    refused: bool,
}

impl MemoryBudget {
    pub(crate) fn new(limit_bytes: u64) -> Self {
        MemoryBudget {
            limit: usize::try_from(limit_bytes).unwrap_or(usize::MAX),
            used: 0,
            last_growth: 0,
            refused: false,
        }
    }

    /// Whether a memory was refused growth (or creation) at some point.
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }
}

impl wasmtime::ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        if self.used.saturating_add(growth) > self.limit {
            self.refused = true;
            return Ok(false);
        }
        self.used += growth;
        self.last_growth = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_growth);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    const MIB: usize = 1 << 20;

    #[test]
    fn growth_within_the_limit_across_memories_is_allowed() {
        let mut budget = MemoryBudget::new(64 << 20);
        assert!(budget.memory_growing(0, 32 * MIB, None).unwrap());
        assert!(budget.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(budget.memory_growing(16 * MIB, 32 * MIB, None).unwrap());
        assert!(!budget.refused());
    }

    #[test]
    fn growth_past_the_limit_of_all_memories_together_is_refused_and_remembered() {
        let mut budget = MemoryBudget::new(64 << 20);
        assert!(budget.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(!budget.memory_growing(0, 30 * MIB, None).unwrap());
        assert!(budget.refused());
        // Smaller growths still fit afterwards.
        assert!(budget.memory_growing(0, 20 * MIB, None).unwrap());
    }

    #[test]
    fn a_growth_that_failed_gives_its_bytes_back() {
        let mut budget = MemoryBudget::new(64 << 20);
        assert!(budget.memory_growing(0, 60 * MIB, None).unwrap());
        budget
            .memory_grow_failed(wasmtime::format_err!("no memory"))
            .unwrap();
        assert!(budget.memory_growing(0, 60 * MIB, None).unwrap());
    }
}
