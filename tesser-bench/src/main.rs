//! `tesser-bench`: the plugin hot path, measured side by side in one run.
//!
//! ```text
//! cargo run --release -p tesser-bench [-- --quick]
//! ```
//!
//! Figures (see `BENCHMARKS.md` for what each one means and how to read it):
//! F the floor of a component call, W a tick through the orchestrator into
//! the `.wasm` chase, N the same chase compiled into the host, J the
//! upstream JSON-string ABI with a snapshot after every callback, I one
//! instantiation, S 10,000 concurrent instances, R replay throughput of the
//! whole pipeline, C a cold compile against a load from the on-disk cache.
//!
//! F, W, N and J run interleaved, batch after batch, so that the noise of a
//! shared machine falls on all of them alike; each figure is the median of
//! its batches.

mod build;
mod cold;
mod dispatch;
mod floor;
mod formats;
mod instantiate;
mod json;
mod languages;
mod measure;
mod replay;
mod scale;
mod wal;

use std::time::Instant;

use anyhow::Context as _;

/// How much work each figure gets.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Batches of the interleaved call figures (F, W, N, J).
    pub call_batches: usize,
    /// Calls per batch.
    pub calls_per_batch: u64,
    /// Instances created per batch of figure I.
    pub instances_per_batch: usize,
    /// Batches of figure I.
    pub instance_batches: usize,
    /// Concurrent instances of figure S.
    pub scale_instances: usize,
    /// Fan-outs timed for figure S.
    pub fanouts: usize,
    /// Trades replayed for figure R.
    pub replay_trades: u64,
    /// Compiles and cached loads timed for figure C.
    pub cold_loads: usize,
}

impl Plan {
    const FULL: Self = Self {
        call_batches: 41,
        calls_per_batch: 20_000,
        instances_per_batch: 200,
        instance_batches: 41,
        scale_instances: 10_000,
        fanouts: 21,
        replay_trades: 10_000_000,
        cold_loads: 5,
    };

    const QUICK: Self = Self {
        call_batches: 11,
        calls_per_batch: 5_000,
        instances_per_batch: 100,
        instance_batches: 11,
        scale_instances: 10_000,
        fanouts: 5,
        replay_trades: 1_000_000,
        cold_loads: 3,
    };
}

const USAGE: &str = "usage: cargo run --release -p tesser-bench [-- --quick] [--only GROUPS]
       cargo run --release -p tesser-bench -- --spin FIGURE [SECONDS]

Measures the plugin hot path side by side and prints a table of medians and
ratios, then one key=value line per figure. --quick runs each figure briefly
(under a minute once built) with 1,000,000 replayed trades instead of
10,000,000. --only takes a comma-separated list of groups, for profiling one
part: calls (F, W, N, J), instantiate (I), scale (S), replay (R), cold (C),
languages (L: the TWAP in Rust, Python and JavaScript; needs python3 and npm),
formats (D: reading Binance, Bybit, Tardis and Parquet files against tesser CSV).
--spin runs one figure alone (F, W, N, J, I, or R, RN, RI, RJ for R_busy,
R_native, R_idle and J_clip over the --quick trade file) in a loop for SECONDS (default
10) and prints its time per call or trades per second: a steady load for perf
record. --spin WAL times bare SQLite commits with the state store's settings,
the floor under J_clip's store work.";

/// The figures `--spin` runs.
const SPIN_FIGURES: [&str; 10] = ["F", "W", "N", "J", "I", "R", "RN", "RI", "RJ", "WAL"];

/// The groups of figures, in the order they run.
const GROUPS: [&str; 7] = [
    "calls",
    "instantiate",
    "scale",
    "replay",
    "cold",
    "languages",
    "formats",
];

fn main() -> anyhow::Result<()> {
    let mut plan = Plan::FULL;
    let mut only: Vec<String> = GROUPS.iter().map(|g| (*g).to_owned()).collect();
    let mut spin: Option<(String, f64)> = None;
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => plan = Plan::QUICK,
            "--only" => {
                let list = args.next().unwrap_or_default();
                only = list.split(',').map(|g| g.trim().to_owned()).collect();
                if let Some(bad) = only.iter().find(|g| !GROUPS.contains(&g.as_str())) {
                    anyhow::bail!(
                        "--only: unknown group '{bad}' (groups: {})\n{USAGE}",
                        GROUPS.join(", ")
                    );
                }
            }
            "--spin" => {
                let figure = args.next().unwrap_or_default().to_ascii_uppercase();
                if !SPIN_FIGURES.contains(&figure.as_str()) {
                    anyhow::bail!(
                        "--spin takes one of {}, got '{figure}'\n{USAGE}",
                        SPIN_FIGURES.join(", ")
                    );
                }
                let seconds = match args.next_if(|a| !a.starts_with("--")) {
                    Some(text) => {
                        text.parse::<f64>()
                            .ok()
                            .filter(|s| *s > 0.0)
                            .with_context(|| {
                                format!("--spin {figure} {text}: SECONDS must be a positive number")
                            })?
                    }
                    None => 10.0,
                };
                spin = Some((figure, seconds));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument '{other}'\n{USAGE}"),
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build measures the compiler, not the runtime; use --release");
    }
    if let Some((figure, seconds)) = spin.as_ref().filter(|(f, _)| f == "WAL") {
        eprintln!("{figure}: spinning for {seconds} s…");
        return wal::spin(*seconds);
    }
    let started = Instant::now();
    eprintln!("building the benchmark plugins (wasm32-wasip2, release)…");
    let plugins = build::plugins().context("building the benchmark plugins")?;

    if let Some((figure, seconds)) = spin {
        eprintln!("{figure}: spinning for {seconds} s…");
        match figure.as_str() {
            "I" => {
                let (create_us, drop_us) = instantiate::spin(&plugins, seconds)?;
                println!("I: {create_us:.2} us per instantiation, {drop_us:.2} us per drop");
            }
            "R" | "RN" | "RI" | "RJ" => {
                let rate = replay::spin(&plugins, &figure, seconds)?;
                println!("{figure}: {rate:.0} trades/s");
            }
            _ => {
                let letter = figure.chars().next().unwrap_or('F');
                let ns = dispatch::spin(&plugins, letter, seconds)?;
                println!("{figure}: {ns:.1} ns per call");
            }
        }
        return Ok(());
    }
    let wants = |group: &str| only.iter().any(|g| g == group);
    let mut report = measure::Report::default();
    if wants("calls") {
        eprintln!(
            "F/W/N/J: {} interleaved batches of {} calls…",
            plan.call_batches, plan.calls_per_batch
        );
        report.calls = Some(dispatch::measure(&plugins, &plan)?);
    }
    if wants("instantiate") {
        eprintln!("I: instantiation…");
        report.instantiate_us = Some(instantiate::measure(&plugins, &plan)?);
    }
    if wants("scale") {
        eprintln!("S: {} concurrent chase instances…", plan.scale_instances);
        report.scale = Some(scale::measure(&plugins, &plan)?);
    }
    if wants("replay") {
        eprintln!("R: replaying {} generated trades…", plan.replay_trades);
        report.replay = Some(replay::measure(&plugins, &plan)?);
    }
    if wants("cold") {
        eprintln!("C: cold compile against the on-disk cache…");
        report.cold = Some(cold::measure(&plugins, &plan)?);
    }
    if wants("languages") {
        eprintln!("L: the TWAP in Rust, Python and JavaScript (building the components)…");
        report.languages = Some(languages::measure(&plan)?);
    }
    let mut formats = None;
    if wants("formats") {
        eprintln!(
            "D: reading {} generated trades in each file format…",
            plan.replay_trades
        );
        formats = Some(formats::measure(&plan)?);
    }
    report.print(&plan);
    if let Some(formats) = &formats {
        formats.print();
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
