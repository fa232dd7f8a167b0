//! Exchange and vendor trade-file formats: detection, time units, and the
//! per-line parsers [`crate::TradeFileReader`] dispatches to.
//!
//! Each format's parser splits one line in place and reports what is wrong
//! as `column NAME: REASON`, which the reader prefixes with the source and
//! line number.

pub(crate) mod binance;
pub(crate) mod bybit;
pub(crate) mod parquet;
pub(crate) mod tardis;

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use tesser_core::{Side, Symbol, Tick};

use crate::TradeFormat;
use crate::reader::{CSV_COLUMNS, CSV_HEADER, ParseState, check_decimal, quoted};

/// The unit of a timestamp column. Ticks carry milliseconds
/// ([`Tick::timestamp_ms`]); finer units are truncated toward zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Seconds since the epoch.
    Seconds,
    /// Milliseconds since the epoch.
    Millis,
    /// Microseconds since the epoch.
    Micros,
    /// Nanoseconds since the epoch.
    Nanos,
}

impl TimeUnit {
    /// `value` in this unit, as milliseconds (truncated), or `None` on
    /// overflow.
    ///
    /// ```
    /// use tesser_data::TimeUnit;
    ///
    /// assert_eq!(TimeUnit::Micros.to_millis(1_735_689_600_010_866), Some(1_735_689_600_010));
    /// assert_eq!(TimeUnit::Seconds.to_millis(2), Some(2_000));
    /// ```
    #[must_use]
    pub const fn to_millis(self, value: i64) -> Option<i64> {
        match self {
            Self::Seconds => value.checked_mul(1_000),
            Self::Millis => Some(value),
            Self::Micros => Some(value / 1_000),
            Self::Nanos => Some(value / 1_000_000),
        }
    }

    /// The unit a timestamp of this magnitude most likely has (for dates
    /// between 1973 and 5138): below 1e11 seconds, below 1e14 milliseconds,
    /// below 1e17 microseconds, else nanoseconds.
    ///
    /// ```
    /// use tesser_data::TimeUnit;
    ///
    /// assert_eq!(TimeUnit::from_magnitude(1_704_067_200_000), TimeUnit::Millis);
    /// assert_eq!(TimeUnit::from_magnitude(1_735_689_600_010_866), TimeUnit::Micros);
    /// ```
    #[must_use]
    pub const fn from_magnitude(value: i64) -> Self {
        let magnitude = value.unsigned_abs();
        if magnitude < 100_000_000_000 {
            Self::Seconds
        } else if magnitude < 100_000_000_000_000 {
            Self::Millis
        } else if magnitude < 100_000_000_000_000_000 {
            Self::Micros
        } else {
            Self::Nanos
        }
    }

    /// Short name: `s`, `ms`, `us` or `ns`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Seconds => "s",
            Self::Millis => "ms",
            Self::Micros => "us",
            Self::Nanos => "ns",
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a [`TimeUnit`] could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time unit {text:?} is not valid; expected s, ms, us or ns")]
pub struct ParseTimeUnitError {
    /// The text that was given.
    pub text: String,
}

impl FromStr for TimeUnit {
    type Err = ParseTimeUnitError;

    /// `s`, `ms`, `us` (or `µs`) or `ns`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "s" => Ok(Self::Seconds),
            "ms" => Ok(Self::Millis),
            "us" | "µs" => Ok(Self::Micros),
            "ns" => Ok(Self::Nanos),
            _ => Err(ParseTimeUnitError {
                text: text.to_owned(),
            }),
        }
    }
}

/// What the first non-blank line of a text format must be.
pub(crate) enum HeaderRule {
    /// No header: the first line is a trade.
    None,
    /// The first line must be this header.
    Required(&'static [&'static str]),
    /// A first line that does not start with a digit must be this header.
    Optional(&'static [&'static str]),
}

/// The header rule of a text format.
pub(crate) fn header_rule(format: TradeFormat) -> HeaderRule {
    match format {
        TradeFormat::Csv | TradeFormat::Auto => HeaderRule::Required(&CSV_COLUMNS),
        TradeFormat::JsonLines | TradeFormat::Parquet => HeaderRule::None,
        TradeFormat::BinanceTrades => HeaderRule::Optional(&binance::TRADES_COLUMNS),
        TradeFormat::BinanceAggTrades => HeaderRule::Optional(&binance::AGG_TRADES_COLUMNS),
        TradeFormat::Bybit => HeaderRule::Required(&bybit::COLUMNS),
        TradeFormat::Tardis => HeaderRule::Required(&tardis::COLUMNS),
    }
}

/// Parses one trade line of an exchange or vendor text format.
pub(crate) fn parse_line(
    format: TradeFormat,
    text: &str,
    state: &mut ParseState,
) -> Result<Tick, String> {
    match format {
        TradeFormat::BinanceTrades => binance::parse_trade(text, state),
        TradeFormat::BinanceAggTrades => binance::parse_agg_trade(text, state),
        TradeFormat::Bybit => bybit::parse(text, state),
        TradeFormat::Tardis => tardis::parse(text, state),
        TradeFormat::Csv | TradeFormat::JsonLines | TradeFormat::Auto | TradeFormat::Parquet => {
            Err(format!("{format} is not a line format this reader parses"))
        }
    }
}

impl TradeFormat {
    /// The format a trade file's first non-blank line shows: JSON Lines (a
    /// `{`), one of the known headers (tesser CSV, Bybit, Tardis, Binance
    /// futures), or the shape of a headerless Binance row (a numeric first
    /// column, 6–8 columns with `true`/`false` where Binance puts
    /// `is_buyer_maker`). `None` when nothing matches.
    ///
    /// ```
    /// use tesser_data::TradeFormat;
    ///
    /// let spot = "51175358,17.80180000,5.69000000,101.29224200,1735689600010866,True,True";
    /// assert_eq!(TradeFormat::detect(spot), Some(TradeFormat::BinanceTrades));
    /// assert_eq!(TradeFormat::detect("timestamp_ms,symbol,price,size,side"), Some(TradeFormat::Csv));
    /// assert_eq!(TradeFormat::detect("hello"), None);
    /// ```
    #[must_use]
    pub fn detect(first_line: &str) -> Option<Self> {
        let line = first_line.trim();
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        if line.starts_with('{') {
            return Some(Self::JsonLines);
        }
        let header = |columns: &[&str]| {
            let mut given = line.split(',').map(str::trim);
            columns
                .iter()
                .all(|c| given.next().is_some_and(|g| g.eq_ignore_ascii_case(c)))
                && given.next().is_none()
        };
        if line == CSV_HEADER {
            return Some(Self::Csv);
        }
        if header(&bybit::COLUMNS) {
            return Some(Self::Bybit);
        }
        if header(&tardis::COLUMNS) {
            return Some(Self::Tardis);
        }
        if header(&binance::TRADES_COLUMNS) {
            return Some(Self::BinanceTrades);
        }
        if header(&binance::AGG_TRADES_COLUMNS) {
            return Some(Self::BinanceAggTrades);
        }
        binance::detect_row(line)
    }
}

/// The symbol of a Binance public-data file name: the text before
/// `-trades-` or `-aggTrades-`, as in `BTCUSDT-trades-2024-01-01.zip` or
/// `1000PEPEUSDT-aggTrades-2024-01.csv`. `None` for other names.
pub(crate) fn symbol_from_file_name(name: &str) -> Option<Symbol> {
    let (symbol, rest) = name.split_once('-')?;
    let kind_ok = rest.starts_with("trades-") || rest.starts_with("aggTrades-");
    if kind_ok && !symbol.is_empty() && symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(Symbol::new(symbol))
    } else {
        None
    }
}

/// A positive decimal column: `column price: "abc" is not a decimal`.
pub(crate) fn decimal(column: &str, text: &str) -> Result<Decimal, String> {
    check_decimal(text.trim()).map_err(|reason| format!("column {column}: {reason}"))
}

/// The value of a run of ASCII digits; `None` when it is empty, holds
/// anything else, or overflows. One pass: checking the digits and then
/// `str::parse` read the text twice.
pub(crate) fn whole_number(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for byte in text.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(digit))?;
    }
    Some(value)
}

/// A whole non-negative number column.
pub(crate) fn integer(column: &str, text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Some(value) = whole_number(text) {
        return Ok(value);
    }
    Err(format!(
        "column {column}: {} is not a whole number",
        quoted(text)
    ))
}

/// `value` in `unit` as milliseconds, or an overflow error for `column`.
pub(crate) fn millis(column: &str, value: i64, unit: TimeUnit) -> Result<i64, String> {
    unit.to_millis(value)
        .ok_or_else(|| format!("column {column}: {value} {unit} does not fit in milliseconds"))
}

/// How many times `needle` occurs in `haystack`. Counts 32 bytes at a time
/// into a byte-wide sum, which the compiler turns into vector compares;
/// the plain `filter().count()` widens every byte to 64 bits and ran at a
/// quarter of the speed on Bybit's 100-byte rows.
pub(crate) fn count_byte(haystack: &[u8], needle: u8) -> usize {
    let mut chunks = haystack.chunks_exact(32);
    let mut count = 0;
    for chunk in &mut chunks {
        let in_chunk: u8 = chunk.iter().map(|&b| u8::from(b == needle)).sum();
        count += usize::from(in_chunk);
    }
    count + chunks.remainder().iter().filter(|&&b| b == needle).count()
}

/// A wrong number of columns: `expected 8 columns (a,b,...), found 3`.
pub(crate) fn column_count(columns: &[&str], text: &str) -> String {
    format!(
        "expected {} columns ({}), found {}",
        columns.len(),
        columns.join(","),
        text.split(',').count()
    )
}

/// The aggressor of a `buy`/`sell` side column, any case; `unknown` or empty
/// mean no aggressor.
pub(crate) fn side(column: &str, text: &str) -> Result<Option<Side>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("buy") {
        Ok(Some(Side::Buy))
    } else if text.eq_ignore_ascii_case("sell") {
        Ok(Some(Side::Sell))
    } else if text.is_empty() || text.eq_ignore_ascii_case("unknown") {
        Ok(None)
    } else {
        Err(format!(
            "column {column}: {} is not buy, sell or unknown",
            quoted(text)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::count_byte;

    #[test]
    fn count_byte_counts_across_chunk_boundaries() {
        for len in [0, 1, 31, 32, 33, 64, 100, 300] {
            let text: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b',' } else { b'x' })
                .collect();
            let expected = text.iter().filter(|&&b| b == b',').count();
            assert_eq!(count_byte(&text, b','), expected, "length {len}");
        }
        // A chunk of 32 needles must not overflow the byte-wide sum.
        assert_eq!(count_byte(&[b','; 96], b','), 96);
    }

    #[test]
    fn integer_reads_whole_numbers_and_names_the_column_otherwise() {
        assert_eq!(super::integer("id", " 42 "), Ok(42));
        assert_eq!(super::integer("id", "9223372036854775807"), Ok(i64::MAX));
        for bad in ["", "-1", "1.5", "12a", "9223372036854775808"] {
            let error = super::integer("id", bad).expect_err(bad);
            assert!(error.starts_with("column id: "), "{error}");
        }
    }
}
