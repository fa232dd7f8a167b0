//! POV: params, participation math, snapshots through the SDK runtime, and
//! a real replay through the orchestrator on the paper exchange.

use pov::Pov;
use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_testkit::{
    FIRST_TRADE_MS, NativeProvider, assert_snapshot_refused, dec, init_context, restored,
    run_on_real_trades,
};
use tesser_wasm::{
    PluginChildOrderAction, PluginFill, PluginMetadata, PluginOrderStatus, PluginOrderType,
    PluginOrderUpdate, PluginResult, PluginRuntime, PluginTick, PluginTimer,
};

fn init_error(params: serde_json::Value) -> String {
    tesser_plugin_testkit::init_error::<Pov>(params)
}

fn placed(result: &PluginResult) -> Vec<Decimal> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Place(request) => {
                assert_eq!(request.order_type, PluginOrderType::Market);
                Some(request.quantity)
            }
            _ => None,
        })
        .collect()
}

fn tick(size: &str, at: i64) -> PluginTick {
    PluginTick {
        symbol: "BTCUSD".into(),
        price: dec("10750.0"),
        size: dec(size),
        aggressor: None,
        timestamp_ms: at,
    }
}

fn fill(id: &str, quantity: &str) -> PluginFill {
    PluginFill {
        client_order_id: id.into(),
        price: dec("10750.0"),
        quantity: dec(quantity),
        ..PluginFill::default()
    }
}

#[test]
fn init_refuses_bad_params_with_clear_messages() {
    let defaults = pov::PovParams::parse(&json!({})).expect("no params: the defaults");
    assert_eq!(defaults.participation, pov::DEFAULT_PARTICIPATION);
    assert!(init_error(json!({"participation": "0"})).contains("participation must be positive"));
    assert!(init_error(json!({"participation": 1.5})).contains("participation must be at most 1"));
    assert!(
        init_error(json!({"participation": "ten"}))
            .contains("participation 'ten' is not a decimal")
    );
    assert!(
        init_error(json!({"participation": 0.1, "min_clip": "-1"}))
            .contains("min_clip must be positive")
    );
    assert!(
        init_error(json!({"participation": 0.1, "min_clip": 2, "max_clip": 1}))
            .contains("min_clip (2) must not exceed max_clip (1)")
    );
    assert!(
        init_error(json!({"participation": 0.1, "max_duration_ms": 0}))
            .contains("max_duration_ms must be between 1")
    );
    assert!(init_error(json!({"participation": 0.1, "pct": 3})).contains("unknown param 'pct'"));
}

#[test]
fn follows_participation_times_volume_in_clips_of_at_least_min_clip() {
    let mut runtime = PluginRuntime::<Pov>::new();
    let start = runtime
        .init(init_context(
            json!({"participation": "0.1", "min_clip": "0.2"}),
            Decimal::ONE,
        ))
        .expect("init");
    assert!(placed(&start).is_empty(), "no volume yet");
    // 1 traded: 0.1 allowed, below the clip.
    assert!(
        placed(
            &runtime
                .on_tick(tick("1", FIRST_TRADE_MS + 1))
                .expect("tick")
        )
        .is_empty()
    );
    // 2.5 traded: 0.25 allowed → one order of 0.25.
    assert_eq!(
        placed(
            &runtime
                .on_tick(tick("1.5", FIRST_TRADE_MS + 2))
                .expect("tick")
        ),
        [dec("0.25")]
    );
    runtime.on_fill(fill("algo-1-c1", "0.25")).expect("fill");
    // 4 traded: 0.4 allowed, 0.25 done → 0.15 < clip: wait.
    assert!(
        placed(
            &runtime
                .on_tick(tick("1.5", FIRST_TRADE_MS + 3))
                .expect("tick")
        )
        .is_empty()
    );
    // 20 traded: 2 allowed, capped at the 1 target → the 0.75 left.
    assert_eq!(
        placed(
            &runtime
                .on_tick(tick("16", FIRST_TRADE_MS + 4))
                .expect("tick")
        ),
        [dec("0.75")]
    );
    let done = runtime.on_fill(fill("algo-1-c2", "0.75")).expect("fill");
    assert!(done.is_completed());
    assert_eq!(runtime.plugin().market_volume, Decimal::from(20));
}

#[test]
fn max_clip_splits_and_max_duration_sends_the_rest() {
    let mut runtime = PluginRuntime::<Pov>::new();
    runtime
        .init(init_context(
            json!({"participation": 0.5, "max_clip": "0.3", "max_duration_ms": 60_000}),
            Decimal::TEN,
        ))
        .expect("init");
    assert_eq!(
        placed(
            &runtime
                .on_tick(tick("1.4", FIRST_TRADE_MS + 1))
                .expect("tick")
        ),
        [dec("0.3"), dec("0.3"), dec("0.1")]
    );
    let late = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 60_000,
        })
        .expect("timer");
    assert_eq!(late.orders.len(), 31, "the 9.3 left in clips of 0.3");
    assert!(late.logs[0].message.contains("the rest goes at market"));
}

#[test]
fn a_rejection_backs_off_then_retries() {
    let mut runtime = PluginRuntime::<Pov>::new();
    runtime
        .init(init_context(json!({"participation": 0.1}), Decimal::ONE))
        .expect("init");
    assert_eq!(
        placed(
            &runtime
                .on_tick(tick("5", FIRST_TRADE_MS + 1))
                .expect("tick")
        ),
        [dec("0.5")]
    );
    let refused = runtime
        .on_order_update(PluginOrderUpdate {
            client_order_id: "algo-1-c1".into(),
            status: PluginOrderStatus::Rejected,
            reason: Some("min notional".into()),
            timestamp_ms: FIRST_TRADE_MS + 1,
            ..PluginOrderUpdate::default()
        })
        .expect("update");
    assert!(refused.orders.is_empty());
    assert!(
        placed(
            &runtime
                .on_tick(tick("0", FIRST_TRADE_MS + 2))
                .expect("tick")
        )
        .is_empty()
    );
    assert_eq!(
        placed(
            &runtime
                .on_tick(tick("0", FIRST_TRADE_MS + 1_001))
                .expect("tick")
        ),
        [dec("0.5")]
    );
}

#[test]
fn snapshot_restore_round_trips_the_whole_state() {
    let mut original = PluginRuntime::<Pov>::new();
    original
        .init(init_context(json!({"participation": "0.2"}), Decimal::TEN))
        .expect("init");
    original
        .on_tick(tick("3", FIRST_TRADE_MS + 1))
        .expect("tick");
    original.on_fill(fill("algo-1-c1", "0.2")).expect("fill");
    let snapshot = original.snapshot().expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&snapshot).expect("JSON");
    assert_eq!(value["market_volume"], "3");
    assert_eq!(value["params"]["participation"], "0.2");

    let mut restored = restored(&original, &snapshot);
    let next = tick("7", FIRST_TRADE_MS + 2);
    assert_eq!(restored.on_tick(next.clone()), original.on_tick(next));
    assert_snapshot_refused::<Pov>("[]");
}

#[test]
fn metadata_declares_a_strict_params_schema() {
    let schema = PluginRuntime::<Pov>::metadata(PluginMetadata::default())
        .params_schema
        .expect("a schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], json!([]));
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["participation"]["description"].is_string());
}

/// Buys 10 BTC at 10 % of the real market volume.
#[test]
fn real_trades_buy_10_btc_at_10_percent_of_the_volume() {
    let target = Decimal::TEN;
    let participation = dec("0.1");
    let min_clip = dec("0.05");
    let run = run_on_real_trades(
        NativeProvider::new().with::<Pov>("pov"),
        "pov",
        json!({"participation": participation, "min_clip": min_clip}),
        target,
    );
    run.assert_completed_exactly(target);
    // Executed never exceeds participation × market volume by more than one clip.
    let mut executed = Decimal::ZERO;
    for fill in &run.fills {
        executed += fill.quantity;
        let allowed = participation * run.market_volume_until(fill.timestamp_ms);
        assert!(
            executed <= allowed + min_clip,
            "{executed} executed at {} with {allowed} allowed",
            fill.timestamp_ms
        );
    }
    // It could not finish before participation allowed the whole target.
    let volume = run.market_volume_until(run.end_ms);
    assert!(
        volume >= target / participation,
        "done after only {volume} of volume"
    );
}
