//! Settings of the paper exchange.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Fees of the paper exchange, in basis points of a fill's notional
/// (`price × quantity`). Both default to zero; a negative rate is a rebate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Fee on maker fills (resting limit orders filled by a trade-through).
    pub maker_fee_bps: Decimal,
    /// Fee on taker fills (market, triggered stop-market, IOC and FOK orders).
    pub taker_fee_bps: Decimal,
    /// Order arrival delay, ms of data time: an order placed at `t` reaches
    /// the book at `t + latency_ms` and can fill from the first print at or
    /// after then. 0 (the default) puts it on the book at once, to fill from
    /// the next print. Amends and cancels act at once.
    pub latency_ms: i64,
}
