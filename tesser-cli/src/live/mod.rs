//! `tesser live run`: market data (a trade file, or a venue's live trades)
//! → strategy → orchestrator (plugins, risk guard) → the paper exchange or a
//! live venue, with progress, a clean Ctrl-C and resume.

mod progress;
mod session;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use tesser_core::{ExchangeClient, ExecutionHint, Instrument};
use tesser_data::{BadLinePolicy, MarketDataSource as _, Replay, Speed};
use tesser_execution::wasm::WasmPluginEngine;
use tesser_execution::{
    FixedQuantitySizer, Orchestrator, OrchestratorParts, RiskGuard, StateStore,
};
use tesser_paper::PaperExchange;
use tesser_strategy::StrategyConfig;

use self::progress::{Enabled, Progress};
use self::session::{ExitWhen, Market, Session, SessionExchange};
use crate::config;
use crate::durable::DurablePaper;
use crate::summary::{RunSummary, SummaryRow};
use crate::venue::{self, Network, Venue, VenueTarget};

/// Where child orders go when no `--venue` is given.
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
    /// Trade prints to replay: a .csv or .jsonl file, an exchange or vendor
    /// file (see --format; .gz and .zip are read as they are), or `-` for
    /// standard input. Without it, --venue gives live data.
    #[arg(long, value_name = "FILE|-")]
    pub data: Option<PathBuf>,
    /// How to read --data.
    #[command(flatten)]
    pub input: crate::data::input::InputArgs,
    /// Replay speed: a multiple of real time (1, 10, 0.5) or `max` [config: live.speed].
    #[arg(long, value_name = "N|max")]
    pub speed: Option<String>,
    /// Where child orders go without --venue: the paper exchange.
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
    /// Trade on a live venue, with its live trades as market data, instead
    /// of replaying --data. Keys come from the environment (see `tesser
    /// venue check --help` and docs/venues.md), never from config.
    #[arg(long, value_name = "VENUE", value_parser = venue::parser(), conflicts_with = "data")]
    pub venue: Option<Venue>,
    /// Use the venue's test network (Binance: the spot testnet). Start here.
    #[arg(long, requires = "venue")]
    pub testnet: bool,
    /// Paper-on-live: the venue's live trades as market data, fills simulated
    /// by the paper exchange. Needs no keys and never calls an order endpoint.
    #[arg(long, requires = "venue")]
    pub paper: bool,
    /// One base URL serving the venue's REST API, WebSocket API and market
    /// streams (e.g. a local venue); overrides [venues.NAME] URLs.
    #[arg(long, value_name = "URL", requires = "venue")]
    pub endpoint: Option<String>,
    /// Exit once some algorithm has run and every algorithm has ended,
    /// instead of waiting for more data or Ctrl-C.
    #[arg(long)]
    pub exit_when_done: bool,
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

/// The layered configuration with this run's flags applied.
fn settings(args: &RunArgs) -> anyhow::Result<config::Config> {
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
    Ok(config)
}

/// Runs the live session: a file replay or a venue's live trades, on the
/// paper exchange or the venue.
///
/// # Errors
/// Bad configuration, a missing plugin, unreadable data, a venue that cannot
/// be reached or refuses the keys, or a failing state store; the message
/// names what and where.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let config = settings(args)?;
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
    let engine = crate::plugin::engine(&config, &config.live.plugins_dir)?;
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

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let mut session = Session {
        strategy: strategy.as_mut(),
        hint,
        source_name: String::new(),
        stop: &stop,
        exit: if args.exit_when_done {
            ExitWhen::AlgorithmsEnded
        } else {
            ExitWhen::DataEnds
        },
        progress: Progress::new(if show_progress {
            Enabled::Yes
        } else {
            Enabled::No
        }),
    };
    let symbols = vec![strategy_config.symbol().to_string()];
    let Some(name) = args.venue else {
        return run_file(args, &config, engine, &mut session);
    };
    let target = VenueTarget {
        network: if args.testnet {
            Network::Testnet
        } else {
            Network::Production
        },
        endpoint: args.endpoint.clone(),
    };
    // A live feed has no position to resume from: prints are never replayed.
    session.source_name = format!("{name}:{}", symbols.join(","));
    let where_ = target.describe();
    if args.paper {
        let venue = name.connect_market(&target, &config, &symbols)?;
        let restored = DurablePaper::open(
            StateStore::open(&config.live.state_path)?,
            PaperExchange::new(config.paper_config()),
            &session.source_name,
        )?;
        let mut orch = open_orchestrator(restored.exchange, &config, engine, &venue.instruments)?;
        tracing::info!(venue = %name, endpoint = %where_, feed = %venue.feed.name(), strategy = %session.strategy.name(), "paper session on live market data started; no order goes to the venue");
        let mut market = Market::Feed {
            feed: venue.feed,
            clock_offset_ms: venue.clock_offset_ms,
        };
        finish(args, &config, &mut orch, &mut session, &mut market)
    } else {
        let venue = name.connect_trading(&target, &config, &symbols)?;
        let mut orch = open_orchestrator(venue.exchange, &config, engine, &venue.instruments)?;
        tracing::info!(venue = %name, endpoint = %where_, feed = %venue.feed.name(), working = orch.working_algorithms(), strategy = %session.strategy.name(), "live session started: child orders go to the venue");
        let mut market = Market::Feed {
            feed: venue.feed,
            clock_offset_ms: venue.clock_offset_ms,
        };
        finish(args, &config, &mut orch, &mut session, &mut market)
    }
}

/// A replay of `--data` on the paper exchange, resumed from the state file.
fn run_file(
    args: &RunArgs,
    config: &config::Config,
    engine: WasmPluginEngine,
    session: &mut Session<'_>,
) -> anyhow::Result<()> {
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
            "no market data: pass --data FILE (.csv, .jsonl, or an exchange file such as BTCUSDT-trades-2024-01-01.zip), --data - for standard input, or --venue {} for a venue's live trades",
            venue::names()
        );
    };
    session.source_name = data_path.display().to_string();
    // The exchange keeps a connection of its own to the state file, so it
    // saves itself before the orchestrator hears of a change.
    let restored = DurablePaper::open(
        StateStore::open(&config.live.state_path)?,
        PaperExchange::new(config.paper_config()),
        &session.source_name,
    )?;
    let resume_after = match &restored.cursor {
        Some(cursor) if cursor.source == session.source_name => cursor.ticks,
        Some(cursor) => {
            tracing::warn!(saved = %cursor.source, now = %session.source_name, "state file was written for other data; replaying the new data from its start");
            0
        }
        None => 0,
    };
    let mut orch = open_orchestrator(restored.exchange, config, engine, &[])?;
    if resume_after > 0 {
        tracing::info!(state = %config.live.state_path.display(), working = orch.working_algorithms(), skip = resume_after, "resuming: replaying past the saved position");
    }
    let reader = args.input.open(&data_path, policy)?;
    let mut replay = Replay::new(reader, speed);
    // What was replayed before the restart goes by at once.
    replay.fast_forward(resume_after);
    tracing::info!(data = %replay.describe(), %speed, plugins_dir = %config.live.plugins_dir.display(), strategy = %session.strategy.name(), "live paper session started");
    let mut market = Market::File {
        replay: Box::new(replay),
        resume_after,
    };
    finish(args, config, &mut orch, session, &mut market)
}

/// The orchestrator over `exchange`, with the configured instruments and
/// `venue_rules` over them (a venue's own rules win).
fn open_orchestrator<E: ExchangeClient>(
    exchange: E,
    config: &config::Config,
    engine: WasmPluginEngine,
    venue_rules: &[Instrument],
) -> anyhow::Result<Orchestrator<E>> {
    let mut instruments = config.instruments();
    instruments.retain(|i| !venue_rules.iter().any(|v| v.symbol == i.symbol));
    instruments.extend(venue_rules.iter().cloned());
    for rules in venue_rules {
        tracing::info!(symbol = %rules.symbol, tick_size = %rules.tick_size, lot_size = %rules.lot_size, min_quantity = %rules.min_quantity, min_notional = %rules.min_notional, "instrument rules from the venue");
    }
    Ok(Orchestrator::open(OrchestratorParts {
        provider: Box::new(engine),
        exchange,
        store: StateStore::open(&config.live.state_path)?,
        risk: RiskGuard::new(config.risk_limits(), instruments),
        sizer: Box::new(FixedQuantitySizer::new(config.live.default_quantity)),
        config: config.orchestrator_config(),
    })?)
}

/// Runs the session, then prints the summary (and writes
/// `--summary-json`).
fn finish<E: SessionExchange>(
    args: &RunArgs,
    config: &config::Config,
    orch: &mut Orchestrator<E>,
    session: &mut Session<'_>,
    market: &mut Market,
) -> anyhow::Result<()> {
    let outcome = session.run(orch, market)?;
    // The venue's last balance report may still be on its way.
    if let Err(error) = orch.refresh_account() {
        tracing::warn!(%error, "the summary's account is the last one the venue reported");
    }
    let portfolio = orch.portfolio();
    let summary = RunSummary {
        trades: outcome.processed,
        fills: orch.store().fills()?.len(),
        pnl: (portfolio.realized_pnl() + portfolio.unrealized_pnl())
            .round_dp(8)
            .normalize(),
        fees: RunSummary::fees_of(portfolio),
        account: RunSummary::account_of(portfolio),
        interrupted: outcome.interrupted,
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
    if outcome.interrupted {
        tracing::info!(state = %config.live.state_path.display(), "stopped by Ctrl-C; state saved, run the same command to resume");
    }
    outcome.failure.map_or(Ok(()), Err)
}
