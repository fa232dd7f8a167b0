//! VWAP: params, profile math, snapshots through the SDK runtime, and a real
//! replay through the orchestrator on the paper exchange.

use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_kit::schedule::cumulative_due;
use tesser_plugin_testkit::{
    FIRST_TRADE_MS, NativeProvider, assert_snapshot_refused, dec, init_context, restored,
    run_on_real_trades,
};
use tesser_wasm::{
    PluginChildOrderAction, PluginFill, PluginMetadata, PluginOrderType, PluginRuntime, PluginTimer,
};
use vwap::{Vwap, default_profile, largest_bucket};

fn init_error(params: serde_json::Value) -> String {
    tesser_plugin_testkit::init_error::<Vwap>(params)
}

fn placed(result: &tesser_wasm::PluginResult) -> Vec<(PluginOrderType, Decimal)> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Place(request) => Some((request.order_type, request.quantity)),
            _ => None,
        })
        .collect()
}

#[test]
fn init_refuses_bad_params_with_clear_messages() {
    let defaults =
        vwap::VwapParams::parse(&json!({"profile": [1, 2]})).expect("the default duration");
    assert_eq!(defaults.duration_ms, vwap::DEFAULT_DURATION_MS);
    assert!(
        init_error(json!({"duration_ms": 60000, "profile": []}))
            .contains("profile must have 1 to 1000 weights")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "profile": [1, "-2"]}))
            .contains("must not be negative, got -2 at profile[1]")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "profile": [0, 0]}))
            .contains("must not all be zero")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "profile": [1, "x"]}))
            .contains("profile[1] 'x' is not a decimal")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "profile": "1,2"}))
            .contains("profile must be an array")
    );
    assert!(
        init_error(json!({"duration_ms": 2, "profile": [1, 1, 1]}))
            .contains("must not exceed duration_ms")
    );
    assert!(
        init_error(json!({"duration_ms": 60000, "weights": [1]}))
            .contains("unknown param 'weights'")
    );
}

#[test]
fn buckets_get_their_share_of_the_target() {
    let lot = dec("0.0001");
    let due = cumulative_due(Decimal::TEN, &default_profile(), lot);
    // 14/90 of 10 = 1.5555…, rounded down to the lot.
    assert_eq!(due[0], dec("1.5555"));
    assert_eq!(due[4], dec("5.0"));
    assert_eq!(due[9], Decimal::TEN);
    assert_eq!(largest_bucket(&due, lot), dec("1.5556"));
    let due = cumulative_due(Decimal::ONE, &[Decimal::ZERO, Decimal::ONE], lot);
    assert_eq!(due, [Decimal::ZERO, Decimal::ONE]);
}

#[test]
fn releases_each_bucket_share_and_skips_empty_buckets() {
    let mut runtime = PluginRuntime::<Vwap>::new();
    let start = runtime
        .init(init_context(
            json!({"duration_ms": 30_000, "profile": ["0", 1, "2"], "order_type": "market"}),
            Decimal::from(3),
        ))
        .expect("init");
    assert!(placed(&start).is_empty(), "the first bucket has no weight");
    let second = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 10_000,
        })
        .expect("timer");
    assert_eq!(placed(&second), [(PluginOrderType::Market, Decimal::ONE)]);
    let third = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 20_000,
        })
        .expect("timer");
    assert_eq!(
        placed(&third),
        [(PluginOrderType::Market, Decimal::from(2))]
    );
}

#[test]
fn snapshot_restore_round_trips_the_whole_state() {
    let mut original = PluginRuntime::<Vwap>::new();
    original
        .init(init_context(json!({"duration_ms": 60_000}), Decimal::TEN))
        .expect("init");
    original
        .on_fill(PluginFill {
            client_order_id: "algo-1-c1".into(),
            price: dec("10749.4"),
            quantity: dec("0.5"),
            ..PluginFill::default()
        })
        .expect("fill");
    let snapshot = original.snapshot().expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&snapshot).expect("JSON");
    assert_eq!(value["name"], "vwap");
    assert_eq!(value["due"].as_array().map(Vec::len), Some(10));

    let mut restored = restored(&original, &snapshot);
    let timer = PluginTimer {
        now_ms: FIRST_TRADE_MS + 30_000,
    };
    assert_eq!(restored.on_timer(timer), original.on_timer(timer));

    assert_snapshot_refused::<Vwap>("{\"name\": 3}");
}

#[test]
fn metadata_declares_a_strict_params_schema() {
    let schema = PluginRuntime::<Vwap>::metadata(PluginMetadata::default())
        .params_schema
        .expect("a schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], json!([]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["profile"]["type"], "array");
}

/// Buys 10 BTC over 40 minutes of the real trades along the default U profile.
#[test]
fn real_trades_buy_10_btc_along_the_default_profile_over_40_minutes() {
    let target = Decimal::TEN;
    let duration_ms = 40 * 60 * 1_000;
    let run = run_on_real_trades(
        NativeProvider::new().with::<Vwap>("vwap"),
        "vwap",
        json!({"duration_ms": duration_ms}),
        target,
    );
    run.assert_completed_exactly(target);
    let due = cumulative_due(target, &default_profile(), dec("0.0001"));
    let cap = largest_bucket(&due, dec("0.0001"));
    for quantity in run.placed_quantities() {
        assert!(
            quantity <= cap,
            "a child order of {quantity} exceeds the largest bucket {cap}"
        );
    }
    // Never ahead of the profile: by the end of bucket i at most its
    // cumulative share has filled.
    let mut filled = Decimal::ZERO;
    for fill in &run.fills {
        filled += fill.quantity;
        let elapsed = fill.timestamp_ms - run.start_ms;
        if elapsed < duration_ms {
            let bucket = usize::try_from(elapsed * 10 / duration_ms).expect("bucket");
            assert!(
                filled <= due[bucket],
                "{filled} filled in bucket {bucket}, due {}",
                due[bucket]
            );
        }
    }
    assert!(
        run.end_ms - run.start_ms <= duration_ms + 5 * 60_000,
        "ended at +{} ms",
        run.end_ms - run.start_ms
    );
}
