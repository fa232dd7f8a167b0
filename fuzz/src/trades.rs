//! Checks of the market-data readers of `tesser-data`: [`TradeFileReader`]
//! over CSV and JSON Lines, and the [`TradeCsvWriter`] that writes what the
//! CSV reader reads back.
//!
//! Shared by the `trade_csv` and `trade_jsonl` fuzz targets and
//! `tesser-data/tests/properties.rs` (which includes this file with
//! `#[path]`), so it uses nothing but `tesser_data`, `tesser_core` and
//! `rust_decimal`.

use rust_decimal::Decimal;
use tesser_core::Tick;
use tesser_data::{
    BadLinePolicy, DataError, SKIPPED_EXAMPLES, TradeCsvWriter, TradeFileReader, TradeFormat,
};

/// What one reader gave.
#[derive(Debug)]
pub struct Read {
    /// The ticks, in order.
    pub ticks: Vec<Tick>,
    /// The errors it returned: line number and message.
    pub errors: Vec<(u64, String)>,
    /// The format it settled on.
    pub format: TradeFormat,
    /// Lines it skipped (under [`BadLinePolicy::Skip`]).
    pub skipped: u64,
}

/// Number of lines in `data` as the reader counts them (a last line without
/// a newline counts).
fn line_count(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&b| b == b'\n').count();
    let tail = usize::from(!data.is_empty() && !data.ends_with(b"\n"));
    u64::try_from(newlines + tail).unwrap_or(u64::MAX)
}

/// Reads `data` to the end and checks what the reader promises about every
/// tick and every error:
///
/// * every tick has a positive price and size, a non-empty symbol and a
///   timestamp that is not negative and not before the previous tick's; CSV
///   symbols are trimmed and hold no comma;
/// * every error is a [`DataError::Malformed`] naming a line of the input;
///   under [`BadLinePolicy::Stop`] the first error ends reading, under
///   [`BadLinePolicy::Skip`] only a wrong CSV header is returned and the
///   skipped lines are counted, with the first [`SKIPPED_EXAMPLES`] kept;
/// * an ended reader stays ended, and it counts the ticks it returned.
///
/// # Panics
/// When one of those promises is broken.
pub fn read_checked(data: &[u8], format: TradeFormat, policy: BadLinePolicy) -> Read {
    let mut reader = TradeFileReader::from_reader(data, format, "fuzz".into()).with_policy(policy);
    let lines = line_count(data);
    let mut ticks: Vec<Tick> = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = reader.next_tick() {
        assert!(
            policy == BadLinePolicy::Skip || errors.is_empty(),
            "the reader went on after an error under BadLinePolicy::Stop"
        );
        match item {
            Ok(tick) => {
                check_tick(&tick, reader.format());
                if let Some(previous) = ticks.last() {
                    assert!(
                        tick.timestamp_ms >= previous.timestamp_ms,
                        "timestamp went back from {} to {}",
                        previous.timestamp_ms,
                        tick.timestamp_ms
                    );
                }
                ticks.push(tick);
            }
            Err(error) => {
                let DataError::Malformed { line, reason, .. } = &error else {
                    panic!("reading bytes in memory failed with {error}");
                };
                assert!(
                    (1..=lines).contains(line),
                    "error on line {line} of a {lines}-line input: {error}"
                );
                errors.push((*line, reason.clone()));
            }
        }
    }
    assert!(reader.next_tick().is_none(), "an ended reader gave more");
    assert_eq!(reader.ticks_read(), ticks.len() as u64);
    let skipped = reader.skipped_lines();
    match policy {
        BadLinePolicy::Stop => assert_eq!(skipped, 0),
        BadLinePolicy::Skip => {
            assert!(
                errors.len() <= 1,
                "only a bad header ends a skipping reader"
            );
            let examples = reader.skipped_examples();
            assert_eq!(examples.len() as u64, skipped.min(SKIPPED_EXAMPLES as u64));
            assert!(
                examples
                    .windows(2)
                    .all(|pair| pair[0].line() < pair[1].line()),
                "skipped examples out of order"
            );
        }
    }
    Read {
        ticks,
        errors,
        format: reader.format(),
        skipped,
    }
}

/// What every tick a reader returns satisfies.
fn check_tick(tick: &Tick, format: TradeFormat) {
    assert!(
        tick.price > Decimal::ZERO,
        "price {} is not positive",
        tick.price
    );
    assert!(
        tick.size > Decimal::ZERO,
        "size {} is not positive",
        tick.size
    );
    assert!(
        tick.timestamp_ms >= 0,
        "timestamp {} is negative",
        tick.timestamp_ms
    );
    let symbol = tick.symbol.as_str();
    assert!(!symbol.is_empty(), "empty symbol");
    if format == TradeFormat::Csv {
        assert_eq!(
            symbol,
            symbol.trim(),
            "CSV symbol {symbol:?} is not trimmed"
        );
        assert!(!symbol.contains(','), "CSV symbol {symbol:?} holds a comma");
    }
}

/// Everything the readers promise about arbitrary bytes in `format`
/// (`Csv` or `JsonLines`), and that what they read writes back:
/// [`check_reader`], then [`check_csv_round_trip`] on every tick read.
///
/// # Panics
/// When one of those promises is broken.
pub fn check_trade_bytes(data: &[u8], format: TradeFormat) {
    let ticks = check_reader(data, format);
    check_csv_round_trip(&ticks);
}

/// What the readers promise about arbitrary bytes in `format`:
///
/// * [`read_checked`] under both policies;
/// * skipping bad lines only adds ticks after the first bad one: the ticks
///   read up to the first error are the same;
/// * [`TradeFormat::Auto`] reads exactly what the format it detects reads.
///
/// Returns the ticks read when skipping bad lines.
///
/// # Panics
/// When one of those promises is broken.
pub fn check_reader(data: &[u8], format: TradeFormat) -> Vec<Tick> {
    let stop = read_checked(data, format, BadLinePolicy::Stop);
    let skip = read_checked(data, format, BadLinePolicy::Skip);
    assert!(
        skip.ticks.starts_with(&stop.ticks),
        "skipping bad lines changed the ticks before the first one"
    );
    if stop.errors.is_empty() {
        assert_eq!(skip.ticks, stop.ticks);
        assert_eq!(skip.skipped, 0);
    }
    let auto = read_checked(data, TradeFormat::Auto, BadLinePolicy::Stop);
    if auto.format != TradeFormat::Auto {
        let explicit = read_checked(data, auto.format, BadLinePolicy::Stop);
        assert_eq!(
            auto.ticks, explicit.ticks,
            "auto-detection read differently"
        );
        assert_eq!(
            auto.errors, explicit.errors,
            "auto-detection failed differently"
        );
    }
    skip.ticks
}

/// Writes `ticks` with [`TradeCsvWriter`] and reads them back: every tick the
/// writer accepts comes back identical (same value and same scale of price
/// and size), and the writer refuses only symbols it documents it cannot
/// write (empty, or holding a comma or a line break).
///
/// # Panics
/// When the round trip changes something.
pub fn check_csv_round_trip(ticks: &[Tick]) {
    let mut writer = TradeCsvWriter::new(Vec::new()).expect("writing to memory");
    let mut written = Vec::new();
    for tick in ticks {
        match writer.write_tick(tick) {
            Ok(()) => written.push(tick.clone()),
            Err(error) => {
                assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
                let symbol = tick.symbol.as_str();
                assert!(
                    symbol.is_empty()
                        || symbol.contains([',', '\n', '\r'])
                        || symbol.trim() != symbol,
                    "the writer refused symbol {symbol:?}: {error}"
                );
            }
        }
    }
    assert_eq!(writer.lines_written(), written.len() as u64);
    let bytes = writer.finish().expect("writing to memory");
    let back = read_checked(&bytes, TradeFormat::Csv, BadLinePolicy::Stop);
    assert!(
        back.errors.is_empty(),
        "the reader refused what the writer wrote: {:?}\n{}",
        back.errors,
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        back.ticks.len(),
        written.len(),
        "ticks lost in the round trip"
    );
    for (read, original) in back.ticks.iter().zip(&written) {
        assert_eq!(read, original, "the CSV round trip changed a tick");
        assert_eq!(read.price.scale(), original.price.scale(), "price scale");
        assert_eq!(read.size.scale(), original.size.scale(), "size scale");
    }
}
