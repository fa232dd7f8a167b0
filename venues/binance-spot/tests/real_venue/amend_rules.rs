//! `amendAllowed`, `cancelReplaceAllowed` and `MAX_NUM_ORDER_AMENDS` are
//! checked before an amend is sent, and a keep-priority amend the venue
//! refuses under them (`-2038`) falls back to a replacement instead of
//! failing.

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{AmendRequest, ExchangeClient, Order, OrderStatus};
use tesser_venue_binance::{BinanceSpot, Credentials};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinSymbol};

use crate::common::{KEY, SECRET, buy, config, start_with};

fn twin_with(change: impl FnOnce(&mut TwinSymbol)) -> TwinConfig {
    let mut twin = TwinConfig::hmac(KEY, SECRET);
    change(&mut twin.symbols[0]);
    twin
}

fn amend(
    venue: &mut BinanceSpot,
    id: &str,
    price: Option<Decimal>,
    quantity: Option<Decimal>,
) -> Order {
    venue
        .amend_order(
            &AmendRequest {
                client_order_id: id.into(),
                new_price: price,
                new_quantity: quantity,
            },
            0,
        )
        .unwrap_or_else(|error| panic!("amend of {id} refused: {error}"))
}

fn keep_priority_amends(twin: &TwinHandle) -> usize {
    twin.count("PUT", "/api/v3/order/amend/keepPriority")
}

fn cancel_replaces(twin: &TwinHandle) -> usize {
    twin.count("POST", "/api/v3/order/cancelReplace")
}

#[test]
fn a_symbol_without_amends_is_amended_by_cancel_replace() {
    let (twin, mut venue) = start_with(twin_with(|s| s.amend_allowed = false), |_| {});
    venue
        .place_order(buy("na-1", dec!(2), dec!(100)), 0)
        .unwrap();
    let order = amend(&mut venue, "na-1", None, Some(dec!(1)));
    assert_eq!(order.request.quantity, dec!(1));
    assert_eq!(order.status, OrderStatus::Accepted);
    assert_eq!(keep_priority_amends(&twin), 0, "never sent where refused");
    assert_eq!(cancel_replaces(&twin), 1);
}

#[test]
fn an_order_past_max_num_order_amends_is_replaced() {
    let (twin, mut venue) = start_with(twin_with(|s| s.max_num_order_amends = 2), |_| {});
    venue
        .place_order(buy("mx-1", dec!(5), dec!(100)), 0)
        .unwrap();
    amend(&mut venue, "mx-1", None, Some(dec!(4)));
    amend(&mut venue, "mx-1", None, Some(dec!(3)));
    let order = amend(&mut venue, "mx-1", None, Some(dec!(2)));
    assert_eq!(order.request.quantity, dec!(2));
    assert_eq!(keep_priority_amends(&twin), 2);
    assert_eq!(cancel_replaces(&twin), 1);
    // The replacement is a new order: it may be amended again.
    amend(&mut venue, "mx-1", None, Some(dec!(1)));
    assert_eq!(keep_priority_amends(&twin), 3);
}

#[test]
fn a_2038_for_too_many_amends_falls_back_to_a_replacement() {
    let (twin, mut first) = start_with(twin_with(|s| s.max_num_order_amends = 1), |_| {});
    first
        .place_order(buy("fb-1", dec!(3), dec!(100)), 0)
        .unwrap();
    amend(&mut first, "fb-1", None, Some(dec!(2)));
    // A connector that did not see that amend (a restart) sends one more;
    // the venue refuses it with -2038, and the amend is done by replacing.
    let mut second = BinanceSpot::connect(config(&twin), Credentials::hmac(KEY, SECRET)).unwrap();
    assert!(second.wait_subscribed(1, Duration::from_secs(5)));
    let order = amend(&mut second, "fb-1", None, Some(dec!(1)));
    assert_eq!(order.request.quantity, dec!(1));
    assert_eq!(keep_priority_amends(&twin), 2);
    let refused = twin
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/order/amend/keepPriority" && r.status == 400)
        .count();
    assert_eq!(refused, 1);
    assert_eq!(cancel_replaces(&twin), 1);
    let open: Vec<_> = twin
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW")
        .map(|o| o.orig_qty)
        .collect();
    assert_eq!(open, vec![dec!(1)]);
}

#[test]
fn a_symbol_without_cancel_replace_is_cancelled_then_placed() {
    let (twin, mut venue) = start_with(twin_with(|s| s.cancel_replace_allowed = false), |_| {});
    venue
        .place_order(buy("ncr-1", dec!(1), dec!(100)), 0)
        .unwrap();
    let order = amend(&mut venue, "ncr-1", Some(dec!(101)), None);
    assert_eq!(order.request.price, Some(dec!(101)));
    assert_eq!(cancel_replaces(&twin), 0, "never sent where refused");
    assert_eq!(twin.count("DELETE", "/api/v3/order"), 1);
    assert_eq!(twin.count("POST", "/api/v3/order"), 2);
}
