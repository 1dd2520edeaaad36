//! The process-wide Wasm engine and the on-disk cache of compiled components.
//!
//! One engine serves every application started in the process (tests start
//! many), with the pooling allocator and copy-on-write memory images so a
//! fresh instance per request is cheap. Compiled components are cached as
//! `<sha256 of wasm bytes and engine settings>.cwasm`.

use crate::Error;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Instances (and their memories) that may be live at once across the process.
const POOL_INSTANCES: u32 = 1000;
/// Overrides [`POOL_INSTANCES`]: a smaller pool reserves less address space
/// (what a profiler such as valgrind needs), a larger one admits more
/// requests at once.
pub const MAX_INSTANCES_ENV: &str = "QMARKET_MAX_INSTANCES";

/// `perfmap` makes the engine write `/tmp/perf-<pid>.map`, so that `perf`
/// names the guests' compiled functions (for profiling).
pub const PROFILER_ENV: &str = "QMARKET_PROFILER";

/// The instance pool's size: [`MAX_INSTANCES_ENV`] when it holds a number
/// from 1 to 100,000, else [`POOL_INSTANCES`].
fn pool_instances() -> u32 {
    std::env::var(MAX_INSTANCES_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(POOL_INSTANCES)
}

/// The linear memory one instance may grow to unless the host's options say
/// otherwise: 64 MiB. A request gets a fresh instance, so this bounds what
/// one request can take; the platform's components need a few MiB, and with
/// up to [`POOL_INSTANCES`] requests in flight a larger default would let a
/// burst of requests to a leaking or hostile component exhaust the
/// machine's memory (1000 × 256 MiB is far beyond it). A guest that grows
/// past the limit sees `memory.grow` fail, which Rust turns into an abort:
/// a trap, answered 500, that touches no other request.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 << 20;

/// The largest per-instance memory limit the host accepts (the pool's slots
/// are reserved at this size): 1 GiB, the engine's memory reservation.
pub const MAX_MEMORY_BYTES_LIMIT: usize = 1 << 30;

/// How often the engine's epoch advances. Guests yield to the async runtime
/// at each tick, so a guest that computes without calling the host can still
/// be stopped at its request's deadline and does not hold a worker thread.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// The shared engine, created on first use.
pub(crate) fn engine() -> Result<&'static Engine, Error> {
    ENGINE
        .get_or_init(|| {
            let instances = pool_instances();
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(instances)
                .total_core_instances(instances * 4)
                .total_memories(instances * 2)
                .total_tables(instances * 4)
                .total_stacks(instances)
                .max_memory_size(MAX_MEMORY_BYTES_LIMIT)
                // Pages a request touched stay mapped for the next instance
                // in the slot (reset with memset instead of madvise), which
                // spares each request a round of page faults. Where the
                // kernel has PAGEMAP_SCAN (Linux 6.7 and later), only the
                // pages the request dirtied are reset; elsewhere the lowest
                // addresses are (BENCHMARKS.md has the figures of both).
                .pagemap_scan(wasmtime::Enabled::Auto)
                .linear_memory_keep_resident(1 << 20)
                .table_keep_resident(64 << 10);
            let mut config = Config::new();
            config
                .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
                .memory_init_cow(true)
                .memory_reservation(MAX_MEMORY_BYTES_LIMIT as u64)
                .epoch_interruption(true)
                .wasm_component_model(true);
            if std::env::var(PROFILER_ENV).is_ok_and(|p| p.eq_ignore_ascii_case("perfmap")) {
                config.profiler(wasmtime::ProfilingStrategy::PerfMap);
            }
            let engine = Engine::new(&config).map_err(|e| format!("{e:#}"))?;
            let ticking = engine.weak();
            std::thread::Builder::new()
                .name("qmarket-epoch".into())
                .spawn(move || {
                    while let Some(engine) = ticking.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(EPOCH_TICK);
                    }
                })
                .map_err(|e| format!("cannot start the epoch thread: {e}"))?;
            Ok(engine)
        })
        .as_ref()
        .map_err(|e| Error::Engine(e.clone()))
}

/// The default directory for compiled components: `$QMARKET_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/qmarket/components`, else `~/.cache/qmarket/components`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("QMARKET_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("qmarket").join("components"))
}

/// Loads the component at `path`, from the cache when it holds a compiled copy.
pub(crate) fn load_component(
    engine: &Engine,
    id: &str,
    path: &Path,
    cache_dir: Option<&Path>,
) -> Result<Component, Error> {
    let fail = |message: String| Error::Component {
        id: id.to_string(),
        path: path.to_owned(),
        message,
    };
    let wasm = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let cached = cache_dir.map(|dir| dir.join(format!("{}.cwasm", cache_key(engine, &wasm))));

    if let Some(cached) = &cached {
        if cached.exists() {
            // SAFETY: the file was written by `Component::serialize` of an
            // engine with the same settings (the key covers them) and wasmtime
            // still checks its header; a stale or foreign file fails to load
            // and is replaced below.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, cached) } {
                return Ok(component);
            }
        }
    }

    let component = Component::new(engine, &wasm).map_err(|e| fail(format!("{e:#}")))?;
    if let Some(cached) = cached {
        // The cache is an optimisation: failing to write it is not an error.
        if let Ok(bytes) = component.serialize() {
            if let Some(dir) = cached.parent() {
                let _ = std::fs::create_dir_all(dir);
                let tmp = dir.join(format!(
                    ".{}.{}.tmp",
                    std::process::id(),
                    cached
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("component")
                ));
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &cached);
                }
            }
        }
    }
    Ok(component)
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(engine_hash.finish().to_le_bytes());
    digest.update(wasm);
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
