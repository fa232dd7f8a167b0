//! The paper exchange and its [`ExchangeClient`] implementation.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, Fill, Order,
    OrderRequest, OrderStatus, OrderType, Side, Symbol, Tick, TimeInForce,
};

use crate::PaperConfig;
use crate::matching::{Book, Ledger, Working};

/// Reason of a post-only order that would cross the last trade.
const POST_ONLY_WOULD_TAKE: &str = "post-only order would take liquidity";

/// A deterministic simulated venue that fills orders against trade prints.
///
/// See the [crate documentation](crate) for the fill model. The whole state
/// (orders, fills, last prices, queued events and counters) serializes with
/// serde, so a host can save it and restore it later; equality compares that
/// same state.
#[derive(Debug, Clone)]
pub struct PaperExchange {
    pub(crate) config: PaperConfig,
    /// Every order ever accepted, in acceptance order.
    pub(crate) orders: Vec<Working>,
    /// Position in `orders` by client order id. Hashed: ids of one
    /// algorithm share a long prefix, which made every comparison of an
    /// ordered map a long `memcmp`.
    pub(crate) ids: FxHashMap<ClientOrderId, usize>,
    /// Open orders per symbol.
    pub(crate) books: BTreeMap<Symbol, Book>,
    /// Last trade price per symbol.
    pub(crate) last_prices: BTreeMap<Symbol, Decimal>,
    pub(crate) ledger: Ledger,
    /// The next time priority to hand out.
    pub(crate) next_priority: u64,
    /// Open orders on their way to the book (a latency is configured), in
    /// acceptance order.
    pub(crate) arriving: Vec<usize>,
}

impl PartialEq for PaperExchange {
    fn eq(&self, other: &Self) -> bool {
        // `ids` and `books` are indexes derived from `orders`.
        self.config == other.config
            && self.orders == other.orders
            && self.last_prices == other.last_prices
            && self.ledger == other.ledger
            && self.next_priority == other.next_priority
            && self.arriving == other.arriving
    }
}

impl Eq for PaperExchange {}

impl PaperExchange {
    /// An exchange with no orders, fills or prices.
    #[must_use]
    pub const fn new(config: PaperConfig) -> Self {
        Self {
            config,
            orders: Vec::new(),
            ids: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
            books: BTreeMap::new(),
            last_prices: BTreeMap::new(),
            ledger: Ledger::new(),
            next_priority: 0,
            arriving: Vec::new(),
        }
    }

    /// The exchange's settings.
    #[must_use]
    pub const fn config(&self) -> &PaperConfig {
        &self.config
    }

    /// Every fill so far, oldest first.
    #[must_use]
    pub fn fills(&self) -> &[Fill] {
        &self.ledger.fills
    }

    /// Whether any order rests on any book (without collecting them, unlike
    /// [`ExchangeClient::open_orders`]).
    #[must_use]
    pub fn has_open_orders(&self) -> bool {
        self.books.values().any(|book| !book.is_empty()) || !self.arriving.is_empty()
    }

    /// Books the orders of `tick`'s symbol that have arrived by its time.
    fn admit_arrivals(&mut self, tick: &Tick) {
        let mut index = 0;
        while let Some(&position) = self.arriving.get(index) {
            let due = self.orders.get(position).map(|working| {
                (
                    working.order.request.symbol == tick.symbol
                        && working.arrives_ms <= tick.timestamp_ms,
                    working.order.status.is_open(),
                )
            });
            match due {
                Some((true, open)) => {
                    self.arriving.remove(index);
                    if open {
                        self.book(position);
                    }
                }
                Some((false, _)) => index += 1,
                None => {
                    self.arriving.remove(index);
                }
            }
        }
    }

    /// The last trade price of `symbol`, once a print of it was seen.
    #[must_use]
    pub fn last_price(&self, symbol: &Symbol) -> Option<Decimal> {
        self.last_prices.get(symbol).copied()
    }

    fn take_priority(&mut self) -> u64 {
        let priority = self.next_priority;
        self.next_priority += 1;
        priority
    }

    /// Whether a post-only order at `price` would cross the last trade.
    fn would_take(&self, symbol: &Symbol, side: Side, price: Decimal) -> bool {
        self.last_price(symbol).is_some_and(|last| match side {
            Side::Buy => price >= last,
            Side::Sell => price <= last,
        })
    }

    fn validate(&self, request: &OrderRequest) -> Result<(), ExchangeError> {
        let id = &request.client_order_id;
        let kind = type_name(request.order_type);
        if request.quantity <= Decimal::ZERO {
            return Err(rejected(
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
                return Err(rejected(id, format!("a {kind} order needs a price")));
            }
            Some(price) if price <= Decimal::ZERO => {
                return Err(rejected(id, format!("price {price} must be positive")));
            }
            _ => {}
        }
        match request.trigger_price {
            None if needs_trigger => {
                return Err(rejected(
                    id,
                    format!("a {kind} order needs a trigger price"),
                ));
            }
            Some(trigger) if trigger <= Decimal::ZERO => {
                return Err(rejected(
                    id,
                    format!("trigger price {trigger} must be positive"),
                ));
            }
            _ => {}
        }
        if request.time_in_force == TimeInForce::PostOnly {
            if request.order_type != OrderType::Limit {
                return Err(rejected(
                    id,
                    format!("post-only needs a limit order, not a {kind} order"),
                ));
            }
            if let Some(price) = request.price
                && self.would_take(&request.symbol, request.side, price)
            {
                return Err(rejected(id, POST_ONLY_WOULD_TAKE));
            }
        }
        Ok(())
    }

    /// The open order `id`, or why it cannot be changed.
    fn open_position(&self, id: &ClientOrderId) -> Result<usize, ExchangeError> {
        let position = *self
            .ids
            .get(id)
            .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
        match self.orders.get(position) {
            Some(working) if working.order.status.is_open() => Ok(position),
            Some(_) => Err(ExchangeError::OrderClosed(id.clone())),
            None => Err(ExchangeError::UnknownOrder(id.clone())),
        }
    }

    /// Drops an order from its symbol's book.
    fn unbook(&mut self, symbol: &Symbol, position: usize) {
        if let Some(book) = self.books.get_mut(symbol) {
            book.remove(position);
        }
    }

    /// Queues the open order at `position` in its symbol's book.
    fn book(&mut self, position: usize) {
        let Some(working) = self.orders.get(position) else {
            return;
        };
        let symbol = &working.order.request.symbol;
        match self.books.get_mut(symbol) {
            Some(book) => book.insert(working, position),
            None => {
                let mut book = Book::default();
                book.insert(working, position);
                self.books.insert(symbol.clone(), book);
            }
        }
    }
}

/// How an order type is named in reasons.
const fn type_name(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "market",
        OrderType::Limit => "limit",
        OrderType::StopMarket => "stop-market",
        OrderType::StopLimit => "stop-limit",
    }
}

fn rejected(id: &ClientOrderId, reason: impl Into<String>) -> ExchangeError {
    ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason: reason.into(),
    }
}

impl ExchangeClient for PaperExchange {
    fn name(&self) -> &str {
        "paper"
    }

    /// Accepts an order; it can fill from the next print of its symbol on.
    ///
    /// # Errors
    /// [`ExchangeError::DuplicateClientOrderId`] when the id was ever used on
    /// this exchange (even by a closed order); [`ExchangeError::Rejected`] for
    /// a non-positive quantity or price, a limit order without a price, a stop
    /// order without a trigger price, a post-only order that is not a limit
    /// order, or one that would cross the last trade.
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        if self.ids.contains_key(&request.client_order_id) {
            return Err(ExchangeError::DuplicateClientOrderId(
                request.client_order_id,
            ));
        }
        self.validate(&request)?;
        let order = Order {
            request,
            status: OrderStatus::Accepted,
            filled_quantity: Decimal::ZERO,
            avg_fill_price: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        let priority = self.take_priority();
        let position = self.orders.len();
        self.ids
            .insert(order.request.client_order_id.clone(), position);
        let latency = self.config.latency_ms.max(0);
        self.orders.push(Working {
            order: order.clone(),
            priority,
            triggered: false,
            filled_notional: Decimal::ZERO,
            fills: Vec::new(),
            arrives_ms: now_ms.saturating_add(latency),
        });
        if latency == 0 {
            self.book(position);
        } else {
            self.arriving.push(position);
        }
        Ok(order)
    }

    /// Changes a working order's limit price and/or total quantity. A price
    /// change or a quantity increase sends the order to the back of the queue;
    /// a quantity decrease keeps its place.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`], or
    /// [`ExchangeError::Rejected`] when the amend changes nothing, the new
    /// quantity does not exceed the filled quantity, a price is given for an
    /// order without one (market, stop-market), the new price is not positive,
    /// or a post-only order's new price would cross the last trade.
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let id = &amend.client_order_id;
        let position = self.open_position(id)?;
        let Some(working) = self.orders.get(position) else {
            return Err(ExchangeError::UnknownOrder(id.clone()));
        };
        let order = &working.order;
        let request = &order.request;
        if amend.new_price.is_none() && amend.new_quantity.is_none() {
            return Err(rejected(id, "the amend changes neither price nor quantity"));
        }
        let mut loses_priority = false;
        if let Some(quantity) = amend.new_quantity {
            if quantity <= order.filled_quantity {
                return Err(rejected(
                    id,
                    format!(
                        "new quantity {quantity} must exceed the filled quantity {}",
                        order.filled_quantity
                    ),
                ));
            }
            loses_priority |= quantity > request.quantity;
        }
        if let Some(price) = amend.new_price {
            if !matches!(request.order_type, OrderType::Limit | OrderType::StopLimit) {
                return Err(rejected(
                    id,
                    format!(
                        "a {} order has no price to amend",
                        type_name(request.order_type)
                    ),
                ));
            }
            if price <= Decimal::ZERO {
                return Err(rejected(id, format!("new price {price} must be positive")));
            }
            if request.time_in_force == TimeInForce::PostOnly
                && self.would_take(&request.symbol, request.side, price)
            {
                return Err(rejected(id, POST_ONLY_WOULD_TAKE));
            }
            loses_priority |= request.price != Some(price);
        }
        let priority = if loses_priority {
            Some(self.take_priority())
        } else {
            None
        };
        let Some(working) = self.orders.get_mut(position) else {
            return Err(ExchangeError::UnknownOrder(id.clone()));
        };
        if let Some(quantity) = amend.new_quantity {
            working.order.request.quantity = quantity;
        }
        if let Some(price) = amend.new_price {
            working.order.request.price = Some(price);
        }
        if let Some(priority) = priority {
            working.priority = priority;
        }
        working.order.updated_ms = now_ms;
        let order = working.order.clone();
        // Requeue: the price or the priority may have changed. An order on
        // its way stays on its way.
        if !self.arriving.contains(&position) {
            self.unbook(&order.request.symbol, position);
            self.book(position);
        }
        Ok(order)
    }

    /// Cancels a working order.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`] or [`ExchangeError::OrderClosed`].
    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        let position = self.open_position(client_order_id)?;
        let Some(working) = self.orders.get_mut(position) else {
            return Err(ExchangeError::UnknownOrder(client_order_id.clone()));
        };
        working.order.status = OrderStatus::Cancelled;
        working.order.updated_ms = now_ms;
        let order = working.order.clone();
        self.unbook(&order.request.symbol, position);
        self.arriving.retain(|&arriving| arriving != position);
        Ok(order)
    }

    /// The order's current state; `None` for an id never accepted.
    ///
    /// # Errors
    /// Never.
    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        Ok(self
            .ids
            .get(client_order_id)
            .and_then(|&position| self.orders.get(position))
            .map(|working| working.order.clone()))
    }

    /// The open orders of every symbol, in acceptance order.
    ///
    /// # Errors
    /// Never.
    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        let mut positions: Vec<usize> = self
            .books
            .values()
            .flat_map(Book::positions)
            .chain(self.arriving.iter().copied())
            .collect();
        positions.sort_unstable();
        Ok(positions
            .into_iter()
            .filter_map(|position| self.orders.get(position))
            .map(|working| working.order.clone())
            .collect())
    }

    /// The fills of one order, oldest first; empty for an unknown id.
    ///
    /// # Errors
    /// Never.
    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        let Some(working) = self
            .ids
            .get(client_order_id)
            .and_then(|&position| self.orders.get(position))
        else {
            return Ok(Vec::new());
        };
        Ok(working
            .fills
            .iter()
            .filter_map(|&fill| self.ledger.fills.get(fill))
            .cloned()
            .collect())
    }

    /// Matches the print against the open orders of its symbol, then records
    /// its price as the symbol's last trade. Allocates nothing when the
    /// symbol has no open order (after its first print).
    fn on_market_tick(&mut self, tick: &Tick) {
        if !self.arriving.is_empty() {
            self.admit_arrivals(tick);
        }
        if let Some(book) = self.books.get_mut(&tick.symbol)
            && !book.is_empty()
        {
            book.match_print(&self.config, &mut self.orders, &mut self.ledger, tick);
        }
        match self.last_prices.get_mut(&tick.symbol) {
            Some(last) => *last = tick.price,
            None => {
                self.last_prices.insert(tick.symbol.clone(), tick.price);
            }
        }
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        self.ledger.drain_into(out);
    }
}
