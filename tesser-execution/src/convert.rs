//! Conversions between the runtime's domain types and the plugin ABI types.

use tesser_core::{Fill, OrderStatus, OrderType, OrderUpdate, Side, SignalKind, TimeInForce};
use tesser_wasm::{
    PluginFill, PluginOrderStatus, PluginOrderType, PluginOrderUpdate, PluginSide,
    PluginSignalKind, PluginTimeInForce,
};

pub(crate) const fn side_to_plugin(side: Side) -> PluginSide {
    match side {
        Side::Buy => PluginSide::Buy,
        Side::Sell => PluginSide::Sell,
    }
}

pub(crate) const fn side_from_plugin(side: PluginSide) -> Side {
    match side {
        PluginSide::Buy => Side::Buy,
        PluginSide::Sell => Side::Sell,
    }
}

pub(crate) const fn kind_to_plugin(kind: SignalKind) -> PluginSignalKind {
    match kind {
        SignalKind::EnterLong => PluginSignalKind::EnterLong,
        SignalKind::ExitLong => PluginSignalKind::ExitLong,
        SignalKind::EnterShort => PluginSignalKind::EnterShort,
        SignalKind::ExitShort => PluginSignalKind::ExitShort,
        SignalKind::Flatten => PluginSignalKind::Flatten,
    }
}

pub(crate) const fn order_type_from_plugin(order_type: PluginOrderType) -> OrderType {
    match order_type {
        PluginOrderType::Market => OrderType::Market,
        PluginOrderType::Limit => OrderType::Limit,
        PluginOrderType::StopMarket => OrderType::StopMarket,
        PluginOrderType::StopLimit => OrderType::StopLimit,
    }
}

pub(crate) const fn tif_from_plugin(tif: Option<PluginTimeInForce>) -> TimeInForce {
    match tif {
        None | Some(PluginTimeInForce::GoodTilCancelled) => TimeInForce::GoodTilCancelled,
        Some(PluginTimeInForce::ImmediateOrCancel) => TimeInForce::ImmediateOrCancel,
        Some(PluginTimeInForce::FillOrKill) => TimeInForce::FillOrKill,
        Some(PluginTimeInForce::PostOnly) => TimeInForce::PostOnly,
    }
}

pub(crate) const fn status_to_plugin(status: OrderStatus) -> PluginOrderStatus {
    match status {
        OrderStatus::Accepted => PluginOrderStatus::Accepted,
        OrderStatus::PartiallyFilled => PluginOrderStatus::PartiallyFilled,
        OrderStatus::Filled => PluginOrderStatus::Filled,
        OrderStatus::Cancelled => PluginOrderStatus::Cancelled,
        OrderStatus::Rejected => PluginOrderStatus::Rejected,
        OrderStatus::Expired => PluginOrderStatus::Expired,
    }
}

pub(crate) fn fill_to_plugin(fill: &Fill) -> PluginFill {
    PluginFill {
        client_order_id: fill.client_order_id.to_string(),
        symbol: fill.symbol.to_string(),
        side: side_to_plugin(fill.side),
        price: fill.price,
        quantity: fill.quantity,
        fee: fill.fee,
        timestamp_ms: fill.timestamp_ms,
    }
}

pub(crate) fn update_to_plugin(update: &OrderUpdate) -> PluginOrderUpdate {
    PluginOrderUpdate {
        client_order_id: update.client_order_id.to_string(),
        status: status_to_plugin(update.status),
        filled_quantity: update.filled_quantity,
        remaining_quantity: update.remaining_quantity,
        reason: update.reason.clone(),
        timestamp_ms: update.timestamp_ms,
    }
}
