//! Connector settings: endpoints, timing and reconnect policy.

use std::time::Duration;

/// Where the venue is. Production and testnet values come from Binance's
/// docs; tests point every field at the twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base, without the `/api/v3/...` path
    /// (`rest-api.md`: `https://api.binance.com`).
    pub rest_base: String,
    /// WebSocket API URL (`web-socket-api.md`:
    /// `wss://ws-api.binance.com:443/ws-api/v3`).
    pub ws_api_url: String,
    /// Market stream base, without `/stream` or `/ws` (`web-socket-streams.md`:
    /// `wss://stream.binance.com:9443`).
    pub market_stream_base: String,
}

impl Endpoints {
    /// Binance Spot production.
    #[must_use]
    pub fn production() -> Self {
        Self {
            rest_base: "https://api.binance.com".into(),
            ws_api_url: "wss://ws-api.binance.com:443/ws-api/v3".into(),
            market_stream_base: "wss://stream.binance.com:9443".into(),
        }
    }

    /// Binance Spot testnet (`testnet/rest-api.md`: REST base
    /// `https://testnet.binance.vision/api`; `testnet/web-socket-api.md`:
    /// `wss://ws-api.testnet.binance.vision/ws-api/v3`;
    /// `testnet/web-socket-streams.md`: `wss://stream.testnet.binance.vision`).
    #[must_use]
    pub fn testnet() -> Self {
        Self {
            rest_base: "https://testnet.binance.vision".into(),
            ws_api_url: "wss://ws-api.testnet.binance.vision/ws-api/v3".into(),
            market_stream_base: "wss://stream.testnet.binance.vision".into(),
        }
    }
}

/// Settings of the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Venue name for logs.
    pub name: String,
    /// Endpoints.
    pub endpoints: Endpoints,
    /// Symbols traded (upper case, e.g. `BTCUSDT`). Order lookups by client id
    /// search these symbols.
    pub symbols: Vec<String>,
    /// `recvWindow` of signed requests, milliseconds (Binance's default is
    /// 5000; at most 60000).
    pub recv_window_ms: u64,
    /// Time allowed for one REST request, connect to last byte.
    pub request_timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Longest a request waits for a rate-limit window before failing.
    pub max_rate_limit_wait: Duration,
    /// First reconnect delay of the WebSocket tasks.
    pub reconnect_min: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// Reconnect the market stream after this long (Binance closes
    /// connections at 24 hours).
    pub market_reconnect_after: Duration,
    /// Reconnect the user data connection after this long.
    pub user_reconnect_after: Duration,
    /// A WebSocket connection that delivers no frame at all (no data, no
    /// ping, no pong) for this long is treated as dropped: reconnected,
    /// resubscribed and reconciled. Binance pings every 20 s and drops a
    /// client silent for a minute (`web-socket-api.md`,
    /// `web-socket-streams.md`), so a live connection is never this quiet.
    pub stale_after: Duration,
    /// How long to keep asking about an order whose placement outcome is
    /// unknown before giving up on it.
    pub settle_timeout: Duration,
    /// Most cancel-replace generations probed when an order is looked up by
    /// client id.
    pub max_generations: u32,
}

impl BinanceConfig {
    /// Settings for `endpoints` and `symbols` with the defaults.
    #[must_use]
    pub fn new(endpoints: Endpoints, symbols: Vec<String>) -> Self {
        Self {
            name: "binance-spot".into(),
            endpoints,
            symbols,
            recv_window_ms: 5000,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_rate_limit_wait: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(30),
            market_reconnect_after: Duration::from_secs(23 * 3600),
            user_reconnect_after: Duration::from_secs(23 * 3600),
            stale_after: Duration::from_secs(60),
            settle_timeout: Duration::from_secs(60),
            max_generations: 64,
        }
    }
}
