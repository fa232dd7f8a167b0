//! Tardis-style `trades` CSV.
//!
//! Header `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`;
//! `timestamp` (the exchange's) is microseconds since the epoch, truncated
//! to milliseconds; `side` is `buy`, `sell` or `unknown` (no aggressor).

use tesser_core::Tick;

use super::{column_count, decimal, integer, millis, side};
use crate::TimeUnit;
use crate::reader::{ParseState, exact_fields};

/// The header of a Tardis `trades` file.
pub(crate) const COLUMNS: [&str; 8] = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "id",
    "side",
    "price",
    "amount",
];

/// One row.
pub(crate) fn parse(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    let Some(
        [
            _exchange,
            symbol,
            timestamp,
            _local,
            _id,
            side_text,
            price,
            amount,
        ],
    ) = exact_fields(text)
    else {
        return Err(column_count(&COLUMNS, text));
    };
    let timestamp_ms = millis(
        "timestamp",
        integer("timestamp", timestamp)?,
        TimeUnit::Micros,
    )?;
    let aggressor = side("side", side_text)?;
    let price = decimal("price", price)?;
    let size = decimal("amount", amount)?;
    state.finish(timestamp_ms, symbol.trim(), price, size, aggressor)
}
