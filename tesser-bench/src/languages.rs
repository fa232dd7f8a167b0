//! L: the same algorithm, the reference TWAP, as a Rust, a Python
//! (componentize-py) and a JavaScript (componentize-js) component: a
//! compiling load, a load from the on-disk cache, one instantiation, one
//! `on_tick` call that changes nothing (the idle path: the call and the
//! guest's own dispatch), and the resident memory one initialized instance
//! adds to the process.
//!
//! The components are built as a user builds them: cargo for Rust, and for
//! Python and JavaScript the pinned tools `scripts/plugin-tools` installs,
//! run with the arguments `tesser plugin build` uses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use rust_decimal::Decimal;
use tesser_execution::wasm::{LoadedPlugin, PluginLimits, WasmPluginEngine};
use tesser_wasm::{
    PluginInitContext, PluginInstrument, PluginRiskContext, PluginSide, PluginSignal, PluginTick,
};

use crate::Plan;
use crate::build::{build, workspace_root};
use crate::measure::{median, ns_per_call};
use crate::scale::rss_kib;

/// One language's figures.
#[derive(Debug, Clone)]
pub struct LanguageFigures {
    /// `Rust`, `Python`, `JavaScript`.
    pub language: &'static str,
    /// Size of the component, MB.
    pub size_mb: f64,
    /// A load that compiles, ms.
    pub compile_ms: f64,
    /// A load from the on-disk cache, ms.
    pub cached_ms: f64,
    /// One instantiation, µs.
    pub instantiate_us: f64,
    /// One idle `on_tick`, ns.
    pub call_ns: f64,
    /// Resident memory one initialized instance adds, MiB.
    pub rss_mib_per_instance: f64,
}

/// The three TWAP components, each alone in a plugins directory.
fn components(root: &Path) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let rust = build("tesser-plugin-twap", &root.join("twap"))?;
    let rust = rust.with_file_name("twap.wasm");
    let tools = Command::new("bash")
        .arg(workspace_root().join("scripts/plugin-tools"))
        .output()
        .context("running scripts/plugin-tools")?;
    if !tools.status.success() {
        bail!(
            "scripts/plugin-tools failed: {}",
            String::from_utf8_lossy(&tools.stderr)
        );
    }
    let path = format!(
        "{}:{}",
        String::from_utf8_lossy(&tools.stdout).trim(),
        std::env::var("PATH").unwrap_or_default()
    );
    let plugins = workspace_root().join("plugins");
    let python = root.join("twap_py.wasm");
    let status = Command::new("componentize-py")
        .env("PATH", &path)
        .current_dir(plugins.join("twap-py"))
        .args([
            "-d",
            "wit",
            "-w",
            "execution-plugin",
            "componentize",
            "app",
            "-o",
        ])
        .arg(&python)
        .status()
        .context("running componentize-py")?;
    ensure!(status.success(), "componentize-py failed");
    let js = root.join("twap_js.wasm");
    let status = Command::new("componentize-js")
        .env("PATH", &path)
        .current_dir(plugins.join("twap-js"))
        .args([
            "plugin.js",
            "--wit",
            "wit",
            "--world-name",
            "execution-plugin",
        ])
        .args(["-d", "http", "fetch-event", "-o"])
        .arg(&js)
        .status()
        .context("running componentize-js")?;
    ensure!(status.success(), "componentize-js failed");
    Ok(vec![("Rust", rust), ("Python", python), ("JavaScript", js)])
}

fn limits() -> PluginLimits {
    PluginLimits {
        // Interpreters pause for garbage collection; this measures, it
        // does not police.
        callback_deadline: std::time::Duration::from_secs(10),
        max_instances: 64,
        ..PluginLimits::default()
    }
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
}

/// A buy of 10 over an hour in 10 slices: `init` places the first slice and
/// ticks inside that slice change nothing.
fn init_context(now_ms: i64) -> PluginInitContext {
    PluginInitContext {
        algorithm_id: "bench-1".to_owned(),
        signal: PluginSignal {
            id: "signal-1".to_owned(),
            symbol: "BTCUSD".to_owned(),
            side: PluginSide::Buy,
            target_quantity: Decimal::TEN,
            ..PluginSignal::default()
        },
        risk: PluginRiskContext {
            last_price: dec("30000"),
            equity: dec("1000000"),
            instrument: PluginInstrument {
                tick_size: dec("0.1"),
                lot_size: dec("0.0001"),
                min_quantity: dec("0.0001"),
                min_notional: Decimal::ONE,
            },
            ..PluginRiskContext::default()
        },
        params: serde_json::json!({ "slices": 10, "duration_ms": 3_600_000 }),
        now_ms,
    }
}

fn in_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn measure_one(
    language: &'static str,
    wasm: &Path,
    plan: &Plan,
) -> anyhow::Result<LanguageFigures> {
    let dir = tempfile::tempdir()?;
    let name = "twap";
    std::fs::copy(wasm, dir.path().join(format!("{name}.wasm")))?;
    let cache = tempfile::tempdir()?;
    let engine = || -> anyhow::Result<WasmPluginEngine> {
        Ok(WasmPluginEngine::with_limits(dir.path(), limits())?
            .with_compiled_cache(cache.path())?)
    };
    let start = Instant::now();
    let first = engine()?.load(name)?;
    let compile_ms = in_ms(start);
    ensure!(!first.loaded_from_cache(), "L: the first load must compile");
    drop(first);
    let mut cached = Vec::new();
    let mut plugin = None;
    for _ in 0..plan.cold_loads {
        let engine = engine()?;
        let start = Instant::now();
        let loaded = engine.load(name)?;
        cached.push(in_ms(start));
        ensure!(loaded.loaded_from_cache(), "L: a cached load must hit");
        plugin = Some((engine, loaded));
    }
    let (_engine, plugin) = plugin.context("L: no cached load")?;
    let instantiate_us = instantiate(&plugin, plan)?;
    let now_ms = 1_700_000_000_000;
    let mut instance = plugin.instantiate()?;
    let first = instance.init(&init_context(now_ms))?;
    ensure!(!first.orders.is_empty(), "L: init places the first slice");
    let mut ts = now_ms;
    let mut tick = PluginTick {
        symbol: "BTCUSD".to_owned(),
        price: dec("30000"),
        size: Decimal::ONE,
        ..PluginTick::default()
    };
    let mut samples = Vec::with_capacity(plan.call_batches);
    for _ in 0..plan.call_batches {
        samples.push(ns_per_call(plan.calls_per_batch / 10, || {
            // Inside the first slice (6 minutes): nothing to do.
            ts = now_ms + (ts - now_ms + 1) % 300_000;
            tick.timestamp_ms = ts;
            let result = instance.on_tick(&tick)?;
            ensure!(result.orders.is_empty(), "L: an idle tick placed orders");
            Ok(())
        })?);
    }
    let call_ns = median(&mut samples);
    let rss_mib_per_instance = resident_per_instance(&plugin, now_ms)?;
    #[allow(clippy::cast_precision_loss)] // reason: tens of megabytes.
    let size_mb = plugin.size_bytes() as f64 / 1e6;
    Ok(LanguageFigures {
        language,
        size_mb,
        compile_ms,
        cached_ms: median(&mut cached),
        instantiate_us,
        call_ns,
        rss_mib_per_instance,
    })
}

/// Median µs of one instantiation, over batches of 10.
fn instantiate(plugin: &std::sync::Arc<LoadedPlugin>, plan: &Plan) -> anyhow::Result<f64> {
    let mut samples = Vec::new();
    let mut alive = Vec::with_capacity(10);
    for _ in 0..plan.cold_loads.max(3) {
        let start = Instant::now();
        for _ in 0..10 {
            alive.push(plugin.instantiate()?);
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / 10.0);
        alive.clear();
    }
    Ok(median(&mut samples))
}

/// Resident memory 20 initialized instances add, per instance, MiB.
fn resident_per_instance(
    plugin: &std::sync::Arc<LoadedPlugin>,
    now_ms: i64,
) -> anyhow::Result<f64> {
    const INSTANCES: u32 = 20;
    let before = rss_kib()?;
    let mut alive = Vec::new();
    for _ in 0..INSTANCES {
        let mut instance = plugin.instantiate()?;
        instance.init(&init_context(now_ms))?;
        alive.push(instance);
    }
    let after = rss_kib()?;
    drop(alive);
    Ok((after - before) / 1024.0 / f64::from(INSTANCES))
}

/// Builds the three components and measures each.
///
/// # Errors
/// A build, load or call failed.
pub fn measure(plan: &Plan) -> anyhow::Result<Vec<LanguageFigures>> {
    let root = workspace_root().join("target").join("bench-plugins");
    std::fs::create_dir_all(&root)?;
    components(&root)?
        .into_iter()
        .map(|(language, wasm)| measure_one(language, &wasm, plan))
        .collect()
}
