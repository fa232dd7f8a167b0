//! `tesser plugin sweep` through the real binary: the reference chase
//! across a params grid on the Kraken hour, each combination equal to its
//! own `plugin replay`, the table sorted by shortfall, the HTML report, bad
//! grids refused before anything runs, and Ctrl-C printing what finished.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;

use common::{error_line, kraken_trades, ok, stderr, tesser, workspace_root};

/// A scratch directory with the reference chase built into `plugins/`.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self) -> std::process::Command {
        let mut command = tesser();
        command
            .current_dir(self.dir.path())
            // The lab tests' nested target dir: never the outer build's lock.
            .env(
                "CARGO_TARGET_DIR",
                workspace_root().join("target").join("lab-plugins"),
            );
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run tesser")
    }
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let lab = Lab {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let chase = workspace_root().join("plugins").join("chase");
        ok(&lab.run(&[
            "plugin",
            "build",
            chase.to_str().expect("utf-8"),
            "--out",
            "plugins",
        ]));
        lab
    })
}

/// `tesser plugin sweep chase` (or `replay`) of a buy of 3 on the Kraken
/// hour with `extra` arguments.
fn chase_on_kraken(command: &str, extra: &[&str]) -> Output {
    let data = kraken_trades();
    let mut args = vec!["plugin", command, "chase", "--plugins-dir", "plugins"];
    args.extend_from_slice(&["--data", data.to_str().expect("utf-8")]);
    args.extend_from_slice(&["--side", "buy", "--qty", "3"]);
    args.extend_from_slice(extra);
    lab().run(&args)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json")).expect("parse")
}

const GRID: &str = r#"{"clip_size": ["0.1", "0.5"], "max_chase_bps": [20, 50]}"#;

#[test]
fn a_sweep_scores_every_combination_as_its_own_replay_would() {
    let lab = lab();
    let table = ok(&chase_on_kraken(
        "sweep",
        &[
            "--grid",
            GRID,
            "--json",
            "sweep.json",
            "--report",
            "sweep.html",
        ],
    ));
    let runs = read_json(&lab.path("sweep.json"));
    let runs = runs.as_array().expect("array");
    assert_eq!(runs.len(), 4, "2 × 2 combinations: {runs:?}");
    // Sorted by shortfall, lowest cost first, in the JSON and the table.
    let shortfalls: Vec<Decimal> = runs
        .iter()
        .map(|r| {
            r["run"]["shortfall_bps"]
                .as_str()
                .expect("a shortfall")
                .parse()
                .expect("decimal")
        })
        .collect();
    assert!(
        shortfalls.windows(2).all(|w| w[0] <= w[1]),
        "{shortfalls:?}"
    );
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{table}");
    for (row, shortfall) in rows.iter().zip(&shortfalls) {
        assert!(row.contains(&shortfall.to_string()), "{row} / {shortfall}");
    }
    // Each combination's figures are those of a replay with its params.
    for run in runs {
        let params = run["params"].to_string();
        let json = format!(
            "replay-{}.json",
            run["combination"]["clip_size"].as_str().unwrap_or("x")
        );
        ok(&chase_on_kraken(
            "replay",
            &["--params", &params, "--json", &json],
        ));
        let replay = read_json(&lab.path(&json));
        assert_eq!(run["run"], replay[0], "{params}");
    }
    // The report: one bar per combination, with its shortfall.
    let html = std::fs::read_to_string(lab.path("sweep.html")).expect("report");
    assert!(html.contains(r#"<svg id="shortfall-chart""#));
    assert_eq!(html.matches(r#"class="shortfall-bar""#).count(), 4);
    for shortfall in &shortfalls {
        assert!(html.contains(&format!(r#"data-shortfall-bps="{shortfall}""#)));
    }
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}

#[test]
fn bad_grids_are_refused_before_anything_runs() {
    for (grid, says) in [
        (r#"["clip_size"]"#, "--grid must be a JSON object of arrays"),
        ("{}", "--grid is empty"),
        (
            r#"{"clip_size": "0.1"}"#,
            "--grid key clip_size must map to an array",
        ),
        (
            r#"{"clip": ["0.1"]}"#,
            "plugin chase refuses the combination clip=0.1",
        ),
        (
            r#"{"clip_size": ["0.1", "-1"]}"#,
            "plugin chase refuses the combination clip_size=-1",
        ),
    ] {
        let output = chase_on_kraken("sweep", &["--grid", grid]);
        let line = error_line(&output);
        assert!(line.contains(says), "{grid}: {line}");
        assert!(
            !stderr(&output).contains("finished"),
            "{grid}: nothing ran: {}",
            stderr(&output)
        );
    }
}

#[test]
fn ctrl_c_prints_what_finished() {
    let data = kraken_trades();
    let grid = r#"{"clip_size": ["0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4", "0.45", "0.5"], "max_chase_bps": [10, 20, 30, 40, 50]}"#;
    let mut child = lab()
        .command()
        .args(["plugin", "sweep", "chase", "--plugins-dir", "plugins"])
        .args(["--data", data.to_str().expect("utf-8")])
        .args(["--side", "buy", "--qty", "3", "--jobs", "1", "--grid", grid])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let started = Instant::now();
    let mut finished = 0;
    while finished < 2 {
        let line = lines.next().expect("a line").expect("utf-8");
        if line.starts_with("finished ") {
            finished += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "too slow");
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let output = child.wait_with_output().expect("wait");
    assert!(!output.status.success(), "an interrupted sweep fails");
    let last = rest.last().cloned().unwrap_or_default();
    assert!(last.contains("interrupted: "), "{rest:?}");
    assert!(last.contains(" of 50 combinations finished"), "{last}");
    let done: usize = last
        .split("interrupted: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!((2..50).contains(&done), "{last}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        table.lines().count(),
        done + 1,
        "the finished ones:\n{table}"
    );
}
