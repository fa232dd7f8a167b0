//! A placement whose outcome was unknown, presumed never placed once the
//! venue did not know it by the end of its `recvWindow`, can still go live
//! inside the matching engine. When it does, the connector adopts it: its
//! status and fills reach the runtime; it is never orphaned.

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient, ExchangeError, ExchangeEvent, OrderStatus};
use tesser_venue_binance_twin::TwinConfig;

use crate::common::{KEY, SECRET, buy, collect_within, fills, start_with};

#[test]
fn an_order_presumed_not_placed_that_goes_live_is_adopted_with_its_fills() {
    let (twin, mut venue) = start_with(TwinConfig::hmac(KEY, SECRET), |c| {
        // A short settle window: recvWindow + request timeout + rate wait.
        c.recv_window_ms = 1000;
        c.request_timeout = Duration::from_millis(500);
        c.max_rate_limit_wait = Duration::from_millis(500);
    });
    twin.faults(|f| f.engine_takes_next_order_after = Some(Duration::from_secs(9)));
    let error = venue
        .place_order(buy("late-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(error, ExchangeError::OutcomeUnknown { .. }),
        "{error}"
    );
    let is = |status: OrderStatus| {
        move |events: &[ExchangeEvent]| {
            events.iter().any(|e| {
                matches!(e, ExchangeEvent::OrderUpdate(u) if u.client_order_id.as_str() == "late-1" && u.status == status)
            })
        }
    };
    // Presumed not placed once its request can no longer execute.
    let mut events = collect_within(
        &mut venue,
        Duration::from_secs(8),
        is(OrderStatus::Rejected),
    );
    assert!(is(OrderStatus::Rejected)(&events), "{events:?}");
    assert!(twin.orders().is_empty(), "not at the venue yet");
    // Then the matching engine takes it: the user stream reports it.
    events.extend(collect_within(
        &mut venue,
        Duration::from_secs(10),
        is(OrderStatus::Accepted),
    ));
    assert!(is(OrderStatus::Accepted)(&events), "adopted: {events:?}");
    assert_eq!(twin.orders().len(), 1);
    // Its fills are reported like any order's.
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    events.extend(collect_within(
        &mut venue,
        Duration::from_secs(5),
        is(OrderStatus::Filled),
    ));
    let filled: Decimal = fills(&events)
        .iter()
        .filter(|f| f.client_order_id.as_str() == "late-1")
        .map(|f| f.quantity)
        .sum();
    assert_eq!(filled, dec!(1), "{events:?}");
    assert!(is(OrderStatus::Filled)(&events), "{events:?}");
    // And the connector's own view agrees.
    let order = venue.order(&"late-1".into()).unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
}
