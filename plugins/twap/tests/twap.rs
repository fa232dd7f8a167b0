//! TWAP: params, slicing, snapshots through the SDK runtime, and a real
//! replay through the orchestrator on the paper exchange.

use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_testkit::{
    FIRST_TRADE_MS, NativeProvider, assert_snapshot_refused, dec, init_context, restored,
    run_on_real_trades,
};
use tesser_wasm::{
    PluginChildOrderAction, PluginFill, PluginMetadata, PluginOrderStatus, PluginOrderType,
    PluginOrderUpdate, PluginRuntime, PluginTick, PluginTimer,
};
use twap::{Twap, schedule_due, slice_quantity};

fn init_error(params: serde_json::Value) -> String {
    tesser_plugin_testkit::init_error::<Twap>(params)
}

fn places(result: &tesser_wasm::PluginResult) -> Vec<(PluginOrderType, Decimal, Option<Decimal>)> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Place(request) => {
                Some((request.order_type, request.quantity, request.price))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn init_refuses_bad_params_with_clear_messages() {
    let defaults = twap::TwapParams::parse(&json!({})).expect("no params: the defaults");
    assert_eq!(defaults.duration_ms, twap::DEFAULT_DURATION_MS);
    assert!(init_error(json!({"duration_ms": 0})).contains("duration_ms must be between 1"));
    assert!(init_error(json!({"duration_ms": "60000"})).contains("duration_ms must be an integer"));
    assert!(
        init_error(json!({"duration_ms": 60000, "slices": 0}))
            .contains("slices must be between 1 and 1000")
    );
    assert!(
        init_error(json!({"duration_ms": 5, "slices": 10})).contains("must not exceed duration_ms")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "order_type": "stop"}))
            .contains("order_type must be one of limit, market")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "slice": 3})).contains("unknown param 'slice'")
    );
    assert!(init_error(json!(["duration_ms"])).contains("params must be a JSON object"));

    let mut runtime = PluginRuntime::<Twap>::new();
    let error = runtime
        .init(init_context(json!({"duration_ms": 60000}), Decimal::ZERO))
        .expect_err("a zero target is refused");
    assert!(
        error.message.contains("target quantity must be positive"),
        "{error}"
    );
}

#[test]
fn slices_are_rounded_up_to_the_lot_and_the_schedule_ends_at_the_target() {
    let lot = dec("0.0001");
    assert_eq!(slice_quantity(Decimal::TEN, 10, lot), Decimal::ONE);
    assert_eq!(slice_quantity(Decimal::TEN, 3, lot), dec("3.3334"));
    assert_eq!(
        schedule_due(Decimal::TEN, 3, lot),
        [dec("3.3334"), dec("6.6668"), Decimal::TEN]
    );
    assert_eq!(
        slice_quantity(dec("0.00005"), 2, lot),
        dec("0.00005"),
        "capped at the target"
    );
}

#[test]
fn releases_one_slice_per_period_and_catches_up_at_market() {
    let mut runtime = PluginRuntime::<Twap>::new();
    let start = runtime
        .init(init_context(
            json!({"duration_ms": 40_000, "slices": 4}),
            Decimal::TEN,
        ))
        .expect("init");
    assert_eq!(
        places(&start),
        [(PluginOrderType::Limit, dec("2.5"), Some(dec("10749.4")))]
    );

    // Within the first slice nothing more is released, whatever the price.
    let tick = |price: &str, at: i64| PluginTick {
        symbol: "BTCUSD".into(),
        price: dec(price),
        size: dec("0.5"),
        aggressor: None,
        timestamp_ms: at,
    };
    let quiet = runtime
        .on_tick(tick("10750.0", FIRST_TRADE_MS + 5_000))
        .expect("tick");
    assert!(quiet.orders.is_empty());

    // The second slice re-prices the resting one and releases 2.5 more.
    let second = runtime
        .on_tick(tick("10760.0", FIRST_TRADE_MS + 10_000))
        .expect("tick");
    assert!(
        matches!(&second.orders[0], PluginChildOrderAction::Amend(amend)
        if amend.client_order_id == "algo-1-c1" && amend.new_price == Some(dec("10760.0")))
    );
    assert_eq!(
        places(&second),
        [(PluginOrderType::Limit, dec("2.5"), Some(dec("10760.0")))]
    );

    // A fill of the first slice does not pull the schedule forward.
    let filled = runtime
        .on_fill(PluginFill {
            client_order_id: "algo-1-c1".into(),
            symbol: "BTCUSD".into(),
            price: dec("10760.0"),
            quantity: dec("2.5"),
            timestamp_ms: FIRST_TRADE_MS + 11_000,
            ..PluginFill::default()
        })
        .expect("fill");
    assert!(filled.orders.is_empty() && !filled.is_completed());
    runtime
        .on_order_update(PluginOrderUpdate {
            client_order_id: "algo-1-c1".into(),
            status: PluginOrderStatus::Filled,
            filled_quantity: dec("2.5"),
            timestamp_ms: FIRST_TRADE_MS + 11_000,
            ..PluginOrderUpdate::default()
        })
        .expect("update");

    // Past the duration: the open limit is cancelled, then the rest (7.5)
    // goes at market in slices of at most 2.5.
    let late = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 40_000,
        })
        .expect("timer");
    assert!(
        matches!(&late.orders[0], PluginChildOrderAction::Cancel(cancel) if cancel.client_order_id == "algo-1-c2")
    );
    assert_eq!(
        places(&late),
        [
            (PluginOrderType::Market, dec("2.5"), None),
            (PluginOrderType::Market, dec("2.5"), None)
        ]
    );
    let after_cancel = runtime
        .on_order_update(PluginOrderUpdate {
            client_order_id: "algo-1-c2".into(),
            status: PluginOrderStatus::Cancelled,
            timestamp_ms: FIRST_TRADE_MS + 40_000,
            ..PluginOrderUpdate::default()
        })
        .expect("update");
    assert_eq!(
        places(&after_cancel),
        [(PluginOrderType::Market, dec("2.5"), None)]
    );
}

#[test]
fn a_rejected_slice_is_retried_after_a_backoff() {
    let mut runtime = PluginRuntime::<Twap>::new();
    runtime
        .init(init_context(
            json!({"duration_ms": 60_000, "slices": 2}),
            Decimal::TEN,
        ))
        .expect("init");
    let refused = runtime
        .on_order_update(PluginOrderUpdate {
            client_order_id: "algo-1-c1".into(),
            status: PluginOrderStatus::Rejected,
            reason: Some("price band".into()),
            timestamp_ms: FIRST_TRADE_MS,
            ..PluginOrderUpdate::default()
        })
        .expect("update");
    assert!(refused.orders.is_empty());
    assert!(refused.logs[0].message.contains("price band"));
    let held = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 500,
        })
        .expect("timer");
    assert!(held.orders.is_empty(), "held back during the backoff");
    let retried = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 1_000,
        })
        .expect("timer");
    assert_eq!(
        places(&retried),
        [(
            PluginOrderType::Limit,
            Decimal::from(5),
            Some(dec("10749.4"))
        )]
    );
}

#[test]
fn snapshot_restore_round_trips_the_whole_state() {
    let mut original = PluginRuntime::<Twap>::new();
    original
        .init(init_context(
            json!({"duration_ms": 60_000, "slices": 6, "order_type": "market"}),
            Decimal::TEN,
        ))
        .expect("init");
    original
        .on_fill(PluginFill {
            client_order_id: "algo-1-c1".into(),
            price: dec("10749.4"),
            quantity: dec("0.4"),
            ..PluginFill::default()
        })
        .expect("fill");
    let snapshot = original.snapshot().expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&snapshot).expect("JSON");
    assert_eq!(value["name"], "twap");
    assert_eq!(value["orders"]["filled"], "0.4");

    let mut restored = restored(&original, &snapshot);
    assert_eq!(restored.snapshot().expect("snapshot"), snapshot);
    let timer = PluginTimer {
        now_ms: FIRST_TRADE_MS + 10_000,
    };
    assert_eq!(restored.on_timer(timer), original.on_timer(timer));

    assert_snapshot_refused::<Twap>(r#"{"name": "vwap"}"#);
}

#[test]
fn metadata_declares_a_strict_params_schema() {
    let metadata = PluginRuntime::<Twap>::metadata(PluginMetadata {
        name: "tesser-plugin-twap".into(),
        ..PluginMetadata::default()
    });
    assert_eq!(metadata.name, "tesser-plugin-twap");
    let schema = metadata.params_schema.expect("a schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], json!([]));
    assert_eq!(
        schema["properties"]["duration_ms"]["default"],
        json!(twap::DEFAULT_DURATION_MS)
    );
    assert_eq!(schema["additionalProperties"], false);
    for name in ["duration_ms", "slices", "order_type"] {
        assert!(
            schema["properties"][name]["description"].is_string(),
            "{name}"
        );
    }
}

/// Buys 10 BTC over 30 minutes of the real trades in 10 slices.
#[test]
fn real_trades_buy_10_btc_in_10_slices_over_30_minutes() {
    let target = Decimal::TEN;
    let duration_ms = 30 * 60 * 1_000;
    let run = run_on_real_trades(
        NativeProvider::new().with::<Twap>("twap"),
        "twap",
        json!({"duration_ms": duration_ms, "slices": 10}),
        target,
    );
    run.assert_completed_exactly(target);
    let cap = slice_quantity(target, 10, dec("0.0001"));
    assert_eq!(cap, Decimal::ONE);
    let placed = run.placed_quantities();
    assert!(
        placed.len() >= 10,
        "at least one order per slice: {placed:?}"
    );
    for quantity in &placed {
        assert!(
            *quantity <= cap,
            "a child order of {quantity} exceeds the slice {cap}"
        );
    }
    // Never ahead of schedule: by slice k at most k slices have filled.
    let due = schedule_due(target, 10, dec("0.0001"));
    let mut filled = Decimal::ZERO;
    for fill in &run.fills {
        filled += fill.quantity;
        let elapsed = fill.timestamp_ms - run.start_ms;
        if elapsed < duration_ms {
            let slice = usize::try_from(elapsed * 10 / duration_ms).expect("slice");
            assert!(
                filled <= due[slice],
                "{filled} filled in slice {slice}, due {}",
                due[slice]
            );
        }
    }
    // And the market catch-up finished it soon after the duration.
    assert!(
        run.end_ms - run.start_ms <= duration_ms + 5 * 60_000,
        "ended at +{} ms",
        run.end_ms - run.start_ms
    );
}
