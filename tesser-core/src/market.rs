//! Market data.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Side, Symbol};

/// A trade print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Instrument symbol.
    pub symbol: Symbol,
    /// Trade price.
    pub price: Decimal,
    /// Traded quantity.
    pub size: Decimal,
    /// Side of the taker, when the venue reports it.
    pub aggressor: Option<Side>,
    /// Trade time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}
