//! Child-order actions a plugin returns.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PluginSide;

/// Order types a plugin may request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginOrderType {
    /// Execute at the best available price.
    #[default]
    Market,
    /// Execute at `price` or better.
    Limit,
    /// A market order triggered when the market reaches `trigger_price`.
    StopMarket,
    /// A limit order at `price` triggered when the market reaches `trigger_price`.
    StopLimit,
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginTimeInForce {
    /// Until filled or cancelled.
    #[default]
    GoodTilCancelled,
    /// Fill what can be filled at once, expire the rest.
    ImmediateOrCancel,
    /// Fill completely at once or not at all.
    FillOrKill,
    /// Rest on the book only; refused if it would take liquidity.
    PostOnly,
}

/// A new child order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginOrderRequest {
    /// Instrument symbol; must be the parent signal's.
    pub symbol: String,
    /// Side; must be the parent signal's.
    pub side: PluginSide,
    /// Order type.
    pub order_type: PluginOrderType,
    /// Quantity.
    pub quantity: Decimal,
    /// Limit price (limit and stop-limit orders).
    pub price: Option<Decimal>,
    /// Trigger price (stop orders).
    pub trigger_price: Option<Decimal>,
    /// Time in force; good-til-cancelled when absent.
    pub time_in_force: Option<PluginTimeInForce>,
    /// A suffix the host appends to the algorithm's id to name the order;
    /// the host numbers orders itself when absent.
    pub client_order_id: Option<String>,
    /// Profit target attached to the order, for venues that support it.
    pub take_profit: Option<Decimal>,
    /// Protective stop attached to the order, for venues that support it.
    pub stop_loss: Option<Decimal>,
    /// Visible quantity of an iceberg order.
    pub display_quantity: Option<Decimal>,
}

/// A change to a working child order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginOrderUpdateRequest {
    /// The order to change, as acknowledged by the host.
    pub client_order_id: String,
    /// New limit price.
    pub new_price: Option<Decimal>,
    /// New total quantity (including what has already filled).
    pub new_quantity: Option<Decimal>,
}

/// A request to cancel a working child order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginCancelRequest {
    /// The order to cancel, as acknowledged by the host.
    pub client_order_id: String,
}

impl PluginCancelRequest {
    /// Cancels the order named `client_order_id`.
    #[must_use]
    pub fn new(client_order_id: impl Into<String>) -> Self {
        Self {
            client_order_id: client_order_id.into(),
        }
    }
}

/// What a plugin asks the host to do with its child orders. Every action
/// passes the host's risk guard before it reaches the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginChildOrderAction {
    /// Send a new child order.
    Place(PluginOrderRequest),
    /// Change price or quantity of a working child order.
    Amend(PluginOrderUpdateRequest),
    /// Cancel a working child order.
    Cancel(PluginCancelRequest),
}
