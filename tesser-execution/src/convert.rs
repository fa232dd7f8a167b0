//! Conversions between the runtime's domain types and the plugin ABI types.

use tesser_core::{
    Decimal, FeeAsset, Fill, OrderStatus, OrderType, OrderUpdate, Side, SignalKind, TimeInForce,
};
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

/// The plugin's view of a fill.
///
/// The plugin ABI's `fee` is one number in the quote asset (a fee asset
/// field waits for ABI 3.0), so it is the fee's quote-asset value as far as
/// the host knows it: a quote-asset fee as charged; a base-asset fee valued
/// at the fill's price (the quantity withheld, at the price it traded); a
/// fee in a third asset (BNB) as zero, because the host has no price for
/// that asset. The portfolio, the fill journal and the summary keep every
/// fee in the asset it was charged in. `quantity` is the executed (gross)
/// quantity: the order did fill that much.
pub(crate) fn fill_to_plugin(fill: &Fill) -> PluginFill {
    let fee = match fill.fee_asset {
        FeeAsset::Quote => fill.fee,
        FeeAsset::Base(_) => fill.fee * fill.price,
        FeeAsset::Other(_) => Decimal::ZERO,
    };
    PluginFill {
        client_order_id: fill.client_order_id.to_string(),
        symbol: fill.symbol.to_string(),
        side: side_to_plugin(fill.side),
        price: fill.price,
        quantity: fill.quantity,
        fee,
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
