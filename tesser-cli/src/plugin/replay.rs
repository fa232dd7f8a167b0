//! `tesser plugin replay`: one order through each plugin on recorded trades,
//! each on a fresh orchestrator (paper exchange, in-memory store, risk
//! guard), and their execution quality side by side.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use serde::Serialize;
use tesser_core::{ExecutionHint, OrderType, Side, Signal, SignalKind, Tick};
use tesser_data::TradeFileReader;
use tesser_execution::{
    AlgorithmStatus, FixedQuantitySizer, Orchestrator, OrchestratorError, OrchestratorParts,
    RiskGuard, StateStore,
};
use tesser_paper::PaperExchange;

use super::metrics::{self, Figures, FillPoint};
use crate::config::Config;

/// Side of the replayed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// `tesser plugin replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The plugin: a name in the plugins directory or a `.wasm` file.
    #[arg(value_name = "NAME")]
    pub plugin: String,
    /// Trade prints (.csv or .jsonl, e.g. from `tesser data generate`); the
    /// order is submitted at the first trade, whose symbol it trades.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Side of the order.
    #[arg(long, value_enum)]
    pub side: SideArg,
    /// Quantity of the order (positive).
    #[arg(long, value_name = "Q", allow_hyphen_values = true)]
    pub qty: Decimal,
    /// Params passed to every plugin's `init`, as JSON [default: {}].
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Params for one plugin only, in place of `--params`: NAME as given to
    /// NAME or `--compare`, e.g. `--params-for twap='{"duration_ms": 600000}'`
    /// (repeatable, once per plugin).
    #[arg(long = "params-for", value_name = "NAME=JSON")]
    pub params_for: Vec<String>,
    /// More plugins to run the same order through, each on its own exchange.
    #[arg(long, value_name = "NAME2", num_args = 1..)]
    pub compare: Vec<String>,
    /// Write the figures and fills of every plugin as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report (price chart with fills, figures).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Directory holding `<name>.wasm` plugins [config: live.plugins_dir].
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml (risk limits,
    /// instruments, paper fees, plugin limits, timer interval).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// The outcome of one plugin's replay, as written to `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct PluginRun {
    /// Plugin name.
    pub plugin: String,
    /// Side of the order.
    pub side: &'static str,
    /// Target quantity.
    pub target: Decimal,
    /// Quantity filled.
    pub filled: Decimal,
    /// Target less filled: never filled (once it ended) or still to do (when
    /// the data ended first).
    pub unfilled: Decimal,
    /// Last trade price when the order was submitted.
    pub arrival_price: Decimal,
    /// Average fill price.
    pub avg_price: Option<Decimal>,
    /// Implementation shortfall vs arrival, bps, positive = cost.
    pub shortfall_bps: Option<Decimal>,
    /// Market VWAP of the trades in the execution window.
    pub market_vwap: Option<Decimal>,
    /// Average fill vs market VWAP, bps, positive = cost.
    pub vwap_slippage_bps: Option<Decimal>,
    /// Filled / target.
    pub fill_ratio: Option<Decimal>,
    /// Child orders sent, by kind (`limit`, `market`, …).
    pub child_orders: BTreeMap<String, usize>,
    /// Data time from submission to completion (or to the end of the data
    /// while still working), ms.
    pub duration_ms: i64,
    /// Data time of the submission (the first trade), ms.
    pub submitted_ms: i64,
    /// Last data time of the execution window: completion, or the last fill
    /// when the data ended first (the submission without fills), ms.
    pub window_end_ms: i64,
    /// Trades in the execution window.
    pub window_trades: usize,
    /// `completed` (the whole target filled), `partial`, `failed`,
    /// `cancelled`, or `working` / `finishing` when the data ended first.
    pub status: String,
    /// Why it ended short of its target (or why it is finishing).
    pub reason: Option<String>,
    /// Every fill.
    pub fills: Vec<FillPoint>,
}

const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn order_kind(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "market",
        OrderType::Limit => "limit",
        OrderType::StopMarket => "stop_market",
        OrderType::StopLimit => "stop_limit",
    }
}

/// Reads every trade of the data file.
fn read_trades(path: &Path) -> anyhow::Result<Vec<Tick>> {
    if !path.is_file() {
        bail!(
            "data file {} not found: pass --data with an existing .csv or .jsonl trades file (`tesser data generate --out trades.csv` makes one)",
            path.display()
        );
    }
    let reader = TradeFileReader::open(path).with_context(|| {
        format!(
            "data file {}: expected a .csv or .jsonl trades file",
            path.display()
        )
    })?;
    let mut trades = Vec::new();
    for tick in reader {
        trades.push(tick.with_context(|| format!("data file {}", path.display()))?);
    }
    if trades.is_empty() {
        bail!(
            "data file {} holds no trades: pass a file with at least one trade",
            path.display()
        );
    }
    Ok(trades)
}

/// Progress over the trades on standard error: a bar on a terminal,
/// nothing otherwise.
struct Progress {
    enabled: bool,
    label: String,
    total: usize,
    last: Instant,
    drawn: bool,
}

impl Progress {
    fn new(enabled: bool, label: &str, total: usize) -> Self {
        Self {
            enabled,
            label: label.to_owned(),
            total,
            last: Instant::now(),
            drawn: false,
        }
    }

    fn update(&mut self, done: usize) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(80) {
            return;
        }
        self.last = Instant::now();
        let width = 30;
        let filled = (done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:<20} [{}{}] {done}/{} trades",
            self.label,
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.total
        );
        let _ = err.flush();
        self.drawn = true;
    }

    fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr(), "\r{:<80}\r", "");
        }
    }
}

/// Replays `trades` through one plugin.
#[allow(clippy::too_many_arguments)] // the replay's inputs, each needed
fn replay_one(
    config: &Config,
    plugin_path: &Path,
    trades: &[Tick],
    side: Side,
    qty: Decimal,
    params: &serde_json::Value,
    show_progress: bool,
) -> anyhow::Result<PluginRun> {
    let dir = plugin_path.parent().unwrap_or_else(|| Path::new("."));
    let name = plugin_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .context("plugin file name")?;
    let engine = super::engine(config, dir)?;
    // Load up front: a broken plugin is reported as such, not as a failed run.
    engine
        .load(&name)
        .with_context(|| format!("plugin {}", plugin_path.display()))?;
    let mut orch = Orchestrator::open(OrchestratorParts {
        provider: Box::new(engine),
        exchange: PaperExchange::new(config.paper_config()),
        store: StateStore::open_in_memory()?,
        risk: RiskGuard::new(config.risk_limits(), config.instruments()),
        sizer: Box::new(FixedQuantitySizer::new(qty)),
        config: config.orchestrator_config(),
    })?;

    let first = &trades[0];
    orch.on_tick(first)?;
    let arrival_price = first.price;
    let kind = match side {
        Side::Buy => SignalKind::EnterLong,
        Side::Sell => SignalKind::EnterShort,
    };
    let mut signal =
        Signal::new(first.symbol.clone(), kind, 1.0).with_hint(ExecutionHint::Plugin {
            name: name.clone(),
            params: params.clone(),
        });
    signal.quantity = Some(qty);
    let id = match orch.submit_signal(&signal) {
        Ok(Some(id)) => id,
        Ok(None) => bail!("plugin {name}: the order started no algorithm"),
        Err(error @ OrchestratorError::Plugin { .. }) => {
            return Err(anyhow::Error::new(error).context(format!("plugin {name}")));
        }
        Err(error) => return Err(error.into()),
    };
    let status_of = |orch: &Orchestrator<PaperExchange>| {
        orch.algorithm(&id)
            .map_or(AlgorithmStatus::Failed, |a| a.status)
    };

    let mut progress = Progress::new(show_progress, &name, trades.len());
    let mut end_index = 0;
    let mut status = status_of(&orch);
    // A finishing algorithm still has orders open: its fills count.
    for (index, tick) in trades.iter().enumerate().skip(1) {
        if status.is_terminal() {
            break;
        }
        orch.on_tick(tick)?;
        status = status_of(&orch);
        end_index = index;
        progress.update(index + 1);
    }
    progress.finish();

    let summary = orch
        .algorithm(&id)
        .with_context(|| format!("algorithm {id} vanished"))?;
    let fills: Vec<FillPoint> = orch
        .store()
        .fills()?
        .into_iter()
        .filter(|f| f.algorithm_id == id)
        .map(|f| FillPoint {
            time: f.fill.timestamp_ms,
            price: f.fill.price,
            quantity: f.fill.quantity,
            side: side_name(f.fill.side),
        })
        .collect();
    let mut child_orders = BTreeMap::new();
    for child in orch.store().child_orders()? {
        if child.algorithm_id == id {
            *child_orders
                .entry(order_kind(child.request.order_type).to_owned())
                .or_insert(0) += 1;
        }
    }

    let submitted_ms = first.timestamp_ms;
    let end_ms = trades[end_index].timestamp_ms;
    let window_end_ms = if !status.is_terminal() {
        fills.iter().map(|f| f.time).max().unwrap_or(submitted_ms)
    } else {
        end_ms
    };
    let window: Vec<(Decimal, Decimal)> = trades
        .iter()
        .filter(|t| t.timestamp_ms >= submitted_ms && t.timestamp_ms <= window_end_ms)
        .map(|t| (t.price, t.size))
        .collect();
    let window_trades = window.len();
    let Figures {
        arrival_price,
        avg_price,
        shortfall_bps,
        market_vwap,
        vwap_slippage_bps,
        filled,
        fill_ratio,
    } = metrics::figures(side, qty, arrival_price, &fills, window);
    Ok(PluginRun {
        plugin: name,
        side: side_name(side),
        target: qty.normalize(),
        unfilled: (qty - filled).max(Decimal::ZERO).normalize(),
        filled,
        arrival_price,
        avg_price,
        shortfall_bps,
        market_vwap,
        vwap_slippage_bps,
        fill_ratio,
        child_orders,
        duration_ms: end_ms - submitted_ms,
        submitted_ms,
        window_end_ms,
        window_trades,
        status: summary.status.as_str().to_owned(),
        reason: summary.reason,
        fills,
    })
}

/// The figures as a text table.
fn table(runs: &[PluginRun]) -> String {
    let dash = |v: Option<Decimal>| v.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let header = [
        "PLUGIN",
        "STATUS",
        "FILLED",
        "UNFILLED",
        "ARRIVAL",
        "AVG PRICE",
        "SHORTFALL bps",
        "MKT VWAP",
        "VS VWAP bps",
        "FILL RATIO",
        "CHILD ORDERS",
        "DURATION ms",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let children = if run.child_orders.is_empty() {
                "0".to_owned()
            } else {
                run.child_orders
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                run.plugin.clone(),
                run.status.clone(),
                format!("{}/{}", run.filled, run.target),
                run.unfilled.to_string(),
                run.arrival_price.to_string(),
                dash(run.avg_price),
                dash(run.shortfall_bps),
                dash(run.market_vwap),
                dash(run.vwap_slippage_bps),
                dash(run.fill_ratio),
                children,
                run.duration_ms.to_string(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(header.to_vec()) + "\n";
    for row in &rows {
        out += &line(row.iter().map(String::as_str).collect());
        out.push('\n');
    }
    for run in runs {
        if let Some(reason) = &run.reason {
            out += &format!("{}: {reason}\n", run.plugin);
        }
    }
    out
}

/// The `--params-for NAME=JSON` options, by plugin name.
///
/// # Errors
/// An option without `=`, naming no plugin of the replay, given twice for
/// one plugin, or whose JSON does not parse.
fn params_per_plugin<'a>(
    options: &'a [String],
    specs: &[&str],
) -> anyhow::Result<BTreeMap<&'a str, serde_json::Value>> {
    let mut params = BTreeMap::new();
    for option in options {
        let Some((name, json)) = option.split_once('=') else {
            bail!(
                "--params-for takes NAME=JSON, got '{option}': e.g. --params-for twap='{{\"duration_ms\": 600000}}'"
            );
        };
        if !specs.contains(&name) {
            bail!(
                "--params-for {name}: no plugin '{name}' in this replay (it runs {}): name one given as NAME or to --compare",
                specs.join(", ")
            );
        }
        let value = serde_json::from_str(json).map_err(|error| {
            anyhow::anyhow!(
                "--params-for {name} is not valid JSON ({error}): pass an object like {name}='{{\"clip_size\": \"0.5\"}}'"
            )
        })?;
        if params.insert(name, value).is_some() {
            bail!("--params-for {name} is given twice: give each plugin's params once");
        }
    }
    Ok(params)
}

/// Runs the replay.
///
/// # Errors
/// Bad input (unknown plugin, missing data, bad params, quantity ≤ 0), a
/// plugin that refuses the order, or a failing write.
pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    if args.qty <= Decimal::ZERO {
        bail!(
            "--qty must be positive, got {}: pass the order quantity, e.g. --qty 2",
            args.qty
        );
    }
    let params: serde_json::Value = match &args.params {
        Some(text) => serde_json::from_str(text).map_err(|error| {
            anyhow::anyhow!(
                "--params is not valid JSON ({error}): pass an object like '{{\"clip_size\": \"0.5\"}}'"
            )
        })?,
        None => serde_json::json!({}),
    };
    let specs: Vec<&str> = std::iter::once(&args.plugin)
        .chain(&args.compare)
        .map(String::as_str)
        .collect();
    let params_for = params_per_plugin(&args.params_for, &specs)?;
    let config = super::load_config(args.config.as_deref(), args.plugins_dir.as_deref())?;
    let dir = config.live.plugins_dir.clone();
    let mut plugins = Vec::new();
    for spec in &specs {
        plugins.push(super::resolve_plugin(spec, &dir)?);
    }
    let trades = read_trades(&args.data)?;
    let side = match args.side {
        SideArg::Buy => Side::Buy,
        SideArg::Sell => Side::Sell,
    };
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let mut runs = Vec::new();
    for (spec, path) in specs.iter().zip(&plugins) {
        runs.push(replay_one(
            &config,
            path,
            &trades,
            side,
            args.qty,
            params_for.get(spec).unwrap_or(&params),
            show_progress,
        )?);
    }
    print!("{}", table(&runs));
    std::io::stdout().flush().ok();
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&runs)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing --json {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let html = super::report::render(&args.data, &trades, &runs);
        std::fs::write(path, html)
            .with_context(|| format!("writing --report {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}
