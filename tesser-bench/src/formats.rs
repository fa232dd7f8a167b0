//! D: reading trade files in each exchange and vendor format against the
//! native tesser CSV reader. The same generated trades are written once per
//! format into target/bench-data/; each file is then read whole through
//! `open_trades` (native CSV through `TradeFileReader::open`, as before),
//! best of three. A format's ratio is its rate over native CSV's; the
//! target is ≥ 0.67 (at most 1.5 × slower).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use tesser_core::Tick;
use tesser_data::{GeneratorConfig, OpenOptions, TradeFileReader, generate, open_trades};

use crate::Plan;

/// Each format's rate, trades per second.
#[derive(Debug, Clone)]
pub struct FormatFigures {
    /// Native tesser CSV.
    pub native_per_s: f64,
    /// (key, trades per second) per other format.
    pub formats: Vec<(&'static str, f64)>,
    /// Trades per file.
    pub trades: u64,
}

impl FormatFigures {
    /// Prints the key=value lines.
    pub fn print(&self) {
        println!("read_trades={}", self.trades);
        println!("read_native_csv_trades_per_s={:.0}", self.native_per_s);
        for (key, rate) in &self.formats {
            println!("read_{key}_trades_per_s={rate:.0}");
            println!("read_{key}_ratio={:.2}", rate / self.native_per_s);
        }
    }
}

/// The formats written, with their file names.
const FILES: [(&str, &str); 9] = [
    ("binance_trades", "BTCUSD-trades-2024-01-01.csv"),
    ("binance_trades_us", "BTCUSD-trades-2025-01-01.csv"),
    ("binance_aggtrades", "BTCUSD-aggTrades-2024-01-01.csv"),
    ("binance_trades_zip", "BTCUSD-trades-2024-01-02.zip"),
    ("bybit", "BTCUSD2024-01-01.csv"),
    ("bybit_gz", "BTCUSD2024-01-02.csv.gz"),
    ("tardis", "tardis_trades_BTCUSD.csv"),
    ("tardis_gz", "tardis_trades_BTCUSD.csv.gz"),
    ("parquet", "trades.parquet"),
];

/// Writes (once) and reads every format.
pub fn measure(plan: &Plan) -> anyhow::Result<FormatFigures> {
    let trades = plan.replay_trades;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/bench-data/formats-{trades}-seed-1"));
    std::fs::create_dir_all(&dir)?;
    let config = GeneratorConfig {
        trades,
        seed: 1,
        ..GeneratorConfig::default()
    };
    let ticks: Vec<Tick> = generate(&config)?.collect();
    let native = dir.join("trades.csv");
    write_once(&native, |w| {
        writeln!(w, "{}", tesser_data::CSV_HEADER)?;
        for t in &ticks {
            let side = t.aggressor.map_or("", |s| s.as_str());
            writeln!(
                w,
                "{},{},{},{},{side}",
                t.timestamp_ms, t.symbol, t.price, t.size
            )?;
        }
        Ok(())
    })?;
    for (key, name) in FILES {
        write_once(&dir.join(name), |w| write_format(key, &ticks, w))?;
    }
    let native_per_s = best_of_three(trades, || {
        let reader = TradeFileReader::open(&native)?;
        Ok(reader
            .map(|t| t.map(|_| ()))
            .collect::<Result<Vec<()>, _>>()?
            .len())
    })?;
    let mut formats = Vec::new();
    for (key, name) in FILES {
        let path = dir.join(name);
        let rate = best_of_three(trades, || {
            let mut count = 0;
            for tick in open_trades(&path, &OpenOptions::default())? {
                tick.with_context(|| format!("reading {}", path.display()))?;
                count += 1;
            }
            Ok(count)
        })?;
        formats.push((key, rate));
    }
    Ok(FormatFigures {
        native_per_s,
        formats,
        trades,
    })
}

/// Trades per second of the fastest of three reads.
fn best_of_three(
    trades: u64,
    mut read: impl FnMut() -> anyhow::Result<usize>,
) -> anyhow::Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        let count = read()?;
        anyhow::ensure!(count as u64 == trades, "read {count} trades of {trades}");
        best = best.min(started.elapsed().as_secs_f64());
    }
    #[allow(clippy::cast_precision_loss, reason = "a rate for display")]
    Ok(trades as f64 / best)
}

/// Writes `path` through `body` unless it exists (a partial file is renamed
/// into place only when complete).
fn write_once(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let mut file = BufWriter::with_capacity(256 * 1024, File::create(&partial)?);
    body(&mut file)?;
    file.flush()?;
    drop(file);
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// One format's bytes for `ticks`.
fn write_format(key: &str, ticks: &[Tick], w: &mut dyn Write) -> anyhow::Result<()> {
    let side = |t: &Tick| t.aggressor.map_or("unknown", |s| s.as_str());
    let maker = |t: &Tick| if side(t) == "sell" { "True" } else { "False" };
    match key {
        "binance_trades" | "binance_trades_us" => {
            let scale = if key == "binance_trades_us" { 1_000 } else { 1 };
            for (i, t) in ticks.iter().enumerate() {
                let quote = t.price * t.size;
                writeln!(
                    w,
                    "{i},{},{},{quote},{},{},True",
                    t.price,
                    t.size,
                    t.timestamp_ms * scale,
                    maker(t)
                )?;
            }
        }
        "binance_aggtrades" => {
            for (i, t) in ticks.iter().enumerate() {
                writeln!(
                    w,
                    "{i},{},{},{i},{i},{},{},True",
                    t.price,
                    t.size,
                    t.timestamp_ms,
                    maker(t)
                )?;
            }
        }
        "binance_trades_zip" => {
            let mut text = Vec::new();
            write_format("binance_trades", ticks, &mut text)?;
            let mut cursor = std::io::Cursor::new(Vec::new());
            let mut zip = zip::ZipWriter::new(&mut cursor);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file("BTCUSD-trades-2024-01-02.csv", options)?;
            zip.write_all(&text)?;
            zip.finish()?;
            w.write_all(cursor.get_ref())?;
        }
        "bybit" => {
            writeln!(
                w,
                "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional"
            )?;
            for (i, t) in ticks.iter().enumerate() {
                let ts = t.timestamp_ms;
                let notional = t.price * t.size;
                let side = if side(t) == "sell" { "Sell" } else { "Buy" };
                writeln!(
                    w,
                    "{}.{:03}0,{},{side},{},{},PlusTick,0e4f0a7c-8d2b-5c1e-9f3a-{i:012},{notional}e8,{},{notional}",
                    ts / 1_000,
                    ts % 1_000,
                    t.symbol,
                    t.size,
                    t.price,
                    t.size
                )?;
            }
        }
        "tardis" => {
            writeln!(
                w,
                "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
            )?;
            for (i, t) in ticks.iter().enumerate() {
                let us = t.timestamp_ms * 1_000;
                writeln!(
                    w,
                    "binance,{},{us},{},{i},{},{},{}",
                    t.symbol,
                    us + 1_234,
                    side(t),
                    t.price,
                    t.size
                )?;
            }
        }
        "bybit_gz" | "tardis_gz" => {
            let mut gz = GzEncoder::new(w, Compression::default());
            write_format(key.trim_end_matches("_gz"), ticks, &mut gz)?;
            gz.finish()?;
        }
        "parquet" => write_parquet(ticks, w)?,
        other => anyhow::bail!("no writer for {other}"),
    }
    Ok(())
}

/// Parquet: int64 ms timestamps, decimal text prices and sizes, string side
/// and symbol, in row groups of 128k.
fn write_parquet(ticks: &[Tick], w: &mut dyn Write) -> anyhow::Result<()> {
    let schema = parse_message_type(
        "message trades {
            required int64 timestamp_ms;
            required binary symbol (UTF8);
            required binary price (UTF8);
            required binary size (UTF8);
            required binary side (UTF8);
        }",
    )?;
    let props = Arc::new(WriterProperties::builder().build());
    let mut bytes = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut bytes, Arc::new(schema), props)?;
    for chunk in ticks.chunks(128 * 1024) {
        let mut group = writer.next_row_group()?;
        let mut index = 0;
        while let Some(mut column) = group.next_column()? {
            if index == 0 {
                let v: Vec<i64> = chunk.iter().map(|t| t.timestamp_ms).collect();
                column.typed::<Int64Type>().write_batch(&v, None, None)?;
            } else {
                let v: Vec<ByteArray> = chunk
                    .iter()
                    .map(|t| match index {
                        1 => ByteArray::from(t.symbol.as_str()),
                        2 => ByteArray::from(t.price.to_string().as_str()),
                        3 => ByteArray::from(t.size.to_string().as_str()),
                        _ => ByteArray::from(t.aggressor.map_or("", |s| s.as_str())),
                    })
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, None, None)?;
            }
            column.close()?;
            index += 1;
        }
        group.close()?;
    }
    writer.close()?;
    w.write_all(&bytes)?;
    Ok(())
}
