//! `tesser`: run execution plugins against market data, on a paper exchange
//! or a live venue.

mod config;
mod data;
mod durable;
mod live;
mod plugin;
mod summary;
mod venue;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Tesser: execution algorithms as sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "tesser", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run strategies and their execution plugins.
    Live {
        #[command(subcommand)]
        command: LiveCommand,
    },
    /// Live venues: `tesser venue check --venue binance-spot --symbol BTCUSDT`
    /// checks the keys, the clock and the symbol's rules, read-only.
    Venue {
        #[command(subcommand)]
        command: VenueCommand,
    },
    /// Market data tools.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// The plugin lab: scaffold, build, inspect, list and replay execution
    /// plugins (`tesser plugin new my-algo`, `tesser plugin build my-algo`,
    /// `tesser plugin replay my_algo --data trades.csv --side buy --qty 2`).
    Plugin {
        #[command(subcommand)]
        command: plugin::PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
enum LiveCommand {
    /// Replay market data through a strategy, its execution plugins, the
    /// risk guard and the paper exchange. Ctrl-C stops cleanly; running the
    /// same command again resumes from the state file.
    Run(live::RunArgs),
}

#[derive(Debug, Subcommand)]
enum VenueCommand {
    /// Read-only checks before trading: whether the API key works and what
    /// it may do, the clock offset to the venue, the account's balances, and
    /// the symbol's trading rules. Keys come from the environment
    /// (TESSER_BINANCE_API_KEY with TESSER_BINANCE_API_SECRET or
    /// TESSER_BINANCE_PRIVATE_KEY_FILE); without them only the public checks
    /// run.
    Check(venue::command::CheckArgs),
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Write realistic sample trade prints (random walk with bursts,
    /// heavy-tailed sizes), deterministic by seed, as CSV.
    Generate(GenerateArgs),
    /// What a trade file holds: rows, symbols, time span, largest gap,
    /// price range and the detected format.
    Inspect(data::inspect::InspectArgs),
    /// Convert a trade file of any supported format into tesser's CSV.
    Convert(data::convert::ConvertArgs),
    /// Download public trade files from a venue, checksum-verified and
    /// resumable.
    Download(data::download::DownloadArgs),
}

/// `tesser data generate`.
#[derive(Debug, Args)]
struct GenerateArgs {
    /// Output file (`.csv`); `-` writes to standard output.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Number of trades.
    #[arg(long, default_value_t = 20_000)]
    trades: u64,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Symbol of the trades.
    #[arg(long, default_value = "BTCUSD")]
    symbol: String,
    /// First trade's price.
    #[arg(long, default_value = "30000")]
    start_price: rust_decimal::Decimal,
    /// First trade's time, milliseconds since the Unix epoch.
    #[arg(long)]
    start_ms: Option<i64>,
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let config = tesser_data::GeneratorConfig {
        symbol: tesser_core::Symbol::new(&args.symbol),
        start_price: args.start_price,
        trades: args.trades,
        seed: args.seed,
        start_ms: args
            .start_ms
            .unwrap_or(tesser_data::GeneratorConfig::default().start_ms),
        ..tesser_data::GeneratorConfig::default()
    };
    config.validate()?;
    let written = if args.out.as_os_str() == "-" {
        let stdout = std::io::stdout().lock();
        tesser_data::write_csv(&config, std::io::BufWriter::new(stdout))?
    } else {
        if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!("cannot create directory {}: {e}", parent.display())
            })?;
        }
        let file = std::fs::File::create(&args.out)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        let n = tesser_data::write_csv(&config, &mut writer)?;
        writer.flush()?;
        n
    };
    eprintln!(
        "wrote {written} trades of {} (seed {}) to {}",
        args.symbol,
        args.seed,
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Live {
            command: LiveCommand::Run(args),
        } => live::run(args),
        Command::Data {
            command: DataCommand::Generate(args),
        } => generate(args),
        Command::Data {
            command: DataCommand::Inspect(args),
        } => data::inspect::run(args),
        Command::Data {
            command: DataCommand::Convert(args),
        } => data::convert::run(args),
        Command::Data {
            command: DataCommand::Download(args),
        } => data::download::run(args),
        Command::Plugin { command } => plugin::run(command),
        Command::Venue {
            command: VenueCommand::Check(args),
        } => venue::command::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: what went wrong, with its causes.
            let mut message = error.to_string();
            for cause in error.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message.push_str(": ");
                    message.push_str(&cause);
                }
            }
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
