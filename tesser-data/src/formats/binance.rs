//! Binance public data (`data.binance.vision`): spot and USD-M futures
//! `trades` and `aggTrades`.
//!
//! | file | columns |
//! | --- | --- |
//! | spot trades (no header) | `id,price,qty,quote_qty,time,is_buyer_maker,is_best_match` |
//! | spot aggTrades (no header) | `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match` |
//! | futures trades (header) | `id,price,qty,quote_qty,time,is_buyer_maker` |
//! | futures aggTrades (header) | `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker` |
//!
//! `is_buyer_maker` true means the buyer rested and the taker sold: the
//! aggressor is [`Side::Sell`]. Spot timestamps are microseconds from
//! 2025-01-01 on and milliseconds before; the unit is detected per file from
//! the first timestamp ([`TimeUnit::from_magnitude`]). The rows carry no
//! symbol: it comes from the file name or is given.

use tesser_core::{Side, Tick};

use super::{column_count, decimal, integer, millis};
use crate::TimeUnit;
use crate::reader::{ParseState, leading_fields, quoted};

/// The futures `trades` header (spot files add `is_best_match`, unheaded).
pub(crate) const TRADES_COLUMNS: [&str; 6] =
    ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"];

/// The futures `aggTrades` header (spot files add `is_best_match`,
/// unheaded).
pub(crate) const AGG_TRADES_COLUMNS: [&str; 7] = [
    "agg_trade_id",
    "price",
    "quantity",
    "first_trade_id",
    "last_trade_id",
    "transact_time",
    "is_buyer_maker",
];

const SPOT_TRADES: &str = "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match";
const SPOT_AGG_TRADES: &str = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match";

/// The format of a headerless Binance row, from its shape: a numeric first
/// column and a boolean where `is_buyer_maker` goes (column 6 of trades,
/// column 7 of aggTrades).
pub(crate) fn detect_row(line: &str) -> Option<crate::TradeFormat> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let first_numeric = fields
        .first()
        .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !first_numeric {
        return None;
    }
    let boolean = |i: usize| fields.get(i).is_some_and(|f| parse_bool(f).is_some());
    match fields.len() {
        6 | 7 if boolean(5) => Some(crate::TradeFormat::BinanceTrades),
        7 | 8 if boolean(6) => Some(crate::TradeFormat::BinanceAggTrades),
        _ => None,
    }
}

/// `true`/`false` in any case (spot files write `True`, futures `true`).
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The aggressor from `is_buyer_maker`.
fn aggressor(text: &str) -> Result<Side, String> {
    match parse_bool(text.trim()) {
        Some(true) => Ok(Side::Sell),
        Some(false) => Ok(Side::Buy),
        None => Err(format!(
            "column is_buyer_maker: {} is not true or false",
            quoted(text)
        )),
    }
}

/// One `trades` row (6 or 7 columns).
pub(crate) fn parse_trade(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    let Some(([id, price, qty, _quote_qty, time, maker], mut rest)) = leading_fields(text) else {
        return Err(shape_error(text));
    };
    check_best_match(rest.next(), rest.next(), text)?;
    integer("id", id)?;
    finish(state, time, "time", price, "price", qty, "qty", maker)
}

/// One `aggTrades` row (7 or 8 columns).
pub(crate) fn parse_agg_trade(text: &str, state: &mut ParseState) -> Result<Tick, String> {
    let Some(([id, price, qty, _first, _last, time, maker], mut rest)) = leading_fields(text)
    else {
        return Err(agg_shape_error(text));
    };
    if rest.next().is_some() && rest.next().is_some() {
        return Err(agg_shape_error(text));
    }
    integer("agg_trade_id", id)?;
    finish(
        state,
        time,
        "transact_time",
        price,
        "price",
        qty,
        "quantity",
        maker,
    )
}

/// The optional spot `is_best_match` column, and nothing after it.
fn check_best_match(best: Option<&str>, after: Option<&str>, text: &str) -> Result<(), String> {
    if after.is_some() {
        return Err(shape_error(text));
    }
    match best {
        Some(best) if parse_bool(best.trim()).is_none() => Err(format!(
            "column is_best_match: {} is not true or false",
            quoted(best)
        )),
        _ => Ok(()),
    }
}

fn shape_error(text: &str) -> String {
    format!(
        "{} (or without is_best_match)",
        column_count(&SPOT_TRADES.split(',').collect::<Vec<_>>(), text)
    )
}

fn agg_shape_error(text: &str) -> String {
    format!(
        "{} (or without is_best_match)",
        column_count(&SPOT_AGG_TRADES.split(',').collect::<Vec<_>>(), text)
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "the column texts and their names, shared by trades and aggTrades"
)]
fn finish(
    state: &mut ParseState,
    time: &str,
    time_column: &str,
    price: &str,
    price_column: &str,
    qty: &str,
    qty_column: &str,
    maker: &str,
) -> Result<Tick, String> {
    let raw_time = integer(time_column, time)?;
    let unit = *state
        .time_unit
        .get_or_insert_with(|| match TimeUnit::from_magnitude(raw_time) {
            TimeUnit::Micros | TimeUnit::Nanos => TimeUnit::Micros,
            TimeUnit::Seconds | TimeUnit::Millis => TimeUnit::Millis,
        });
    let timestamp_ms = millis(time_column, raw_time, unit)?;
    let price = decimal(price_column, price)?;
    let size = decimal(qty_column, qty)?;
    let side = aggressor(maker)?;
    if state.symbol_override.is_none() && state.file_symbol.is_none() {
        return Err("no symbol: Binance rows have none and the file name gives none (expected a name like BTCUSDT-trades-2024-01-01.csv)".to_owned());
    }
    let symbol = state.file_symbol.clone();
    let symbol = symbol.as_ref().map_or("", |s| s.as_str());
    state.finish(timestamp_ms, symbol, price, size, Some(side))
}
