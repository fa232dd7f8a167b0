//! An in-process fake Binance Spot venue for tests.
//!
//! [`TwinVenue::start`] binds REST, the WebSocket API and the market stream
//! on `127.0.0.1` (random ports), each on its own port and all three on one
//! more ([`TwinHandle::base_url`]), and returns a [`TwinHandle`] with their
//! base URLs. The twin speaks the documented protocol (`rest-api.md`,
//! `web-socket-api.md`, `web-socket-streams.md`, `user-data-stream.md`): it
//! verifies HMAC and Ed25519 signatures and the `timestamp`/`recvWindow`
//! rule, answers Binance's error bodies, and emits `trade` stream messages,
//! `executionReport`s and `outboundAccountPosition`s field for field. It
//! keeps an account ([`TwinConfig::balances`]): placements lock funds and
//! are refused `-2010` beyond the free balance, fills move the balances
//! ([`TwinHandle::balance`], [`TwinHandle::deposit`]). Each symbol has a book: its best
//! bid and ask with their sizes ([`TwinHandle::quote`], or replayed with the
//! trades), served on `<symbol>@bookTicker`. An order that crosses the book
//! fills on arrival as taker at the opposite touch; what rests is matched by
//! tesser-paper's [`PaperExchange`](tesser_paper::PaperExchange), driven by
//! trade prints the test pushes ([`TwinHandle::print`]) or plays from a list
//! or file. A symbol that never had a quote matches on prints only.
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
    /// `PRICE_FILTER.minPrice` (0 disables it).
    pub min_price: Decimal,
    /// `PRICE_FILTER.maxPrice` (0 disables it).
    pub max_price: Decimal,
    /// `LOT_SIZE.maxQty`.
    pub max_qty: Decimal,
    /// `NOTIONAL.maxNotional` (not applied to `MARKET` orders, as
    /// `applyMaxToMarket` is false).
    pub max_notional: Decimal,
    /// `MARKET_LOT_SIZE`: minimum, maximum and step of a `MARKET` order's
    /// quantity (a step of 0 disables the step rule).
    pub market_lot: (Decimal, Decimal, Decimal),
    /// `PERCENT_PRICE_BY_SIDE`, as `(bidMultiplierUp, bidMultiplierDown,
    /// askMultiplierUp, askMultiplierDown)` around the reference price (the
    /// book's mid when the symbol has a quote, else the last print; no check
    /// before either exists).
    pub percent_price_by_side: (Decimal, Decimal, Decimal, Decimal),
    /// `MAX_NUM_ORDERS.maxNumOrders`: open orders allowed on the symbol.
    pub max_num_orders: usize,
    /// `amendAllowed`: whether keep-priority amends are enabled (refused
    /// with `-2038` otherwise).
    pub amend_allowed: bool,
    /// `cancelReplaceAllowed`: whether cancel-replace is enabled (refused
    /// with `-2010` otherwise).
    pub cancel_replace_allowed: bool,
    /// The `MAX_NUM_ORDER_AMENDS` filter: keep-priority amends of one order
    /// before `-2038`.
    pub max_num_order_amends: u32,
}

impl TwinSymbol {
    /// `BTCUSDT` with tick 0.01 (min price 0.01, max 1 000 000), step 0.001,
    /// quantity 0.001 to 9000 (`MARKET` orders: 0 to 9000, any step of
    /// 0.001), notional 1 to 9 000 000, `PERCENT_PRICE_BY_SIDE` 5 / 0.2 on
    /// both sides, and 200 open orders at most.
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
            min_price: Decimal::new(1, 2),
            max_price: Decimal::from(1_000_000),
            max_qty: Decimal::from(9000),
            max_notional: Decimal::from(9_000_000),
            market_lot: (Decimal::ZERO, Decimal::from(9000), Decimal::ZERO),
            percent_price_by_side: (
                Decimal::from(5),
                Decimal::new(2, 1),
                Decimal::from(5),
                Decimal::new(2, 1),
            ),
            max_num_orders: 200,
            amend_allowed: true,
            cancel_replace_allowed: true,
            max_num_order_amends: 10,
        }
    }
}

/// A symbol's best bid and ask with their sizes at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinQuote {
    /// Symbol.
    pub symbol: String,
    /// Best bid price.
    pub bid: Decimal,
    /// Size at the best bid.
    pub bid_qty: Decimal,
    /// Best ask price.
    pub ask: Decimal,
    /// Size at the best ask.
    pub ask_qty: Decimal,
    /// When, milliseconds since the epoch (orders the replay with the trades).
    pub timestamp_ms: i64,
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
    /// Quotes played with the trades, merged by time (a quote before a print
    /// of the same time).
    pub quotes: Vec<TwinQuote>,
    /// Maker fee, basis points.
    pub maker_fee_bps: Decimal,
    /// Taker fee, basis points.
    pub taker_fee_bps: Decimal,
    /// Twin clock minus local clock, milliseconds.
    pub clock_offset_ms: i64,
    /// The `ORDERS` limit per 10 seconds, published in `exchangeInfo` and
    /// enforced (429 `-1015`).
    pub orders_per_10s: u64,
    /// The `ORDERS` limit per day (00:00 UTC to 00:00 UTC), published and
    /// enforced like [`TwinConfig::orders_per_10s`].
    pub orders_per_day: u64,
    /// How often every WebSocket connection (WebSocket API and market
    /// streams) is sent a ping frame. Binance pings every 20 seconds
    /// (`web-socket-api.md`, `web-socket-streams.md`).
    pub ping_interval: Duration,
    /// Pay commissions in BNB (the commission FAQ's BNB discount); `None`
    /// (the default) charges them in the asset the trade receives: the
    /// base asset on a buy, the quote asset on a sell.
    pub bnb_commission: Option<BnbCommission>,
    /// The account's free balances at start, `(asset, amount)` (default
    /// `BTC 10`, `USDT 1000000`); an asset listed twice is credited twice.
    /// Every symbol's base and quote asset is in the account, at zero unless
    /// listed here. Placements lock funds from these balances and are
    /// refused (`-2010 Account has insufficient balance for requested
    /// action.`) when the free balance cannot cover them; fills move them
    /// (see [`TwinHandle::balance`]).
    pub balances: Vec<(String, Decimal)>,
}

/// Commissions paid in BNB, as the commission FAQ computes them: the
/// commission valued in the quote asset, converted at a fixed BNB price,
/// times `discount`, out of the account's free BNB. When the free BNB cannot
/// cover one, the full commission is taken from the received asset instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BnbCommission {
    /// Price of 1 BNB in the quote asset (fixed for the whole run).
    pub price: Decimal,
    /// The FAQ's `discount` multiplier applied to the commission in BNB
    /// (its example uses 0.25).
    pub discount: Decimal,
    /// BNB credited to the account at start (on top of any BNB in
    /// [`TwinConfig::balances`]); each BNB charge draws the account's free
    /// BNB down.
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
            quotes: Vec::new(),
            maker_fee_bps: Decimal::TEN,
            taker_fee_bps: Decimal::TEN,
            clock_offset_ms: 0,
            orders_per_10s: 100,
            orders_per_day: 200_000,
            ping_interval: Duration::from_secs(20),
            bnb_commission: None,
            balances: vec![
                ("BTC".to_owned(), Decimal::TEN),
                ("USDT".to_owned(), Decimal::from(1_000_000)),
            ],
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

/// A balance change a test asked for that the twin refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BalanceError {
    /// A zero amount, or a withdrawal beyond the free balance.
    #[error("cannot move {amount} {asset}: the free balance is {free}")]
    Refused {
        /// Asset.
        asset: String,
        /// The amount asked for (negative: a withdrawal).
        amount: Decimal,
        /// The asset's free balance.
        free: Decimal,
    },
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
    /// Carry out the next n order-entry requests (new order, cancel,
    /// keep-priority amend, cancel-replace), then answer 503 as if the
    /// answer was lost: the venue acted, the client cannot know.
    pub accept_then_503_next: u32,
    /// Delay the next order's processing and answer by this long.
    pub delay_next_order: Option<Duration>,
    /// Answer the next order at once with `-1007` ("execution status
    /// unknown", HTTP 503), and let the matching engine take it only this
    /// long afterwards, whatever its `recvWindow`: the docs say recvWindow
    /// does not cover delays inside the matching engine.
    pub engine_takes_next_order_after: Option<Duration>,
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

    /// The account's `(free, locked)` balance of `asset` (zero for an asset
    /// never held), as `GET /api/v3/account` answers it.
    #[must_use]
    pub fn balance(&self, asset: &str) -> (Decimal, Decimal) {
        self.state.lock_engine().account().balance(asset)
    }

    /// Credits `amount` of `asset` to the account's free balance as a
    /// deposit does (a negative `amount` withdraws), and sends every user
    /// data subscription a `balanceUpdate` (`d`: the amount) and then an
    /// `outboundAccountPosition` of the asset (`user-data-stream.md`).
    ///
    /// # Errors
    /// [`BalanceError::Refused`] for a zero amount or a withdrawal beyond
    /// the free balance; nothing changes.
    pub fn deposit(&self, asset: &str, amount: Decimal) -> Result<(), BalanceError> {
        self.state.deposit(asset, amount)
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

    /// Plays the next `count` prints of the configured trade list, and the
    /// configured quotes timed before them; returns how many prints were
    /// played.
    pub fn play(&self, count: usize) -> usize {
        let mut played = 0;
        while played < count {
            let Some(next) = lock(&self.state.pending_trades).pop_front() else {
                break;
            };
            match next {
                Replayed::Quote(quote) => self.state.quote(&quote),
                Replayed::Trade(tick) => {
                    let buyer_is_maker = tick.aggressor == Some(tesser_core::Side::Sell);
                    self.state.print(&tick, buyer_is_maker);
                    played += 1;
                }
            }
        }
        played
    }

    /// Sets the symbol's book (best bid and ask with their sizes) and sends
    /// it on `<symbol>@bookTicker`. From then on orders of the symbol that
    /// cross it fill on arrival as taker at the opposite touch, up to its
    /// size, which they consume.
    pub fn quote(
        &self,
        symbol: &str,
        bid: Decimal,
        bid_qty: Decimal,
        ask: Decimal,
        ask_qty: Decimal,
    ) {
        self.state.quote(&TwinQuote {
            symbol: symbol.to_owned(),
            bid,
            bid_qty,
            ask,
            ask_qty,
            timestamp_ms: self.state.now_ms(),
        });
    }

    /// Sends a `bookTicker` message only: the book orders match against is
    /// left as it is (see [`TwinHandle::quote`]).
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

    /// Makes every market stream connection open now half-open: it stays
    /// connected but sends nothing more (no data, no pings, no pongs) and
    /// reads nothing, as a connection whose peer vanished without a FIN.
    /// What it would have sent is lost. Later connections behave normally.
    pub fn silence_market_connections(&self) {
        self.state.kill(server::SILENCE_MARKET);
    }

    /// Makes every WebSocket API connection open now half-open, as
    /// [`TwinHandle::silence_market_connections`] does for market streams:
    /// its subscription's events (fills included) are lost, and so are the
    /// answers to its requests.
    pub fn silence_user_connections(&self) {
        self.state.kill(server::SILENCE_WS_API);
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

/// One step of the replay.
#[derive(Debug, Clone)]
pub(crate) enum Replayed {
    /// A trade print.
    Trade(Tick),
    /// A quote.
    Quote(TwinQuote),
}

type TradeQueue = Mutex<VecDeque<Replayed>>;
