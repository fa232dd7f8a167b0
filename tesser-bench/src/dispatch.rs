//! F, W, N and J, measured interleaved: batch after batch, each figure in
//! turn, so a busy neighbour on the machine slows all of them alike.

use anyhow::{Context as _, ensure};
use rust_decimal::Decimal;
use tesser_core::{ExecutionHint, Instrument, Side, Signal, SignalKind, Tick};
use tesser_execution::native::NativeProvider;
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};
use tesser_execution::{
    AlgorithmProvider, FixedQuantitySizer, Orchestrator, OrchestratorConfig, OrchestratorParts,
    RiskGuard, RiskLimits, StateStore,
};
use tesser_paper::{PaperConfig, PaperExchange};

use crate::Plan;
use crate::build::{CHASE, Plugins};
use crate::floor::Floor;
use crate::json::JsonChaseProvider;
use crate::measure::{median, ns_per_call};

/// Medians of the interleaved call figures, nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct CallFigures {
    /// F.
    pub floor_ns: f64,
    /// W.
    pub wasm_ns: f64,
    /// N.
    pub native_ns: f64,
    /// J.
    pub json_ns: f64,
}

/// The symbol every benchmark trades.
pub const SYMBOL: &str = "BTCUSD";

/// Price of the benchmark's first trade.
pub fn start_price() -> Decimal {
    Decimal::new(30_000, 0)
}

/// The instrument the generated trades are on (tick 0.1, lot 1e-8).
pub fn instrument() -> Instrument {
    Instrument::new(SYMBOL, "BTC", "USD")
        .with_tick_size(Decimal::new(1, 1))
        .with_lot_size(Decimal::new(1, 8))
}

/// A trade print at `price`, bought by the aggressor.
pub fn tick(price: Decimal, timestamp_ms: i64) -> Tick {
    Tick {
        symbol: SYMBOL.into(),
        price,
        size: Decimal::new(1, 2),
        aggressor: Some(Side::Buy),
        timestamp_ms,
    }
}

/// A buy signal of `quantity` for the chase, in clips of `clip`.
pub fn chase_signal(quantity: Decimal, clip: Decimal) -> Signal {
    let mut signal =
        Signal::new(SYMBOL, SignalKind::EnterLong, 1.0).with_hint(ExecutionHint::Plugin {
            name: CHASE.to_owned(),
            params: serde_json::json!({ "clip_size": clip.to_string() }),
        });
    signal.quantity = Some(quantity);
    signal
}

/// An orchestrator on the paper exchange and an in-memory store, with the
/// risk guard on (price band, instrument rules).
///
/// # Errors
/// The store could not be opened.
pub fn orchestrator(
    provider: Box<dyn AlgorithmProvider>,
) -> anyhow::Result<Orchestrator<PaperExchange>> {
    orchestrator_with_store(provider, StateStore::open_in_memory()?)
}

/// [`orchestrator`] on `store`.
///
/// # Errors
/// The store could not be read.
pub fn orchestrator_with_store(
    provider: Box<dyn AlgorithmProvider>,
    store: StateStore,
) -> anyhow::Result<Orchestrator<PaperExchange>> {
    let limits = RiskLimits {
        max_order_quantity: Some(Decimal::new(100, 0)),
        price_band_bps: Some(Decimal::new(500, 0)),
        max_actions_per_second: None,
    };
    Ok(Orchestrator::open(OrchestratorParts {
        provider,
        exchange: PaperExchange::new(PaperConfig::default()),
        store,
        risk: RiskGuard::new(limits, [instrument()]),
        sizer: Box::new(FixedQuantitySizer::new(Decimal::ONE)),
        config: OrchestratorConfig::default(),
    })?)
}

/// An orchestrator whose one chase rests a buy clip at the start price, so
/// that a print at that price (bought by the aggressor) neither fills it nor
/// makes the chase move it: the tick is dispatched and answered with an
/// empty result.
fn resting_chase(
    provider: Box<dyn AlgorithmProvider>,
) -> anyhow::Result<(Orchestrator<PaperExchange>, Tick)> {
    let mut orchestrator = orchestrator(provider)?;
    let print = tick(start_price(), 1_700_000_000_000);
    orchestrator.on_tick(&print)?;
    let id = orchestrator
        .submit_signal(&chase_signal(Decimal::ONE, Decimal::new(1, 1)))?
        .context("the chase signal started no algorithm")?;
    orchestrator.on_tick(&print)?;
    let summary = orchestrator.algorithm(&id).context("the chase algorithm")?;
    ensure!(
        summary.child_orders == 1 && summary.status.as_str() == "working",
        "the chase should rest one clip, got {summary:?}"
    );
    Ok((orchestrator, print))
}

fn child_orders(orchestrator: &Orchestrator<PaperExchange>) -> usize {
    orchestrator
        .algorithms()
        .iter()
        .map(|a| a.child_orders)
        .sum()
}

/// Runs one of F, W, N or J alone, over and over for `seconds`, and returns
/// its nanoseconds per call: a steady loop for `perf record`.
///
/// # Errors
/// Setting up failed, or a call failed.
pub fn spin(plugins: &Plugins, figure: char, seconds: f64) -> anyhow::Result<f64> {
    let limits = PluginLimits::default();
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, limits.clone())?;
    let mut floor = Floor::new(engine.wasmtime_engine())?;
    let mut call: Box<dyn FnMut() -> anyhow::Result<()>> = match figure {
        'F' => Box::new(move || floor.call()),
        'W' | 'N' | 'J' => {
            let provider: Box<dyn AlgorithmProvider> = match figure {
                'W' => Box::new(engine),
                'N' => Box::new(NativeProvider::new().with::<plugin_chase::ChasePlugin>(CHASE)),
                _ => Box::new(JsonChaseProvider::new(&plugins.json_chase, &limits)?),
            };
            let (mut orchestrator, print) = resting_chase(provider)?;
            Box::new(move || Ok(orchestrator.on_tick(&print)?))
        }
        other => anyhow::bail!("--spin {other}: not a call figure (F, W, N, J, I)"),
    };
    let start = std::time::Instant::now();
    let (mut calls, mut elapsed) = (0_u64, 0.0);
    while elapsed < seconds {
        for _ in 0..1000 {
            call()?;
        }
        calls += 1000;
        elapsed = start.elapsed().as_secs_f64();
    }
    #[allow(clippy::cast_precision_loss)] // reason: a count of calls, far below 2^52.
    Ok(elapsed * 1e9 / calls as f64)
}

/// Runs F, W, N and J interleaved.
///
/// # Errors
/// Setting up failed, or a call failed or produced a child order.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<CallFigures> {
    let limits = PluginLimits::default();
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, limits.clone())?;
    let mut floor = Floor::new(engine.wasmtime_engine())?;
    let (mut wasm, print) = resting_chase(Box::new(engine))?;
    let (mut native, _) = resting_chase(Box::new(
        NativeProvider::new().with::<plugin_chase::ChasePlugin>(CHASE),
    ))?;
    let (mut json, _) = resting_chase(Box::new(JsonChaseProvider::new(
        &plugins.json_chase,
        &limits,
    )?))?;

    let calls = plan.calls_per_batch;
    let (mut f, mut w, mut n, mut j) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.call_batches {
        f.push(ns_per_call(calls, || floor.call())?);
        w.push(ns_per_call(calls, || Ok(wasm.on_tick(&print)?))?);
        n.push(ns_per_call(calls, || Ok(native.on_tick(&print)?))?);
        // J is an order of magnitude slower: fewer calls keep batches short.
        j.push(ns_per_call(calls / 10, || Ok(json.on_tick(&print)?))?);
    }
    for (name, orchestrator) in [("W", &wasm), ("N", &native), ("J", &json)] {
        ensure!(
            child_orders(orchestrator) == 1 && orchestrator.working_algorithms() == 1,
            "{name}: the measured ticks must produce no child order and keep the chase working"
        );
    }
    Ok(CallFigures {
        floor_ns: median(&mut f),
        wasm_ns: median(&mut w),
        native_ns: median(&mut n),
        json_ns: median(&mut j),
    })
}
