//! What the twin-backed test files share: a connector pointed at a twin, and
//! bounded waits for its events.
#![allow(dead_code)] // Each test file uses its own part.

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tesser_core::{ExchangeClient, ExchangeEvent, OrderRequest, OrderStatus, Side};
use tesser_venue_binance::{BinanceConfig, BinanceSpot, Credentials, Endpoints};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinVenue};

/// The twin's API key.
pub const KEY: &str = "twin-api-key";
/// Its HMAC secret.
pub const SECRET: &str = "twin-secret";

/// A connector configuration pointed at `twin`, with short timeouts.
pub fn config(twin: &TwinHandle) -> BinanceConfig {
    let mut config = BinanceConfig::new(
        Endpoints {
            rest_base: twin.rest_base().to_owned(),
            ws_api_url: twin.ws_api_url().to_owned(),
            market_stream_base: twin.market_base().to_owned(),
        },
        vec!["BTCUSDT".into()],
    );
    config.request_timeout = Duration::from_millis(1500);
    config.reconnect_min = Duration::from_millis(50);
    config.reconnect_max = Duration::from_millis(200);
    config.max_rate_limit_wait = Duration::from_secs(3);
    config.recv_window_ms = 5000;
    config
}

/// A twin and a connector subscribed to its user data stream.
pub fn start() -> (TwinHandle, BinanceSpot) {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let venue = BinanceSpot::connect(config(&twin), Credentials::hmac(KEY, SECRET)).unwrap();
    assert!(venue.wait_subscribed(1, Duration::from_secs(5)));
    (twin, venue)
}

/// A limit buy of `qty` BTCUSDT at `price`.
pub fn buy(id: &str, qty: Decimal, price: Decimal) -> OrderRequest {
    OrderRequest::limit(id, "BTCUSDT", Side::Buy, qty, price)
}

/// Polls events until `done` holds for the collected list, or 5 s pass.
pub fn collect(
    venue: &mut BinanceSpot,
    done: impl Fn(&[ExchangeEvent]) -> bool,
) -> Vec<ExchangeEvent> {
    collect_within(venue, Duration::from_secs(5), done)
}

/// Polls events until `done` holds for the collected list, or `timeout`
/// passes.
pub fn collect_within(
    venue: &mut BinanceSpot,
    timeout: Duration,
    done: impl Fn(&[ExchangeEvent]) -> bool,
) -> Vec<ExchangeEvent> {
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        venue.poll_events(&mut events);
        if done(&events) {
            return events;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    events
}

/// Waits until `condition` holds, for at most `timeout`; panics naming
/// `what` otherwise.
pub fn wait_until(what: &str, timeout: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A twin built from `twin_config` and a connector from [`config`] changed by
/// `tweak`, subscribed to its user data stream.
pub fn start_with(
    twin_config: TwinConfig,
    tweak: impl FnOnce(&mut BinanceConfig),
) -> (TwinHandle, BinanceSpot) {
    let twin = TwinVenue::start(twin_config).unwrap();
    let mut connector = config(&twin);
    tweak(&mut connector);
    let venue = BinanceSpot::connect(connector, Credentials::hmac(KEY, SECRET)).unwrap();
    assert!(venue.wait_subscribed(1, Duration::from_secs(5)));
    (twin, venue)
}

/// The fills among `events`.
pub fn fills(events: &[ExchangeEvent]) -> Vec<&tesser_core::Fill> {
    events
        .iter()
        .filter_map(|e| match e {
            ExchangeEvent::Fill(fill) => Some(fill),
            ExchangeEvent::OrderUpdate(_)
            | ExchangeEvent::Settled(_)
            | ExchangeEvent::Balances(_) => None,
        })
        .collect()
}

/// The last status reported for `id`.
pub fn last_status(events: &[ExchangeEvent], id: &str) -> Option<OrderStatus> {
    events.iter().rev().find_map(|e| match e {
        ExchangeEvent::OrderUpdate(u) if u.client_order_id.as_str() == id => Some(u.status),
        ExchangeEvent::Settled(o) if o.request.client_order_id.as_str() == id => Some(o.status),
        _ => None,
    })
}
