//! The JSON shape of every shared type is public contract: fixtures, host
//! persistence and other-language tools read it. These goldens pin it; a
//! change here is a breaking change of the SDK.

use rust_decimal_macros::dec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tesser_wasm::{
    AbiVersion, PluginAlgorithmState, PluginBalance, PluginCancelRequest, PluginChildOrderAction,
    PluginError, PluginFill, PluginInitContext, PluginInstrument, PluginLog, PluginLogLevel,
    PluginMetadata, PluginOrderRequest, PluginOrderStatus, PluginOrderType, PluginOrderUpdate,
    PluginOrderUpdateRequest, PluginResult, PluginRiskContext, PluginSide, PluginSignal,
    PluginSignalKind, PluginTick, PluginTimeInForce, PluginTimer,
};

/// Serializes to exactly `golden` and parses back to the same value.
fn pin<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, golden: Value) {
    assert_eq!(serde_json::to_value(value).expect("serialize"), golden);
    let back: T = serde_json::from_value(golden).expect("deserialize golden");
    assert_eq!(&back, value);
}

fn signal() -> PluginSignal {
    PluginSignal {
        id: "sig-1".into(),
        symbol: "BTCUSD".into(),
        side: PluginSide::Sell,
        kind: PluginSignalKind::ExitLong,
        target_quantity: dec!(5),
        confidence: 0.8,
        note: Some("take profit".into()),
        group_id: None,
        stop_loss: Some(dec!(10600.0)),
        take_profit: None,
    }
}

fn signal_json() -> Value {
    json!({
        "id": "sig-1", "symbol": "BTCUSD", "side": "sell", "kind": "exit_long",
        "target_quantity": "5", "confidence": 0.8, "note": "take profit", "group_id": null,
        "stop_loss": "10600.0", "take_profit": null
    })
}

fn risk() -> PluginRiskContext {
    PluginRiskContext {
        last_price: dec!(10749.4),
        equity: dec!(100000),
        position: dec!(-1.5),
        balances: vec![PluginBalance {
            asset: "USD".into(),
            available: dec!(98000.25),
        }],
        instrument: PluginInstrument {
            tick_size: dec!(0.1),
            lot_size: dec!(0.00000001),
            min_quantity: dec!(0.0001),
            min_notional: dec!(5),
        },
        max_order_quantity: Some(dec!(2)),
    }
}

fn risk_json() -> Value {
    json!({
        "last_price": "10749.4", "equity": "100000", "position": "-1.5",
        "balances": [{"asset": "USD", "available": "98000.25"}],
        "instrument": {"tick_size": "0.1", "lot_size": "0.00000001", "min_quantity": "0.0001", "min_notional": "5"},
        "max_order_quantity": "2"
    })
}

#[test]
fn enums_are_snake_case_strings() {
    pin(&PluginSide::Buy, json!("buy"));
    pin(&PluginSide::Sell, json!("sell"));
    pin(&PluginSignalKind::EnterShort, json!("enter_short"));
    pin(&PluginSignalKind::Flatten, json!("flatten"));
    pin(&PluginOrderType::StopLimit, json!("stop_limit"));
    pin(
        &PluginTimeInForce::ImmediateOrCancel,
        json!("immediate_or_cancel"),
    );
    pin(&PluginTimeInForce::PostOnly, json!("post_only"));
    pin(
        &PluginOrderStatus::PartiallyFilled,
        json!("partially_filled"),
    );
    pin(&PluginLogLevel::Warn, json!("warn"));
    pin(&PluginAlgorithmState::Completed, json!("completed"));
    assert_eq!(PluginSide::default(), PluginSide::Buy);
}

#[test]
fn signal_and_contexts() {
    pin(&signal(), signal_json());
    pin(&risk(), risk_json());
    pin(
        &PluginInitContext {
            algorithm_id: "algo-7".into(),
            signal: signal(),
            risk: risk(),
            params: json!({"clip_size": "0.25"}),
            now_ms: 1_561_939_203_172,
        },
        json!({
            "algorithm_id": "algo-7", "signal": signal_json(), "risk": risk_json(),
            "params": {"clip_size": "0.25"}, "now_ms": 1_561_939_203_172_i64
        }),
    );
}

#[test]
fn events() {
    pin(
        &PluginTick {
            symbol: "BTCUSD".into(),
            price: dec!(10749.4),
            size: dec!(0.004),
            aggressor: Some(PluginSide::Sell),
            timestamp_ms: 1_561_939_203_172,
        },
        json!({"symbol": "BTCUSD", "price": "10749.4", "size": "0.004", "aggressor": "sell", "timestamp_ms": 1_561_939_203_172_i64}),
    );
    pin(
        &PluginFill {
            client_order_id: "algo-7-0001".into(),
            symbol: "BTCUSD".into(),
            side: PluginSide::Buy,
            price: dec!(10749.4),
            quantity: dec!(0.25),
            fee: dec!(0.53747),
            timestamp_ms: 5,
        },
        json!({"client_order_id": "algo-7-0001", "symbol": "BTCUSD", "side": "buy", "price": "10749.4", "quantity": "0.25", "fee": "0.53747", "timestamp_ms": 5}),
    );
    pin(
        &PluginOrderUpdate {
            client_order_id: "algo-7-0002".into(),
            status: PluginOrderStatus::Rejected,
            filled_quantity: dec!(0),
            remaining_quantity: dec!(0),
            reason: Some("price outside the band".into()),
            timestamp_ms: 6,
        },
        json!({"client_order_id": "algo-7-0002", "status": "rejected", "filled_quantity": "0", "remaining_quantity": "0", "reason": "price outside the band", "timestamp_ms": 6}),
    );
    pin(&PluginTimer { now_ms: 7 }, json!({"now_ms": 7}));
}

#[test]
fn order_request_has_exactly_the_seeds_eleven_fields() {
    let request = PluginOrderRequest {
        symbol: "BTCUSD".into(),
        side: PluginSide::Buy,
        order_type: PluginOrderType::Limit,
        quantity: dec!(0.1),
        price: Some(dec!(10749.4)),
        trigger_price: None,
        time_in_force: Some(PluginTimeInForce::GoodTilCancelled),
        client_order_id: Some("a".into()),
        take_profit: None,
        stop_loss: None,
        display_quantity: Some(dec!(0.01)),
    };
    let golden = json!({
        "symbol": "BTCUSD", "side": "buy", "order_type": "limit", "quantity": "0.1",
        "price": "10749.4", "trigger_price": null, "time_in_force": "good_til_cancelled",
        "client_order_id": "a", "take_profit": null, "stop_loss": null, "display_quantity": "0.01"
    });
    assert_eq!(golden.as_object().map(serde_json::Map::len), Some(11));
    pin(&request, golden.clone());
    pin(
        &PluginChildOrderAction::Place(request),
        json!({"place": golden}),
    );
}

#[test]
fn amend_cancel_result_error_metadata() {
    pin(
        &PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
            client_order_id: "algo-7-0001".into(),
            new_price: Some(dec!(10750)),
            new_quantity: None,
        }),
        json!({"amend": {"client_order_id": "algo-7-0001", "new_price": "10750", "new_quantity": null}}),
    );
    pin(
        &PluginChildOrderAction::Cancel(PluginCancelRequest::new("algo-7-0001")),
        json!({"cancel": {"client_order_id": "algo-7-0001"}}),
    );
    pin(
        &PluginResult::new()
            .with_order(PluginChildOrderAction::Cancel(PluginCancelRequest::new(
                "x",
            )))
            .with_log(PluginLogLevel::Error, "gave up")
            .completed(),
        json!({
            "orders": [{"cancel": {"client_order_id": "x"}}],
            "logs": [{"level": "error", "message": "gave up"}],
            "state": "completed"
        }),
    );
    // Missing lists and state default, so hand-written fixtures stay short.
    let empty: PluginResult = serde_json::from_value(json!({})).expect("defaults");
    assert!(empty.is_empty());
    pin(
        &PluginLog {
            level: PluginLogLevel::Debug,
            message: "m".into(),
        },
        json!({"level": "debug", "message": "m"}),
    );
    pin(
        &PluginError::invalid_params("clip_size must be positive"),
        json!({"kind": "invalid_params", "message": "clip_size must be positive"}),
    );
    pin(
        &PluginMetadata {
            name: "plugin-chase".into(),
            version: "0.1.0".into(),
            description: "chase".into(),
            params_schema: Some(json!({"type": "object"})),
        },
        json!({"name": "plugin-chase", "version": "0.1.0", "description": "chase", "params_schema": {"type": "object"}}),
    );
    pin(
        &AbiVersion::new(1, 2, 3),
        json!({"major": 1, "minor": 2, "patch": 3}),
    );
}

#[test]
fn abi_constants_match_the_wit_package() {
    let version = tesser_wasm::ABI_VERSION.to_string();
    assert_eq!(tesser_wasm::WIT_PACKAGE, format!("tesser:plugin@{version}"));
    assert!(
        tesser_wasm::WIT_SOURCE.contains(&format!("package {};", tesser_wasm::WIT_PACKAGE)),
        "wit/plugin.wit declares another package version than ABI_VERSION"
    );
}

#[test]
fn decimals_cross_the_abi_exactly() {
    use tesser_wasm::DecimalParts;
    for value in [
        dec!(0),
        dec!(-0.00000001),
        dec!(10749.4),
        rust_decimal::Decimal::MAX,
        rust_decimal::Decimal::MIN,
        dec!(0.0000000000000000000000000001),
    ] {
        assert_eq!(DecimalParts::from_decimal(value).to_decimal(), Ok(value));
    }
    let too_big = DecimalParts {
        mantissa_hi: i64::MAX,
        mantissa_lo: 0,
        scale: 0,
    };
    assert!(too_big.to_decimal().is_err());
    let bad_scale = DecimalParts {
        mantissa_hi: 0,
        mantissa_lo: 1,
        scale: 29,
    };
    assert!(bad_scale.to_decimal().is_err());
}
