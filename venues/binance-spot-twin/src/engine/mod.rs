//! The twin's matching and order state: Binance orders on top of
//! tesser-paper's [`PaperExchange`].
//!
//! Each Binance order is placed in the paper exchange under its numeric
//! `orderId` (paper ids must be unique forever; Binance client ids only among
//! open orders). Paper's fills become Binance trades with venue-wide trade
//! ids, and every state change becomes an `executionReport`, field for field
//! as `user-data-stream.md` documents it.

mod account;
mod book;
mod commission;
mod filters;
mod wire;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, OrderRequest,
    OrderStatus, OrderType, Side, Tick,
};
use tesser_paper::{PaperConfig, PaperExchange};

use crate::{BnbCommission, TwinSymbol};

use account::Account;
use book::{Arrival, Touch};
pub use filters::NewOrder;
pub use wire::{ApiError, TwinOrder, TwinTrade, fmt8};
use wire::{missing, side_name};

/// What the last execution of a report was.
#[derive(Debug, Clone, Default)]
pub struct Last {
    /// Quantity.
    pub qty: Decimal,
    /// Price.
    pub price: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset, when charged.
    pub commission_asset: Option<String>,
    /// Trade id (−1 when none).
    pub trade_id: i64,
    /// Maker side.
    pub is_maker: bool,
}

/// The twin's matching engine and books.
#[derive(Debug)]
pub struct Engine {
    paper: PaperExchange,
    symbols: HashMap<String, TwinSymbol>,
    /// Every order, in acceptance order.
    pub orders: Vec<TwinOrder>,
    /// Every account trade.
    pub trades: Vec<TwinTrade>,
    next_order_id: i64,
    next_trade_id: i64,
    next_execution_id: i64,
    next_market_trade_id: i64,
    next_generated_id: u64,
    /// Keep-priority amends of each order, by `orderId`.
    amends: HashMap<i64, u32>,
    /// Each symbol's best bid and ask, once quoted.
    books: HashMap<String, Touch>,
    /// Each symbol's last trade price.
    last_price: HashMap<String, Decimal>,
    /// Quantity each order took from the book on arrival (its paper order
    /// holds only the rest).
    taken: HashMap<i64, Decimal>,
    maker_fee_bps: Decimal,
    taker_fee_bps: Decimal,
    bnb: Option<BnbCommission>,
    account: Account,
}

/// What a step produced: execution reports (event objects) and market
/// trade payloads.
#[derive(Debug, Default)]
pub struct Output {
    /// `executionReport` event objects.
    pub reports: Vec<Value>,
    /// `trade` stream payloads.
    pub trades: Vec<Value>,
    /// Account events (`outboundAccountPosition`), sent after the reports.
    pub account: Vec<Value>,
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

impl Engine {
    /// An engine for `symbols`, charging `fee_bps` on every fill.
    #[must_use]
    pub fn new(symbols: &[TwinSymbol], maker_fee_bps: Decimal, taker_fee_bps: Decimal) -> Self {
        Self {
            paper: PaperExchange::new(PaperConfig {
                maker_fee_bps,
                taker_fee_bps,
                ..PaperConfig::default()
            }),
            symbols: symbols
                .iter()
                .map(|s| (s.symbol.clone(), s.clone()))
                .collect(),
            orders: Vec::new(),
            trades: Vec::new(),
            next_order_id: 1,
            next_trade_id: 1,
            next_execution_id: 1,
            next_market_trade_id: 1000,
            next_generated_id: 1,
            amends: HashMap::new(),
            books: HashMap::new(),
            last_price: HashMap::new(),
            taken: HashMap::new(),
            maker_fee_bps,
            taker_fee_bps,
            bnb: None,
            account: Account::with_assets(
                symbols
                    .iter()
                    .flat_map(|s| [s.base_asset.as_str(), s.quote_asset.as_str()]),
            ),
        }
    }

    /// Credits the account's balances at start: `(asset, free amount)`.
    #[must_use]
    pub fn with_balances(mut self, balances: &[(String, Decimal)]) -> Self {
        for (asset, amount) in balances {
            self.account.credit_initial(asset, *amount);
        }
        self
    }

    /// Charges commissions in BNB while the account's free BNB lasts (see
    /// [`BnbCommission`], whose `balance` is credited to the account's BNB);
    /// `None` charges them in the received asset.
    #[must_use]
    pub fn with_bnb_commission(mut self, bnb: Option<BnbCommission>) -> Self {
        if let Some(bnb) = &bnb {
            self.account.credit_initial("BNB", bnb.balance);
        }
        self.bnb = bnb;
        self
    }

    /// Starts the account's clock: `updateTime` before the first change.
    #[must_use]
    pub fn with_start_time(mut self, now: i64) -> Self {
        self.account.set_update_time(now);
        self
    }

    /// The account: balances and locks.
    #[must_use]
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Credits a deposit to the account and returns its `balanceUpdate`
    /// event; the `outboundAccountPosition` follows with [`Engine::finish`].
    pub fn deposit(&mut self, asset: &str, amount: Decimal, now: i64) -> Value {
        self.account.deposit(asset, amount, now)
    }

    /// The symbol's rules.
    ///
    /// # Errors
    /// `-1121 Invalid symbol.`
    pub fn symbol(&self, symbol: &str) -> Result<&TwinSymbol, ApiError> {
        self.symbols
            .get(symbol)
            .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))
    }

    fn generated_id(&mut self, prefix: &str) -> String {
        let id = format!("{prefix}{:016}", self.next_generated_id);
        self.next_generated_id += 1;
        id
    }

    /// The `executionReport` of `order` now.
    fn report(
        &mut self,
        order: &TwinOrder,
        execution: &str,
        last: &Last,
        c: &str,
        orig: &str,
        at: i64,
    ) -> Value {
        let execution_id = self.next_execution_id;
        self.next_execution_id += 1;
        let mut value = json!({
            "e": "executionReport",
            "E": at,
            "s": order.symbol,
            "c": c,
            "S": side_name(order.side),
            "o": order.order_type,
            "f": order.time_in_force,
            "q": fmt8(order.orig_qty),
            "p": fmt8(order.price),
            "P": fmt8(order.stop_price),
            "F": fmt8(Decimal::ZERO),
            "g": -1,
            "C": orig,
            "x": execution,
            "X": order.status,
            "r": "NONE",
            "i": order.order_id,
            "l": fmt8(last.qty),
            "z": fmt8(order.executed_qty),
            "L": fmt8(last.price),
            "n": last.commission.to_string(),
            "N": last.commission_asset,
            "T": at,
            "t": last.trade_id,
            "I": execution_id,
            "w": order.is_open(),
            "m": last.is_maker,
            "M": false,
            "O": order.time,
            "Z": fmt8(order.cum_quote),
            "Y": fmt8(last.qty * last.price),
            "Q": fmt8(order.orig_quote_qty),
            "W": order.time,
            "V": "NONE"
        });
        if let (Some(reason), Value::Object(map)) = (order.expiry_reason(), &mut value) {
            map.insert("eR".to_owned(), json!(reason));
        }
        value
    }

    fn position_by_client_id(&self, symbol: &str, client_id: &str) -> Option<usize> {
        // The latest order with the id (ids may repeat once closed).
        self.orders
            .iter()
            .rposition(|o| o.symbol == symbol && o.client_order_id == client_id)
    }

    /// Finds an order by `orderId` or `origClientOrderId` (`client_name` is
    /// the parameter's name).
    ///
    /// # Errors
    /// `-1102` when neither is sent; `not_found` when there is no such order.
    pub fn find(
        &self,
        params: &HashMap<String, String>,
        client_name: &str,
        id_name: &str,
        not_found: &ApiError,
    ) -> Result<usize, ApiError> {
        let symbol = param(params, "symbol").ok_or_else(|| missing("symbol"))?;
        self.symbol(symbol)?;
        let position = match (param(params, id_name), param(params, client_name)) {
            (Some(order_id), client) => {
                let order_id: i64 = order_id.parse().map_err(|_| missing(id_name))?;
                let position = self
                    .orders
                    .iter()
                    .position(|o| o.symbol == symbol && o.order_id == order_id)
                    .ok_or_else(|| not_found.clone())?;
                if let Some(client) = client
                    && self.orders[position].client_order_id != client
                {
                    return Err(not_found.clone());
                }
                position
            }
            (None, Some(client)) => self
                .position_by_client_id(symbol, client)
                .ok_or_else(|| not_found.clone())?,
            (None, None) => {
                return Err(ApiError::bad(
                    -1102,
                    &format!(
                        "Param '{client_name}' or '{id_name}' must be sent, but both were empty/null!"
                    ),
                ));
            }
        };
        Ok(position)
    }

    /// `POST /api/v3/order`: validates, places, reports `NEW`, and fills
    /// on arrival what crosses the book.
    ///
    /// # Errors
    /// The documented error for each refusal.
    pub fn new_order(
        &mut self,
        params: &HashMap<String, String>,
        now: i64,
        out: &mut Output,
    ) -> Result<usize, ApiError> {
        let order = self.validate(params)?;
        self.place(order, now, out)
    }

    /// Places a validated order: `MAX_NUM_ORDERS`, the client id, then the
    /// book (arrival) and the paper exchange (what rests).
    ///
    /// # Errors
    /// The documented error for each refusal.
    pub fn place(&mut self, new: NewOrder, now: i64, out: &mut Output) -> Result<usize, ApiError> {
        let arrival = self.arrival(&new)?;
        let open = self
            .orders
            .iter()
            .filter(|o| o.symbol == new.symbol && o.is_open())
            .count();
        if open >= new.rules.max_num_orders {
            return Err(ApiError::bad(-1013, "Filter failure: MAX_NUM_ORDERS"));
        }
        let client_id = match new.client_id.clone() {
            Some(id) => id,
            None => self.generated_id("twin"),
        };
        if self
            .orders
            .iter()
            .any(|o| o.symbol == new.symbol && o.client_order_id == client_id && o.is_open())
        {
            return Err(ApiError::bad(-2010, "Duplicate order sent."));
        }
        // The matching engine's balance check, after the filters.
        // A `quoteOrderQty` buy needs that amount of the quote asset.
        let (lock_asset, per_unit) = self.lock_rate(&new, &arrival);
        let needed = match (new.side, new.quote_qty) {
            (Side::Buy, Some(quote_qty)) => quote_qty.max(per_unit * new.quantity),
            _ => per_unit * new.quantity,
        };
        self.account.check(&lock_asset, needed)?;
        let order_id = self.next_order_id;
        let paper_qty = match arrival {
            Arrival::Paper => Some(new.quantity),
            Arrival::Take {
                qty, rest: true, ..
            } if qty < new.quantity => Some(new.quantity - qty),
            Arrival::Take { .. } => None,
        };
        if let Some(quantity) = paper_qty {
            let request = OrderRequest {
                client_order_id: ClientOrderId::new(order_id.to_string()),
                symbol: new.symbol.as_str().into(),
                side: new.side,
                order_type: new.paper_type,
                quantity,
                price: if new.needs_price { new.price } else { None },
                trigger_price: new.stop_price.filter(|_| {
                    matches!(new.paper_type, OrderType::StopMarket | OrderType::StopLimit)
                }),
                time_in_force: new.paper_tif,
            };
            match self.paper.place_order(request, now) {
                Ok(_) => {}
                Err(ExchangeError::Rejected { reason, .. }) if reason.contains("post-only") => {
                    return Err(ApiError::bad(
                        -2010,
                        "Order would immediately match and take.",
                    ));
                }
                Err(error) => return Err(ApiError::bad(-2010, &error.to_string())),
            }
        }
        self.next_order_id += 1;
        let order = TwinOrder {
            order_id,
            symbol: new.symbol,
            client_order_id: client_id.clone(),
            side: new.side,
            order_type: new.order_type,
            time_in_force: new.tif.unwrap_or_else(|| "GTC".to_owned()),
            price: new.price.unwrap_or_default(),
            stop_price: new.stop_price.unwrap_or_default(),
            orig_qty: new.quantity,
            orig_quote_qty: new.quote_qty.unwrap_or_default(),
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: "NEW".to_owned(),
            time: now,
            update_time: now,
        };
        let report = self.report(
            &order,
            "NEW",
            &Last {
                trade_id: -1,
                ..Last::default()
            },
            &client_id,
            "",
            now,
        );
        out.reports.push(report);
        self.account
            .lock(order_id, &lock_asset, per_unit, new.quantity, now);
        self.orders.push(order);
        let position = self.orders.len() - 1;
        if let Arrival::Take { price, qty, rest } = arrival {
            self.take(position, price, qty, rest, now, out);
        }
        Ok(position)
    }

    /// The answer to a placed order: `newOrderRespType`, by default `FULL`
    /// for `MARKET` and `LIMIT` orders and `ACK` for the others
    /// (`rest-api.md`), with the order's executions as `fills`.
    #[must_use]
    pub fn order_response(
        &self,
        position: usize,
        params: &HashMap<String, String>,
        now: i64,
    ) -> Value {
        let Some(order) = self.orders.get(position) else {
            return Value::Null;
        };
        let resp_type = param(params, "newOrderRespType").unwrap_or(
            if matches!(order.order_type.as_str(), "MARKET" | "LIMIT") {
                "FULL"
            } else {
                "ACK"
            },
        );
        let fills: Vec<Value> = self
            .trades
            .iter()
            .filter(|t| t.order_id == order.order_id)
            .map(TwinTrade::fill_json)
            .collect();
        order.new_order_json(resp_type, now, &fills)
    }

    /// Cancels the open order at `position`, reporting `CANCELED` with the
    /// cancel's id in `c` and the order's in `C`. Returns the cancel id.
    ///
    /// # Errors
    /// `-2011 Unknown order sent.` when it is not open.
    pub fn cancel(
        &mut self,
        position: usize,
        cancel_id: Option<&str>,
        now: i64,
        out: &mut Output,
    ) -> Result<String, ApiError> {
        let unknown = ApiError::bad(-2011, "Unknown order sent.");
        let order = self
            .orders
            .get(position)
            .ok_or_else(|| unknown.clone())?
            .clone();
        if !order.is_open() {
            return Err(unknown);
        }
        self.paper
            .cancel_order(&ClientOrderId::new(order.order_id.to_string()), now)
            .map_err(|_| unknown)?;
        let cancel_id = match cancel_id {
            Some(id) => id.to_owned(),
            None => self.generated_id("cancel"),
        };
        self.account.keep_locked(order.order_id, Decimal::ZERO, now);
        let mut order = order;
        order.status = "CANCELED".to_owned();
        order.update_time = now;
        self.orders[position] = order.clone();
        let report = self.report(
            &order,
            "CANCELED",
            &Last {
                trade_id: -1,
                ..Last::default()
            },
            &cancel_id,
            &order.client_order_id,
            now,
        );
        out.reports.push(report);
        Ok(cancel_id)
    }

    /// Checks a cancel's `cancelRestrictions` against the order at
    /// `position` (rest-api.md, "Regarding `cancelRestrictions`").
    ///
    /// # Errors
    /// `-1145 Invalid cancelRestrictions` for an unknown value; `-2011 Order
    /// was not canceled due to cancel restrictions.` when the order's status
    /// is not the one the restriction allows.
    pub fn check_cancel_restrictions(
        &self,
        position: usize,
        restriction: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(restriction) = restriction else {
            return Ok(());
        };
        let allowed = match restriction {
            "ONLY_NEW" => "NEW",
            "ONLY_PARTIALLY_FILLED" => "PARTIALLY_FILLED",
            _ => return Err(ApiError::bad(-1145, "Invalid cancelRestrictions")),
        };
        match self.orders.get(position) {
            Some(order) if order.is_open() && order.status != allowed => Err(ApiError::bad(
                -2011,
                "Order was not canceled due to cancel restrictions.",
            )),
            _ => Ok(()),
        }
    }

    /// Lowers an open order's quantity in place (keep priority), reporting
    /// `REPLACED`.
    ///
    /// # Errors
    /// `-2038` for a quantity that does not decrease or does not exceed the
    /// executed quantity; `-2011` when not open.
    pub fn amend_keep_priority(
        &mut self,
        position: usize,
        new_client_id: Option<&str>,
        new_qty: Decimal,
        now: i64,
        out: &mut Output,
    ) -> Result<(), ApiError> {
        let order = self
            .orders
            .get(position)
            .cloned()
            .ok_or_else(|| ApiError::bad(-2011, "Unknown order sent."))?;
        if !order.is_open() {
            return Err(ApiError::bad(-2038, "Unknown order sent."));
        }
        let rules = self.symbol(&order.symbol)?;
        if !rules.amend_allowed {
            return Err(ApiError::bad(
                -2038,
                "Order amend is not supported for this symbol.",
            ));
        }
        let amends = self.amends.get(&order.order_id).copied().unwrap_or(0);
        if amends >= rules.max_num_order_amends {
            return Err(ApiError::bad(-2038, "Filter failure: MAX_NUM_ORDER_AMENDS"));
        }
        if new_qty >= order.orig_qty {
            return Err(ApiError::bad(
                -2038,
                "Order amend (quantity increase) is not supported.",
            ));
        }
        if new_qty <= order.executed_qty {
            return Err(ApiError::bad(
                -2038,
                "The requested action would change no state; rejecting",
            ));
        }
        self.paper
            .amend_order(
                &AmendRequest {
                    client_order_id: ClientOrderId::new(order.order_id.to_string()),
                    new_price: None,
                    new_quantity: Some(
                        new_qty - self.taken.get(&order.order_id).copied().unwrap_or_default(),
                    ),
                },
                now,
            )
            .map_err(|error| ApiError::bad(-2038, &error.to_string()))?;
        *self.amends.entry(order.order_id).or_insert(0) += 1;
        self.account
            .keep_locked(order.order_id, new_qty - order.executed_qty, now);
        let orig = order.client_order_id.clone();
        let mut order = order;
        order.orig_qty = new_qty;
        order.update_time = now;
        order.client_order_id = match new_client_id {
            Some(id) => id.to_owned(),
            None => self.generated_id("amend"),
        };
        self.orders[position] = order.clone();
        let report = self.report(
            &order,
            "REPLACED",
            &Last {
                trade_id: -1,
                ..Last::default()
            },
            &order.client_order_id,
            &orig,
            now,
        );
        out.reports.push(report);
        Ok(())
    }

    /// A market trade print: matches it against the book, reports the
    /// account's executions, and returns the stream payload.
    pub fn print(&mut self, tick: &Tick, buyer_is_maker: bool, out: &mut Output) {
        let trade_id = self.next_market_trade_id;
        self.next_market_trade_id += 1;
        out.trades.push(json!({
            "e": "trade",
            "E": tick.timestamp_ms,
            "s": tick.symbol.as_str(),
            "t": trade_id,
            "p": fmt8(tick.price),
            "q": fmt8(tick.size),
            "T": tick.timestamp_ms,
            "m": buyer_is_maker,
            "M": true
        }));
        self.last_price
            .insert(tick.symbol.as_str().to_owned(), tick.price);
        // Binance executes whole steps of LOT_SIZE only: the account's share
        // of a print is the print's size rounded down to the step.
        let step = self
            .symbols
            .get(tick.symbol.as_str())
            .map_or(Decimal::ZERO, |rules| rules.step_size);
        if step.is_zero() {
            self.paper.on_market_tick(tick);
        } else {
            let mut matched = tick.clone();
            matched.size = (tick.size / step).floor() * step;
            if !matched.size.is_zero() {
                self.paper.on_market_tick(&matched);
            }
        }
        let mut events = Vec::new();
        self.paper.poll_events(&mut events);
        let mut pending_last: HashMap<i64, Last> = HashMap::new();
        for event in events {
            match event {
                ExchangeEvent::Fill(fill) => {
                    let Ok(order_id) = fill.client_order_id.as_str().parse::<i64>() else {
                        continue;
                    };
                    let Some(position) = self.orders.iter().position(|o| o.order_id == order_id)
                    else {
                        continue;
                    };
                    let bnb_free = self.account.free("BNB");
                    let (commission, commission_asset) = self
                        .symbols
                        .get(&self.orders[position].symbol)
                        .map(|s| {
                            let side = self.orders[position].side;
                            let bnb = self.bnb.as_ref().map(|bnb| (bnb, bnb_free));
                            commission::charge(s, side, fill.price, fill.fee, bnb)
                        })
                        .unwrap_or_default();
                    self.settle(
                        position,
                        fill.price,
                        fill.quantity,
                        (commission, &commission_asset),
                        fill.timestamp_ms,
                    );
                    let id = self.next_trade_id;
                    self.next_trade_id += 1;
                    let is_maker = fill.liquidity == tesser_core::Liquidity::Maker;
                    let order = &mut self.orders[position];
                    order.executed_qty += fill.quantity;
                    order.cum_quote += fill.price * fill.quantity;
                    order.update_time = fill.timestamp_ms;
                    self.trades.push(TwinTrade {
                        id,
                        symbol: order.symbol.clone(),
                        order_id,
                        price: fill.price,
                        qty: fill.quantity,
                        commission,
                        commission_asset: commission_asset.clone(),
                        time: fill.timestamp_ms,
                        is_buyer: order.side == Side::Buy,
                        is_maker,
                    });
                    pending_last.insert(
                        order_id,
                        Last {
                            qty: fill.quantity,
                            price: fill.price,
                            commission,
                            commission_asset: Some(commission_asset),
                            trade_id: id,
                            is_maker,
                        },
                    );
                }
                ExchangeEvent::OrderUpdate(update) => {
                    let Ok(order_id) = update.client_order_id.as_str().parse::<i64>() else {
                        continue;
                    };
                    let Some(position) = self.orders.iter().position(|o| o.order_id == order_id)
                    else {
                        continue;
                    };
                    let status = match update.status {
                        OrderStatus::Accepted => "NEW",
                        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
                        OrderStatus::Filled => "FILLED",
                        OrderStatus::Cancelled => "CANCELED",
                        OrderStatus::Rejected => "REJECTED",
                        OrderStatus::Expired => "EXPIRED",
                    };
                    self.orders[position].status = status.to_owned();
                    self.orders[position].update_time = update.timestamp_ms;
                    let order = self.orders[position].clone();
                    let (execution, last) = match pending_last.remove(&order_id) {
                        Some(last) => ("TRADE", last),
                        None => (
                            "EXPIRED",
                            Last {
                                trade_id: -1,
                                ..Last::default()
                            },
                        ),
                    };
                    let report = self.report(
                        &order,
                        execution,
                        &last,
                        &order.client_order_id,
                        "",
                        update.timestamp_ms,
                    );
                    out.reports.push(report);
                }
                // The paper exchange never has an unknown outcome to settle,
                // nor an account.
                ExchangeEvent::Settled(_) | ExchangeEvent::Balances(_) => {}
            }
        }
    }
}
