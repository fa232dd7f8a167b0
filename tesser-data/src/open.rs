//! Opening any supported trade file: decompression, format detection and
//! the [`TradeSource`] that reads it.

use std::io::{self, BufRead};
use std::path::Path;
use std::str::FromStr;

use tesser_core::{Symbol, Tick};

use crate::decompress;
use crate::formats::parquet::ParquetTrades;
use crate::formats::symbol_from_file_name;
use crate::reader::ParseState;
use crate::{
    BadLinePolicy, DataError, MarketDataSource, SKIPPED_EXAMPLES, TradeFileReader, TradeFormat,
};

/// How [`open_trades`] reads a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The format; [`TradeFormat::Auto`] (the default) detects it.
    pub format: TradeFormat,
    /// A symbol for every trade, replacing the file's (and needed for
    /// Binance files whose name does not start with the symbol).
    pub symbol: Option<String>,
    /// Which Parquet columns hold what.
    pub columns: ColumnMap,
    /// What to do with malformed lines or rows.
    pub policy: BadLinePolicy,
}

/// The Parquet column names for each trade field (`--columns
/// timestamp=ts,price=px,size=qty,side=side,symbol=sym`).
///
/// Unnamed fields take the first column found among: `timestamp_ms`,
/// `timestamp`, `ts`, `time` (timestamp); `price`; `size`, `amount`, `qty`,
/// `quantity` (size); `side`; `symbol`. Side and symbol are optional.
///
/// ```
/// use tesser_data::ColumnMap;
///
/// let map: ColumnMap = "timestamp=ts,price=px".parse().unwrap();
/// assert_eq!(map.timestamp.as_deref(), Some("ts"));
/// assert_eq!(map.size, None);
/// assert!("colour=red".parse::<ColumnMap>().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// The timestamp column.
    pub timestamp: Option<String>,
    /// The price column.
    pub price: Option<String>,
    /// The size (quantity) column.
    pub size: Option<String>,
    /// The aggressor side column.
    pub side: Option<String>,
    /// The symbol column.
    pub symbol: Option<String>,
}

/// Why a [`ColumnMap`] could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "column mapping {text:?} is not valid: {reason}; expected FIELD=COLUMN pairs separated by commas, FIELD one of timestamp, price, size, side, symbol"
)]
pub struct ParseColumnMapError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for ColumnMap {
    type Err = ParseColumnMapError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| ParseColumnMapError {
            text: text.to_owned(),
            reason,
        };
        let mut map = Self::default();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((field, column)) = pair.split_once('=') else {
                return Err(error(format!("{pair:?} has no '='")));
            };
            let column = column.trim();
            if column.is_empty() {
                return Err(error(format!("{pair:?} names no column")));
            }
            let slot = match field.trim() {
                "timestamp" => &mut map.timestamp,
                "price" => &mut map.price,
                "size" => &mut map.size,
                "side" => &mut map.side,
                "symbol" => &mut map.symbol,
                other => return Err(error(format!("unknown field {other:?}"))),
            };
            *slot = Some(column.to_owned());
        }
        Ok(map)
    }
}

/// Opens a trade file of any supported format, or standard input for `-`.
///
/// `.gz` files and the one file inside a `.zip` are decompressed as they
/// are read. The format is `options.format`, or with [`TradeFormat::Auto`]:
/// Parquet for `.parquet`, JSON Lines for `.jsonl`/`.ndjson`, otherwise what
/// the first line shows ([`TradeFormat::detect`]; tesser CSV when nothing
/// matches, which then reports the wrong header). Binance files take their
/// symbol from the file name (`BTCUSDT-trades-2024-01-01.zip`) unless
/// `options.symbol` gives one.
///
/// ```
/// use tesser_data::{OpenOptions, open_trades};
///
/// let dir = std::env::temp_dir().join(format!("tesser-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("BTCUSDT-trades-2024-01-01.csv");
/// std::fs::write(&path, "1,42000.5,0.01,420.005,1704067200000,true,true\n").unwrap();
/// let mut source = open_trades(&path, &OpenOptions::default()).unwrap();
/// let tick = source.next().unwrap().unwrap();
/// assert_eq!((tick.symbol.as_str(), tick.timestamp_ms), ("BTCUSDT", 1_704_067_200_000));
/// assert_eq!(source.format().as_str(), "binance-trades");
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened, [`DataError::Archive`]
/// for a zip that is unreadable or holds other than one file,
/// [`DataError::Parquet`] for an unreadable Parquet file or missing column,
/// [`DataError::UnsupportedFormat`] for Parquet from standard input.
pub fn open_trades(path: &Path, options: &OpenOptions) -> Result<TradeSource, DataError> {
    let symbol = options.symbol.as_deref().map(Symbol::new);
    let is_parquet = |name: &str| {
        Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    };
    if path.as_os_str() == "-" {
        if options.format == TradeFormat::Parquet {
            return Err(DataError::UnsupportedFormat {
                path: path.to_path_buf(),
            });
        }
        let stdin: Box<dyn BufRead> = Box::new(io::stdin().lock());
        return Ok(text_source(stdin, "stdin".into(), options, symbol, None));
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if options.format == TradeFormat::Parquet
        || (options.format == TradeFormat::Auto && is_parquet(&file_name))
    {
        let mut state = ParseState::default();
        let parquet = ParquetTrades::open(path, &options.columns, symbol.is_some())?;
        state.symbol_override = symbol;
        return Ok(TradeSource {
            inner: Inner::Parquet(Box::new(ParquetSource {
                parquet,
                state,
                finished: false,
                ticks: 0,
            })),
            format: TradeFormat::Parquet,
            policy: options.policy,
            skipped: 0,
            skipped_examples: Vec::new(),
        });
    }
    let opened = decompress::open(path)?;
    if options.format == TradeFormat::Auto && is_parquet(&opened.inner_name) {
        return Err(DataError::UnsupportedFormat {
            path: path.to_path_buf(),
        });
    }
    let file_symbol =
        symbol_from_file_name(&opened.inner_name).or_else(|| symbol_from_file_name(&file_name));
    let mut options = options.clone();
    if options.format == TradeFormat::Auto {
        let by_extension = TradeFormat::from_path(Path::new(&opened.inner_name));
        if by_extension == Some(TradeFormat::JsonLines) {
            options.format = TradeFormat::JsonLines;
        }
    }
    Ok(text_source(
        opened.reader,
        opened.source_name,
        &options,
        symbol,
        file_symbol,
    ))
}

/// A text-format source, detecting the format from the first line when
/// asked to.
fn text_source(
    mut reader: Box<dyn BufRead>,
    source_name: String,
    options: &OpenOptions,
    symbol: Option<Symbol>,
    file_symbol: Option<Symbol>,
) -> TradeSource {
    let format = match options.format {
        TradeFormat::Auto => detect(&mut reader).unwrap_or(TradeFormat::Auto),
        given => given,
    };
    let mut text = TradeFileReader::from_reader(reader, format, source_name)
        .with_policy(options.policy)
        .with_file_symbol(file_symbol);
    if let Some(symbol) = symbol {
        text = text.with_symbol(symbol);
    }
    TradeSource {
        inner: Inner::Text(Box::new(text)),
        format,
        policy: options.policy,
        skipped: 0,
        skipped_examples: Vec::new(),
    }
}

/// The format the first non-blank line in `reader`'s buffer shows, without
/// consuming anything. `None` when the buffer holds no whole line or
/// nothing matches.
fn detect(reader: &mut Box<dyn BufRead>) -> Option<TradeFormat> {
    let buffer = reader.fill_buf().ok()?;
    let text = String::from_utf8_lossy(buffer);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    TradeFormat::detect(line)
}

/// Trades from any supported file: what [`open_trades`] returns.
///
/// Iterate it, or pull it as a [`MarketDataSource`]. Malformed lines (rows,
/// in Parquet) follow the [`BadLinePolicy`]; a source ends after the first
/// error it cannot continue from.
pub struct TradeSource {
    inner: Inner,
    format: TradeFormat,
    policy: BadLinePolicy,
    skipped: u64,
    skipped_examples: Vec<DataError>,
}

enum Inner {
    Text(Box<TradeFileReader<Box<dyn BufRead>>>),
    Parquet(Box<ParquetSource>),
}

/// A Parquet file being read, with its parsing state.
struct ParquetSource {
    parquet: ParquetTrades,
    state: ParseState,
    finished: bool,
    ticks: u64,
}

impl std::fmt::Debug for TradeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradeSource")
            .field("source", &self.source_name())
            .field("format", &self.format())
            .finish_non_exhaustive()
    }
}

impl TradeSource {
    /// The format being read: the one detected, or the one given. For a
    /// text file detected as tesser CSV or JSON Lines only once read,
    /// [`TradeFormat::Auto`] until the first line is read.
    #[must_use]
    pub fn format(&self) -> TradeFormat {
        match &self.inner {
            Inner::Text(reader) if self.format == TradeFormat::Auto => reader.format(),
            _ => self.format,
        }
    }

    /// The name used in errors: the path, `stdin`, or `archive.zip!inner.csv`.
    #[must_use]
    pub fn source_name(&self) -> &str {
        match &self.inner {
            Inner::Text(reader) => reader.source_name(),
            Inner::Parquet(p) => p.parquet.source_name(),
        }
    }

    /// Ticks returned so far.
    #[must_use]
    pub fn ticks_read(&self) -> u64 {
        match &self.inner {
            Inner::Text(reader) => reader.ticks_read(),
            Inner::Parquet(p) => p.ticks,
        }
    }

    /// Malformed lines (or rows) skipped under [`BadLinePolicy::Skip`].
    #[must_use]
    pub fn skipped_lines(&self) -> u64 {
        match &self.inner {
            Inner::Text(reader) => reader.skipped_lines(),
            Inner::Parquet(_) => self.skipped,
        }
    }

    /// The errors of the first [`SKIPPED_EXAMPLES`] skipped lines or rows.
    #[must_use]
    pub fn skipped_examples(&self) -> &[DataError] {
        match &self.inner {
            Inner::Text(reader) => reader.skipped_examples(),
            Inner::Parquet(_) => &self.skipped_examples,
        }
    }

    /// The next tick, an error, or `None` at the end.
    pub fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        let ParquetSource {
            parquet,
            state,
            finished,
            ticks,
        } = match &mut self.inner {
            Inner::Text(reader) => return reader.next_tick(),
            Inner::Parquet(p) => &mut **p,
        };
        while !*finished {
            match parquet.advance() {
                Ok(true) => {}
                Ok(false) => *finished = true,
                Err(error) => {
                    *finished = true;
                    return Some(Err(error));
                }
            }
            if *finished {
                break;
            }
            match parquet.parse(state) {
                Ok(tick) => {
                    *ticks += 1;
                    return Some(Ok(tick));
                }
                Err(reason) => {
                    let error = DataError::Malformed {
                        source_name: parquet.source_name().to_owned(),
                        line: parquet.row(),
                        reason,
                    };
                    match self.policy {
                        BadLinePolicy::Stop => {
                            *finished = true;
                            return Some(Err(error));
                        }
                        BadLinePolicy::Skip => {
                            self.skipped += 1;
                            if self.skipped_examples.len() < SKIPPED_EXAMPLES {
                                self.skipped_examples.push(error);
                            }
                        }
                    }
                }
            }
        }
        None
    }
}

impl Iterator for TradeSource {
    type Item = Result<Tick, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_tick()
    }
}

impl MarketDataSource for TradeSource {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        TradeSource::next_tick(self)
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.source_name(), self.format())
    }
}
