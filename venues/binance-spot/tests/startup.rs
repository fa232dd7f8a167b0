//! Start-up, the keyless venue, the market feed and the venue check against
//! the twin's combined port (one base URL, as the CLI derives it). Every
//! wait is bounded.

use std::time::{Duration, Instant};

use rust_decimal_macros::dec;
use tesser_core::{BookLevel, FeedEvent, MarketFeed, OrderRequest, Side, Tick};
use tesser_venue_binance::rest::{RestClient, local_now_ms};
use tesser_venue_binance::{
    BinanceConfig, BinanceError, BinancePublic, BinanceSpot, Credentials, Endpoints, StartupError,
    check,
};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinVenue};

const KEY: &str = "startup-api-key";
const SECRET: &str = "startup-secret";

/// Endpoints from one base URL, the way the CLI derives them.
fn endpoints(base: &str) -> Endpoints {
    let ws = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    Endpoints {
        rest_base: base.to_owned(),
        ws_api_url: format!("{ws}/ws-api/v3"),
        market_stream_base: ws,
    }
}

fn config_for(base: &str, symbol: &str) -> BinanceConfig {
    let mut config = BinanceConfig::new(endpoints(base), vec![symbol.into()]);
    config.request_timeout = Duration::from_millis(1500);
    config.connect_timeout = Duration::from_millis(1500);
    config.reconnect_min = Duration::from_millis(50);
    config.reconnect_max = Duration::from_millis(200);
    config
}

fn config(twin: &TwinHandle) -> BinanceConfig {
    config_for(twin.base_url(), "BTCUSDT")
}

fn twin_with_trades() -> TwinHandle {
    let mut twin_config = TwinConfig::hmac(KEY, SECRET);
    for (i, price) in [dec!(100.25), dec!(100.5), dec!(100.75)]
        .into_iter()
        .enumerate()
    {
        twin_config.trades.push(Tick {
            symbol: "BTCUSDT".into(),
            price,
            size: dec!(0.5),
            aggressor: Some(Side::Buy),
            timestamp_ms: 1_700_000_000_000 + i64::try_from(i).unwrap(),
        });
    }
    TwinVenue::start(twin_config).unwrap()
}

fn wait_market(twin: &TwinHandle, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while twin.market_connections() != count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(twin.market_connections(), count);
}

fn next(feed: &mut impl MarketFeed) -> FeedEvent {
    feed.next_event(Duration::from_secs(5))
        .unwrap()
        .expect("no feed event within 5 s")
}

fn startup_error(result: Result<impl std::fmt::Debug, BinanceError>) -> StartupError {
    match result {
        Err(BinanceError::Startup(error)) => error,
        other => panic!("expected a start-up error, got {other:?}"),
    }
}

#[test]
fn public_venue_needs_no_keys_and_feeds_trades_and_reconnects() {
    let twin = twin_with_trades();
    let public = BinancePublic::connect(config(&twin)).unwrap();
    assert_eq!(public.instrument("BTCUSDT").unwrap().tick_size, dec!(0.01));
    assert_eq!(public.instrument("BTCUSDT").unwrap().min_notional, dec!(1));
    assert!(public.clock_offset_ms().abs() < 1000);
    let mut feed = public.market_feed();
    assert_eq!(feed.name(), "binance-spot BTCUSDT@trade+bookTicker");
    // Nothing yet: a short wait returns None.
    assert_eq!(feed.next_event(Duration::from_millis(20)), Ok(None));
    wait_market(&twin, 1);
    assert_eq!(twin.play(1), 1);
    let FeedEvent::Trade(tick) = next(&mut feed) else {
        panic!("not a trade")
    };
    assert_eq!(
        (tick.symbol.as_str(), tick.price, tick.size),
        ("BTCUSDT", dec!(100.25), dec!(0.5))
    );
    // The book ticker is a quote, stamped on arrival on the venue's clock.
    let before = local_now_ms() + public.clock_offset_ms();
    twin.book_ticker("BTCUSDT", dec!(100.2), dec!(3), dec!(100.3), dec!(0.25));
    let FeedEvent::Quote(quote) = next(&mut feed) else {
        panic!("not a quote")
    };
    assert_eq!(quote.symbol.as_str(), "BTCUSDT");
    assert_eq!(quote.bid, BookLevel::new(dec!(100.2), dec!(3)));
    assert_eq!(quote.ask, BookLevel::new(dec!(100.3), dec!(0.25)));
    assert!(
        (quote.timestamp_ms - before).abs() < 1_000,
        "stamped {} against the venue's {before}",
        quote.timestamp_ms
    );
    // A drop: the feed reconnects and says so, then trades flow again.
    twin.drop_market_connections();
    let event = next(&mut feed);
    assert!(
        matches!(
            event,
            FeedEvent::Reconnected {
                connection: 2,
                gap_ms: Some(_)
            }
        ),
        "{event:?}"
    );
    wait_market(&twin, 1);
    assert_eq!(twin.play(1), 1);
    assert!(matches!(next(&mut feed), FeedEvent::Trade(t) if t.price == dec!(100.5)));
    // No key was ever used, and no order, query or account endpoint called.
    assert_eq!(twin.signed_requests(), 0, "{:?}", twin.requests());
    assert_eq!(twin.order_endpoint_calls(), 0, "{:?}", twin.requests());
    assert_eq!(twin.count("GET", "/api/v3/time"), 1);
    assert_eq!(twin.count("GET", "/api/v3/exchangeInfo"), 1);
    // Dropping the feed closes its connection.
    drop(feed);
    wait_market(&twin, 0);
}

#[test]
fn a_public_rest_client_refuses_signed_requests_without_sending() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rest = runtime
        .block_on(async { RestClient::public(&config(&twin)) })
        .unwrap();
    assert!(rest.credentials().is_none());
    let error = runtime.block_on(rest.account()).unwrap_err();
    assert!(
        matches!(&error, BinanceError::Config(m) if m.contains("/api/v3/account")),
        "{error:?}"
    );
    assert!(error.is_definite_failure());
    assert!(runtime.block_on(rest.server_time()).is_ok());
    assert_eq!(twin.count("GET", "/api/v3/account"), 0);
}

#[test]
fn connect_verifies_the_key_and_exposes_account_and_feed() {
    let twin = twin_with_trades();
    let mut venue = BinanceSpot::connect(config(&twin), Credentials::hmac(KEY, SECRET)).unwrap();
    assert_eq!(twin.count("GET", "/api/v3/account"), 1);
    let account = venue.account().unwrap();
    assert!(account.can_trade && !account.can_withdraw && !account.can_deposit);
    assert_eq!(account.permissions, vec!["SPOT".to_owned()]);
    assert_eq!(account.account_type.as_deref(), Some("SPOT"));
    // The user data stream works over the combined port.
    assert!(venue.wait_subscribed(1, Duration::from_secs(5)));
    let mut feed = venue.market_feed();
    wait_market(&twin, 1);
    twin.play(1);
    assert!(matches!(next(&mut feed), FeedEvent::Trade(t) if t.price == dec!(100.25)));
    use tesser_core::ExchangeClient as _;
    venue
        .place_order(
            OrderRequest::limit("s-1", "BTCUSDT", Side::Buy, dec!(1), dec!(90)),
            0,
        )
        .unwrap();
    assert!(twin.order_endpoint_calls() >= 3, "{:?}", twin.requests());
    // The feed outlives the connector: it keeps the runtime.
    drop(venue);
    twin.play(1);
    assert!(matches!(next(&mut feed), FeedEvent::Trade(t) if t.price == dec!(100.5)));
}

#[test]
fn a_wrong_secret_or_key_fails_start_up_with_the_key_message() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let error = startup_error(BinanceSpot::connect(
        config(&twin),
        Credentials::hmac(KEY, "not-the-secret"),
    ));
    assert!(
        matches!(
            &error,
            StartupError::KeyRefused {
                code: Some(-1022),
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("binance-spot refused the API key (-1022 Signature for this request is not valid.); check TESSER_BINANCE_API_KEY"),
        "{text}"
    );
    assert!(!text.contains("not-the-secret") && !text.contains(KEY) && !text.contains('\n'));
    let error = startup_error(BinanceSpot::connect(
        config(&twin),
        Credentials::hmac("someone-else", SECRET),
    ));
    assert_eq!(
        error.to_string(),
        "binance-spot refused the API key (-2015 Invalid API-key, IP, or permissions for action.); check TESSER_BINANCE_API_KEY and TESSER_BINANCE_API_SECRET (or TESSER_BINANCE_PRIVATE_KEY_FILE), the key's IP whitelist, and that it is a key for this endpoint (testnet keys only work with --testnet)"
    );
    // Start-up stopped before the user data stream.
    assert_eq!(twin.user_subscriptions(), 0);
    assert_eq!(
        twin.count("userDataStream.subscribe.signature", "/ws-api/v3"),
        0
    );
}

#[test]
fn an_unlisted_symbol_fails_start_up_with_the_symbol_message() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let expected = "binance-spot does not list symbol NOPE (exchangeInfo: -1121 Invalid symbol.); check the symbol in the strategy config";
    let config = config_for(twin.base_url(), "NOPE");
    let error = startup_error(BinanceSpot::connect(
        config.clone(),
        Credentials::hmac(KEY, SECRET),
    ));
    assert_eq!(error.to_string(), expected);
    let error = startup_error(BinancePublic::connect(config));
    assert_eq!(error.to_string(), expected);
}

#[test]
fn an_unreachable_endpoint_fails_start_up_with_the_endpoint_message() {
    let expected = "cannot reach binance-spot at http://127.0.0.1:1 (GET /api/v3/time): connection refused; check the endpoint (--endpoint or [venues.binance-spot] rest_url) and your network";
    let config = config_for("http://127.0.0.1:1", "BTCUSDT");
    let error = startup_error(BinanceSpot::connect(
        config.clone(),
        Credentials::hmac(KEY, SECRET),
    ));
    assert_eq!(error.to_string(), expected);
    assert_eq!(
        startup_error(BinancePublic::connect(config.clone())).to_string(),
        expected
    );
    assert_eq!(
        startup_error(check(
            config,
            Some(Credentials::hmac(KEY, SECRET)),
            "BTCUSDT"
        ))
        .to_string(),
        expected
    );
}

#[test]
fn check_reports_rules_and_the_account_read_only() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    // Without keys: time and rules only, nothing signed.
    let report = check(config(&twin), None, "BTCUSDT").unwrap();
    assert_eq!(report.venue, "binance-spot");
    assert_eq!(report.rest_url, twin.base_url());
    assert!(report.clock_offset_ms.abs() < 1000);
    assert!(report.server_time_ms > 1_600_000_000_000);
    let rules = report.symbol.unwrap();
    assert_eq!(
        (
            rules.status.as_str(),
            rules.base_asset.as_str(),
            rules.quote_asset.as_str()
        ),
        ("TRADING", "BTC", "USDT")
    );
    assert_eq!(
        (
            rules.tick_size,
            rules.step_size,
            rules.min_qty,
            rules.min_notional
        ),
        (dec!(0.01), dec!(0.001), dec!(0.001), dec!(1))
    );
    assert!(rules.cancel_replace_allowed && rules.amend_allowed);
    assert!(report.account.is_none());
    assert_eq!(twin.signed_requests(), 0);
    // With keys: the account too.
    let report = check(
        config(&twin),
        Some(Credentials::hmac(KEY, SECRET)),
        "BTCUSDT",
    )
    .unwrap();
    let account = report.account.unwrap().unwrap();
    assert!(account.can_trade && !account.can_withdraw && !account.can_deposit);
    assert_eq!(account.permissions, vec!["SPOT".to_owned()]);
    let balances: Vec<(&str, _, _)> = account
        .balances
        .iter()
        .map(|b| (b.asset.as_str(), b.free, b.locked))
        .collect();
    assert_eq!(
        balances,
        vec![("BTC", dec!(10), dec!(0)), ("USDT", dec!(1000000), dec!(0))]
    );
    // A refused key and an unlisted symbol do not abort the check.
    let report = check(
        config(&twin),
        Some(Credentials::hmac("someone-else", SECRET)),
        "NOPE",
    )
    .unwrap();
    assert!(
        matches!(
            report.symbol,
            Err(BinanceError::Startup(StartupError::UnknownSymbol { .. }))
        ),
        "{:?}",
        report.symbol
    );
    assert!(
        matches!(
            report.account,
            Some(Err(BinanceError::Startup(StartupError::KeyRefused {
                code: Some(-2015),
                ..
            })))
        ),
        "{:?}",
        report.account
    );
    // Read-only: no order endpoint beyond the account reads.
    let orders = twin
        .requests()
        .into_iter()
        .filter(|r| r.is_order_endpoint() && r.path != "/api/v3/account")
        .count();
    assert_eq!(orders, 0);
}
