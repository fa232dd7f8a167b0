//! Bybit public trading dumps (`BTCUSDT2024-01-01.csv.gz`).
//!
//! Header `timestamp,symbol,side,size,price,tickDirection,trdMatchID,
//! grossValue,homeNotional,foreignNotional`; `timestamp` is seconds since
//! the epoch with a fraction (`1704067200.1234`), read as text and
//! truncated to milliseconds; `side` (`Buy`/`Sell`) is the taker's.

use tesser_core::Tick;

use super::{column_count, count_byte, decimal, side};
use crate::reader::{ParseState, quoted};

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
    // ones: the other five are most of the line.
    if count_byte(text.as_bytes(), b',') != COLUMNS.len() - 1 {
        return Err(column_count(&COLUMNS, text));
    }
    let mut fields = text.splitn(6, ',');
    let (Some(timestamp), Some(symbol), Some(side_text), Some(size), Some(price)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
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
    if whole.is_empty() {
        return None;
    }
    // One pass over each part, digits checked as they are read.
    let mut seconds: i64 = 0;
    for byte in whole.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        seconds = seconds.checked_mul(10)?.checked_add(i64::from(digit))?;
    }
    let mut millis = seconds.checked_mul(1_000)?;
    let mut scale = 100;
    for byte in fraction.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        millis += i64::from(digit) * scale;
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
