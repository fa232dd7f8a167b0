//! `binance-twin`: the fake Binance Spot venue as a program, for trying
//! `tesser live run --venue binance-spot --endpoint http://127.0.0.1:PORT`
//! locally.
//!
//! It lists every symbol of the trade file, prints
//! `binance-twin listening on http://127.0.0.1:PORT` on stdout, waits for the
//! first market stream connection, plays the file's prints one every
//! `--pace-ms` (stamped with the current time, matched against resting
//! orders), and then keeps serving until killed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rust_decimal::Decimal;
use tesser_core::{Side, Tick};
use tesser_venue_binance_twin::{TwinConfig, TwinSymbol, TwinVenue};

/// Quote assets recognised at the end of a symbol, longest first.
const QUOTES: [&str; 11] = [
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB", "USD",
];

/// A fake Binance Spot venue on 127.0.0.1 that plays a trade file.
#[derive(Debug, Parser)]
#[command(name = "binance-twin", version)]
struct Args {
    /// Trade file to play (CSV or JSON Lines, as `tesser` reads them).
    #[arg(long, value_name = "FILE")]
    trades: PathBuf,
    /// Milliseconds between prints.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    pace_ms: u64,
    /// API key the twin accepts (HMAC).
    #[arg(
        long,
        value_name = "K",
        default_value = "twin-key",
        conflicts_with = "no_keys"
    )]
    api_key: String,
    /// Secret of that key.
    #[arg(
        long,
        value_name = "S",
        default_value = "twin-secret",
        conflicts_with = "no_keys"
    )]
    secret: String,
    /// Accept no key at all: every signed request is refused (-2015), as
    /// for `--paper` runs that must not touch the account.
    #[arg(long)]
    no_keys: bool,
    /// Port of the combined server (REST, `/ws-api/v3`, `/stream`); 0 picks
    /// a free one.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("binance-twin: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let mut config = TwinConfig::hmac(&args.api_key, &args.secret)
        .with_trades_file(&args.trades)
        .map_err(|error| error.to_string())?;
    if args.no_keys {
        config.keys.clear();
    }
    let ticks = std::mem::take(&mut config.trades);
    if ticks.is_empty() {
        return Err(format!("{} holds no trades", args.trades.display()));
    }
    config.symbols = symbols(&ticks)?;
    let names: Vec<&str> = config.symbols.iter().map(|s| s.symbol.as_str()).collect();
    let names = names.join(",");
    let twin = TwinVenue::start_on(config, args.port)
        .map_err(|error| format!("cannot start on 127.0.0.1:{}: {error}", args.port))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "binance-twin listening on {}", twin.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|error| format!("stdout: {error}"))?;
    if args.no_keys {
        eprintln!("binance-twin: no keys accepted: signed requests are refused (-2015)");
    } else {
        eprintln!(
            "binance-twin: accepting HMAC key {}: export TESSER_BINANCE_API_KEY and TESSER_BINANCE_API_SECRET to match",
            args.api_key
        );
    }
    eprintln!(
        "binance-twin: {} prints of {names}, one every {} ms, once a market stream connects",
        ticks.len(),
        args.pace_ms
    );
    while twin.market_connections() == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pace = Duration::from_millis(args.pace_ms);
    for tick in &ticks {
        // A sell aggressor means the buyer was the maker.
        let buyer_is_maker = tick.aggressor == Some(Side::Sell);
        twin.print(tick.symbol.as_str(), tick.price, tick.size, buyer_is_maker);
        std::thread::sleep(pace);
    }
    eprintln!(
        "binance-twin: all {} prints played; serving until killed",
        ticks.len()
    );
    loop {
        std::thread::park();
    }
}

/// The symbols of `ticks`, with BTCUSDT's rules (tick 0.01 or finer when
/// the file's prices need it, step and minimum quantity 0.001, minimum
/// notional 1).
fn symbols(ticks: &[Tick]) -> Result<Vec<TwinSymbol>, String> {
    let mut scales: BTreeMap<String, u32> = BTreeMap::new();
    for tick in ticks {
        let scale = scales.entry(tick.symbol.as_str().to_owned()).or_insert(0);
        *scale = (*scale).max(tick.price.normalize().scale());
    }
    scales
        .into_iter()
        .map(|(symbol, scale)| {
            let quote = QUOTES
                .iter()
                .find(|quote| symbol.len() > quote.len() && symbol.ends_with(*quote))
                .ok_or_else(|| {
                    format!(
                        "cannot tell the base and quote assets of {symbol}: it ends in none of {}",
                        QUOTES.join(", ")
                    )
                })?;
            let mut rules = TwinSymbol::btcusdt();
            rules.base_asset = symbol[..symbol.len() - quote.len()].to_owned();
            rules.quote_asset = (*quote).to_owned();
            rules.tick_size = rules.tick_size.min(Decimal::new(1, scale.min(8)));
            rules.symbol = symbol;
            Ok(rules)
        })
        .collect()
}
