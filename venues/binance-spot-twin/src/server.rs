//! The twin's servers: REST, WebSocket API and market streams.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::Sha256;
use tesser_core::Tick;
use tokio::sync::{broadcast, mpsc};

use crate::engine::{ApiError, Engine, Output, fmt8};
use crate::{Faults, RecordedRequest, TradeQueue, TwinConfig, TwinKey, lock};

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
    orders_count: Mutex<(i64, u64, u64)>,
}

impl State {
    pub(crate) fn new(config: TwinConfig) -> Self {
        let engine = Engine::new(&config.symbols, config.maker_fee_bps, config.taker_fee_bps);
        let (kill, _) = broadcast::channel(16);
        Self {
            pending_trades: Mutex::new(config.trades.iter().cloned().collect::<VecDeque<_>>()),
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
            orders_count: Mutex::new((0, 0, 0)),
        }
    }

    pub(crate) fn lock_engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    pub(crate) fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// The twin's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        local + self.clock_offset_ms.load(Ordering::SeqCst)
    }

    fn record(
        &self,
        transport: &'static str,
        method: &str,
        path: &str,
        params: Vec<(String, String)>,
    ) -> usize {
        let mut requests = lock(&self.requests);
        requests.push(RecordedRequest {
            transport,
            method: method.to_owned(),
            path: path.to_owned(),
            params,
            status: 0,
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
        if output.reports.is_empty() {
            return;
        }
        let (duplicate, hold) = {
            let faults = self.lock_faults();
            (faults.duplicate_reports, faults.reorder_reports)
        };
        if hold {
            lock(&self.held_reports).extend(output.reports);
            return;
        }
        for report in output.reports {
            self.send_event(&report);
            if duplicate {
                self.send_event(&report);
            }
        }
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
        self.lock_engine().print(tick, buyer_is_maker, &mut output);
        self.publish(output);
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

    fn weight_headers(&self, weight: u64, order: bool) -> Vec<(String, String)> {
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
            let mut o = lock(&self.orders_count);
            if o.0 != now / 10_000 {
                o.0 = now / 10_000;
                o.1 = 0;
            }
            o.1 += 1;
            o.2 += 1;
            headers.push(("X-MBX-ORDER-COUNT-10S".to_owned(), o.1.to_string()));
            headers.push(("X-MBX-ORDER-COUNT-1D".to_owned(), o.2.to_string()));
        }
        headers
    }
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Binds the three servers; returns their addresses.
pub(crate) async fn serve(
    state: Arc<State>,
) -> std::io::Result<(SocketAddr, SocketAddr, SocketAddr)> {
    let rest = Router::new()
        .fallback(rest_handler)
        .with_state(Arc::clone(&state));
    let ws_api = Router::new()
        .route("/ws-api/v3", axum::routing::get(ws_api_handler))
        .with_state(Arc::clone(&state));
    let market = Router::new()
        .route("/stream", axum::routing::get(market_handler))
        .with_state(Arc::clone(&state));
    let mut addresses = Vec::new();
    for router in [rest, ws_api, market] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        addresses.push(listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
    }
    Ok((addresses[0], addresses[1], addresses[2]))
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

/// Every REST endpoint.
async fn rest_handler(
    AxumState(state): AxumState<Arc<State>>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let query = query.unwrap_or_default();
    let mut pairs = parse_pairs(&query);
    pairs.extend(parse_pairs(&body));
    let index = state.record("rest", method.as_str(), &path, pairs.clone());
    let response = rest_inner(&state, &method, &path, &query, &headers, &body, &pairs).await;
    state.set_status(index, response.status().as_u16());
    response
}

#[allow(clippy::too_many_lines)] // One dispatch over the documented endpoints reads best in one place.
async fn rest_inner(
    state: &Arc<State>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    pairs: &[(String, String)],
) -> Response {
    {
        let mut faults = state.lock_faults();
        if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            let retry = faults.retry_after_secs.max(1);
            return respond(
                429,
                &json!({"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."}),
                vec![("Retry-After".to_owned(), retry.to_string())],
            );
        }
    }
    // Query parameters win over body parameters.
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in parse_pairs(body) {
        params.insert(k, v);
    }
    for (k, v) in parse_pairs(query) {
        params.insert(k, v);
    }
    let _ = pairs;
    let signed = !matches!(
        (method.as_str(), path),
        (
            "GET",
            "/api/v3/time" | "/api/v3/exchangeInfo" | "/api/v3/ping"
        )
    );
    let is_order = matches!(
        (method.as_str(), path),
        ("POST", "/api/v3/order" | "/api/v3/order/cancelReplace")
    );
    let weight = match path {
        "/api/v3/exchangeInfo" | "/api/v3/account" => 20,
        "/api/v3/order" if method == Method::GET => 4,
        "/api/v3/openOrders" => 6,
        "/api/v3/myTrades" => 5,
        _ => 1,
    };
    let headers_out = state.weight_headers(weight, is_order);
    if signed {
        // The signature covers the query string without `signature`, then
        // the body.
        let unsigned_query = query
            .split('&')
            .filter(|part| !part.starts_with("signature="))
            .collect::<Vec<_>>()
            .join("&");
        let payload = format!("{unsigned_query}{body}");
        let api_key = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
        if let Err(error) = state.verify(
            api_key,
            &payload,
            params.get("signature").map(String::as_str),
        ) {
            return error_response(&error, headers_out);
        }
        if let Err(error) = state.check_time(&params) {
            return error_response(&error, headers_out);
        }
    }
    let now = state.now_ms();
    match (method.as_str(), path) {
        ("GET", "/api/v3/ping") => respond(200, &json!({}), headers_out),
        ("GET", "/api/v3/time") => respond(200, &json!({"serverTime": now}), headers_out),
        ("GET", "/api/v3/exchangeInfo") => {
            let symbols: Vec<Value> = state
                .config
                .symbols
                .iter()
                .filter(|s| params.get("symbol").is_none_or(|wanted| *wanted == s.symbol))
                .map(|s| {
                    json!({
                        "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base_asset,
                        "baseAssetPrecision": 8, "quoteAsset": s.quote_asset, "quotePrecision": 8,
                        "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                        "icebergAllowed": true, "ocoAllowed": true, "otoAllowed": true, "opoAllowed": false,
                        "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false,
                        "cancelReplaceAllowed": true, "amendAllowed": true, "pegInstructionsAllowed": false,
                        "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                        "filters": [
                            {"filterType": "PRICE_FILTER", "minPrice": fmt8(s.tick_size), "maxPrice": "1000000.00000000", "tickSize": fmt8(s.tick_size)},
                            {"filterType": "LOT_SIZE", "minQty": fmt8(s.min_qty), "maxQty": "9000.00000000", "stepSize": fmt8(s.step_size)},
                            {"filterType": "NOTIONAL", "minNotional": fmt8(s.min_notional), "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
                        ],
                        "permissions": [], "permissionSets": [["SPOT"]],
                        "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"]
                    })
                })
                .collect();
            if symbols.is_empty() {
                return error_response(&ApiError::bad(-1121, "Invalid symbol."), headers_out);
            }
            respond(
                200,
                &json!({
                    "timezone": "UTC", "serverTime": now,
                    "rateLimits": [
                        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
                    ],
                    "exchangeFilters": [], "symbols": symbols
                }),
                headers_out,
            )
        }
        ("GET", "/api/v3/account") => respond(
            200,
            &json!({
                "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"},
                "canTrade": true, "canWithdraw": false, "canDeposit": false, "brokered": false,
                "requireSelfTradePrevention": false, "preventSor": false, "updateTime": now, "accountType": "SPOT",
                "balances": [{"asset": "BTC", "free": "10.00000000", "locked": "0.00000000"}, {"asset": "USDT", "free": "1000000.00000000", "locked": "0.00000000"}],
                "permissions": ["SPOT"], "uid": 1
            }),
            headers_out,
        ),
        ("POST", "/api/v3/order") => new_order_endpoint(state, &params, headers_out).await,
        ("DELETE", "/api/v3/order") => {
            let mut output = Output::default();
            let result = {
                let mut engine = state.lock_engine();
                let unknown = ApiError::bad(-2011, "Unknown order sent.");
                engine
                    .find(&params, "origClientOrderId", "orderId", &unknown)
                    .and_then(|position| {
                        let id = engine.cancel(
                            position,
                            params.get("newClientOrderId").map(String::as_str),
                            now,
                            &mut output,
                        )?;
                        Ok(engine.orders[position].cancel_json(&id, now))
                    })
            };
            state.publish(output);
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("GET", "/api/v3/order") => {
            let engine = state.lock_engine();
            let missing = ApiError::bad(-2013, "Order does not exist.");
            match engine.find(&params, "origClientOrderId", "orderId", &missing) {
                Ok(position) => respond(200, &engine.orders[position].query_json(), headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("GET", "/api/v3/openOrders") => {
            let engine = state.lock_engine();
            let symbol = params.get("symbol");
            let list: Vec<Value> = engine
                .orders
                .iter()
                .filter(|o| matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"))
                .filter(|o| symbol.is_none_or(|s| *s == o.symbol))
                .map(crate::TwinOrder::query_json)
                .collect();
            respond(200, &Value::Array(list), headers_out)
        }
        ("GET", "/api/v3/myTrades") => {
            let engine = state.lock_engine();
            let Some(symbol) = params.get("symbol") else {
                return error_response(
                    &ApiError::bad(
                        -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                    ),
                    headers_out,
                );
            };
            let order_id: Option<i64> = params.get("orderId").and_then(|v| v.parse().ok());
            let from_id: Option<i64> = params.get("fromId").and_then(|v| v.parse().ok());
            let limit: usize = params
                .get("limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(500)
                .min(1000);
            let list: Vec<Value> = engine
                .trades
                .iter()
                .filter(|t| &t.symbol == symbol)
                .filter(|t| order_id.is_none_or(|id| t.order_id == id))
                .filter(|t| from_id.is_none_or(|id| t.id >= id))
                .take(limit)
                .map(|t| json!({
                    "symbol": t.symbol, "id": t.id, "orderId": t.order_id, "orderListId": -1,
                    "price": fmt8(t.price), "qty": fmt8(t.qty), "quoteQty": fmt8(t.price * t.qty),
                    "commission": fmt8(t.commission), "commissionAsset": t.commission_asset,
                    "time": t.time, "isBuyer": t.is_buyer, "isMaker": t.is_maker, "isBestMatch": true
                }))
                .collect();
            respond(200, &Value::Array(list), headers_out)
        }
        ("PUT", "/api/v3/order/amend/keepPriority") => {
            let mut output = Output::default();
            let result = {
                let mut engine = state.lock_engine();
                let unknown = ApiError::bad(-2011, "Unknown order sent.");
                let qty = params.get("newQty").and_then(|q| q.parse::<Decimal>().ok());
                match qty {
                    None => Err(ApiError::bad(-1102, "Mandatory parameter 'newQty' was not sent, was empty/null, or malformed.")),
                    Some(qty) => engine.find(&params, "origClientOrderId", "orderId", &unknown).and_then(|position| {
                        let orig = engine.orders[position].client_order_id.clone();
                        engine.amend_keep_priority(position, params.get("newClientOrderId").map(String::as_str), qty, now, &mut output)?;
                        let o = &engine.orders[position];
                        Ok(json!({
                            "transactTime": now, "executionId": now,
                            "amendedOrder": {
                                "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
                                "origClientOrderId": orig, "clientOrderId": o.client_order_id,
                                "price": fmt8(o.price), "qty": fmt8(o.orig_qty), "executedQty": fmt8(o.executed_qty),
                                "preventedQty": fmt8(Decimal::ZERO), "quoteOrderQty": fmt8(Decimal::ZERO),
                                "cumulativeQuoteQty": fmt8(o.cum_quote), "status": o.status,
                                "timeInForce": o.time_in_force, "type": o.order_type,
                                "side": if o.side == tesser_core::Side::Buy { "BUY" } else { "SELL" },
                                "workingTime": o.time, "selfTradePreventionMode": "NONE"
                            }
                        }))
                    }),
                }
            };
            state.publish(output);
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("POST", "/api/v3/order/cancelReplace") => {
            let mut output = Output::default();
            let result = {
                let mut engine = state.lock_engine();
                let unknown = ApiError::bad(-2011, "Unknown order sent.");
                let cancel = engine
                    .find(
                        &params,
                        "cancelOrigClientOrderId",
                        "cancelOrderId",
                        &unknown,
                    )
                    .and_then(|position| {
                        let id = engine.cancel(
                            position,
                            params.get("cancelNewClientOrderId").map(String::as_str),
                            now,
                            &mut output,
                        )?;
                        Ok(engine.orders[position].cancel_json(&id, now))
                    });
                match cancel {
                    Err(error) => Err(ApiError {
                        status: 400,
                        code: -2022,
                        msg: "Order cancel-replace failed.".into(),
                        data: Some(
                            json!({"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": error.body(), "newOrderResponse": null}),
                        ),
                    }),
                    Ok(cancel_json) => match engine.new_order(&params, now, &mut output) {
                        Ok(position) => Ok(json!({
                            "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
                            "cancelResponse": cancel_json,
                            "newOrderResponse": engine.orders[position].new_order_json(params.get("newOrderRespType").map_or("FULL", String::as_str), now)
                        })),
                        Err(error) => Err(ApiError {
                            status: 409,
                            code: -2021,
                            msg: "Order cancel-replace partially failed.".into(),
                            data: Some(
                                json!({"cancelResult": "SUCCESS", "newOrderResult": "FAILURE", "cancelResponse": cancel_json, "newOrderResponse": error.body()}),
                            ),
                        }),
                    },
                }
            };
            state.publish(output);
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        _ => respond(
            404,
            &json!({"code": -1000, "msg": "An unknown error occurred while processing the request."}),
            headers_out,
        ),
    }
}

async fn new_order_endpoint(
    state: &Arc<State>,
    params: &HashMap<String, String>,
    headers_out: Vec<(String, String)>,
) -> Response {
    let (reject, delay, then_503) = {
        let mut faults = state.lock_faults();
        let reject = faults.reject_next_order.take();
        let delay = faults.delay_next_order.take();
        let then_503 = if faults.accept_then_503_next > 0 {
            faults.accept_then_503_next -= 1;
            true
        } else {
            false
        };
        (reject, delay, then_503)
    };
    if let Some((code, msg)) = reject {
        return error_response(&ApiError::bad(code, &msg), headers_out);
    }
    if let Some(delay) = delay {
        // The engine finishes the order even when the client gives up and
        // closes the connection (which cancels this handler), as a real
        // matching engine would.
        let task_state = Arc::clone(state);
        let task_params = params.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            delayed_order(&task_state, &task_params)
        });
        return match task.await {
            Ok((status, body)) => respond(status, &body, headers_out),
            Err(_) => respond(
                500,
                &json!({"code": -1000, "msg": "An unknown error occurred while processing the request."}),
                headers_out,
            ),
        };
    }
    let now = state.now_ms();
    let mut output = Output::default();
    let result = {
        let mut engine = state.lock_engine();
        engine.new_order(params, now, &mut output).map(|position| {
            engine.orders[position].new_order_json(
                params
                    .get("newOrderRespType")
                    .map_or("FULL", String::as_str),
                now,
            )
        })
    };
    state.publish(output);
    match result {
        Ok(_) if then_503 => respond(
            503,
            &json!({"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}),
            headers_out,
        ),
        Ok(body) => respond(200, &body, headers_out),
        Err(error) => error_response(&error, headers_out),
    }
}

/// Processes an order after an injected delay; returns the answer.
fn delayed_order(state: &State, params: &HashMap<String, String>) -> (u16, Value) {
    // The second half of the timing rule: still inside recvWindow?
    let timestamp: i64 = params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let window: i64 = params
        .get("recvWindow")
        .and_then(|t| t.parse().ok())
        .unwrap_or(5000);
    if state.now_ms() - timestamp > window {
        let error = ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        );
        return (error.status, error.body());
    }
    let now = state.now_ms();
    let mut output = Output::default();
    let result = {
        let mut engine = state.lock_engine();
        engine.new_order(params, now, &mut output).map(|position| {
            engine.orders[position].new_order_json(
                params
                    .get("newOrderRespType")
                    .map_or("FULL", String::as_str),
                now,
            )
        })
    };
    state.publish(output);
    match result {
        Ok(body) => (200, body),
        Err(error) => (error.status, error.body()),
    }
}

async fn ws_api_handler(
    AxumState(state): AxumState<Arc<State>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.lock_faults().refuse_user_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
    }
    upgrade.on_upgrade(move |socket| ws_api_conn(state, socket))
}

async fn ws_api_conn(state: Arc<State>, socket: WebSocket) {
    let id = state.next_conn.fetch_add(1, Ordering::SeqCst);
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    lock(&state.users).push(UserConn {
        id,
        sender: sender.clone(),
        subscription: None,
    });
    let mut kill = state.kill.subscribe();
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            signal = kill.recv() => {
                if matches!(signal, Ok("ws-api")) { break; }
            }
            outgoing = receiver.recv() => {
                let Some(text) = outgoing else { break };
                if sink.send(Message::Text(text.into())).await.is_err() { break; }
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let answer = ws_api_request(&state, id, &text);
                let _ = sender.send(answer.to_string());
            }
        }
    }
    lock(&state.users).retain(|conn| conn.id != id);
}

fn ws_api_request(state: &State, conn: u64, text: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return json!({"id": null, "status": 400, "error": {"code": -1135, "msg": "Invalid JSON Request"}});
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(map)) = request.get("params") {
        for (key, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            params.push((key.clone(), text));
        }
    }
    let index = state.record("ws-api", &method, "/ws-api/v3", params.clone());
    let fail = |error: ApiError| json!({"id": id, "status": error.status, "error": {"code": error.code, "msg": error.msg}});
    let answer = if method == "userDataStream.subscribe.signature" {
        let map: HashMap<String, String> = params.iter().cloned().collect();
        let mut sorted: Vec<&(String, String)> =
            params.iter().filter(|(k, _)| k != "signature").collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let payload = sorted
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let verified = state
            .verify(
                map.get("apiKey").map(String::as_str),
                &payload,
                map.get("signature").map(String::as_str),
            )
            .and_then(|()| state.check_time(&map));
        match verified {
            Err(error) => fail(error),
            Ok(()) => {
                let mut users = lock(&state.users);
                match users.iter_mut().find(|c| c.id == conn) {
                    Some(user) if user.subscription.is_some() => fail(ApiError::bad(
                        -2035,
                        "User Data Stream subscription already active.",
                    )),
                    Some(user) => {
                        let subscription = state.next_subscription.fetch_add(1, Ordering::SeqCst);
                        user.subscription = Some(subscription);
                        json!({"id": id, "status": 200, "result": {"subscriptionId": subscription}})
                    }
                    None => fail(ApiError::bad(
                        -1000,
                        "An unknown error occurred while processing the request.",
                    )),
                }
            }
        }
    } else {
        fail(ApiError::bad(-1020, "This operation is not supported."))
    };
    state.set_status(
        index,
        u16::try_from(answer["status"].as_u64().unwrap_or(0)).unwrap_or(0),
    );
    answer
}

async fn market_handler(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let pairs = parse_pairs(&query.unwrap_or_default());
    state.record("market", "GET", "/stream", pairs.clone());
    let streams: Vec<String> = pairs
        .iter()
        .find(|(k, _)| k == "streams")
        .map(|(_, v)| v.split('/').map(str::to_owned).collect())
        .unwrap_or_default();
    upgrade.on_upgrade(move |socket| market_conn(state, socket, streams))
}

async fn market_conn(state: Arc<State>, socket: WebSocket, streams: Vec<String>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    lock(&state.markets).push(MarketConn {
        sender: sender.clone(),
        streams,
    });
    let mut kill = state.kill.subscribe();
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            signal = kill.recv() => {
                if matches!(signal, Ok("market")) { break; }
            }
            outgoing = receiver.recv() => {
                let Some(text) = outgoing else { break };
                if sink.send(Message::Text(text.into())).await.is_err() { break; }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // SUBSCRIBE / UNSUBSCRIBE answer `{"result":null,"id":..}`.
                    let id = serde_json::from_str::<Value>(text.as_str()).ok().and_then(|v| v.get("id").cloned()).unwrap_or(Value::Null);
                    let _ = sender.send(json!({"result": null, "id": id}).to_string());
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    lock(&state.markets).retain(|conn| !conn.sender.same_channel(&sender));
}
