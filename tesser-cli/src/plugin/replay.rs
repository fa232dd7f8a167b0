//! `tesser plugin replay`: one order through each plugin on recorded trades,
//! each on a fresh orchestrator (paper exchange, in-memory store, risk
//! guard), and their execution quality side by side.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use serde::Serialize;
use tesser_core::{ExecutionHint, OrderType, Side, Signal, SignalKind, Tick};
use tesser_data::BadLinePolicy;
use tesser_execution::{
    AlgorithmStatus, FixedQuantitySizer, Orchestrator, OrchestratorError, OrchestratorParts,
    RiskGuard, StateStore,
};
use tesser_paper::PaperExchange;

use super::metrics::{self, Figures, FillPoint};
use crate::config::Config;
use crate::data::input::{InputArgs, tick_or_advice};

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
    /// Trade prints (.csv or .jsonl, e.g. from `tesser data generate`, or an
    /// exchange or vendor file, see --format); the order is submitted at the
    /// first trade, whose symbol it trades.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// How to read --data.
    #[command(flatten)]
    pub input: InputArgs,
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
    /// Do not draw the progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Plugins replayed at once, each on its own core [default: the
    /// number of cores]. The results do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Order arrival delay of the paper exchange, ms of data time: an order
    /// reaches the book this long after it is sent [config: paper.latency_ms].
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub latency_ms: Option<i64>,
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

/// Reads every trade of the data file, as `input` says.
pub(super) fn read_trades(path: &Path, input: &InputArgs) -> anyhow::Result<Vec<Tick>> {
    let reader = input.open(path, BadLinePolicy::Stop)?;
    let mut trades = Vec::new();
    for tick in reader {
        trades.push(tick_or_advice(tick)?);
    }
    if trades.is_empty() {
        bail!(
            "data file {} holds no trades: pass a file with at least one trade",
            path.display()
        );
    }
    Ok(trades)
}

/// How often (in trades) a replay moves its progress bar: often enough to
/// look smooth, rarely enough to cost nothing per trade.
const PROGRESS_EVERY: usize = 4096;

/// A progress bar over `total` trades for plugin `name` in `bars`.
pub(super) fn trade_bar(bars: &MultiProgress, name: &str, total: usize) -> ProgressBar {
    let bar = bars.add(ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX)));
    let style = ProgressStyle::with_template(
        "{prefix:<20} [{bar:30}] {human_pos}/{human_len} trades, {eta} left",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("#>-");
    bar.set_style(style);
    bar.set_prefix(name.to_owned());
    bar
}

/// What every replay of one `replay` or `sweep` shares.
pub(super) struct Setup<'a> {
    /// The configuration (paper exchange, risk, plugin limits).
    pub config: &'a Config,
    /// The trades, read once.
    pub trades: &'a [Tick],
    /// Side of the order.
    pub side: Side,
    /// Quantity of the order.
    pub qty: Decimal,
    /// Where the progress bars go.
    pub bars: &'a MultiProgress,
    /// Set by Ctrl-C: a replay in progress stops and fails.
    pub stop: &'a AtomicBool,
}

/// A replay stopped by Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub(super) struct Interrupted;

/// Replays the setup's trades through one plugin with `params`; `label`
/// names its progress bar.
pub(super) fn replay_one(
    setup: &Setup<'_>,
    plugin_path: &Path,
    params: &serde_json::Value,
    label: &str,
) -> anyhow::Result<PluginRun> {
    let Setup {
        config,
        trades,
        side,
        qty,
        bars,
        stop,
    } = *setup;
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
        orch.algorithm_status(&id)
            .unwrap_or(AlgorithmStatus::Failed)
    };

    let progress = trade_bar(bars, label, trades.len());
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
        if index % PROGRESS_EVERY == 0 {
            progress.set_position(u64::try_from(index).unwrap_or(u64::MAX));
            if stop.load(Ordering::Relaxed) {
                progress.abandon();
                return Err(Interrupted.into());
            }
        }
    }
    progress.finish_and_clear();

    orch.flush()?;
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
pub(super) fn table(runs: &[PluginRun]) -> String {
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
    let mut out = text_table(&header, &rows);
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
    let jobs = jobs(args.jobs)?;
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
    let config = lab_config(
        args.config.as_deref(),
        args.plugins_dir.as_deref(),
        args.latency_ms,
    )?;
    let dir = config.live.plugins_dir.clone();
    let mut plugins = Vec::new();
    for spec in &specs {
        plugins.push(super::resolve_plugin(spec, &dir)?);
    }
    let trades = read_trades(&args.data, &args.input)?;
    let side = match args.side {
        SideArg::Buy => Side::Buy,
        SideArg::Sell => Side::Sell,
    };
    let bars = progress_bars(args.no_progress);
    let stop = AtomicBool::new(false);
    let setup = Setup {
        config: &config,
        trades: &trades,
        side,
        qty: args.qty,
        bars: &bars,
        stop: &stop,
    };
    let runs = in_parallel(&specs, jobs, |index, spec| {
        let label = plugins[index]
            .file_stem()
            .map_or_else(|| (*spec).to_owned(), |s| s.to_string_lossy().into_owned());
        replay_one(
            &setup,
            &plugins[index],
            params_for.get(spec).unwrap_or(&params),
            &label,
        )
    })?;
    bars.clear().ok();
    print!("{}", table(&runs));
    std::io::stdout().flush().ok();
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&runs)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing --json {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let html = super::report::render(&args.data, &trades, &runs, &config.paper_config());
        std::fs::write(path, html)
            .with_context(|| format!("writing --report {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}

/// The configuration of a lab run, with `--latency-ms` over `[paper]`.
///
/// # Errors
/// The configuration does not load, or the latency is negative.
pub(super) fn lab_config(
    config: Option<&Path>,
    plugins_dir: Option<&Path>,
    latency_ms: Option<i64>,
) -> anyhow::Result<Config> {
    let mut config = super::load_config(config, plugins_dir)?;
    if let Some(latency) = latency_ms {
        if latency < 0 {
            bail!(
                "--latency-ms must not be negative, got {latency}: pass the order arrival delay in ms, e.g. --latency-ms 50"
            );
        }
        config.paper.latency_ms = latency;
    }
    Ok(config)
}

/// Lays `rows` out under `header` in left-aligned columns two spaces apart.
pub(super) fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
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
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
        out.push('\n');
    }
    out
}

/// The `--jobs` option, or the number of cores.
///
/// # Errors
/// `--jobs 0`.
pub(super) fn jobs(option: Option<usize>) -> anyhow::Result<usize> {
    match option {
        Some(0) => {
            bail!("--jobs must be at least 1: pass how many plugins run at once, e.g. --jobs 2")
        }
        Some(jobs) => Ok(jobs),
        None => Ok(std::thread::available_parallelism().map_or(1, std::num::NonZero::get)),
    }
}

/// Progress bars on standard error when it is a terminal and they are
/// wanted; hidden otherwise.
pub(super) fn progress_bars(no_progress: bool) -> MultiProgress {
    if !no_progress && std::io::stderr().is_terminal() {
        MultiProgress::with_draw_target(ProgressDrawTarget::stderr())
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    }
}

/// Runs `work` on every item, at most `jobs` at once, and returns the
/// results in the items' order.
///
/// # Errors
/// The error of the first item (in order) that failed.
pub(super) fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<R>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    let result = work(index, item);
                    if let Ok(mut results) = results.lock() {
                        results[index] = Some(result);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a replay thread panicked"))?;
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(anyhow::anyhow!("a replay thread panicked"))))
        .collect()
}
