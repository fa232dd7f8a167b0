//! `tesser live run`: market data → strategy → orchestrator (plugins, risk
//! guard) → paper exchange, with progress, a clean Ctrl-C and resume.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use tesser_core::{ExecutionHint, Portfolio, SignalId, Symbol};
use tesser_data::{BadLinePolicy, MarketDataSource, Replay, Speed, TradeFileReader};
use tesser_execution::wasm::WasmPluginEngine;
use tesser_execution::{
    FixedQuantitySizer, Orchestrator, OrchestratorConfig, OrchestratorError, OrchestratorParts,
    RiskGuard, StateStore,
};
use tesser_paper::PaperExchange;
use tesser_strategy::{PositionView, StrategyConfig, StrategyContext};

use crate::config;
use crate::durable::DurablePaper;
use crate::summary::{RunSummary, SummaryRow};

/// Where child orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecMode {
    /// The built-in deterministic paper exchange.
    Paper,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `tesser live run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Strategy TOML: `strategy_name`, `symbol`, `[params]` and an
    /// `[execution]` table naming the plugin that executes its signals.
    #[arg(long, value_name = "FILE")]
    pub strategy_config: PathBuf,
    /// Directory holding `<name>.wasm` execution plugins [config: live.plugins_dir].
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml (then TESSER_* variables, then flags).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Trade prints to replay: a .csv or .jsonl file, or `-` for standard input.
    #[arg(long, value_name = "FILE|-")]
    pub data: Option<PathBuf>,
    /// Replay speed: a multiple of real time (1, 10, 0.5) or `max` [config: live.speed].
    #[arg(long, value_name = "N|max")]
    pub speed: Option<String>,
    /// Where child orders go; only the paper exchange for now.
    #[arg(long, value_enum, default_value = "paper")]
    pub exec: ExecMode,
    /// SQLite state file; an existing one is resumed [config: live.state_path].
    #[arg(long, value_name = "FILE")]
    pub state_path: Option<PathBuf>,
    /// Timer heartbeat interval for plugins, in ms of data time [config: live.timer_ms].
    #[arg(long, value_name = "N")]
    pub timer_ms: Option<i64>,
    /// What to do with a malformed data line: `stop` or `skip` [config: live.on_bad_line].
    #[arg(long, value_name = "stop|skip")]
    pub on_bad_line: Option<String>,
    /// Also write the final summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Do not draw the progress line.
    #[arg(long)]
    pub no_progress: bool,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

struct Positions<'a>(&'a Portfolio);

impl PositionView for Positions<'_> {
    fn position(&self, symbol: &Symbol) -> Decimal {
        self.0.position(symbol)
    }
}

/// The plugin engine over `live.plugins_dir` with the `[plugins]` limits and,
/// unless switched off, the compiled-plugin cache (`[plugins] cache_dir`). A
/// cache directory that cannot be used costs only the cache: a warning names
/// it and plugins are compiled on every start.
fn plugin_engine(config: &config::Config) -> anyhow::Result<WasmPluginEngine> {
    let plugins_dir = &config.live.plugins_dir;
    let engine = || {
        WasmPluginEngine::with_limits(plugins_dir, config.plugin_limits())
            .with_context(|| format!("plugins directory {}", plugins_dir.display()))
    };
    let Some(cache_dir) = config.plugin_cache_dir() else {
        return engine();
    };
    match engine()?.with_compiled_cache(&cache_dir) {
        Ok(engine) => {
            tracing::debug!(cache_dir = %cache_dir.display(), "compiled-plugin cache");
            Ok(engine)
        }
        Err(error) => {
            tracing::warn!(%error, "running without the compiled-plugin cache ([plugins] cache_dir); plugins are compiled on every start");
            engine()
        }
    }
}

/// Runs the live (paper) session.
///
/// # Errors
/// Bad configuration, a missing plugin, unreadable data or a failing state
/// store; the message names what and where.
#[allow(clippy::too_many_lines)] // the run loop reads best in one piece
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let mut config = config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(dir) = &args.plugins_dir {
        config.live.plugins_dir.clone_from(dir);
    }
    if let Some(path) = &args.state_path {
        config.live.state_path.clone_from(path);
    }
    if let Some(ms) = args.timer_ms {
        if ms <= 0 {
            bail!("--timer-ms must be positive, got {ms}");
        }
        config.live.timer_ms = ms;
    }
    let speed_text = args
        .speed
        .clone()
        .unwrap_or_else(|| config.live.speed.clone());
    let speed: Speed = speed_text.parse().with_context(|| "--speed / live.speed")?;
    let policy_text = args
        .on_bad_line
        .clone()
        .unwrap_or_else(|| config.live.on_bad_line.clone());
    let policy: BadLinePolicy = policy_text
        .parse()
        .with_context(|| "--on-bad-line / live.on_bad_line")?;
    let Some(data_path) = args.data.clone() else {
        bail!(
            "no market data: pass --data FILE (.csv or .jsonl) or --data - for standard input; live exchange feeds are not available yet"
        );
    };

    let strategy_config = StrategyConfig::load(&args.strategy_config)?;
    let mut strategy = strategy_config.build()?;
    let hint = strategy_config.execution_hint();

    let plugins_dir = &config.live.plugins_dir;
    if !plugins_dir.is_dir() {
        bail!(
            "plugins directory {} does not exist; build a plugin (see README) and copy its .wasm there, or pass --plugins-dir",
            plugins_dir.display()
        );
    }
    let engine = plugin_engine(&config)?;
    if let ExecutionHint::Plugin { name, .. } = &hint {
        let plugin = engine.load(name).with_context(|| {
            format!(
                "strategy config {}: [execution] plugin",
                args.strategy_config.display()
            )
        })?;
        tracing::info!(plugin = %name, path = %plugin.path().display(), from_cache = plugin.loaded_from_cache(), "execution plugin loaded");
    }

    if let Some(parent) = config
        .live
        .state_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let source_name = data_path.display().to_string();
    // The exchange keeps a connection of its own to the state file, so it
    // saves itself before the orchestrator hears of a change.
    let restored = DurablePaper::open(
        StateStore::open(&config.live.state_path)?,
        PaperExchange::new(config.paper_config()),
        &source_name,
    )?;
    let exchange = restored.exchange;
    let resume_after = match &restored.cursor {
        Some(cursor) if cursor.source == source_name => cursor.ticks,
        Some(cursor) => {
            tracing::warn!(saved = %cursor.source, now = %source_name, "state file was written for other data; replaying the new data from its start");
            0
        }
        None => 0,
    };
    let store = StateStore::open(&config.live.state_path)?;

    let mut orchestrator_config = OrchestratorConfig {
        timer_interval_ms: config.live.timer_ms,
        initial_cash: config.paper.initial_cash,
        quote_asset: config.paper.quote_asset.clone(),
        ..OrchestratorConfig::default()
    };
    config.apply_orchestrator_settings(&mut orchestrator_config);
    let mut orch = Orchestrator::open(OrchestratorParts {
        provider: Box::new(engine),
        exchange,
        store,
        risk: RiskGuard::new(config.risk_limits(), config.instruments()),
        sizer: Box::new(FixedQuantitySizer::new(config.live.default_quantity)),
        config: orchestrator_config,
    })?;
    if resume_after > 0 {
        tracing::info!(state = %config.live.state_path.display(), working = orch.working_algorithms(), skip = resume_after, "resuming: replaying past the saved position");
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }

    let reader = TradeFileReader::open_or_stdin(&data_path)?.with_policy(policy);
    let mut replay = Replay::new(reader, speed);
    // What was replayed before the restart goes by at once.
    replay.fast_forward(resume_after);
    tracing::info!(data = %replay.describe(), %speed, plugins_dir = %plugins_dir.display(), strategy = %strategy.name(), "live paper session started");

    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let mut progress = Progress::new(show_progress);
    let mut seen: u64 = 0;
    let mut replayed: u64 = 0;
    let mut failure: Option<anyhow::Error> = None;
    while !stop.load(Ordering::Relaxed) {
        let Some(item) = replay.next_tick() else {
            break;
        };
        let tick = match item {
            Ok(tick) => tick,
            Err(error) => {
                failure = Some(
                    anyhow::Error::new(error)
                        .context("market data (use --on-bad-line skip to skip malformed lines)"),
                );
                break;
            }
        };
        seen += 1;
        let positions = Positions(orch.portfolio());
        let mut ctx = StrategyContext::new(tick.timestamp_ms, &positions, hint.clone());
        strategy.on_tick(&mut ctx, &tick);
        let mut signals = ctx.take_signals();
        // Ids derived from the data position make a signal the same signal
        // when a restart reads the same print again; the orchestrator starts
        // each signal id once.
        for (i, signal) in signals.iter_mut().enumerate() {
            signal.id = SignalId::derived(&format!("{source_name}#{seen}#{i}"));
        }
        if seen < resume_after {
            // Already replayed before the restart: the strategy warms up
            // again, its signals were already executed.
            continue;
        }
        if seen > resume_after {
            orch.on_tick(&tick)?;
        }
        // The exchange saw the last print before the restart; its signals
        // may or may not have been submitted, and submitting is idempotent.
        for signal in signals {
            match orch.submit_signal(&signal) {
                Ok(Some(id)) => {
                    tracing::info!(algorithm = %id, signal = %signal.id, kind = ?signal.kind, symbol = %signal.symbol, "signal executing")
                }
                Ok(None) => {}
                Err(error @ OrchestratorError::Plugin { .. }) => {
                    tracing::error!("signal refused: {error}")
                }
                Err(error) => return Err(error.into()),
            }
        }
        orch.exchange_mut().check()?;
        replayed += 1;
        progress.update(&orch, &tick, seen);
    }
    let interrupted = stop.load(Ordering::Relaxed);
    orch.exchange_mut().flush()?;
    progress.finish();
    let skipped = replay.source().skipped_lines();
    if skipped > 0 {
        tracing::warn!(skipped, "malformed data lines skipped");
        for example in replay.source().skipped_examples() {
            tracing::warn!("skipped: {example}");
        }
    }

    let portfolio = orch.portfolio();
    let summary = RunSummary {
        trades: replayed,
        fills: orch.store().fills()?.len(),
        pnl: (portfolio.realized_pnl() + portfolio.unrealized_pnl())
            .round_dp(8)
            .normalize(),
        fees: portfolio.fees_paid().round_dp(8).normalize(),
        interrupted,
        algorithms: orch
            .algorithms()
            .iter()
            .map(SummaryRow::from_algorithm)
            .collect(),
    };
    print!("{}", summary.table());
    std::io::stdout().flush().ok();
    if let Some(path) = &args.summary_json {
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the summary to {}", path.display()))?;
    }
    if interrupted {
        tracing::info!(state = %config.live.state_path.display(), "stopped by Ctrl-C; state saved, run the same command to resume");
    }
    failure.map_or(Ok(()), Err)
}

/// The one-line progress display on a terminal.
struct Progress {
    enabled: bool,
    last: Instant,
    drawn: bool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            last: Instant::now(),
            drawn: false,
        }
    }

    fn update(&mut self, orch: &Orchestrator<DurablePaper>, tick: &tesser_core::Tick, seen: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let portfolio = orch.portfolio();
        let pnl = portfolio.realized_pnl() + portfolio.unrealized_pnl() - portfolio.fees_paid();
        let line = format!(
            "\r{seen} trades | {} {} | position {} | working {} | fills {} | PnL {}",
            tick.symbol,
            tick.price,
            portfolio.position(&tick.symbol).normalize(),
            orch.working_algorithms(),
            orch.exchange().paper().fills().len(),
            pnl.round_dp(2)
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{line:<100}");
        let _ = err.flush();
        self.drawn = true;
    }

    fn finish(&mut self) {
        if self.drawn {
            eprintln!();
        }
    }
}
