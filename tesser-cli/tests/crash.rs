//! Crash recovery with a real process: `tesser live run` on the real trades,
//! killed with SIGKILL at seeded random moments and restarted each time, ends
//! with exactly the target filled, no client order id sent twice, and a fill
//! journal equal to the exchange's fills.

mod common;

use std::collections::BTreeSet;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_execution::{AlgorithmStatus, StateStore};
use tesser_paper::PaperExchange;

use common::{chase_wasm, workspace_root};

/// A small deterministic generator (SplitMix64), so the kill points are the
/// same on every run of the test.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration in `[low, high)` milliseconds.
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low))
    }
}

const TARGET: Decimal = dec!(5);
const KILL_POINTS: usize = 6;

#[test]
fn sigkill_at_random_points_then_restart_fills_exactly_the_target() {
    let trades = workspace_root().join("../shared/data/kraken-btcusd-2019-07-01T00.csv");
    if !trades.is_file() {
        eprintln!("skipped: {} is not here", trades.display());
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("plugins")).expect("plugins dir");
    std::fs::copy(chase_wasm(), dir.path().join("plugins/plugin_chase.wasm")).expect("copy");
    std::fs::write(
        dir.path().join("strategy.toml"),
        format!(
            "strategy_name = \"scripted\"\nsymbol = \"BTCUSD\"\n\n[[params.signals]]\nkind = \"enter_long\"\nquantity = \"{TARGET}\"\nafter_ticks = 20\n\n[execution]\nplugin = \"plugin_chase\"\nparams = {{ clip_size = \"0.02\" }}\n"
        ),
    )
    .expect("strategy");
    let state = dir.path().join("state.sqlite");
    let command = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tesser"));
        command
            .current_dir(dir.path())
            .env_remove("TESSER_LOG")
            .args(["live", "run", "--strategy-config", "strategy.toml"])
            .args(["--plugins-dir", "plugins", "--state-path", "state.sqlite"])
            .arg("--data")
            .arg(&trades)
            .args(["--timer-ms", "1000", "--no-progress"]);
        command
    };

    // In 0.02 BTC clips the chase takes about 14 minutes of the data, 14 s
    // at 60x: each run gets killed somewhere inside it.
    let mut rng = SplitMix(0x7e55e7);
    let mut cursors = Vec::new();
    let mut mid_execution = 0;
    for point in 0..KILL_POINTS {
        let mut child = command()
            .args(["--speed", "60"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tesser");
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
        let store = StateStore::open(&state).expect("state file after a kill");
        let cursor = store.meta("data_cursor").expect("meta").unwrap_or_default();
        let filled: Decimal = store
            .fills()
            .expect("journal")
            .iter()
            .map(|e| e.fill.quantity)
            .sum();
        let working = store
            .algorithms()
            .expect("algorithms")
            .iter()
            .any(|a| a.status == AlgorithmStatus::Working);
        eprintln!(
            "kill {point} after {delay:?}: cursor {cursor}, filled {filled}, working {working}"
        );
        if working && filled < TARGET {
            mid_execution += 1;
        }
        cursors.push(cursor);
    }
    assert!(
        mid_execution >= 5,
        "only {mid_execution} of {KILL_POINTS} kills landed while the algorithm was working"
    );
    assert!(
        cursors.windows(2).any(|w| w[0] != w[1]),
        "the kills landed at different places of the data: {cursors:?}"
    );

    let output = command()
        .args(["--speed", "max", "--summary-json", "summary.json"])
        .output()
        .expect("final run");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "final run failed: {log}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("summary.json")).expect("summary"),
    )
    .expect("summary JSON");
    let algos = summary["algorithms"].as_array().expect("algorithms");
    assert_eq!(algos.len(), 1, "one signal, one algorithm: {summary}");
    assert_eq!(algos[0]["status"], "completed", "{summary}");
    assert_eq!(algos[0]["filled"], TARGET.to_string(), "{summary}");

    let store = StateStore::open(&state).expect("state file");
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
    let journal = store.fills().expect("journal");
    let journal_fills: BTreeSet<(String, String, Decimal, Decimal)> = journal
        .iter()
        .map(|e| {
            (
                e.fill.fill_id.clone(),
                e.fill.client_order_id.to_string(),
                e.fill.price,
                e.fill.quantity,
            )
        })
        .collect();
    let exchange_fills: BTreeSet<(String, String, Decimal, Decimal)> = exchange
        .fills()
        .iter()
        .map(|f| {
            (
                f.fill_id.clone(),
                f.client_order_id.to_string(),
                f.price,
                f.quantity,
            )
        })
        .collect();
    assert_eq!(
        journal.len(),
        journal_fills.len(),
        "a fill was journaled twice"
    );
    assert_eq!(
        journal_fills, exchange_fills,
        "journal and exchange disagree"
    );
    assert_eq!(
        journal.iter().map(|e| e.fill.quantity).sum::<Decimal>(),
        TARGET
    );
}
