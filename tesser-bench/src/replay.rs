//! R: replay throughput of the whole pipeline. Generated trades are read
//! from a CSV file by the real reader and fed to the orchestrator, which
//! matches them on the paper exchange, dispatches them to a `.wasm` chase,
//! checks its child orders with the risk guard and routes them to the paper
//! exchange. Whenever no chase is working a new one starts, as a strategy
//! would, so a chase is working throughout the file. The state store is in
//! memory: R measures the pipeline, not the disk.
//!
//! Beside it, on the same file:
//! * R_floor: the reader and the paper exchange alone, no orchestrator;
//! * R_idle: one `.wasm` plugin that rests one order and then does nothing
//!   (it still hears every trade);
//! * R_native: R_busy with the chase compiled into the host
//!   ([`NativeProvider`]);
//! * J_clip: R_busy's work per child order with the state in a SQLite file
//!   (WAL), as `live run` keeps it, over a tenth of the trades;
//! * E_clip: R_busy's entries into the guest per child order (every export
//!   call: events, `take-result`, `snapshot`), the count ABI 3.0 lowers.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use rust_decimal::Decimal;
use tesser_core::{ExchangeClient, ExecutionHint, Signal, SignalKind};
use tesser_data::{GeneratorConfig, TradeFileReader, write_csv};
use tesser_execution::native::NativeProvider;
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};
use tesser_execution::{AlgorithmProvider, Orchestrator, StateStore};
use tesser_paper::{PaperConfig, PaperExchange};

use crate::Plan;
use crate::build::{CHASE, Plugins};
use crate::dispatch::{SYMBOL, chase_signal, orchestrator, orchestrator_with_store};

/// What R measured.
#[derive(Debug, Clone, Copy)]
pub struct ReplayFigures {
    /// R_busy: trades per second through the whole pipeline, chase working.
    pub trades_per_s: f64,
    /// Child orders the chases sent.
    pub child_orders: usize,
    /// Times the host entered the chases' guest code over the run.
    pub guest_entries: u64,
    /// Fills booked in the journal.
    pub fills: usize,
    /// R_floor: trades per second, reader → paper exchange.
    pub floor_trades_per_s: f64,
    /// R_idle: trades per second with one plugin resting one order.
    pub idle_trades_per_s: f64,
    /// R_native: R_busy with the chase compiled into the host.
    pub native_trades_per_s: f64,
    /// J_clip: microseconds per child order of R_busy with a SQLite file.
    pub journal_us_per_clip: f64,
    /// Trades of the J_clip run.
    pub journal_trades: u64,
}

/// The generated trade file for `trades` trades (written once, then reused).
fn trade_file(trades: u64) -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("trades-{trades}-seed-1.csv"));
    if !path.exists() {
        let config = GeneratorConfig {
            trades,
            seed: 1,
            ..GeneratorConfig::default()
        };
        let partial = path.with_extension("csv.partial");
        let file = File::create(&partial)?;
        write_csv(&config, BufWriter::new(file))?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(path)
}

/// What one busy run did.
struct Busy {
    trades_per_s: f64,
    child_orders: usize,
    guest_entries: u64,
    orchestrator: Orchestrator<PaperExchange>,
}

/// One busy run: the chase restarted whenever none works.
fn busy(
    path: &Path,
    mut orchestrator: Orchestrator<PaperExchange>,
    limit: u64,
) -> anyhow::Result<Busy> {
    let signal_quantity = Decimal::new(5, 0);
    let clip = Decimal::new(2, 2);
    let start = Instant::now();
    let mut trades = 0_u64;
    for tick in TradeFileReader::open(path)? {
        let tick = tick?;
        orchestrator.on_tick(&tick)?;
        if orchestrator.working_algorithms() == 0 {
            orchestrator.submit_signal(&chase_signal(signal_quantity, clip))?;
        }
        trades += 1;
        if trades >= limit {
            break;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let algorithms = orchestrator.algorithms();
    let child_orders = algorithms.iter().map(|a| a.child_orders).sum();
    let guest_entries = algorithms.iter().map(|a| a.guest_entries).sum();
    #[allow(clippy::cast_precision_loss)] // reason: ten million trades.
    Ok(Busy {
        trades_per_s: trades as f64 / elapsed,
        child_orders,
        guest_entries,
        orchestrator,
    })
}

/// Trades per second of `feed` over the file.
fn throughput(
    path: &Path,
    mut feed: impl FnMut(&tesser_core::Tick) -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut trades = 0_u64;
    for tick in TradeFileReader::open(path)? {
        feed(&tick?)?;
        trades += 1;
    }
    #[allow(clippy::cast_precision_loss)] // reason: ten million trades.
    Ok(trades as f64 / start.elapsed().as_secs_f64())
}

/// Replays `plan.replay_trades` generated trades through the pipeline, and
/// the companion figures on the same file.
///
/// # Errors
/// Generating, reading or the orchestrator failed.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<ReplayFigures> {
    let path = trade_file(plan.replay_trades).context("generating the trades")?;
    let wasm = || -> anyhow::Result<Box<dyn AlgorithmProvider>> {
        let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
        // Compiled before the clock starts, as the lab's compiled cache
        // does: R is the replay, not the one-off compile (figure C).
        engine.load(CHASE)?;
        Ok(Box::new(engine))
    };

    // R_floor: no orchestrator, no plugin.
    let mut exchange = PaperExchange::new(PaperConfig::default());
    let mut events = Vec::new();
    let floor_trades_per_s = throughput(&path, |tick| {
        exchange.on_market_tick(tick);
        exchange.poll_events(&mut events);
        events.clear();
        Ok(())
    })?;

    // R_busy.
    let Busy {
        trades_per_s,
        child_orders,
        guest_entries,
        orchestrator: orch,
    } = busy(&path, orchestrator(wasm()?)?, u64::MAX)?;
    let (_, store) = orch.into_parts();
    let fills = store.fills()?.len();
    drop(store);

    // R_native.
    let native = NativeProvider::new().with::<plugin_chase::ChasePlugin>(CHASE);
    let native_trades_per_s = busy(&path, orchestrator(Box::new(native))?, u64::MAX)?.trades_per_s;

    // R_idle: one resting order, 4 % under the start, never completed.
    let idle_trades_per_s = idle(&path, plugins)?;

    // J_clip: the busy run on a SQLite file, a tenth of the trades.
    let dir = tempfile::tempdir()?;
    let journal_trades = (plan.replay_trades / 10).max(1);
    let store = StateStore::open(dir.path().join("state.sqlite"))?;
    let start = Instant::now();
    let journal_clips = busy(
        &path,
        orchestrator_with_store(wasm()?, store)?,
        journal_trades,
    )?
    .child_orders;
    #[allow(clippy::cast_precision_loss)] // reason: a few hundred thousand clips.
    let journal_us_per_clip = start.elapsed().as_secs_f64() * 1e6 / journal_clips.max(1) as f64;

    Ok(ReplayFigures {
        trades_per_s,
        child_orders,
        guest_entries,
        fills,
        floor_trades_per_s,
        idle_trades_per_s,
        native_trades_per_s,
        journal_us_per_clip,
        journal_trades,
    })
}

/// R_idle over `path`: one `.wasm` plugin rests one buy 4 % under the start
/// and never acts again; it hears every trade.
fn idle(path: &Path, plugins: &Plugins) -> anyhow::Result<f64> {
    let engine = WasmPluginEngine::with_limits(&plugins.scripted_dir, PluginLimits::default())?;
    engine.load("scripted")?;
    let mut idle = orchestrator(Box::new(engine))?;
    let mut signal =
        Signal::new(SYMBOL, SignalKind::EnterLong, 1.0).with_hint(ExecutionHint::Plugin {
            name: "scripted".to_owned(),
            params: serde_json::json!({ "steps": [{ "on": "init", "actions": [
                { "place": { "symbol": SYMBOL, "side": "buy", "order_type": "limit",
                             "quantity": "0.01", "price": "28800" } }
            ] }] }),
        });
    signal.quantity = Some(Decimal::ONE);
    let mut submitted = false;
    let rate = throughput(path, |tick| {
        idle.on_tick(tick)?;
        if !submitted {
            idle.submit_signal(&signal)?;
            submitted = true;
        }
        Ok(())
    })?;
    anyhow::ensure!(
        idle.working_algorithms() == 1,
        "the idle plugin stopped working"
    );
    Ok(rate)
}

/// Runs one replay figure (`R`, `RN`, `RI` or `RJ`, the J_clip run) over the `--quick` trade file
/// again and again for `seconds`: a steady load for `perf record`. Returns
/// the last run's trades per second.
///
/// # Errors
/// As [`measure`].
pub fn spin(plugins: &Plugins, figure: &str, seconds: f64) -> anyhow::Result<f64> {
    let path = trade_file(crate::Plan::QUICK.replay_trades)?;
    let start = Instant::now();
    let mut rate = 0.0;
    while start.elapsed().as_secs_f64() < seconds {
        rate = match figure {
            "RI" => idle(&path, plugins)?,
            "RJ" => {
                let engine =
                    WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
                engine.load(CHASE)?;
                let dir = tempfile::tempdir()?;
                let store = StateStore::open(dir.path().join("state.sqlite"))?;
                let orchestrator = orchestrator_with_store(Box::new(engine), store)?;
                busy(&path, orchestrator, Plan::QUICK.replay_trades / 10)?.trades_per_s
            }
            "RN" => {
                let native = NativeProvider::new().with::<plugin_chase::ChasePlugin>(CHASE);
                busy(&path, orchestrator(Box::new(native))?, u64::MAX)?.trades_per_s
            }
            _ => {
                let engine =
                    WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
                engine.load(CHASE)?;
                busy(&path, orchestrator(Box::new(engine))?, u64::MAX)?.trades_per_s
            }
        };
        eprintln!("{figure}: {rate:.0} trades/s");
    }
    Ok(rate)
}
