//! Per-instance resource limits.

use std::time::Duration;

/// Resource limits applied to every plugin instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Largest linear memory one instance may grow to, in bytes.
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
    /// memory slots, each `max_memory_bytes` large), which makes
    /// instantiation a matter of microseconds; one more instance fails to
    /// instantiate with an error naming this limit.
    pub max_instances: u32,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 64 << 20,
            callback_deadline: Duration::from_millis(50),
            max_wasm_stack_bytes: 512 << 10,
            max_output_bytes: 16 << 10,
            max_instances: 1_000,
        }
    }
}
