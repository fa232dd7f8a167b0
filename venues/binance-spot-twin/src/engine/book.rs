//! The twin's book: each symbol's best bid and ask with their sizes, and
//! what an arriving order does against it. A marketable order (`MARKET`, or
//! a `LIMIT` whose price crosses the opposite touch) fills at once as taker
//! at the touch's price, up to the touch's size, which it consumes. What is
//! left of a `GTC` `LIMIT` rests (and fills on prints, in the paper
//! exchange); what is left of a `MARKET` or `IOC` order expires; a `FOK`
//! order fills whole or expires. A symbol without a quote keeps matching on
//! prints only.

use rust_decimal::Decimal;
use serde_json::json;
use tesser_core::{Liquidity, Side};

use super::filters::NewOrder;
use super::{ApiError, Engine, Last, Output, TwinTrade, fmt8};
use crate::TwinQuote;

/// A symbol's best bid and ask.
#[derive(Debug, Clone, Default)]
pub struct Touch {
    bid: Decimal,
    bid_qty: Decimal,
    ask: Decimal,
    ask_qty: Decimal,
}

/// What an arriving order does.
#[derive(Debug, Clone, Copy)]
pub enum Arrival {
    /// Goes to the paper exchange whole: the symbol has no quote, the order
    /// is a stop order, or it rests without crossing.
    Paper,
    /// Takes `qty` (maybe none) at `price`; the rest rests when `rest`,
    /// else expires.
    Take {
        /// Execution price: the opposite touch.
        price: Decimal,
        /// Quantity taken.
        qty: Decimal,
        /// Whether the remainder rests (`GTC` `LIMIT`).
        rest: bool,
    },
}

impl Engine {
    /// Sets a symbol's book.
    pub fn set_quote(&mut self, quote: &TwinQuote) {
        self.books.insert(
            quote.symbol.clone(),
            Touch {
                bid: quote.bid,
                bid_qty: quote.bid_qty,
                ask: quote.ask,
                ask_qty: quote.ask_qty,
            },
        );
    }

    /// The price `PERCENT_PRICE_BY_SIDE` and a `MARKET` order's `NOTIONAL`
    /// are measured against. Binance uses the volume-weighted average price
    /// of the last `avgPriceMins` minutes; the twin uses the book's mid when
    /// the symbol has a quote, else the last print, else none (no check).
    #[must_use]
    pub fn reference_price(&self, symbol: &str) -> Option<Decimal> {
        match self.books.get(symbol) {
            Some(touch) if touch.bid > Decimal::ZERO && touch.ask > Decimal::ZERO => {
                Some((touch.bid + touch.ask) / Decimal::TWO)
            }
            _ => self.last_price.get(symbol).copied(),
        }
    }

    /// The touch an order of `side` takes from: the ask for a buy, the bid
    /// for a sell; `None` before the symbol's first quote.
    #[must_use]
    pub fn touch_price(&self, symbol: &str, side: Side) -> Option<Decimal> {
        self.books.get(symbol).map(|touch| match side {
            Side::Buy => touch.ask,
            Side::Sell => touch.bid,
        })
    }

    /// What `order` does on arrival against its symbol's book.
    ///
    /// # Errors
    /// `-2010 Order would immediately match and take.` for a `LIMIT_MAKER`
    /// that crosses the book.
    pub fn arrival(&self, order: &NewOrder) -> Result<Arrival, ApiError> {
        let Some(touch) = self.books.get(&order.symbol) else {
            return Ok(Arrival::Paper);
        };
        let (price, size) = match order.side {
            Side::Buy => (touch.ask, touch.ask_qty),
            Side::Sell => (touch.bid, touch.bid_qty),
        };
        let crosses = |limit: Decimal| {
            size > Decimal::ZERO
                && match order.side {
                    Side::Buy => limit >= price,
                    Side::Sell => limit <= price,
                }
        };
        let step = order.rules.step_size;
        let available = if step.is_zero() {
            size
        } else {
            (size / step).floor() * step
        };
        let fillable = order.quantity.min(available);
        match (order.order_type.as_str(), order.price) {
            ("LIMIT_MAKER", Some(limit)) if crosses(limit) => Err(ApiError::bad(
                -2010,
                "Order would immediately match and take.",
            )),
            ("MARKET", _) => Ok(Arrival::Take {
                price,
                qty: fillable,
                rest: false,
            }),
            ("LIMIT", Some(limit)) => {
                let rest = order.tif.as_deref() == Some("GTC");
                if !crosses(limit) {
                    return Ok(if rest {
                        Arrival::Paper
                    } else {
                        Arrival::Take {
                            price,
                            qty: Decimal::ZERO,
                            rest,
                        }
                    });
                }
                let whole_or_none = order.tif.as_deref() == Some("FOK");
                Ok(Arrival::Take {
                    price,
                    qty: if whole_or_none && fillable < order.quantity {
                        Decimal::ZERO
                    } else {
                        fillable
                    },
                    rest,
                })
            }
            _ => Ok(Arrival::Paper),
        }
    }

    /// The order at `position` takes `qty` at `price` from the book as
    /// taker (reported `TRADE`, `m=false`); then, unless its remainder
    /// `rest`s, the remainder expires (reported `EXPIRED`).
    pub fn take(
        &mut self,
        position: usize,
        price: Decimal,
        qty: Decimal,
        rest: bool,
        now: i64,
        out: &mut Output,
    ) {
        let Some(order) = self.orders.get(position).cloned() else {
            return;
        };
        if qty > Decimal::ZERO {
            if let Some(touch) = self.books.get_mut(&order.symbol) {
                match order.side {
                    Side::Buy => touch.ask_qty -= qty,
                    Side::Sell => touch.bid_qty -= qty,
                }
            }
            let (commission, commission_asset) =
                self.commission(&order.symbol, order.side, price, qty, Liquidity::Taker);
            self.settle(position, price, qty, (commission, &commission_asset), now);
            let id = self.next_trade_id;
            self.next_trade_id += 1;
            self.trades.push(TwinTrade {
                id,
                symbol: order.symbol.clone(),
                order_id: order.order_id,
                price,
                qty,
                commission,
                commission_asset: commission_asset.clone(),
                time: now,
                is_buyer: order.side == Side::Buy,
                is_maker: false,
            });
            *self.taken.entry(order.order_id).or_default() += qty;
            self.last_price.insert(order.symbol.clone(), price);
            let market_trade = self.next_market_trade_id;
            self.next_market_trade_id += 1;
            out.trades.push(json!({
                "e": "trade", "E": now, "s": order.symbol, "t": market_trade,
                "p": fmt8(price), "q": fmt8(qty), "T": now,
                "m": order.side == Side::Sell, "M": true
            }));
            let updated = &mut self.orders[position];
            updated.executed_qty += qty;
            updated.cum_quote += price * qty;
            updated.update_time = now;
            updated.status = if updated.executed_qty >= updated.orig_qty {
                "FILLED"
            } else {
                "PARTIALLY_FILLED"
            }
            .to_owned();
            let updated = updated.clone();
            let report = self.report(
                &updated,
                "TRADE",
                &Last {
                    qty,
                    price,
                    commission,
                    commission_asset: Some(commission_asset),
                    trade_id: id,
                    is_maker: false,
                },
                &updated.client_order_id,
                "",
                now,
            );
            out.reports.push(report);
        }
        let order = &mut self.orders[position];
        if rest || order.executed_qty >= order.orig_qty {
            return;
        }
        order.status = "EXPIRED".to_owned();
        order.update_time = now;
        let order = order.clone();
        let report = self.report(
            &order,
            "EXPIRED",
            &Last {
                trade_id: -1,
                ..Last::default()
            },
            &order.client_order_id,
            "",
            now,
        );
        out.reports.push(report);
    }

    /// The commission of an execution and the asset it is charged in, as
    /// the commission FAQ says (`commission.rs`): `price × qty × fee bps /
    /// 10 000` at the maker or taker rate, out of what the trade receives
    /// (or in BNB).
    pub fn commission(
        &mut self,
        symbol: &str,
        side: Side,
        price: Decimal,
        qty: Decimal,
        liquidity: Liquidity,
    ) -> (Decimal, String) {
        let bps = match liquidity {
            Liquidity::Maker => self.maker_fee_bps,
            Liquidity::Taker => self.taker_fee_bps,
        };
        let quote_fee = price * qty * bps / Decimal::from(10_000);
        let bnb = self
            .bnb
            .as_ref()
            .map(|bnb| (bnb, self.account().free("BNB")));
        match self.symbols.get(symbol) {
            Some(rules) => super::commission::charge(rules, side, price, quote_fee, bnb),
            None => (quote_fee, String::new()),
        }
    }
}
