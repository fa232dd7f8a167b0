//! Market data for Tesser.
//!
//! - [`MarketDataSource`]: the seam between data and everything that consumes
//!   it — files today, live feeds later.
//! - [`TradeFileReader`]: trade prints from CSV (header [`CSV_HEADER`]) or
//!   JSON Lines files, or standard input with the format detected; bad lines
//!   stop reading or are skipped and counted ([`BadLinePolicy`]).
//! - [`open_trades`]: any supported file — tesser CSV and JSON Lines,
//!   Binance public data, Bybit dumps, Tardis `trades` CSV, Parquet — with
//!   `.gz`/`.zip` decompressed and the format detected ([`TradeFormat`]).
//! - [`Replay`]: paces any source like the recording, at a [`Speed`].
//! - [`generate`] / [`write_csv`]: deterministic, realistic sample trades
//!   ([`GeneratorConfig`]), written with [`TradeCsvWriter`].
//!
//! Prices and sizes are always [`rust_decimal::Decimal`]; nothing goes
//! through `f64` on the way in or out.
//!
//! ```
//! use tesser_data::{GeneratorConfig, TradeFileReader, TradeFormat, write_csv};
//!
//! let config = GeneratorConfig { trades: 1_000, ..GeneratorConfig::default() };
//! let mut file = Vec::new();
//! write_csv(&config, &mut file).unwrap();
//! let reader = TradeFileReader::from_reader(file.as_slice(), TradeFormat::Csv, "sample".into());
//! let ticks: Result<Vec<_>, _> = reader.collect();
//! assert_eq!(ticks.unwrap().len(), 1_000);
//! ```
#![deny(missing_docs)]

mod decompress;
mod error;
mod formats;
mod generator;
mod open;
mod read_ahead;
mod reader;
mod replay;
mod rng;
mod source;
mod writer;

pub use error::DataError;
pub use formats::{ParseTimeUnitError, TimeUnit};
pub use generator::{Generator, GeneratorConfig, InvalidConfig, generate, write_csv};
pub use open::{ColumnMap, OpenOptions, ParseColumnMapError, TradeSource, open_trades};
pub use reader::{
    BadLinePolicy, CSV_HEADER, ParseFormatError, ParsePolicyError, SKIPPED_EXAMPLES,
    TradeFileReader, TradeFormat,
};
pub use replay::{Clock, ManualClock, ParseSpeedError, Replay, Speed, SystemClock};
pub use source::{IterSource, MarketDataSource};
pub use writer::TradeCsvWriter;
