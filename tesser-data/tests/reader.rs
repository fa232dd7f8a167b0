//! Reading trade files.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{Side, Tick};
use tesser_data::{
    BadLinePolicy, DataError, MarketDataSource, SKIPPED_EXAMPLES, TradeFileReader, TradeFormat,
};

const HEADER: &str = "timestamp_ms,symbol,price,size,side\n";

fn kraken_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/kraken-btcusd-2019-07-01T00.csv")
}

fn make_reader(text: &str, format: TradeFormat) -> TradeFileReader<&[u8]> {
    TradeFileReader::from_reader(text.as_bytes(), format, "trades.csv".into())
}

fn read_all(text: &str, format: TradeFormat) -> Result<Vec<Tick>, DataError> {
    make_reader(text, format).collect()
}

/// The error of the first bad line of a CSV body (after the header).
fn csv_error(body: &str) -> DataError {
    let text = format!("{HEADER}{body}");
    match read_all(&text, TradeFormat::Csv) {
        Ok(ticks) => panic!("expected an error, read {ticks:?}"),
        Err(error) => error,
    }
}

fn assert_malformed(error: &DataError, line: u64, reason: &str) {
    match error {
        DataError::Malformed {
            source_name,
            line: actual,
            reason: actual_reason,
        } => {
            assert_eq!(source_name, "trades.csv");
            assert_eq!(*actual, line, "{error}");
            assert_eq!(actual_reason, reason);
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn reads_the_kraken_sample_file() {
    let path = kraken_path();
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        return;
    }
    let mut reader = TradeFileReader::open(&path).unwrap();
    assert_eq!(reader.format(), TradeFormat::Csv);
    assert!(
        reader
            .describe()
            .ends_with("kraken-btcusd-2019-07-01T00.csv (csv)")
    );
    let ticks: Vec<Tick> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(ticks.len(), 2_672);
    assert_eq!(reader.ticks_read(), 2_672);
    assert_eq!(reader.skipped_lines(), 0);

    let first = &ticks[0];
    assert_eq!(first.timestamp_ms, 1_561_939_203_172);
    assert_eq!(first.symbol.as_str(), "BTCUSD");
    assert_eq!(first.price, dec!(10749.4));
    assert_eq!(first.size, dec!(0.004));
    assert_eq!(first.aggressor, Some(Side::Sell));

    let volume: Decimal = ticks.iter().map(|t| t.size).sum();
    assert!(volume > dec!(903.6) && volume < dec!(903.8), "{volume}");
    let low = ticks.iter().map(|t| t.price).min().unwrap();
    let high = ticks.iter().map(|t| t.price).max().unwrap();
    assert_eq!((low, high), (dec!(10600.0), dec!(11041.8)));
    assert!(ticks.iter().all(|t| t.symbol == "BTCUSD"));
    assert!(
        ticks
            .windows(2)
            .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms)
    );
}

#[test]
fn kraken_file_through_stdin_style_detection() {
    let path = kraken_path();
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let mut reader =
        TradeFileReader::from_reader(bytes.as_slice(), TradeFormat::Auto, "stdin".into());
    assert_eq!(reader.format(), TradeFormat::Auto);
    assert_eq!(reader.by_ref().map(Result::unwrap).count(), 2_672);
    assert_eq!(reader.format(), TradeFormat::Csv);
}

#[test]
fn reads_json_lines() {
    let text = concat!(
        r#"{"timestamp_ms":1561939203172,"symbol":"BTCUSD","price":"10749.4","size":"0.004","side":"sell"}"#,
        "\n\n",
        r#"{"timestamp_ms":1561939205224,"symbol":"BTCUSD","price":10749.7,"size":0.03869709,"side":"buy"}"#,
        "\r\n",
        r#"  {"symbol":"ETHUSD","timestamp_ms":"1561939205225","price":"300","size":"1.5","id":17}"#,
        "\n",
        r#"{"timestamp_ms":1561939205226,"symbol":"ETH\u0055SD","price":3e2,"size":"2","side":null}"#,
        "\n",
    );
    let ticks = read_all(text, TradeFormat::JsonLines).unwrap();
    assert_eq!(ticks.len(), 4);
    assert_eq!(
        ticks[0],
        Tick {
            symbol: "BTCUSD".into(),
            price: dec!(10749.4),
            size: dec!(0.004),
            aggressor: Some(Side::Sell),
            timestamp_ms: 1_561_939_203_172,
        }
    );
    // Numbers are read exactly, not through f64.
    assert_eq!(ticks[1].price, dec!(10749.7));
    assert_eq!(ticks[1].size, dec!(0.03869709));
    assert_eq!(ticks[1].aggressor, Some(Side::Buy));
    assert_eq!(ticks[2].symbol.as_str(), "ETHUSD");
    assert_eq!(ticks[2].timestamp_ms, 1_561_939_205_225);
    assert_eq!(ticks[2].aggressor, None);
    assert_eq!(ticks[3].symbol.as_str(), "ETHUSD");
    assert_eq!(ticks[3].price, dec!(300));
    assert_eq!(ticks[3].aggressor, None);
}

#[test]
fn json_lines_errors_name_the_line() {
    let good = r#"{"timestamp_ms":5,"symbol":"BTCUSD","price":"1","size":"1","side":"buy"}"#;
    let cases = [
        (
            r#"{"timestamp_ms":6,"symbol":"BTCUSD","price":"abc","size":"1"}"#,
            r#"price "abc" is not a decimal"#,
        ),
        (
            r#"{"timestamp_ms":6,"symbol":"BTCUSD","size":"1"}"#,
            "not a JSON trade (missing field `price`, column 47)",
        ),
        (
            r#"{"timestamp_ms":6,"symbol":"BTCUSD","price":"1","size":"1","side":"BUY"}"#,
            r#"side "BUY" is not buy or sell"#,
        ),
        (
            r#"{"timestamp_ms":6,"symbol":"BTCUSD","price":"1","size":"1","side":1}"#,
            r#"side "1" is not buy or sell"#,
        ),
        (
            r#"{"timestamp_ms":6.5,"symbol":"BTCUSD","price":"1","size":"1"}"#,
            r#"timestamp "6.5" is not a whole number of milliseconds"#,
        ),
        (
            r#"{"timestamp_ms":4,"symbol":"BTCUSD","price":"1","size":"1"}"#,
            "timestamp 4 goes back in time (previous 5)",
        ),
        (
            r#"{"timestamp_ms":6,"symbol":7,"price":"1","size":"1"}"#,
            r#"symbol "7" is not a string"#,
        ),
        (
            r#"{"timestamp_ms":6,"symbol":"BTCUSD","price":-1.5,"size":"1"}"#,
            r#"price "-1.5" is not positive"#,
        ),
    ];
    for (line, reason) in cases {
        let text = format!("{good}\n\n{line}\n{good}\n");
        let error = read_all(&text, TradeFormat::JsonLines).unwrap_err();
        assert_malformed(&error, 3, reason);
    }
    let error = read_all(&format!("{good}\n[1,2]\n"), TradeFormat::JsonLines).unwrap_err();
    assert_eq!(error.line(), Some(2));
    assert!(
        error
            .to_string()
            .starts_with("trades.csv:2: not a JSON trade ("),
        "{error}"
    );
}

#[test]
fn detects_the_format_from_the_first_non_blank_line() {
    let csv = format!("\n  \n{HEADER}1,BTCUSD,1,1,buy\n");
    let mut reader = make_reader(&csv, TradeFormat::Auto);
    assert_eq!(reader.next_tick().unwrap().unwrap().timestamp_ms, 1);
    assert_eq!(reader.format(), TradeFormat::Csv);
    assert_eq!(reader.line(), 4);

    let jsonl = "\n{\"timestamp_ms\":1,\"symbol\":\"B\",\"price\":1,\"size\":1}\n";
    let mut reader = make_reader(jsonl, TradeFormat::Auto);
    assert_eq!(reader.next_tick().unwrap().unwrap().symbol.as_str(), "B");
    assert_eq!(reader.format(), TradeFormat::JsonLines);

    // CSV without a header is refused: the first line must be the header.
    let error = read_all("1,BTCUSD,1,1,buy\n", TradeFormat::Auto).unwrap_err();
    assert_malformed(
        &error,
        1,
        r#"header is "1,BTCUSD,1,1,buy", expected "timestamp_ms,symbol,price,size,side""#,
    );

    assert!(read_all("", TradeFormat::Auto).unwrap().is_empty());
    assert!(read_all("\n\n", TradeFormat::Csv).unwrap().is_empty());
    assert!(read_all(HEADER, TradeFormat::Csv).unwrap().is_empty());
}

#[test]
fn tolerates_crlf_bom_blank_lines_and_spaces() {
    let text = "\u{feff}timestamp_ms, symbol ,price,size,side\r\n\r\n1,BTCUSD, 2.5 ,0.1,sell\r\n2,BTCUSD,3,0.2,\r\n";
    let ticks = read_all(text, TradeFormat::Csv).unwrap();
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[0].price, dec!(2.5));
    assert_eq!(ticks[0].aggressor, Some(Side::Sell));
    assert_eq!(
        ticks[1].aggressor, None,
        "an empty side is an unknown aggressor"
    );
}

#[test]
fn malformed_csv_lines_name_line_and_reason() {
    let good = "1,BTCUSD,10749.4,0.004,sell\n";
    let cases = [
        ("2,BTCUSD,abc,0.004,sell", r#"price "abc" is not a decimal"#),
        (
            "2,BTCUSD,1_000,0.004,sell",
            r#"price "1_000" is not a decimal"#,
        ),
        ("2,BTCUSD,0,0.004,sell", r#"price "0" is not positive"#),
        ("2,BTCUSD,1,-0.004,sell", r#"size "-0.004" is not positive"#),
        ("2,BTCUSD,1,,sell", r#"size "" is not a decimal"#),
        (
            "2,BTCUSD,1,99999999999999999999999999999999,sell",
            r#"size "99999999999999999999999999999999" is not a decimal (too many digits)"#,
        ),
        (
            "2,BTCUSD,10749.4,0.004",
            "expected 5 columns (timestamp_ms,symbol,price,size,side), found 4",
        ),
        (
            "2,BTCUSD,10749.4,0.004,sell,extra",
            "expected 5 columns (timestamp_ms,symbol,price,size,side), found 6",
        ),
        (
            "2,BTCUSD,10749.4,0.004,BUY",
            r#"side "BUY" is not buy or sell"#,
        ),
        (
            "2019-07-01,BTCUSD,10749.4,0.004,buy",
            r#"timestamp "2019-07-01" is not a whole number of milliseconds"#,
        ),
        (
            "-2,BTCUSD,10749.4,0.004,buy",
            r#"timestamp "-2" is not a whole number of milliseconds"#,
        ),
        (
            "99999999999999999999,BTCUSD,10749.4,0.004,buy",
            r#"timestamp "99999999999999999999" is not a whole number of milliseconds"#,
        ),
        (
            "0,BTCUSD,10749.4,0.004,buy",
            "timestamp 0 goes back in time (previous 1)",
        ),
        ("2,,10749.4,0.004,buy", "symbol is empty"),
    ];
    for (line, reason) in cases {
        // Header, good line, blank line, bad line: the bad line is line 4.
        let error = csv_error(&format!("{good}\n{line}\n{good}"));
        assert_malformed(&error, 4, reason);
    }
}

#[test]
fn error_messages_read_well() {
    let error = csv_error("1,BTCUSD,1,1,buy\n2,BTCUSD,abc,1,buy\n");
    assert_eq!(
        error.to_string(),
        r#"trades.csv:3: price "abc" is not a decimal"#
    );
    let error = csv_error("5,BTCUSD,1,1,buy\n3,BTCUSD,1,1,buy\n");
    assert_eq!(
        error.to_string(),
        "trades.csv:3: timestamp 3 goes back in time (previous 5)"
    );
}

#[test]
fn wrong_header_is_refused_naming_the_expected_one() {
    let expected = r#"expected "timestamp_ms,symbol,price,size,side""#;
    for header in [
        "timestamp,symbol,price,size,side",
        "timestamp_ms,symbol,price,size",
        "timestamp_ms,symbol,size,price,side",
        "timestamp_ms,symbol,price,size,side,extra",
    ] {
        let text = format!("{header}\n1,BTCUSD,1,1,buy\n");
        let error = read_all(&text, TradeFormat::Csv).unwrap_err();
        assert_eq!(error.line(), Some(1));
        assert!(error.to_string().ends_with(expected), "{error}");
    }
    // Even when skipping bad lines: a wrong header is not a bad line.
    let text = "a,b\n1,BTCUSD,1,1,buy\n";
    let mut reader = make_reader(text, TradeFormat::Csv).with_policy(BadLinePolicy::Skip);
    assert!(matches!(
        reader.next_tick(),
        Some(Err(DataError::Malformed { line: 1, .. }))
    ));
    assert!(reader.next_tick().is_none());
}

#[test]
fn stop_policy_ends_reading_at_the_first_bad_line() {
    let text = format!("{HEADER}1,B,1,1,buy\n2,B,x,1,buy\n3,B,1,1,buy\n");
    let mut reader = make_reader(&text, TradeFormat::Csv);
    assert_eq!(reader.policy(), BadLinePolicy::Stop);
    assert!(reader.next_tick().unwrap().is_ok());
    assert!(reader.next_tick().unwrap().is_err());
    assert!(reader.next_tick().is_none());
    assert!(reader.next_tick().is_none());
}

#[test]
fn skip_policy_counts_and_remembers_bad_lines() {
    let mut text = String::from(HEADER);
    text.push_str("10,B,1,1,buy\n");
    for i in 0..8 {
        text.push_str(&format!("{},B,bad,1,buy\n", 11 + i));
    }
    text.push_str("5,B,1,1,buy\n"); // back in time: skipped, previous stays 10
    text.push_str("10,B,2,1,sell\n");
    text.push_str("not,a,trade\n");
    text.push_str("\u{0}\u{1}\n");
    text.push_str("11,B,3,1,\n");
    let mut reader = make_reader(&text, TradeFormat::Csv).with_policy(BadLinePolicy::Skip);
    let ticks: Vec<Tick> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        ticks.iter().map(|t| t.price).collect::<Vec<_>>(),
        [dec!(1), dec!(2), dec!(3)]
    );
    assert_eq!(reader.skipped_lines(), 11);
    let examples = reader.skipped_examples();
    assert_eq!(examples.len(), SKIPPED_EXAMPLES);
    assert_eq!(
        examples
            .iter()
            .map(|e| e.line().unwrap())
            .collect::<Vec<_>>(),
        [3, 4, 5, 6, 7]
    );
    assert_eq!(
        examples[0].to_string(),
        r#"trades.csv:3: price "bad" is not a decimal"#
    );
}

#[test]
fn invalid_utf8_is_a_bad_line() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"1,B\xff,1,1,buy\n2,B,1,1,buy\n");
    let reader = TradeFileReader::from_reader(bytes.as_slice(), TradeFormat::Csv, "x".into());
    let mut reader = reader.with_policy(BadLinePolicy::Skip);
    let tick = reader.next_tick().unwrap().unwrap();
    assert_eq!(tick.timestamp_ms, 2);
    assert_eq!(
        reader.skipped_examples()[0].to_string(),
        "x:2: line is not valid UTF-8"
    );
}

#[test]
fn reads_several_symbols() {
    let text = format!("{HEADER}1,BTCUSD,1,1,buy\n2,ETHUSD,2,1,buy\n3,BTCUSD,3,1,sell\n");
    let ticks = read_all(&text, TradeFormat::Csv).unwrap();
    let symbols: Vec<&str> = ticks.iter().map(|t| t.symbol.as_str()).collect();
    assert_eq!(symbols, ["BTCUSD", "ETHUSD", "BTCUSD"]);
}

#[test]
fn open_chooses_the_format_by_extension() {
    let dir = std::env::temp_dir().join(format!("tesser-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jsonl = r#"{"timestamp_ms":1,"symbol":"B","price":"1","size":"1","side":"buy"}"#;
    for name in ["t.jsonl", "t.NDJSON"] {
        let path = dir.join(name);
        std::fs::write(&path, format!("{jsonl}\n")).unwrap();
        let mut reader = TradeFileReader::open(&path).unwrap();
        assert_eq!(reader.format(), TradeFormat::JsonLines);
        assert_eq!(reader.next_tick().unwrap().unwrap().timestamp_ms, 1);
        let mut boxed = TradeFileReader::open_or_stdin(&path).unwrap();
        assert_eq!(boxed.next_tick().unwrap().unwrap().timestamp_ms, 1);
    }

    let path = dir.join("trades.txt");
    let error = TradeFileReader::open(&path).unwrap_err();
    assert!(matches!(error, DataError::UnsupportedFormat { .. }));
    let message = error.to_string();
    assert!(message.contains("trades.txt"), "{message}");
    assert!(message.contains(".csv, .jsonl or .ndjson"), "{message}");

    let missing = dir.join("missing.csv");
    let error = TradeFileReader::open(&missing).unwrap_err();
    assert!(matches!(error, DataError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("missing.csv"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_errors_are_io_errors_and_end_reading() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let mut reader = TradeFileReader::from_reader(
        std::io::BufReader::new(Failing),
        TradeFormat::Csv,
        "feed".into(),
    );
    let error = reader.next_tick().unwrap().unwrap_err();
    assert_eq!(error.to_string(), "feed: disk on fire");
    assert!(reader.next_tick().is_none());
}

#[test]
fn policy_parses() {
    assert_eq!("skip".parse(), Ok(BadLinePolicy::Skip));
    assert_eq!("stop".parse(), Ok(BadLinePolicy::Stop));
    let error = "ignore".parse::<BadLinePolicy>().unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"bad-line policy "ignore" is not valid; expected stop or skip"#
    );
}
