//! The real `tesser` binary: live paper sessions, resume after Ctrl-C, and
//! one clear error line for every bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{chase_wasm, error_line, stderr, workspace_root};

struct Session {
    dir: tempfile::TempDir,
}

impl Session {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("plugins")).expect("plugins dir");
        std::fs::copy(chase_wasm(), dir.path().join("plugins/plugin_chase.wasm"))
            .expect("copy plugin");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn strategy(&self, plugin: &str, quantity: &str, after_ticks: u32) -> PathBuf {
        self.write(
            "strategy.toml",
            &format!(
                "strategy_name = \"scripted\"\nsymbol = \"BTCUSD\"\n\n[[params.signals]]\nkind = \"enter_long\"\nquantity = \"{quantity}\"\nafter_ticks = {after_ticks}\n\n[execution]\nplugin = \"{plugin}\"\nparams = {{ clip_size = \"0.25\" }}\n"
            ),
        )
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tesser"));
        command
            .current_dir(self.dir.path())
            .env_remove("TESSER_LOG");
        for (key, _) in std::env::vars() {
            if key.starts_with("TESSER_") {
                command.env_remove(key);
            }
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run tesser")
    }

    fn summary(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("summary.json")).expect("summary"))
            .expect("json")
    }
}

/// Whether the state file shows a working algorithm with some fills (a
/// file another process is writing may be busy: then not yet).
fn working_and_partly_filled(state: &Path) -> bool {
    if !state.is_file() {
        return false;
    }
    let Ok(store) = tesser_execution::StateStore::open(state) else {
        return false;
    };
    let working = store.algorithms().is_ok_and(|rows| {
        rows.iter()
            .any(|row| row.status == tesser_execution::AlgorithmStatus::Working)
    });
    working && store.fills().is_ok_and(|fills| !fills.is_empty())
}

fn real_trades() -> Option<PathBuf> {
    let path = workspace_root().join("../shared/data/kraken-btcusd-2019-07-01T00.csv");
    path.is_file().then_some(path)
}

fn assert_completed(summary: &Value, target: &str) {
    let algos = summary["algorithms"].as_array().expect("algorithms");
    assert_eq!(algos.len(), 1, "{summary}");
    let algo = &algos[0];
    assert_eq!(algo["plugin"], "plugin_chase");
    assert_eq!(algo["status"], "completed", "{summary}");
    assert_eq!(algo["target"], target);
    assert_eq!(algo["filled"], target, "filled exactly once: {summary}");
    assert_eq!(algo["unfilled"], "0", "{summary}");
    for key in [
        "id",
        "symbol",
        "side",
        "avg_price",
        "child_orders",
        "reason",
    ] {
        assert!(algo.get(key).is_some(), "summary has {key}");
    }
}

#[test]
fn generated_data_runs_a_session_to_completion() {
    let s = Session::new();
    let generate = s.run(&[
        "data",
        "generate",
        "--out",
        "trades.csv",
        "--trades",
        "5000",
        "--seed",
        "3",
    ]);
    assert!(generate.status.success(), "{}", stderr(&generate));
    s.strategy("plugin_chase", "2", 10);
    let run = s.run(&[
        "live",
        "run",
        "--strategy-config",
        "strategy.toml",
        "--plugins-dir",
        "plugins",
        "--data",
        "trades.csv",
        "--state-path",
        "state.sqlite",
        "--summary-json",
        "summary.json",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("algo-1") && table.contains("completed"),
        "{table}"
    );
    assert_completed(&s.summary(), "2");
}

#[test]
fn the_real_trades_run_from_flags_and_from_a_config_file() {
    let Some(trades) = real_trades() else {
        eprintln!("skipped: ../shared/data is absent");
        return;
    };
    let trades = trades.display().to_string();
    let s = Session::new();
    s.strategy("plugin_chase", "5", 20);
    let run = s.run(&[
        "live",
        "run",
        "--strategy-config",
        "strategy.toml",
        "--plugins-dir",
        "plugins",
        "--data",
        &trades,
        "--state-path",
        "flags.sqlite",
        "--summary-json",
        "summary.json",
        "--speed",
        "max",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_completed(&s.summary(), "5");

    s.write(
        "tesser.toml",
        "[live]\nplugins_dir = \"plugins\"\nstate_path = \"config.sqlite\"\n",
    );
    let run = s.run(&[
        "live",
        "run",
        "--strategy-config",
        "strategy.toml",
        "--config",
        "tesser.toml",
        "--data",
        &trades,
        "--summary-json",
        "summary.json",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_completed(&s.summary(), "5");
    assert!(
        s.path("config.sqlite").is_file(),
        "state_path came from the config file"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_the_same_command_resumes() {
    let s = Session::new();
    let generate = s.run(&[
        "data",
        "generate",
        "--out",
        "trades.csv",
        "--trades",
        "30000",
        "--seed",
        "5",
    ]);
    assert!(generate.status.success(), "{}", stderr(&generate));
    s.strategy("plugin_chase", "5", 5);
    let args = [
        "live",
        "run",
        "--strategy-config",
        "strategy.toml",
        "--plugins-dir",
        "plugins",
        "--data",
        "trades.csv",
        "--state-path",
        "state.sqlite",
        "--summary-json",
        "summary.json",
        // Slow enough that the poll below sees the algorithm working with
        // fills stored on a loaded machine, and the interrupt lands mid-way.
        "--speed",
        "20",
    ];
    let mut child = s
        .command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the algorithm is working and partly filled, then interrupt.
    let started = Instant::now();
    while !working_and_partly_filled(&s.path("state.sqlite")) {
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the session never started"
        );
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "tesser did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    assert!(exit.success(), "a clean stop: {}", stderr(&output));
    let first = s.summary();
    assert_eq!(first["interrupted"], true, "{first}");
    let algo = &first["algorithms"][0];
    assert_eq!(algo["status"], "working", "stopped mid-execution: {first}");

    // The same command again, as fast as possible: it resumes and finishes.
    let mut again: Vec<&str> = args.to_vec();
    let last = again.len() - 1;
    again[last] = "max";
    let run = s.run(&again);
    assert!(run.status.success(), "{}", stderr(&run));
    let second = s.summary();
    assert_eq!(second["interrupted"], false);
    assert_completed(&second, "5");
    assert_eq!(
        second["algorithms"][0]["id"], algo["id"],
        "the same algorithm resumed"
    );
    assert!(
        second["trades"].as_u64().expect("trades") < 30_000,
        "the replay resumed after the saved position"
    );
}

#[test]
fn bad_inputs_fail_with_one_clear_line_and_leave_the_state_intact() {
    let s = Session::new();
    let generate = s.run(&[
        "data",
        "generate",
        "--out",
        "trades.csv",
        "--trades",
        "2000",
        "--seed",
        "9",
    ]);
    assert!(generate.status.success(), "{}", stderr(&generate));
    s.strategy("plugin_chase", "1", 5);
    let base = [
        "live",
        "run",
        "--plugins-dir",
        "plugins",
        "--state-path",
        "state.sqlite",
    ];
    let ok = s.run(
        &[
            &base[..],
            &["--strategy-config", "strategy.toml", "--data", "trades.csv"],
        ]
        .concat(),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let state_before = std::fs::read(s.path("state.sqlite")).expect("state");

    let missing = s.run(
        &[
            &base[..],
            &["--strategy-config", "nope.toml", "--data", "trades.csv"],
        ]
        .concat(),
    );
    let line = error_line(&missing);
    assert!(line.contains("nope.toml"), "{line}");

    s.write(
        "unknown.toml",
        "strategy_name = \"moon\"\nsymbol = \"BTCUSD\"\n[params]\n",
    );
    let unknown = s.run(
        &[
            &base[..],
            &["--strategy-config", "unknown.toml", "--data", "trades.csv"],
        ]
        .concat(),
    );
    let line = error_line(&unknown);
    assert!(
        line.contains("moon") && line.contains("sma_cross") && line.contains("unknown.toml"),
        "{line}"
    );

    s.write(
        "ghost.toml",
        "strategy_name = \"scripted\"\nsymbol = \"BTCUSD\"\n[[params.signals]]\nkind = \"enter_long\"\nafter_ticks = 1\n[execution]\nplugin = \"ghost\"\n",
    );
    let ghost = s.run(
        &[
            &base[..],
            &["--strategy-config", "ghost.toml", "--data", "trades.csv"],
        ]
        .concat(),
    );
    let line = error_line(&ghost);
    assert!(
        line.contains("ghost") && line.contains("plugin_chase"),
        "lists the available plugins: {line}"
    );

    s.write("bad-config.toml", "[risk]\nmax_actions_per_second = -3\n");
    let config = s.run(
        &[
            &base[..],
            &[
                "--strategy-config",
                "strategy.toml",
                "--data",
                "trades.csv",
                "--config",
                "bad-config.toml",
            ],
        ]
        .concat(),
    );
    let line = error_line(&config);
    assert!(
        line.contains("bad-config.toml") && line.contains("max_actions_per_second"),
        "{line}"
    );

    s.write("typo-config.toml", "[live]\nplugin_dir = \"plugins\"\n");
    let typo = s.run(
        &[
            &base[..],
            &[
                "--strategy-config",
                "strategy.toml",
                "--data",
                "trades.csv",
                "--config",
                "typo-config.toml",
            ],
        ]
        .concat(),
    );
    let line = error_line(&typo);
    assert!(
        line.contains("typo-config.toml") && line.contains("plugin_dir"),
        "{line}"
    );

    assert_eq!(
        std::fs::read(s.path("state.sqlite")).expect("state"),
        state_before,
        "state file untouched by refused runs"
    );

    // A malformed line stops the replay with its line number; the state
    // stays usable and a rerun that skips bad lines completes.
    let mut text = std::fs::read_to_string(s.path("trades.csv")).expect("trades");
    let lines: Vec<&str> = text.lines().collect();
    let mut broken: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let mut fields: Vec<&str> = lines[1500].split(',').collect();
    fields[2] = "abc";
    broken[1500] = fields.join(",");
    text = broken.join("\n") + "\n";
    s.write("broken.csv", &text);
    s.strategy("plugin_chase", "1", 5);
    let args = [
        "live",
        "run",
        "--plugins-dir",
        "plugins",
        "--state-path",
        "broken.sqlite",
        "--strategy-config",
        "strategy.toml",
        "--data",
        "broken.csv",
        "--summary-json",
        "summary.json",
    ];
    let bad = s.run(&args);
    let line = error_line(&bad);
    assert!(
        line.contains("broken.csv:1501") && line.contains("abc"),
        "names the file and line: {line}"
    );
    let rerun = s.run(&[&args[..], &["--on-bad-line", "skip"]].concat());
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert!(stderr(&rerun).contains("skipped"), "{}", stderr(&rerun));
}

#[test]
fn help_explains_every_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_tesser"))
        .args(["live", "run", "--help"])
        .output()
        .expect("help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--strategy-config",
        "--plugins-dir",
        "--config",
        "--data",
        "--speed",
        "--exec",
        "--state-path",
        "--timer-ms",
        "--summary-json",
        "--on-bad-line",
    ] {
        assert!(help.contains(flag), "{flag} in help:\n{help}");
    }
}

#[test]
fn a_zero_plugin_memory_limit_is_refused_naming_the_key_and_the_file() {
    let s = Session::new();
    s.strategy("plugin_chase", "1", 5);
    s.write("plugins-config.toml", "[plugins]\nmax_memory_mib = 0\n");
    let output = s.run(&[
        "live",
        "run",
        "--plugins-dir",
        "plugins",
        "--state-path",
        "state.sqlite",
        "--strategy-config",
        "strategy.toml",
        "--data",
        "trades.csv",
        "--config",
        "plugins-config.toml",
    ]);
    let line = error_line(&output);
    assert!(
        line.contains("plugins-config.toml")
            && line.contains("plugins.max_memory_mib")
            && line.contains("got 0"),
        "{line}"
    );
    assert!(
        !s.path("state.sqlite").exists(),
        "no state file for a refused run"
    );
}

#[test]
fn plugin_limits_from_the_config_file_reach_the_running_plugins() {
    let s = Session::new();
    let generate = s.run(&[
        "data",
        "generate",
        "--out",
        "trades.csv",
        "--trades",
        "3000",
        "--seed",
        "4",
    ]);
    assert!(generate.status.success(), "{}", stderr(&generate));
    s.strategy("plugin_chase", "2", 10);
    // plugin-chase logs a sentence when it finishes: more than 10 bytes.
    s.write("tight.toml", "[plugins]\nmax_log_bytes = 10\n");
    let run = s.run(&[
        "live",
        "run",
        "--config",
        "tight.toml",
        "--strategy-config",
        "strategy.toml",
        "--plugins-dir",
        "plugins",
        "--data",
        "trades.csv",
        "--state-path",
        "state.sqlite",
        "--summary-json",
        "summary.json",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = s.summary();
    let algo = &summary["algorithms"][0];
    assert_eq!(algo["status"], "failed", "{summary}");
    let reason = algo["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("max_log_bytes = 10"), "{reason}");
}
