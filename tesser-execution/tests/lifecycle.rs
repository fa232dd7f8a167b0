//! How an algorithm ends: completing hands the open orders to the runtime for
//! a grace period, reaching the target is done, the end says how far it got,
//! and a restart never strands an algorithm whose plugin keeps no state. Real
//! `.wasm` plugins through the orchestrator and the paper exchange.

mod common;

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tesser_core::{
    ClientOrderId, ExchangeClient, ExecutionHint, Fill, Side, Signal, SignalKind, Tick,
};
use tesser_execution::store::ChildState;
use tesser_execution::{
    AlgorithmStatus, AlgorithmSummary, Orchestrator, OrchestratorConfig, StateStore,
};
use tesser_paper::PaperExchange;

use common::runtime::{
    Recording, default_limits, filled, orchestrator_with, paper, runtime_plugins, synthetic_ticks,
};

const START_MS: i64 = 1_700_000_000_000;

fn scripted(quantity: Decimal, steps: Value) -> Signal {
    Signal::new("BTCUSD", SignalKind::EnterLong, 1.0)
        .with_quantity(quantity)
        .with_hint(ExecutionHint::Plugin {
            name: "scripted".into(),
            params: json!({ "steps": steps }),
        })
}

fn limit_buy(quantity: &str, price: &str) -> Value {
    json!({ "place": { "symbol": "BTCUSD", "side": "buy", "order_type": "limit", "quantity": quantity, "price": price } })
}

/// A print of 5 BTC at `price`, `seconds` after the start.
fn print(seconds: i64, price: Decimal) -> Tick {
    Tick {
        symbol: "BTCUSD".into(),
        price,
        size: dec!(5),
        aggressor: Some(Side::Sell),
        timestamp_ms: START_MS + seconds * 1_000,
    }
}

/// Prints at 30000 every second for 30 s, at 29990 from 30 s to 40 s, then at
/// 30000 again until 200 s.
fn dip_at_thirty_seconds() -> Vec<Tick> {
    (0..200)
        .map(|s| {
            let price = if (30..40).contains(&s) {
                dec!(29990)
            } else {
                dec!(30000)
            };
            print(s, price)
        })
        .collect()
}

/// On the first tick: two resting buys of 0.5, one at 29995 (the dip at
/// 30 s trades through it) and one at 29000 (never reached), and completion
/// in the same result.
fn complete_with_two_resting_orders() -> Value {
    json!([{ "on": "tick", "nth": 1, "complete": true, "actions": [
        limit_buy("0.5", "29995"), limit_buy("0.5", "29000")
    ]}])
}

fn config(grace_ms: i64) -> OrchestratorConfig {
    OrchestratorConfig {
        completion_grace_ms: grace_ms,
        ..OrchestratorConfig::default()
    }
}

fn summary<E: ExchangeClient>(orch: &Orchestrator<E>, id: &str) -> AlgorithmSummary {
    orch.algorithm(id).expect("summary")
}

fn journal<E: ExchangeClient>(orch: &Orchestrator<E>) -> Vec<Fill> {
    orch.store()
        .fills()
        .expect("journal")
        .into_iter()
        .map(|j| j.fill)
        .collect()
}

/// Runs `steps` for a 1 BTC buy over `ticks` on an in-memory store; the
/// signal goes in after the first tick.
fn run_scripted(
    steps: Value,
    ticks: &[Tick],
    grace_ms: i64,
) -> (AlgorithmSummary, Vec<Fill>, PaperExchange) {
    let plugins = runtime_plugins();
    let mut exchange = paper();
    let mut orch = orchestrator_with(
        plugins.path(),
        StateStore::open_in_memory().expect("store"),
        &mut exchange,
        default_limits(),
        config(grace_ms),
    );
    orch.on_tick(&ticks[0]).expect("tick");
    let id = orch
        .submit_signal(&scripted(dec!(1), steps))
        .expect("submit")
        .expect("id");
    for tick in &ticks[1..] {
        orch.on_tick(tick).expect("tick");
    }
    let summary = summary(&orch, &id);
    let journal = journal(&orch);
    drop(orch);
    (summary, journal, exchange)
}

#[test]
fn an_order_returned_with_completion_is_sent_and_fills() {
    let ticks = dip_at_thirty_seconds();
    let steps = json!([{ "on": "init", "complete": true, "actions": [
        { "place": { "symbol": "BTCUSD", "side": "buy", "order_type": "market", "quantity": "1" } }
    ]}]);
    let (summary, journal, exchange) = run_scripted(steps, &ticks, 60_000);
    assert_eq!(summary.status, AlgorithmStatus::Completed, "{summary:?}");
    assert_eq!(summary.filled, dec!(1));
    assert_eq!(summary.unfilled, dec!(0));
    assert_eq!(summary.reason, None);
    assert_eq!(journal, exchange.fills(), "journal = exchange fills");
    assert_eq!(filled(exchange.fills()), dec!(1));
    // It ended with the fill, on the next print, not when the data ran out.
    assert_eq!(summary.updated_ms, ticks[1].timestamp_ms);
}

#[test]
fn an_algorithm_that_fills_its_target_completes_without_saying_so() {
    let ticks = dip_at_thirty_seconds();
    // One resting order for the whole target, and never `completed()`.
    let steps = json!([
        { "on": "init", "actions": [limit_buy("1", "29995")] },
    ]);
    let (summary, journal, exchange) = run_scripted(steps, &ticks, 60_000);
    assert_eq!(summary.status, AlgorithmStatus::Completed, "{summary:?}");
    assert_eq!(summary.filled, dec!(1));
    let last_fill = journal.last().expect("a fill").timestamp_ms;
    assert_eq!(
        summary.updated_ms, last_fill,
        "it completes right after its last fill"
    );
    assert_eq!(last_fill, ticks[30].timestamp_ms, "the dip filled it");
    assert_eq!(journal, exchange.fills());
}

#[test]
fn completing_with_open_orders_books_their_fills_until_the_grace_ends() {
    let ticks = dip_at_thirty_seconds();
    let plugins = runtime_plugins();
    let mut exchange = paper();
    let mut orch = orchestrator_with(
        plugins.path(),
        StateStore::open_in_memory().expect("store"),
        &mut exchange,
        default_limits(),
        config(60_000),
    );
    orch.on_tick(&ticks[0]).expect("tick");
    let id = orch
        .submit_signal(&scripted(dec!(1), complete_with_two_resting_orders()))
        .expect("submit")
        .expect("id");
    orch.on_tick(&ticks[1]).expect("tick");
    let finishing = summary(&orch, &id);
    assert_eq!(
        finishing.status,
        AlgorithmStatus::Finishing,
        "{finishing:?}"
    );
    assert_eq!(finishing.open_orders, 2);
    assert_eq!(orch.working_algorithms(), 1, "finishing is not over");
    let reason = finishing.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("plugin completed with 2 orders open"),
        "{reason}"
    );
    let snapshot = orch.last_snapshot(&id).expect("snapshot").to_owned();

    for tick in &ticks[2..] {
        orch.on_tick(tick).expect("tick");
    }
    assert_eq!(
        orch.last_snapshot(&id),
        Some(snapshot.as_str()),
        "the plugin heard nothing after it completed"
    );
    let done = summary(&orch, &id);
    assert_eq!(done.status, AlgorithmStatus::Partial, "{done:?}");
    assert_eq!(done.filled, dec!(0.5), "the dip filled the 29995 order");
    assert_eq!(done.unfilled, dec!(0.5));
    assert_eq!(done.open_orders, 0);
    let reason = done.reason.clone().unwrap_or_default();
    assert_eq!(
        reason,
        "plugin completed with 2 orders open; the grace of 60000 ms ended with 1 order open, cancelled; 0.5 unfilled when the grace ended"
    );
    // The grace is data time: it ran out 60 s after the completion.
    assert_eq!(done.updated_ms, ticks[1].timestamp_ms + 60_000);
    assert_eq!(orch.portfolio().position(&"BTCUSD".into()), dec!(0.5));
    let stored = &orch.store().algorithms().expect("rows")[0];
    assert_eq!(stored.status, AlgorithmStatus::Partial);
    assert_eq!(stored.reason.as_deref(), Some(reason.as_str()));
    let journal = journal(&orch);
    drop(orch);
    assert_eq!(journal, exchange.fills(), "journal = exchange fills");
    assert!(
        exchange.open_orders().expect("open").is_empty(),
        "nothing rests after the grace"
    );
}

#[test]
fn a_grace_of_zero_cancels_at_once_and_reports_partial() {
    let ticks = dip_at_thirty_seconds();
    let (summary, journal, exchange) = run_scripted(complete_with_two_resting_orders(), &ticks, 0);
    assert_eq!(summary.status, AlgorithmStatus::Partial, "{summary:?}");
    assert_eq!(summary.filled, dec!(0), "cancelled before the dip");
    assert_eq!(summary.unfilled, dec!(1));
    assert_eq!(summary.updated_ms, ticks[1].timestamp_ms);
    assert_eq!(
        summary.reason.as_deref(),
        Some(
            "plugin completed with 2 orders open; the grace of 0 ms ended with 2 orders open, cancelled; 1 unfilled when the grace ended"
        )
    );
    assert!(journal.is_empty());
    assert!(exchange.open_orders().expect("open").is_empty());
}

#[test]
fn a_plugin_that_completes_short_with_nothing_open_ends_partial() {
    let ticks = dip_at_thirty_seconds();
    let steps = json!([{ "on": "tick", "nth": 3, "complete": true }]);
    let (summary, _, _) = run_scripted(steps, &ticks, 60_000);
    assert_eq!(summary.status, AlgorithmStatus::Partial, "{summary:?}");
    assert_eq!(
        summary.reason.as_deref(),
        Some("plugin completed short with no order open; 1 unfilled")
    );
}

/// A run on a state file that was "killed" (its orchestrator dropped with
/// no flush or shutdown, as a dying process leaves it) and restarted on the
/// same file, exchange and record of sent orders.
struct KilledRun {
    /// Holds the state file.
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    exchange: PaperExchange,
    placed: Vec<ClientOrderId>,
}

impl KilledRun {
    /// The state file, opened as a restart would.
    fn store(&self) -> StateStore {
        StateStore::open(&self.db).expect("store")
    }

    /// The fill journal in the state file.
    fn journal(&self) -> Vec<Fill> {
        self.store()
            .fills()
            .expect("journal")
            .into_iter()
            .map(|j| j.fill)
            .collect()
    }
}

/// Feeds `ticks` to an orchestrator on a fresh state file, killing it after
/// each tick index in `kills` and opening a new one on the same file.
/// `start` gets the first orchestrator, submits the signal and returns the
/// tick index it reached; `at_stop` sees each orchestrator at its kill (and
/// at the end) and `after_stop` the run once it has been dropped.
fn run_with_kills<T>(
    ticks: &[Tick],
    kills: &[usize],
    config: &OrchestratorConfig,
    start: impl FnOnce(&mut Orchestrator<Recording<'_>>) -> usize,
    mut at_stop: impl FnMut(&Orchestrator<Recording<'_>>, usize) -> T,
    mut after_stop: impl FnMut(&KilledRun, T),
) -> KilledRun {
    let plugins = runtime_plugins();
    let dir = tempfile::tempdir().expect("tmp");
    let mut run = KilledRun {
        db: dir.path().join("state.sqlite"),
        _dir: dir,
        exchange: paper(),
        placed: Vec::new(),
    };
    let mut start = Some(start);
    let mut position = 0;
    for stop in kills.iter().copied().chain([ticks.len()]) {
        let recording = Recording {
            inner: &mut run.exchange,
            placed: &mut run.placed,
            crash: None,
        };
        let mut orch = orchestrator_with(
            plugins.path(),
            StateStore::open(&run.db).expect("store"),
            recording,
            default_limits(),
            config.clone(),
        );
        if let Some(start) = start.take() {
            position = start(&mut orch);
        }
        while position < stop {
            orch.on_tick(&ticks[position]).expect("tick");
            position += 1;
        }
        let seen = at_stop(&orch, stop);
        drop(orch);
        after_stop(&run, seen);
    }
    run
}

/// The scripted finishing scenario on a state file, with the process
/// "killed" (the orchestrator dropped without any shutdown) after each tick
/// index in `kills`. Returns the exchange's fills, the ids it was sent, and
/// the final summary and journal.
fn finishing_with_kills(kills: &[usize]) -> (Vec<Fill>, Vec<ClientOrderId>, AlgorithmSummary) {
    let ticks = dip_at_thirty_seconds();
    let id = std::cell::OnceCell::new();
    let run = run_with_kills(
        &ticks,
        kills,
        &config(60_000),
        |orch| {
            orch.on_tick(&ticks[0]).expect("tick");
            let submitted = orch
                .submit_signal(&scripted(dec!(1), complete_with_two_resting_orders()))
                .expect("submit")
                .expect("id");
            id.set(submitted).expect("one signal");
            1
        },
        |orch, stop| {
            if stop < ticks.len() {
                let id = id.get().expect("submitted");
                assert_eq!(
                    summary(orch, id).status,
                    AlgorithmStatus::Finishing,
                    "killed while finishing (after tick {stop})"
                );
            }
        },
        |_, ()| {},
    );
    let store = run.store();
    let row = &store.algorithms().expect("rows")[0];
    let journal = run.journal();
    assert_eq!(journal, run.exchange.fills(), "journal = exchange fills");
    assert!(
        run.exchange.open_orders().expect("open").is_empty(),
        "no ghost order"
    );
    let summary = AlgorithmSummary {
        id: row.id.clone(),
        plugin: row.plugin.clone(),
        symbol: row.symbol.clone(),
        side: row.side,
        target: row.target,
        filled: filled(&journal),
        unfilled: row.target - filled(&journal),
        avg_price: None,
        child_orders: 0,
        guest_entries: 0,
        open_orders: 0,
        status: row.status,
        reason: row.reason.clone(),
        updated_ms: row.updated_ms,
    };
    (run.exchange.fills().to_vec(), run.placed, summary)
}

#[test]
fn a_kill_while_finishing_goes_on_finishing_with_the_same_fills() {
    let (clean_fills, clean_placed, clean) = finishing_with_kills(&[]);
    // Killed right after completing, before the dip, during it, and late in
    // the grace.
    let (fills, placed, killed) = finishing_with_kills(&[2, 20, 31, 45, 60]);
    assert_eq!(killed.status, AlgorithmStatus::Partial, "{killed:?}");
    assert_eq!(fills, clean_fills, "the same fills as without kills");
    assert_eq!(killed.reason, clean.reason);
    assert_eq!(killed.updated_ms, clean.updated_ms);
    assert_eq!(placed, clean_placed, "no order sent twice");
    assert_eq!(filled(&fills), dec!(0.5));
}

/// The SDK's quick start (snapshot `null`) for 3 BTC over synthetic prints,
/// on a state file, killed after each tick index in `kills`. Returns the
/// exchange's fills, the ids sent, the journal and the final summary.
fn quick_start_with_kills(
    ticks: &[Tick],
    kills: &[usize],
) -> (
    Vec<Fill>,
    Vec<ClientOrderId>,
    Vec<Fill>,
    Vec<AlgorithmSummary>,
) {
    let mut summaries = Vec::new();
    let run = run_with_kills(
        ticks,
        kills,
        &OrchestratorConfig::default(),
        |orch| {
            for tick in &ticks[..3] {
                orch.on_tick(tick).expect("tick");
            }
            let signal = Signal::new("BTCUSD", SignalKind::EnterLong, 1.0)
                .with_quantity(dec!(3))
                .with_hint(ExecutionHint::Plugin {
                    name: "chase_execution".into(),
                    params: json!({}),
                });
            orch.submit_signal(&signal).expect("submit");
            3
        },
        |orch, _| summaries.push(orch.algorithms()[0].clone()),
        |_, ()| {},
    );
    let journal = run.journal();
    (
        run.exchange.fills().to_vec(),
        run.placed,
        journal,
        summaries,
    )
}

#[test]
fn a_plugin_without_state_restarts_from_what_is_left_and_never_stalls() {
    let ticks = synthetic_ticks("BTCUSD", dec!(30000), dec!(0.1), 2_000, 21);
    let kills = [40, 80, 120];
    let (fills, placed, journal, summaries) = quick_start_with_kills(&ticks, &kills);
    for (kill, before) in kills.iter().zip(&summaries) {
        assert_eq!(
            before.status,
            AlgorithmStatus::Working,
            "killed mid-execution at tick {kill}: {before:?}"
        );
    }
    let last = summaries.last().expect("final");
    assert!(last.status.is_terminal(), "it never stalls: {last:?}");
    // After every restart it went on: it sent orders, and it filled more
    // after the last one.
    for pair in summaries.windows(2) {
        assert!(
            pair[1].child_orders > pair[0].child_orders,
            "it acted after a restart: {pair:?}"
        );
    }
    assert!(
        last.filled > summaries[kills.len() - 1].filled,
        "{summaries:?}"
    );
    let unique: BTreeSet<_> = placed.iter().collect();
    assert_eq!(unique.len(), placed.len(), "no client order id twice");
    assert_eq!(journal, fills, "journal = exchange fills");
    assert_eq!(last.filled, filled(&fills));
    assert_eq!(last.unfilled, dec!(3) - last.filled);
    assert!(last.filled <= dec!(3), "never more than the target");
}

/// A stateful plugin (the chase, 2 BTC in 0.5 clips, partly filled by
/// smaller prints) on a state file,
/// "killed" (dropped with its batch of changes unstored) after each tick
/// index in `kills`. Returns the exchange's fills, the ids it was sent, the
/// journal, and how many kills lost changes not stored yet.
fn chase_with_kills(
    ticks: &[Tick],
    kills: &[usize],
) -> (Vec<Fill>, Vec<ClientOrderId>, Vec<Fill>, usize) {
    let mut lost_batches = 0;
    let run = run_with_kills(
        ticks,
        kills,
        &OrchestratorConfig::default(),
        |orch| {
            orch.on_tick(&ticks[0]).expect("tick");
            let signal = Signal::new("BTCUSD", SignalKind::EnterLong, 1.0)
                .with_quantity(dec!(2))
                .with_hint(ExecutionHint::Plugin {
                    name: "plugin_chase".into(),
                    params: json!({ "clip_size": "0.5" }),
                });
            orch.submit_signal(&signal).expect("submit");
            1
        },
        |orch, _| orch.now_ms(),
        |run, now_ms| {
            // Unstored: the plugin's state after the last batch (a working
            // algorithm's row is stored with the data time of its batch),
            // fills the exchange made, or acknowledgements of orders it has.
            let store = run.store();
            let row = &store.algorithms().expect("rows")[0];
            let unacknowledged = store.child_orders().expect("children").iter().any(|c| {
                c.state == ChildState::PendingNew && run.placed.contains(&c.request.client_order_id)
            });
            if (row.status == AlgorithmStatus::Working && row.updated_ms < now_ms)
                || store.fills().expect("journal").len() < run.exchange.fills().len()
                || unacknowledged
            {
                lost_batches += 1;
            }
        },
    );
    let journal = run.journal();
    (
        run.exchange.fills().to_vec(),
        run.placed,
        journal,
        lost_batches,
    )
}

#[test]
fn a_stateful_plugin_killed_with_changes_unstored_ends_with_the_fills_of_an_uninterrupted_run() {
    let ticks = synthetic_ticks("BTCUSD", dec!(30000), dec!(0.1), 3_000, 5);
    let (clean_fills, clean_placed, clean_journal, _) = chase_with_kills(&ticks, &[]);
    assert_eq!(
        filled(&clean_fills),
        dec!(2),
        "the uninterrupted run fills its target"
    );
    assert_eq!(clean_journal, clean_fills);
    // A kill every third print while it works.
    let kills: Vec<usize> = (1..60).map(|k| k * 3).collect();
    let (fills, placed, journal, lost_batches) = chase_with_kills(&ticks, &kills);
    // The kills fell where changes were not stored yet: recovery restored
    // an older snapshot and delivered what it missed from the exchange.
    assert!(
        lost_batches > 0,
        "no kill lost an unstored batch: the test proves nothing"
    );
    assert_eq!(
        journal, fills,
        "every fill the exchange made is in the journal"
    );
    assert_eq!(filled(&fills), dec!(2), "the target, no more, no less");
    let unique: BTreeSet<_> = placed.iter().collect();
    assert_eq!(unique.len(), placed.len(), "no client order id sent twice");
    assert_eq!(placed, clean_placed, "the orders of the uninterrupted run");
    assert_eq!(fills, clean_fills, "the fills of the uninterrupted run");
}
