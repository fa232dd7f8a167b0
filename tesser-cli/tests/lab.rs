//! The plugin lab through the real `tesser` binary: `plugin new` → `plugin
//! build` → `plugin replay` on the untouched scaffold, the five reference
//! plugins compared on real trades (`plugin replay twap --compare vwap pov
//! iceberg chase`) and every figure checked against an independent
//! computation, the HTML report rendered by headless Chromium, `inspect` /
//! `list`, and one clear error line for every bad input.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use common::{
    chase_wasm, error_line, kraken_trades, ok, quick_start_wasm, stderr, stdout, tesser,
    workspace_root,
};

/// The name of the scaffolded plugin crate (its `.wasm` is `lab_clip.wasm`).
const SCAFFOLD: &str = "lab-clip";
const SCAFFOLD_WASM: &str = "lab_clip";

/// The reference plugins in `plugins/`, in the order the comparison runs them.
const REFERENCE_PLUGINS: [&str; 5] = ["twap", "vwap", "pov", "iceberg", "chase"];

/// Target dir of the binary's nested cargo builds: one of their own, kept
/// between runs, so they never wait on the outer `cargo test`.
fn nested_target_dir() -> PathBuf {
    workspace_root().join("target").join("lab-plugins")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    tesser()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", nested_target_dir())
        .args(args)
        .output()
        .expect("run tesser")
}

/// A scratch directory with the scaffold created, built and installed into
/// `plugins/` (once per test process) next to `plugin_chase.wasm`.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), args)
    }
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let lab = Lab {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        ok(&lab.run(&["plugin", "new", SCAFFOLD, "--path", SCAFFOLD]));
        // No hand edits: build exactly what `new` wrote.
        let built = ok(&lab.run(&["plugin", "build", SCAFFOLD, "--out", "plugins"]));
        assert!(built.contains("installed"), "{built}");
        assert!(lab.path("plugins/lab_clip.wasm").is_file());
        std::fs::copy(chase_wasm(), lab.path("plugins/plugin_chase.wasm")).expect("copy chase");
        std::fs::copy(quick_start_wasm(), lab.path("plugins/chase_execution.wasm"))
            .expect("copy the quick start");
        for name in REFERENCE_PLUGINS {
            let crate_dir = workspace_root().join("plugins").join(name);
            let out = lab.path("plugins");
            ok(&lab.run(&[
                "plugin",
                "build",
                crate_dir.to_str().expect("utf-8 path"),
                "--out",
                out.to_str().expect("utf-8 path"),
            ]));
            assert!(
                lab.path(&format!("plugins/{name}.wasm")).is_file(),
                "{name}"
            );
        }
        lab
    })
}

fn dec(value: &Value) -> Decimal {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {value}"));
    Decimal::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn opt_dec(value: &Value) -> Option<Decimal> {
    (!value.is_null()).then(|| dec(value))
}

#[test]
fn a_fresh_scaffold_builds_tests_and_completes_a_replay() {
    let lab = lab();
    let crate_dir = lab.path(SCAFFOLD);
    for file in ["Cargo.toml", "src/lib.rs", "README.md"] {
        assert!(crate_dir.join(file).is_file(), "scaffold has {file}");
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("[workspace]") && manifest.contains("cdylib"));

    // Its native unit tests pass as generated.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let test = std::process::Command::new(cargo)
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", nested_target_dir())
        .args(["test", "--quiet"])
        .output()
        .expect("cargo test");
    assert!(
        test.status.success(),
        "the scaffold's own tests: {}{}",
        stdout(&test),
        stderr(&test)
    );

    ok(&lab.run(&[
        "data", "generate", "--out", "gen.csv", "--trades", "5000", "--seed", "7",
    ]));
    let table = ok(&lab.run(&[
        "plugin",
        "replay",
        SCAFFOLD_WASM,
        "--plugins-dir",
        "plugins",
        "--data",
        "gen.csv",
        "--side",
        "buy",
        "--qty",
        "2",
        "--json",
        "gen.json",
    ]));
    assert!(
        table.contains(SCAFFOLD_WASM) && table.contains("completed"),
        "{table}"
    );
    let runs: Value =
        serde_json::from_str(&std::fs::read_to_string(lab.path("gen.json")).expect("json"))
            .expect("parse");
    let run = &runs[0];
    assert_eq!(run["plugin"], SCAFFOLD_WASM);
    assert_eq!(run["status"], "completed", "{run:#}");
    assert_eq!(dec(&run["fill_ratio"]), Decimal::ONE);
    assert!(
        run["child_orders"]["limit"].as_u64().unwrap_or(0) >= 4,
        "{run:#}"
    );
}

/// One trade of the CSV.
struct Trade {
    time: i64,
    price: Decimal,
    size: Decimal,
}

/// Reads the CSV with nothing but the standard library.
fn read_csv(path: &Path) -> Vec<Trade> {
    std::fs::read_to_string(path)
        .expect("read csv")
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            Trade {
                time: cols[0].parse().expect("time"),
                price: Decimal::from_str(cols[2]).expect("price"),
                size: Decimal::from_str(cols[3]).expect("size"),
            }
        })
        .collect()
}

/// `tesser plugin replay PLUGINS… OPTIONS… --json JSON` of a buy of 10 on
/// the Kraken trades, from the lab's plugins: (the printed table, the JSON).
fn kraken_replay(plugins: &[&str], options: &[&str], json: &str) -> (String, Value) {
    let lab = lab();
    let data = kraken_trades();
    let mut args = vec!["plugin", "replay"];
    args.extend_from_slice(plugins);
    args.extend_from_slice(options);
    let data = data.to_str().expect("utf-8 path");
    args.extend_from_slice(&["--plugins-dir", "plugins", "--data", data]);
    args.extend_from_slice(&["--side", "buy", "--qty", "10", "--json", json]);
    let table = ok(&lab.run(&args));
    let runs = serde_json::from_str(&std::fs::read_to_string(lab.path(json)).expect("json"))
        .expect("parse");
    (table, runs)
}

/// The comparison on Kraken trades, run once: (JSON figures, report path).
fn kraken_comparison() -> &'static (Value, PathBuf) {
    static RUN: OnceLock<(Value, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        // The issue's command, as a user types it: each plugin on its defaults.
        let (table, runs) = kraken_replay(
            &["twap", "--compare", "vwap", "pov", "iceberg", "chase"],
            &["--report", "kraken.html"],
            "kraken.json",
        );
        for name in REFERENCE_PLUGINS {
            assert!(
                table.contains(name),
                "{name} missing from the table:\n{table}"
            );
        }
        eprintln!("{table}");
        (runs, lab().path("kraken.html"))
    })
}

/// `plugin replay chase_execution` (the SDK's quick start, which counts a
/// slice done when it sends it and completes with its last slices still
/// resting) for 3 BTC on the Kraken hour, with `extra` options.
fn quick_start_replay(extra: &[&str], json: &str) -> (String, Value) {
    let lab = lab();
    let data = kraken_trades();
    let mut args = vec!["plugin", "replay", "chase_execution"];
    args.extend_from_slice(&["--plugins-dir", "plugins", "--data"]);
    args.push(data.to_str().expect("utf-8 path"));
    args.extend_from_slice(&["--side", "buy", "--qty", "3", "--json", json]);
    args.extend_from_slice(extra);
    let table = ok(&lab.run(&args));
    let runs: Value = serde_json::from_str(&std::fs::read_to_string(lab.path(json)).expect("json"))
        .expect("parse");
    (table, runs.get(0).cloned().expect("one run"))
}

/// The run's status, filled and unfilled quantities agree with its fills.
fn assert_says_how_far_it_got(run: &Value) -> Decimal {
    let filled: Decimal = run["fills"]
        .as_array()
        .expect("fills")
        .iter()
        .map(|f| dec(&f["quantity"]))
        .sum();
    assert_eq!(dec(&run["filled"]), filled, "{run:#}");
    assert_eq!(dec(&run["unfilled"]), dec!(3) - filled, "{run:#}");
    let reason = run["reason"].as_str().unwrap_or_default();
    if filled == dec!(3) {
        assert_eq!(run["status"], "completed", "{run:#}");
    } else {
        assert_eq!(
            run["status"], "partial",
            "completed means filled == target: {run:#}"
        );
        assert!(
            reason.contains("plugin completed with")
                && reason.contains(&format!("{} unfilled", (dec!(3) - filled).normalize())),
            "the reason says why and how much: {reason}"
        );
    }
    filled
}

#[test]
fn the_quick_start_says_how_far_it_got_and_its_resting_orders_fill_in_the_grace() {
    let (table, graced) = quick_start_replay(&[], "quick_start.json");
    eprintln!("{table}");
    let graced_filled = assert_says_how_far_it_got(&graced);
    assert!(table.contains("UNFILLED"), "{table}");

    let lab = lab();
    std::fs::write(
        lab.path("no_grace.toml"),
        "[execution]\ncompletion_grace_ms = 0\n",
    )
    .expect("config");
    let (_, at_once) = quick_start_replay(&["--config", "no_grace.toml"], "quick_start_0.json");
    let at_once_filled = assert_says_how_far_it_got(&at_once);
    assert_eq!(
        at_once["status"], "partial",
        "today's behaviour, reported: {at_once:#}"
    );

    // The plugin completed at the same moment in both runs; with the grace,
    // the resting slices that the market traded through afterwards filled
    // and were booked.
    let completed_at = at_once["submitted_ms"].as_i64().expect("ms")
        + at_once["duration_ms"].as_i64().expect("ms");
    let late: Vec<&Value> = graced["fills"]
        .as_array()
        .expect("fills")
        .iter()
        .filter(|f| f["time"].as_i64().expect("time") > completed_at)
        .collect();
    assert!(
        !late.is_empty() && graced_filled > at_once_filled,
        "fills during the grace: {late:?}; filled {graced_filled} against {at_once_filled} without it"
    );
    // The grace is bounded: nothing fills later than 60 s of data after
    // the completion (the algorithm ends at the first print past that).
    let last_fill = graced["fills"]
        .as_array()
        .expect("fills")
        .iter()
        .filter_map(|f| f["time"].as_i64())
        .max()
        .expect("fills");
    assert!(
        last_fill <= completed_at + 60_000,
        "a fill at {last_fill}, after the grace that ended at {}",
        completed_at + 60_000
    );
}

#[test]
fn a_parallel_comparison_equals_the_sequential_one() {
    // The comparison runs the five plugins at once (as many as the cores);
    // one at a time, every figure and every fill is the same.
    let (parallel, _) = kraken_comparison();
    let (_, sequential) = kraken_replay(
        &["twap", "--compare", "vwap", "pov", "iceberg", "chase"],
        &["--jobs", "1"],
        "kraken-sequential.json",
    );
    assert_eq!(parallel.as_array().map(Vec::len), Some(5));
    assert_eq!(&sequential, parallel);
}

/// Components built for plugin ABI 2.0 (`tests/fixtures/abi-2.0`, frozen
/// before 3.0) load and run unchanged: the same chase and TWAP built from
/// today's source fill the same trades at the same prices, figure for figure.
#[test]
fn components_built_for_abi_2_run_unchanged() {
    let lab = lab();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/abi-2.0");
    for name in ["chase", "twap"] {
        std::fs::copy(
            fixtures.join(format!("{name}.wasm")),
            lab.path(&format!("plugins/{name}_abi2.wasm")),
        )
        .expect("copy the 2.0 component");
        let inspected = ok(&lab.run(&[
            "plugin",
            "inspect",
            &format!("{name}_abi2"),
            "--plugins-dir",
            "plugins",
        ]));
        assert!(inspected.contains("abi version:  2.0.0"), "{inspected}");
    }
    let (_, runs) = kraken_replay(
        &["chase", "--compare", "chase_abi2", "twap", "twap_abi2"],
        &[],
        "abi2.json",
    );
    let runs = runs.as_array().expect("a list of runs");
    assert_eq!(runs.len(), 4);
    let without_name = |run: &Value| {
        let mut run = run.clone();
        run.as_object_mut().expect("a run").remove("plugin");
        run
    };
    for pair in runs.chunks(2) {
        let fills = pair[0]["fills"].as_array().expect("fills");
        assert!(fills.len() > 5, "a real execution: {}", pair[0]);
        assert_eq!(
            without_name(&pair[1]),
            without_name(&pair[0]),
            "{} differs from {} built from today's source",
            pair[1]["plugin"],
            pair[0]["plugin"]
        );
    }
}

#[test]
fn a_latency_of_zero_is_todays_model_and_a_positive_one_delays_every_fill() {
    let (today, _) = kraken_comparison();
    let by_name = |runs: &Value, name: &str| -> Value {
        runs.as_array()
            .expect("runs")
            .iter()
            .find(|r| r["plugin"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {runs}"))
    };
    let plugins = ["twap", "--compare", "pov", "chase"];
    let (_, zero) = kraken_replay(&plugins, &["--latency-ms", "0"], "latency-0.json");
    let (_, slow) = kraken_replay(&plugins, &["--latency-ms", "2000"], "latency-2000.json");
    let first_fill = |run: &Value| -> i64 {
        run["fills"]
            .as_array()
            .expect("fills")
            .iter()
            .map(|f| f["time"].as_i64().expect("time"))
            .min()
            .expect("a fill")
    };
    let mut changed = false;
    for name in ["twap", "pov", "chase"] {
        let (zero, slow) = (by_name(&zero, name), by_name(&slow, name));
        assert_eq!(
            zero,
            by_name(today, name),
            "{name}: latency 0 is today's run"
        );
        let submitted = slow["submitted_ms"].as_i64().expect("submitted");
        assert!(
            first_fill(&slow) >= submitted + 2000,
            "{name}: nothing fills before the first order arrives"
        );
        assert!(
            first_fill(&slow) >= first_fill(&zero),
            "{name}: the first fill comes no sooner"
        );
        changed |= slow["fills"] != zero["fills"];
    }
    assert!(changed, "a 2 s latency changes the fills");
}

#[test]
fn params_for_one_plugin_leave_the_others_on_theirs() {
    let (defaults, _) = kraken_comparison();
    let (_, runs) = kraken_replay(
        &["twap", "--compare", "vwap"],
        &["--params-for", r#"twap={"duration_ms": 600000}"#],
        "params_for.json",
    );
    let run_of = |runs: &Value, name: &str| -> Value {
        runs.as_array()
            .expect("array")
            .iter()
            .find(|r| r["plugin"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {runs:#}"))
    };
    // TWAP over 10 minutes instead of its default 30 finishes about then
    // (its buckets, then the rest at market on the next trades)…
    let twap = run_of(&runs, "twap");
    let default_twap = run_of(defaults, "twap");
    assert_eq!(twap["status"], "completed", "{twap:#}");
    let duration = twap["duration_ms"].as_i64().expect("duration");
    assert!(duration < 660_000, "twap took {duration} ms on 10 minutes");
    assert!(
        duration < default_twap["duration_ms"].as_i64().expect("duration"),
        "{twap:#}"
    );
    // …while VWAP, given no params of its own, runs exactly as on its defaults.
    let vwap = run_of(&runs, "vwap");
    assert_eq!(vwap, run_of(defaults, "vwap"));
}

fn bps(price: Decimal, reference: Decimal) -> Decimal {
    // Buy side: positive = paid above the reference.
    (price - reference) / reference * Decimal::from(10_000)
}

fn assert_close(what: &str, got: Option<Decimal>, want: Decimal, tolerance: Decimal) {
    let got = got.unwrap_or_else(|| panic!("{what}: missing"));
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: reported {got}, computed {want}"
    );
}

#[test]
fn comparison_on_real_trades_matches_an_independent_computation() {
    let (runs, _) = kraken_comparison();
    let trades = read_csv(&kraken_trades());
    let runs = runs.as_array().expect("array");
    let names: Vec<&str> = runs.iter().filter_map(|r| r["plugin"].as_str()).collect();
    assert_eq!(names, REFERENCE_PLUGINS);
    let first = &trades[0];
    let target = Decimal::from(10);
    let price_tolerance = Decimal::new(1, 8);
    let bps_tolerance = Decimal::new(1, 4);
    for run in runs {
        let name = run["plugin"].as_str().expect("name");
        let fills = run["fills"].as_array().expect("fills");
        assert!(!fills.is_empty(), "{name} filled nothing: {run:#}");
        assert_eq!(dec(&run["arrival_price"]), first.price, "{name}: arrival");

        let mut notional = Decimal::ZERO;
        let mut filled = Decimal::ZERO;
        let mut last_fill = first.time;
        for fill in fills {
            assert_eq!(fill["side"], "buy");
            let (price, quantity) = (dec(&fill["price"]), dec(&fill["quantity"]));
            let time = fill["time"].as_i64().expect("time");
            assert!(quantity > Decimal::ZERO && time >= first.time);
            // A fill happens on a print of the data.
            assert!(
                trades.iter().any(|t| t.time == time),
                "{name}: fill at {time} is on no trade"
            );
            notional += price * quantity;
            filled += quantity;
            last_fill = last_fill.max(time);
        }
        assert!(filled <= target, "{name}: overfilled {filled}");
        let avg = notional / filled;
        assert_close(
            &format!("{name} avg_price"),
            opt_dec(&run["avg_price"]),
            avg,
            price_tolerance,
        );
        assert_close(
            &format!("{name} shortfall_bps"),
            opt_dec(&run["shortfall_bps"]),
            bps(avg, first.price),
            bps_tolerance,
        );
        assert_close(
            &format!("{name} fill_ratio"),
            opt_dec(&run["fill_ratio"]),
            filled / target,
            Decimal::new(1, 8),
        );

        // The execution window: submission (the first trade) to completion,
        // or to the last fill when the data ran out first.
        let status = run["status"].as_str().expect("status");
        let duration = run["duration_ms"].as_i64().expect("duration");
        let window_end = if status == "working" {
            last_fill
        } else {
            first.time + duration
        };
        if status == "completed" {
            assert_eq!(filled, target, "{name}: completed means all filled");
            assert_eq!(window_end, last_fill, "{name}: completes on its last fill");
        }
        assert!(duration >= 0 && first.time + duration <= trades.last().expect("trades").time);
        let (mut market_notional, mut volume) = (Decimal::ZERO, Decimal::ZERO);
        for trade in trades
            .iter()
            .filter(|t| t.time >= first.time && t.time <= window_end)
        {
            market_notional += trade.price * trade.size;
            volume += trade.size;
        }
        let vwap = market_notional / volume;
        assert_close(
            &format!("{name} market_vwap"),
            opt_dec(&run["market_vwap"]),
            vwap,
            price_tolerance,
        );
        assert_close(
            &format!("{name} vwap_slippage_bps"),
            opt_dec(&run["vwap_slippage_bps"]),
            bps(avg, vwap),
            bps_tolerance,
        );

        let children: BTreeMap<String, u64> =
            serde_json::from_value(run["child_orders"].clone()).expect("child orders by kind");
        let total: u64 = children.values().sum();
        assert!(total >= 1, "{name}: child orders {children:?}");
        assert!(
            children
                .keys()
                .all(|kind| kind == "limit" || kind == "market"),
            "{name}: {children:?}"
        );
        assert_eq!(status, "completed", "{name} did not complete: {run:#}");
    }
    // Different algorithms: different executions.
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            assert_ne!(
                a["fills"], b["fills"],
                "{} and {}",
                a["plugin"], b["plugin"]
            );
        }
    }
}

fn chromium() -> PathBuf {
    let path = PathBuf::from("/usr/bin/chromium");
    assert!(
        path.is_file(),
        "/usr/bin/chromium is missing: install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` (.ci/run does)"
    );
    path
}

/// The DOM of `file` after headless Chromium loaded and rendered it.
fn rendered_dom(file: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let output = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!(
            "file://{}",
            file.canonicalize().expect("report").display()
        ))
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "chromium: {}", stderr(&output));
    stdout(&output)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_html_report_renders_the_chart_and_the_figures_in_chromium() {
    let (runs, report) = kraken_comparison();
    let html = std::fs::read_to_string(report).expect("report");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );

    let dom = rendered_dom(report);
    assert!(dom.contains(r#"<svg id="price-chart""#), "chart in the DOM");
    let path_start = dom
        .find(r#"<polyline id="price-path""#)
        .expect("price path");
    let points_attr = &dom[path_start..];
    let points_attr = &points_attr[points_attr.find("points=\"").expect("points") + 8..];
    let points = points_attr[..points_attr.find('"').expect("end")]
        .split_whitespace()
        .count();
    assert!((2..=2000).contains(&points), "{points} points");

    let total_fills: usize = runs
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["fills"].as_array().expect("fills").len())
        .sum();
    assert_eq!(count(&dom, r#"class="fill-marker""#), total_fills);
    for run in runs.as_array().expect("runs") {
        let name = run["plugin"].as_str().expect("name");
        let fills = run["fills"].as_array().expect("fills").len();
        assert_eq!(
            count(
                &dom,
                &format!(r#"class="fill-marker" data-plugin="{name}""#)
            ),
            fills,
            "{name}: one marker per fill"
        );
        assert!(dom.contains(&format!(r#"<li class="legend-item" data-plugin="{name}""#)));
        let row_start = dom
            .find(&format!(r#"<tr data-plugin="{name}""#))
            .unwrap_or_else(|| panic!("{name}: figures row"));
        let row = &dom[row_start..];
        let row = &row[..row.find("</tr>").expect("row end")];
        for key in [
            "arrival_price",
            "avg_price",
            "shortfall_bps",
            "market_vwap",
            "vwap_slippage_bps",
            "fill_ratio",
            "duration_ms",
            "status",
            "unfilled",
        ] {
            let want = match &run[key] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert!(
                row.contains(&format!(r#"<td data-figure="{key}">{want}</td>"#)),
                "{name}: {key} = {want} in {row}"
            );
        }
        // The execution schedule: one cumulative line per plugin, ending at
        // what it filled.
        assert!(
            dom.contains(&format!(
                r#"<polyline class="filled-path" data-plugin="{name}" data-filled="{}""#,
                run["filled"].as_str().expect("filled")
            )),
            "{name}: filled-quantity line"
        );
        if let Some(vwap) = run["market_vwap"].as_str() {
            assert!(
                dom.contains(&format!(
                    r#"<line class="vwap-line" data-plugin="{name}" data-price="{vwap}""#
                )),
                "{name}: market VWAP line"
            );
        }
    }
    let arrival = runs[0]["arrival_price"].as_str().expect("arrival");
    assert!(dom.contains(&format!(
        r#"<line id="arrival-line" data-price="{arrival}""#
    )));

    // A UTC clock-time axis, never raw epoch milliseconds.
    assert!(
        dom.contains("time (UTC, 2019-07-01)"),
        "the axis names UTC and the date"
    );
    let ticks = count(&dom, r#"class="axis time-tick""#);
    assert!(ticks >= 9, "time ticks on the three charts: {ticks}");
    let first_ms = read_csv(&kraken_trades())[0].time;
    assert!(
        !dom.contains(&format!("{first_ms} ms")),
        "no raw epoch ms label"
    );
    let tick_start = dom.find(r#"class="axis time-tick""#).expect("a tick");
    let label = &dom[tick_start..];
    let label = &label[label.find('>').expect("tag end") + 1..];
    let label = &label[..label.find('<').expect("text end")];
    let bytes = label.as_bytes();
    assert!(
        label.len() >= 8 && bytes[2] == b':' && bytes[5] == b':',
        "HH:MM:SS label, got {label}"
    );

    // Zoomed to the execution window, with the whole file as an overview.
    assert!(dom.contains(r#"<svg id="overview-chart""#));
    assert!(dom.contains(r#"<polyline id="overview-path""#));
    assert!(dom.contains(r#"<svg id="filled-chart""#));
    let window = &dom[dom.find(r#"<rect id="overview-window""#).expect("window")..];
    let attr = |name: &str| -> i64 {
        let start = window.find(&format!(r#"{name}=""#)).expect(name) + name.len() + 2;
        window[start..start + window[start..].find('"').expect("quote")]
            .parse()
            .expect("ms")
    };
    let (from, to) = (attr("data-from-ms"), attr("data-to-ms"));
    let trades = read_csv(&kraken_trades());
    let span = trades[trades.len() - 1].time - trades[0].time;
    assert!(
        to - from < span / 2,
        "zoomed: {from}..{to} of a {span} ms file"
    );
    let last_fill = runs
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|r| r["fills"].as_array().expect("fills"))
        .map(|f| f["time"].as_i64().expect("time"))
        .max()
        .expect("fills");
    assert!(to >= last_fill, "every fill is inside the zoomed window");

    // The fill model the lab assumed is stated in the report itself.
    let model = &dom[dom
        .find(r#"<section id="fill-model">"#)
        .expect("fill model")..];
    for words in ["trade-through", "Queue position", "Fees", "Latency"] {
        assert!(model.contains(words), "fill model states {words}");
    }
}

#[test]
fn inspect_and_list_show_metadata_and_schema() {
    let lab = lab();
    let text = ok(&lab.run(&[
        "plugin",
        "inspect",
        SCAFFOLD_WASM,
        "--plugins-dir",
        "plugins",
    ]));
    for want in [
        "name:         lab-clip",
        "version:      0.1.0",
        "abi version:  ",
        "tesser:plugin/guest",
        "on-tick",
        "\"clip_size\"",
        "\"offset_ticks\"",
    ] {
        assert!(text.contains(want), "inspect shows {want}: {text}");
    }
    let by_file = ok(&lab.run(&["plugin", "inspect", "plugins/plugin_chase.wasm", "--json"]));
    let info: Value = serde_json::from_str(&by_file).expect("inspect json");
    assert_eq!(info["name"], "plugin-chase");
    assert!(
        info["params_schema"]["properties"]["clip_size"].is_object(),
        "{info:#}"
    );
    assert!(info["size_bytes"].as_u64().unwrap_or(0) > 1000);

    // A broken file shows its error in its own row; the others still list.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(
        lab.path("plugins/lab_clip.wasm"),
        dir.path().join("lab_clip.wasm"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("broken.wasm"), b"not wasm at all").expect("write");
    let listed = run_in(dir.path(), &["plugin", "list", "--plugins-dir", "."]);
    let table = ok(&listed);
    let broken = table
        .lines()
        .find(|l| l.starts_with("broken.wasm"))
        .expect("broken row");
    assert!(
        broken.contains("ERROR") && broken.contains("not a WebAssembly"),
        "{table}"
    );
    let good = table
        .lines()
        .find(|l| l.starts_with("lab_clip.wasm"))
        .expect("good row");
    assert!(
        good.contains("lab-clip") && good.contains("0.1.0"),
        "{table}"
    );
    let json: Value = serde_json::from_str(&ok(&run_in(
        dir.path(),
        &["plugin", "list", "--plugins-dir", ".", "--json"],
    )))
    .expect("list json");
    assert_eq!(json.as_array().expect("array").len(), 2);
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let lab = lab();
    let data = kraken_trades();
    let data = data.to_str().expect("utf-8");
    let replay = |extra: &[&str]| {
        let mut args = vec!["plugin", "replay"];
        args.extend_from_slice(extra);
        error_line(&lab.run(&args))
    };
    let base = ["--plugins-dir", "plugins", "--side", "buy"];
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            [&["nope", "--data", data, "--qty", "1"][..], &base].concat(),
            &["plugin 'nope' not found", "plugins", "tesser plugin build"],
        ),
        (
            [
                &[
                    SCAFFOLD_WASM,
                    "--compare",
                    "ghost",
                    "--data",
                    data,
                    "--qty",
                    "1",
                ][..],
                &base,
            ]
            .concat(),
            &["plugin 'ghost' not found"],
        ),
        (
            [
                &[SCAFFOLD_WASM, "--data", "missing.csv", "--qty", "1"][..],
                &base,
            ]
            .concat(),
            &["data file missing.csv not found", "tesser data generate"],
        ),
        (
            [
                &[
                    SCAFFOLD_WASM,
                    "--data",
                    data,
                    "--qty",
                    "1",
                    "--params",
                    "{clip",
                ][..],
                &base,
            ]
            .concat(),
            &["--params is not valid JSON", "clip_size"],
        ),
        (
            [&[SCAFFOLD_WASM, "--data", data, "--qty", "0"][..], &base].concat(),
            &["--qty must be positive, got 0"],
        ),
        (
            [
                &[SCAFFOLD_WASM, "--data", data, "--qty", "1", "--jobs", "0"][..],
                &base,
            ]
            .concat(),
            &["--jobs must be at least 1", "--jobs 2"],
        ),
        (
            [
                &[
                    SCAFFOLD_WASM,
                    "--data",
                    data,
                    "--qty",
                    "1",
                    "--latency-ms",
                    "-5",
                ][..],
                &base,
            ]
            .concat(),
            &["--latency-ms must not be negative, got -5"],
        ),
        (
            [
                &[
                    "twap",
                    "--compare",
                    "vwap",
                    "--params-for",
                    "ghost={}",
                    "--data",
                    data,
                    "--qty",
                    "1",
                ][..],
                &base,
            ]
            .concat(),
            &["--params-for ghost: no plugin 'ghost' in this replay (it runs twap, vwap)"],
        ),
        (
            [
                &["twap", "--params-for", "twap", "--data", data, "--qty", "1"][..],
                &base,
            ]
            .concat(),
            &["--params-for takes NAME=JSON, got 'twap'"],
        ),
        (
            [
                &[
                    "twap",
                    "--params-for",
                    "twap={oops",
                    "--data",
                    data,
                    "--qty",
                    "1",
                ][..],
                &base,
            ]
            .concat(),
            &["--params-for twap is not valid JSON"],
        ),
        (
            [&[SCAFFOLD_WASM, "--data", data, "--qty", "-2"][..], &base].concat(),
            &["--qty must be positive, got -2"],
        ),
    ];
    for (args, wants) in cases {
        let line = replay(&args);
        for want in wants {
            assert!(line.contains(want), "{args:?}: '{want}' in {line}");
        }
    }

    // A plugin refusing its params is a failed execution, not a crash: the
    // table shows it with the plugin's reason.
    let mut args = vec![
        "plugin",
        "replay",
        SCAFFOLD_WASM,
        "--data",
        data,
        "--qty",
        "1",
    ];
    args.extend_from_slice(&["--params", r#"{"clip_size": "-1"}"#]);
    args.extend_from_slice(&base);
    let refused = ok(&lab.run(&args));
    assert!(
        refused.contains("failed") && refused.contains("clip_size"),
        "{refused}"
    );

    // `new` refuses a non-empty directory and an invalid name.
    let line = error_line(&lab.run(&["plugin", "new", "again", "--path", SCAFFOLD]));
    assert!(line.contains("already exists and is not empty"), "{line}");
    let line = error_line(&lab.run(&["plugin", "new", "9lives"]));
    assert!(line.contains("invalid crate name '9lives'"), "{line}");
    assert!(!lab.path("9lives").exists());

    // `build` outside a crate, and without the wasm target.
    let line = error_line(&lab.run(&["plugin", "build", "plugins"]));
    assert!(line.contains("no Cargo.toml"), "{line}");
    let fake = tempfile::tempdir().expect("dir");
    let rustup = fake.path().join("rustup");
    std::fs::write(&rustup, "#!/bin/sh\necho x86_64-unknown-linux-gnu\n").expect("fake rustup");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&rustup, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        fake.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tesser()
        .current_dir(lab.dir.path())
        .env("PATH", path)
        .args(["plugin", "build", SCAFFOLD, "--out", "plugins-x"])
        .output()
        .expect("run");
    let line = error_line(&output);
    assert!(line.contains("rustup target add wasm32-wasip2"), "{line}");
}
