//! What the twin's answers are made of: Binance's error bodies, and orders
//! and trades as its JSON renders them (`rest-api.md`).

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tesser_core::Side;

/// An error answer: HTTP status, Binance code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Binance error code.
    pub code: i64,
    /// Message.
    pub msg: String,
    /// Extra `data` (cancel-replace failures).
    pub data: Option<Value>,
}

impl ApiError {
    /// A 400 with `code` and `msg`.
    #[must_use]
    pub fn bad(code: i64, msg: &str) -> Self {
        Self {
            status: 400,
            code,
            msg: msg.to_owned(),
            data: None,
        }
    }

    /// The documented error body.
    #[must_use]
    pub fn body(&self) -> Value {
        match &self.data {
            Some(data) => json!({"code": self.code, "msg": self.msg, "data": data}),
            None => json!({"code": self.code, "msg": self.msg}),
        }
    }
}

pub(crate) fn missing(name: &str) -> ApiError {
    ApiError::bad(
        -1102,
        &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

/// An order as the twin holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinOrder {
    /// Venue order id.
    pub order_id: i64,
    /// Symbol.
    pub symbol: String,
    /// Client order id.
    pub client_order_id: String,
    /// Side.
    pub side: Side,
    /// Binance order type.
    pub order_type: String,
    /// Binance time in force.
    pub time_in_force: String,
    /// Price (zero for market orders).
    pub price: Decimal,
    /// Stop price.
    pub stop_price: Decimal,
    /// Quantity.
    pub orig_qty: Decimal,
    /// `quoteOrderQty` of a `MARKET` order sent with it (else zero).
    pub orig_quote_qty: Decimal,
    /// Executed quantity.
    pub executed_qty: Decimal,
    /// Σ price × quantity.
    pub cum_quote: Decimal,
    /// Binance status.
    pub status: String,
    /// Creation time.
    pub time: i64,
    /// Last update.
    pub update_time: i64,
}

/// One side of a trade of the twin's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinTrade {
    /// Trade id.
    pub id: i64,
    /// Symbol.
    pub symbol: String,
    /// Order id.
    pub order_id: i64,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
    /// Time.
    pub time: i64,
    /// Whether the account bought.
    pub is_buyer: bool,
    /// Whether the account was maker.
    pub is_maker: bool,
}

impl TwinTrade {
    /// One entry of a `FULL` new-order answer's `fills` (`rest-api.md`).
    #[must_use]
    pub fn fill_json(&self) -> Value {
        json!({
            "price": fmt8(self.price),
            "qty": fmt8(self.qty),
            "commission": fmt8(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.id
        })
    }
}

/// Binance's fixed 8-decimal rendering.
#[must_use]
pub fn fmt8(value: Decimal) -> String {
    format!("{:.8}", value)
}

pub(crate) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

impl TwinOrder {
    /// The query-order / open-orders JSON (`rest-api.md`, "Query order").
    #[must_use]
    pub fn query_json(&self) -> Value {
        let mut value = json!({
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt8(self.price),
            "origQty": fmt8(self.orig_qty),
            "executedQty": fmt8(self.executed_qty),
            "cummulativeQuoteQty": fmt8(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.order_type,
            "side": side_name(self.side),
            "stopPrice": fmt8(self.stop_price),
            "icebergQty": fmt8(Decimal::ZERO),
            "time": self.time,
            "updateTime": self.update_time,
            "isWorking": true,
            "workingTime": self.time,
            "origQuoteOrderQty": fmt8(self.orig_quote_qty),
            "selfTradePreventionMode": "NONE"
        });
        self.add_expiry_reason(&mut value);
        value
    }

    /// Why an `EXPIRED` order expired (`enums.md`, "Expiry Reasons"): a
    /// `MARKET` order found too little on the book, an `IOC` or `FOK` order
    /// did not fill (whole).
    #[must_use]
    pub fn expiry_reason(&self) -> Option<&'static str> {
        if self.status != "EXPIRED" {
            return None;
        }
        Some(if self.order_type == "MARKET" {
            "INSUFFICIENT_LIQUIDITY"
        } else if self.time_in_force == "FOK" {
            "UNFILLED_FOK_ORDER_EXPIRED"
        } else {
            "UNFILLED_IOC_QUANTITY_EXPIRED"
        })
    }

    /// Adds `expiryReason` ("Conditional fields in Order Responses": when
    /// the order has expired).
    fn add_expiry_reason(&self, value: &mut Value) {
        if let (Some(reason), Value::Object(map)) = (self.expiry_reason(), value) {
            map.insert("expiryReason".to_owned(), json!(reason));
        }
    }

    /// The new-order response of `resp_type` (`ACK`, `RESULT`, `FULL`);
    /// `fills` are the `FULL` answer's executions on arrival.
    #[must_use]
    pub fn new_order_json(&self, resp_type: &str, transact_time: i64, fills: &[Value]) -> Value {
        let mut value = json!({
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": transact_time,
        });
        if resp_type == "ACK" {
            return value;
        }
        if let Value::Object(map) = &mut value {
            for (key, field) in [
                ("price", json!(fmt8(self.price))),
                ("origQty", json!(fmt8(self.orig_qty))),
                ("executedQty", json!(fmt8(self.executed_qty))),
                ("origQuoteOrderQty", json!(fmt8(self.orig_quote_qty))),
                ("cummulativeQuoteQty", json!(fmt8(self.cum_quote))),
                ("status", json!(self.status)),
                ("timeInForce", json!(self.time_in_force)),
                ("type", json!(self.order_type)),
                ("side", json!(side_name(self.side))),
                ("workingTime", json!(self.time)),
                ("selfTradePreventionMode", json!("NONE")),
            ] {
                map.insert(key.to_owned(), field);
            }
            if let Some(reason) = self.expiry_reason() {
                map.insert("expiryReason".to_owned(), json!(reason));
            }
            if resp_type == "FULL" {
                map.insert("fills".to_owned(), Value::Array(fills.to_vec()));
            }
        }
        value
    }

    /// The cancel response (`rest-api.md`, "Cancel order").
    #[must_use]
    pub fn cancel_json(&self, cancel_id: &str, transact_time: i64) -> Value {
        json!({
            "symbol": self.symbol,
            "origClientOrderId": self.client_order_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": cancel_id,
            "transactTime": transact_time,
            "price": fmt8(self.price),
            "origQty": fmt8(self.orig_qty),
            "executedQty": fmt8(self.executed_qty),
            "origQuoteOrderQty": fmt8(self.orig_quote_qty),
            "cummulativeQuoteQty": fmt8(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.order_type,
            "side": side_name(self.side),
            "selfTradePreventionMode": "NONE"
        })
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "NEW" | "PARTIALLY_FILLED")
    }
}
