//! `tesser plugin sweep`: one plugin scored across a grid of params (the
//! cartesian product of the values given per key), in parallel, with the
//! metrics of `replay`, sorted by implementation shortfall.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use clap::Args;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use serde::Serialize;
use serde_json::{Map, Value};
use tesser_core::Side;

use super::replay::{
    Interrupted, PluginRun, Setup, SideArg, in_parallel, jobs, lab_config, progress_bars,
    read_trades, replay_one, text_table,
};
use super::report::{BASE_STYLE, escape};

/// `tesser plugin sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The plugin: a name in the plugins directory or a `.wasm` file.
    #[arg(value_name = "NAME")]
    pub plugin: String,
    /// Trade prints (.csv or .jsonl, or an exchange or vendor file, see
    /// --format); the order is submitted at the first trade, whose symbol it
    /// trades.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// How to read --data.
    #[command(flatten)]
    pub input: crate::data::input::InputArgs,
    /// Side of the order.
    #[arg(long, value_enum)]
    pub side: SideArg,
    /// Quantity of the order (positive).
    #[arg(long, value_name = "Q", allow_hyphen_values = true)]
    pub qty: Decimal,
    /// The grid: a JSON object whose every value is a non-empty array of the
    /// values to try for that param, e.g.
    /// `{"clip_size": ["0.1", "0.25"], "max_chase_bps": [20, 50]}`.
    #[arg(long, value_name = "JSON")]
    pub grid: String,
    /// Params every combination starts from, as a JSON object; the grid's
    /// keys override them [default: {}].
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Write every combination's params and figures as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report: the table and a chart of the
    /// shortfall per combination.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Directory holding `<name>.wasm` plugins [config: live.plugins_dir].
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not draw the progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Combinations replayed at once [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Order arrival delay of the paper exchange, ms of data time
    /// [config: paper.latency_ms].
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub latency_ms: Option<i64>,
}

/// One combination's outcome, as written to `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRun {
    /// The params the plugin got (the base params with the combination).
    pub params: Value,
    /// The combination alone: one value per grid key.
    pub combination: Value,
    /// The replay's figures and fills.
    pub run: PluginRun,
}

/// The grid's combinations, in order: the cartesian product of the values
/// of each key, the last key varying fastest.
///
/// # Errors
/// A grid that is not a JSON object of non-empty arrays, or is empty.
pub fn combinations(grid: &str) -> anyhow::Result<Vec<Map<String, Value>>> {
    let example = r#"e.g. --grid '{"clip_size": ["0.1", "0.25"], "max_chase_bps": [20, 50]}'"#;
    let value: Value = serde_json::from_str(grid)
        .map_err(|error| anyhow::anyhow!("--grid is not valid JSON ({error}): {example}"))?;
    let Value::Object(keys) = value else {
        bail!("--grid must be a JSON object of arrays, got {value}: {example}");
    };
    if keys.is_empty() {
        bail!("--grid is empty: give at least one param with the values to try, {example}");
    }
    let mut combos = vec![Map::new()];
    for (key, values) in keys {
        let Value::Array(values) = values else {
            bail!("--grid key {key} must map to an array of values, got {values}: {example}");
        };
        if values.is_empty() {
            bail!("--grid key {key} has no values: give at least one, {example}");
        }
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for combo in &combos {
            for value in &values {
                let mut combo = combo.clone();
                combo.insert(key.clone(), value.clone());
                next.push(combo);
            }
        }
        combos = next;
    }
    Ok(combos)
}

/// The combination as `key=value, …`.
fn label(combo: &Value) -> String {
    combo.as_object().map_or_else(String::new, |keys| {
        keys.iter()
            .map(|(key, value)| match value {
                Value::String(text) => format!("{key}={text}"),
                other => format!("{key}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Shortfall first (lowest cost first), runs without one last, then the
/// grid's order.
fn sort(runs: &mut [SweepRun]) {
    runs.sort_by(|a, b| match (a.run.shortfall_bps, b.run.shortfall_bps) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// The sorted runs as a text table.
fn table(runs: &[SweepRun]) -> String {
    let dash = |v: Option<Decimal>| v.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let header = [
        "PARAMS",
        "STATUS",
        "FILLED",
        "AVG PRICE",
        "SHORTFALL bps",
        "VS VWAP bps",
        "CHILD ORDERS",
        "DURATION ms",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|sweep| {
            let run = &sweep.run;
            vec![
                label(&sweep.combination),
                run.status.clone(),
                format!("{}/{}", run.filled, run.target),
                dash(run.avg_price),
                dash(run.shortfall_bps),
                dash(run.vwap_slippage_bps),
                run.child_orders.values().sum::<usize>().to_string(),
                run.duration_ms.to_string(),
            ]
        })
        .collect();
    text_table(&header, &rows)
}

/// The HTML report: a bar per combination (its shortfall) and the table.
fn report(title: &str, runs: &[SweepRun]) -> String {
    const WIDTH: f64 = 1000.0;
    const LEFT: f64 = 260.0;
    const BAR: f64 = 22.0;
    let shortfalls: Vec<f64> = runs
        .iter()
        .filter_map(|s| s.run.shortfall_bps.and_then(|d| d.to_f64()))
        .collect();
    let low = shortfalls.iter().copied().fold(0.0_f64, f64::min);
    let high = shortfalls.iter().copied().fold(0.0_f64, f64::max);
    let span = (high - low).max(f64::EPSILON);
    let x = |v: f64| LEFT + (v - low) / span * (WIDTH - LEFT - 80.0);
    #[allow(clippy::cast_precision_loss)] // drawing only: a few hundred rows
    let height = BAR * runs.len() as f64 + 30.0;
    let mut svg = format!(
        r#"<svg id="shortfall-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="shortfall per combination">"#
    );
    let zero = x(0.0);
    let _ = write!(
        svg,
        r##"<line x1="{zero:.2}" y1="0" x2="{zero:.2}" y2="{height}" stroke="#999"/>"##
    );
    for (i, sweep) in runs.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // drawing only
        let y = BAR * i as f64 + 4.0;
        let name = escape(&label(&sweep.combination));
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{name}</text>"#,
            LEFT - 8.0,
            y + 14.0
        );
        if let Some(bps) = sweep.run.shortfall_bps {
            let v = bps.to_f64().unwrap_or(0.0);
            let (from, to) = (x(v.min(0.0)), x(v.max(0.0)));
            let colour = if v > 0.0 { "#d62728" } else { "#2ca02c" };
            let _ = write!(
                svg,
                r#"<rect class="shortfall-bar" data-params="{name}" data-shortfall-bps="{bps}" x="{from:.2}" y="{y:.1}" width="{:.2}" height="{:.1}" fill="{colour}"><title>{name}: {bps} bps</title></rect><text class="axis" x="{:.1}" y="{:.1}">{bps}</text>"#,
                (to - from).max(1.0),
                BAR - 6.0,
                to + 4.0,
                y + 13.0
            );
        }
    }
    svg.push_str("</svg>");
    let mut rows = String::new();
    for sweep in runs {
        let run = &sweep.run;
        let opt = |v: Option<Decimal>| v.map_or_else(|| "-".to_owned(), |d| d.to_string());
        let _ = write!(
            rows,
            r#"<tr data-params="{}"><td data-figure="params">{}</td><td data-figure="status">{}</td><td data-figure="filled">{}/{}</td><td data-figure="avg_price">{}</td><td data-figure="shortfall_bps">{}</td><td data-figure="vwap_slippage_bps">{}</td><td data-figure="duration_ms">{}</td></tr>"#,
            escape(&label(&sweep.combination)),
            escape(&label(&sweep.combination)),
            escape(&run.status),
            run.filled,
            run.target,
            opt(run.avg_price),
            opt(run.shortfall_bps),
            opt(run.vwap_slippage_bps),
            run.duration_ms
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
{base}td[data-figure="params"], td[data-figure="status"] {{ text-align: left; }}
.axis {{ font-size: 11px; fill: #444; }}
p.note {{ color: #666; font-size: 13px; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="note">Implementation shortfall against the arrival price, in bps, per combination, best first. Positive is a cost (red), negative a gain (green).</p>
{svg}
<table id="sweep"><thead><tr><th>params</th><th>status</th><th>filled</th><th>avg price</th><th>shortfall (bps)</th><th>vs VWAP (bps)</th><th>duration (ms)</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"#,
        base = BASE_STYLE,
        title = escape(title),
    )
}

/// Runs the sweep.
///
/// # Errors
/// Bad input (a grid that is not a non-empty object of non-empty arrays, or
/// a combination the plugin's params schema refuses; unknown plugin,
/// missing data, quantity ≤ 0), a failing replay or write, or Ctrl-C (after
/// printing what finished).
pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    if args.qty <= Decimal::ZERO {
        bail!(
            "--qty must be positive, got {}: pass the order quantity, e.g. --qty 2",
            args.qty
        );
    }
    let jobs = jobs(args.jobs)?;
    let combos = combinations(&args.grid)?;
    let base = match &args.params {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(base)) => base,
            Ok(other) => bail!("--params must be a JSON object, got {other}"),
            Err(error) => bail!(
                "--params is not valid JSON ({error}): pass an object like '{{\"clip_size\": \"0.5\"}}'"
            ),
        },
        None => Map::new(),
    };
    let config = lab_config(
        args.config.as_deref(),
        args.plugins_dir.as_deref(),
        args.latency_ms,
    )?;
    let path = super::resolve_plugin(&args.plugin, &config.live.plugins_dir)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .context("plugin file name")?;
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let plugin = super::engine(&config, dir)?
        .load(&name)
        .with_context(|| format!("plugin {}", path.display()))?;
    // Every combination must pass the plugin's params schema before any runs.
    let mut runs_params = Vec::with_capacity(combos.len());
    for combo in combos {
        let mut params = base.clone();
        params.extend(combo.clone());
        let params = Value::Object(params);
        let combination = Value::Object(combo);
        if let Err(reason) = plugin.check_params(&params) {
            bail!(
                "--grid: plugin {name} refuses the combination {}: {reason}; fix the grid's values or keys (see `tesser plugin inspect {name}`)",
                label(&combination)
            );
        }
        runs_params.push((params, combination));
    }
    drop(plugin);
    let trades = read_trades(&args.data, &args.input)?;
    let side = match args.side {
        SideArg::Buy => Side::Buy,
        SideArg::Sell => Side::Sell,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let bars = progress_bars(args.no_progress);
    let setup = Setup {
        config: &config,
        trades: &trades,
        side,
        qty: args.qty,
        bars: &bars,
        stop: &stop,
    };
    let total = runs_params.len();
    let done = AtomicUsize::new(0);
    let overall = bars.add(indicatif::ProgressBar::new(
        u64::try_from(total).unwrap_or(u64::MAX),
    ));
    overall.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:<20} [{bar:30}] {pos}/{len} combinations, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("#>-"),
    );
    overall.set_prefix("sweep");
    let quiet = !std::io::stderr().is_terminal();
    let results = in_parallel_all(&runs_params, jobs, |_, (params, combination)| {
        if stop.load(Ordering::Relaxed) {
            return Err(Interrupted.into());
        }
        let run = replay_one(&setup, &path, params, &label(combination))?;
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        overall.inc(1);
        if quiet {
            eprintln!("finished {finished}/{total}: {}", label(combination));
        }
        Ok(SweepRun {
            params: params.clone(),
            combination: combination.clone(),
            run,
        })
    });
    bars.clear().ok();
    let interrupted = stop.load(Ordering::SeqCst);
    let mut runs = Vec::new();
    for result in results {
        match result {
            Ok(run) => runs.push(run),
            Err(error) if error.is::<Interrupted>() => {}
            Err(error) => return Err(error),
        }
    }
    sort(&mut runs);
    print!("{}", table(&runs));
    std::io::stdout().flush().ok();
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&runs)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing --json {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let title = format!(
            "Params sweep: {name}, {} {} on {}",
            match side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
            args.qty,
            args.data.display()
        );
        std::fs::write(path, report(&title, &runs))
            .with_context(|| format!("writing --report {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    if interrupted {
        bail!(
            "interrupted: {} of {total} combinations finished (shown above)",
            runs.len()
        );
    }
    Ok(())
}

/// [`in_parallel`] that keeps every item's result, failed or not.
fn in_parallel_all<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> anyhow::Result<R> + Sync,
) -> Vec<anyhow::Result<R>> {
    let wrapped = in_parallel(items, jobs, |index, item| Ok(work(index, item)));
    wrapped.unwrap_or_else(|error| vec![Err(error)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_a_cartesian_product_in_order() {
        let combos = combinations(r#"{"a": [1, 2], "b": ["x", "y", "z"]}"#).unwrap();
        assert_eq!(combos.len(), 6);
        assert_eq!(
            Value::Object(combos[0].clone()),
            serde_json::json!({"a": 1, "b": "x"})
        );
        assert_eq!(
            Value::Object(combos[5].clone()),
            serde_json::json!({"a": 2, "b": "z"})
        );
    }

    #[test]
    fn bad_grids_say_which() {
        for (grid, says) in [
            ("[1]", "must be a JSON object of arrays"),
            ("{}", "--grid is empty"),
            (r#"{"a": 1}"#, "--grid key a must map to an array"),
            (r#"{"a": []}"#, "--grid key a has no values"),
            ("{a", "--grid is not valid JSON"),
        ] {
            let error = combinations(grid).unwrap_err().to_string();
            assert!(error.contains(says), "{grid}: {error}");
        }
    }
}
