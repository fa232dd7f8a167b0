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
//! (keeps the client id and the queue place). Anything else moves the order
//! to its next generation's client id ([`crate::client_id`]), sized as the
//! new total minus everything the old generation filled, so the total never
//! overfills:
//!
//! * a generation without fills is replaced in one request,
//!   `POST /api/v3/order/cancelReplace` with `STOP_ON_FAILURE` and
//!   `cancelRestrictions=ONLY_NEW`: if it trades before the venue handles
//!   the request, the venue refuses the cancel and nothing is placed;
//! * a generation with fills (known, or revealed by that refusal) is
//!   cancelled first, and the replacement is placed for what the cancel's
//!   final executed quantity leaves (`replace.rs`).
//!
//! The cancel-replace reply and the user data reports of the same change (the
//! old generation's `CANCELED`, the replacement's `NEW`) race. Either may be
//! handled first: executed quantities are kept per generation and moving to
//! the replacement is idempotent ([`crate::book::Tracked::advance_to`]), so
//! fills are counted once; and while the reply is pending the old
//! generation's `CANCELED` does not close the order.
mod amend;
mod cancel;
mod lookup;
mod place;
mod reconcile;
mod replace;
mod unknown;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tesser_core::{
    AccountBalance, AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent,
    Fill, Instrument, Order, OrderRequest,
};
use tokio::sync::watch;

use crate::book::Book;
use crate::client_id::IdRegistry;
use crate::config::BinanceConfig;
use crate::error::BinanceError;
use crate::feed::BinanceFeed;
use crate::model;
use crate::rest::{RestClient, local_now_ms};
use crate::sign::Credentials;
use crate::startup;
use crate::ws_user::{self, UserStreamStatus};

pub use reconcile::reconcile;

use amend::amend;
use cancel::cancel;
use lookup::{lookup, open_orders, order_fills};
use place::place;

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
        !book.orders.is_empty() || !book.fills.is_empty()
    }

    /// Refuses to place a new order while the user data stream is down
    /// (reconnecting after a drop or a silence): its fills could not be
    /// heard until the reconcile, so nothing new goes out until then.
    /// Cancels are never held back.
    fn require_user_stream(&self) -> Result<(), ExchangeError> {
        if self.status.is_connected() {
            return Ok(());
        }
        Err(ExchangeError::Unavailable(format!(
            "{}: not sent: the user data stream is reconnecting, so the order's fills could not be heard; it can be placed again once the stream is back",
            self.config.name
        )))
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
    /// Shared with the market feeds it starts, which keep it alive.
    runtime: Arc<tokio::runtime::Runtime>,
    shutdown: watch::Sender<bool>,
}

/// The connector's runtime: two workers, timers and I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, BinanceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("binance-spot")
        .enable_all()
        .build()
        .map_err(|error| BinanceError::Config(format!("tokio runtime: {error}")))
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
    /// configured symbols (rules and rate limits), verifies the key with one
    /// signed read-only request (`GET /api/v3/account`), and starts the user
    /// data task.
    ///
    /// # Errors
    /// [`BinanceError::Config`] without symbols or when the runtime cannot
    /// start; [`BinanceError::Startup`] (one line with the fix) when the
    /// endpoint cannot be reached, a symbol is not listed, or the key is
    /// refused; [`BinanceError::RateLimited`] or [`BinanceError::Banned`].
    pub fn connect(config: BinanceConfig, credentials: Credentials) -> Result<Self, BinanceError> {
        if config.symbols.is_empty() {
            return Err(BinanceError::Config("no symbols configured".into()));
        }
        let runtime = Arc::new(runtime()?);
        let rest = runtime.block_on(async { RestClient::new(&config, credentials) })?;
        let shared = Arc::new(Shared {
            config,
            rest,
            ids: IdRegistry::new(),
            book: Mutex::new(Book::default()),
            status: UserStreamStatus::default(),
        });
        let venue = shared.config.name.as_str();
        runtime.block_on(async {
            startup::sync_clock(venue, &shared.rest).await?;
            let instruments =
                startup::load_instruments(venue, &shared.rest, &shared.config.symbols).await?;
            shared.lock_book().adopt_rules(instruments);
            let account = startup::verify_key(venue, &shared.rest).await?;
            if !account.can_trade {
                tracing::warn!(
                    venue,
                    "the account behind the key cannot trade (canTrade=false)"
                );
            }
            Ok::<(), BinanceError>(())
        })?;
        let (shutdown, receiver) = watch::channel(false);
        runtime.spawn(ws_user::run(Arc::clone(&shared), receiver));
        let venue = Self {
            shared,
            runtime,
            shutdown,
        };
        // Orders are placed only while the user data stream is live: give
        // the first subscription the time one connect and one request take.
        let first = venue.shared.config.connect_timeout + venue.shared.config.request_timeout;
        if !venue.wait_subscribed(1, first) {
            tracing::warn!(
                venue = venue.shared.config.name,
                "the user data stream is not subscribed yet; orders are refused until it is"
            );
        }
        Ok(venue)
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
            if self.shared.status.subscriptions() >= count && self.shared.status.is_connected() {
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

    /// The trade and book-ticker streams of the configured symbols as a
    /// [`MarketFeed`](tesser_core::MarketFeed), on the connector's runtime
    /// (which the feed keeps alive).
    #[must_use]
    pub fn market_feed(&self) -> BinanceFeed {
        BinanceFeed::start(&self.runtime, &self.shared.config, self.clock_offset_ms())
    }

    /// The account (`GET /api/v3/account`): flags and balances.
    ///
    /// # Errors
    /// Any [`BinanceError`] of the request.
    pub fn account(&self) -> Result<model::AccountInfo, BinanceError> {
        self.runtime.block_on(self.shared.rest.account())
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

/// A request of `id` that was certainly not sent: [`ExchangeError::Throttled`]
/// when only a rate-limit window held it back (it may be sent when the
/// window reopens), [`ExchangeError::Unavailable`] otherwise.
fn not_sent(id: &ClientOrderId, error: &BinanceError) -> ExchangeError {
    match error {
        BinanceError::RateLimited { retry_after } => ExchangeError::Throttled {
            client_order_id: id.clone(),
            // Rounded up: "now" would be a zero that is not yet now.
            retry_after_ms: u64::try_from(retry_after.as_micros().div_ceil(1000))
                .unwrap_or(u64::MAX),
            reason: "the venue's rate-limit window is full".into(),
        },
        other => unavailable(other),
    }
}

fn rejected(id: &ClientOrderId, error: &model::ApiErrorBody) -> ExchangeError {
    ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason: format!("{} {}", error.code, error.msg),
    }
}

impl ExchangeClient for BinanceSpot {
    fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// Places an order (`POST /api/v3/order`, `FULL` response).
    ///
    /// Nothing is sent while the user data stream is down (reconnecting
    /// after a drop or a silence): the order's fills could not be heard.
    ///
    /// # Errors
    /// [`ExchangeError::DuplicateClientOrderId`] for an id already sent by
    /// this connector or refused by the venue as a duplicate;
    /// [`ExchangeError::Rejected`] for a venue refusal (`-2010`, `-1013`, …);
    /// [`ExchangeError::OutcomeUnknown`] when the order may exist (settled
    /// in the background), or [`ExchangeError::Unavailable`] when it was
    /// certainly not placed (the venue cannot be reached, or the user data
    /// stream is down).
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let shared = Arc::clone(&self.shared);
        self.runtime.block_on(place(&shared, request, now_ms))
    }

    /// Amends an order: keep-priority for a quantity decrease, cancel-replace
    /// otherwise.
    ///
    /// # Errors
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`],
    /// [`ExchangeError::Rejected`], [`ExchangeError::Unavailable`] when
    /// nothing was sent, or [`ExchangeError::OutcomeUnknown`] when the answer
    /// was lost (the venue may have acted): the order is then looked up in
    /// the background and reported as [`ExchangeEvent::Settled`].
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
    /// [`ExchangeError::UnknownOrder`], [`ExchangeError::OrderClosed`],
    /// [`ExchangeError::Unavailable`] when nothing was sent, or
    /// [`ExchangeError::OutcomeUnknown`] when the answer was lost: settled
    /// in the background and reported as [`ExchangeEvent::Settled`].
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

    /// The account's balances (`GET /api/v3/account`); afterwards each
    /// `outboundAccountPosition` of the user data stream arrives as an
    /// [`ExchangeEvent::Balances`], and so do the balances re-read after a
    /// reconnect's reconcile.
    ///
    /// # Errors
    /// [`ExchangeError::Unavailable`] when the venue cannot be asked.
    fn account_balances(&self) -> Result<Option<Vec<AccountBalance>>, ExchangeError> {
        self.runtime
            .block_on(self.shared.rest.account())
            .map(|account| Some(account.core_balances()))
            .map_err(|error| unavailable(&error))
    }
}

/// Milliseconds since the Unix epoch, for callers without a clock.
#[must_use]
pub fn now_ms() -> i64 {
    local_now_ms()
}
