//! `tesser data inspect` and `tesser data convert` on exchange files, and a
//! `plugin replay` on a Binance zip giving the same result as the same
//! trades in tesser CSV. Fixtures are written at test time from the
//! documented layouts; nothing here is real market data.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::{chase_wasm, error_line, stderr};

const TRADES: usize = 3_000;
const START_MS: i64 = 1_704_067_200_000;

/// The fixture trades: (timestamp ms, price text, size text, taker sold).
fn trades() -> Vec<(i64, String, String, bool)> {
    (0..TRADES)
        .map(|i| {
            let i64_i = i64::try_from(i).expect("small");
            // A slow sawtooth around 100 with one 90 s gap after trade 2000.
            let ms = START_MS + i64_i * 250 + if i >= 2_000 { 90_000 } else { 0 };
            let cents = 10_000 + (i64_i % 40) * 5 - 100;
            let price = format!("{}.{:02}", cents / 100, cents % 100);
            let size = format!("0.{}", 1 + i % 9);
            (ms, price, size, i % 3 == 0)
        })
        .collect()
}

/// The trades as Binance spot `trades` rows (2024: milliseconds, no header).
fn binance_csv(bad_line: Option<usize>) -> String {
    let mut text = String::new();
    for (i, (ms, price, size, sold)) in trades().iter().enumerate() {
        let price = if Some(i + 1) == bad_line {
            "abc"
        } else {
            price
        };
        let maker = if *sold { "True" } else { "False" };
        text += &format!("{},{price},{size},1.0,{ms},{maker},True\n", 1_000 + i);
    }
    text
}

/// The same trades in tesser CSV.
fn tesser_csv() -> String {
    let mut text = String::from("timestamp_ms,symbol,price,size,side\n");
    for (ms, price, size, sold) in trades() {
        let side = if sold { "sell" } else { "buy" };
        text += &format!("{ms},BTCUSDT,{price},{size},{side}\n");
    }
    text
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("plugins")).expect("plugins dir");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn zip(&self, name: &str, entry: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
        // Stored: the dev-dependency has no deflate support; tesser-data's
        // own tests cover deflated entries.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file(entry, options).expect("entry");
        zip.write_all(text.as_bytes()).expect("write");
        zip.finish().expect("finish");
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tesser"));
        command
            .current_dir(self.dir.path())
            .env_remove("TESSER_LOG");
        for (key, _) in std::env::vars() {
            if key.starts_with("TESSER_") {
                command.env_remove(key);
            }
        }
        command.args(args).output().expect("run tesser")
    }
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn inspect_reports_a_binance_zip() {
    let d = Dir::new();
    d.zip(
        "BTCUSDT-trades-2024-01-01.zip",
        "BTCUSDT-trades-2024-01-01.csv",
        &binance_csv(None),
    );
    let text = ok(&d.run(&["data", "inspect", "BTCUSDT-trades-2024-01-01.zip"]));
    for expected in [
        "format       binance-trades",
        "rows         3000",
        "symbols      BTCUSDT (3000)",
        "from         2024-01-01T00:00:00.000Z",
        "largest gap  90.250 s between trades 2000 and 2001",
        "price        min 99.00, max 100.95",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }

    let json: Value = serde_json::from_str(&ok(&d.run(&[
        "data",
        "inspect",
        "BTCUSDT-trades-2024-01-01.zip",
        "--json",
    ])))
    .expect("json");
    assert_eq!(json["format"], "binance-trades");
    assert_eq!(json["rows"], 3000);
    assert_eq!(json["symbols"]["BTCUSDT"], 3000);
    assert_eq!(json["largest_gap"]["ms"], 90_250);
    assert_eq!(json["largest_gap"]["after_trade"], 2000);
    assert_eq!(json["min_price"], "99.00");
    assert_eq!(json["last_ms"], START_MS + 2_999 * 250 + 90_000);
    assert_eq!(json["span_ms"], 2_999 * 250 + 90_000);
}

#[test]
fn convert_writes_tesser_csv_from_a_binance_zip() {
    let d = Dir::new();
    d.zip(
        "BTCUSDT-trades-2024-01-01.zip",
        "BTCUSDT-trades-2024-01-01.csv",
        &binance_csv(None),
    );
    let output = d.run(&[
        "data",
        "convert",
        "BTCUSDT-trades-2024-01-01.zip",
        "--out",
        "out.csv",
    ]);
    ok(&output);
    assert!(
        stderr(&output).contains("wrote 3000 trades to out.csv"),
        "{}",
        stderr(&output)
    );
    let written = std::fs::read_to_string(d.path("out.csv")).expect("out.csv");
    assert_eq!(written, tesser_csv());
    assert!(!d.path("out.csv.partial").exists());
}

#[test]
fn bad_input_gives_one_error_line_saying_what_and_where() {
    let d = Dir::new();
    d.zip(
        "BTCUSDT-trades-2024-01-01.zip",
        "BTCUSDT-trades-2024-01-01.csv",
        &binance_csv(Some(17)),
    );
    let line = error_line(&d.run(&[
        "data",
        "convert",
        "BTCUSDT-trades-2024-01-01.zip",
        "--out",
        "out.csv",
    ]));
    assert!(
        line.contains(
            "BTCUSDT-trades-2024-01-01.zip!BTCUSDT-trades-2024-01-01.csv:17: column price: \"abc\" is not a decimal"
        ),
        "{line}"
    );
    assert!(!d.path("out.csv").exists() && !d.path("out.csv.partial").exists());

    // Skipping instead: 2999 trades, the bad one counted.
    let output = d.run(&[
        "data",
        "inspect",
        "BTCUSDT-trades-2024-01-01.zip",
        "--on-bad-line",
        "skip",
    ]);
    let text = ok(&output);
    assert!(
        text.contains("rows         2999") && text.contains("skipped      1 malformed lines"),
        "{text}"
    );

    let line = error_line(&d.run(&["data", "inspect", "x.zip", "--format", "kraken"]));
    assert!(
        line.contains("kraken")
            && line.contains("binance-trades, binance-aggtrades, bybit, tardis, parquet"),
        "{line}"
    );

    std::fs::write(d.path("trades.csv"), binance_csv(None)).expect("write");
    let line = error_line(&d.run(&["data", "inspect", "trades.csv"]));
    assert!(
        line.contains("trades.csv:1: no symbol") && line.contains("pass --symbol"),
        "{line}"
    );
    let text = ok(&d.run(&["data", "inspect", "trades.csv", "--symbol", "ETHUSDT"]));
    assert!(text.contains("symbols      ETHUSDT (3000)"), "{text}");
}

/// `plugin replay` of a buy through the chase on `data`: the JSON runs.
fn replay(d: &Dir, data: &Path, json: &str) -> Value {
    let wasm = chase_wasm().to_str().expect("utf-8");
    let data = data.to_str().expect("utf-8");
    ok(&d.run(&[
        "plugin",
        "replay",
        wasm,
        "--plugins-dir",
        "plugins",
        "--data",
        data,
        "--side",
        "buy",
        "--qty",
        "2",
        "--json",
        json,
    ]));
    serde_json::from_str(&std::fs::read_to_string(d.path(json)).expect("json")).expect("parse")
}

#[test]
fn replay_on_a_binance_zip_matches_the_same_trades_in_tesser_csv() {
    let d = Dir::new();
    let zip = d.zip(
        "BTCUSDT-trades-2024-01-01.zip",
        "BTCUSDT-trades-2024-01-01.csv",
        &binance_csv(None),
    );
    let csv = d.path("same.csv");
    std::fs::write(&csv, tesser_csv()).expect("write");
    let from_zip = replay(&d, &zip, "zip.json");
    let from_csv = replay(&d, &csv, "csv.json");
    assert_eq!(from_zip[0]["status"], "completed", "{from_zip:#}");
    assert!(from_zip[0]["child_orders"].is_object(), "{from_zip:#}");
    assert_eq!(from_zip, from_csv);
}
