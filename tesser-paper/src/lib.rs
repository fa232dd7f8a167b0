//! A deterministic paper exchange.
//!
//! The fill model works from trade prints alone (there is no order book):
//! * orders never fill inside `place_order`; they fill on the prints that
//!   follow;
//! * a **limit** order fills when a print trades *through* its price (below
//!   it for a buy, above it for a sell), at the limit price, as maker;
//! * a **market** order fills at the next print's price, as taker, and keeps
//!   sweeping later prints until it is done;
//! * **IOC** and **FOK** orders take liquidity from the first print after
//!   they are accepted (at the print's price, if it is at or better than the
//!   limit) and expire what that print could not fill; FOK fills completely
//!   or not at all;
//! * **post-only** orders that would cross the last trade are refused;
//! * **stop** orders trigger when a print reaches the trigger price and then
//!   act as market (stop-market) or limit (stop-limit) orders;
//! * each print's size bounds what it can fill in total, shared among the
//!   resting orders of its symbol in price-time priority (market orders
//!   first, then the best limit price, then the earliest order).
//!
//! Same input, same fills: no clock, no randomness, ordered containers only.
#![deny(missing_docs)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, Fill, Liquidity,
    Order, OrderRequest, OrderStatus, OrderType, OrderUpdate, Side, Symbol, Tick, TimeInForce,
};

/// Fees of the paper exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Fee on maker fills, in basis points of the notional.
    pub maker_fee_bps: Decimal,
    /// Fee on taker fills, in basis points of the notional.
    pub taker_fee_bps: Decimal,
}

/// An order resting on the paper exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Resting {
    order: Order,
    /// Time priority: lower is earlier.
    priority: u64,
    /// Whether a stop order has triggered.
    triggered: bool,
    /// Whether the order has seen a print since acceptance (IOC/FOK decide
    /// on their first print).
    seen_print: bool,
}

/// Events as stored (serializable) until polled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Pending {
    Fill(Fill),
    Update(OrderUpdate),
}

/// The paper exchange. Serializable as a whole, so a host can save it and
/// restore it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperExchange {
    config: PaperConfig,
    orders: BTreeMap<ClientOrderId, Resting>,
    /// Open orders per symbol, in acceptance order.
    open: BTreeMap<Symbol, Vec<ClientOrderId>>,
    fills: Vec<Fill>,
    last_prices: BTreeMap<Symbol, Decimal>,
    pending: Vec<Pending>,
    next_priority: u64,
    next_fill: u64,
    #[serde(skip)]
    scratch: Vec<(u8, Decimal, u64, ClientOrderId)>,
}

const TEN_THOUSAND: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

impl PaperExchange {
    /// An empty exchange.
    #[must_use]
    pub fn new(config: PaperConfig) -> Self {
        Self {
            config,
            orders: BTreeMap::new(),
            open: BTreeMap::new(),
            fills: Vec::new(),
            last_prices: BTreeMap::new(),
            pending: Vec::new(),
            next_priority: 0,
            next_fill: 1,
            scratch: Vec::new(),
        }
    }

    /// Every fill so far, oldest first.
    #[must_use]
    pub fn fills(&self) -> &[Fill] {
        &self.fills
    }

    /// The last trade price of `symbol`.
    #[must_use]
    pub fn last_price(&self, symbol: &Symbol) -> Option<Decimal> {
        self.last_prices.get(symbol).copied()
    }

    fn reject(id: &ClientOrderId, reason: impl Into<String>) -> ExchangeError {
        ExchangeError::Rejected {
            client_order_id: id.clone(),
            reason: reason.into(),
        }
    }

    fn would_take(&self, symbol: &Symbol, side: Side, price: Decimal) -> bool {
        self.last_prices
            .get(symbol)
            .is_some_and(|&last| match side {
                Side::Buy => price >= last,
                Side::Sell => price <= last,
            })
    }

    fn validate(&self, request: &OrderRequest) -> Result<(), ExchangeError> {
        let id = &request.client_order_id;
        if request.quantity <= Decimal::ZERO {
            return Err(Self::reject(
                id,
                format!("quantity {} must be positive", request.quantity),
            ));
        }
        let needs_price = matches!(request.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_trigger = matches!(
            request.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        );
        match request.price {
            None if needs_price => {
                return Err(Self::reject(
                    id,
                    format!("a {:?} order needs a price", request.order_type),
                ));
            }
            Some(price) if price <= Decimal::ZERO => {
                return Err(Self::reject(id, format!("price {price} must be positive")));
            }
            _ => {}
        }
        match request.trigger_price {
            None if needs_trigger => {
                return Err(Self::reject(
                    id,
                    format!("a {:?} order needs a trigger price", request.order_type),
                ));
            }
            Some(price) if price <= Decimal::ZERO => {
                return Err(Self::reject(
                    id,
                    format!("trigger price {price} must be positive"),
                ));
            }
            _ => {}
        }
        if request.time_in_force == TimeInForce::PostOnly {
            if request.order_type != OrderType::Limit {
                return Err(Self::reject(id, "post-only needs a limit order"));
            }
            if let Some(price) = request.price
                && self.would_take(&request.symbol, request.side, price)
            {
                return Err(Self::reject(id, "post-only order would take liquidity"));
            }
        }
        Ok(())
    }

    fn fee(&self, notional: Decimal, liquidity: Liquidity) -> Decimal {
        let bps = match liquidity {
            Liquidity::Maker => self.config.maker_fee_bps,
            Liquidity::Taker => self.config.taker_fee_bps,
        };
        notional * bps / TEN_THOUSAND
    }

    fn close(&mut self, id: &ClientOrderId) {
        let Some(resting) = self.orders.get(id) else {
            return;
        };
        if let Some(list) = self.open.get_mut(&resting.order.request.symbol) {
            list.retain(|open| open != id);
        }
    }

    /// Executes `quantity` of order `id` at `price`.
    fn execute(
        &mut self,
        id: &ClientOrderId,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
        timestamp_ms: i64,
    ) {
        let fee = self.fee(price * quantity, liquidity);
        let fill_id = format!("paper-{:06}", self.next_fill);
        self.next_fill += 1;
        let Some(resting) = self.orders.get_mut(id) else {
            return;
        };
        let order = &mut resting.order;
        let before = order.filled_quantity;
        order.filled_quantity += quantity;
        let previous_notional = order.avg_fill_price.unwrap_or_default() * before;
        order.avg_fill_price = Some((previous_notional + price * quantity) / order.filled_quantity);
        order.updated_ms = timestamp_ms;
        order.status = if order.filled_quantity >= order.request.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let fill = Fill {
            fill_id,
            client_order_id: id.clone(),
            symbol: order.request.symbol.clone(),
            side: order.request.side,
            price,
            quantity,
            fee,
            liquidity,
            timestamp_ms,
        };
        let update = order.to_update(None);
        let done = order.status == OrderStatus::Filled;
        self.fills.push(fill.clone());
        self.pending.push(Pending::Fill(fill));
        self.pending.push(Pending::Update(update));
        if done {
            self.close(id);
        }
    }

    fn expire(&mut self, id: &ClientOrderId, reason: &str, timestamp_ms: i64) {
        let Some(resting) = self.orders.get_mut(id) else {
            return;
        };
        resting.order.status = OrderStatus::Expired;
        resting.order.updated_ms = timestamp_ms;
        let update = resting.order.to_update(Some(reason.to_owned()));
        self.pending.push(Pending::Update(update));
        self.close(id);
    }

    fn matches(&mut self, tick: &Tick) {
        let Some(list) = self.open.get(&tick.symbol) else {
            return;
        };
        if list.is_empty() {
            return;
        }
        // Trigger stops and rank what may trade on this print.
        let mut ranked = std::mem::take(&mut self.scratch);
        ranked.clear();
        let ids: Vec<ClientOrderId> = list.clone();
        for id in ids {
            let Some(resting) = self.orders.get_mut(&id) else {
                continue;
            };
            let request = &resting.order.request;
            if matches!(
                request.order_type,
                OrderType::StopMarket | OrderType::StopLimit
            ) && !resting.triggered
            {
                let trigger = request.trigger_price.unwrap_or_default();
                let hit = match request.side {
                    Side::Buy => tick.price >= trigger,
                    Side::Sell => tick.price <= trigger,
                };
                if !hit {
                    continue;
                }
                resting.triggered = true;
            }
            let is_market = matches!(
                request.order_type,
                OrderType::Market | OrderType::StopMarket
            );
            // Rank: market orders (class 0) by time; limits (class 1) by price
            // (best first) then time. Buy prices are negated so smaller sorts first.
            let key = match (is_market, request.side) {
                (true, _) => (0, Decimal::ZERO),
                (false, Side::Buy) => (1, -request.price.unwrap_or_default()),
                (false, Side::Sell) => (1, request.price.unwrap_or_default()),
            };
            ranked.push((key.0, key.1, resting.priority, id));
        }
        ranked.sort();
        let mut liquidity = tick.size;
        for (_, _, _, id) in &ranked {
            let Some(resting) = self.orders.get_mut(id) else {
                continue;
            };
            let first_print = !resting.seen_print;
            resting.seen_print = true;
            let request = resting.order.request.clone();
            let remaining = request.quantity - resting.order.filled_quantity;
            let is_market = matches!(
                request.order_type,
                OrderType::Market | OrderType::StopMarket
            );
            let immediate = matches!(
                request.time_in_force,
                TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill
            );
            // Price rule: takers trade at the print when it is at or better
            // than their limit; resting limits need a trade-through.
            let (tradeable, price, role) = if is_market {
                (true, tick.price, Liquidity::Taker)
            } else {
                let limit = request.price.unwrap_or_default();
                if immediate {
                    let ok = match request.side {
                        Side::Buy => tick.price <= limit,
                        Side::Sell => tick.price >= limit,
                    };
                    (ok, tick.price, Liquidity::Taker)
                } else {
                    let ok = match request.side {
                        Side::Buy => tick.price < limit,
                        Side::Sell => tick.price > limit,
                    };
                    (ok, limit, Liquidity::Maker)
                }
            };
            let available = if tradeable {
                liquidity.min(remaining)
            } else {
                Decimal::ZERO
            };
            match request.time_in_force {
                TimeInForce::FillOrKill if first_print || immediate => {
                    if available >= remaining && remaining > Decimal::ZERO {
                        liquidity -= remaining;
                        self.execute(id, price, remaining, role, tick.timestamp_ms);
                    } else {
                        self.expire(
                            id,
                            "fill-or-kill could not fill completely",
                            tick.timestamp_ms,
                        );
                    }
                }
                TimeInForce::ImmediateOrCancel => {
                    if available > Decimal::ZERO {
                        liquidity -= available;
                        self.execute(id, price, available, role, tick.timestamp_ms);
                    }
                    if available < remaining {
                        self.expire(
                            id,
                            "immediate-or-cancel remainder expired",
                            tick.timestamp_ms,
                        );
                    }
                }
                _ => {
                    if available > Decimal::ZERO {
                        liquidity -= available;
                        self.execute(id, price, available, role, tick.timestamp_ms);
                    }
                }
            }
        }
        self.scratch = ranked;
    }
}

impl ExchangeClient for PaperExchange {
    fn name(&self) -> &str {
        "paper"
    }

    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        if self.orders.contains_key(&request.client_order_id) {
            return Err(ExchangeError::DuplicateClientOrderId(
                request.client_order_id,
            ));
        }
        self.validate(&request)?;
        let id = request.client_order_id.clone();
        let symbol = request.symbol.clone();
        let order = Order {
            request,
            status: OrderStatus::Accepted,
            filled_quantity: Decimal::ZERO,
            avg_fill_price: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        let priority = self.next_priority;
        self.next_priority += 1;
        self.orders.insert(
            id.clone(),
            Resting {
                order: order.clone(),
                priority,
                triggered: false,
                seen_print: false,
            },
        );
        self.open.entry(symbol).or_default().push(id);
        Ok(order)
    }

    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let id = &amend.client_order_id;
        let last_prices = &self.last_prices;
        let resting = self
            .orders
            .get_mut(id)
            .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
        if !resting.order.status.is_open() {
            return Err(ExchangeError::OrderClosed(id.clone()));
        }
        let request = &resting.order.request;
        let mut loses_priority = false;
        if let Some(quantity) = amend.new_quantity {
            if quantity <= resting.order.filled_quantity {
                return Err(Self::reject(
                    id,
                    format!(
                        "new quantity {quantity} must exceed the filled quantity {}",
                        resting.order.filled_quantity
                    ),
                ));
            }
            loses_priority |= quantity > request.quantity;
        }
        if let Some(price) = amend.new_price {
            if !matches!(request.order_type, OrderType::Limit | OrderType::StopLimit) {
                return Err(Self::reject(
                    id,
                    format!("a {:?} order has no price to amend", request.order_type),
                ));
            }
            if price <= Decimal::ZERO {
                return Err(Self::reject(id, format!("price {price} must be positive")));
            }
            if request.time_in_force == TimeInForce::PostOnly
                && last_prices
                    .get(&request.symbol)
                    .is_some_and(|&last| match request.side {
                        Side::Buy => price >= last,
                        Side::Sell => price <= last,
                    })
            {
                return Err(Self::reject(id, "post-only order would take liquidity"));
            }
            loses_priority |= Some(price) != request.price;
        }
        if let Some(quantity) = amend.new_quantity {
            resting.order.request.quantity = quantity;
        }
        if let Some(price) = amend.new_price {
            resting.order.request.price = Some(price);
        }
        resting.order.updated_ms = now_ms;
        if loses_priority {
            resting.priority = self.next_priority;
            self.next_priority += 1;
        }
        Ok(resting.order.clone())
    }

    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        let resting = self
            .orders
            .get_mut(client_order_id)
            .ok_or_else(|| ExchangeError::UnknownOrder(client_order_id.clone()))?;
        if !resting.order.status.is_open() {
            return Err(ExchangeError::OrderClosed(client_order_id.clone()));
        }
        resting.order.status = OrderStatus::Cancelled;
        resting.order.updated_ms = now_ms;
        let order = resting.order.clone();
        self.close(client_order_id);
        Ok(order)
    }

    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        Ok(self.orders.get(client_order_id).map(|r| r.order.clone()))
    }

    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        let mut open: Vec<&Resting> = self
            .open
            .values()
            .flatten()
            .filter_map(|id| self.orders.get(id))
            .collect();
        open.sort_by_key(|r| r.order.created_ms);
        Ok(open.into_iter().map(|r| r.order.clone()).collect())
    }

    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self
            .fills
            .iter()
            .filter(|f| &f.client_order_id == client_order_id)
            .cloned()
            .collect())
    }

    fn on_market_tick(&mut self, tick: &Tick) {
        self.matches(tick);
        if let Some(last) = self.last_prices.get_mut(&tick.symbol) {
            *last = tick.price;
        } else {
            self.last_prices.insert(tick.symbol.clone(), tick.price);
        }
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        out.extend(self.pending.drain(..).map(|event| match event {
            Pending::Fill(fill) => ExchangeEvent::Fill(fill),
            Pending::Update(update) => ExchangeEvent::OrderUpdate(update),
        }));
    }
}
