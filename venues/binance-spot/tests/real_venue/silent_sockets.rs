//! A half-open connection (accepted, then silent, with no FIN) is noticed
//! within `stale_after` and treated as a drop: reconnect, resubscribe,
//! reconcile; nothing new is placed until the user stream is back.

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient, ExchangeError, OrderStatus};
use tesser_venue_binance::ws_market::{MarketEvent, MarketStream, Streams};
use tesser_venue_binance_twin::{TwinConfig, TwinVenue};

use crate::common::{
    KEY, SECRET, buy, collect_within, config, fills, last_status, start_with, wait_until,
};

/// Short, so the tests are quick; the default is 60 s.
const STALE: Duration = Duration::from_millis(1500);

#[test]
fn a_fill_during_a_silent_user_stream_is_booked_once_and_nothing_is_placed_meanwhile() {
    let (twin, mut venue) = start_with(TwinConfig::hmac(KEY, SECRET), |c| c.stale_after = STALE);
    venue
        .place_order(buy("quiet-1", dec!(1), dec!(100)), 0)
        .unwrap();
    // Half-open, and the way back is shut until the test opens it.
    twin.faults(|f| f.refuse_user_connections = true);
    twin.silence_user_connections();
    // The order fills while the connection is silent: its report is lost.
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    wait_until("the silence to be noticed", STALE * 4, || {
        venue.user_stream_status().disconnects() >= 1
    });
    assert!(!venue.user_stream_status().is_connected());
    // Nothing new goes out while the fills of new orders could not be heard.
    let posts = twin.count("POST", "/api/v3/order");
    let refused = venue
        .place_order(buy("quiet-2", dec!(1), dec!(90)), 0)
        .unwrap_err();
    assert!(
        matches!(&refused, ExchangeError::Unavailable(reason) if reason.contains("user data stream")),
        "{refused}"
    );
    assert_eq!(
        twin.count("POST", "/api/v3/order"),
        posts,
        "nothing was sent"
    );
    // Back: resubscribe, reconcile, and the fill is booked once.
    twin.faults(|f| f.refuse_user_connections = false);
    let events = collect_within(&mut venue, STALE + Duration::from_secs(10), |e| {
        last_status(e, "quiet-1") == Some(OrderStatus::Filled)
    });
    assert_eq!(
        last_status(&events, "quiet-1"),
        Some(OrderStatus::Filled),
        "{events:?}"
    );
    wait_until("the reconcile", Duration::from_secs(5), || {
        venue.user_stream_status().reconciles() >= 1
    });
    // Anything booked twice would arrive by now.
    let mut more = Vec::new();
    std::thread::sleep(Duration::from_millis(300));
    venue.poll_events(&mut more);
    let all: Vec<_> = events.into_iter().chain(more).collect();
    let quiet: Vec<_> = fills(&all)
        .into_iter()
        .filter(|f| f.client_order_id.as_str() == "quiet-1")
        .collect();
    assert_eq!(quiet.len(), 1, "booked once: {all:?}");
    assert_eq!(quiet.iter().map(|f| f.quantity).sum::<Decimal>(), dec!(1));
    // And the stream is live again: a new order goes out.
    venue
        .place_order(buy("quiet-3", dec!(1), dec!(90)), 0)
        .unwrap();
}

#[test]
fn pings_keep_a_quiet_user_stream_alive() {
    let mut twin_config = TwinConfig::hmac(KEY, SECRET);
    twin_config.ping_interval = Duration::from_millis(200);
    let (_twin, venue) = start_with(twin_config, |c| c.stale_after = Duration::from_secs(1));
    // Four times `stale_after` without an event: only pings arrive.
    std::thread::sleep(Duration::from_secs(4));
    let status = venue.user_stream_status();
    assert_eq!(status.disconnects(), 0);
    assert_eq!(status.subscriptions(), 1);
}

#[test]
fn a_silent_market_stream_is_reconnected_and_resubscribed() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = config(&twin);
    config.stale_after = STALE;
    let (_stream, mut events) = MarketStream::spawn(
        runtime.handle(),
        &config,
        &["BTCUSDT".into()],
        Streams::Trades,
    );
    let mut next = |timeout: Duration| {
        runtime.block_on(async {
            tokio::time::timeout(timeout, events.recv())
                .await
                .ok()
                .flatten()
        })
    };
    assert!(matches!(
        next(Duration::from_secs(5)),
        Some(MarketEvent::Connected { connection: 1, .. })
    ));
    wait_until("the market connection", Duration::from_secs(5), || {
        twin.market_connections() == 1
    });
    twin.silence_market_connections();
    // Lost on the silent connection.
    twin.print("BTCUSDT", dec!(100.5), dec!(0.2), true);
    let reconnected = next(STALE + Duration::from_secs(5));
    assert!(
        matches!(
            reconnected,
            Some(MarketEvent::Connected { connection: 2, .. })
        ),
        "{reconnected:?}"
    );
    // The new connection carries the stream again (the silent one stays
    // open at the twin, as a half-open connection would).
    wait_until("the new market connection", Duration::from_secs(5), || {
        twin.market_connections() == 2
    });
    twin.print("BTCUSDT", dec!(100.6), dec!(0.1), false);
    let Some(MarketEvent::Trade { tick, .. }) = next(Duration::from_secs(5)) else {
        panic!("no trade after the reconnect")
    };
    assert_eq!(tick.price, dec!(100.6));
}
