//! An in-process fake Binance Spot venue for tests.
//!
//! [`TwinVenue::start`] binds REST, the WebSocket API and the market stream
//! on `127.0.0.1` (random ports), each on its own port and all three on one
//! more ([`TwinHandle::base_url`]), and returns a [`TwinHandle`] with their
//! base URLs. The twin speaks the documented protocol (`rest-api.md`,
//! `web-socket-api.md`, `web-socket-streams.md`, `user-data-stream.md`): it
//! verifies HMAC and Ed25519 signatures and the `timestamp`/`recvWindow`
//! rule, answers Binance's error bodies, and emits `trade` stream messages
//! and `executionReport`s field for field. Matching is tesser-paper's
//! [`PaperExchange`](tesser_paper::PaperExchange), driven by trade prints
//! the test pushes ([`TwinHandle::print`]) or plays from a list or file.
//!
//! Every request is recorded ([`TwinHandle::requests`]) and [`Faults`]
//! switches inject the failures a live venue has.
#![deny(missing_docs)]

mod engine;
mod server;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rust_decimal::Decimal;
use tesser_core::Tick;

pub use engine::{ApiError, TwinOrder, TwinTrade, fmt8};

/// One symbol's rules, published in `exchangeInfo` and enforced as filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinSymbol {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Base asset.
    pub base_asset: String,
    /// Quote asset.
    pub quote_asset: String,
    /// `PRICE_FILTER.tickSize`.
    pub tick_size: Decimal,
    /// `LOT_SIZE.stepSize`.
    pub step_size: Decimal,
    /// `LOT_SIZE.minQty`.
    pub min_qty: Decimal,
    /// `NOTIONAL.minNotional`.
    pub min_notional: Decimal,
}

impl TwinSymbol {
    /// `BTCUSDT` with tick 0.01, step 0.001, min qty 0.001, min notional 1.
    #[must_use]
    pub fn btcusdt() -> Self {
        Self {
            symbol: "BTCUSDT".into(),
            base_asset: "BTC".into(),
            quote_asset: "USDT".into(),
            tick_size: Decimal::new(1, 2),
            step_size: Decimal::new(1, 3),
            min_qty: Decimal::new(1, 3),
            min_notional: Decimal::ONE,
        }
    }
}

/// A key the twin accepts.
#[derive(Clone)]
pub enum TwinKey {
    /// An HMAC key.
    Hmac {
        /// API key.
        api_key: String,
        /// Secret.
        secret: String,
    },
    /// An Ed25519 key.
    Ed25519 {
        /// API key.
        api_key: String,
        /// Public key.
        public_key: ed25519_dalek::VerifyingKey,
    },
}

impl std::fmt::Debug for TwinKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwinKey(<redacted>)")
    }
}

impl TwinKey {
    fn api_key(&self) -> &str {
        match self {
            Self::Hmac { api_key, .. } | Self::Ed25519 { api_key, .. } => api_key,
        }
    }
}

/// Settings of the twin.
#[derive(Debug, Clone)]
pub struct TwinConfig {
    /// Keys accepted.
    pub keys: Vec<TwinKey>,
    /// Symbols listed.
    pub symbols: Vec<TwinSymbol>,
    /// Trade prints to play with [`TwinHandle::play`].
    pub trades: Vec<Tick>,
    /// Maker fee, basis points.
    pub maker_fee_bps: Decimal,
    /// Taker fee, basis points.
    pub taker_fee_bps: Decimal,
    /// Twin clock minus local clock, milliseconds.
    pub clock_offset_ms: i64,
    /// Pay commissions in BNB (the commission FAQ's BNB discount); `None`
    /// (the default) charges them in the asset the trade receives: the
    /// base asset on a buy, the quote asset on a sell.
    pub bnb_commission: Option<BnbCommission>,
}

/// Commissions paid in BNB, as the commission FAQ computes them: the
/// commission valued in the quote asset, converted at a fixed BNB price,
/// times `discount`. When `balance` cannot cover one, the full commission is
/// taken from the received asset instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BnbCommission {
    /// Price of 1 BNB in the quote asset (fixed for the whole run).
    pub price: Decimal,
    /// The FAQ's `discount` multiplier applied to the commission in BNB
    /// (its example uses 0.25).
    pub discount: Decimal,
    /// BNB available for commissions; each BNB charge draws it down.
    pub balance: Decimal,
}

impl TwinConfig {
    /// A twin listing `BTCUSDT` and accepting one HMAC key.
    #[must_use]
    pub fn hmac(api_key: &str, secret: &str) -> Self {
        Self {
            keys: vec![TwinKey::Hmac {
                api_key: api_key.into(),
                secret: secret.into(),
            }],
            symbols: vec![TwinSymbol::btcusdt()],
            trades: Vec::new(),
            maker_fee_bps: Decimal::TEN,
            taker_fee_bps: Decimal::TEN,
            clock_offset_ms: 0,
            bnb_commission: None,
        }
    }

    /// Adds trades read from a tesser-data trade file (CSV or JSON Lines).
    ///
    /// # Errors
    /// The reader's error for an unreadable file or line.
    pub fn with_trades_file(
        mut self,
        path: &std::path::Path,
    ) -> Result<Self, tesser_data::DataError> {
        let mut reader = tesser_data::TradeFileReader::open(path)?;
        while let Some(tick) = reader.next_tick() {
            self.trades.push(tick?);
        }
        Ok(self)
    }
}

/// Failure switches. Counters apply to that many requests, then reset.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer the next n REST requests 429 with `Retry-After`.
    pub rate_limit_next: u32,
    /// The `Retry-After` of those answers, seconds.
    pub retry_after_secs: u64,
    /// Answer the next n signed requests `-1021`.
    pub timestamp_error_next: u32,
    /// Accept the next n orders, then answer 503.
    pub accept_then_503_next: u32,
    /// Delay the next order's processing and answer by this long.
    pub delay_next_order: Option<Duration>,
    /// Process the next cancel-replace at once but hold its answer this
    /// long, so its executionReports reach the client first.
    pub delay_next_replace_answer: Option<Duration>,
    /// Print a trade `(price, size)` just before handling the next
    /// cancel-replace, as if the market traded while the request travelled.
    pub trade_before_next_replace: Option<(Decimal, Decimal)>,
    /// Send every executionReport twice.
    pub duplicate_reports: bool,
    /// Hold executionReports while set; when cleared, send them in reverse.
    pub reorder_reports: bool,
    /// Refuse the next order with this code and message.
    pub reject_next_order: Option<(i64, String)>,
    /// Refuse new WebSocket API connections (HTTP 503) while set.
    pub refuse_user_connections: bool,
    /// Keep every WebSocket API connection open but silent while set: no
    /// events, no answers, no pings and no pongs (a half-open connection).
    /// What it would have sent is dropped, as the network would.
    pub silent_user_stream: bool,
    /// Keep every market stream connection open but silent while set, as
    /// [`Faults::silent_user_stream`] does for the WebSocket API.
    pub silent_market_stream: bool,
}

/// A request the twin received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `rest`, `ws-api` or `market`.
    pub transport: &'static str,
    /// HTTP method or WebSocket API method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Parameters (query then body), as received.
    pub params: Vec<(String, String)>,
    /// Status answered (0 when not answered yet).
    pub status: u16,
    /// Whether it carried key material: an `X-MBX-APIKEY` header, or an
    /// `apiKey` or `signature` parameter.
    pub carries_key: bool,
}

impl RecordedRequest {
    /// Whether this is a call of an order-entry, order-query or account
    /// endpoint (all need keys): REST `/api/v3/order*` (any method),
    /// `openOrders`, `openOrderList`, `allOrders`, `allOrderList`,
    /// `myTrades`, `account*`, `userDataStream`, and every WebSocket API
    /// method but `ping` and `time`. Market streams and the public REST
    /// endpoints (`time`, `ping`, `exchangeInfo`, market data) are not.
    #[must_use]
    pub fn is_order_endpoint(&self) -> bool {
        match self.transport {
            "rest" => {
                let Some(name) = self.path.strip_prefix("/api/v3/") else {
                    return false;
                };
                name.starts_with("order")
                    || name.starts_with("account")
                    || matches!(
                        name,
                        "openOrders"
                            | "openOrderList"
                            | "allOrders"
                            | "allOrderList"
                            | "myTrades"
                            | "myPreventedMatches"
                            | "myAllocations"
                            | "userDataStream"
                            | "rateLimit/order"
                    )
            }
            "ws-api" => !matches!(self.method.as_str(), "ping" | "time"),
            _ => false,
        }
    }

    /// A parameter's value.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A started twin. Dropping it stops the servers.
pub struct TwinHandle {
    state: Arc<server::State>,
    runtime: Option<tokio::runtime::Runtime>,
    rest_base: String,
    ws_api_url: String,
    market_base: String,
    base_url: String,
}

impl std::fmt::Debug for TwinHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwinHandle")
            .field("rest_base", &self.rest_base)
            .finish_non_exhaustive()
    }
}

/// The twin.
#[derive(Debug)]
pub struct TwinVenue;

impl TwinVenue {
    /// Starts the twin on its own runtime, bound to `127.0.0.1` on random
    /// ports: one each for REST, the WebSocket API and the market streams,
    /// and one serving all three ([`TwinHandle::base_url`]).
    ///
    /// # Errors
    /// When the runtime cannot start or a port cannot be bound.
    pub fn start(config: TwinConfig) -> std::io::Result<TwinHandle> {
        Self::start_on(config, 0)
    }

    /// Like [`TwinVenue::start`], with the combined server on `port` of
    /// `127.0.0.1` (0 for a random one).
    ///
    /// # Errors
    /// When the runtime cannot start or a port cannot be bound.
    pub fn start_on(config: TwinConfig, port: u16) -> std::io::Result<TwinHandle> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("binance-twin")
            .enable_all()
            .build()?;
        let state = Arc::new(server::State::new(config));
        let addresses = runtime.block_on(server::serve(Arc::clone(&state), port))?;
        Ok(TwinHandle {
            state,
            runtime: Some(runtime),
            rest_base: format!("http://{}", addresses.rest),
            ws_api_url: format!("ws://{}/ws-api/v3", addresses.ws_api),
            market_base: format!("ws://{}", addresses.market),
            base_url: format!("http://{}", addresses.combined),
        })
    }
}

impl Drop for TwinHandle {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl TwinHandle {
    /// REST base URL (`http://127.0.0.1:port`).
    #[must_use]
    pub fn rest_base(&self) -> &str {
        &self.rest_base
    }

    /// The combined server's base URL (`http://127.0.0.1:port`): REST on it,
    /// the WebSocket API at `ws://127.0.0.1:port/ws-api/v3`, and the market
    /// streams with base `ws://127.0.0.1:port` (`/stream?streams=…`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// WebSocket API URL (`ws://127.0.0.1:port/ws-api/v3`).
    #[must_use]
    pub fn ws_api_url(&self) -> &str {
        &self.ws_api_url
    }

    /// Market stream base (`ws://127.0.0.1:port`).
    #[must_use]
    pub fn market_base(&self) -> &str {
        &self.market_base
    }

    /// Changes the fault switches.
    pub fn faults(&self, change: impl FnOnce(&mut Faults)) {
        let flush = {
            let mut faults = self.state.lock_faults();
            let was_reordering = faults.reorder_reports;
            change(&mut faults);
            was_reordering && !faults.reorder_reports
        };
        if flush {
            self.state.flush_held_reports();
        }
    }

    /// Every request received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many requests called an order-entry, order-query or account
    /// endpoint, on any port ([`RecordedRequest::is_order_endpoint`]). Paper
    /// mode must keep this at zero.
    #[must_use]
    pub fn order_endpoint_calls(&self) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.is_order_endpoint())
            .count()
    }

    /// How many requests carried key material (an `X-MBX-APIKEY` header, or
    /// an `apiKey` or `signature` parameter), on any port
    /// ([`RecordedRequest::carries_key`]).
    #[must_use]
    pub fn signed_requests(&self) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.carries_key)
            .count()
    }

    /// How many requests had this method and path.
    #[must_use]
    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// The `newClientOrderId`s of every order request received (new orders
    /// and cancel-replaces), in order.
    #[must_use]
    pub fn client_order_ids_sent(&self) -> Vec<String> {
        lock(&self.state.requests)
            .iter()
            .filter(|r| {
                r.method == "POST"
                    && (r.path == "/api/v3/order" || r.path == "/api/v3/order/cancelReplace")
            })
            .filter_map(|r| r.param("newClientOrderId").map(str::to_owned))
            .collect()
    }

    /// Every order the twin holds.
    #[must_use]
    pub fn orders(&self) -> Vec<TwinOrder> {
        self.state.lock_engine().orders.clone()
    }

    /// Every account trade.
    #[must_use]
    pub fn trades(&self) -> Vec<TwinTrade> {
        self.state.lock_engine().trades.clone()
    }

    /// A trade print: sent on `<symbol>@trade` and matched against the book.
    pub fn print(&self, symbol: &str, price: Decimal, size: Decimal, buyer_is_maker: bool) {
        let tick = Tick {
            symbol: symbol.into(),
            price,
            size,
            aggressor: None,
            timestamp_ms: self.state.now_ms(),
        };
        self.state.print(&tick, buyer_is_maker);
    }

    /// Plays the next `count` prints of the configured trade list; returns
    /// how many were played.
    pub fn play(&self, count: usize) -> usize {
        let mut played = 0;
        while played < count {
            let Some(tick) = lock(&self.state.pending_trades).pop_front() else {
                break;
            };
            let buyer_is_maker = tick.aggressor == Some(tesser_core::Side::Sell);
            self.state.print(&tick, buyer_is_maker);
            played += 1;
        }
        played
    }

    /// Sends a `bookTicker` message.
    pub fn book_ticker(
        &self,
        symbol: &str,
        bid: Decimal,
        bid_qty: Decimal,
        ask: Decimal,
        ask_qty: Decimal,
    ) {
        self.state.book_ticker(symbol, bid, bid_qty, ask, ask_qty);
    }

    /// Drops every market stream connection.
    pub fn drop_market_connections(&self) {
        self.state.kill("market");
    }

    /// Drops every WebSocket API connection.
    pub fn drop_user_connections(&self) {
        self.state.kill("ws-api");
    }

    /// Sends `eventStreamTerminated` to every user data subscription and ends
    /// them.
    pub fn terminate_user_streams(&self) {
        self.state.terminate_subscriptions();
    }

    /// Active user data subscriptions.
    #[must_use]
    pub fn user_subscriptions(&self) -> usize {
        self.state.subscriptions()
    }

    /// Open market stream connections.
    #[must_use]
    pub fn market_connections(&self) -> usize {
        self.state.market_connections()
    }

    /// Moves the twin's clock (twin minus local, milliseconds).
    pub fn set_clock_offset(&self, offset_ms: i64) {
        self.state
            .clock_offset_ms
            .store(offset_ms, std::sync::atomic::Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

type TradeQueue = Mutex<VecDeque<Tick>>;
