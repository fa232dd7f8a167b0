//! Per-instance resource limits, per-plugin overrides and the recycling
//! policy.

use std::collections::BTreeMap;
use std::time::Duration;

/// Resource limits applied to every plugin instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Largest linear memory one instance may grow to, in bytes (a plugin
    /// named in [`per_plugin`](Self::per_plugin) may have its own).
    pub max_memory_bytes: usize,
    /// Longest one callback may run before it is interrupted. Measured in
    /// wall-clock time (wasmtime epochs), so it is set well above what a
    /// callback needs, to survive the host being descheduled.
    pub callback_deadline: Duration,
    /// Largest wasm stack, in bytes.
    pub max_wasm_stack_bytes: usize,
    /// Bytes of stdout and of stderr kept per callback; the rest is dropped.
    pub max_output_bytes: usize,
    /// Most plugin instances alive at once in one engine. The engine
    /// reserves address space for this many instances up front (a pool of
    /// memory slots, each as large as the largest memory limit), which makes
    /// instantiation a matter of microseconds; one more instance fails to
    /// instantiate with an error naming this limit.
    pub max_instances: u32,
    /// When a long-lived instance is replaced by a fresh one (see
    /// [`RecyclePolicy`]).
    pub recycle: RecyclePolicy,
    /// Overrides for single plugins, by plugin name (the `.wasm` file stem).
    pub per_plugin: BTreeMap<String, PluginOverrides>,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 64 << 20,
            callback_deadline: Duration::from_millis(50),
            max_wasm_stack_bytes: 512 << 10,
            max_output_bytes: 16 << 10,
            max_instances: 1_000,
            recycle: RecyclePolicy::default(),
            per_plugin: BTreeMap::new(),
        }
    }
}

impl PluginLimits {
    /// The memory limit of plugin `name`: its override, or the global one.
    #[must_use]
    pub fn max_memory_bytes_for(&self, name: &str) -> usize {
        self.per_plugin
            .get(name)
            .and_then(|o| o.max_memory_bytes)
            .unwrap_or(self.max_memory_bytes)
    }

    /// The CPU deadline of one callback of plugin `name`: its override, or
    /// the global one.
    #[must_use]
    pub fn callback_deadline_for(&self, name: &str) -> Duration {
        self.per_plugin
            .get(name)
            .and_then(|o| o.callback_deadline)
            .unwrap_or(self.callback_deadline)
    }

    /// The recycling policy of plugin `name`: its override, or the global one.
    #[must_use]
    pub fn recycle_for(&self, name: &str) -> RecyclePolicy {
        self.per_plugin
            .get(name)
            .and_then(|o| o.recycle)
            .unwrap_or(self.recycle)
    }

    /// The size of one memory slot of the engine's pool: the largest memory
    /// limit of any plugin, so that every plugin fits.
    #[must_use]
    pub fn memory_slot_bytes(&self) -> usize {
        self.per_plugin
            .values()
            .filter_map(|o| o.max_memory_bytes)
            .fold(self.max_memory_bytes, usize::max)
    }
}

/// Limits that differ for one plugin (`[plugins.limits.NAME]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginOverrides {
    /// Its memory limit, in bytes, instead of [`PluginLimits::max_memory_bytes`].
    pub max_memory_bytes: Option<usize>,
    /// Its CPU deadline per callback, instead of
    /// [`PluginLimits::callback_deadline`]. Interpreted guests (Python,
    /// JavaScript) take longer per call and pause for garbage collection.
    pub callback_deadline: Option<Duration>,
    /// Its recycling policy, instead of [`PluginLimits::recycle`].
    pub recycle: Option<RecyclePolicy>,
}

/// When the host replaces a running instance by a fresh one: it takes the
/// algorithm's snapshot, instantiates the plugin anew and restores the
/// snapshot into it, between two events, so the algorithm goes on as if
/// nothing happened while everything the old instance leaked is freed.
///
/// Some guest runtimes need it: StarlingMonkey (componentize-js) leaks
/// memory in a long-lived instance and traps after about 150,000 calls
/// (ComponentizeJS issue #279). A plugin whose snapshot is `null` cannot be
/// restored, so it is never recycled (the host logs this once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecyclePolicy {
    /// Recycle after this many event callbacks in one instance; `None`: never.
    pub after_calls: Option<u64>,
    /// Recycle once the instance's linear memories together reach this
    /// percentage of its memory limit (1–100); `None`: never.
    pub above_memory_percent: Option<u8>,
}

impl Default for RecyclePolicy {
    /// Every 100,000 events, or at 75 % of the memory limit.
    fn default() -> Self {
        Self {
            after_calls: Some(100_000),
            above_memory_percent: Some(75),
        }
    }
}

impl RecyclePolicy {
    /// Never recycle.
    pub const NEVER: Self = Self {
        after_calls: None,
        above_memory_percent: None,
    };
}
