//! Property tests of the trade-file readers and the CSV writer.
//!
//! The checks of arbitrary input live in `fuzz/src/trades.rs` and are shared
//! with the `trade_csv` and `trade_jsonl` cargo-fuzz targets (see the
//! README's "Fuzzing" section); the round trips of well-formed lines are
//! here.

#[path = "../../fuzz/src/trades.rs"]
mod trades;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tesser_core::{Side, Symbol, Tick};
use tesser_data::{BadLinePolicy, CSV_HEADER, TradeFormat};
use trades::{check_csv_round_trip, check_trade_bytes, read_checked};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(128)
}

/// One valid trade.
#[derive(Debug, Clone)]
struct Row {
    timestamp_ms: i64,
    symbol: String,
    price: Decimal,
    size: Decimal,
    side: Option<Side>,
}

impl Row {
    fn tick(&self) -> Tick {
        Tick {
            // Both readers trim whitespace around a symbol.
            symbol: Symbol::from(self.symbol.trim()),
            price: self.price,
            size: self.size,
            aggressor: self.side,
            timestamp_ms: self.timestamp_ms,
        }
    }
}

/// Any positive decimal: a mantissa from 1 to 2^96 - 1 at any scale.
fn positive_decimal() -> impl Strategy<Value = Decimal> {
    let mantissa = prop_oneof![
        1_i128..=1_000_000,
        1_i128..=(1_i128 << 96) - 1,
        Just((1_i128 << 96) - 1),
    ];
    (mantissa, 0_u32..=28).prop_map(|(m, scale)| Decimal::from_i128_with_scale(m, scale))
}

fn side() -> impl Strategy<Value = Option<Side>> {
    prop::option::of(prop_oneof![Just(Side::Buy), Just(Side::Sell)])
}

/// Rows with non-decreasing timestamps, symbols drawn by `symbol`.
fn rows(symbol: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = Vec<Row>> {
    (
        0_i64..=i64::MAX / 2,
        prop::collection::vec(
            (
                0_i64..=1_000_000,
                symbol,
                positive_decimal(),
                positive_decimal(),
                side(),
            ),
            1..16,
        ),
    )
        .prop_map(|(start, fields)| {
            let mut timestamp_ms = start;
            fields
                .into_iter()
                .map(|(step, symbol, price, size, side)| {
                    timestamp_ms += step;
                    Row {
                        timestamp_ms,
                        symbol,
                        price,
                        size,
                        side,
                    }
                })
                .collect()
        })
}

/// Symbols a CSV file can hold: no comma, no line break, no surrounding
/// whitespace (the reader trims fields).
fn csv_symbol() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        "[A-Z]{3,8}",
        "[A-Za-z0-9_./:-]{1,16}",
        "[A-Za-z0-9][A-Za-z0-9 _-]{0,10}[A-Za-z0-9]",
    ]
}

fn side_text(side: Option<Side>) -> &'static str {
    side.map_or("", Side::as_str)
}

/// How a well-formed CSV file may be laid out.
#[derive(Debug, Clone)]
struct CsvLayout {
    bom: bool,
    crlf: bool,
    /// Spaces around each field.
    padding: usize,
    blank_lines: bool,
}

fn csv_layout() -> impl Strategy<Value = CsvLayout> {
    (any::<bool>(), any::<bool>(), 0_usize..3, any::<bool>()).prop_map(
        |(bom, crlf, padding, blank_lines)| CsvLayout {
            bom,
            crlf,
            padding,
            blank_lines,
        },
    )
}

fn csv_file(rows: &[Row], layout: &CsvLayout) -> String {
    let newline = if layout.crlf { "\r\n" } else { "\n" };
    let pad = " ".repeat(layout.padding);
    let mut text = String::new();
    if layout.bom {
        text.push('\u{feff}');
    }
    text.push_str(CSV_HEADER);
    text.push_str(newline);
    for row in rows {
        if layout.blank_lines {
            text.push_str(newline);
        }
        let fields = [
            row.timestamp_ms.to_string(),
            row.symbol.clone(),
            row.price.to_string(),
            row.size.to_string(),
            side_text(row.side).to_owned(),
        ];
        let line: Vec<String> = fields.iter().map(|f| format!("{pad}{f}{pad}")).collect();
        text.push_str(&line.join(","));
        text.push_str(newline);
    }
    text
}

/// How one JSON Lines field is written.
#[derive(Debug, Clone, Copy)]
struct JsonStyle {
    /// Decimals and timestamp as JSON strings rather than numbers.
    quoted_numbers: bool,
    /// An absent side as `null` rather than left out.
    null_side: bool,
    /// An unknown extra field.
    extra: bool,
}

fn json_style() -> impl Strategy<Value = JsonStyle> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(quoted_numbers, null_side, extra)| {
        JsonStyle {
            quoted_numbers,
            null_side,
            extra,
        }
    })
}

fn json_line(row: &Row, style: JsonStyle, order: &[usize]) -> String {
    let number = |text: String| {
        if style.quoted_numbers {
            format!("\"{text}\"")
        } else {
            text
        }
    };
    let symbol = serde_json::to_string(&row.symbol).expect("a string encodes");
    let mut fields = vec![
        format!("\"timestamp_ms\":{}", number(row.timestamp_ms.to_string())),
        format!("\"symbol\":{symbol}"),
        format!("\"price\":{}", number(row.price.to_string())),
        format!("\"size\":{}", number(row.size.to_string())),
    ];
    match row.side {
        Some(side) => fields.push(format!("\"side\":\"{}\"", side.as_str())),
        None if style.null_side => fields.push("\"side\":null".to_owned()),
        None => {}
    }
    if style.extra {
        fields.push("\"venue\":{\"name\":\"paper\",\"ids\":[1,2.5,null]}".to_owned());
    }
    let ordered: Vec<&str> = order
        .iter()
        .filter_map(|&i| fields.get(i).map(String::as_str))
        .collect();
    format!("{{{}}}", ordered.join(","))
}

/// Reads `text` expecting no error, and compares with `rows` exactly (scale
/// of price and size included).
fn assert_reads_back(text: &[u8], format: TradeFormat, rows: &[Row]) -> Result<(), TestCaseError> {
    let read = read_checked(text, format, BadLinePolicy::Stop);
    prop_assert!(read.errors.is_empty(), "refused: {:?}", read.errors);
    prop_assert_eq!(read.ticks.len(), rows.len());
    for (tick, row) in read.ticks.iter().zip(rows) {
        prop_assert_eq!(tick, &row.tick());
        prop_assert_eq!(tick.price.scale(), row.price.scale());
        prop_assert_eq!(tick.size.scale(), row.size.scale());
    }
    Ok(())
}

/// A value a trade file must not hold as a price or size.
fn bad_decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("0.000".to_owned()),
        Just("-0".to_owned()),
        Just("+1".to_owned()),
        Just("1_000".to_owned()),
        Just("1e3".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("NaN".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        positive_decimal().prop_map(|d| format!("-{d}")),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Well-formed CSV lines, with or without a BOM, CRLF, padding and blank
    /// lines, read back to exactly the values they were written from.
    #[test]
    fn well_formed_csv_reads_back(rows in rows(csv_symbol()), layout in csv_layout()) {
        let text = csv_file(&rows, &layout);
        assert_reads_back(text.as_bytes(), TradeFormat::Csv, &rows)?;
        assert_reads_back(text.as_bytes(), TradeFormat::Auto, &rows)?;
    }

    /// Well-formed JSON Lines, with numbers quoted or not, fields in any
    /// order, `null` or absent sides and unknown fields, read back to exactly
    /// the values they were written from. Symbols may be any text that is
    /// not blank (the reader trims surrounding whitespace, as in CSV).
    #[test]
    fn well_formed_json_lines_read_back(
        rows in rows(".{1,12}".prop_filter("not blank", |s: &String| !s.trim().is_empty())),
        styles in prop::collection::vec(json_style(), 16),
        order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let text: String = rows
            .iter()
            .zip(&styles)
            .map(|(row, style)| json_line(row, *style, &order) + "\n")
            .collect();
        assert_reads_back(text.as_bytes(), TradeFormat::JsonLines, &rows)?;
        assert_reads_back(text.as_bytes(), TradeFormat::Auto, &rows)?;
    }

    /// What `TradeCsvWriter` writes, the CSV reader reads back unchanged.
    #[test]
    fn written_csv_reads_back(rows in rows(csv_symbol())) {
        let ticks: Vec<Tick> = rows.iter().map(Row::tick).collect();
        check_csv_round_trip(&ticks);
    }

    /// A non-positive or malformed price or size is refused on its own line:
    /// a stopping reader returns the rows before it and then the error, a
    /// skipping reader every other row.
    #[test]
    fn bad_decimals_are_refused_on_their_line(
        rows in rows(csv_symbol()),
        bad in bad_decimal(),
        which in any::<prop::sample::Index>(),
        in_size in any::<bool>(),
        json in any::<bool>(),
    ) {
        let index = which.index(rows.len());
        let mut lines: Vec<String> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let mut price = row.price.to_string();
            let mut size = row.size.to_string();
            if i == index {
                if in_size { size.clone_from(&bad) } else { price.clone_from(&bad) }
            }
            lines.push(if json {
                format!(
                    "{{\"timestamp_ms\":{},\"symbol\":{},\"price\":\"{price}\",\"size\":\"{size}\",\"side\":\"{}\"}}",
                    row.timestamp_ms,
                    serde_json::to_string(&row.symbol).expect("a string encodes"),
                    side_text(row.side),
                )
            } else {
                format!("{},{},{price},{size},{}", row.timestamp_ms, row.symbol, side_text(row.side))
            });
        }
        let (format, header_lines) = if json {
            (TradeFormat::JsonLines, 0)
        } else {
            lines.insert(0, CSV_HEADER.to_owned());
            (TradeFormat::Csv, 1)
        };
        let text = lines.join("\n");
        let stop = read_checked(text.as_bytes(), format, BadLinePolicy::Stop);
        prop_assert_eq!(stop.ticks.len(), index);
        let expected_line = u64::try_from(index + header_lines + 1).expect("small");
        prop_assert_eq!(stop.errors.len(), 1);
        prop_assert_eq!(stop.errors[0].0, expected_line, "{:?}", stop.errors);
        let skip = read_checked(text.as_bytes(), format, BadLinePolicy::Skip);
        prop_assert_eq!(skip.skipped, 1);
        let kept: Vec<Tick> = rows
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != index)
            .map(|(_, row)| row.tick())
            .collect();
        prop_assert_eq!(skip.ticks, kept);
    }

    /// A timestamp before the previous line's is refused on its line.
    #[test]
    fn timestamps_going_back_are_refused(
        rows in rows(csv_symbol()).prop_filter("two rows", |r| r.len() >= 2),
        which in any::<prop::sample::Index>(),
        back in 1_i64..=1_000,
    ) {
        let index = 1 + which.index(rows.len() - 1);
        // A negative timestamp is refused for another reason.
        prop_assume!(rows[index - 1].timestamp_ms >= back);
        let mut rows = rows;
        rows[index].timestamp_ms = rows[index - 1].timestamp_ms - back;
        let text = csv_file(&rows, &CsvLayout { bom: false, crlf: false, padding: 0, blank_lines: false });
        let stop = read_checked(text.as_bytes(), TradeFormat::Csv, BadLinePolicy::Stop);
        prop_assert_eq!(stop.ticks.len(), index);
        prop_assert_eq!(stop.errors.len(), 1);
        prop_assert_eq!(stop.errors[0].0, u64::try_from(index + 2).expect("small"));
        prop_assert!(stop.errors[0].1.contains("goes back in time"), "{}", stop.errors[0].1);
    }

    /// Arbitrary bytes, as CSV and as JSON Lines, keep every promise the
    /// fuzz targets check (positive prices and sizes, ordered timestamps,
    /// errors on real lines, auto-detection, writer round trip).
    #[test]
    fn arbitrary_bytes_keep_the_reader_promises(
        bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(b"0123456789,.\n{}\":-e ".to_vec())],
            0..400,
        ),
    ) {
        check_trade_bytes(&bytes, TradeFormat::Csv);
        check_trade_bytes(&bytes, TradeFormat::JsonLines);
        let mut with_header = format!("{CSV_HEADER}\n").into_bytes();
        with_header.extend_from_slice(&bytes);
        check_trade_bytes(&with_header, TradeFormat::Csv);
    }

    /// Valid files with a few bytes damaged keep every promise too.
    #[test]
    fn damaged_files_keep_the_reader_promises(
        rows in rows(csv_symbol()),
        json in any::<bool>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0_u8..3), 1..6),
    ) {
        let text = if json {
            rows.iter()
                .map(|row| json_line(row, JsonStyle { quoted_numbers: false, null_side: true, extra: false }, &[0, 1, 2, 3, 4]) + "\n")
                .collect::<String>()
        } else {
            csv_file(&rows, &CsvLayout { bom: false, crlf: false, padding: 0, blank_lines: false })
        };
        let mut bytes = text.into_bytes();
        for (position, byte, kind) in edits {
            let at = position % (bytes.len() + 1);
            match kind {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => bytes[at] = byte,
                _ if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.push(byte),
            }
        }
        let format = if json { TradeFormat::JsonLines } else { TradeFormat::Csv };
        check_trade_bytes(&bytes, format);
    }
}

/// A JSON Lines symbol with surrounding whitespace is read trimmed, as in
/// CSV, so what is read round-trips through `TradeCsvWriter`
/// (`fuzz/regressions/trade_jsonl/`: the writer used to write the padded
/// symbol, which the CSV reader then trimmed).
#[test]
fn padded_json_symbols_are_trimmed_and_round_trip() {
    let read = read_checked(
        b"{\"timestamp_ms\":1,\"symbol\":\" BTCUSD\\t\",\"price\":\"1\",\"size\":\"1\"}\n",
        TradeFormat::JsonLines,
        BadLinePolicy::Stop,
    );
    assert_eq!(read.ticks.len(), 1);
    assert_eq!(read.ticks[0].symbol.as_str(), "BTCUSD");
    check_csv_round_trip(&read.ticks);
    let padded = Tick {
        symbol: Symbol::from(" BTCUSD"),
        ..read.ticks[0].clone()
    };
    let error = tesser_data::TradeCsvWriter::new(Vec::new())
        .and_then(|mut writer| writer.write_tick(&padded))
        .expect_err("a padded symbol cannot be written");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
