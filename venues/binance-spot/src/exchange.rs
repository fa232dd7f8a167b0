//! [`BinanceSpot`]: the synchronous [`ExchangeClient`] over the async
//! connector.
//!
//! It owns a tokio runtime. Requests block on REST calls; the user data task
//! books executions and queues events that [`ExchangeClient::poll_events`]
//! drains. Do not call it from inside another tokio runtime.
//!
//! # Ambiguous outcomes
//!
//! A placement whose outcome is unknown (timeout, 5xx, `-1006`, `-1007`,
//! unreadable success) returns [`ExchangeError::OutcomeUnknown`]; a
//! background task then asks
//! `GET /api/v3/order` by client id until it finds the order (and queues its
//! state and fills as events) or until the request can no longer be executed
//! (its `timestamp + recvWindow` has passed on the server, after which the
//! docs' timing rule rejects it), when it queues a `Rejected` update. A
//! re-send of the same id while that is pending is refused as a duplicate.
//!
//! # Amends
//!
//! A quantity decrease alone uses `PUT /api/v3/order/amend/keepPriority`
//! (keeps the client id and the queue place). Anything else uses
//! `POST /api/v3/order/cancelReplace` with `STOP_ON_FAILURE` and the next
//! generation's client id ([`crate::client_id`]); the new order's quantity is
//! the new total minus everything filled so far, and if the cancel reveals
//! fills we had not seen, the new order is reduced by that much at once, so
//! the total never overfills.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rust_decimal::Decimal;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, Fill, Instrument,
    Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce,
};
use tokio::sync::watch;

use crate::book::{Book, Execution, Tracked, fill_id, request_from_response};
use crate::client_id::{IdRegistry, encode};
use crate::config::BinanceConfig;
use crate::error::{
    BinanceError, CANCEL_REJECTED, CANCEL_REPLACE_FAILED, CANCEL_REPLACE_PARTIAL, NO_SUCH_ORDER,
};
use crate::model::{self, OrderResponse};
use crate::rest::{CancelReplaceError, NewOrder, OrderRef, RestClient, local_now_ms};
use crate::sign::Credentials;
use crate::ws_user::{self, UserStreamStatus};

/// State shared by the synchronous front and the background tasks.
#[derive(Debug)]
pub struct Shared {
    /// Settings.
    pub config: BinanceConfig,
    /// REST client.
    pub rest: RestClient,
    /// Hashed client id registry.
    pub ids: IdRegistry,
    /// Orders, fills and queued events.
    pub book: Mutex<Book>,
    /// User data task counters.
    pub status: UserStreamStatus,
}

impl Shared {
    /// Locks the book (never across an await).
    pub fn lock_book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether anything was booked or placed (so a reconnect must reconcile).
    #[must_use]
    pub fn has_history(&self) -> bool {
        let book = self.lock_book();
        !book.orders.is_empty() || !book.last_trade_id.is_empty()
    }

    fn register(&self, id: &ClientOrderId) -> Result<(), ExchangeError> {
        match self.ids.register(id) {
            Ok(true) => {
                self.lock_book().release_held(&self.ids);
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(collision) => Err(ExchangeError::Rejected {
                client_order_id: id.clone(),
                reason: collision.to_string(),
            }),
        }
    }
}

/// The Binance Spot venue as a synchronous [`ExchangeClient`].
pub struct BinanceSpot {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for BinanceSpot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceSpot")
            .field("name", &self.shared.config.name)
            .finish_non_exhaustive()
    }
}

impl BinanceSpot {
    /// Connects: measures the server-time offset, loads `exchangeInfo` for the
    /// configured symbols (rules and rate limits), and starts the user data
    /// task.
    ///
    /// # Errors
    /// [`BinanceError`] when the runtime cannot start or a start-up request
    /// fails.
    pub fn connect(config: BinanceConfig, credentials: Credentials) -> Result<Self, BinanceError> {
        if config.symbols.is_empty() {
            return Err(BinanceError::Config("no symbols configured".into()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("binance-spot")
            .enable_all()
            .build()
            .map_err(|error| BinanceError::Config(format!("tokio runtime: {error}")))?;
        let rest = runtime.block_on(async { RestClient::new(&config, credentials) })?;
        let shared = Arc::new(Shared {
            config,
            rest,
            ids: IdRegistry::new(),
            book: Mutex::new(Book::default()),
            status: UserStreamStatus::default(),
        });
        runtime.block_on(async {
            shared.rest.sync_time().await?;
            for symbol in &shared.config.symbols {
                let info = shared.rest.exchange_info(symbol).await?;
                shared.rest.set_rate_limits(&info.rate_limits);
                for symbol_info in &info.symbols {
                    let instrument = symbol_info.to_instrument();
                    shared
                        .lock_book()
                        .instruments
                        .insert(symbol_info.symbol.clone(), instrument);
                }
            }
            Ok::<(), BinanceError>(())
        })?;
        let (shutdown, receiver) = watch::channel(false);
        runtime.spawn(ws_user::run(Arc::clone(&shared), receiver));
        Ok(Self {
            shared,
            runtime,
            shutdown,
        })
    }

    /// The user data task's counters.
    #[must_use]
    pub fn user_stream_status(&self) -> &UserStreamStatus {
        &self.shared.status
    }

    /// Waits until the user data stream has subscribed `count` times in
    /// total; `false` on timeout.
    #[must_use]
    pub fn wait_subscribed(&self, count: u64, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.shared.status.subscriptions.load(Ordering::SeqCst) >= count
                && self.shared.status.connected.load(Ordering::SeqCst)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The instrument rules loaded from `exchangeInfo`.
    #[must_use]
    pub fn instrument(&self, symbol: &str) -> Option<Instrument> {
        self.shared.lock_book().instruments.get(symbol).cloned()
    }

    /// The server-time offset in use (server minus local), milliseconds.
    #[must_use]
    pub fn clock_offset_ms(&self) -> i64 {
        self.shared.rest.offset_ms()
    }

    /// A handle of the connector's runtime (e.g. to run a
    /// [`MarketStream`](crate::ws_market::MarketStream) on it).
    #[must_use]
    pub fn runtime_handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }
}

impl Drop for BinanceSpot {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn unavailable(error: &BinanceError) -> ExchangeError {
    ExchangeError::Unavailable(error.to_string())
}

fn rejected(id: &ClientOrderId, error: &model::ApiErrorBody) -> ExchangeError {
    ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason: format!("{} {}", error.code, error.msg),
    }
}

/// Binance's type and time in force for a request.
fn venue_type(request: &OrderRequest) -> (&'static str, Option<&'static str>) {
    let tif = match request.time_in_force {
        TimeInForce::ImmediateOrCancel => "IOC",
        TimeInForce::FillOrKill => "FOK",
        TimeInForce::GoodTilCancelled | TimeInForce::PostOnly => "GTC",
    };
    match (request.order_type, request.time_in_force) {
        (OrderType::Limit, TimeInForce::PostOnly) => ("LIMIT_MAKER", None),
        (OrderType::Limit, _) => ("LIMIT", Some(tif)),
        (OrderType::Market, _) => ("MARKET", None),
        // A stop buys above / sells below the market: STOP_LOSS on both
        // sides (rest-api.md, "Trigger order price rules").
        (OrderType::StopMarket, _) => ("STOP_LOSS", None),
        (OrderType::StopLimit, _) => ("STOP_LOSS_LIMIT", Some(tif)),
    }
}

fn new_order(request: &OrderRequest, quantity: Decimal, client_order_id: String) -> NewOrder {
    let (order_type, time_in_force) = venue_type(request);
    NewOrder {
        symbol: request.symbol.as_str().to_owned(),
        side: model::side_name(request.side),
        order_type,
        time_in_force,
        quantity,
        price: request.price,
        stop_price: request.trigger_price,
        client_order_id,
    }
}

/// Books the fills of a `FULL` response.
fn book_response_fills(
    book: &mut Book,
    runtime: &ClientOrderId,
    response: &OrderResponse,
    side: Side,
) {
    for fill in &response.fills {
        let execution = Execution {
            symbol: response.symbol.clone(),
            order_id: response.order_id,
            trade_id: fill.trade_id,
            side,
            price: fill.price,
            quantity: fill.qty,
            commission: fill.commission,
            commission_asset: Some(fill.commission_asset.clone()),
            // Fills in the placement response took liquidity.
            liquidity: tesser_core::Liquidity::Taker,
            time_ms: response.transact_time.unwrap_or_default(),
        };
        book.book_fill(runtime, &execution, true);
    }
}

async fn place(
    shared: &Arc<Shared>,
    request: OrderRequest,
    now_ms: i64,
) -> Result<Order, ExchangeError> {
    let id = request.client_order_id.clone();
    shared.register(&id)?;
    {
        let mut book = shared.lock_book();
        if !book.used.insert(id.clone()) {
            return Err(ExchangeError::DuplicateClientOrderId(id));
        }
        book.orders
            .insert(id.clone(), Tracked::new(request.clone(), now_ms));
    }
    let venue_id = encode(&id, 0);
    let order = new_order(&request, request.quantity, venue_id.clone());
    let started = shared.rest.server_now_ms();
    match shared.rest.new_order(&order).await {
        Ok(response) => {
            let mut book = shared.lock_book();
            book.link(&id, &response.symbol, 0, response.order_id);
            book_response_fills(&mut book, &id, &response, request.side);
            if let Some(tracked) = book.orders.get_mut(&id) {
                tracked.apply_response(0, &response);
                tracked.created_ms = response.transact_time.unwrap_or(now_ms);
            }
            book.release_held(&shared.ids);
            let order = book
                .orders
                .get(&id)
                .map(Tracked::to_order)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            // Fills already queued carry their own update; the synchronous
            // answer covers the rest.
            book.mark_reported(&id);
            Ok(order)
        }
        Err(error) if error.is_definite_failure() => {
            let mut book = shared.lock_book();
            book.orders.remove(&id);
            if let BinanceError::Rejected(body) = &error {
                if body.msg.contains("Duplicate order sent") {
                    return Err(ExchangeError::DuplicateClientOrderId(id));
                }
                return Err(rejected(&id, body));
            }
            // Not sent at all: the id may be used again.
            book.used.remove(&id);
            Err(unavailable(&error))
        }
        Err(error) => {
            tracing::warn!(client_order_id = %id, %error, "placement outcome unknown; settling in the background");
            shared.lock_book().settling.insert(id.clone());
            let task_shared = Arc::clone(shared);
            let symbol = request.symbol.as_str().to_owned();
            let settle_id = id.clone();
            tokio::spawn(async move {
                settle(&task_shared, &settle_id, &symbol, &venue_id, started).await;
            });
            Err(ExchangeError::OutcomeUnknown {
                client_order_id: id,
                detail: error.to_string(),
            })
        }
    }
}

/// Finds out whether an ambiguous placement exists; queues its state.
async fn settle(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
    symbol: &str,
    venue_id: &str,
    started_ms: i64,
) {
    let config = &shared.config;
    let window = i64::try_from((config.max_rate_limit_wait + config.request_timeout).as_millis())
        .unwrap_or(i64::MAX)
        .saturating_add(i64::try_from(config.recv_window_ms).unwrap_or(i64::MAX))
        .saturating_add(1000);
    let not_after = started_ms.saturating_add(window);
    let give_up = tokio::time::Instant::now() + config.settle_timeout;
    let mut delay = Duration::from_millis(100);
    loop {
        let asked_at = shared.rest.server_now_ms();
        match shared
            .rest
            .query_order(symbol, &OrderRef::ClientId(venue_id.to_owned()))
            .await
        {
            Ok(Some(response)) => {
                let fills = if response.executed_qty.unwrap_or_default() > Decimal::ZERO {
                    shared
                        .rest
                        .my_trades(symbol, None, Some(response.order_id))
                        .await
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut book = shared.lock_book();
                book.settling.remove(id);
                book.link(id, symbol, 0, response.order_id);
                for trade in &fills {
                    book.book_fill(id, &Execution::from_my_trade(trade), true);
                }
                if let Some(tracked) = book.orders.get_mut(id) {
                    tracked.apply_response(0, &response);
                }
                book.emit_update(id, None);
                tracing::info!(client_order_id = %id, "ambiguous placement settled: the order exists");
                return;
            }
            Ok(None) if asked_at > not_after => {
                let mut book = shared.lock_book();
                book.settling.remove(id);
                if let Some(tracked) = book.orders.get_mut(id) {
                    tracked.status = OrderStatus::Rejected;
                    tracked.updated_ms = asked_at;
                }
                book.emit_update(
                    id,
                    Some("not placed: the venue never accepted the request".into()),
                );
                tracing::info!(client_order_id = %id, "ambiguous placement settled: never placed");
                return;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(client_order_id = %id, %error, "settle query failed"),
        }
        if tokio::time::Instant::now() > give_up {
            tracing::error!(client_order_id = %id, "could not settle an ambiguous placement; ask order() later");
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Looks an order up on the venue by client id, probing its generations.
async fn lookup(shared: &Arc<Shared>, id: &ClientOrderId) -> Result<Option<Order>, BinanceError> {
    let (symbols, start) = {
        let book = shared.lock_book();
        match book.orders.get(id) {
            Some(tracked) => (
                vec![tracked.request.symbol.as_str().to_owned()],
                tracked.generation,
            ),
            None => (shared.config.symbols.clone(), 0),
        }
    };
    for symbol in symbols {
        let mut generation = start;
        let mut found: Vec<(u32, OrderResponse)> = Vec::new();
        while generation <= shared.config.max_generations {
            let venue_id = encode(id, generation);
            match shared
                .rest
                .query_order(&symbol, &OrderRef::ClientId(venue_id))
                .await?
            {
                Some(response) => found.push((generation, response)),
                None => break,
            }
            generation += 1;
        }
        if found.is_empty() {
            continue;
        }
        let mut book = shared.lock_book();
        if !book.orders.contains_key(id) {
            let first = &found[0].1;
            let mut tracked =
                Tracked::new(request_from_response(id, first), first.time.unwrap_or(0));
            tracked.generation = found[0].0;
            book.orders.insert(id.clone(), tracked);
            book.used.insert(id.clone());
        }
        for (generation, response) in &found {
            book.link(id, &symbol, *generation, response.order_id);
            let Some(tracked) = book.orders.get_mut(id) else {
                continue;
            };
            if *generation > tracked.generation {
                tracked.prev_filled += tracked.gen_filled;
                tracked.prev_notional += tracked.gen_notional;
                tracked.gen_filled = Decimal::ZERO;
                tracked.gen_notional = Decimal::ZERO;
                tracked.generation = *generation;
                // The replacement decides the status.
                tracked.status = OrderStatus::Accepted;
            }
            tracked.apply_response(*generation, response);
            if let Some(price) = response.price
                && tracked.request.price.is_some()
            {
                tracked.request.price = Some(price);
            }
        }
        book.release_held(&shared.ids);
        return Ok(book.orders.get(id).map(Tracked::to_order));
    }
    Ok(None)
}

/// Reconciles after a user data reconnect: `myTrades` from the last booked
/// trade id (or per open order when nothing was booked yet), then the state
/// of every order still open here.
///
/// # Errors
/// The first REST failure.
pub async fn reconcile(shared: &Arc<Shared>) -> Result<(), BinanceError> {
    for symbol in &shared.config.symbols {
        let (from, open): (Option<i64>, Vec<(ClientOrderId, BTreeSet<i64>)>) = {
            let book = shared.lock_book();
            let open = book
                .orders
                .iter()
                .filter(|(_, tracked)| {
                    tracked.request.symbol.as_str() == symbol && tracked.status.is_open()
                })
                .map(|(id, tracked)| (id.clone(), tracked.order_ids.values().copied().collect()))
                .collect();
            (book.last_trade_id.get(symbol).map(|last| last + 1), open)
        };
        let trades = match from {
            Some(from) => shared.rest.my_trades(symbol, Some(from), None).await?,
            None => {
                let mut all = Vec::new();
                for (_, order_ids) in &open {
                    for order_id in order_ids {
                        all.extend(shared.rest.my_trades(symbol, None, Some(*order_id)).await?);
                    }
                }
                all
            }
        };
        for trade in &trades {
            let known = shared
                .lock_book()
                .by_order_id
                .get(&(symbol.clone(), trade.order_id))
                .cloned();
            let runtime = match known {
                Some((runtime, _)) => Some(runtime),
                None => shared
                    .rest
                    .query_order(symbol, &OrderRef::OrderId(trade.order_id))
                    .await?
                    .and_then(|response| {
                        shared
                            .ids
                            .resolve(&response.client_order_id)
                            .map(|(runtime, _)| runtime)
                    }),
            };
            let Some(runtime) = runtime else {
                tracing::warn!(
                    order_id = trade.order_id,
                    "trade of an unnamed order skipped"
                );
                continue;
            };
            let mut book = shared.lock_book();
            if book.book_fill(&runtime, &Execution::from_my_trade(trade), true) {
                tracing::info!(client_order_id = %runtime, trade_id = trade.id, "fill recovered by reconcile");
            }
            book.emit_update(&runtime, None);
        }
        let venue_open = shared.rest.open_orders(symbol).await?;
        let open_ids: BTreeSet<i64> = venue_open.iter().map(|order| order.order_id).collect();
        for response in &venue_open {
            if let Some((runtime, generation)) = shared.ids.resolve(&response.client_order_id) {
                let mut book = shared.lock_book();
                if let Some(tracked) = book.orders.get_mut(&runtime) {
                    tracked.apply_response(generation, response);
                    book.emit_update(&runtime, None);
                }
            }
        }
        for (id, _) in open {
            let current = {
                let book = shared.lock_book();
                book.orders.get(&id).map(|tracked| {
                    (
                        tracked.generation,
                        tracked.order_ids.get(&tracked.generation).copied(),
                    )
                })
            };
            let Some((generation, Some(order_id))) = current else {
                continue;
            };
            if open_ids.contains(&order_id) {
                continue;
            }
            if let Some(response) = shared
                .rest
                .query_order(symbol, &OrderRef::OrderId(order_id))
                .await?
            {
                let mut book = shared.lock_book();
                if let Some(tracked) = book.orders.get_mut(&id) {
                    tracked.apply_response(generation, &response);
                }
                book.emit_update(&id, None);
            }
        }
    }
    Ok(())
}

async fn cancel(shared: &Arc<Shared>, id: &ClientOrderId) -> Result<Order, ExchangeError> {
    shared.register(id)?;
    let known = shared
        .lock_book()
        .orders
        .get(id)
        .map(|t| (t.request.symbol.clone(), t.generation, t.status));
    let (symbol, generation) = match known {
        Some((_, _, status)) if !status.is_open() => {
            return Err(ExchangeError::OrderClosed(id.clone()));
        }
        Some((symbol, generation, _)) => (symbol, generation),
        None => match lookup(shared, id).await.map_err(|e| unavailable(&e))? {
            Some(order) if !order.status.is_open() => {
                return Err(ExchangeError::OrderClosed(id.clone()));
            }
            Some(_) => {
                let book = shared.lock_book();
                let tracked = book
                    .orders
                    .get(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                (tracked.request.symbol.clone(), tracked.generation)
            }
            None => return Err(ExchangeError::UnknownOrder(id.clone())),
        },
    };
    let venue_id = encode(id, generation);
    match shared
        .rest
        .cancel_order(symbol.as_str(), &OrderRef::ClientId(venue_id))
        .await
    {
        Ok(response) => {
            let mut book = shared.lock_book();
            let order = {
                let tracked = book
                    .orders
                    .get_mut(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                tracked.apply_response(generation, &response);
                tracked.to_order()
            };
            book.mark_reported(id);
            Ok(order)
        }
        Err(BinanceError::Rejected(body))
            if body.code == CANCEL_REJECTED || body.code == NO_SUCH_ORDER =>
        {
            // Unknown to the engine: closed meanwhile, or never placed.
            match lookup(shared, id).await.map_err(|e| unavailable(&e))? {
                Some(order) if !order.status.is_open() => {
                    Err(ExchangeError::OrderClosed(id.clone()))
                }
                Some(_) => Err(rejected(id, &body)),
                None => Err(ExchangeError::UnknownOrder(id.clone())),
            }
        }
        Err(BinanceError::Rejected(body)) => Err(rejected(id, &body)),
        Err(error) => Err(unavailable(&error)),
    }
}

async fn amend(shared: &Arc<Shared>, amend: &AmendRequest) -> Result<Order, ExchangeError> {
    let id = &amend.client_order_id;
    shared.register(id)?;
    if !shared.lock_book().orders.contains_key(id) {
        lookup(shared, id).await.map_err(|e| unavailable(&e))?;
    }
    let Some(tracked) = shared.lock_book().orders.get(id).cloned() else {
        return Err(ExchangeError::UnknownOrder(id.clone()));
    };
    if !tracked.status.is_open() {
        return Err(ExchangeError::OrderClosed(id.clone()));
    }
    let reject = |reason: String| ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason,
    };
    if amend.new_price.is_none() && amend.new_quantity.is_none() {
        return Err(reject(
            "the amend changes neither price nor quantity".into(),
        ));
    }
    let filled = tracked.filled();
    let new_total = amend.new_quantity.unwrap_or(tracked.request.quantity);
    if new_total <= filled {
        return Err(reject(format!(
            "new quantity {new_total} must exceed the filled quantity {filled}"
        )));
    }
    let price_changes = amend
        .new_price
        .is_some_and(|price| Some(price) != tracked.request.price);
    let symbol = tracked.request.symbol.as_str().to_owned();
    let generation = tracked.generation;
    if !price_changes && new_total < tracked.request.quantity {
        // Quantity down only: keep priority. newQty is this generation's
        // total quantity.
        let gen_qty = new_total - tracked.prev_filled;
        let response = shared
            .rest
            .amend_keep_priority(&symbol, &encode(id, generation), gen_qty)
            .await
            .map_err(|error| match error {
                BinanceError::Rejected(body) => rejected(id, &body),
                other => unavailable(&other),
            })?;
        let mut book = shared.lock_book();
        let order = {
            let tracked = book
                .orders
                .get_mut(id)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            let amended = &response.amended_order;
            tracked.request.quantity = tracked.prev_filled + amended.qty;
            tracked.gen_filled = tracked.gen_filled.max(amended.executed_qty);
            if let Some(status) = model::parse_status(&amended.status) {
                tracked.apply_status(generation, status, response.transact_time);
            }
            tracked.updated_ms = response.transact_time;
            tracked.to_order()
        };
        book.mark_reported(id);
        return Ok(order);
    }
    if !price_changes && new_total == tracked.request.quantity {
        return Err(reject("the amend changes nothing".into()));
    }
    // Cancel-replace into the next generation.
    let next = generation + 1;
    let mut request = tracked.request.clone();
    if let Some(price) = amend.new_price {
        request.price = Some(price);
    }
    let new_qty = new_total - filled;
    let order = new_order(&request, new_qty, encode(id, next));
    match shared
        .rest
        .cancel_replace(&encode(id, generation), &order)
        .await
    {
        Ok(response) => {
            let cancelled_filled = response.cancel_response.executed_qty.unwrap_or_default();
            let cancelled_notional = response
                .cancel_response
                .cummulative_quote_qty
                .unwrap_or_default();
            let seen_before = filled - tracked.prev_filled;
            let surprise = cancelled_filled - seen_before;
            {
                let mut book = shared.lock_book();
                book.link(id, &symbol, next, response.new_order_response.order_id);
                book.link(id, &symbol, generation, response.cancel_response.order_id);
                let side = tracked.request.side;
                book_response_fills(&mut book, id, &response.new_order_response, side);
                let tracked = book
                    .orders
                    .get_mut(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                tracked.prev_filled += cancelled_filled.max(seen_before);
                tracked.prev_notional += cancelled_notional.max(tracked.gen_notional);
                tracked.gen_filled = Decimal::ZERO;
                tracked.gen_notional = Decimal::ZERO;
                tracked.generation = next;
                tracked.status = OrderStatus::Accepted;
                tracked.request.price = request.price;
                tracked.apply_response(next, &response.new_order_response);
                tracked.request.quantity = new_total.max(tracked.prev_filled);
            }
            if surprise > Decimal::ZERO {
                // The old order filled more than we knew before the cancel:
                // shrink the new one by that much so the total cannot overfill.
                let remaining = new_qty - surprise;
                tracing::warn!(client_order_id = %id, %surprise, "fills raced the cancel-replace; shrinking the replacement");
                let venue_id = encode(id, next);
                if remaining > Decimal::ZERO {
                    if let Err(error) = shared
                        .rest
                        .amend_keep_priority(&symbol, &venue_id, remaining)
                        .await
                    {
                        tracing::error!(client_order_id = %id, %error, "could not shrink the replacement; cancelling it");
                        let _ = shared
                            .rest
                            .cancel_order(&symbol, &OrderRef::ClientId(venue_id))
                            .await;
                    }
                } else {
                    let _ = shared
                        .rest
                        .cancel_order(&symbol, &OrderRef::ClientId(venue_id))
                        .await;
                }
                lookup(shared, id).await.map_err(|e| unavailable(&e))?;
            }
            let mut book = shared.lock_book();
            let order = book
                .orders
                .get(id)
                .map(Tracked::to_order)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            book.mark_reported(id);
            Ok(order)
        }
        Err(CancelReplaceError::Failed { error, data }) => {
            let cancelled = data
                .as_ref()
                .is_some_and(|data| data.cancel_result == "SUCCESS");
            if error.code == CANCEL_REPLACE_PARTIAL && cancelled {
                // The old order is gone and the new one was refused.
                let mut book = shared.lock_book();
                if let Some(tracked) = book.orders.get_mut(id) {
                    tracked.status = OrderStatus::Cancelled;
                }
                book.emit_update(id, Some(format!("replacement refused: {}", error.msg)));
                return Err(reject(format!(
                    "cancel-replace: the order was cancelled but its replacement was refused ({} {})",
                    error.code, error.msg
                )));
            }
            if error.code == CANCEL_REPLACE_FAILED || !cancelled {
                return Err(rejected(id, &error));
            }
            Err(rejected(id, &error))
        }
        Err(CancelReplaceError::Other(BinanceError::Rejected(body))) => Err(rejected(id, &body)),
        Err(CancelReplaceError::Other(error)) => {
            // Unknown: find out what the venue holds now.
            let _ = lookup(shared, id).await;
            Err(ExchangeError::OutcomeUnknown {
                client_order_id: id.clone(),
                detail: error.to_string(),
            })
        }
    }
}

async fn open_orders(shared: &Arc<Shared>) -> Result<Vec<Order>, BinanceError> {
    let mut out = Vec::new();
    for symbol in &shared.config.symbols {
        for response in shared.rest.open_orders(symbol).await? {
            let Some((runtime, generation)) = shared.ids.resolve(&response.client_order_id) else {
                tracing::warn!(
                    venue_id = response.client_order_id,
                    "open order with an unnamed hashed id skipped"
                );
                continue;
            };
            let mut book = shared.lock_book();
            if !book.orders.contains_key(&runtime) {
                let mut tracked = Tracked::new(
                    request_from_response(&runtime, &response),
                    response.time.unwrap_or(0),
                );
                tracked.generation = generation;
                book.orders.insert(runtime.clone(), tracked);
                book.used.insert(runtime.clone());
            }
            book.link(&runtime, symbol, generation, response.order_id);
            if let Some(tracked) = book.orders.get_mut(&runtime) {
                tracked.apply_response(generation, &response);
                if tracked.status.is_open() {
                    out.push(tracked.to_order());
                }
            }
        }
    }
    out.sort_by_key(|order| order.created_ms);
    Ok(out)
}

async fn order_fills(shared: &Arc<Shared>, id: &ClientOrderId) -> Result<Vec<Fill>, BinanceError> {
    if lookup(shared, id).await?.is_none() {
        return Ok(Vec::new());
    }
    let (symbol, side, order_ids) = {
        let book = shared.lock_book();
        let Some(tracked) = book.orders.get(id) else {
            return Ok(Vec::new());
        };
        (
            tracked.request.symbol.as_str().to_owned(),
            tracked.request.side,
            tracked.order_ids.values().copied().collect::<Vec<_>>(),
        )
    };
    let mut fills = Vec::new();
    for order_id in order_ids {
        for trade in shared.rest.my_trades(&symbol, None, Some(order_id)).await? {
            let execution = Execution::from_my_trade(&trade);
            let mut book = shared.lock_book();
            // Counted as known so a later report of it is not reported again.
            book.book_fill(id, &execution, false);
            fills.push(Fill {
                fill_id: fill_id(&trade.symbol, trade.id, side),
                client_order_id: id.clone(),
                symbol: trade.symbol.as_str().into(),
                side,
                price: trade.price,
                quantity: trade.qty,
                fee: if book
                    .instruments
                    .get(&trade.symbol)
                    .is_some_and(|i| i.quote_asset == trade.commission_asset)
                {
                    trade.commission
                } else if book
                    .instruments
                    .get(&trade.symbol)
                    .is_some_and(|i| i.base_asset == trade.commission_asset)
                {
                    trade.commission * trade.price
                } else {
                    Decimal::ZERO
                },
                liquidity: model::liquidity(trade.is_maker),
                timestamp_ms: trade.time,
            });
        }
    }
    fills.sort_by(|a, b| {
        a.timestamp_ms
            .cmp(&b.timestamp_ms)
            .then(a.fill_id.cmp(&b.fill_id))
    });
    Ok(fills)
}

impl ExchangeClient for BinanceSpot {
    fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// Places an order (`POST /api/v3/order`, `FULL` response).
    ///
    /// # Errors
    /// [`ExchangeError::DuplicateClientOrderId`] for an id already sent by
    /// this connector or refused by the venue as a duplicate;
    /// [`ExchangeError::Rejected`] for a venue refusal (`-2010`, `-1013`, …);
    /// [`ExchangeError::OutcomeUnknown`] when the order may exist (settled
    /// in the background), or [`ExchangeError::Unavailable`] when it was
    /// certainly not placed.
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        self.runtime.block_on(place(&shared, request, now_ms))
    }

    /// Amends an order: keep-priority for a quantity decrease, cancel-replace
    /// otherwise.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`],
    /// [`ExchangeError::Rejected`], or [`ExchangeError::Unavailable`].
    fn amend_order(
        &mut self,
        request: &AmendRequest,
        _now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        self.runtime.block_on(amend(&shared, request))
    }

    /// Cancels an order (`DELETE /api/v3/order`).
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`], or
    /// [`ExchangeError::Unavailable`].
    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        _now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        self.runtime.block_on(cancel(&shared, client_order_id))
    }

    /// Asks the venue for the order by client id (all generations).
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        shared.register(client_order_id)?;
        self.runtime
            .block_on(lookup(&shared, client_order_id))
            .map_err(|error| unavailable(&error))
    }

    /// Open orders of the configured symbols.
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        self.runtime
            .block_on(open_orders(&shared))
            .map_err(|error| unavailable(&error))
    }

    /// Fills of an order (`GET /api/v3/myTrades` per generation).
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        shared.register(client_order_id)?;
        self.runtime
            .block_on(order_fills(&shared, client_order_id))
            .map_err(|error| unavailable(&error))
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        out.extend(self.shared.lock_book().events.drain(..));
    }
}

/// Milliseconds since the Unix epoch, for callers without a clock.
#[must_use]
pub fn now_ms() -> i64 {
    local_now_ms()
}
