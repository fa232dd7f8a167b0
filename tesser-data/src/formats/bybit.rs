//! Bybit public trading dumps (`BTCUSDT2024-01-01.csv.gz`).
//!
//! Header `timestamp,symbol,side,size,price,tickDirection,trdMatchID,
//! grossValue,homeNotional,foreignNotional`; `timestamp` is seconds since
//! the epoch with a fraction (`1704067200.1234`), read as text and
//! truncated to milliseconds; `side` (`Buy`/`Sell`) is the taker's.

use tesser_core::Tick;

use super::{column_count, count_byte, decimal, side, whole_number};
use crate::reader::{ParseState, leading_fields, quoted};

/// The header of a Bybit dump.
pub(crate) const COLUMNS: [&str; 10] = [
    "timestamp",
    "symbol",
    "side",
    "size",
    "price",
    "tickDirection",
    "trdMatchID",
    "grossValue",
    "homeNotional",
    "foreignNotional",
];

/// One row.
pub(crate) fn parse(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    // Count the columns with a byte scan, then split only the five used
    // ones (the split is lazy): the other five are most of the line.
    if count_byte(text.as_bytes(), b',') != COLUMNS.len() - 1 {
        return Err(column_count(&COLUMNS, text));
    }
    let Some(([timestamp, symbol, side_text, size, price], _)) = leading_fields(text) else {
        return Err(column_count(&COLUMNS, text));
    };
    let timestamp_ms = seconds_to_millis(timestamp.trim()).ok_or_else(|| {
        format!(
            "column timestamp: {} is not seconds since the epoch",
            quoted(timestamp)
        )
    })?;
    let aggressor = side("side", side_text)?;
    let size = decimal("size", size)?;
    let price = decimal("price", price)?;
    state.finish(timestamp_ms, symbol.trim(), price, size, aggressor)
}

/// `1704067200.1234` → `1704067200123`: whole seconds and up to three
/// fraction digits, never through floating point.
fn seconds_to_millis(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut millis = whole_number(whole)?.checked_mul(1_000)?;
    let mut scale = 100;
    for byte in fraction.bytes() {
        if !byte.is_ascii_digit() {
            return None;
        }
        millis = millis.checked_add(i64::from(byte - b'0') * scale)?;
        scale /= 10;
    }
    Some(millis)
}

#[cfg(test)]
mod tests {
    use super::seconds_to_millis;

    #[test]
    fn fractional_seconds_truncate_to_milliseconds() {
        assert_eq!(
            seconds_to_millis("1704067200.1234"),
            Some(1_704_067_200_123)
        );
        assert_eq!(seconds_to_millis("1704067200.5"), Some(1_704_067_200_500));
        assert_eq!(seconds_to_millis("1704067200"), Some(1_704_067_200_000));
        assert_eq!(
            seconds_to_millis("1704067200.0999"),
            Some(1_704_067_200_099)
        );
        for bad in ["", ".5", "1e9", "-1.0", "12.3.4", "1.x"] {
            assert_eq!(seconds_to_millis(bad), None, "{bad}");
        }
    }
}
