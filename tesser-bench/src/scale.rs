//! S: many concurrent chase algorithms in one orchestrator, each a `.wasm`
//! instance resting one clip: the process's resident memory, and the time to
//! fan one tick out to all of them.

use std::time::Instant;

use anyhow::ensure;
use rust_decimal::Decimal;
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};

use crate::Plan;
use crate::build::Plugins;
use crate::dispatch::{chase_signal, orchestrator, start_price, tick};
use crate::measure::median;

/// What S measured.
#[derive(Debug, Clone, Copy)]
pub struct ScaleFigures {
    /// Instances alive.
    pub instances: usize,
    /// Resident memory of the whole process with all of them alive, MiB.
    pub rss_mib: f64,
    /// Resident memory they added, per instance, KiB.
    pub kib_per_instance: f64,
    /// Median time to deliver one tick to every instance, microseconds.
    pub fanout_us: f64,
}

/// The process's resident set size in KiB, from `/proc/self/status`.
pub fn rss_kib() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    let kib: f64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib)
}

/// Starts `plan.scale_instances` chases and fans ticks out to them.
///
/// # Errors
/// Setting up failed, or not every chase is working.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<ScaleFigures> {
    let instances = plan.scale_instances;
    let limits = PluginLimits {
        max_instances: u32::try_from(instances + 16)?,
        ..PluginLimits::default()
    };
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, limits)?;
    let mut orchestrator = orchestrator(Box::new(engine))?;
    let print = tick(start_price(), 1_700_000_000_000);
    orchestrator.on_tick(&print)?;
    let before = rss_kib()?;
    let clip = Decimal::new(1, 3);
    for _ in 0..instances {
        orchestrator.submit_signal(&chase_signal(clip, clip))?;
    }
    orchestrator.on_tick(&print)?;
    ensure!(
        orchestrator.working_algorithms() == instances,
        "S: {} of {instances} chases are working",
        orchestrator.working_algorithms()
    );
    let after = rss_kib()?;
    let mut samples = Vec::with_capacity(plan.fanouts);
    for _ in 0..plan.fanouts {
        let start = Instant::now();
        orchestrator.on_tick(&print)?;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    #[allow(clippy::cast_precision_loss)] // reason: ten thousand instances.
    let per_instance = (after - before) / instances as f64;
    Ok(ScaleFigures {
        instances,
        rss_mib: after / 1024.0,
        kib_per_instance: per_instance,
        fanout_us: median(&mut samples),
    })
}
