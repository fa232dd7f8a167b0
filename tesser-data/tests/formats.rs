//! Exchange and vendor trade-file formats through `open_trades`: Binance
//! public data, Bybit dumps, Tardis trades CSV and Parquet, plain and in
//! `.gz`/`.zip`. Fixtures follow each format's documented layout and are
//! written at test time; nothing here is real market data.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rust_decimal_macros::dec;
use tempfile::TempDir;
use tesser_core::{Side, Tick};
use tesser_data::{
    BadLinePolicy, ColumnMap, DataError, OpenOptions, TradeFormat, TradeSource, open_trades,
};

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write_gz(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    let mut encoder = GzEncoder::new(File::create(&path).unwrap(), Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
    path
}

fn write_zip(dir: &TempDir, name: &str, entries: &[(&str, &str)]) -> PathBuf {
    let path = dir.path().join(name);
    let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (entry, text) in entries {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn open(path: &Path) -> TradeSource {
    open_trades(path, &OpenOptions::default()).unwrap()
}

fn read(path: &Path) -> Result<Vec<Tick>, DataError> {
    open(path).collect()
}

fn tick(symbol: &str, timestamp_ms: i64, price: &str, size: &str, side: Option<Side>) -> Tick {
    Tick {
        symbol: tesser_core::Symbol::new(symbol),
        price: price.parse().unwrap(),
        size: size.parse().unwrap(),
        aggressor: side,
        timestamp_ms,
    }
}

/// Spot trades, 2024 (milliseconds), no header, as the docs lay them out.
const SPOT_TRADES_MS: &str = "\
51175358,42283.58000000,0.00100000,42.28358000,1704067200000,True,True
51175359,42283.59000000,0.01500000,634.25385000,1704067200001,False,True
51175360,42283.59000000,0.20000000,8456.71800000,1704067200507,False,True
";

#[test]
fn binance_spot_trades_in_a_zip_take_the_symbol_from_the_file_name() {
    let dir = TempDir::new().unwrap();
    let path = write_zip(
        &dir,
        "BTCUSDT-trades-2024-01-01.zip",
        &[("BTCUSDT-trades-2024-01-01.csv", SPOT_TRADES_MS)],
    );
    let mut source = open(&path);
    assert_eq!(source.format(), TradeFormat::BinanceTrades);
    let ticks: Vec<Tick> = source.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks,
        vec![
            // is_buyer_maker True: the taker sold.
            tick(
                "BTCUSDT",
                1_704_067_200_000,
                "42283.58",
                "0.001",
                Some(Side::Sell)
            ),
            tick(
                "BTCUSDT",
                1_704_067_200_001,
                "42283.59",
                "0.015",
                Some(Side::Buy)
            ),
            tick(
                "BTCUSDT",
                1_704_067_200_507,
                "42283.59",
                "0.2",
                Some(Side::Buy)
            ),
        ]
    );
    assert!(
        source
            .source_name()
            .ends_with("BTCUSDT-trades-2024-01-01.zip!BTCUSDT-trades-2024-01-01.csv")
    );
}

#[test]
fn binance_spot_microseconds_from_2025_are_truncated_to_milliseconds() {
    let dir = TempDir::new().unwrap();
    let text = "\
4371233,0.20000000,50.00000000,10.00000000,1735689600010866,False,True
4371234,0.20010000,1.00000000,0.20010000,1735689600999999,True,True
";
    let path = write(&dir, "ETHUSDT-trades-2025-01-01.csv", text);
    let ticks = read(&path).unwrap();
    assert_eq!(ticks[0].timestamp_ms, 1_735_689_600_010);
    assert_eq!(ticks[1].timestamp_ms, 1_735_689_600_999);
    assert_eq!(ticks[1].aggressor, Some(Side::Sell));
    assert_eq!(ticks[0].symbol.as_str(), "ETHUSDT");
}

#[test]
fn binance_futures_files_with_headers_and_spot_aggtrades_without() {
    let dir = TempDir::new().unwrap();
    let futures_trades = write(
        &dir,
        "BTCUSDT-trades-2024-01.csv",
        "id,price,qty,quote_qty,time,is_buyer_maker\n\
         28457,4.00000100,12.00000000,48.00,1499865549590,true\n",
    );
    let source = open(&futures_trades);
    assert_eq!(source.format(), TradeFormat::BinanceTrades);
    let ticks: Vec<Tick> = source.collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks,
        vec![tick(
            "BTCUSDT",
            1_499_865_549_590,
            "4.000001",
            "12",
            Some(Side::Sell)
        )]
    );

    let futures_agg = write(
        &dir,
        "BTCUSDT-aggTrades-2024-01.csv",
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n\
         26129,0.01633102,4.70443515,27781,27781,1498793709153,true\n\
         26130,0.01633103,1.5,27782,27783,1498793709153,false\n",
    );
    let source = open(&futures_agg);
    assert_eq!(source.format(), TradeFormat::BinanceAggTrades);
    let ticks: Vec<Tick> = source.collect::<Result<_, _>>().unwrap();
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[1].size, dec!(1.5));
    assert_eq!(ticks[1].aggressor, Some(Side::Buy));

    let spot_agg = write(
        &dir,
        "ETHBTC-aggTrades-2025-01-01.csv",
        "0,0.20000000,50.00000000,0,0,1735689600010866,False,True\n",
    );
    let source = open(&spot_agg);
    assert_eq!(source.format(), TradeFormat::BinanceAggTrades);
    let ticks: Vec<Tick> = source.collect::<Result<_, _>>().unwrap();
    assert_eq!(ticks[0].timestamp_ms, 1_735_689_600_010);
    assert_eq!(ticks[0].symbol.as_str(), "ETHBTC");
}

#[test]
fn the_symbol_option_wins_and_a_binance_file_without_one_is_refused() {
    let dir = TempDir::new().unwrap();
    let named = write(&dir, "BTCUSDT-trades-2024-01-01.csv", SPOT_TRADES_MS);
    let options = OpenOptions {
        symbol: Some("BTC-USDT".into()),
        ..OpenOptions::default()
    };
    let ticks: Vec<Tick> = open_trades(&named, &options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(ticks.iter().all(|t| t.symbol.as_str() == "BTC-USDT"));

    let anonymous = write(&dir, "trades.csv", SPOT_TRADES_MS);
    let error = read(&anonymous).unwrap_err();
    assert_eq!(error.line(), Some(1));
    assert!(error.to_string().contains("no symbol"), "{error}");
}

#[test]
fn a_bad_row_names_the_entry_line_and_column_and_follows_the_policy() {
    let dir = TempDir::new().unwrap();
    let mut text = String::new();
    for i in 0..20 {
        let price = if i == 16 { "abc" } else { "42000.5" };
        text += &format!(
            "{i},{price},0.1,4200.05,{},True,True\n",
            1_704_067_200_000_i64 + i
        );
    }
    let path = write_zip(
        &dir,
        "BTCUSDT-trades-2024-01-01.zip",
        &[("BTCUSDT-trades-2024-01-01.csv", &text)],
    );
    let error = read(&path).unwrap_err();
    let message = error.to_string();
    assert!(
        message.ends_with(
            "BTCUSDT-trades-2024-01-01.zip!BTCUSDT-trades-2024-01-01.csv:17: column price: \"abc\" is not a decimal"
        ),
        "{message}"
    );

    let options = OpenOptions {
        policy: BadLinePolicy::Skip,
        ..OpenOptions::default()
    };
    let mut source = open_trades(&path, &options).unwrap();
    let ticks: Vec<Tick> = source.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(ticks.len(), 19);
    assert_eq!(source.skipped_lines(), 1);
    assert_eq!(source.skipped_examples()[0].line(), Some(17));
}

#[test]
fn bybit_dumps_read_fractional_seconds_exactly() {
    let dir = TempDir::new().unwrap();
    let text = "\
timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional
1704067200.1234,BTCUSDT,Buy,0.003,42314.10,ZeroPlusTick,4fd2f1b8-1b6c-5b2e-9b1a-0c1d2e3f4a5b,1.269423e+10,0.003,126.9423
1704067200.5,BTCUSDT,Sell,1.2,42314.00,MinusTick,4fd2f1b8-1b6c-5b2e-9b1a-0c1d2e3f4a5c,5.07768e+12,1.2,50776.8
1704067201,BTCUSDT,Sell,0.01,42313.9,MinusTick,4fd2f1b8-1b6c-5b2e-9b1a-0c1d2e3f4a5d,4.23139e+10,0.01,423.139
";
    let path = write_gz(&dir, "BTCUSDT2024-01-01.csv.gz", text);
    let mut source = open(&path);
    assert_eq!(source.format(), TradeFormat::Bybit);
    let ticks: Vec<Tick> = source.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks,
        vec![
            tick(
                "BTCUSDT",
                1_704_067_200_123,
                "42314.10",
                "0.003",
                Some(Side::Buy)
            ),
            tick(
                "BTCUSDT",
                1_704_067_200_500,
                "42314.00",
                "1.2",
                Some(Side::Sell)
            ),
            tick(
                "BTCUSDT",
                1_704_067_201_000,
                "42313.9",
                "0.01",
                Some(Side::Sell)
            ),
        ]
    );
    assert!(
        source
            .source_name()
            .ends_with("BTCUSDT2024-01-01.csv.gz!BTCUSDT2024-01-01.csv")
    );

    let bad = write(
        &dir,
        "bybit.csv",
        &text.replace("1704067200.5,", "1704067200,5,"),
    );
    let message = read(&bad).unwrap_err().to_string();
    assert!(message.ends_with("bybit.csv:3: expected 10 columns (timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional), found 11"), "{message}");
}

#[test]
fn tardis_trades_read_microseconds_and_unknown_sides() {
    let dir = TempDir::new().unwrap();
    let text = "\
exchange,symbol,timestamp,local_timestamp,id,side,price,amount
deribit,BTC-PERPETUAL,1704067200000123,1704067200001456,281818,buy,42300.5,120
deribit,BTC-PERPETUAL,1704067200002999,1704067200003000,281819,unknown,42300,10
deribit,ETH-PERPETUAL,1704067200002999,1704067200003100,281820,sell,2280.25,3
";
    let path = write_gz(&dir, "deribit_trades_2024-01-01_BTC-PERPETUAL.csv.gz", text);
    let source = open(&path);
    assert_eq!(source.format(), TradeFormat::Tardis);
    let ticks: Vec<Tick> = source.collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks,
        vec![
            tick(
                "BTC-PERPETUAL",
                1_704_067_200_000,
                "42300.5",
                "120",
                Some(Side::Buy)
            ),
            tick("BTC-PERPETUAL", 1_704_067_200_002, "42300", "10", None),
            tick(
                "ETH-PERPETUAL",
                1_704_067_200_002,
                "2280.25",
                "3",
                Some(Side::Sell)
            ),
        ]
    );
    let bad = write(&dir, "tardis.csv", &text.replace(",buy,", ",bid,"));
    let message = read(&bad).unwrap_err().to_string();
    assert!(
        message.ends_with("tardis.csv:2: column side: \"bid\" is not buy, sell or unknown"),
        "{message}"
    );
}

#[test]
fn empty_files_hold_no_trades_in_any_container() {
    let dir = TempDir::new().unwrap();
    for path in [
        write(&dir, "BTCUSDT-trades-2024-01-01.csv", ""),
        write_gz(&dir, "BTCUSDT2024-01-01.csv.gz", ""),
        write_zip(
            &dir,
            "BTCUSDT-trades-2024-01-02.zip",
            &[("BTCUSDT-trades-2024-01-02.csv", "")],
        ),
    ] {
        assert!(read(&path).unwrap().is_empty(), "{}", path.display());
    }
}

#[test]
fn a_truncated_gzip_is_a_clear_error_not_a_panic() {
    let dir = TempDir::new().unwrap();
    let mut text = String::from(
        "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional\n",
    );
    for i in 0..2_000 {
        text += &format!(
            "{}.{:04},BTCUSDT,Buy,0.{i:03}1,4231{},PlusTick,id-{i},1,1,1\n",
            1_704_067_200 + i,
            i % 10_000,
            i % 10
        );
    }
    let whole = write_gz(&dir, "whole.csv.gz", &text);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("BTCUSDT2024-01-01.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut source = open(&cut);
    let results: Vec<Result<Tick, DataError>> = source.by_ref().collect();
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(error, DataError::Io { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(
            "BTCUSDT2024-01-01.csv.gz!BTCUSDT2024-01-01.csv: gzip data is corrupt or truncated"
        ),
        "{message}"
    );
    assert!(results.len() > 1 && results.len() < 2_000);
}

#[test]
fn a_zip_must_hold_exactly_one_file() {
    let dir = TempDir::new().unwrap();
    let path = write_zip(
        &dir,
        "two.zip",
        &[("a.csv", SPOT_TRADES_MS), ("b.csv", SPOT_TRADES_MS)],
    );
    let error = open_trades(&path, &OpenOptions::default()).unwrap_err();
    assert!(matches!(error, DataError::Archive { .. }));
    assert!(error.to_string().contains("holds 2 files"), "{error}");
}

#[test]
fn timestamps_must_not_go_back_in_any_format() {
    let dir = TempDir::new().unwrap();
    let text = "1,1.5,1,1.5,1704067200005,True,True\n2,1.5,1,1.5,1704067200004,True,True\n";
    let path = write(&dir, "BTCUSDT-trades-2024-01-01.csv", text);
    let message = read(&path).unwrap_err().to_string();
    assert!(
        message.contains(":2: timestamp 1704067200004 goes back in time"),
        "{message}"
    );
}

#[test]
fn a_given_format_is_used_and_names_parse() {
    let dir = TempDir::new().unwrap();
    // Detection would say Binance trades; told otherwise, the header is wrong.
    let path = write(&dir, "BTCUSDT-trades-2024-01-01.csv", SPOT_TRADES_MS);
    let options = OpenOptions {
        format: TradeFormat::Tardis,
        ..OpenOptions::default()
    };
    let error = open_trades(&path, &options)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(error.to_string().contains("header is"), "{error}");
    assert_eq!("bybit".parse::<TradeFormat>().unwrap(), TradeFormat::Bybit);
    assert_eq!(
        "Binance-AggTrades".parse::<TradeFormat>().unwrap(),
        TradeFormat::BinanceAggTrades
    );
    let error = "kraken".parse::<TradeFormat>().unwrap_err().to_string();
    assert!(
        error.contains("binance-trades, binance-aggtrades, bybit, tardis, parquet"),
        "{error}"
    );
}

#[test]
fn tesser_csv_and_json_lines_still_open_and_are_detected() {
    let dir = TempDir::new().unwrap();
    let csv = write_gz(
        &dir,
        "trades.csv.gz",
        "timestamp_ms,symbol,price,size,side\n1,BTCUSD,10749.4,0.004,sell\n",
    );
    let source = open(&csv);
    assert_eq!(source.format(), TradeFormat::Csv);
    assert_eq!(source.collect::<Result<Vec<_>, _>>().unwrap().len(), 1);
    let jsonl = write(
        &dir,
        "trades.jsonl",
        "{\"timestamp_ms\":1,\"symbol\":\"B\",\"price\":1,\"size\":1}\n",
    );
    assert_eq!(read(&jsonl).unwrap()[0].symbol.as_str(), "B");
}

/// A Parquet file with the given columns; `rows` of (ts, price, qty, side,
/// sym), `None` side written as null.
fn write_parquet(path: &Path, rows: &[(i64, f64, &str, Option<&str>, &str)]) {
    let schema = parse_message_type(
        "message trades {
            required int64 ts (TIMESTAMP(MICROS,true));
            required double px;
            required binary qty (UTF8);
            optional binary side (UTF8);
            required binary sym (UTF8);
        }",
    )
    .unwrap();
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer =
        SerializedFileWriter::new(File::create(path).unwrap(), Arc::new(schema), props).unwrap();
    // Two row groups, to cross a boundary.
    for chunk in rows.chunks(2) {
        let mut group = writer.next_row_group().unwrap();
        let mut index = 0;
        while let Some(mut column) = group.next_column().unwrap() {
            match index {
                0 => {
                    let v: Vec<i64> = chunk.iter().map(|r| r.0).collect();
                    column
                        .typed::<Int64Type>()
                        .write_batch(&v, None, None)
                        .unwrap();
                }
                1 => {
                    let v: Vec<f64> = chunk.iter().map(|r| r.1).collect();
                    column
                        .typed::<DoubleType>()
                        .write_batch(&v, None, None)
                        .unwrap();
                }
                2 | 4 => {
                    let v: Vec<ByteArray> = chunk
                        .iter()
                        .map(|r| ByteArray::from(if index == 2 { r.2 } else { r.4 }))
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&v, None, None)
                        .unwrap();
                }
                _ => {
                    let v: Vec<ByteArray> = chunk
                        .iter()
                        .filter_map(|r| r.3)
                        .map(ByteArray::from)
                        .collect();
                    let defs: Vec<i16> = chunk.iter().map(|r| i16::from(r.3.is_some())).collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
            }
            column.close().unwrap();
            index += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn parquet_reads_mapped_columns_across_row_groups() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("trades.parquet");
    write_parquet(
        &path,
        &[
            (
                1_704_067_200_000_123,
                42000.1,
                "0.5",
                Some("buy"),
                "BTCUSDT",
            ),
            (1_704_067_200_001_000, 0.1, "2", None, "BTCUSDT"),
            (
                1_704_067_200_002_999,
                42000.25,
                "0.001",
                Some("SELL"),
                "ETHUSDT",
            ),
        ],
    );
    let options = OpenOptions {
        columns: "timestamp=ts,price=px,size=qty,side=side,symbol=sym"
            .parse::<ColumnMap>()
            .unwrap(),
        ..OpenOptions::default()
    };
    let mut source = open_trades(&path, &options).unwrap();
    assert_eq!(source.format(), TradeFormat::Parquet);
    let ticks: Vec<Tick> = source.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks,
        vec![
            tick(
                "BTCUSDT",
                1_704_067_200_000,
                "42000.1",
                "0.5",
                Some(Side::Buy)
            ),
            // A double 0.1 reads as exactly 0.1, not 0.1000000000000000055...
            tick("BTCUSDT", 1_704_067_200_001, "0.1", "2", None),
            tick(
                "ETHUSDT",
                1_704_067_200_002,
                "42000.25",
                "0.001",
                Some(Side::Sell)
            ),
        ]
    );

    // Unmapped, `ts` is found as the timestamp and `qty` as the size; a
    // missing column is named with the ones the file has.
    let missing = OpenOptions {
        columns: "price=price".parse().unwrap(),
        ..OpenOptions::default()
    };
    let error = open_trades(&path, &missing).unwrap_err().to_string();
    assert!(
        error.ends_with(
            "trades.parquet: no column \"price\" for price; the file has columns ts, px, qty, side, sym"
        ),
        "{error}"
    );
}

#[test]
fn parquet_bad_rows_follow_the_policy_with_row_numbers() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("trades.parquet");
    write_parquet(
        &path,
        &[
            (1_704_067_200_000_000, 1.0, "1", Some("buy"), "X"),
            (1_704_067_200_001_000, 1.0, "abc", Some("buy"), "X"),
            (1_704_067_200_002_000, 1.0, "1", Some("buy"), "X"),
        ],
    );
    let mut options = OpenOptions {
        columns: "timestamp=ts,price=px,size=qty,symbol=sym".parse().unwrap(),
        ..OpenOptions::default()
    };
    let error = open_trades(&path, &options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("trades.parquet:2: column size: \"abc\" is not a decimal"),
        "{error}"
    );
    options.policy = BadLinePolicy::Skip;
    let mut source = open_trades(&path, &options).unwrap();
    let ticks: Vec<Tick> = source.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[1].timestamp_ms, 1_704_067_200_002);
    assert_eq!(source.skipped_lines(), 1);
}
