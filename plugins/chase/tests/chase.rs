//! Chase: params, the band, post-only, partial fills and rejections,
//! snapshots through the SDK runtime, and a real replay through the
//! orchestrator on the paper exchange.

use chase::Chase;
use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_testkit::{
    FIRST_TRADE_MS, NativeProvider, TimeInForce, assert_snapshot_refused, dec, init_context,
    restored, run_on_real_trades,
};
use tesser_wasm::{
    PluginChildOrderAction, PluginFill, PluginMetadata, PluginOrderRequest, PluginOrderStatus,
    PluginOrderUpdate, PluginResult, PluginRuntime, PluginTick, PluginTimeInForce, PluginTimer,
};

fn init_error(params: serde_json::Value) -> String {
    tesser_plugin_testkit::init_error::<Chase>(params)
}

fn placed(result: &PluginResult) -> Vec<PluginOrderRequest> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Place(request) => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn amended_to(result: &PluginResult) -> Vec<Decimal> {
    result
        .orders
        .iter()
        .filter_map(|action| match action {
            PluginChildOrderAction::Amend(amend) => {
                assert!(amend.new_quantity.is_none(), "a chase never re-sizes");
                amend.new_price
            }
            _ => None,
        })
        .collect()
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

fn update(id: &str, status: PluginOrderStatus, reason: Option<&str>, at: i64) -> PluginOrderUpdate {
    PluginOrderUpdate {
        client_order_id: id.into(),
        status,
        reason: reason.map(str::to_owned),
        timestamp_ms: at,
        ..PluginOrderUpdate::default()
    }
}

#[test]
fn init_refuses_bad_params_with_clear_messages() {
    assert!(init_error(json!({"clip_size": "0"})).contains("clip_size must be positive"));
    assert!(init_error(json!({"clip_size": "abc"})).contains("clip_size 'abc' is not a decimal"));
    assert!(
        init_error(json!({"clip_size": "0.00001"}))
            .contains("below the instrument's smallest order")
    );
    assert!(init_error(json!({"max_chase_bps": -5})).contains("max_chase_bps must be positive"));
    assert!(
        init_error(json!({"max_chase_bps": 10000})).contains("max_chase_bps must be below 10000")
    );
    assert!(init_error(json!({"post_only": "yes"})).contains("post_only must be true or false"));
    assert!(
        init_error(json!({"max_rejections": 0}))
            .contains("max_rejections must be between 1 and 1000")
    );
    assert!(init_error(json!({"clip": 1})).contains("unknown param 'clip'"));
}

#[test]
fn chases_the_last_price_inside_the_band() {
    let mut runtime = PluginRuntime::<Chase>::new();
    let start = runtime
        .init(init_context(
            json!({"clip_size": 1, "max_chase_bps": 10}),
            Decimal::TEN,
        ))
        .expect("init");
    let first = placed(&start);
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].quantity, first[0].price),
        (Decimal::ONE, Some(dec("10749.4")))
    );
    assert_eq!(first[0].time_in_force, None);
    // 10749.4 × 1.001 = 10760.1494 → band edge 10760.1.
    assert_eq!(runtime.plugin().band_price, Some(dec("10760.1")));
    assert_eq!(
        amended_to(
            &runtime
                .on_tick(tick("10755.0", FIRST_TRADE_MS + 1))
                .expect("tick")
        ),
        [dec("10755.0")]
    );
    let beyond = runtime
        .on_tick(tick("10800.0", FIRST_TRADE_MS + 2))
        .expect("tick");
    assert_eq!(
        amended_to(&beyond),
        [dec("10760.1")],
        "held at the band's edge"
    );
    assert!(beyond.logs[0].message.contains("beyond the chase band"));
    assert!(
        runtime
            .on_tick(tick("10900.0", FIRST_TRADE_MS + 3))
            .expect("tick")
            .orders
            .is_empty()
    );
    assert_eq!(
        amended_to(
            &runtime
                .on_tick(tick("10750.0", FIRST_TRADE_MS + 4))
                .expect("tick")
        ),
        [dec("10750.0")]
    );
}

#[test]
fn post_only_clips_rest_a_tick_behind_the_market() {
    let mut runtime = PluginRuntime::<Chase>::new();
    let start = runtime
        .init(init_context(
            json!({"clip_size": "0.5", "post_only": true}),
            Decimal::ONE,
        ))
        .expect("init");
    let first = placed(&start);
    assert_eq!(first[0].price, Some(dec("10749.3")));
    assert_eq!(first[0].time_in_force, Some(PluginTimeInForce::PostOnly));
    assert_eq!(
        amended_to(
            &runtime
                .on_tick(tick("10760.0", FIRST_TRADE_MS + 1))
                .expect("tick")
        ),
        [dec("10759.9")]
    );
}

#[test]
fn a_partly_filled_clip_keeps_working_and_the_next_is_sized_on_what_is_left() {
    let mut runtime = PluginRuntime::<Chase>::new();
    runtime
        .init(init_context(json!({"clip_size": "0.4"}), Decimal::ONE))
        .expect("init");
    runtime
        .on_fill(PluginFill {
            client_order_id: "algo-1-c1".into(),
            price: dec("10749.4"),
            quantity: dec("0.15"),
            ..PluginFill::default()
        })
        .expect("fill");
    // Still working: re-priced only.
    let moved = runtime
        .on_tick(tick("10751.0", FIRST_TRADE_MS + 1))
        .expect("tick");
    assert_eq!(amended_to(&moved), [dec("10751.0")]);
    assert!(placed(&moved).is_empty());
    // The venue cancels the rest: the next clip is a full clip (0.85 left).
    let next = runtime
        .on_order_update(update(
            "algo-1-c1",
            PluginOrderStatus::Cancelled,
            Some("venue maintenance"),
            FIRST_TRADE_MS + 2,
        ))
        .expect("update");
    assert_eq!(placed(&next)[0].quantity, dec("0.4"));
    assert_eq!(next.orders.len(), 1);
    // Two clips later only 0.05 is left: the last clip is that.
    for (id, quantity) in [("algo-1-c2", "0.4"), ("algo-1-c3", "0.4")] {
        runtime
            .on_fill(PluginFill {
                client_order_id: id.into(),
                price: dec("10751.0"),
                quantity: dec(quantity),
                ..PluginFill::default()
            })
            .expect("fill");
        let after = runtime
            .on_order_update(update(
                id,
                PluginOrderStatus::Filled,
                None,
                FIRST_TRADE_MS + 3,
            ))
            .expect("update");
        if id == "algo-1-c2" {
            assert_eq!(placed(&after)[0].quantity, dec("0.4"));
        } else {
            assert_eq!(placed(&after)[0].quantity, dec("0.05"));
        }
    }
}

#[test]
fn rejections_back_off_and_fail_after_max_rejections() {
    let mut runtime = PluginRuntime::<Chase>::new();
    runtime
        .init(init_context(json!({"max_rejections": 2}), Decimal::ONE))
        .expect("init");
    let refused = runtime
        .on_order_update(update(
            "algo-1-c1",
            PluginOrderStatus::Rejected,
            Some("price band"),
            FIRST_TRADE_MS,
        ))
        .expect("one refusal is tolerated");
    assert!(refused.orders.is_empty() && refused.logs[0].message.contains("price band"));
    assert!(
        runtime
            .on_tick(tick("10750.0", FIRST_TRADE_MS + 500))
            .expect("tick")
            .orders
            .is_empty(),
        "backing off"
    );
    let retry = runtime
        .on_timer(PluginTimer {
            now_ms: FIRST_TRADE_MS + 1_000,
        })
        .expect("timer");
    assert_eq!(placed(&retry).len(), 1);
    let error = runtime
        .on_order_update(update(
            "algo-1-c2",
            PluginOrderStatus::Rejected,
            Some("price band"),
            FIRST_TRADE_MS + 1_000,
        ))
        .expect_err("the second refusal in a row fails");
    assert!(
        error.message.contains("2 clips refused in a row"),
        "{error}"
    );
    assert!(error.message.contains("price band"));
}

#[test]
fn a_refused_amend_replaces_the_clip() {
    let mut runtime = PluginRuntime::<Chase>::new();
    runtime
        .init(init_context(json!({"clip_size": 1}), Decimal::TEN))
        .expect("init");
    runtime
        .on_tick(tick("10760.0", FIRST_TRADE_MS + 1))
        .expect("tick");
    let refused = runtime
        .on_order_update(update(
            "algo-1-c1",
            PluginOrderStatus::Accepted,
            Some("amend refused by the exchange"),
            FIRST_TRADE_MS + 1,
        ))
        .expect("update");
    assert!(
        matches!(&refused.orders[..], [PluginChildOrderAction::Cancel(cancel)] if cancel.client_order_id == "algo-1-c1")
    );
    let replaced = runtime
        .on_order_update(update(
            "algo-1-c1",
            PluginOrderStatus::Cancelled,
            None,
            FIRST_TRADE_MS + 1,
        ))
        .expect("update");
    let next = placed(&replaced);
    assert_eq!(
        (next[0].quantity, next[0].price),
        (Decimal::ONE, Some(dec("10760.0")))
    );
    assert_eq!(next[0].client_order_id.as_deref(), Some("c2"));
}

#[test]
fn snapshot_restore_round_trips_the_whole_state() {
    let mut original = PluginRuntime::<Chase>::new();
    original
        .init(init_context(
            json!({"clip_size": "0.5", "max_chase_bps": "25", "post_only": true}),
            Decimal::TEN,
        ))
        .expect("init");
    original
        .on_fill(PluginFill {
            client_order_id: "algo-1-c1".into(),
            price: dec("10749.3"),
            quantity: dec("0.2"),
            ..PluginFill::default()
        })
        .expect("fill");
    let snapshot = original.snapshot().expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&snapshot).expect("JSON");
    assert_eq!(value["arrival_price"], "10749.4");
    assert_eq!(value["params"]["post_only"], true);
    assert_eq!(value["orders"]["filled"], "0.2");

    let mut restored = restored(&original, &snapshot);
    let next = tick("10770.0", FIRST_TRADE_MS + 10);
    assert_eq!(restored.on_tick(next.clone()), original.on_tick(next));
    assert_snapshot_refused::<Chase>("{}");
}

#[test]
fn metadata_declares_a_strict_params_schema() {
    let schema = PluginRuntime::<Chase>::metadata(PluginMetadata::default())
        .params_schema
        .expect("a schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], json!([]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["post_only"]["type"], "boolean");
}

/// Buys 10 BTC on the real trades, post-only clips of 0.5 inside a 3 % band.
#[test]
fn real_trades_buy_10_btc_post_only_inside_a_300_bps_band() {
    let target = Decimal::TEN;
    let run = run_on_real_trades(
        NativeProvider::new().with::<Chase>("chase"),
        "chase",
        json!({"clip_size": "0.5", "max_chase_bps": 300, "post_only": true}),
        target,
    );
    run.assert_completed_exactly(target);
    // 10749.4 × 1.03 = 11071.882 → 11071.8.
    let edge = dec("11071.8");
    for sent in &run.sent {
        assert_eq!(
            sent.request.time_in_force,
            TimeInForce::PostOnly,
            "{sent:?}"
        );
        assert!(sent.request.quantity <= dec("0.5"), "{sent:?}");
        let price = sent.request.price.expect("a limit price");
        assert!(price <= edge, "{price} is beyond the band edge {edge}");
    }
    for fill in &run.fills {
        assert!(
            fill.price <= edge,
            "filled at {} beyond the band",
            fill.price
        );
    }
}
