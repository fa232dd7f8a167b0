//! Conversions between the SDK types and the host bindings. Data coming back
//! from a guest is never trusted: a malformed value is an error, not a panic.

use rust_decimal::Decimal;
use tesser_wasm::{
    AbiVersion, DecimalParts, PluginAlgorithmState, PluginCancelRequest, PluginChildOrderAction,
    PluginError, PluginErrorKind, PluginFill, PluginInitContext, PluginLog, PluginLogLevel,
    PluginMetadata, PluginOrderRequest, PluginOrderStatus, PluginOrderType, PluginOrderUpdate,
    PluginOrderUpdateRequest, PluginRestoreContext, PluginResult, PluginSide, PluginSignalKind,
    PluginTick, PluginTimeInForce,
};

use super::bindings::wit;

pub(crate) fn decimal_out(value: Decimal) -> wit::Decimal {
    let parts = DecimalParts::from_decimal(value);
    wit::Decimal {
        mantissa_hi: parts.mantissa_hi,
        mantissa_lo: parts.mantissa_lo,
        scale: parts.scale,
    }
}

fn decimal_in(value: wit::Decimal, field: &'static str) -> Result<Decimal, String> {
    DecimalParts {
        mantissa_hi: value.mantissa_hi,
        mantissa_lo: value.mantissa_lo,
        scale: value.scale,
    }
    .to_decimal()
    .map_err(|error| format!("{field}: {error}"))
}

fn opt_decimal_in(
    value: Option<wit::Decimal>,
    field: &'static str,
) -> Result<Option<Decimal>, String> {
    value.map(|value| decimal_in(value, field)).transpose()
}

pub(crate) const fn side_out(side: PluginSide) -> wit::Side {
    match side {
        PluginSide::Buy => wit::Side::Buy,
        PluginSide::Sell => wit::Side::Sell,
    }
}

const fn side_in(side: wit::Side) -> PluginSide {
    match side {
        wit::Side::Buy => PluginSide::Buy,
        wit::Side::Sell => PluginSide::Sell,
    }
}

pub(crate) fn init_context_out(ctx: &PluginInitContext) -> wit::InitContext {
    let signal = &ctx.signal;
    let risk = &ctx.risk;
    wit::InitContext {
        algorithm_id: ctx.algorithm_id.clone(),
        signal: wit::Signal {
            id: signal.id.clone(),
            symbol: signal.symbol.clone(),
            side: side_out(signal.side),
            kind: match signal.kind {
                PluginSignalKind::EnterLong => wit::SignalKind::EnterLong,
                PluginSignalKind::ExitLong => wit::SignalKind::ExitLong,
                PluginSignalKind::EnterShort => wit::SignalKind::EnterShort,
                PluginSignalKind::ExitShort => wit::SignalKind::ExitShort,
                PluginSignalKind::Flatten => wit::SignalKind::Flatten,
            },
            target_quantity: decimal_out(signal.target_quantity),
            confidence: signal.confidence,
            note: signal.note.clone(),
            group_id: signal.group_id.clone(),
            stop_loss: signal.stop_loss.map(decimal_out),
            take_profit: signal.take_profit.map(decimal_out),
        },
        risk: wit::RiskContext {
            last_price: decimal_out(risk.last_price),
            equity: decimal_out(risk.equity),
            position: decimal_out(risk.position),
            balances: risk
                .balances
                .iter()
                .map(|balance| wit::Balance {
                    asset: balance.asset.clone(),
                    available: decimal_out(balance.available),
                })
                .collect(),
            instrument: wit::Instrument {
                tick_size: decimal_out(risk.instrument.tick_size),
                lot_size: decimal_out(risk.instrument.lot_size),
                min_quantity: decimal_out(risk.instrument.min_quantity),
                min_notional: decimal_out(risk.instrument.min_notional),
            },
            max_order_quantity: risk.max_order_quantity.map(decimal_out),
        },
        params_json: ctx.params.to_string(),
        now_ms: ctx.now_ms,
    }
}

/// The ABI's tick: scalars only (the instance knows its symbol), so
/// passing it copies no string.
pub(crate) fn tick_out(tick: &PluginTick) -> wit::Tick {
    wit::Tick {
        price: decimal_out(tick.price),
        size: decimal_out(tick.size),
        aggressor: tick.aggressor.map(side_out),
        timestamp_ms: tick.timestamp_ms,
    }
}

pub(crate) fn restore_context_out(ctx: &PluginRestoreContext) -> wit::RestoreContext {
    wit::RestoreContext {
        algorithm_id: ctx.algorithm_id.clone(),
        symbol: ctx.symbol.clone(),
        snapshot_json: ctx.snapshot_json.clone(),
    }
}

pub(crate) fn fill_out(fill: &PluginFill) -> wit::Fill {
    wit::Fill {
        client_order_id: fill.client_order_id.clone(),
        symbol: fill.symbol.clone(),
        side: side_out(fill.side),
        price: decimal_out(fill.price),
        quantity: decimal_out(fill.quantity),
        fee: decimal_out(fill.fee),
        timestamp_ms: fill.timestamp_ms,
    }
}

pub(crate) fn order_update_out(update: &PluginOrderUpdate) -> wit::OrderUpdate {
    wit::OrderUpdate {
        client_order_id: update.client_order_id.clone(),
        status: match update.status {
            PluginOrderStatus::Accepted => wit::OrderStatus::Accepted,
            PluginOrderStatus::Rejected => wit::OrderStatus::Rejected,
            PluginOrderStatus::PartiallyFilled => wit::OrderStatus::PartiallyFilled,
            PluginOrderStatus::Filled => wit::OrderStatus::Filled,
            PluginOrderStatus::Cancelled => wit::OrderStatus::Cancelled,
            PluginOrderStatus::Expired => wit::OrderStatus::Expired,
        },
        filled_quantity: decimal_out(update.filled_quantity),
        remaining_quantity: decimal_out(update.remaining_quantity),
        reason: update.reason.clone(),
        timestamp_ms: update.timestamp_ms,
    }
}

fn action_in(action: wit::ChildOrderAction) -> Result<PluginChildOrderAction, String> {
    Ok(match action {
        wit::ChildOrderAction::Place(request) => {
            PluginChildOrderAction::Place(PluginOrderRequest {
                side: side_in(request.side),
                order_type: match request.order_type {
                    wit::OrderType::Market => PluginOrderType::Market,
                    wit::OrderType::Limit => PluginOrderType::Limit,
                    wit::OrderType::StopMarket => PluginOrderType::StopMarket,
                    wit::OrderType::StopLimit => PluginOrderType::StopLimit,
                },
                quantity: decimal_in(request.quantity, "order.quantity")?,
                price: opt_decimal_in(request.price, "order.price")?,
                trigger_price: opt_decimal_in(request.trigger_price, "order.trigger_price")?,
                time_in_force: request.time_in_force.map(|tif| match tif {
                    wit::TimeInForce::GoodTilCancelled => PluginTimeInForce::GoodTilCancelled,
                    wit::TimeInForce::ImmediateOrCancel => PluginTimeInForce::ImmediateOrCancel,
                    wit::TimeInForce::FillOrKill => PluginTimeInForce::FillOrKill,
                    wit::TimeInForce::PostOnly => PluginTimeInForce::PostOnly,
                }),
                take_profit: opt_decimal_in(request.take_profit, "order.take_profit")?,
                stop_loss: opt_decimal_in(request.stop_loss, "order.stop_loss")?,
                display_quantity: opt_decimal_in(
                    request.display_quantity,
                    "order.display_quantity",
                )?,
                client_order_id: request.client_order_id,
                symbol: request.symbol,
            })
        }
        wit::ChildOrderAction::Amend(amend) => {
            PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
                new_price: opt_decimal_in(amend.new_price, "amend.new_price")?,
                new_quantity: opt_decimal_in(amend.new_quantity, "amend.new_quantity")?,
                client_order_id: amend.client_order_id,
            })
        }
        wit::ChildOrderAction::Cancel(client_order_id) => {
            PluginChildOrderAction::Cancel(PluginCancelRequest { client_order_id })
        }
    })
}

pub(crate) fn result_in(result: wit::PluginResult) -> Result<PluginResult, String> {
    Ok(PluginResult {
        // Empty lists stay unallocated.
        orders: result
            .orders
            .into_iter()
            .map(action_in)
            .collect::<Result<_, _>>()?,
        logs: result
            .logs
            .into_iter()
            .map(|log| PluginLog {
                level: match log.level {
                    wit::LogLevel::Trace => PluginLogLevel::Trace,
                    wit::LogLevel::Debug => PluginLogLevel::Debug,
                    wit::LogLevel::Info => PluginLogLevel::Info,
                    wit::LogLevel::Warn => PluginLogLevel::Warn,
                    wit::LogLevel::Error => PluginLogLevel::Error,
                },
                message: log.message,
            })
            .collect(),
        state: match result.state {
            wit::AlgorithmState::Running => PluginAlgorithmState::Running,
            wit::AlgorithmState::Completed => PluginAlgorithmState::Completed,
        },
    })
}

pub(crate) fn error_in(error: wit::PluginError) -> PluginError {
    PluginError {
        kind: match error.kind {
            wit::ErrorKind::InvalidParams => PluginErrorKind::InvalidParams,
            wit::ErrorKind::InvalidState => PluginErrorKind::InvalidState,
            wit::ErrorKind::InvalidInput => PluginErrorKind::InvalidInput,
            wit::ErrorKind::Internal => PluginErrorKind::Internal,
        },
        message: error.message,
    }
}

pub(crate) const fn version_in(version: wit::Version) -> AbiVersion {
    AbiVersion::new(version.major, version.minor, version.patch)
}

pub(crate) fn metadata_in(metadata: wit::PluginMetadata) -> Result<PluginMetadata, String> {
    let params_schema = metadata
        .params_schema_json
        .map(|schema| {
            serde_json::from_str(&schema)
                .map_err(|error| format!("params schema is not valid JSON: {error}"))
        })
        .transpose()?;
    Ok(PluginMetadata {
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
        params_schema,
    })
}
