//! The wasmtime configuration every plugin runs under, and the epoch ticker
//! that enforces CPU deadlines.

use std::fs;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::limits::PluginLimits;

/// How often the engine's epoch advances; the CPU deadline of a callback is
/// counted in these ticks.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Core wasm instances one plugin component may contain (its module plus
/// the shims `wit-component` adds; a `wasm32-wasip1` plugin also carries the
/// WASI adapter). A Python plugin (componentize-py 0.25.1: CPython, its
/// libraries and their shims) has 14, the most of any toolchain we build.
const CORE_INSTANCES_PER_PLUGIN: u32 = 16;
/// Linear memories one plugin component may contain: a JavaScript plugin
/// built by jco's QuickJS backend has 2 (not supported for other reasons,
/// see the author guide); every other toolchain has 1.
const MEMORIES_PER_PLUGIN: u32 = 2;
/// Tables one plugin component may contain.
const TABLES_PER_PLUGIN: u32 = 8;
/// Guard region after each linear memory slot.
const MEMORY_GUARD_BYTES: u64 = 64 << 10;
/// Bytes at the start of a linear memory (a Rust guest's stack, data and
/// first heap pages) and of a table that a freed slot keeps resident: their
/// touched pages are reset in place for the next instance instead of being
/// unmapped and faulted in again.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;
/// Tables are small: a function table of a few thousand entries.
const TABLE_KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// The wasmtime configuration every plugin runs under; benchmarks use it to
/// measure the floor of a component call under the same settings.
///
/// * No async support: every callback runs to completion on the caller's
///   thread, which keeps a call close to the raw call cost.
/// * Epoch interruption for the CPU deadline of a callback.
/// * The pooling instance allocator: memory slots of `max_memory_bytes`
///   for `max_instances` instances are reserved once, and linear memories
///   are copy-on-write mappings of the module's initial image, so an
///   instantiation maps no new memory and copies no data segment. A slot
///   the size of the memory limit (instead of a 4 GiB reservation) keeps
///   the address space of 10,000 instances small, at the price of explicit
///   bounds checks in compiled code.
/// * Where the kernel has `PAGEMAP_SCAN` (Linux 6.7+), a freed slot keeps
///   the first 4 MiB (`KEEP_RESIDENT_BYTES`) of its memory resident and only the
///   pages the instance actually touched are reset, in place: the next
///   instance takes no page faults on them and the free takes no `madvise`.
///   Wasmtime resets them to the module's initial image (see the test
///   `a_reused_memory_slot_holds_nothing_of_the_previous_instance`).
#[must_use]
pub fn engine_config(limits: &PluginLimits) -> Config {
    let instances = limits.max_instances.max(1);
    let memory_bytes = limits.memory_slot_bytes().max(64 << 10);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_PLUGIN))
        .total_memories(instances.saturating_mul(MEMORIES_PER_PLUGIN))
        .total_tables(instances.saturating_mul(TABLES_PER_PLUGIN))
        .max_core_instances_per_component(CORE_INSTANCES_PER_PLUGIN)
        .max_memories_per_component(MEMORIES_PER_PLUGIN)
        .max_tables_per_component(TABLES_PER_PLUGIN)
        .max_memory_size(memory_bytes);
    if kernel_has_pagemap_scan() {
        // Without the scan, keeping pages resident means a `memset` of all
        // of them on every free, far slower than the `madvise` it replaces.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES.min(memory_bytes))
            .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES)
            .pagemap_scan(wasmtime::Enabled::Yes);
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_wasm_stack_bytes)
        .memory_reservation(u64::try_from(memory_bytes).unwrap_or(u64::MAX))
        .memory_guard_size(MEMORY_GUARD_BYTES)
        .memory_reservation_for_growth(0)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os(PERF_MAP_ENV).is_some() {
        // Names the plugins' compiled functions for `perf report`.
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Whether the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7 and later).
fn kernel_has_pagemap_scan() -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(release) = fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut numbers = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= (6, 7)
}

/// Set this environment variable to write `/tmp/perf-<pid>.map`, which lets
/// `perf report` name the functions of plugins.
pub const PERF_MAP_ENV: &str = "TESSER_WASM_PERF_MAP";

/// Advances the engine's epoch every [`EPOCH_TICK`] so callbacks can be
/// interrupted at their deadline. The thread ends when the engine is gone.
pub(super) fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("tesser-wasm-epoch".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the epoch thread: plugin CPU deadlines will not fire");
    }
}
