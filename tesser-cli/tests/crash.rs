//! Crash recovery with a real process: `tesser live run` on the real trades,
//! killed with SIGKILL at seeded random moments and restarted each time, ends
//! with exactly the target filled, no client order id sent twice, and a fill
//! journal equal to the exchange's fills. The SDK's quick start, which keeps
//! no state, goes on after each restart instead of stalling, and a kill while
//! an algorithm is finishing changes none of its fills.

mod common;

use std::collections::BTreeSet;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient as _, Fill};
use tesser_execution::{AlgorithmStatus, StateStore};
use tesser_paper::PaperExchange;

use common::{SplitMix, chase_wasm, quick_start_wasm, workspace_root};

const TARGET: Decimal = dec!(5);
const KILL_POINTS: usize = 6;

fn kraken_hour() -> Option<PathBuf> {
    let trades = workspace_root().join("../shared/data/kraken-btcusd-2019-07-01T00.csv");
    if trades.is_file() {
        Some(trades)
    } else {
        eprintln!("skipped: {} is not here", trades.display());
        None
    }
}

/// One `tesser live run` set-up in a temporary directory: a plugin, a
/// scripted strategy that buys `target` after 20 ticks with it, and a state
/// file that every run of the same set-up resumes.
struct LiveRun {
    dir: tempfile::TempDir,
    trades: PathBuf,
    timer_ms: u32,
}

impl LiveRun {
    fn new(
        trades: PathBuf,
        wasm: &Path,
        plugin: &str,
        params: &str,
        target: Decimal,
        timer_ms: u32,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("plugins")).expect("plugins dir");
        std::fs::copy(wasm, dir.path().join(format!("plugins/{plugin}.wasm"))).expect("copy");
        std::fs::write(
            dir.path().join("strategy.toml"),
            format!(
                "strategy_name = \"scripted\"\nsymbol = \"BTCUSD\"\n\n[[params.signals]]\nkind = \"enter_long\"\nquantity = \"{target}\"\nafter_ticks = 20\n\n[execution]\nplugin = \"{plugin}\"\nparams = {params}\n"
            ),
        )
        .expect("strategy");
        Self {
            dir,
            trades,
            timer_ms,
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state.sqlite")
    }

    fn command(&self, speed: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tesser"));
        command
            .current_dir(self.dir.path())
            .env_remove("TESSER_LOG")
            .args(["live", "run", "--strategy-config", "strategy.toml"])
            .args(["--plugins-dir", "plugins", "--state-path", "state.sqlite"])
            .arg("--data")
            .arg(&self.trades)
            .args(["--timer-ms", &self.timer_ms.to_string(), "--no-progress"])
            .args(["--speed", speed]);
        command
    }

    fn spawn(&self, speed: &str) -> Child {
        self.command(speed)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tesser")
    }

    /// The algorithm's status and the journal's filled quantity, when the
    /// state file can be read (a file another process writes may be busy).
    fn progress(&self) -> Option<(AlgorithmStatus, Decimal)> {
        let store = StateStore::open(self.state()).ok()?;
        let status = store.algorithms().ok()?.first()?.status;
        let filled = store.fills().ok()?.iter().map(|e| e.fill.quantity).sum();
        Some((status, filled))
    }

    /// Runs to the end of the data at full speed and returns the summary's
    /// one algorithm.
    fn finish(&self) -> serde_json::Value {
        let output = self
            .command("max")
            .args(["--summary-json", "summary.json"])
            .output()
            .expect("final run");
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "final run failed: {log}");
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.path().join("summary.json")).expect("summary"),
        )
        .expect("summary JSON");
        let algos = summary["algorithms"].as_array().expect("algorithms");
        assert_eq!(algos.len(), 1, "one signal, one algorithm: {summary}");
        algos[0].clone()
    }

    /// The paper exchange's fills, checked exactly-once against what it
    /// received and the fill journal: no client order id reached it twice,
    /// and the journal holds each of its fills once.
    fn exchange_fills_checked(&self) -> Vec<(String, String, Decimal, Decimal)> {
        let store = StateStore::open(self.state()).expect("state file");
        let exchange: PaperExchange =
            serde_json::from_str(&store.meta("paper_exchange").expect("meta").expect("saved"))
                .expect("exchange JSON");
        let received: Vec<String> = serde_json::from_str(
            &store
                .meta("paper_received_orders")
                .expect("meta")
                .expect("saved"),
        )
        .expect("received JSON");
        let unique: BTreeSet<&String> = received.iter().collect();
        assert_eq!(
            unique.len(),
            received.len(),
            "a client order id reached the exchange twice: {received:?}"
        );
        let key = |f: &Fill| {
            (
                f.fill_id.clone(),
                f.client_order_id.to_string(),
                f.price,
                f.quantity,
            )
        };
        let journal = store.fills().expect("journal");
        let journal_fills: BTreeSet<_> = journal.iter().map(|e| key(&e.fill)).collect();
        let exchange_fills: Vec<_> = exchange.fills().iter().map(key).collect();
        assert_eq!(
            journal.len(),
            journal_fills.len(),
            "a fill was journaled twice"
        );
        assert_eq!(
            journal_fills,
            exchange_fills.iter().cloned().collect::<BTreeSet<_>>(),
            "journal and exchange disagree"
        );
        assert!(
            exchange.open_orders().expect("open").is_empty(),
            "an order of an ended algorithm rests on the exchange"
        );
        exchange_fills
    }
}

/// Kills `run` at `KILL_POINTS` seeded random moments from 400 ms to 2 s
/// after each start (60x real time) and returns how many kills landed while
/// the algorithm was working and not yet filled.
fn kill_at_random_points(run: &LiveRun, seed: u64, target: Decimal) -> usize {
    let mut rng = SplitMix(seed);
    let mut cursors = Vec::new();
    let mut mid_execution = 0;
    for point in 0..KILL_POINTS {
        let mut child = run.spawn("60");
        let delay = rng.millis(400, 2_000);
        let started = Instant::now();
        while started.elapsed() < delay {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("kill point {point}: tesser ended ({status}) before the kill at {delay:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().expect("SIGKILL"); // `kill` sends SIGKILL on Unix
        child.wait().expect("reap");
        let store = StateStore::open(run.state()).expect("state file after a kill");
        let cursor = store.meta("data_cursor").expect("meta").unwrap_or_default();
        let (status, filled) = run
            .progress()
            .unwrap_or((AlgorithmStatus::Working, dec!(0)));
        eprintln!("kill {point} after {delay:?}: cursor {cursor}, filled {filled}, {status}");
        if status == AlgorithmStatus::Working && filled < target {
            mid_execution += 1;
        }
        cursors.push(cursor);
    }
    assert!(
        cursors.windows(2).any(|w| w[0] != w[1]),
        "the kills landed at different places of the data: {cursors:?}"
    );
    mid_execution
}

/// Starts `run` at `speed`, waits until its algorithm is `finishing`, and
/// kills it there.
fn kill_while_finishing(run: &LiveRun, speed: &str) {
    let mut child = run.spawn(speed);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("tesser ended ({status}) before its algorithm was finishing");
        }
        if run
            .progress()
            .is_some_and(|(status, _)| status == AlgorithmStatus::Finishing)
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the algorithm never reached finishing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let (status, _) = run.progress().expect("state after the kill");
    assert_eq!(status, AlgorithmStatus::Finishing, "killed while finishing");
}

#[test]
fn sigkill_at_random_points_then_restart_fills_exactly_the_target() {
    let Some(trades) = kraken_hour() else {
        return;
    };
    // In 0.02 BTC clips the chase takes about 14 minutes of the data, 14 s
    // at 60x: each run gets killed somewhere inside it.
    let run = LiveRun::new(
        trades,
        chase_wasm(),
        "plugin_chase",
        "{ clip_size = \"0.02\" }",
        TARGET,
        1_000,
    );
    let mid_execution = kill_at_random_points(&run, 0x7e55e7, TARGET);
    assert!(
        mid_execution >= 5,
        "only {mid_execution} of {KILL_POINTS} kills landed while the algorithm was working"
    );
    let algo = run.finish();
    assert_eq!(algo["status"], "completed", "{algo}");
    assert_eq!(algo["filled"], TARGET.to_string(), "{algo}");
    assert_eq!(algo["unfilled"], "0", "{algo}");
    let fills = run.exchange_fills_checked();
    assert_eq!(fills.iter().map(|f| f.3).sum::<Decimal>(), TARGET);
}

/// The SDK's quick start keeps no state (its snapshot is `null`): each
/// restart settles its open orders and starts it again on what is left. A
/// slice every 10 s of data makes 5 BTC last about 8 minutes of data, 8 s at
/// 60x, so the kills land while it works; one more lands while it finishes.
#[test]
fn the_quick_start_killed_mid_execution_goes_on_and_never_stalls() {
    let Some(trades) = kraken_hour() else {
        return;
    };
    let run = LiveRun::new(
        trades,
        quick_start_wasm(),
        "chase_execution",
        "{}",
        TARGET,
        10_000,
    );
    let mid_execution = kill_at_random_points(&run, 0x9b1c_4e55, TARGET);
    assert!(
        mid_execution >= 4,
        "only {mid_execution} of {KILL_POINTS} kills landed while the algorithm was working"
    );
    let (_, before_last) = run.progress().expect("state");
    kill_while_finishing(&run, "60");
    let algo = run.finish();
    let status = algo["status"].as_str().unwrap_or_default();
    assert!(
        status == "completed" || status == "partial",
        "it ends, never stalls: {algo}"
    );
    let fills = run.exchange_fills_checked();
    let filled: Decimal = fills.iter().map(|f| f.3).sum();
    assert_eq!(algo["filled"], filled.normalize().to_string(), "{algo}");
    assert_eq!(
        algo["unfilled"],
        (TARGET - filled).normalize().to_string(),
        "{algo}"
    );
    assert!(filled <= TARGET, "never more than the target: {filled}");
    assert!(
        filled > before_last,
        "it filled more after the last restart in mid-execution: {before_last} then {filled}"
    );
}

/// Killed while finishing (after the plugin completed, with orders open)
/// and restarted, the runtime goes on finishing: the same fills and the
/// same end as a run that was never killed.
#[test]
fn sigkill_while_finishing_ends_with_the_fills_of_an_uninterrupted_run() {
    let Some(trades) = kraken_hour() else {
        return;
    };
    let quick_start = |trades: PathBuf| {
        LiveRun::new(
            trades,
            quick_start_wasm(),
            "chase_execution",
            "{}",
            dec!(3),
            1_000,
        )
    };
    let clean = quick_start(trades.clone());
    let clean_algo = clean.finish();
    let clean_fills = clean.exchange_fills_checked();

    let killed = quick_start(trades);
    kill_while_finishing(&killed, "5");
    let algo = killed.finish();
    assert_eq!(algo["status"], clean_algo["status"], "{algo}");
    assert_eq!(algo["reason"], clean_algo["reason"], "{algo}");
    assert_eq!(algo["filled"], clean_algo["filled"], "{algo}");
    assert_eq!(killed.exchange_fills_checked(), clean_fills);
}
