//! Hostile and broken plugins fail alone: each scenario runs a healthy
//! `plugin-chase` next to a misbehaving real `.wasm` guest and checks that the
//! healthy algorithm's fills are exactly those of a run without the hostile
//! neighbour, and that the hostile one ended `Failed` with the expected
//! reason, quickly.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tesser_core::{ExchangeClient, ExecutionHint, Fill, Signal, SignalKind, Tick};
use tesser_execution::{AlgorithmStatus, AlgorithmSummary, StateStore};

use common::runtime::{
    default_limits, merge, orchestrator, paper, paper_orchestrator, runtime_plugins,
    synthetic_ticks,
};

fn ticks() -> Vec<Tick> {
    merge(vec![
        synthetic_ticks("BTCUSD", dec!(30000), dec!(0.1), 1_500, 21),
        synthetic_ticks("ETHUSD", dec!(2000), dec!(0.01), 1_500, 22),
    ])
}

fn healthy() -> Signal {
    Signal::new("BTCUSD", SignalKind::EnterLong, 1.0)
        .with_quantity(dec!(2))
        .with_hint(ExecutionHint::Plugin {
            name: "plugin_chase".into(),
            params: json!({ "clip_size": "0.25" }),
        })
}

fn hostile(params: Value) -> Signal {
    Signal::new("ETHUSD", SignalKind::EnterLong, 1.0)
        .with_quantity(dec!(1))
        .with_hint(ExecutionHint::Plugin {
            name: "scripted".into(),
            params,
        })
}

/// Runs the healthy chase (and the hostile plugin, when given) over the
/// ticks; returns the healthy fills and the hostile algorithm's summary.
fn run(hostile_params: Option<Value>) -> (Vec<Fill>, Option<AlgorithmSummary>, Duration) {
    let plugins = runtime_plugins();
    let ticks = ticks();
    let mut exchange = paper();
    let started = Instant::now();
    let mut orch = paper_orchestrator(plugins.path(), &mut exchange);
    for tick in &ticks[..4] {
        orch.on_tick(tick).expect("tick");
    }
    let healthy_id = orch
        .submit_signal(&healthy())
        .expect("healthy")
        .expect("id");
    let hostile_id = hostile_params.map(|params| {
        orch.submit_signal(&hostile(params))
            .expect("hostile")
            .expect("id")
    });
    for tick in &ticks[4..] {
        orch.on_tick(tick).expect("tick");
    }
    let elapsed = started.elapsed();
    assert_eq!(
        orch.algorithm(&healthy_id).expect("healthy").status,
        AlgorithmStatus::Completed
    );
    let hostile = hostile_id.map(|id| orch.algorithm(&id).expect("hostile"));
    if let Some(summary) = &hostile {
        // The allocation-free lookup agrees with the summary.
        assert_eq!(orch.algorithm_status(&summary.id), Some(summary.status));
    }
    assert_eq!(orch.algorithm_status("no-such-algorithm"), None);
    drop(orch);
    let fills = exchange
        .fills()
        .iter()
        .filter(|f| {
            f.client_order_id
                .as_str()
                .starts_with(&format!("{healthy_id}-"))
        })
        .cloned()
        .collect();
    if let Some(h) = &hostile {
        assert!(
            exchange.open_orders().expect("open").iter().all(|o| !o
                .request
                .client_order_id
                .as_str()
                .starts_with(&format!("{}-", h.id))),
            "the failed algorithm left an open order"
        );
    }
    (fills, hostile, elapsed)
}

fn place(symbol: &str, side: &str, quantity: &str, price: Option<&str>) -> Value {
    match price {
        Some(price) => {
            json!({ "place": { "symbol": symbol, "side": side, "order_type": "limit", "quantity": quantity, "price": price } })
        }
        None => {
            json!({ "place": { "symbol": symbol, "side": side, "order_type": "market", "quantity": quantity } })
        }
    }
}

/// The healthy fills without a hostile neighbour, computed once per test
/// process.
fn baseline() -> &'static [Fill] {
    static BASELINE: OnceLock<Vec<Fill>> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let (fills, _, _) = run(None);
        assert_eq!(fills.iter().map(|f| f.quantity).sum::<Decimal>(), dec!(2));
        fills
    })
}

/// What identifies a fill to the healthy algorithm; the venue's fill id is a
/// global counter, so the hostile plugin's own fills shift it.
fn seen_by_algorithm(fills: &[Fill]) -> Vec<(String, Decimal, Decimal, Decimal, i64)> {
    fills
        .iter()
        .map(|f| {
            (
                f.client_order_id.as_str().to_owned(),
                f.price,
                f.quantity,
                f.fee,
                f.timestamp_ms,
            )
        })
        .collect()
}

/// Runs the hostile `params` next to the healthy chase and checks the
/// outcome: healthy fills unchanged, hostile `Failed` with every `expected`
/// fragment in its reason, nothing leaked, all within a minute.
fn assert_fails_alone(params: Value, expected: &[&str]) {
    let (fills, hostile, elapsed) = run(Some(params));
    let hostile = hostile.expect("hostile ran");
    let reason = hostile.reason.clone().unwrap_or_default();
    assert_eq!(
        hostile.status,
        AlgorithmStatus::Failed,
        "the hostile algorithm did not fail: {reason}"
    );
    for needle in expected {
        assert!(reason.contains(needle), "reason lacks '{needle}': {reason}");
    }
    assert!(
        !reason.contains("LEAK") && !reason.contains("root:"),
        "something leaked: {reason}"
    );
    assert_eq!(
        seen_by_algorithm(&fills),
        seen_by_algorithm(baseline()),
        "the healthy neighbour's fills changed"
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

fn resting() -> Value {
    place("ETHUSD", "buy", "0.5", Some("1950"))
}

fn every_tick(action: Value) -> Value {
    json!({ "steps": [{ "on": "tick", "actions": [action] }] })
}

macro_rules! hostile_tests {
    ($($name:ident: $params:expr => [$($expected:expr),+ $(,)?];)+) => {
        $(
            #[test]
            fn $name() {
                assert_fails_alone($params, &[$($expected),+]);
            }
        )+
    };
}

hostile_tests! {
    infinite_loop_in_on_tick:
        json!({ "steps": [{ "on": "init", "actions": [resting()] }, { "on": "tick", "nth": 3, "spin": true }] })
        => ["on_tick", "CPU deadline exceeded"];
    allocation_until_memory_runs_out:
        json!({ "steps": [{ "on": "tick", "nth": 3, "alloc_mib": 512 }] })
        => ["on_tick", "memory limit exceeded", "the limit is 64 MiB"];
    unbounded_recursion:
        json!({ "steps": [{ "on": "tick", "nth": 3, "recurse": true }] })
        => ["on_tick", "wasm stack overflow", "512 KiB"];
    panic_in_init:
        json!({ "steps": [{ "on": "init", "panic": true }] })
        => ["init", "scripted panic in init"];
    panic_in_on_tick:
        json!({ "steps": [{ "on": "tick", "nth": 5, "panic": true }] })
        => ["on_tick", "scripted panic in tick #5"];
    panic_in_on_timer:
        json!({ "steps": [{ "on": "timer", "nth": 2, "panic": true }] })
        => ["on_timer", "scripted panic in timer #2"];
    panic_in_on_order_update:
        json!({ "steps": [{ "on": "init", "actions": [resting()] }, { "on": "update", "nth": 1, "panic": true }] })
        => ["on_order_update", "scripted panic in update #1"];
    panic_in_on_fill:
        json!({ "steps": [{ "on": "init", "actions": [place("ETHUSD", "buy", "0.01", None)] }, { "on": "fill", "panic": true }] })
        => ["on_fill", "scripted panic in fill #1"];
    error_from_init:
        json!({ "steps": [{ "on": "init", "error": "cannot work with these params" }] })
        => ["init", "cannot work with these params"];
    a_flood_of_100_000_orders_in_one_result:
        json!({ "steps": [{ "on": "tick", "nth": 2, "actions": [resting()], "flood_orders": 100_000 }] })
        => ["100000 child actions", "max_actions_per_result = 1000"];
    a_flood_of_100_000_log_lines_in_one_result:
        json!({ "steps": [{ "on": "tick", "nth": 2, "flood_logs": 100_000 }] })
        => ["100000 log lines", "max_log_lines = 100"];
    orders_for_another_symbol:
        every_tick(place("BTCUSD", "buy", "0.1", Some("29900")))
        => ["max_risk_rejections = 100", "does not match the algorithm's symbol ETHUSD"];
    orders_on_the_wrong_side:
        every_tick(place("ETHUSD", "sell", "0.1", Some("2010")))
        => ["max_risk_rejections = 100", "side sell does not match"];
    orders_above_the_target:
        every_tick(place("ETHUSD", "buy", "5", Some("1990")))
        => ["max_risk_rejections = 100", "overfill"];
    zero_quantity:
        every_tick(place("ETHUSD", "buy", "0", Some("1990")))
        => ["max_risk_rejections = 100", "must be positive"];
    negative_quantity:
        every_tick(place("ETHUSD", "buy", "-1", Some("1990")))
        => ["max_risk_rejections = 100", "must be positive"];
    absurd_price:
        every_tick(place("ETHUSD", "buy", "0.1", Some("99999999")))
        => ["max_risk_rejections = 100", "outside the 500 bps band"];
    reading_etc_passwd:
        json!({ "steps": [{ "on": "tick", "nth": 2, "read_file": "/etc/passwd" }] })
        => ["on_tick", "read /etc/passwd denied"];
    opening_a_socket:
        json!({ "steps": [{ "on": "tick", "nth": 2, "connect": "127.0.0.1:22" }] })
        => ["on_tick", "connect 127.0.0.1:22 denied"];
    reading_an_environment_variable:
        json!({ "steps": [{ "on": "tick", "nth": 2, "env": "PATH" }] })
        => ["on_tick", "env PATH denied"];
    a_snapshot_above_the_size_cap:
        json!({ "snapshot_mib": 2, "steps": [{ "on": "init", "actions": [resting()] }] })
        => ["snapshot", "max_snapshot_bytes = 1048576"];
    a_100_mb_snapshot:
        json!({ "snapshot_mib": 100, "steps": [{ "on": "init", "actions": [resting()] }] })
        => ["snapshot"];
}

/// WASI's sleep would block the host thread, where no CPU deadline reaches;
/// the guest's clock is frozen, so an hour's sleep returns at once.
#[test]
fn a_plugin_that_sleeps_an_hour_does_not_stall_the_host() {
    let params =
        json!({ "steps": [{ "on": "tick", "nth": 2, "sleep_ms": 3_600_000, "complete": true }] });
    let (fills, hostile, elapsed) = run(Some(params));
    let hostile = hostile.expect("hostile ran");
    // It returned from the sleep and completed (with nothing filled, so
    // `partial`): the host was never stalled.
    assert_eq!(hostile.status, AlgorithmStatus::Partial, "{hostile:?}");
    assert_eq!(
        hostile.reason.as_deref(),
        Some("plugin completed short with no order open; 1 unfilled")
    );
    assert_eq!(
        seen_by_algorithm(&fills),
        seen_by_algorithm(baseline()),
        "the healthy neighbour's fills changed"
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

#[test]
fn a_restore_that_fails_fails_that_algorithm_alone_after_a_restart() {
    let plugins = runtime_plugins();
    let ticks = ticks();
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("state.sqlite");
    let mut exchange = paper();
    let (healthy_id, hostile_id) = {
        let mut orch = orchestrator(
            plugins.path(),
            StateStore::open(&db).expect("store"),
            &mut exchange,
            default_limits(),
        );
        for tick in &ticks[..4] {
            orch.on_tick(tick).expect("tick");
        }
        let healthy_id = orch
            .submit_signal(&healthy())
            .expect("healthy")
            .expect("id");
        let params = json!({ "fail_restore": true, "steps": [{ "on": "init", "actions": [place("ETHUSD", "buy", "0.5", Some("1950"))] }] });
        let hostile_id = orch
            .submit_signal(&hostile(params))
            .expect("hostile")
            .expect("id");
        for tick in &ticks[4..100] {
            orch.on_tick(tick).expect("tick");
        }
        (healthy_id, hostile_id)
    };
    let mut orch = orchestrator(
        plugins.path(),
        StateStore::open(&db).expect("store"),
        &mut exchange,
        default_limits(),
    );
    let hostile = orch.algorithm(&hostile_id).expect("hostile");
    assert_eq!(hostile.status, AlgorithmStatus::Failed);
    assert!(
        hostile
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("scripted restore failure"),
        "{hostile:?}"
    );
    let stored = StateStore::open(&db).expect("second connection");
    let row = stored
        .algorithms()
        .expect("rows")
        .into_iter()
        .find(|row| row.id == hostile_id)
        .expect("row");
    assert_eq!(
        row.status,
        AlgorithmStatus::Failed,
        "the failure is stored, so the next start does not retry the restore"
    );
    for tick in &ticks[100..] {
        orch.on_tick(tick).expect("tick");
    }
    assert_eq!(
        orch.algorithm(&healthy_id).expect("healthy").status,
        AlgorithmStatus::Completed
    );
    assert!(
        orch.exchange().open_orders().expect("open").is_empty(),
        "the hostile algorithm's resting order was cancelled"
    );
}

/// `raw_snapshot` places one resting order in `init` and returns `{not json`
/// from `snapshot`: the host refuses the snapshot, fails that algorithm alone
/// (nothing it asked for reaches the exchange) and the healthy chase next to
/// it fills exactly as without it.
#[test]
fn a_snapshot_that_is_not_json() {
    let plugins = runtime_plugins();
    let ticks = ticks();
    let mut exchange = paper();
    let started = Instant::now();
    let mut orch = paper_orchestrator(plugins.path(), &mut exchange);
    for tick in &ticks[..4] {
        orch.on_tick(tick).expect("tick");
    }
    let healthy_id = orch
        .submit_signal(&healthy())
        .expect("healthy")
        .expect("id");
    let raw = Signal::new("ETHUSD", SignalKind::EnterLong, 1.0)
        .with_quantity(dec!(1))
        .with_hint(ExecutionHint::Plugin {
            name: "raw_snapshot".into(),
            params: json!({ "quantity": "0.5", "price": "1950" }),
        });
    let raw_id = orch.submit_signal(&raw).expect("raw").expect("id");
    for tick in &ticks[4..] {
        orch.on_tick(tick).expect("tick");
    }
    assert_eq!(
        orch.algorithm(&healthy_id).expect("healthy").status,
        AlgorithmStatus::Completed
    );
    let hostile = orch.algorithm(&raw_id).expect("raw");
    drop(orch);
    let reason = hostile.reason.clone().unwrap_or_default();
    assert_eq!(hostile.status, AlgorithmStatus::Failed, "{reason}");
    assert!(
        reason.contains("snapshot is not valid JSON"),
        "reason: {reason}"
    );
    let raw_prefix = format!("{raw_id}-");
    assert!(
        exchange.open_orders().expect("open").iter().all(|o| !o
            .request
            .client_order_id
            .as_str()
            .starts_with(&raw_prefix)),
        "the failed algorithm left an open order"
    );
    let healthy_prefix = format!("{healthy_id}-");
    let fills: Vec<Fill> = exchange
        .fills()
        .iter()
        .filter(|f| f.client_order_id.as_str().starts_with(&healthy_prefix))
        .cloned()
        .collect();
    assert_eq!(
        seen_by_algorithm(&fills),
        seen_by_algorithm(baseline()),
        "the healthy neighbour's fills changed"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}
