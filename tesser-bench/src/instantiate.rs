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

/// Instantiates and drops the chase over and over for `seconds`: a steady
/// loop for `perf record`. Returns microseconds per instantiation and per
/// drop.
///
/// # Errors
/// Loading or instantiating failed.
pub fn spin(plugins: &Plugins, seconds: f64) -> anyhow::Result<(f64, f64)> {
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
    let plugin = engine.load(CHASE)?;
    let mut alive = Vec::with_capacity(100);
    let (mut instances, mut created, mut dropped) = (0_u32, 0.0, 0.0);
    while created + dropped < seconds {
        let start = Instant::now();
        for _ in 0..100 {
            alive.push(plugin.instantiate()?);
        }
        created += start.elapsed().as_secs_f64();
        let start = Instant::now();
        alive.clear();
        dropped += start.elapsed().as_secs_f64();
        instances += 100;
    }
    let per = |total: f64| total * 1e6 / f64::from(instances);
    Ok((per(created), per(dropped)))
}
