//! I: one plugin instance from a component already compiled, linked and
//! type-checked (`LoadedPlugin`, wasmtime's `InstancePre`): a fresh store,
//! WASI context and memory per instance.

use std::time::Instant;

use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};

use crate::Plan;
use crate::build::{CHASE, Plugins};
use crate::measure::median;

/// Median microseconds per instantiation. Each batch creates
/// `plan.instances_per_batch` instances, timed, then drops them, untimed.
///
/// # Errors
/// Loading or instantiating failed.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<f64> {
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
    let plugin = engine.load(CHASE)?;
    let mut samples = Vec::with_capacity(plan.instance_batches);
    let mut alive = Vec::with_capacity(plan.instances_per_batch);
    for _ in 0..plan.instance_batches {
        let start = Instant::now();
        for _ in 0..plan.instances_per_batch {
            alive.push(plugin.instantiate()?);
        }
        #[allow(clippy::cast_precision_loss)] // reason: a few hundred instances.
        samples.push(start.elapsed().as_secs_f64() * 1e6 / plan.instances_per_batch as f64);
        alive.clear();
    }
    Ok(median(&mut samples))
}
