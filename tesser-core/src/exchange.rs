//! The interface every venue implements.

use crate::{
    AccountBalance, AmendRequest, ClientOrderId, Fill, Order, OrderRequest, OrderUpdate, Tick,
};

/// Something a venue reports on its own, after the request that caused it
/// returned: executions, and order changes such as expiries or fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeEvent {
    /// An execution. The order's new state follows as an
    /// [`ExchangeEvent::OrderUpdate`].
    Fill(Fill),
    /// An order changed state.
    OrderUpdate(OrderUpdate),
    /// The order as the venue holds it now, once a request whose outcome
    /// was unknown (an amend or a cancel answered
    /// [`ExchangeError::OutcomeUnknown`]) has been settled by asking the
    /// venue. Its price, quantity and status replace the runtime's, and the
    /// request is no longer pending: it either took effect or it did not.
    Settled(Order),
    /// The venue account's balances of these assets changed (an order
    /// locked or released funds, a fill moved them, a deposit arrived).
    /// Each value is what the venue holds now, not a delta; assets not
    /// listed are unchanged.
    Balances(Vec<AccountBalance>),
}

/// Why a venue refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// No order has this client order id.
    #[error("unknown order {0}")]
    UnknownOrder(ClientOrderId),
    /// The client order id was already used; ids are never reused.
    #[error("client order id {0} was already used")]
    DuplicateClientOrderId(ClientOrderId),
    /// The order is no longer open, so it cannot be changed.
    #[error("order {0} is closed")]
    OrderClosed(ClientOrderId),
    /// The venue refused the request.
    #[error("order {client_order_id} rejected: {reason}")]
    Rejected {
        /// The order concerned.
        client_order_id: ClientOrderId,
        /// The venue's reason.
        reason: String,
    },
    /// The venue could not be reached or failed; the request may be retried.
    #[error("exchange unavailable: {0}")]
    Unavailable(String),
    /// The venue's rate-limit window cannot take the request now, so it was
    /// not sent; it may be sent once `retry_after_ms` has passed. The run
    /// loop does not wait for it: it keeps the action waiting and goes on
    /// reading market data and events.
    #[error(
        "order {client_order_id} not sent yet: {reason}; the window reopens in {retry_after_ms} ms"
    )]
    Throttled {
        /// The order concerned.
        client_order_id: ClientOrderId,
        /// How long until the window can take it, milliseconds.
        retry_after_ms: u64,
        /// Which window, in a few words.
        reason: String,
    },
    /// The request may or may not have reached the venue (a timeout, a
    /// server error, a reply that cannot be read). The order is neither
    /// accepted nor rejected: the venue's own report (an
    /// [`ExchangeEvent`], or a query by client order id) settles it.
    #[error("outcome of the request for order {client_order_id} is unknown: {detail}")]
    OutcomeUnknown {
        /// The order concerned.
        client_order_id: ClientOrderId,
        /// What happened.
        detail: String,
    },
}

/// A trading venue: a real exchange, or a simulated one for paper trading.
///
/// Requests answer synchronously with the order's state; what happens later
/// (fills, expiries) is collected with [`ExchangeClient::poll_events`].
pub trait ExchangeClient {
    /// The venue's name, for logs.
    fn name(&self) -> &str;

    /// Sends a new order.
    ///
    /// # Errors
    /// [`ExchangeError::DuplicateClientOrderId`] when the id was used before,
    /// [`ExchangeError::Rejected`] when the venue refuses the order,
    /// [`ExchangeError::OutcomeUnknown`] when it may or may not have
    /// reached the venue (an event settles it later).
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError>;

    /// Changes a working order's price or total quantity.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`], or
    /// [`ExchangeError::Rejected`] for an invalid change.
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError>;

    /// Cancels a working order.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`] or [`ExchangeError::OrderClosed`].
    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError>;

    /// The order's current state.
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError>;

    /// Every open order.
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError>;

    /// Every fill of one order, oldest first.
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError>;

    /// A trade print of the market. Simulated venues match resting orders
    /// against it; real venues ignore it (the default).
    fn on_market_tick(&mut self, tick: &Tick) {
        let _ = tick;
    }

    /// Moves the events that happened since the last call into `out`, oldest
    /// first.
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>);

    /// Every balance of the venue account, asked of the venue now; `None`
    /// for a venue with no account of its own (a simulated one, whose cash
    /// comes from its configuration), the default. The runtime asks at
    /// start and then follows [`ExchangeEvent::Balances`].
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn account_balances(&self) -> Result<Option<Vec<AccountBalance>>, ExchangeError> {
        Ok(None)
    }
}

impl<E: ExchangeClient + ?Sized> ExchangeClient for &mut E {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        (**self).place_order(request, now_ms)
    }
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        (**self).amend_order(amend, now_ms)
    }
    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        (**self).cancel_order(client_order_id, now_ms)
    }
    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        (**self).order(client_order_id)
    }
    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        (**self).open_orders()
    }
    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        (**self).order_fills(client_order_id)
    }
    fn on_market_tick(&mut self, tick: &Tick) {
        (**self).on_market_tick(tick);
    }
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        (**self).poll_events(out);
    }
    fn account_balances(&self) -> Result<Option<Vec<AccountBalance>>, ExchangeError> {
        (**self).account_balances()
    }
}

impl<E: ExchangeClient + ?Sized> ExchangeClient for Box<E> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        (**self).place_order(request, now_ms)
    }
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        (**self).amend_order(amend, now_ms)
    }
    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        (**self).cancel_order(client_order_id, now_ms)
    }
    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        (**self).order(client_order_id)
    }
    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        (**self).open_orders()
    }
    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        (**self).order_fills(client_order_id)
    }
    fn on_market_tick(&mut self, tick: &Tick) {
        (**self).on_market_tick(tick);
    }
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        (**self).poll_events(out);
    }
    fn account_balances(&self) -> Result<Option<Vec<AccountBalance>>, ExchangeError> {
        (**self).account_balances()
    }
}
