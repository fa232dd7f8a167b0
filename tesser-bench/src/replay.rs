//! R: replay throughput of the whole pipeline. Generated trades are read
//! from a CSV file by the real reader and fed to the orchestrator, which
//! matches them on the paper exchange, dispatches them to a `.wasm` chase,
//! checks its child orders with the risk guard and routes them to the paper
//! exchange. Whenever no chase is working a new one starts, as a strategy
//! would, so a chase is working throughout the file. The state store is in
//! memory: R measures the pipeline, not the disk.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use rust_decimal::Decimal;
use tesser_data::{GeneratorConfig, TradeFileReader, write_csv};
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};

use crate::Plan;
use crate::build::Plugins;
use crate::dispatch::{chase_signal, orchestrator};

/// What R measured.
#[derive(Debug, Clone, Copy)]
pub struct ReplayFigures {
    /// Trades per second through the whole pipeline.
    pub trades_per_s: f64,
    /// Child orders the chases sent.
    pub child_orders: usize,
    /// Fills booked in the journal.
    pub fills: usize,
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

/// Replays `plan.replay_trades` generated trades through the pipeline.
///
/// # Errors
/// Generating, reading or the orchestrator failed.
pub fn measure(plugins: &Plugins, plan: &Plan) -> anyhow::Result<ReplayFigures> {
    let path = trade_file(plan.replay_trades).context("generating the trades")?;
    let engine = WasmPluginEngine::with_limits(&plugins.chase_dir, PluginLimits::default())?;
    let mut orchestrator = orchestrator(Box::new(engine))?;
    let signal_quantity = Decimal::new(5, 0);
    let clip = Decimal::new(2, 2);
    let start = Instant::now();
    let mut trades = 0_u64;
    for tick in TradeFileReader::open(&path)? {
        let tick = tick?;
        orchestrator.on_tick(&tick)?;
        if orchestrator.working_algorithms() == 0 {
            orchestrator.submit_signal(&chase_signal(signal_quantity, clip))?;
        }
        trades += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let algorithms = orchestrator.algorithms();
    let child_orders = algorithms.iter().map(|a| a.child_orders).sum();
    let (_, store) = orchestrator.into_parts();
    let fills = store.fills()?.len();
    #[allow(clippy::cast_precision_loss)] // reason: ten million trades.
    let trades_per_s = trades as f64 / elapsed;
    Ok(ReplayFigures {
        trades_per_s,
        child_orders,
        fills,
    })
}
