//! An amend or cancel whose answer is lost (the venue acted, then answered
//! 503) is `OutcomeUnknown`, never a refusal; the order is looked up by
//! client id and reported as `Settled` with the venue's price, quantity and
//! status, and nothing is sent twice.

use rust_decimal_macros::dec;
use tesser_core::{AmendRequest, ExchangeClient, ExchangeError, ExchangeEvent, Order, OrderStatus};
use tesser_venue_binance::BinanceSpot;

use crate::common::{buy, collect, start};

/// Waits for the `Settled` event of `id`.
fn settled(venue: &mut BinanceSpot, id: &str) -> Order {
    let events = collect(venue, |events| {
        events.iter().any(
            |e| matches!(e, ExchangeEvent::Settled(o) if o.request.client_order_id.as_str() == id),
        )
    });
    events
        .into_iter()
        .find_map(|e| match e {
            ExchangeEvent::Settled(order) if order.request.client_order_id.as_str() == id => {
                Some(order)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{id} was never settled"))
}

fn amend(
    id: &str,
    new_price: Option<rust_decimal::Decimal>,
    new_quantity: Option<rust_decimal::Decimal>,
) -> AmendRequest {
    AmendRequest {
        client_order_id: id.into(),
        new_price,
        new_quantity,
    }
}

fn assert_unknown(error: &ExchangeError) {
    assert!(
        matches!(error, ExchangeError::OutcomeUnknown { .. }),
        "a lost answer is unknown, not {error:?}"
    );
}

#[test]
fn a_keep_priority_amend_answered_503_settles_at_the_venues_quantity() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("kp-1", dec!(2), dec!(100)), 0)
        .unwrap();
    twin.faults(|f| f.accept_then_503_next = 1);
    let error = venue
        .amend_order(&amend("kp-1", None, Some(dec!(1))), 0)
        .unwrap_err();
    assert_unknown(&error);
    let order = settled(&mut venue, "kp-1");
    assert_eq!(order.request.quantity, dec!(1), "the amend took effect");
    assert_eq!(order.request.price, Some(dec!(100)));
    assert_eq!(order.status, OrderStatus::Accepted);
    assert_eq!(twin.count("PUT", "/api/v3/order/amend/keepPriority"), 1);
    assert_eq!(twin.orders()[0].orig_qty, dec!(1));
}

#[test]
fn a_cancel_answered_503_settles_cancelled() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("cx-1", dec!(1), dec!(100)), 0)
        .unwrap();
    twin.faults(|f| f.accept_then_503_next = 1);
    let error = venue.cancel_order(&"cx-1".into(), 0).unwrap_err();
    assert_unknown(&error);
    let order = settled(&mut venue, "cx-1");
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(twin.count("DELETE", "/api/v3/order"), 1, "not sent twice");
    assert_eq!(twin.orders()[0].status, "CANCELED");
}

#[test]
fn a_cancel_replace_answered_503_settles_at_the_replacements_price() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("cr-1", dec!(1), dec!(100)), 0)
        .unwrap();
    twin.faults(|f| f.accept_then_503_next = 1);
    let error = venue
        .amend_order(&amend("cr-1", Some(dec!(101)), None), 0)
        .unwrap_err();
    assert_unknown(&error);
    let order = settled(&mut venue, "cr-1");
    assert_eq!(order.request.price, Some(dec!(101)), "{order:?}");
    assert_eq!(order.request.quantity, dec!(1));
    assert_eq!(order.status, OrderStatus::Accepted);
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 1);
    let statuses: Vec<(String, String)> = twin
        .orders()
        .into_iter()
        .map(|o| (o.price.to_string(), o.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("100".to_owned(), "CANCELED".to_owned()),
            ("101".to_owned(), "NEW".to_owned())
        ]
    );
    // The runtime's next amend works on the replacement.
    let order = venue
        .amend_order(&amend("cr-1", Some(dec!(102)), None), 0)
        .unwrap();
    assert_eq!(order.request.price, Some(dec!(102)));
}
