//! Reading trade files: CSV and JSON Lines, and the line-based exchange and
//! vendor formats of [`crate::formats`].

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use tesser_core::{Side, Symbol, Tick};

use crate::formats::{self, HeaderRule};
use crate::{DataError, MarketDataSource};

/// The CSV header every trade file starts with.
pub const CSV_HEADER: &str = "timestamp_ms,symbol,price,size,side";

pub(crate) const CSV_COLUMNS: [&str; 5] = ["timestamp_ms", "symbol", "price", "size", "side"];

/// How many skipped lines' errors a reader remembers.
pub const SKIPPED_EXAMPLES: usize = 5;

/// At most this many distinct symbols are interned; more are allocated per line.
const MAX_INTERNED_SYMBOLS: usize = 64;

/// Longest field text quoted in an error message before it is cut short.
const MAX_QUOTED_CHARS: usize = 40;

/// Size of the read buffer [`TradeFileReader::open`] uses.
const FILE_BUFFER_BYTES: usize = 256 * 1024;

/// The format of a trade file.
///
/// [`TradeFileReader`] reads every format but [`TradeFormat::Parquet`];
/// [`crate::open_trades`] reads them all, detecting the format when asked
/// for [`TradeFormat::Auto`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TradeFormat {
    /// CSV with the header [`CSV_HEADER`].
    Csv,
    /// JSON Lines: one trade object per line.
    JsonLines,
    /// Decide from the first non-blank line. [`TradeFileReader`] only tells
    /// JSON Lines (a line starting with `{`) from CSV (anything else, which
    /// must then be the header); [`crate::open_trades`] also recognises the
    /// formats below ([`TradeFormat::detect`]).
    #[default]
    Auto,
    /// Binance public data `trades` (spot: no header, 7 columns; USD-M
    /// futures: 6 columns, with or without a header row). Timestamps in
    /// milliseconds, or microseconds (spot from 2025), told apart per file.
    BinanceTrades,
    /// Binance public data `aggTrades` (spot: no header, 8 columns; USD-M
    /// futures: 7 columns, with or without a header row).
    BinanceAggTrades,
    /// Bybit public trading dumps: header
    /// `timestamp,symbol,side,size,price,...`, timestamps in seconds with a
    /// fraction.
    Bybit,
    /// Tardis-style `trades` CSV: header
    /// `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`,
    /// timestamps in microseconds.
    Tardis,
    /// Apache Parquet, with a [`crate::ColumnMap`] naming the columns.
    Parquet,
}

impl TradeFormat {
    /// The format a path's extension names: `.csv`, or `.jsonl` / `.ndjson`
    /// (case-insensitive). `None` for anything else.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("csv") {
            Some(Self::Csv)
        } else if extension.eq_ignore_ascii_case("jsonl")
            || extension.eq_ignore_ascii_case("ndjson")
        {
            Some(Self::JsonLines)
        } else {
            None
        }
    }

    /// Lower-case name, as `--format` takes it: `csv`, `jsonl`, `auto`,
    /// `binance-trades`, `binance-aggtrades`, `bybit`, `tardis` or
    /// `parquet`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
            Self::Auto => "auto",
            Self::BinanceTrades => "binance-trades",
            Self::BinanceAggTrades => "binance-aggtrades",
            Self::Bybit => "bybit",
            Self::Tardis => "tardis",
            Self::Parquet => "parquet",
        }
    }

    /// Every format, in the order [`TradeFormat::as_str`] lists them.
    pub const ALL: [Self; 8] = [
        Self::Auto,
        Self::Csv,
        Self::JsonLines,
        Self::BinanceTrades,
        Self::BinanceAggTrades,
        Self::Bybit,
        Self::Tardis,
        Self::Parquet,
    ];
}

/// Why a [`TradeFormat`] could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "format {text:?} is not valid; expected one of auto, csv, jsonl, binance-trades, binance-aggtrades, bybit, tardis, parquet"
)]
pub struct ParseFormatError {
    /// The text that was given.
    pub text: String,
}

impl FromStr for TradeFormat {
    type Err = ParseFormatError;

    /// A name from [`TradeFormat::as_str`] (case-insensitive; `ndjson` and
    /// `binance-agg-trades` are accepted too).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "ndjson" => Some(Self::JsonLines),
            "binance-agg-trades" => Some(Self::BinanceAggTrades),
            _ => None,
        };
        alias
            .or_else(|| Self::ALL.into_iter().find(|f| f.as_str() == wanted))
            .ok_or_else(|| ParseFormatError {
                text: text.to_owned(),
            })
    }
}

impl fmt::Display for TradeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reader does with a line that is not a valid trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BadLinePolicy {
    /// Return the error; the reader then ends.
    #[default]
    Stop,
    /// Count the line, remember the first few errors, and keep reading.
    ///
    /// A wrong CSV header and read errors still end the reader.
    Skip,
}

/// Reads trade prints from a CSV or JSON Lines file, or any [`BufRead`].
///
/// One line buffer is reused, fields are split in place and consecutive
/// lines with the same symbol share one [`Symbol`], so reading allocates
/// nothing per line in the common case. Timestamps must not decrease.
///
/// ```
/// use tesser_data::{MarketDataSource, TradeFileReader, TradeFormat};
///
/// let data = "timestamp_ms,symbol,price,size,side\n\
///             1561939203172,BTCUSD,10749.4,0.004,sell\n";
/// let mut reader =
///     TradeFileReader::from_reader(data.as_bytes(), TradeFormat::Auto, "example".into());
/// let tick = reader.next_tick().unwrap().unwrap();
/// assert_eq!(tick.price.to_string(), "10749.4");
/// assert!(reader.next_tick().is_none());
/// ```
#[derive(Debug)]
pub struct TradeFileReader<R> {
    reader: R,
    source_name: String,
    format: TradeFormat,
    policy: BadLinePolicy,
    buf: Vec<u8>,
    line: u64,
    header_checked: bool,
    finished: bool,
    state: ParseState,
    ticks: u64,
    skipped: u64,
    skipped_examples: Vec<DataError>,
}

impl TradeFileReader<BufReader<File>> {
    /// Opens a `.csv`, `.jsonl` or `.ndjson` file.
    ///
    /// # Errors
    /// [`DataError::UnsupportedFormat`] for another extension,
    /// [`DataError::Io`] when the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let format = TradeFormat::from_path(path).ok_or_else(|| DataError::UnsupportedFormat {
            path: path.to_path_buf(),
        })?;
        let source_name = path.display().to_string();
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: source_name.clone(),
            error,
        })?;
        Ok(Self::from_reader(
            BufReader::with_capacity(FILE_BUFFER_BYTES, file),
            format,
            source_name,
        ))
    }
}

impl TradeFileReader<Box<dyn BufRead>> {
    /// Opens a file like [`TradeFileReader::open`], or reads standard input,
    /// detecting the format, when `path` is `-`.
    ///
    /// # Errors
    /// As [`TradeFileReader::open`].
    pub fn open_or_stdin(path: &Path) -> Result<Self, DataError> {
        if path.as_os_str() == "-" {
            let stdin: Box<dyn BufRead> = Box::new(io::stdin().lock());
            return Ok(Self::from_reader(stdin, TradeFormat::Auto, "stdin".into()));
        }
        let reader = TradeFileReader::open(path)?;
        let format = reader.format;
        let source_name = reader.source_name;
        let inner: Box<dyn BufRead> = Box::new(reader.reader);
        Ok(Self::from_reader(inner, format, source_name))
    }
}

impl<R: BufRead> TradeFileReader<R> {
    /// Reads trades in `format` from `reader`; `source_name` (a path, or
    /// `stdin`) names the source in errors.
    pub fn from_reader(reader: R, format: TradeFormat, source_name: String) -> Self {
        Self {
            reader,
            source_name,
            format,
            policy: BadLinePolicy::Stop,
            buf: Vec::with_capacity(256),
            line: 0,
            header_checked: false,
            finished: false,
            state: ParseState::default(),
            ticks: 0,
            skipped: 0,
            skipped_examples: Vec::new(),
        }
    }

    /// Sets what happens to malformed lines (default [`BadLinePolicy::Stop`]).
    #[must_use]
    pub fn with_policy(mut self, policy: BadLinePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Gives every trade `symbol`, whatever the file says (Binance files
    /// have no symbol column: without this their trades take
    /// the symbol [`crate::open_trades`] finds in the file name).
    #[must_use]
    pub fn with_symbol(mut self, symbol: Symbol) -> Self {
        self.state.symbol_override = Some(symbol);
        self
    }

    /// The symbol for formats without a symbol column, unless
    /// [`TradeFileReader::with_symbol`] gives one.
    pub(crate) fn with_file_symbol(mut self, symbol: Option<Symbol>) -> Self {
        self.state.file_symbol = symbol;
        self
    }

    /// The name used in errors.
    #[must_use]
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The format; [`TradeFormat::Auto`] until the first non-blank line was
    /// read.
    #[must_use]
    pub fn format(&self) -> TradeFormat {
        self.format
    }

    /// The malformed-line policy.
    #[must_use]
    pub fn policy(&self) -> BadLinePolicy {
        self.policy
    }

    /// Number of the last line read (1-based; 0 before reading).
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Ticks returned so far.
    #[must_use]
    pub fn ticks_read(&self) -> u64 {
        self.ticks
    }

    /// Malformed lines skipped under [`BadLinePolicy::Skip`].
    #[must_use]
    pub fn skipped_lines(&self) -> u64 {
        self.skipped
    }

    /// The errors of the first [`SKIPPED_EXAMPLES`] skipped lines.
    #[must_use]
    pub fn skipped_examples(&self) -> &[DataError] {
        &self.skipped_examples
    }

    /// The next tick, an error, or `None` at the end of the input.
    ///
    /// After an error that ends reading (a read error, a wrong header, or a
    /// malformed line under [`BadLinePolicy::Stop`]) it returns `None`.
    pub fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        if self.finished {
            return None;
        }
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.finished = true;
                    return None;
                }
                Ok(_) => {}
                Err(error) => {
                    self.finished = true;
                    return Some(Err(DataError::Io {
                        source_name: self.source_name.clone(),
                        error,
                    }));
                }
            }
            self.line += 1;
            let mut bytes = self.buf.as_slice();
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            let outcome = match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if self.format == TradeFormat::Auto {
                        self.format = if text.starts_with('{') {
                            TradeFormat::JsonLines
                        } else {
                            TradeFormat::Csv
                        };
                    }
                    let format = self.format;
                    if !self.header_checked {
                        self.header_checked = true;
                        match formats::header_rule(format) {
                            HeaderRule::None => {}
                            HeaderRule::Required(columns) => {
                                if let Err(reason) = check_header(text, columns) {
                                    self.finished = true;
                                    return Some(Err(self.malformed(reason)));
                                }
                                continue;
                            }
                            HeaderRule::Optional(columns) => {
                                if !text.starts_with(|c: char| c.is_ascii_digit()) {
                                    if let Err(reason) = check_header(text, columns) {
                                        self.finished = true;
                                        return Some(Err(self.malformed(reason)));
                                    }
                                    continue;
                                }
                            }
                        }
                    }
                    match format {
                        TradeFormat::JsonLines => parse_json_line(text, &mut self.state),
                        TradeFormat::Csv | TradeFormat::Auto => {
                            parse_csv_line(text, &mut self.state)
                        }
                        other => formats::parse_line(other, text, &mut self.state),
                    }
                }
                Err(_) => Err("line is not valid UTF-8".to_owned()),
            };
            match outcome {
                Ok(tick) => {
                    self.ticks += 1;
                    return Some(Ok(tick));
                }
                Err(reason) => {
                    let error = self.malformed(reason);
                    match self.policy {
                        BadLinePolicy::Stop => {
                            self.finished = true;
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
    }

    fn malformed(&self, reason: String) -> DataError {
        DataError::Malformed {
            source_name: self.source_name.clone(),
            line: self.line,
            reason,
        }
    }
}

impl<R: BufRead> Iterator for TradeFileReader<R> {
    type Item = Result<Tick, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_tick()
    }
}

impl<R: BufRead> MarketDataSource for TradeFileReader<R> {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        TradeFileReader::next_tick(self)
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.source_name, self.format)
    }
}

/// Per-reader parsing state: interned symbols, the last timestamp, the
/// symbol to use instead of (or for want of) a symbol column, and the time
/// unit of a file whose unit is detected.
#[derive(Debug, Default)]
pub(crate) struct ParseState {
    symbols: Vec<Symbol>,
    last_symbol: usize,
    last_timestamp_ms: Option<i64>,
    /// Given by the user: wins over the file.
    pub(crate) symbol_override: Option<Symbol>,
    /// From the file name, for formats without a symbol column.
    pub(crate) file_symbol: Option<Symbol>,
    /// The time unit detected from the file's first timestamp.
    pub(crate) time_unit: Option<crate::TimeUnit>,
}

impl ParseState {
    /// The symbol for `text`, reusing an earlier one when possible.
    fn intern(&mut self, text: &str) -> Symbol {
        if let Some(symbol) = self.symbols.get(self.last_symbol)
            && symbol.as_str() == text
        {
            return symbol.clone();
        }
        if let Some(index) = self.symbols.iter().position(|s| s.as_str() == text) {
            self.last_symbol = index;
            return self.symbols[index].clone();
        }
        let symbol = Symbol::new(text);
        if self.symbols.len() < MAX_INTERNED_SYMBOLS {
            self.last_symbol = self.symbols.len();
            self.symbols.push(symbol.clone());
        }
        symbol
    }

    /// Checks the fields shared by all formats and builds the tick. The
    /// symbol override, if any, replaces `symbol`.
    pub(crate) fn finish(
        &mut self,
        timestamp_ms: i64,
        symbol: &str,
        price: Decimal,
        size: Decimal,
        aggressor: Option<Side>,
    ) -> Result<Tick, String> {
        if self.symbol_override.is_none() && symbol.is_empty() {
            return Err("symbol is empty".to_owned());
        }
        if let Some(previous) = self.last_timestamp_ms
            && timestamp_ms < previous
        {
            return Err(format!(
                "timestamp {timestamp_ms} goes back in time (previous {previous})"
            ));
        }
        self.last_timestamp_ms = Some(timestamp_ms);
        let symbol = match &self.symbol_override {
            Some(symbol) => symbol.clone(),
            None => self.intern(symbol),
        };
        Ok(Tick {
            symbol,
            price,
            size,
            aggressor,
            timestamp_ms,
        })
    }
}

/// Checks a header line against `columns` (case-insensitive for the
/// vendor formats, exact for [`CSV_HEADER`]).
fn check_header(text: &str, columns: &[&str]) -> Result<(), String> {
    let exact = columns == CSV_COLUMNS;
    let mut given = text.split(',').map(str::trim);
    let matches = columns.iter().all(|column| {
        given.next().is_some_and(|name| {
            if exact {
                name == *column
            } else {
                name.eq_ignore_ascii_case(column)
            }
        })
    }) && given.next().is_none();
    if matches {
        Ok(())
    } else {
        Err(format!(
            "header is {}, expected \"{}\"",
            quoted(text),
            columns.join(",")
        ))
    }
}

/// The first `N` comma-separated fields of a line, and an iterator over
/// the fields after them; `None` when the line has fewer than `N`. Every row
/// parser starts here.
pub(crate) fn leading_fields<const N: usize>(
    text: &str,
) -> Option<([&str; N], std::str::Split<'_, char>)> {
    let mut fields = text.split(',');
    let mut leading = [""; N];
    for slot in &mut leading {
        *slot = fields.next()?;
    }
    Some((leading, fields))
}

/// Exactly `N` comma-separated fields, or `None`.
pub(crate) fn exact_fields<const N: usize>(text: &str) -> Option<[&str; N]> {
    let (fields, mut rest) = leading_fields(text)?;
    rest.next().is_none().then_some(fields)
}

fn parse_csv_line(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    let Some([timestamp, symbol, price, size, side]) = exact_fields(text) else {
        return Err(format!(
            "expected 5 columns ({CSV_HEADER}), found {}",
            text.split(',').count()
        ));
    };
    let timestamp_ms = parse_timestamp(timestamp.trim())?;
    let price = parse_decimal("price", price.trim())?;
    let size = parse_decimal("size", size.trim())?;
    let aggressor = parse_side(side.trim())?;
    state.finish(timestamp_ms, symbol.trim(), price, size, aggressor)
}

/// One JSON Lines trade. Fields are kept as raw JSON text so numbers are
/// read exactly (never through `f64`) and nothing is allocated.
#[derive(Deserialize)]
struct JsonTrade<'a> {
    #[serde(borrow)]
    timestamp_ms: &'a RawValue,
    #[serde(borrow)]
    symbol: &'a RawValue,
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    size: &'a RawValue,
    #[serde(borrow, default)]
    side: Option<&'a RawValue>,
}

fn parse_json_line(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    let trade: JsonTrade<'_> = serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        let message = match message.rsplit_once(" at line ") {
            Some((head, _)) => head.to_owned(),
            None => message,
        };
        format!("not a JSON trade ({message}, column {})", error.column())
    })?;
    let timestamp_ms = parse_timestamp(unquote(trade.timestamp_ms.get()))?;
    let symbol_raw = trade.symbol.get();
    let symbol_text: std::borrow::Cow<'_, str> = if !symbol_raw.starts_with('"') {
        return Err(format!("symbol {} is not a string", quoted(symbol_raw)));
    } else if symbol_raw.contains('\\') {
        serde_json::from_str::<String>(symbol_raw)
            .map_err(|_| format!("symbol {} is not a valid string", quoted(symbol_raw)))?
            .into()
    } else {
        unquote(symbol_raw).into()
    };
    let price = parse_json_decimal("price", trade.price.get())?;
    let size = parse_json_decimal("size", trade.size.get())?;
    let aggressor = match trade.side.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) if raw.starts_with('"') => parse_side(unquote(raw))?,
        Some(raw) => return Err(format!("side {} is not buy or sell", quoted(raw))),
    };
    state.finish(timestamp_ms, symbol_text.trim(), price, size, aggressor)
}

/// Removes one pair of surrounding double quotes, if present.
fn unquote(raw: &str) -> &str {
    raw.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw)
}

fn parse_json_decimal(name: &str, raw: &str) -> Result<Decimal, String> {
    if raw.starts_with('"') {
        return parse_decimal(name, unquote(raw));
    }
    if raw.contains(['e', 'E']) {
        // A JSON number in exponent form: exact, but not plain decimal text.
        let value = Decimal::from_scientific(raw)
            .map_err(|_| format!("{name} {} is not a decimal", quoted(raw)))?;
        return check_positive(name, raw, value);
    }
    parse_decimal(name, raw)
}

/// Milliseconds since the epoch: plain ASCII digits that fit an `i64`.
fn parse_timestamp(text: &str) -> Result<i64, String> {
    if !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(value) = text.parse::<i64>()
    {
        return Ok(value);
    }
    Err(format!(
        "timestamp {} is not a whole number of milliseconds",
        quoted(text)
    ))
}

/// A positive plain decimal: optional `-`, digits, at most one `.`.
///
/// Signs other than `-`, exponents, underscores and the like are refused even
/// where [`Decimal`]'s own parser would accept them.
pub(crate) fn parse_decimal(name: &str, text: &str) -> Result<Decimal, String> {
    check_decimal(text).map_err(|reason| format!("{name} {reason}"))
}

/// [`parse_decimal`] without the column name: the reason reads like
/// `"abc" is not a decimal`.
pub(crate) fn check_decimal(text: &str) -> Result<Decimal, String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut seen_digit = false;
    let mut seen_point = false;
    let plain = digits.bytes().all(|b| match b {
        b'0'..=b'9' => {
            seen_digit = true;
            true
        }
        b'.' if !seen_point => {
            seen_point = true;
            true
        }
        _ => false,
    });
    if !plain || !seen_digit {
        return Err(format!("{} is not a decimal", quoted(text)));
    }
    let value = Decimal::from_str_exact(text)
        .map_err(|_| format!("{} is not a decimal (too many digits)", quoted(text)))?;
    positive(text, value)
}

fn check_positive(name: &str, text: &str, value: Decimal) -> Result<Decimal, String> {
    positive(text, value).map_err(|reason| format!("{name} {reason}"))
}

/// `value` if it is above zero.
pub(crate) fn positive(text: &str, value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_positive() && !value.is_zero() {
        Ok(value)
    } else {
        Err(format!("{} is not positive", quoted(text)))
    }
}

/// `buy`, `sell`, or empty for an unknown aggressor.
fn parse_side(text: &str) -> Result<Option<Side>, String> {
    match text {
        "buy" => Ok(Some(Side::Buy)),
        "sell" => Ok(Some(Side::Sell)),
        "" => Ok(None),
        _ => Err(format!("side {} is not buy or sell", quoted(text))),
    }
}

/// Field text for an error message: quoted, escaped, and cut short if long.
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((end, _)) => format!("{:?}...", &text[..end]),
        None => format!("{text:?}"),
    }
}

/// Why a [`BadLinePolicy`] could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad-line policy {text:?} is not valid; expected stop or skip")]
pub struct ParsePolicyError {
    /// The text that was given.
    pub text: String,
}

impl FromStr for BadLinePolicy {
    type Err = ParsePolicyError;

    /// `stop` or `skip`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "stop" => Ok(Self::Stop),
            "skip" => Ok(Self::Skip),
            _ => Err(ParsePolicyError {
                text: text.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_validation_refuses_what_decimal_would_accept() {
        for text in ["1_000", "+1", "1e3", "", ".", "1.2.3", " 1", "0x10", "--1"] {
            assert!(parse_decimal("price", text).is_err(), "{text}");
        }
        for text in ["1", "0.5", "10749.4", "5.", ".5", "0.00000001"] {
            assert!(parse_decimal("price", text).is_ok(), "{text}");
        }
        assert_eq!(
            parse_decimal("size", "-1").unwrap_err(),
            "size \"-1\" is not positive"
        );
        assert_eq!(
            parse_decimal("size", "0.000").unwrap_err(),
            "size \"0.000\" is not positive"
        );
    }

    #[test]
    fn long_field_text_is_cut_short_in_messages() {
        let long = "x".repeat(100);
        let message = quoted(&long);
        assert!(message.len() < 50, "{message}");
        assert!(message.ends_with("..."));
    }

    #[test]
    fn interning_reuses_symbols() {
        let mut state = ParseState::default();
        let a = state.intern("BTCUSD");
        let b = state.intern("ETHUSD");
        let c = state.intern("BTCUSD");
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(state.symbols.len(), 2);
    }
}
