//! Executions.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{ClientOrderId, Side, Symbol};

/// Whether a fill added or took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// The order rested on the book and was hit.
    Maker,
    /// The order crossed the spread.
    Taker,
}

/// An execution of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The venue's id of this execution, unique per venue.
    pub fill_id: String,
    /// The order that filled.
    pub client_order_id: ClientOrderId,
    /// Instrument symbol.
    pub symbol: Symbol,
    /// Side of the order.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Executed quantity.
    pub quantity: Decimal,
    /// Fee charged, in the quote asset.
    pub fee: Decimal,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Execution time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl Fill {
    /// Price × quantity.
    #[must_use]
    pub fn notional(&self) -> Decimal {
        self.price * self.quantity
    }
}
