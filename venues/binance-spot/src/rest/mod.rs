//! The REST client (`rest-api.md`): signed with [`Credentials`], or
//! [public](RestClient::public) without keys (a signed call is then refused
//! before anything is sent).
//!
//! * Every signed request carries `timestamp` (local clock + the measured
//!   server offset) and `recvWindow`, and is signed over its query string.
//!   Parameters are sent in the query string, which the docs allow for every
//!   method.
//! * The server-time offset is measured at start ([`RestClient::sync_time`])
//!   and again after a `-1021` answer: one re-sync and one retry per request.
//! * Rate limits: the `X-MBX-USED-WEIGHT-1M` and `X-MBX-ORDER-COUNT-10S/1D`
//!   headers are tracked against the limits of `exchangeInfo.rateLimits`; a
//!   request that would exceed one waits for the window (up to
//!   `max_rate_limit_wait`) or fails unsent. A 429 blocks requests for its
//!   `Retry-After`; a 418 stops all requests until the ban ends and is logged
//!   loudly.
//! * Outcomes are classified: a venue error code is a rejection, except
//!   `-1006`/`-1007`; timeouts, 5xx, `-1006`, `-1007` and malformed success
//!   bodies are ambiguous (see [`BinanceError`]).

mod limits;
mod outcome;

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use rust_decimal::Decimal;

use crate::config::BinanceConfig;
use crate::error::{BinanceError, INVALID_TIMESTAMP, NO_SUCH_ORDER};
use crate::model::{
    AccountInfo, AmendResponse, ApiErrorBody, CancelReplaceFailure, CancelReplaceResponse,
    ExchangeInfo, MyTrade, OrderResponse, ServerTime,
};
use crate::sign::{Credentials, rest_query};

pub(crate) use limits::OrderCount;
use limits::{block_of, default_limits, waits_of};
pub(crate) use outcome::HTTP_401_NO_BODY;
use outcome::{Effect, api_code, classify_api, parse, transport_reason, truncate, without_url};
use tesser_venue_kit::rate_limit::Limits;

/// Trades per `myTrades` request: the venue's maximum (`rest-api.md`,
/// "Account trade list": default 500, maximum 1000).
pub const MY_TRADES_PAGE: usize = 1000;

/// Whether a request carries the API key and a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// A public endpoint: no key, no signature.
    Public,
    /// A signed endpoint (`timestamp`, `recvWindow`, `signature`).
    Signed,
}

/// Milliseconds since the Unix epoch on the local clock.
#[must_use]
pub fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// A decimal as Binance reads it: plain digits, no exponent, no trailing
/// zeros.
#[must_use]
pub fn decimal_param(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A new order (`POST /api/v3/order`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Symbol.
    pub symbol: String,
    /// `BUY` or `SELL`.
    pub side: &'static str,
    /// Order type (`LIMIT`, `MARKET`, `LIMIT_MAKER`, `STOP_LOSS`, …).
    pub order_type: &'static str,
    /// Time in force, for the types that take one.
    pub time_in_force: Option<&'static str>,
    /// Quantity.
    pub quantity: Decimal,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Client order id (already a legal venue id).
    pub client_order_id: String,
}

impl NewOrder {
    fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("symbol".to_owned(), self.symbol.clone()),
            ("side".to_owned(), self.side.to_owned()),
            ("type".to_owned(), self.order_type.to_owned()),
        ];
        if let Some(tif) = self.time_in_force {
            params.push(("timeInForce".to_owned(), tif.to_owned()));
        }
        params.push(("quantity".to_owned(), decimal_param(self.quantity)));
        if let Some(price) = self.price {
            params.push(("price".to_owned(), decimal_param(price)));
        }
        if let Some(stop) = self.stop_price {
            params.push(("stopPrice".to_owned(), decimal_param(stop)));
        }
        params.push(("newClientOrderId".to_owned(), self.client_order_id.clone()));
        params.push(("newOrderRespType".to_owned(), "FULL".to_owned()));
        params
    }
}

/// How an order is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// By client order id (`origClientOrderId`).
    ClientId(String),
    /// By venue order id (`orderId`).
    OrderId(i64),
}

impl OrderRef {
    fn param(&self, client_name: &str) -> (String, String) {
        match self {
            Self::ClientId(id) => (client_name.to_owned(), id.clone()),
            Self::OrderId(id) => ("orderId".to_owned(), id.to_string()),
        }
    }
}

/// The outcome of a cancel-replace that did not fully succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelReplaceError {
    /// `-2021`/`-2022` with the documented `data` of both halves.
    Failed {
        /// The error.
        error: ApiErrorBody,
        /// The halves.
        data: Option<CancelReplaceFailure>,
    },
    /// Any other failure.
    Other(BinanceError),
}

/// The REST client: signed requests with credentials, public ones with or
/// without. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    recv_window_ms: u64,
    max_wait: Duration,
    offset_ms: AtomicI64,
    limits: Mutex<Limits>,
}

enum Raw {
    Ok(String),
    Api { status: u16, body: String },
}

impl RestClient {
    /// A client for `config`'s REST base that signs with `credentials`.
    ///
    /// # Errors
    /// [`BinanceError::Config`] when the HTTP client cannot be built.
    pub fn new(config: &BinanceConfig, credentials: Credentials) -> Result<Self, BinanceError> {
        Self::build(config, Some(credentials))
    }

    /// A client without keys, for public endpoints only (`/api/v3/time`,
    /// `/api/v3/exchangeInfo`); a signed request fails with
    /// [`BinanceError::Config`] and is never sent.
    ///
    /// # Errors
    /// [`BinanceError::Config`] when the HTTP client cannot be built.
    pub fn public(config: &BinanceConfig) -> Result<Self, BinanceError> {
        Self::build(config, None)
    }

    fn build(
        config: &BinanceConfig,
        credentials: Option<Credentials>,
    ) -> Result<Self, BinanceError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|error| BinanceError::Config(format!("HTTP client: {error}")))?;
        Ok(Self {
            http,
            base: config.endpoints.rest_base.trim_end_matches('/').to_owned(),
            credentials,
            recv_window_ms: config.recv_window_ms,
            max_wait: config.max_rate_limit_wait,
            offset_ms: AtomicI64::new(0),
            limits: Mutex::new(default_limits()),
        })
    }

    /// The credentials; `None` for a [public](RestClient::public) client.
    #[must_use]
    pub const fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The REST base URL (no trailing `/`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The `recvWindow` sent with signed requests.
    #[must_use]
    pub const fn recv_window_ms(&self) -> u64 {
        self.recv_window_ms
    }

    /// Server time now, by the local clock and the measured offset.
    #[must_use]
    pub fn server_now_ms(&self) -> i64 {
        local_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The measured offset, server minus local, milliseconds.
    #[must_use]
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// `GET /api/v3/time`.
    ///
    /// # Errors
    /// Any [`BinanceError`].
    pub async fn server_time(&self) -> Result<i64, BinanceError> {
        let body = self
            .send(
                Method::GET,
                "/api/v3/time",
                Vec::new(),
                Auth::Public,
                1,
                OrderCount::Uncounted,
            )
            .await?;
        parse::<ServerTime>(&body, Effect::ReadOnly).map(|time| time.server_time)
    }

    /// Measures the server-time offset (midpoint of the round trip).
    ///
    /// # Errors
    /// Any [`BinanceError`] of `GET /api/v3/time`.
    pub async fn sync_time(&self) -> Result<i64, BinanceError> {
        let before = local_now_ms();
        let server = self.server_time().await?;
        let after = local_now_ms();
        let offset = server - (before + after) / 2;
        self.offset_ms.store(offset, Ordering::Relaxed);
        tracing::debug!(offset_ms = offset, "synchronised with the server clock");
        Ok(offset)
    }

    /// `GET /api/v3/exchangeInfo?symbol=`.
    ///
    /// # Errors
    /// Any [`BinanceError`].
    pub async fn exchange_info(&self, symbol: &str) -> Result<ExchangeInfo, BinanceError> {
        let params = vec![("symbol".to_owned(), symbol.to_owned())];
        let body = self
            .send(
                Method::GET,
                "/api/v3/exchangeInfo",
                params,
                Auth::Public,
                20,
                OrderCount::Uncounted,
            )
            .await?;
        parse(&body, Effect::ReadOnly)
    }

    /// `GET /api/v3/account`.
    ///
    /// # Errors
    /// Any [`BinanceError`].
    pub async fn account(&self) -> Result<AccountInfo, BinanceError> {
        let body = self
            .signed(
                Method::GET,
                "/api/v3/account",
                Vec::new(),
                20,
                OrderCount::Uncounted,
            )
            .await?;
        parse(&body, Effect::ReadOnly)
    }

    /// `POST /api/v3/order` with `newOrderRespType=FULL`.
    ///
    /// # Errors
    /// [`BinanceError::Rejected`] for a refusal; [`BinanceError::Ambiguous`]
    /// when the order may exist.
    pub async fn new_order(&self, order: &NewOrder) -> Result<OrderResponse, BinanceError> {
        let body = self
            .signed(
                Method::POST,
                "/api/v3/order",
                order.params(),
                1,
                OrderCount::Counted,
            )
            .await?;
        parse(&body, Effect::Changes)
    }

    /// `DELETE /api/v3/order`.
    ///
    /// # Errors
    /// [`BinanceError::Rejected`] (e.g. `-2011` unknown order) or
    /// [`BinanceError::Ambiguous`].
    pub async fn cancel_order(
        &self,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<OrderResponse, BinanceError> {
        let params = vec![
            ("symbol".to_owned(), symbol.to_owned()),
            order.param("origClientOrderId"),
        ];
        let body = self
            .signed(
                Method::DELETE,
                "/api/v3/order",
                params,
                1,
                OrderCount::Uncounted,
            )
            .await?;
        parse(&body, Effect::Changes)
    }

    /// `GET /api/v3/order`; `None` for `-2013` (no such order).
    ///
    /// # Errors
    /// Any other [`BinanceError`].
    pub async fn query_order(
        &self,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<Option<OrderResponse>, BinanceError> {
        let params = vec![
            ("symbol".to_owned(), symbol.to_owned()),
            order.param("origClientOrderId"),
        ];
        match self
            .signed(
                Method::GET,
                "/api/v3/order",
                params,
                4,
                OrderCount::Uncounted,
            )
            .await
        {
            Ok(body) => parse(&body, Effect::ReadOnly).map(Some),
            Err(BinanceError::Rejected(body)) if body.code == NO_SUCH_ORDER => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GET /api/v3/openOrders?symbol=`.
    ///
    /// # Errors
    /// Any [`BinanceError`].
    pub async fn open_orders(&self, symbol: &str) -> Result<Vec<OrderResponse>, BinanceError> {
        let params = vec![("symbol".to_owned(), symbol.to_owned())];
        let body = self
            .signed(
                Method::GET,
                "/api/v3/openOrders",
                params,
                6,
                OrderCount::Uncounted,
            )
            .await?;
        parse(&body, Effect::ReadOnly)
    }

    /// `GET /api/v3/myTrades`: every trade of `symbol` (of one order, with
    /// `order_id`) from trade id `from_id` on, or from the first without it,
    /// in trade id order.
    ///
    /// One request returns at most [`MY_TRADES_PAGE`] trades, and without
    /// `fromId` the venue answers with the most recent ones. So this always
    /// sends `fromId` (0 for an order's first trade) and asks again from the
    /// last id + 1 while a page comes back full: an order with more trades
    /// than a page, or a long gap in the user stream, loses none of them.
    ///
    /// # Errors
    /// Any [`BinanceError`] of any page; the pages read before it are lost
    /// with it, and the caller asks again.
    pub async fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        order_id: Option<i64>,
    ) -> Result<Vec<MyTrade>, BinanceError> {
        let mut trades: Vec<MyTrade> = Vec::new();
        let mut cursor = from_id.unwrap_or(0);
        let weight = if order_id.is_some() { 5 } else { 20 };
        loop {
            let mut params = vec![("symbol".to_owned(), symbol.to_owned())];
            if let Some(order_id) = order_id {
                params.push(("orderId".to_owned(), order_id.to_string()));
            }
            params.push(("fromId".to_owned(), cursor.to_string()));
            params.push(("limit".to_owned(), MY_TRADES_PAGE.to_string()));
            let body = self
                .signed(
                    Method::GET,
                    "/api/v3/myTrades",
                    params,
                    weight,
                    OrderCount::Uncounted,
                )
                .await?;
            let page: Vec<MyTrade> = parse(&body, Effect::ReadOnly)?;
            let full = page.len() >= MY_TRADES_PAGE;
            // The next page starts after this one's last trade; a venue
            // answering with ids that do not move forward ends the walk
            // rather than asking for the same page forever.
            let next = page.iter().map(|trade| trade.id.saturating_add(1)).max();
            trades.extend(page);
            match next {
                Some(next) if full && next > cursor => cursor = next,
                _ => break,
            }
        }
        Ok(trades)
    }

    /// `PUT /api/v3/order/amend/keepPriority`: lowers an order's quantity,
    /// keeping its client id and queue place.
    ///
    /// # Errors
    /// [`BinanceError::Rejected`] or [`BinanceError::Ambiguous`].
    pub async fn amend_keep_priority(
        &self,
        symbol: &str,
        client_order_id: &str,
        new_quantity: Decimal,
    ) -> Result<AmendResponse, BinanceError> {
        let params = vec![
            ("symbol".to_owned(), symbol.to_owned()),
            ("origClientOrderId".to_owned(), client_order_id.to_owned()),
            ("newClientOrderId".to_owned(), client_order_id.to_owned()),
            ("newQty".to_owned(), decimal_param(new_quantity)),
        ];
        let body = self
            .signed(
                Method::PUT,
                "/api/v3/order/amend/keepPriority",
                params,
                4,
                OrderCount::Uncounted,
            )
            .await?;
        parse(&body, Effect::Changes)
    }

    /// `POST /api/v3/order/cancelReplace` with `STOP_ON_FAILURE` and
    /// `cancelRestrictions=ONLY_NEW`: cancels `cancel_client_id` and places
    /// `order`, but only while the old order has no fill at all. The
    /// replacement is sized on the old order's fills, and a fill racing the
    /// request would otherwise make it too large; with the restriction the
    /// venue refuses instead (`-2022` whose cancel half is `-2011`).
    ///
    /// # Errors
    /// [`CancelReplaceError::Failed`] for `-2021`/`-2022` (with both halves),
    /// [`CancelReplaceError::Other`] otherwise.
    pub async fn cancel_replace(
        &self,
        cancel_client_id: &str,
        order: &NewOrder,
    ) -> Result<CancelReplaceResponse, CancelReplaceError> {
        let mut params = order.params();
        params.push(("cancelReplaceMode".to_owned(), "STOP_ON_FAILURE".to_owned()));
        params.push(("cancelRestrictions".to_owned(), "ONLY_NEW".to_owned()));
        params.push((
            "cancelOrigClientOrderId".to_owned(),
            cancel_client_id.to_owned(),
        ));
        match self
            .signed_raw(
                Method::POST,
                "/api/v3/order/cancelReplace",
                params,
                1,
                OrderCount::Counted,
            )
            .await
        {
            Ok(Raw::Ok(body)) => parse(&body, Effect::Changes).map_err(CancelReplaceError::Other),
            Ok(Raw::Api { status, body }) => {
                #[derive(serde::Deserialize)]
                struct WithData {
                    code: i64,
                    msg: String,
                    #[serde(default)]
                    data: Option<CancelReplaceFailure>,
                }
                match serde_json::from_str::<WithData>(&body) {
                    Ok(with) if matches!(with.code, -2021 | -2022) => {
                        Err(CancelReplaceError::Failed {
                            error: ApiErrorBody {
                                code: with.code,
                                msg: with.msg,
                            },
                            data: with.data,
                        })
                    }
                    _ => Err(CancelReplaceError::Other(classify_api(status, &body))),
                }
            }
            Err(error) => Err(CancelReplaceError::Other(error)),
        }
    }

    /// A signed request; `-1021` triggers one time re-sync and one retry.
    async fn signed(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        weight: u64,
        orders: OrderCount,
    ) -> Result<String, BinanceError> {
        match self
            .signed_raw(method, path, params, weight, orders)
            .await?
        {
            Raw::Ok(body) => Ok(body),
            Raw::Api { status, body } => Err(classify_api(status, &body)),
        }
    }

    async fn signed_raw(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        weight: u64,
        orders: OrderCount,
    ) -> Result<Raw, BinanceError> {
        let first = self
            .send_raw(
                method.clone(),
                path,
                params.clone(),
                Auth::Signed,
                weight,
                orders,
            )
            .await?;
        if let Raw::Api { body, .. } = &first
            && api_code(body) == Some(INVALID_TIMESTAMP)
        {
            tracing::warn!(
                path,
                "timestamp outside recvWindow (-1021): re-syncing the clock once and retrying"
            );
            self.sync_time().await?;
            return self
                .send_raw(method, path, params, Auth::Signed, weight, orders)
                .await;
        }
        Ok(first)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        auth: Auth,
        weight: u64,
        orders: OrderCount,
    ) -> Result<String, BinanceError> {
        match self
            .send_raw(method, path, params, auth, weight, orders)
            .await?
        {
            Raw::Ok(body) => Ok(body),
            Raw::Api { status, body } => Err(classify_api(status, &body)),
        }
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        mut params: Vec<(String, String)>,
        auth: Auth,
        weight: u64,
        orders: OrderCount,
    ) -> Result<Raw, BinanceError> {
        let credentials = match (&self.credentials, auth) {
            (Some(credentials), Auth::Signed) => Some(credentials),
            (None, Auth::Signed) => {
                return Err(BinanceError::Config(format!(
                    "{path} is a signed endpoint and this client has no API key"
                )));
            }
            (_, Auth::Public) => None,
        };
        self.admit(weight, orders, waits_of(&method, path)).await?;
        if auth == Auth::Signed {
            params.push(("timestamp".to_owned(), self.server_now_ms().to_string()));
            params.push(("recvWindow".to_owned(), self.recv_window_ms.to_string()));
        }
        let mut query = rest_query(&params);
        if let Some(credentials) = credentials {
            let signature = credentials.sign(&query);
            query.push_str("&signature=");
            query.push_str(&crate::sign::encode_value(&signature));
        }
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        let mut request = self.http.request(method, url);
        if let Some(credentials) = credentials {
            request = request.header("X-MBX-APIKEY", credentials.api_key().expose());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if error.is_connect() => {
                return Err(BinanceError::Unreachable {
                    url: format!("{}{path}", self.base),
                    reason: transport_reason(&error),
                });
            }
            Err(error) if error.is_timeout() => {
                return Err(BinanceError::Ambiguous(format!(
                    "{path}: request timed out"
                )));
            }
            Err(error) => {
                return Err(BinanceError::Ambiguous(format!(
                    "{path}: transport error: {}",
                    without_url(&error)
                )));
            }
        };
        let status = response.status().as_u16();
        self.record_headers(response.headers());
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.text().await {
            Ok(body) => body,
            Err(error) if status == 200 => {
                return Err(BinanceError::Ambiguous(format!(
                    "{path}: success body unreadable: {}",
                    without_url(&error)
                )));
            }
            Err(_) => String::new(),
        };
        match status {
            200 => Ok(Raw::Ok(body)),
            429 => {
                let retry_after = retry_after.unwrap_or(Duration::from_secs(1));
                let code = api_code(&body);
                self.lock_limits()
                    .block(block_of(code), Instant::now() + retry_after);
                tracing::warn!(path, ?code, ?retry_after, "rate limited (429): backing off");
                Err(BinanceError::RateLimited { retry_after })
            }
            418 => {
                let retry_after = retry_after.unwrap_or(Duration::from_secs(120));
                self.lock_limits().ban(Instant::now() + retry_after);
                tracing::error!(
                    path,
                    ?retry_after,
                    "IP BANNED by Binance (418): all requests stop until the ban ends"
                );
                Err(BinanceError::Banned { retry_after })
            }
            500..=599 => Err(BinanceError::Ambiguous(format!(
                "{path}: HTTP {status}: {}",
                truncate(&body)
            ))),
            _ => Ok(Raw::Api { status, body }),
        }
    }
}
