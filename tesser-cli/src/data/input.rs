//! `--format`, `--symbol` and `--columns`: how `--data` files (and `tesser
//! data inspect/convert` inputs) are read, shared by every command that
//! reads trades.

use std::path::Path;

use clap::Args;
use tesser_data::{BadLinePolicy, ColumnMap, DataError, OpenOptions, TradeFormat, TradeSource};

/// The valid `--format` values, for messages.
pub const FORMATS: &str =
    "auto, csv, jsonl, binance-trades, binance-aggtrades, bybit, tardis, parquet";

/// How to read a trade file.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Format of the trade file: auto (detect from the extension and the
    /// first line), csv, jsonl, binance-trades, binance-aggtrades, bybit,
    /// tardis or parquet. `.gz` and `.zip` are decompressed whatever the
    /// format.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_format)]
    pub format: TradeFormat,
    /// Symbol for every trade, replacing the file's; Binance files otherwise
    /// take it from their name (BTCUSDT-trades-2024-01-01.zip).
    #[arg(long, value_name = "SYMBOL")]
    pub symbol: Option<String>,
    /// Parquet column names, e.g.
    /// `timestamp=ts,price=px,size=qty,side=side,symbol=sym`.
    #[arg(long, value_name = "FIELD=COLUMN,...", value_parser = parse_columns)]
    pub columns: Option<ColumnMap>,
}

fn parse_format(text: &str) -> Result<TradeFormat, String> {
    text.parse()
        .map_err(|_| format!("unknown format {text:?}; use one of {FORMATS}"))
}

fn parse_columns(text: &str) -> Result<ColumnMap, String> {
    text.parse()
        .map_err(|e: tesser_data::ParseColumnMapError| e.to_string())
}

impl InputArgs {
    /// The library's options for these flags.
    #[must_use]
    pub fn options(&self, policy: BadLinePolicy) -> OpenOptions {
        OpenOptions {
            format: self.format,
            symbol: self.symbol.clone(),
            columns: self.columns.clone().unwrap_or_default(),
            policy,
        }
    }

    /// Opens `path` (`-` for standard input), with one-line errors that say
    /// which flag fixes them.
    ///
    /// # Errors
    /// The file cannot be opened or is not a readable trade file.
    pub fn open(&self, path: &Path, policy: BadLinePolicy) -> anyhow::Result<TradeSource> {
        if path.as_os_str() != "-" && !path.is_file() {
            anyhow::bail!(
                "data file {} not found: pass an existing trade file (`tesser data generate --out trades.csv` makes one)",
                path.display()
            );
        }
        tesser_data::open_trades(path, &self.options(policy)).map_err(|error| {
            let hint = advice(&error);
            anyhow::anyhow!("data file {error}{hint}")
        })
    }
}

/// What to do about a data error, as a `; ...` suffix.
#[must_use]
pub fn advice(error: &DataError) -> String {
    let message = error.to_string();
    if message.contains("no symbol") {
        "; pass --symbol SYMBOL".to_owned()
    } else if message.contains("header is") {
        format!("; if the format was not detected right, pass --format ({FORMATS})")
    } else if matches!(error, DataError::Parquet { .. }) && message.contains("column") {
        "; map the columns with --columns timestamp=...,price=...,size=...".to_owned()
    } else {
        String::new()
    }
}

/// A tick, or its error as a one-line message with advice.
///
/// # Errors
/// The data error, with its advice.
pub fn tick_or_advice(
    tick: Result<tesser_core::Tick, DataError>,
) -> anyhow::Result<tesser_core::Tick> {
    tick.map_err(|error| anyhow::anyhow!("data file {error}{}", advice(&error)))
}
