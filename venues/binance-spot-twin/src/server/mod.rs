//! The twin's servers: REST, WebSocket API and market streams, each on its
//! own port and all three on a combined one; the shared [`State`] with its
//! signature, timing and weight checks.

mod market;
mod rest;
mod ws_api;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::Sha256;
use tesser_core::Tick;
use tokio::sync::{broadcast, mpsc};

use crate::engine::{ApiError, Engine, Output, fmt8};
use crate::{
    BalanceError, Faults, RecordedRequest, Replayed, TradeQueue, TwinConfig, TwinKey, TwinQuote,
    lock,
};

use market::market_handler;
use rest::rest_handler;
use ws_api::ws_api_handler;

/// The kill-channel signal that makes the market connections open now
/// half-open.
pub(crate) const SILENCE_MARKET: &str = "market/silent";
/// The kill-channel signal that makes the WebSocket API connections open now
/// half-open.
pub(crate) const SILENCE_WS_API: &str = "ws-api/silent";

/// What a connection's kill-channel signal asks of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Nothing: the signal is for the other transport.
    Ignore,
    /// Close the connection.
    Drop,
    /// Keep it open and silent for good.
    Silence,
}

impl Signal {
    /// What `signal` asks of a connection of `transport` (`market` or
    /// `ws-api`).
    fn of(signal: Result<&'static str, broadcast::error::RecvError>, transport: &str) -> Self {
        match signal {
            Ok(name) if name == transport => Self::Drop,
            Ok(name) if name.strip_suffix("/silent") == Some(transport) => Self::Silence,
            _ => Self::Ignore,
        }
    }
}

/// A connection that has gone half-open: it reads nothing (so answers no
/// ping) and drops everything it would have sent, until it is dropped or its
/// sender closes.
async fn half_open(
    kill: &mut broadcast::Receiver<&'static str>,
    outgoing: &mut mpsc::UnboundedReceiver<String>,
    transport: &str,
) {
    loop {
        tokio::select! {
            signal = kill.recv() => {
                if Signal::of(signal, transport) == Signal::Drop { return; }
            }
            message = outgoing.recv() => {
                if message.is_none() { return; }
            }
        }
    }
}

/// New orders counted in the current 10-second and day windows of the
/// twin's clock (a day starts at 00:00 UTC).
#[derive(Debug, Default)]
struct OrderCounts {
    /// `ms / 10_000` of `ten_seconds`.
    ten_seconds_index: i64,
    ten_seconds: u64,
    /// `ms / 86_400_000` of `day`.
    day_index: i64,
    day: u64,
}

impl OrderCounts {
    /// Starts new windows when `now` has left the counted ones.
    fn roll(&mut self, now: i64) {
        if self.ten_seconds_index != now.div_euclid(10_000) {
            self.ten_seconds_index = now.div_euclid(10_000);
            self.ten_seconds = 0;
        }
        if self.day_index != now.div_euclid(86_400_000) {
            self.day_index = now.div_euclid(86_400_000);
            self.day = 0;
        }
    }
}

/// A request refused before it is processed, with the headers to send.
pub(crate) struct Refusal {
    pub(crate) error: ApiError,
    pub(crate) headers: Vec<(String, String)>,
}

struct UserConn {
    id: u64,
    sender: mpsc::UnboundedSender<String>,
    subscription: Option<i64>,
}

struct MarketConn {
    sender: mpsc::UnboundedSender<String>,
    streams: Vec<String>,
}

/// Shared twin state.
pub struct State {
    config: TwinConfig,
    engine: Mutex<Engine>,
    faults: Mutex<Faults>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) pending_trades: TradeQueue,
    pub(crate) clock_offset_ms: AtomicI64,
    users: Mutex<Vec<UserConn>>,
    markets: Mutex<Vec<MarketConn>>,
    held_reports: Mutex<Vec<Value>>,
    kill: broadcast::Sender<&'static str>,
    next_conn: AtomicU64,
    next_subscription: AtomicI64,
    weight: Mutex<(i64, u64)>,
    orders_count: Mutex<OrderCounts>,
}

impl State {
    pub(crate) fn new(config: TwinConfig) -> Self {
        let engine = Engine::new(&config.symbols, config.maker_fee_bps, config.taker_fee_bps)
            .with_balances(&config.balances)
            .with_bnb_commission(config.bnb_commission.clone());
        let (kill, _) = broadcast::channel(16);
        let started = local_ms() + config.clock_offset_ms;
        let engine = engine.with_start_time(started);
        Self {
            pending_trades: Mutex::new(replay(&config)),
            clock_offset_ms: AtomicI64::new(config.clock_offset_ms),
            config,
            engine: Mutex::new(engine),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Vec::new()),
            users: Mutex::new(Vec::new()),
            markets: Mutex::new(Vec::new()),
            held_reports: Mutex::new(Vec::new()),
            kill,
            next_conn: AtomicU64::new(1),
            next_subscription: AtomicI64::new(0),
            weight: Mutex::new((0, 0)),
            orders_count: Mutex::new(OrderCounts::default()),
        }
    }

    pub(crate) fn lock_engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    pub(crate) fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Whether the request being answered is one of the
    /// [`Faults::accept_then_503_next`]: done, then answered 503.
    pub(crate) fn take_accept_then_503(&self) -> bool {
        let mut faults = self.lock_faults();
        if faults.accept_then_503_next == 0 {
            return false;
        }
        faults.accept_then_503_next -= 1;
        true
    }

    /// The twin's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        local_ms() + self.clock_offset_ms.load(Ordering::SeqCst)
    }

    /// Records a request; `headers` are the HTTP headers of a REST request.
    fn record(
        &self,
        transport: &'static str,
        method: &str,
        path: &str,
        params: Vec<(String, String)>,
        headers: Option<&HeaderMap>,
    ) -> usize {
        let carries_key = headers.is_some_and(|headers| headers.contains_key("x-mbx-apikey"))
            || params
                .iter()
                .any(|(name, _)| name == "signature" || name == "apiKey");
        let mut requests = lock(&self.requests);
        requests.push(RecordedRequest {
            transport,
            method: method.to_owned(),
            path: path.to_owned(),
            params,
            status: 0,
            carries_key,
        });
        requests.len() - 1
    }

    fn set_status(&self, index: usize, status: u16) {
        if let Some(request) = lock(&self.requests).get_mut(index) {
            request.status = status;
        }
    }

    /// Sends the reports and trades of a step.
    fn publish(&self, output: Output) {
        for trade in output.trades {
            let symbol = trade["s"].as_str().unwrap_or_default().to_ascii_lowercase();
            let stream = format!("{symbol}@trade");
            let message = json!({"stream": stream, "data": trade}).to_string();
            self.send_market(&stream, &message);
        }
        let (duplicate, hold) = {
            let faults = self.lock_faults();
            (faults.duplicate_reports, faults.reorder_reports)
        };
        if hold {
            lock(&self.held_reports).extend(output.reports);
        } else {
            for report in output.reports {
                self.send_event(&report);
                if duplicate {
                    self.send_event(&report);
                }
            }
        }
        // The account's change after the executionReports that caused it
        // (the fault switches act on executionReports only).
        for event in output.account {
            self.send_event(&event);
        }
    }

    /// Credits a deposit (a negative `amount`: a withdrawal) and sends its
    /// `balanceUpdate`, then the `outboundAccountPosition`
    /// (`user-data-stream.md`).
    pub(crate) fn deposit(&self, asset: &str, amount: Decimal) -> Result<(), BalanceError> {
        let now = self.now_ms();
        let mut output = Output::default();
        let balance_update = {
            let mut engine = self.lock_engine();
            let free = engine.account().free(asset);
            if amount.is_zero() || free + amount < Decimal::ZERO {
                return Err(BalanceError::Refused {
                    asset: asset.to_owned(),
                    amount,
                    free,
                });
            }
            let event = engine.deposit(asset, amount, now);
            engine.finish(now, &mut output);
            event
        };
        self.send_event(&balance_update);
        self.publish(output);
        Ok(())
    }

    pub(crate) fn flush_held_reports(&self) {
        let held: Vec<Value> = std::mem::take(&mut *lock(&self.held_reports));
        for report in held.iter().rev() {
            self.send_event(report);
        }
    }

    fn send_event(&self, event: &Value) {
        let users = lock(&self.users);
        for conn in users.iter() {
            if let Some(subscription) = conn.subscription {
                let message = json!({"subscriptionId": subscription, "event": event}).to_string();
                let _ = conn.sender.send(message);
            }
        }
    }

    fn send_market(&self, stream: &str, message: &str) {
        let markets = lock(&self.markets);
        for conn in markets.iter() {
            if conn.streams.iter().any(|s| s == stream) {
                let _ = conn.sender.send(message.to_owned());
            }
        }
    }

    pub(crate) fn print(&self, tick: &Tick, buyer_is_maker: bool) {
        let mut output = Output::default();
        {
            let mut engine = self.lock_engine();
            engine.print(tick, buyer_is_maker, &mut output);
            engine.finish(self.now_ms(), &mut output);
        }
        self.publish(output);
    }

    /// Sets the symbol's book and sends it on `<symbol>@bookTicker`.
    pub(crate) fn quote(&self, quote: &TwinQuote) {
        self.lock_engine().set_quote(quote);
        self.book_ticker(
            &quote.symbol,
            quote.bid,
            quote.bid_qty,
            quote.ask,
            quote.ask_qty,
        );
    }

    pub(crate) fn book_ticker(
        &self,
        symbol: &str,
        bid: Decimal,
        bid_qty: Decimal,
        ask: Decimal,
        ask_qty: Decimal,
    ) {
        let stream = format!("{}@bookTicker", symbol.to_ascii_lowercase());
        let data = json!({"u": self.now_ms(), "s": symbol, "b": fmt8(bid), "B": fmt8(bid_qty), "a": fmt8(ask), "A": fmt8(ask_qty)});
        let message = json!({"stream": stream, "data": data}).to_string();
        self.send_market(&stream, &message);
    }

    /// How often connections are pinged.
    pub(crate) fn ping_interval(&self) -> std::time::Duration {
        self.config.ping_interval
    }

    pub(crate) fn kill(&self, transport: &'static str) {
        let _ = self.kill.send(transport);
    }

    pub(crate) fn terminate_subscriptions(&self) {
        let now = self.now_ms();
        let mut users = lock(&self.users);
        for conn in users.iter_mut() {
            if let Some(subscription) = conn.subscription.take() {
                let message = json!({"subscriptionId": subscription, "event": {"e": "eventStreamTerminated", "E": now}}).to_string();
                let _ = conn.sender.send(message);
            }
        }
    }

    pub(crate) fn subscriptions(&self) -> usize {
        lock(&self.users)
            .iter()
            .filter(|c| c.subscription.is_some())
            .count()
    }

    pub(crate) fn market_connections(&self) -> usize {
        lock(&self.markets).len()
    }

    /// Verifies a signature over `payload`; returns the error to answer.
    fn verify(
        &self,
        api_key: Option<&str>,
        payload: &str,
        signature: Option<&str>,
    ) -> Result<(), ApiError> {
        let api_key = api_key.ok_or_else(|| ApiError {
            status: 401,
            code: -2014,
            msg: "API-key format invalid.".into(),
            data: None,
        })?;
        let key = self
            .config
            .keys
            .iter()
            .find(|key| key.api_key() == api_key)
            .ok_or_else(|| ApiError {
                status: 401,
                code: -2015,
                msg: "Invalid API-key, IP, or permissions for action.".into(),
                data: None,
            })?;
        let invalid = || ApiError::bad(-1022, "Signature for this request is not valid.");
        let signature = signature.ok_or_else(|| {
            ApiError::bad(
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        })?;
        match key {
            TwinKey::Hmac { secret, .. } => {
                let bytes = hex::decode(signature.to_ascii_lowercase()).map_err(|_| invalid())?;
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
                    .map_err(|_| invalid())?;
                mac.update(payload.as_bytes());
                mac.verify_slice(&bytes).map_err(|_| invalid())
            }
            TwinKey::Ed25519 { public_key, .. } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(signature)
                    .map_err(|_| invalid())?;
                let signature =
                    ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| invalid())?;
                public_key
                    .verify_strict(payload.as_bytes(), &signature)
                    .map_err(|_| invalid())
            }
        }
    }

    /// The documented timing rule (`rest-api.md`, "Timing security").
    fn check_time(&self, params: &HashMap<String, String>) -> Result<(), ApiError> {
        let timestamp: i64 = params
            .get("timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                ApiError::bad(
                    -1102,
                    "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
                )
            })?;
        let recv_window: i64 = match params.get("recvWindow") {
            Some(text) => text
                .split('.')
                .next()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| ApiError::bad(-1102, "Mandatory parameter 'recvWindow' was not sent, was empty/null, or malformed."))?,
            None => 5000,
        };
        if recv_window > 60_000 {
            return Err(ApiError::bad(-1131, "recvWindow must be less than 60000"));
        }
        let server = self.now_ms();
        if timestamp >= server + 1000 {
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.",
            ));
        }
        if server - timestamp > recv_window {
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ));
        }
        let mut faults = self.lock_faults();
        if faults.timestamp_error_next > 0 {
            faults.timestamp_error_next -= 1;
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ));
        }
        Ok(())
    }

    /// Counts a request's weight (and, for a new order, the order windows)
    /// and returns the usage headers; a new order past an order limit is
    /// refused with the documented 429 `-1015`, counted nowhere.
    fn weight_headers(&self, weight: u64, order: bool) -> Result<Vec<(String, String)>, Refusal> {
        let now = self.now_ms();
        let mut headers = Vec::new();
        {
            let mut w = lock(&self.weight);
            if w.0 != now / 60_000 {
                *w = (now / 60_000, 0);
            }
            w.1 += weight;
            headers.push(("X-MBX-USED-WEIGHT-1M".to_owned(), w.1.to_string()));
        }
        if order {
            let mut counts = lock(&self.orders_count);
            counts.roll(now);
            let limits = [
                (
                    counts.ten_seconds,
                    self.config.orders_per_10s,
                    "10 SECOND",
                    10_000,
                ),
                (counts.day, self.config.orders_per_day, "1 DAY", 86_400_000),
            ];
            for (used, limit, name, interval_ms) in limits {
                if used >= limit {
                    headers.push((
                        "X-MBX-ORDER-COUNT-10S".to_owned(),
                        counts.ten_seconds.to_string(),
                    ));
                    headers.push(("X-MBX-ORDER-COUNT-1D".to_owned(), counts.day.to_string()));
                    let rest_ms = interval_ms - now.rem_euclid(interval_ms);
                    headers.push(("Retry-After".to_owned(), (rest_ms / 1000 + 1).to_string()));
                    return Err(Refusal {
                        error: ApiError {
                            status: 429,
                            code: -1015,
                            msg: format!(
                                "Too many new orders; current limit is {limit} orders per {name}."
                            ),
                            data: None,
                        },
                        headers,
                    });
                }
            }
            counts.ten_seconds += 1;
            counts.day += 1;
            headers.push((
                "X-MBX-ORDER-COUNT-10S".to_owned(),
                counts.ten_seconds.to_string(),
            ));
            headers.push(("X-MBX-ORDER-COUNT-1D".to_owned(), counts.day.to_string()));
        }
        Ok(headers)
    }
}

/// The local clock, milliseconds since the epoch.
fn local_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The configured trades and quotes merged by time, a quote before a print
/// of the same time.
fn replay(config: &TwinConfig) -> VecDeque<Replayed> {
    let mut steps: Vec<(i64, u8, Replayed)> = config
        .quotes
        .iter()
        .map(|q| (q.timestamp_ms, 0, Replayed::Quote(q.clone())))
        .chain(
            config
                .trades
                .iter()
                .map(|t| (t.timestamp_ms, 1, Replayed::Trade(t.clone()))),
        )
        .collect();
    // Stable: each list keeps its own order within a time.
    steps.sort_by_key(|(at, kind, _)| (*at, *kind));
    steps.into_iter().map(|(_, _, step)| step).collect()
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The addresses the twin listens on.
pub(crate) struct Addresses {
    /// REST only.
    pub(crate) rest: SocketAddr,
    /// WebSocket API only.
    pub(crate) ws_api: SocketAddr,
    /// Market streams only.
    pub(crate) market: SocketAddr,
    /// All three: `/ws-api/v3`, `/stream`, and REST on every other path.
    pub(crate) combined: SocketAddr,
}

/// Binds the three separate servers on random ports and the combined one on
/// `combined_port` (0 for a random one); returns their addresses.
pub(crate) async fn serve(state: Arc<State>, combined_port: u16) -> std::io::Result<Addresses> {
    let rest = Router::new()
        .fallback(rest_handler)
        .with_state(Arc::clone(&state));
    let ws_api = Router::new()
        .route("/ws-api/v3", axum::routing::get(ws_api_handler))
        .with_state(Arc::clone(&state));
    let market = Router::new()
        .route("/stream", axum::routing::get(market_handler))
        .with_state(Arc::clone(&state));
    let combined = Router::new()
        .route("/ws-api/v3", axum::routing::get(ws_api_handler))
        .route("/stream", axum::routing::get(market_handler))
        .fallback(rest_handler)
        .with_state(Arc::clone(&state));
    let mut addresses = Vec::new();
    for (router, port) in [
        (rest, 0),
        (ws_api, 0),
        (market, 0),
        (combined, combined_port),
    ] {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        addresses.push(listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
    }
    Ok(Addresses {
        rest: addresses[0],
        ws_api: addresses[1],
        market: addresses[2],
        combined: addresses[3],
    })
}

fn respond(status: u16, body: &Value, headers: Vec<(String, String)>) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn error_response(error: &ApiError, headers: Vec<(String, String)>) -> Response {
    respond(error.status, &error.body(), headers)
}
