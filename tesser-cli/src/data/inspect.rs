//! `tesser data inspect`: what a trade file holds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use rust_decimal::Decimal;
use serde::Serialize;
use tesser_data::BadLinePolicy;

use super::input::{InputArgs, tick_or_advice};
use crate::plugin::chart::{Millis, utc_clock, utc_date};

/// `tesser data inspect` arguments.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The trade file (any supported format; `.gz`/`.zip` are read as they
    /// are), or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// How to read FILE.
    #[command(flatten)]
    pub input: InputArgs,
    /// What to do with a malformed line: `stop` or `skip` (skipped lines
    /// are counted).
    #[arg(long, value_name = "stop|skip", default_value = "stop")]
    pub on_bad_line: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The largest time between consecutive trades.
#[derive(Debug, Serialize)]
struct Gap {
    ms: i64,
    /// 1-based number of the trade before the gap.
    after_trade: u64,
    from_ms: i64,
    from_utc: String,
    to_ms: i64,
    to_utc: String,
}

/// What `inspect` reports.
#[derive(Debug, Serialize)]
struct Inspection {
    file: String,
    format: String,
    rows: u64,
    skipped_lines: u64,
    symbols: BTreeMap<String, u64>,
    first_ms: Option<i64>,
    first_utc: Option<String>,
    last_ms: Option<i64>,
    last_utc: Option<String>,
    span_ms: Option<i64>,
    largest_gap: Option<Gap>,
    #[serde(with = "rust_decimal::serde::str_option")]
    min_price: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    max_price: Option<Decimal>,
}

fn utc(ms: i64) -> String {
    format!("{}T{}Z", utc_date(ms), utc_clock(ms, Millis::Shown))
}

/// Runs `tesser data inspect`.
///
/// # Errors
/// An unreadable file, or a malformed line under `--on-bad-line stop`.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let policy: BadLinePolicy = args.on_bad_line.parse().context("--on-bad-line")?;
    let mut source = args.input.open(&args.file, policy)?;
    let mut report = Inspection {
        file: args.file.display().to_string(),
        format: String::new(),
        rows: 0,
        skipped_lines: 0,
        symbols: BTreeMap::new(),
        first_ms: None,
        first_utc: None,
        last_ms: None,
        last_utc: None,
        span_ms: None,
        largest_gap: None,
        min_price: None,
        max_price: None,
    };
    let mut last_symbol: Option<(tesser_core::Symbol, u64)> = None;
    while let Some(tick) = source.next_tick() {
        let tick = tick_or_advice(tick)?;
        report.rows += 1;
        // Count runs of one symbol before touching the map.
        match &mut last_symbol {
            Some((symbol, count)) if *symbol == tick.symbol => *count += 1,
            _ => {
                if let Some((symbol, count)) = last_symbol.take() {
                    *report.symbols.entry(symbol.to_string()).or_default() += count;
                }
                last_symbol = Some((tick.symbol.clone(), 1));
            }
        }
        let ms = tick.timestamp_ms;
        if let Some(previous) = report.last_ms {
            let gap = ms - previous;
            if report.largest_gap.as_ref().is_none_or(|g| gap > g.ms) {
                report.largest_gap = Some(Gap {
                    ms: gap,
                    after_trade: report.rows - 1,
                    from_ms: previous,
                    from_utc: String::new(),
                    to_ms: ms,
                    to_utc: String::new(),
                });
            }
        }
        report.first_ms.get_or_insert(ms);
        report.last_ms = Some(ms);
        report.min_price = Some(report.min_price.map_or(tick.price, |p| p.min(tick.price)));
        report.max_price = Some(report.max_price.map_or(tick.price, |p| p.max(tick.price)));
    }
    if let Some((symbol, count)) = last_symbol {
        *report.symbols.entry(symbol.to_string()).or_default() += count;
    }
    report.format = source.format().to_string();
    report.skipped_lines = source.skipped_lines();
    report.first_utc = report.first_ms.map(utc);
    report.last_utc = report.last_ms.map(utc);
    report.span_ms = report.first_ms.zip(report.last_ms).map(|(a, b)| b - a);
    if let Some(gap) = &mut report.largest_gap {
        gap.from_utc = utc(gap.from_ms);
        gap.to_utc = utc(gap.to_ms);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
        for example in source.skipped_examples() {
            eprintln!("skipped: {example}");
        }
    }
    Ok(())
}

fn text(r: &Inspection) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: String| out.push_str(&format!("{key:<12} {value}\n"));
    line("file", r.file.clone());
    line("format", r.format.clone());
    line("rows", r.rows.to_string());
    if r.skipped_lines > 0 {
        line("skipped", format!("{} malformed lines", r.skipped_lines));
    }
    let symbols: Vec<String> = r
        .symbols
        .iter()
        .map(|(s, n)| format!("{s} ({n})"))
        .collect();
    line(
        "symbols",
        if symbols.is_empty() {
            "-".into()
        } else {
            symbols.join(", ")
        },
    );
    if let (Some(first), Some(last), Some(span)) = (&r.first_utc, &r.last_utc, r.span_ms) {
        line("from", first.clone());
        line("to", last.clone());
        line("span", seconds(span));
    }
    if let Some(gap) = &r.largest_gap {
        line(
            "largest gap",
            format!(
                "{} between trades {} and {} ({} → {})",
                seconds(gap.ms),
                gap.after_trade,
                gap.after_trade + 1,
                gap.from_utc,
                gap.to_utc
            ),
        );
    }
    if let (Some(min), Some(max)) = (r.min_price, r.max_price) {
        line("price", format!("min {min}, max {max}"));
    }
    out
}

/// `1.507 s` from milliseconds.
fn seconds(ms: i64) -> String {
    format!("{}.{:03} s", ms / 1000, (ms % 1000).abs())
}
