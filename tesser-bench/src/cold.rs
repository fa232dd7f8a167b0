//! C: cold start. The first load of a plugin compiles it with Cranelift; a
//! load served from the on-disk cache of precompiled components maps the
//! machine code instead. Both include everything else a load does (reading
//! the file, the ABI check, linking, the metadata probe instance).

use std::time::Instant;

use anyhow::ensure;
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};

use crate::Plan;
use crate::build::{CHASE, Plugins};
use crate::measure::median;

/// Median milliseconds of a compiling load and of a cached load.
#[derive(Debug, Clone, Copy)]
pub struct ColdStart {
    /// A load that compiles.
    pub compile_ms: f64,
    /// A load from the on-disk cache.
    pub cached_ms: f64,
}

/// Loads plugin-chase `plan.cold_loads` times each way, every load on a
/// fresh engine (so nothing is cached in memory).
///
/// # Errors
/// A load failed, or the cache did not serve the second load.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<ColdStart> {
    let mut compile = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..plan.cold_loads {
        let cache = tempfile::tempdir()?;
        let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?
            .with_compiled_cache(cache.path())?;
        let start = Instant::now();
        let first = engine.load(CHASE)?;
        compile.push(start.elapsed().as_secs_f64() * 1e3);
        ensure!(!first.loaded_from_cache(), "C: the first load must compile");
        drop(first);
        drop(engine);

        let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?
            .with_compiled_cache(cache.path())?;
        let start = Instant::now();
        let second = engine.load(CHASE)?;
        cached.push(start.elapsed().as_secs_f64() * 1e3);
        ensure!(
            second.loaded_from_cache(),
            "C: the second load must come from the cache"
        );
    }
    Ok(ColdStart {
        compile_ms: median(&mut compile),
        cached_ms: median(&mut cached),
    })
}
