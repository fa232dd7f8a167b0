//! Orders: what is requested, what the venue holds, and how it changes.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Side, Symbol};

/// The id the client gives an order. Unique per venue; the runtime derives it
/// from the algorithm id (`<algorithm>-0001`), so a restart names the same
/// order the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// An id from its text.
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ClientOrderId {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl From<String> for ClientOrderId {
    fn from(text: String) -> Self {
        Self(text)
    }
}

/// Order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Execute at the best available price.
    Market,
    /// Execute at the limit price or better.
    Limit,
    /// A market order triggered when the market trades at the trigger price.
    StopMarket,
    /// A limit order triggered when the market trades at the trigger price.
    StopLimit,
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
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

/// A new order as sent to a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// The client's id for the order.
    pub client_order_id: ClientOrderId,
    /// Instrument symbol.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Quantity.
    pub quantity: Decimal,
    /// Limit price (limit and stop-limit orders).
    pub price: Option<Decimal>,
    /// Trigger price (stop orders).
    pub trigger_price: Option<Decimal>,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

impl OrderRequest {
    /// A market order.
    #[must_use]
    pub fn market(
        client_order_id: impl Into<ClientOrderId>,
        symbol: impl Into<Symbol>,
        side: Side,
        quantity: Decimal,
    ) -> Self {
        Self {
            client_order_id: client_order_id.into(),
            symbol: symbol.into(),
            side,
            order_type: OrderType::Market,
            quantity,
            price: None,
            trigger_price: None,
            time_in_force: TimeInForce::GoodTilCancelled,
        }
    }

    /// A good-til-cancelled limit order.
    #[must_use]
    pub fn limit(
        client_order_id: impl Into<ClientOrderId>,
        symbol: impl Into<Symbol>,
        side: Side,
        quantity: Decimal,
        price: Decimal,
    ) -> Self {
        Self {
            order_type: OrderType::Limit,
            price: Some(price),
            ..Self::market(client_order_id, symbol, side, quantity)
        }
    }

    /// Sets the time in force.
    #[must_use]
    pub const fn with_time_in_force(mut self, time_in_force: TimeInForce) -> Self {
        self.time_in_force = time_in_force;
        self
    }
}

/// A change to a working order's price or total quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendRequest {
    /// The order to change.
    pub client_order_id: ClientOrderId,
    /// New limit price.
    pub new_price: Option<Decimal>,
    /// New total quantity, including what has already filled.
    pub new_quantity: Option<Decimal>,
}

/// Life-cycle state of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted and working.
    Accepted,
    /// Part of it has filled; the rest is working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled before it filled completely.
    Cancelled,
    /// Refused by the venue or the risk guard.
    Rejected,
    /// Ended by its time in force.
    Expired,
}

impl OrderStatus {
    /// Whether the order can still fill.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Accepted | Self::PartiallyFilled)
    }

    /// Lower-case name, as stored and logged.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::PartiallyFilled => "partially_filled",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order as the venue holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// What was requested (with amendments applied).
    pub request: OrderRequest,
    /// Current state.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled_quantity: Decimal,
    /// Volume-weighted average fill price, once anything filled.
    pub avg_fill_price: Option<Decimal>,
    /// Time the venue accepted it, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Time of the last change.
    pub updated_ms: i64,
}

impl Order {
    /// Quantity still to fill while the order is open; zero once it is closed.
    #[must_use]
    pub fn remaining_quantity(&self) -> Decimal {
        if self.status.is_open() {
            (self.request.quantity - self.filled_quantity).max(Decimal::ZERO)
        } else {
            Decimal::ZERO
        }
    }

    /// The update that reports this order's current state.
    #[must_use]
    pub fn to_update(&self, reason: Option<String>) -> OrderUpdate {
        OrderUpdate {
            client_order_id: self.request.client_order_id.clone(),
            symbol: self.request.symbol.clone(),
            status: self.status,
            filled_quantity: self.filled_quantity,
            remaining_quantity: self.remaining_quantity(),
            reason,
            timestamp_ms: self.updated_ms,
        }
    }
}

/// A change of an order's state, as a venue reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// The order.
    pub client_order_id: ClientOrderId,
    /// Instrument symbol.
    pub symbol: Symbol,
    /// New state.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled_quantity: Decimal,
    /// Quantity still working.
    pub remaining_quantity: Decimal,
    /// Why it was rejected, cancelled or expired, when known.
    pub reason: Option<String>,
    /// Time of the change, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}
