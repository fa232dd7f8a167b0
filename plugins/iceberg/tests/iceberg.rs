//! Iceberg: params, clip sizing and re-pegging, snapshots through the SDK
//! runtime, and a real replay through the orchestrator on the paper exchange.

use iceberg::Iceberg;
use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_testkit::{
    FIRST_TRADE_MS, NativeProvider, OrderType, assert_snapshot_refused, dec, init_context,
    restored, run_on_real_trades,
};
use tesser_wasm::{
    PluginChildOrderAction, PluginFill, PluginMetadata, PluginOrderStatus, PluginOrderUpdate,
    PluginResult, PluginRuntime, PluginTick, PluginTimer,
};

fn init_error(params: serde_json::Value) -> String {
    tesser_plugin_testkit::init_error::<Iceberg>(params)
}

fn placed(result: &PluginResult) -> Vec<(Decimal, Option<Decimal>)> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Place(request) => Some((request.quantity, request.price)),
            _ => None,
        })
        .collect()
}

fn closed(id: &str, status: PluginOrderStatus, at: i64) -> PluginOrderUpdate {
    PluginOrderUpdate {
        client_order_id: id.into(),
        status,
        timestamp_ms: at,
        ..PluginOrderUpdate::default()
    }
}

fn fill(id: &str, quantity: &str) -> PluginFill {
    PluginFill {
        client_order_id: id.into(),
        price: dec("10749.4"),
        quantity: dec(quantity),
        ..PluginFill::default()
    }
}

fn tick(price: &str, at: i64) -> PluginTick {
    PluginTick {
        symbol: "BTCUSD".into(),
        price: dec(price),
        size: Decimal::ONE,
        aggressor: None,
        timestamp_ms: at,
    }
}

#[test]
fn init_refuses_bad_params_with_clear_messages() {
    assert!(
        init_error(json!({"display_quantity": "0"})).contains("display_quantity must be positive")
    );
    assert!(
        init_error(json!({"display_quantity": "0.00005"}))
            .contains("below the instrument's smallest order")
    );
    assert!(
        init_error(json!({"display_quantity": "0.0005"}))
            .contains("below the instrument's min notional 10")
    );
    assert!(
        init_error(json!({"display_quantity": 1, "limit_price": "-5"}))
            .contains("limit_price must be positive")
    );
    assert!(
        init_error(json!({"display_quantity": 1, "limit_price": 0.01}))
            .contains("limit_price rounds to 0")
    );
    assert!(
        init_error(json!({"display_quantity": 1, "limit_price": 10000, "repeg_after_ms": 1000}))
            .contains("repeg_after_ms only applies without limit_price")
    );
    assert!(
        init_error(json!({"display_quantity": 1, "repeg_after_ms": -1}))
            .contains("repeg_after_ms must be between 1")
    );
    assert!(init_error(json!({"display_quantity": 1, "show": 1})).contains("unknown param 'show'"));
}

#[test]
fn shows_one_clip_at_a_time_and_replenishes_at_the_new_price_after_it_fills() {
    let mut runtime = PluginRuntime::<Iceberg>::new();
    let start = runtime
        .init(init_context(
            json!({"display_quantity": "0.40009"}),
            Decimal::ONE,
        ))
        .expect("init");
    // Rounded down to the lot.
    assert_eq!(placed(&start), [(dec("0.4"), Some(dec("10749.4")))]);
    // The market moves: a pegged clip without repeg_after_ms stays put.
    assert!(
        runtime
            .on_tick(tick("10760.0", FIRST_TRADE_MS + 1))
            .expect("tick")
            .orders
            .is_empty()
    );
    // A partial fill does not replenish.
    assert!(
        runtime
            .on_fill(fill("algo-1-c1", "0.1"))
            .expect("fill")
            .orders
            .is_empty()
    );
    runtime.on_fill(fill("algo-1-c1", "0.3")).expect("fill");
    let next = runtime
        .on_order_update(closed(
            "algo-1-c1",
            PluginOrderStatus::Filled,
            FIRST_TRADE_MS + 2,
        ))
        .expect("update");
    assert_eq!(
        placed(&next),
        [(dec("0.4"), Some(dec("10760.0")))],
        "re-pegged to the last price"
    );
    runtime.on_fill(fill("algo-1-c2", "0.4")).expect("fill");
    let last = runtime
        .on_order_update(closed(
            "algo-1-c2",
            PluginOrderStatus::Filled,
            FIRST_TRADE_MS + 3,
        ))
        .expect("update");
    assert_eq!(
        placed(&last),
        [(dec("0.2"), Some(dec("10760.0")))],
        "the rest, below the display"
    );
    assert!(
        runtime
            .on_fill(fill("algo-1-c3", "0.2"))
            .expect("fill")
            .is_completed()
    );
}

#[test]
fn a_fixed_limit_price_is_kept_and_a_stale_pegged_clip_is_moved() {
    let mut fixed = PluginRuntime::<Iceberg>::new();
    let start = fixed
        .init(init_context(
            json!({"display_quantity": 1, "limit_price": "10700.05"}),
            Decimal::TEN,
        ))
        .expect("init");
    assert_eq!(placed(&start), [(Decimal::ONE, Some(dec("10700.0")))]);
    fixed
        .on_tick(tick("10800.0", FIRST_TRADE_MS + 1))
        .expect("tick");
    fixed.on_fill(fill("algo-1-c1", "1")).expect("fill");
    let next = fixed
        .on_order_update(closed(
            "algo-1-c1",
            PluginOrderStatus::Filled,
            FIRST_TRADE_MS + 2,
        ))
        .expect("update");
    assert_eq!(placed(&next), [(Decimal::ONE, Some(dec("10700.0")))]);

    let mut pegged = PluginRuntime::<Iceberg>::new();
    pegged
        .init(init_context(
            json!({"display_quantity": 1, "repeg_after_ms": 10_000}),
            Decimal::TEN,
        ))
        .expect("init");
    pegged
        .on_tick(tick("10760.0", FIRST_TRADE_MS + 5_000))
        .expect("tick");
    let stale = pegged
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 10_000,
        })
        .expect("timer");
    assert!(
        matches!(&stale.orders[..], [PluginChildOrderAction::Amend(amend)]
        if amend.client_order_id == "algo-1-c1" && amend.new_price == Some(dec("10760.0")) && amend.new_quantity.is_none())
    );
    assert!(
        pegged
            .on_timer(PluginTimer {
                now_ms: FIRST_TRADE_MS + 11_000
            })
            .expect("timer")
            .orders
            .is_empty()
    );
}

#[test]
fn a_refused_clip_is_retried_after_a_backoff() {
    let mut runtime = PluginRuntime::<Iceberg>::new();
    runtime
        .init(init_context(json!({"display_quantity": 1}), Decimal::TEN))
        .expect("init");
    let refused = runtime
        .on_order_update(PluginOrderUpdate {
            reason: Some("rate limited".into()),
            ..closed("algo-1-c1", PluginOrderStatus::Rejected, FIRST_TRADE_MS)
        })
        .expect("update");
    assert!(refused.orders.is_empty() && refused.logs[0].message.contains("rate limited"));
    assert!(
        runtime
            .on_timer(PluginTimer {
                now_ms: FIRST_TRADE_MS + 999
            })
            .expect("timer")
            .orders
            .is_empty()
    );
    assert_eq!(
        placed(
            &runtime
                .on_timer(PluginTimer {
                    now_ms: FIRST_TRADE_MS + 1_000
                })
                .expect("timer")
        ),
        [(Decimal::ONE, Some(dec("10749.4")))]
    );
}

#[test]
fn snapshot_restore_round_trips_the_whole_state() {
    let mut original = PluginRuntime::<Iceberg>::new();
    original
        .init(init_context(
            json!({"display_quantity": "0.5", "repeg_after_ms": 5_000}),
            Decimal::TEN,
        ))
        .expect("init");
    original.on_fill(fill("algo-1-c1", "0.2")).expect("fill");
    let snapshot = original.snapshot().expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&snapshot).expect("JSON");
    assert_eq!(value["params"]["display_quantity"], "0.5");
    assert_eq!(value["orders"]["open"]["algo-1-c1"]["filled"], "0.2");

    let mut restored = restored(&original, &snapshot);
    let next = tick("10770.0", FIRST_TRADE_MS + 6_000);
    assert_eq!(restored.on_tick(next.clone()), original.on_tick(next));
    assert_snapshot_refused::<Iceberg>("1");
}

#[test]
fn metadata_declares_a_strict_params_schema() {
    let schema = PluginRuntime::<Iceberg>::metadata(PluginMetadata::default())
        .params_schema
        .expect("a schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], json!([]));
    assert_eq!(schema["additionalProperties"], false);
}

/// Buys 10 BTC on the real trades showing 0.5 at a time.
#[test]
fn real_trades_buy_10_btc_showing_half_a_bitcoin_at_a_time() {
    let target = Decimal::TEN;
    let display = dec("0.5");
    let run = run_on_real_trades(
        NativeProvider::new().with::<Iceberg>("iceberg"),
        "iceberg",
        json!({"display_quantity": display, "repeg_after_ms": 30_000}),
        target,
    );
    run.assert_completed_exactly(target);
    for sent in &run.sent {
        assert_eq!(sent.request.order_type, OrderType::Limit, "{sent:?}");
        assert!(
            sent.request.quantity <= display,
            "a working order of {} exceeds the display quantity {display}",
            sent.request.quantity
        );
    }
    assert!(
        run.placed_quantities().len() >= 20,
        "10 BTC in clips of at most 0.5"
    );
}
