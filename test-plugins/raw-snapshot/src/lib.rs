//! Behaves like a simple plugin — `init` places one resting limit order on the
//! signal's symbol and side, `quantity` at `price` from its params (strings,
//! e.g. `{"quantity": "0.5", "price": "1950"}`) — but its `snapshot` returns
//! `{not json`, which the host must refuse.

use std::str::FromStr;

use tesser_wasm::{ABI_VERSION, Decimal, DecimalParts};

wit_bindgen::generate!({
    path: "../../tesser-wasm/wit",
    world: "execution-plugin",
});

use exports::tesser::plugin::guest::Guest;
use std::cell::RefCell;
use tesser::plugin::types::{
    AlgorithmState, ChildOrderAction, Decimal as WitDecimal, ErrorKind, EventOutcome, Fill,
    InitContext, OrderRequest, OrderType, OrderUpdate, PluginError, PluginMetadata, PluginResult,
    RestoreContext, Tick, Timer, Version,
};

/// What `snapshot` returns.
const NOT_JSON: &str = "{not json";

struct Plugin;

thread_local! {
    /// What `init` produced, until the host takes it.
    static PENDING: RefCell<Option<Result<PluginResult, PluginError>>> = const { RefCell::new(None) };
}

fn running(orders: Vec<ChildOrderAction>) -> PluginResult {
    PluginResult {
        orders,
        logs: Vec::new(),
        state: AlgorithmState::Running,
    }
}

fn invalid_params(message: String) -> PluginError {
    PluginError {
        kind: ErrorKind::InvalidParams,
        message,
    }
}

/// The decimal string param `key`, in its ABI form.
fn decimal_param(params: &serde_json::Value, key: &str) -> Result<WitDecimal, PluginError> {
    let text = params
        .get(key)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| invalid_params(format!("{key}: expected a decimal string")))?;
    let value =
        Decimal::from_str(text).map_err(|error| invalid_params(format!("{key}: {error}")))?;
    let parts = DecimalParts::from_decimal(value);
    Ok(WitDecimal {
        mantissa_hi: parts.mantissa_hi,
        mantissa_lo: parts.mantissa_lo,
        scale: parts.scale,
    })
}

impl Guest for Plugin {
    fn abi_version() -> Version {
        Version {
            major: ABI_VERSION.major,
            minor: ABI_VERSION.minor,
            patch: ABI_VERSION.patch,
        }
    }

    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "places one resting order; its snapshot is not JSON".to_owned(),
            params_schema_json: None,
        }
    }

    fn init(ctx: InitContext) -> EventOutcome {
        let result = place_one_order(ctx);
        PENDING.with(|pending| *pending.borrow_mut() = Some(result));
        EventOutcome::Ready
    }

    fn on_tick(_tick: Tick) -> EventOutcome {
        EventOutcome::Idle
    }

    fn on_fill(_fill: Fill) -> EventOutcome {
        EventOutcome::Idle
    }

    fn on_order_update(_update: OrderUpdate) -> EventOutcome {
        EventOutcome::Idle
    }

    fn on_timer(_timer: Timer) -> EventOutcome {
        EventOutcome::Idle
    }

    fn take_result() -> Result<PluginResult, PluginError> {
        PENDING
            .with(|pending| pending.borrow_mut().take())
            .unwrap_or_else(|| Ok(running(Vec::new())))
    }

    fn snapshot() -> Result<String, PluginError> {
        Ok(NOT_JSON.to_owned())
    }

    fn restore(_ctx: RestoreContext) -> Result<(), PluginError> {
        Ok(())
    }
}

/// `init`: one resting limit order from the params.
fn place_one_order(ctx: InitContext) -> Result<PluginResult, PluginError> {
    let params: serde_json::Value = serde_json::from_str(&ctx.params_json)
        .map_err(|error| invalid_params(format!("params: {error}")))?;
    let order = OrderRequest {
        symbol: ctx.signal.symbol,
        side: ctx.signal.side,
        order_type: OrderType::Limit,
        quantity: decimal_param(&params, "quantity")?,
        price: Some(decimal_param(&params, "price")?),
        trigger_price: None,
        time_in_force: None,
        client_order_id: None,
        take_profit: None,
        stop_loss: None,
        display_quantity: None,
    };
    Ok(running(vec![ChildOrderAction::Place(order)]))
}

export!(Plugin);
