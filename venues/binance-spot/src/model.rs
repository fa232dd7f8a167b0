//! Binance's JSON payloads, field for field as documented, and their
//! conversions to Tesser's types.
//!
//! Sources: `rest-api.md` (order, query, cancel, cancel-replace, amend,
//! myTrades, exchangeInfo, account responses, error bodies),
//! `user-data-stream.md` (user data events), `web-socket-api.md` (request,
//! response and event envelopes), `web-socket-streams.md` (trade and book
//! ticker streams), `filters.md` and `enums.md`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_core::{Liquidity, OrderType, Side, TimeInForce};

pub use crate::wire::{ExecutionType, WireSide, WireStatus};

/// An error body: `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Binance's error code (negative).
    pub code: i64,
    /// Its message.
    pub msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    /// Server time, milliseconds since the Unix epoch.
    pub server_time: i64,
}

/// One rate limit of `exchangeInfo.rateLimits` (`enums.md`, "Rate limiters").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: String,
    /// How many intervals.
    pub interval_num: u32,
    /// The limit.
    pub limit: u64,
}

impl RateLimit {
    /// The header suffix for this limit, e.g. `1M` or `10S`.
    #[must_use]
    pub fn header_suffix(&self) -> String {
        let letter = match self.interval.as_str() {
            "SECOND" => 'S',
            "MINUTE" => 'M',
            "HOUR" => 'H',
            _ => 'D',
        };
        format!("{}{letter}", self.interval_num)
    }
}

/// A symbol filter (`filters.md`). Only the filters the connector uses are
/// parsed; the others are kept as [`SymbolFilter::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "filterType")]
pub enum SymbolFilter {
    /// `PRICE_FILTER`.
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        /// Lowest price; zero disables.
        min_price: Decimal,
        /// Highest price; zero disables.
        max_price: Decimal,
        /// Price increment; zero disables.
        tick_size: Decimal,
    },
    /// `LOT_SIZE`.
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        /// Smallest quantity.
        min_qty: Decimal,
        /// Largest quantity.
        max_qty: Decimal,
        /// Quantity increment.
        step_size: Decimal,
    },
    /// `MIN_NOTIONAL`.
    #[serde(rename = "MIN_NOTIONAL", rename_all = "camelCase")]
    MinNotional {
        /// Smallest price × quantity.
        min_notional: Decimal,
    },
    /// `NOTIONAL`.
    #[serde(rename = "NOTIONAL", rename_all = "camelCase")]
    Notional {
        /// Smallest price × quantity.
        min_notional: Decimal,
        /// Largest price × quantity.
        max_notional: Decimal,
    },
    /// `MAX_NUM_ORDER_AMENDS`: how many times one order may be amended
    /// (keep priority) before the venue answers `-2038`.
    #[serde(rename = "MAX_NUM_ORDER_AMENDS", rename_all = "camelCase")]
    MaxNumOrderAmends {
        /// The most amends of one order.
        max_num_order_amends: u32,
    },
    /// Any other filter.
    #[serde(other)]
    Other,
}

/// One symbol of `exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    /// Symbol, e.g. `ETHBTC`.
    pub symbol: String,
    /// Trading status, e.g. `TRADING`.
    pub status: String,
    /// Base asset.
    pub base_asset: String,
    /// Quote asset.
    pub quote_asset: String,
    /// Order types allowed.
    #[serde(default)]
    pub order_types: Vec<String>,
    /// Whether cancel-replace is allowed.
    #[serde(default)]
    pub cancel_replace_allowed: bool,
    /// Whether amend keep-priority is allowed.
    #[serde(default)]
    pub amend_allowed: bool,
    /// Filters.
    #[serde(default)]
    pub filters: Vec<SymbolFilter>,
}

impl SymbolInfo {
    /// The symbol as a Tesser instrument (tick, lot, min quantity, min
    /// notional from the filters).
    #[must_use]
    pub fn to_instrument(&self) -> tesser_core::Instrument {
        let mut instrument =
            tesser_core::Instrument::new(self.symbol.as_str(), &self.base_asset, &self.quote_asset);
        for filter in &self.filters {
            match filter {
                SymbolFilter::Price { tick_size, .. } => instrument.tick_size = *tick_size,
                SymbolFilter::LotSize {
                    min_qty, step_size, ..
                } => {
                    instrument.lot_size = *step_size;
                    instrument.min_quantity = *min_qty;
                }
                SymbolFilter::MinNotional { min_notional }
                | SymbolFilter::Notional { min_notional, .. } => {
                    instrument.min_notional = *min_notional;
                }
                SymbolFilter::MaxNumOrderAmends { .. } | SymbolFilter::Other => {}
            }
        }
        instrument
    }

    /// How orders of this symbol may be changed.
    #[must_use]
    pub fn amend_rules(&self) -> AmendRules {
        AmendRules {
            amend_allowed: self.amend_allowed,
            cancel_replace_allowed: self.cancel_replace_allowed,
            max_amends: self.filters.iter().find_map(|filter| match filter {
                SymbolFilter::MaxNumOrderAmends {
                    max_num_order_amends,
                } => Some(*max_num_order_amends),
                _ => None,
            }),
        }
    }
}

/// How a symbol's orders may be changed (`exchangeInfo`: `amendAllowed`,
/// `cancelReplaceAllowed`, the `MAX_NUM_ORDER_AMENDS` filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmendRules {
    /// Whether `PUT /api/v3/order/amend/keepPriority` is enabled.
    pub amend_allowed: bool,
    /// Whether `POST /api/v3/order/cancelReplace` is enabled.
    pub cancel_replace_allowed: bool,
    /// The most keep-priority amends of one order, when limited.
    pub max_amends: Option<u32>,
}

impl AmendRules {
    /// Rules that allow everything (before `exchangeInfo` was read).
    #[must_use]
    pub const fn permissive() -> Self {
        Self {
            amend_allowed: true,
            cancel_replace_allowed: true,
            max_amends: None,
        }
    }
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    /// Server time.
    pub server_time: i64,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Symbols.
    #[serde(default)]
    pub symbols: Vec<SymbolInfo>,
}

/// A balance of `GET /api/v3/account`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Balance {
    /// Asset.
    pub asset: String,
    /// Free amount.
    pub free: Decimal,
    /// Locked amount.
    pub locked: Decimal,
}

impl From<&Balance> for tesser_core::AccountBalance {
    fn from(balance: &Balance) -> Self {
        Self::new(&balance.asset, balance.free, balance.locked)
    }
}

impl AccountInfo {
    /// Every balance, as the runtime holds them.
    #[must_use]
    pub fn core_balances(&self) -> Vec<tesser_core::AccountBalance> {
        self.balances.iter().map(Into::into).collect()
    }
}

/// `GET /api/v3/account` (the fields the connector uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Whether the account may trade.
    pub can_trade: bool,
    /// Whether the account may withdraw.
    #[serde(default)]
    pub can_withdraw: bool,
    /// Whether the account may deposit.
    #[serde(default)]
    pub can_deposit: bool,
    /// Account type, e.g. `SPOT`.
    #[serde(default)]
    pub account_type: Option<String>,
    /// Account permissions, e.g. `["SPOT"]`.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Balances.
    #[serde(default)]
    pub balances: Vec<Balance>,
}

/// One fill of a `FULL` order response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFill {
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
    /// Trade id.
    pub trade_id: i64,
}

/// An order as the REST API returns it: the new-order responses (`ACK`,
/// `RESULT`, `FULL`), the cancel response, query order and open orders.
/// Fields not in every form are optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    pub order_id: i64,
    /// Client order id (for a cancel: the cancel's id).
    pub client_order_id: String,
    /// For a cancel: the cancelled order's client id.
    #[serde(default)]
    pub orig_client_order_id: Option<String>,
    /// Time of the transaction (new order, cancel).
    #[serde(default)]
    pub transact_time: Option<i64>,
    /// Creation time (query, open orders).
    #[serde(default)]
    pub time: Option<i64>,
    /// Last update time (query, open orders).
    #[serde(default)]
    pub update_time: Option<i64>,
    /// Limit price.
    #[serde(default)]
    pub price: Option<Decimal>,
    /// Quantity.
    #[serde(default)]
    pub orig_qty: Option<Decimal>,
    /// Executed quantity.
    #[serde(default)]
    pub executed_qty: Option<Decimal>,
    /// Σ price × quantity of the executions.
    #[serde(default)]
    pub cummulative_quote_qty: Option<Decimal>,
    /// Order status.
    #[serde(default)]
    pub status: Option<WireStatus>,
    /// Time in force.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Order type.
    #[serde(default, rename = "type")]
    pub order_type: Option<String>,
    /// Side.
    #[serde(default)]
    pub side: Option<WireSide>,
    /// Stop price.
    #[serde(default)]
    pub stop_price: Option<Decimal>,
    /// Fills (`FULL` responses).
    #[serde(default)]
    pub fills: Vec<OrderFill>,
}

/// `POST /api/v3/order/cancelReplace` success body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelReplaceResponse {
    /// `SUCCESS` or `FAILURE`.
    pub cancel_result: String,
    /// `SUCCESS`, `FAILURE` or `NOT_ATTEMPTED`.
    pub new_order_result: String,
    /// The cancelled order.
    pub cancel_response: OrderResponse,
    /// The new order.
    pub new_order_response: OrderResponse,
}

/// The `data` of a failed cancel-replace (`-2021`, `-2022`): each half is an
/// order or an error body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelReplaceFailure {
    /// `SUCCESS` or `FAILURE`.
    pub cancel_result: String,
    /// `SUCCESS`, `FAILURE` or `NOT_ATTEMPTED`.
    pub new_order_result: String,
    /// The cancel's outcome.
    pub cancel_response: serde_json::Value,
    /// The new order's outcome, when attempted.
    #[serde(default)]
    pub new_order_response: Option<serde_json::Value>,
}

/// The amended order of `PUT /api/v3/order/amend/keepPriority`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendedOrder {
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    pub order_id: i64,
    /// Client id before the amend.
    pub orig_client_order_id: String,
    /// Client id after the amend.
    pub client_order_id: String,
    /// Price.
    pub price: Decimal,
    /// New quantity.
    pub qty: Decimal,
    /// Executed quantity.
    pub executed_qty: Decimal,
    /// Σ price × quantity of the executions (this response spells it
    /// `cumulativeQuoteQty`).
    #[serde(default)]
    pub cumulative_quote_qty: Option<Decimal>,
    /// Status.
    pub status: WireStatus,
}

/// `PUT /api/v3/order/amend/keepPriority` response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendResponse {
    /// Time of the amend.
    pub transact_time: i64,
    /// Execution id.
    pub execution_id: i64,
    /// The order after the amend.
    pub amended_order: AmendedOrder,
}

/// One row of `GET /api/v3/myTrades`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyTrade {
    /// Symbol.
    pub symbol: String,
    /// Trade id.
    pub id: i64,
    /// Venue order id.
    pub order_id: i64,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Σ price × quantity.
    pub quote_qty: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
    /// Time.
    pub time: i64,
    /// Whether this account bought.
    pub is_buyer: bool,
    /// Whether this account was the maker.
    pub is_maker: bool,
}

/// `executionReport` (`user-data-stream.md`, "Order Update").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionReport {
    /// Event time.
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Client order id.
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// Side.
    #[serde(rename = "S")]
    pub side: WireSide,
    /// Order type.
    #[serde(rename = "o")]
    pub order_type: String,
    /// Time in force.
    #[serde(rename = "f")]
    pub time_in_force: String,
    /// Order quantity.
    #[serde(rename = "q")]
    pub quantity: Decimal,
    /// Order price.
    #[serde(rename = "p")]
    pub price: Decimal,
    /// Stop price.
    #[serde(rename = "P")]
    pub stop_price: Decimal,
    /// Iceberg quantity.
    #[serde(rename = "F")]
    pub iceberg_quantity: Decimal,
    /// Order list id.
    #[serde(rename = "g")]
    pub order_list_id: i64,
    /// Original client order id: the id of the order being cancelled.
    #[serde(rename = "C")]
    pub orig_client_order_id: String,
    /// Execution type.
    #[serde(rename = "x")]
    pub execution_type: ExecutionType,
    /// Order status.
    #[serde(rename = "X")]
    pub order_status: WireStatus,
    /// Reject reason.
    #[serde(rename = "r")]
    pub reject_reason: String,
    /// Venue order id.
    #[serde(rename = "i")]
    pub order_id: i64,
    /// Last executed quantity.
    #[serde(rename = "l")]
    pub last_quantity: Decimal,
    /// Cumulative filled quantity.
    #[serde(rename = "z")]
    pub cumulative_quantity: Decimal,
    /// Last executed price.
    #[serde(rename = "L")]
    pub last_price: Decimal,
    /// Commission amount.
    #[serde(rename = "n")]
    pub commission: Decimal,
    /// Commission asset (`null` when nothing was charged).
    #[serde(rename = "N")]
    pub commission_asset: Option<String>,
    /// Transaction time.
    #[serde(rename = "T")]
    pub transaction_time: i64,
    /// Trade id (`-1` when not a trade).
    #[serde(rename = "t")]
    pub trade_id: i64,
    /// Execution id.
    #[serde(rename = "I", default)]
    pub execution_id: i64,
    /// Whether the order is on the book.
    #[serde(rename = "w", default)]
    pub on_book: bool,
    /// Whether this trade was the maker side.
    #[serde(rename = "m", default)]
    pub is_maker: bool,
    /// Order creation time.
    #[serde(rename = "O", default)]
    pub creation_time: i64,
    /// Cumulative quote quantity.
    #[serde(rename = "Z", default)]
    pub cumulative_quote: Decimal,
    /// Last quote quantity.
    #[serde(rename = "Y", default)]
    pub last_quote: Decimal,
    /// Expiry reason, when the order expired.
    #[serde(rename = "eR", default, skip_serializing_if = "Option::is_none")]
    pub expiry_reason: Option<String>,
}

/// A balance of `outboundAccountPosition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionBalance {
    /// Asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Free.
    #[serde(rename = "f")]
    pub free: Decimal,
    /// Locked.
    #[serde(rename = "l")]
    pub locked: Decimal,
}

impl From<&PositionBalance> for tesser_core::AccountBalance {
    fn from(balance: &PositionBalance) -> Self {
        Self::new(&balance.asset, balance.free, balance.locked)
    }
}

/// A user data event (`user-data-stream.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "e")]
pub enum UserEvent {
    /// `executionReport`.
    #[serde(rename = "executionReport")]
    ExecutionReport(Box<ExecutionReport>),
    /// `outboundAccountPosition`.
    #[serde(rename = "outboundAccountPosition")]
    AccountPosition {
        /// Event time.
        #[serde(rename = "E")]
        event_time: i64,
        /// Time of the last account update.
        #[serde(rename = "u")]
        last_update: i64,
        /// Balances.
        #[serde(rename = "B")]
        balances: Vec<PositionBalance>,
    },
    /// `balanceUpdate`.
    #[serde(rename = "balanceUpdate")]
    BalanceUpdate {
        /// Event time.
        #[serde(rename = "E")]
        event_time: i64,
        /// Asset.
        #[serde(rename = "a")]
        asset: String,
        /// Balance delta.
        #[serde(rename = "d")]
        delta: Decimal,
        /// Clear time.
        #[serde(rename = "T")]
        clear_time: i64,
    },
    /// `eventStreamTerminated`: the subscription ended.
    #[serde(rename = "eventStreamTerminated")]
    StreamTerminated {
        /// Event time.
        #[serde(rename = "E")]
        event_time: i64,
    },
    /// `serverShutdown`: reconnect soon.
    #[serde(rename = "serverShutdown")]
    ServerShutdown {
        /// Event time.
        #[serde(rename = "E")]
        event_time: i64,
    },
    /// Any other event (`listStatus`, `externalLockUpdate`, …).
    #[serde(other)]
    Other,
}

/// A message of the WebSocket API: a response to a request, or an event.
#[derive(Debug, Clone, PartialEq)]
pub enum WsApiMessage {
    /// A response.
    Response {
        /// The request's id.
        id: serde_json::Value,
        /// HTTP-like status.
        status: u16,
        /// `result`, on success.
        result: Option<serde_json::Value>,
        /// `error`, on failure.
        error: Option<ApiErrorBody>,
    },
    /// A user data event.
    Event {
        /// The subscription it belongs to.
        subscription_id: Option<i64>,
        /// The event.
        event: UserEvent,
    },
}

/// Parse failure of a WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed message: {0}")]
pub struct MalformedMessage(pub String);

impl WsApiMessage {
    /// Parses a text frame of the WebSocket API.
    ///
    /// # Errors
    /// [`MalformedMessage`] when it is neither a response nor an event.
    pub fn parse(text: &str) -> Result<Self, MalformedMessage> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            id: Option<serde_json::Value>,
            #[serde(default)]
            status: Option<u16>,
            #[serde(default)]
            result: Option<serde_json::Value>,
            #[serde(default)]
            error: Option<ApiErrorBody>,
            #[serde(default)]
            subscription_id: Option<i64>,
            #[serde(default)]
            event: Option<serde_json::Value>,
        }
        let raw: Raw =
            serde_json::from_str(text).map_err(|error| MalformedMessage(error.to_string()))?;
        if let Some(event) = raw.event {
            let event = serde_json::from_value(event)
                .map_err(|error| MalformedMessage(error.to_string()))?;
            return Ok(Self::Event {
                subscription_id: raw.subscription_id,
                event,
            });
        }
        match raw.status {
            Some(status) => Ok(Self::Response {
                id: raw.id.unwrap_or(serde_json::Value::Null),
                status,
                result: raw.result,
                error: raw.error,
            }),
            None => Err(MalformedMessage("neither a response nor an event".into())),
        }
    }
}

/// `<symbol>@trade` (`web-socket-streams.md`, "Trade Streams").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeEvent {
    /// Event time.
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Trade id.
    #[serde(rename = "t")]
    pub trade_id: i64,
    /// Price.
    #[serde(rename = "p")]
    pub price: Decimal,
    /// Quantity.
    #[serde(rename = "q")]
    pub quantity: Decimal,
    /// Trade time.
    #[serde(rename = "T")]
    pub trade_time: i64,
    /// Whether the buyer is the maker.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

impl TradeEvent {
    /// The trade as a Tesser tick. When the buyer is the maker the seller
    /// took liquidity, so the aggressor is a sell.
    #[must_use]
    pub fn to_tick(&self) -> tesser_core::Tick {
        tesser_core::Tick {
            symbol: self.symbol.as_str().into(),
            price: self.price,
            size: self.quantity,
            aggressor: Some(if self.buyer_is_maker {
                Side::Sell
            } else {
                Side::Buy
            }),
            timestamp_ms: self.trade_time,
        }
    }
}

/// `<symbol>@bookTicker` (`web-socket-streams.md`, "Individual Symbol Book
/// Ticker Streams").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookTicker {
    /// Order book update id.
    #[serde(rename = "u")]
    pub update_id: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Best bid price.
    #[serde(rename = "b")]
    pub bid_price: Decimal,
    /// Best bid quantity.
    #[serde(rename = "B")]
    pub bid_quantity: Decimal,
    /// Best ask price.
    #[serde(rename = "a")]
    pub ask_price: Decimal,
    /// Best ask quantity.
    #[serde(rename = "A")]
    pub ask_quantity: Decimal,
}

/// Binance's side name.
#[must_use]
pub const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// Tesser's order type and time in force for Binance's.
#[must_use]
pub fn parse_type(order_type: &str, time_in_force: &str) -> (OrderType, TimeInForce) {
    let tif = match time_in_force {
        "IOC" => TimeInForce::ImmediateOrCancel,
        "FOK" => TimeInForce::FillOrKill,
        _ => TimeInForce::GoodTilCancelled,
    };
    match order_type {
        "MARKET" => (OrderType::Market, tif),
        "LIMIT_MAKER" => (OrderType::Limit, TimeInForce::PostOnly),
        "STOP_LOSS" | "TAKE_PROFIT" => (OrderType::StopMarket, tif),
        "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT" => (OrderType::StopLimit, tif),
        _ => (OrderType::Limit, tif),
    }
}

/// Maker or taker.
#[must_use]
pub const fn liquidity(is_maker: bool) -> Liquidity {
    if is_maker {
        Liquidity::Maker
    } else {
        Liquidity::Taker
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn type_mapping() {
        assert_eq!(
            parse_type("LIMIT_MAKER", "GTC"),
            (OrderType::Limit, TimeInForce::PostOnly)
        );
        assert_eq!(
            parse_type("LIMIT", "IOC"),
            (OrderType::Limit, TimeInForce::ImmediateOrCancel)
        );
    }

    #[test]
    fn trade_aggressor_follows_the_maker_flag() {
        let mut trade = TradeEvent {
            event_time: 1,
            symbol: "BNBBTC".into(),
            trade_id: 1,
            price: dec!(1),
            quantity: dec!(2),
            trade_time: 3,
            buyer_is_maker: true,
        };
        assert_eq!(trade.to_tick().aggressor, Some(Side::Sell));
        trade.buyer_is_maker = false;
        assert_eq!(trade.to_tick().aggressor, Some(Side::Buy));
    }
}
