//! Conversions between the generated WIT types and the SDK types, guest
//! side. Nothing here unwraps: data from the host is validated and a bad
//! value becomes a [`PluginError`].

use rust_decimal::Decimal;

use super::wit;
use crate::{
    DecimalParts, PluginAlgorithmState, PluginBalance, PluginChildOrderAction, PluginError,
    PluginErrorKind, PluginFill, PluginInitContext, PluginInstrument, PluginLogLevel,
    PluginMetadata, PluginOrderStatus, PluginOrderType, PluginOrderUpdate, PluginResult,
    PluginRiskContext, PluginSide, PluginSignal, PluginSignalKind, PluginTick, PluginTimeInForce,
};

fn decimal_in(value: wit::Decimal, field: &str) -> Result<Decimal, PluginError> {
    DecimalParts {
        mantissa_hi: value.mantissa_hi,
        mantissa_lo: value.mantissa_lo,
        scale: value.scale,
    }
    .to_decimal()
    .map_err(|error| PluginError::invalid_input(format!("{field}: {error}")))
}

fn opt_decimal_in(
    value: Option<wit::Decimal>,
    field: &str,
) -> Result<Option<Decimal>, PluginError> {
    value.map(|value| decimal_in(value, field)).transpose()
}

fn decimal_out(value: Decimal) -> wit::Decimal {
    let parts = DecimalParts::from_decimal(value);
    wit::Decimal {
        mantissa_hi: parts.mantissa_hi,
        mantissa_lo: parts.mantissa_lo,
        scale: parts.scale,
    }
}

const fn side_in(side: wit::Side) -> PluginSide {
    match side {
        wit::Side::Buy => PluginSide::Buy,
        wit::Side::Sell => PluginSide::Sell,
    }
}

const fn side_out(side: PluginSide) -> wit::Side {
    match side {
        PluginSide::Buy => wit::Side::Buy,
        PluginSide::Sell => wit::Side::Sell,
    }
}

pub(super) fn init_context_in(ctx: wit::InitContext) -> Result<PluginInitContext, PluginError> {
    let wit::InitContext {
        algorithm_id,
        signal,
        risk,
        params_json,
        now_ms,
    } = ctx;
    let params = serde_json::from_str(&params_json)
        .map_err(|error| PluginError::invalid_params(format!("params are not JSON: {error}")))?;
    Ok(PluginInitContext {
        algorithm_id,
        signal: PluginSignal {
            id: signal.id,
            symbol: signal.symbol,
            side: side_in(signal.side),
            kind: match signal.kind {
                wit::SignalKind::EnterLong => PluginSignalKind::EnterLong,
                wit::SignalKind::ExitLong => PluginSignalKind::ExitLong,
                wit::SignalKind::EnterShort => PluginSignalKind::EnterShort,
                wit::SignalKind::ExitShort => PluginSignalKind::ExitShort,
                wit::SignalKind::Flatten => PluginSignalKind::Flatten,
            },
            target_quantity: decimal_in(signal.target_quantity, "signal.target_quantity")?,
            confidence: signal.confidence,
            note: signal.note,
            group_id: signal.group_id,
            stop_loss: opt_decimal_in(signal.stop_loss, "signal.stop_loss")?,
            take_profit: opt_decimal_in(signal.take_profit, "signal.take_profit")?,
        },
        risk: PluginRiskContext {
            last_price: decimal_in(risk.last_price, "risk.last_price")?,
            equity: decimal_in(risk.equity, "risk.equity")?,
            position: decimal_in(risk.position, "risk.position")?,
            balances: risk
                .balances
                .into_iter()
                .map(|balance| {
                    Ok(PluginBalance {
                        available: decimal_in(balance.available, "risk.balances.available")?,
                        asset: balance.asset,
                    })
                })
                .collect::<Result<_, PluginError>>()?,
            instrument: PluginInstrument {
                tick_size: decimal_in(risk.instrument.tick_size, "instrument.tick_size")?,
                lot_size: decimal_in(risk.instrument.lot_size, "instrument.lot_size")?,
                min_quantity: decimal_in(risk.instrument.min_quantity, "instrument.min_quantity")?,
                min_notional: decimal_in(risk.instrument.min_notional, "instrument.min_notional")?,
            },
            max_order_quantity: opt_decimal_in(risk.max_order_quantity, "risk.max_order_quantity")?,
        },
        params,
        now_ms,
    })
}

/// A tick of `symbol`: the ABI's tick carries no symbol, the instance's
/// algorithm has one.
pub(super) fn tick_in(tick: wit::Tick, symbol: &str) -> Result<PluginTick, PluginError> {
    Ok(PluginTick {
        price: decimal_in(tick.price, "tick.price")?,
        size: decimal_in(tick.size, "tick.size")?,
        aggressor: tick.aggressor.map(side_in),
        timestamp_ms: tick.timestamp_ms,
        symbol: symbol.to_owned(),
    })
}

pub(super) fn fill_in(fill: wit::Fill) -> Result<PluginFill, PluginError> {
    Ok(PluginFill {
        side: side_in(fill.side),
        price: decimal_in(fill.price, "fill.price")?,
        quantity: decimal_in(fill.quantity, "fill.quantity")?,
        fee: decimal_in(fill.fee, "fill.fee")?,
        timestamp_ms: fill.timestamp_ms,
        client_order_id: fill.client_order_id,
        symbol: fill.symbol,
    })
}

pub(super) fn order_update_in(update: wit::OrderUpdate) -> Result<PluginOrderUpdate, PluginError> {
    Ok(PluginOrderUpdate {
        status: match update.status {
            wit::OrderStatus::Accepted => PluginOrderStatus::Accepted,
            wit::OrderStatus::Rejected => PluginOrderStatus::Rejected,
            wit::OrderStatus::PartiallyFilled => PluginOrderStatus::PartiallyFilled,
            wit::OrderStatus::Filled => PluginOrderStatus::Filled,
            wit::OrderStatus::Cancelled => PluginOrderStatus::Cancelled,
            wit::OrderStatus::Expired => PluginOrderStatus::Expired,
        },
        filled_quantity: decimal_in(update.filled_quantity, "order_update.filled_quantity")?,
        remaining_quantity: decimal_in(
            update.remaining_quantity,
            "order_update.remaining_quantity",
        )?,
        timestamp_ms: update.timestamp_ms,
        client_order_id: update.client_order_id,
        reason: update.reason,
    })
}

fn action_out(action: PluginChildOrderAction) -> wit::ChildOrderAction {
    match action {
        PluginChildOrderAction::Place(request) => wit::ChildOrderAction::Place(wit::OrderRequest {
            symbol: request.symbol,
            side: side_out(request.side),
            order_type: match request.order_type {
                PluginOrderType::Market => wit::OrderType::Market,
                PluginOrderType::Limit => wit::OrderType::Limit,
                PluginOrderType::StopMarket => wit::OrderType::StopMarket,
                PluginOrderType::StopLimit => wit::OrderType::StopLimit,
            },
            quantity: decimal_out(request.quantity),
            price: request.price.map(decimal_out),
            trigger_price: request.trigger_price.map(decimal_out),
            time_in_force: request.time_in_force.map(|tif| match tif {
                PluginTimeInForce::GoodTilCancelled => wit::TimeInForce::GoodTilCancelled,
                PluginTimeInForce::ImmediateOrCancel => wit::TimeInForce::ImmediateOrCancel,
                PluginTimeInForce::FillOrKill => wit::TimeInForce::FillOrKill,
                PluginTimeInForce::PostOnly => wit::TimeInForce::PostOnly,
            }),
            client_order_id: request.client_order_id,
            take_profit: request.take_profit.map(decimal_out),
            stop_loss: request.stop_loss.map(decimal_out),
            display_quantity: request.display_quantity.map(decimal_out),
        }),
        PluginChildOrderAction::Amend(amend) => wit::ChildOrderAction::Amend(wit::OrderAmend {
            client_order_id: amend.client_order_id,
            new_price: amend.new_price.map(decimal_out),
            new_quantity: amend.new_quantity.map(decimal_out),
        }),
        PluginChildOrderAction::Cancel(cancel) => {
            wit::ChildOrderAction::Cancel(cancel.client_order_id)
        }
    }
}

pub(super) fn result_out(
    result: Result<PluginResult, PluginError>,
) -> Result<wit::PluginResult, wit::PluginError> {
    let result = result.map_err(error_out)?;
    Ok(wit::PluginResult {
        // Empty vectors map to empty vectors without allocating.
        orders: result.orders.into_iter().map(action_out).collect(),
        logs: result
            .logs
            .into_iter()
            .map(|log| wit::LogEntry {
                level: match log.level {
                    PluginLogLevel::Trace => wit::LogLevel::Trace,
                    PluginLogLevel::Debug => wit::LogLevel::Debug,
                    PluginLogLevel::Info => wit::LogLevel::Info,
                    PluginLogLevel::Warn => wit::LogLevel::Warn,
                    PluginLogLevel::Error => wit::LogLevel::Error,
                },
                message: log.message,
            })
            .collect(),
        state: match result.state {
            PluginAlgorithmState::Running => wit::AlgorithmState::Running,
            PluginAlgorithmState::Completed => wit::AlgorithmState::Completed,
        },
    })
}

pub(super) fn error_out(error: PluginError) -> wit::PluginError {
    wit::PluginError {
        kind: match error.kind {
            PluginErrorKind::InvalidParams => wit::ErrorKind::InvalidParams,
            PluginErrorKind::InvalidState => wit::ErrorKind::InvalidState,
            PluginErrorKind::InvalidInput => wit::ErrorKind::InvalidInput,
            PluginErrorKind::Internal => wit::ErrorKind::Internal,
        },
        message: error.message,
    }
}

pub(super) fn metadata_out(metadata: PluginMetadata) -> wit::PluginMetadata {
    wit::PluginMetadata {
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
        params_schema_json: metadata.params_schema.map(|schema| schema.to_string()),
    }
}
