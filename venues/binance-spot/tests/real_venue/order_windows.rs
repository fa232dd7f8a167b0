//! The order-count windows of `exchangeInfo.rateLimits` each reset on
//! their own interval, and a 429 for the order count (`-1015`) holds back
//! new orders but never cancels.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient, ExchangeError, OrderStatus};
use tesser_venue_binance::{BinanceSpot, Credentials};
use tesser_venue_binance_twin::TwinConfig;

use crate::common::{KEY, SECRET, buy, config, start_with};

const DAY_MS: i64 = 86_400_000;

/// A twin whose day ends `before_midnight` from now, with `per_day` new
/// orders a day.
fn twin_config(per_day: u64, before_midnight: Duration) -> TwinConfig {
    let local = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let midnight = (local.div_euclid(DAY_MS) + 1) * DAY_MS;
    let mut twin = TwinConfig::hmac(KEY, SECRET);
    twin.orders_per_day = per_day;
    twin.clock_offset_ms = midnight - i64::try_from(before_midnight.as_millis()).unwrap() - local;
    twin
}

#[test]
fn the_daily_order_count_resets_at_midnight_utc() {
    let (twin, mut venue) = start_with(twin_config(3, Duration::from_secs(6)), |c| {
        c.max_rate_limit_wait = Duration::from_millis(500);
    });
    for n in 0..3 {
        venue
            .place_order(buy(&format!("day-{n}"), dec!(1), dec!(90)), 0)
            .unwrap();
    }
    // The day's limit is used: the next order is not sent.
    let posts = twin.count("POST", "/api/v3/order");
    let error = venue
        .place_order(buy("day-3", dec!(1), dec!(90)), 0)
        .unwrap_err();
    assert!(matches!(error, ExchangeError::Throttled { .. }), "{error}");
    assert_eq!(twin.count("POST", "/api/v3/order"), posts);
    // Cancels do not count toward the order limits.
    let cancelled = venue.cancel_order(&"day-0".into(), 0).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    // After midnight (UTC, on the venue's clock) the count starts again.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut attempt = 4;
    loop {
        let id = format!("day-{attempt}");
        match venue.place_order(buy(&id, dec!(1), dec!(90)), 0) {
            Ok(order) => {
                assert_eq!(order.status, OrderStatus::Accepted);
                break;
            }
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "still refused after midnight: {error}"
                );
                attempt += 1;
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

#[test]
fn a_429_for_the_order_count_does_not_delay_cancels() {
    // A day that ends in about an hour: the 429's Retry-After is long.
    let (twin, mut first) = start_with(twin_config(2, Duration::from_secs(3600)), |_| {});
    for n in 0..2 {
        first
            .place_order(buy(&format!("busy-{n}"), dec!(1), dec!(90)), 0)
            .unwrap();
    }
    // A second connector on the same account knows no count yet: the venue
    // answers its order 429 -1015.
    let mut second = BinanceSpot::connect(config(&twin), Credentials::hmac(KEY, SECRET)).unwrap();
    assert!(second.wait_subscribed(1, Duration::from_secs(5)));
    let error = second
        .place_order(buy("busy-2", dec!(1), dec!(90)), 0)
        .unwrap_err();
    assert!(matches!(error, ExchangeError::Throttled { .. }), "{error}");
    // The cancel goes out: it is not held back for the hour the 429 asks
    // new orders to wait (which is past `max_rate_limit_wait`).
    let cancelled = second.cancel_order(&"busy-0".into(), 0).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    // New orders stay held back, and are not sent.
    let posts = twin.count("POST", "/api/v3/order");
    assert!(
        second
            .place_order(buy("busy-3", dec!(1), dec!(90)), 0)
            .is_err()
    );
    assert_eq!(twin.count("POST", "/api/v3/order"), posts);
}

#[test]
fn a_full_order_window_answers_throttled_at_once_and_sends_nothing() {
    let mut config = TwinConfig::hmac(KEY, SECRET);
    config.orders_per_10s = 2;
    // Reads may wait up to 30 s; order entry never waits (with a wait, the
    // order would go out once the window reopened, answering Ok).
    let (twin, mut venue) = start_with(config, |c| c.max_rate_limit_wait = Duration::from_secs(30));
    for n in 0..2 {
        venue
            .place_order(buy(&format!("win-{n}"), dec!(1), dec!(90)), 0)
            .unwrap();
    }
    let posts = twin.count("POST", "/api/v3/order");
    let error = venue
        .place_order(buy("win-2", dec!(1), dec!(90)), 0)
        .unwrap_err();
    let ExchangeError::Throttled { retry_after_ms, .. } = error else {
        panic!("{error}")
    };
    assert!(retry_after_ms <= 10_000, "{retry_after_ms}");
    assert_eq!(
        twin.count("POST", "/api/v3/order"),
        posts,
        "nothing was sent"
    );
    // A price change replaces its order: refused before anything is
    // cancelled, so a full window never leaves an order without its
    // replacement.
    let error = venue
        .amend_order(
            &tesser_core::AmendRequest {
                client_order_id: "win-0".into(),
                new_price: Some(dec!(91)),
                new_quantity: None,
            },
            0,
        )
        .unwrap_err();
    assert!(matches!(error, ExchangeError::Throttled { .. }), "{error}");
    assert_eq!(twin.count("DELETE", "/api/v3/order"), 0);
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 0);
    // Cancels are not order-counted: they go out.
    venue.cancel_order(&"win-1".into(), 0).unwrap();
}
