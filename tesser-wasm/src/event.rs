//! Events the host forwards to a running algorithm.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PluginSide;

/// A trade print of the algorithm's symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginTick {
    /// Instrument symbol.
    pub symbol: String,
    /// Trade price.
    pub price: Decimal,
    /// Traded quantity.
    pub size: Decimal,
    /// Side of the taker, when the venue reports it.
    pub aggressor: Option<PluginSide>,
    /// Trade time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// An execution of one of the algorithm's child orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginFill {
    /// The child order that filled.
    pub client_order_id: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Side of the child order.
    pub side: PluginSide,
    /// Execution price.
    pub price: Decimal,
    /// Executed quantity.
    pub quantity: Decimal,
    /// Fee charged, valued in the quote currency: a fee the venue charged
    /// in the base asset is valued at the fill price; one charged in a third
    /// asset (e.g. BNB) has no quote value known to the host and is 0.
    pub fee: Decimal,
    /// Execution time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// State of a child order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginOrderStatus {
    /// The host's risk guard and the venue accepted it; it is working.
    #[default]
    Accepted,
    /// Refused, by the risk guard or the venue; see the reason.
    Rejected,
    /// Part of it has filled; the rest is working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled before it filled completely.
    Cancelled,
    /// Ended by its time in force (IOC/FOK remainder).
    Expired,
}

impl PluginOrderStatus {
    /// Whether the order can still fill.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Accepted | Self::PartiallyFilled)
    }
}

/// A change in one of the algorithm's child orders.
///
/// Every accepted [`Place`](crate::PluginChildOrderAction::Place) is
/// acknowledged with an `Accepted` update carrying the order's client order
/// id, in the order the actions were returned; a refused action comes back as
/// `Rejected` with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginOrderUpdate {
    /// The child order, as the host named it.
    pub client_order_id: String,
    /// Its new state.
    pub status: PluginOrderStatus,
    /// Quantity filled so far.
    pub filled_quantity: Decimal,
    /// Quantity still working (zero once the order is closed).
    pub remaining_quantity: Decimal,
    /// Why it was rejected, cancelled or expired, when known.
    pub reason: Option<String>,
    /// Time of the change, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// A timer heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginTimer {
    /// The host's clock, milliseconds since the Unix epoch.
    pub now_ms: i64,
}
