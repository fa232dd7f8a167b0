//! Placing, amending and cancelling orders, and the queries.

mod common;

use common::*;
use rust_decimal_macros::dec;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, Order, OrderRequest, OrderStatus,
    OrderType, Side, TimeInForce,
};
use tesser_paper::PaperConfig;

fn rejection(result: Result<Order, ExchangeError>) -> String {
    match result {
        Err(ExchangeError::Rejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn amend(
    id: &str,
    price: Option<rust_decimal::Decimal>,
    quantity: Option<rust_decimal::Decimal>,
) -> AmendRequest {
    AmendRequest {
        client_order_id: ClientOrderId::new(id),
        new_price: price,
        new_quantity: quantity,
    }
}

#[test]
fn name_is_paper() {
    assert_eq!(exchange().name(), "paper");
}

#[test]
fn place_returns_the_accepted_order() {
    let mut ex = exchange();
    let request = limit("b", Side::Buy, dec!(1.5), dec!(100));
    let order = ex.place_order(request.clone(), 42).unwrap();
    assert_eq!(order.request, request);
    assert_eq!(order.status, OrderStatus::Accepted);
    assert_eq!(order.filled_quantity, dec!(0));
    assert_eq!(order.avg_fill_price, None);
    assert_eq!((order.created_ms, order.updated_ms), (42, 42));
    assert_eq!(ex.order(&ClientOrderId::new("b")).unwrap(), Some(order));
    assert_eq!(ex.order(&ClientOrderId::new("nope")).unwrap(), None);
}

#[test]
fn duplicate_client_order_id_is_refused_even_when_closed() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(1), dec!(100)));
    assert_eq!(
        ex.place_order(limit("a", Side::Sell, dec!(1), dec!(200)), 1),
        Err(ExchangeError::DuplicateClientOrderId(ClientOrderId::new(
            "a"
        )))
    );
    ex.cancel_order(&ClientOrderId::new("a"), 2).unwrap();
    assert_eq!(
        ex.place_order(limit("a", Side::Buy, dec!(1), dec!(100)), 3),
        Err(ExchangeError::DuplicateClientOrderId(ClientOrderId::new(
            "a"
        )))
    );
    // A rejected request does not use up its id.
    assert!(
        ex.place_order(limit("r", Side::Buy, dec!(0), dec!(100)), 4)
            .is_err()
    );
    assert!(
        ex.place_order(limit("r", Side::Buy, dec!(1), dec!(100)), 5)
            .is_ok()
    );
}

#[test]
fn invalid_requests_are_rejected_with_reasons() {
    let mut ex = exchange();
    assert_eq!(
        rejection(ex.place_order(limit("q", Side::Buy, dec!(0), dec!(100)), 0)),
        "quantity 0 must be positive"
    );
    assert_eq!(
        rejection(ex.place_order(market("q2", Side::Buy, dec!(-1)), 0)),
        "quantity -1 must be positive"
    );
    assert_eq!(
        rejection(ex.place_order(limit("p", Side::Buy, dec!(1), dec!(0)), 0)),
        "price 0 must be positive"
    );
    let no_price = OrderRequest {
        order_type: OrderType::Limit,
        ..market("np", Side::Buy, dec!(1))
    };
    assert_eq!(
        rejection(ex.place_order(no_price, 0)),
        "a limit order needs a price"
    );
    let stop_limit_no_price = OrderRequest {
        order_type: OrderType::StopLimit,
        trigger_price: Some(dec!(100)),
        ..market("slnp", Side::Buy, dec!(1))
    };
    assert_eq!(
        rejection(ex.place_order(stop_limit_no_price, 0)),
        "a stop-limit order needs a price"
    );
    let no_trigger = OrderRequest {
        order_type: OrderType::StopMarket,
        ..market("nt", Side::Buy, dec!(1))
    };
    assert_eq!(
        rejection(ex.place_order(no_trigger, 0)),
        "a stop-market order needs a trigger price"
    );
    assert_eq!(
        rejection(ex.place_order(stop("tz", Side::Buy, dec!(1), dec!(-5), None), 0)),
        "trigger price -5 must be positive"
    );
    assert_eq!(
        rejection(ex.place_order(
            with_tif(market("pm", Side::Buy, dec!(1)), TimeInForce::PostOnly),
            0
        )),
        "post-only needs a limit order, not a market order"
    );
    assert!(ex.open_orders().unwrap().is_empty());
    // The error's text names the order and the reason.
    let error = ex
        .place_order(limit("q", Side::Buy, dec!(0), dec!(100)), 0)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "order q rejected: quantity 0 must be positive"
    );
}

#[test]
fn post_only_is_rejected_when_crossing_the_last_trade() {
    let mut ex = exchange();
    ex.on_market_tick(&print(dec!(100), dec!(1), 1));
    for (id, side, price) in [
        ("b-at", Side::Buy, dec!(100)),
        ("b-above", Side::Buy, dec!(100.1)),
        ("s-at", Side::Sell, dec!(100)),
        ("s-below", Side::Sell, dec!(99.9)),
    ] {
        let request = with_tif(limit(id, side, dec!(1), price), TimeInForce::PostOnly);
        assert_eq!(
            rejection(ex.place_order(request, 2)),
            "post-only order would take liquidity",
            "{id}"
        );
    }
    assert!(ex.open_orders().unwrap().is_empty());
}

#[test]
fn post_only_is_accepted_when_resting_and_fills_as_maker() {
    let mut ex = exchange();
    // No last trade yet: nothing to cross.
    place(
        &mut ex,
        with_tif(
            limit("early", Side::Buy, dec!(1), dec!(500)),
            TimeInForce::PostOnly,
        ),
    );
    ex.on_market_tick(&print(dec!(100), dec!(1), 1)); // fills "early" at 500
    place(
        &mut ex,
        with_tif(
            limit("b", Side::Buy, dec!(1), dec!(99.9)),
            TimeInForce::PostOnly,
        ),
    );
    place(
        &mut ex,
        with_tif(
            limit("s", Side::Sell, dec!(1), dec!(100.1)),
            TimeInForce::PostOnly,
        ),
    );
    assert_eq!(ex.open_orders().unwrap().len(), 2);
    ex.on_market_tick(&print(dec!(99.8), dec!(1), 2));
    assert_eq!(fills_of(&ex, "b"), vec![(dec!(99.9), dec!(1))]);
    assert_eq!(
        order_fills(&ex, "b")[0].liquidity,
        tesser_core::Liquidity::Maker
    );
}

#[test]
fn amend_price_loses_time_priority() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(1), dec!(100)));
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(99)));
    let amended = ex
        .amend_order(&amend("a", Some(dec!(99)), None), 5)
        .unwrap();
    assert_eq!(amended.request.price, Some(dec!(99)));
    assert_eq!(amended.request.client_order_id, ClientOrderId::new("a"));
    assert_eq!(amended.status, OrderStatus::Accepted);
    assert_eq!((amended.created_ms, amended.updated_ms), (0, 5));
    ex.on_market_tick(&print(dec!(98), dec!(1), 6));
    assert_eq!(
        all_fills(&ex),
        vec![("b".to_owned(), dec!(99), dec!(1))],
        "b was first at 99"
    );
}

#[test]
fn amend_quantity_increase_loses_and_decrease_keeps_priority() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(2), dec!(100)));
    place(&mut ex, limit("b", Side::Buy, dec!(2), dec!(100)));
    place(&mut ex, limit("c", Side::Buy, dec!(2), dec!(100)));
    ex.amend_order(&amend("a", None, Some(dec!(1))), 1).unwrap(); // keeps first place
    ex.amend_order(&amend("b", None, Some(dec!(3))), 1).unwrap(); // to the back
    ex.on_market_tick(&print(dec!(99), dec!(3.5), 2));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("a".to_owned(), dec!(100), dec!(1)),
            ("c".to_owned(), dec!(100), dec!(2)),
            ("b".to_owned(), dec!(100), dec!(0.5)),
        ]
    );
    assert_eq!(status(&ex, "a"), OrderStatus::Filled);
}

#[test]
fn amend_same_price_keeps_priority() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(1), dec!(100)));
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(100)));
    ex.amend_order(&amend("a", Some(dec!(100)), None), 1)
        .unwrap();
    ex.on_market_tick(&print(dec!(99), dec!(1), 2));
    assert_eq!(all_fills(&ex), vec![("a".to_owned(), dec!(100), dec!(1))]);
}

#[test]
fn amend_quantity_must_exceed_the_filled_quantity() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(5), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(2), 1));
    assert_eq!(
        rejection(ex.amend_order(&amend("a", None, Some(dec!(2))), 2)),
        "new quantity 2 must exceed the filled quantity 2"
    );
    assert_eq!(
        rejection(ex.amend_order(&amend("a", None, Some(dec!(1.5))), 2)),
        "new quantity 1.5 must exceed the filled quantity 2"
    );
    // The order is unchanged by a refused amend.
    assert_eq!(order(&ex, "a").request.quantity, dec!(5));
    let amended = ex.amend_order(&amend("a", None, Some(dec!(3))), 3).unwrap();
    assert_eq!(amended.status, OrderStatus::PartiallyFilled);
    assert_eq!(amended.remaining_quantity(), dec!(1));
    ex.on_market_tick(&print(dec!(99), dec!(10), 4));
    assert_eq!(
        fills_of(&ex, "a"),
        vec![(dec!(100), dec!(2)), (dec!(100), dec!(1))]
    );
    assert_eq!(status(&ex, "a"), OrderStatus::Filled);
}

#[test]
fn amend_errors() {
    let mut ex = exchange();
    assert_eq!(
        ex.amend_order(&amend("x", Some(dec!(1)), None), 0),
        Err(ExchangeError::UnknownOrder(ClientOrderId::new("x")))
    );
    place(&mut ex, market("m", Side::Buy, dec!(1)));
    assert_eq!(
        rejection(ex.amend_order(&amend("m", Some(dec!(100)), None), 0)),
        "a market order has no price to amend"
    );
    place(&mut ex, stop("sm", Side::Buy, dec!(1), dec!(100), None));
    assert_eq!(
        rejection(ex.amend_order(&amend("sm", Some(dec!(100)), None), 0)),
        "a stop-market order has no price to amend"
    );
    place(&mut ex, limit("l", Side::Buy, dec!(1), dec!(100)));
    assert_eq!(
        rejection(ex.amend_order(&amend("l", Some(dec!(0)), None), 0)),
        "new price 0 must be positive"
    );
    assert_eq!(
        rejection(ex.amend_order(&amend("l", None, None), 0)),
        "the amend changes neither price nor quantity"
    );
    ex.on_market_tick(&print(dec!(99), dec!(10), 1));
    assert_eq!(status(&ex, "l"), OrderStatus::Filled);
    assert_eq!(
        ex.amend_order(&amend("l", Some(dec!(98)), None), 2),
        Err(ExchangeError::OrderClosed(ClientOrderId::new("l")))
    );
}

#[test]
fn amend_rechecks_post_only() {
    let mut ex = exchange();
    ex.on_market_tick(&print(dec!(100), dec!(1), 1));
    place(
        &mut ex,
        with_tif(
            limit("p", Side::Sell, dec!(1), dec!(101)),
            TimeInForce::PostOnly,
        ),
    );
    assert_eq!(
        rejection(ex.amend_order(&amend("p", Some(dec!(100)), None), 2)),
        "post-only order would take liquidity"
    );
    let amended = ex
        .amend_order(&amend("p", Some(dec!(100.5)), None), 2)
        .unwrap();
    assert_eq!(amended.request.price, Some(dec!(100.5)));
    assert_eq!(amended.request.time_in_force, TimeInForce::PostOnly);
}

#[test]
fn amend_stop_limit_price() {
    let mut ex = exchange();
    place(
        &mut ex,
        stop("sl", Side::Buy, dec!(1), dec!(100), Some(dec!(101))),
    );
    ex.amend_order(&amend("sl", Some(dec!(102)), None), 1)
        .unwrap();
    ex.on_market_tick(&print(dec!(101.5), dec!(1), 2));
    assert_eq!(fills_of(&ex, "sl"), vec![(dec!(102), dec!(1))]);
}

#[test]
fn cancel_then_no_fills() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(1), dec!(100)));
    place(&mut ex, market("m", Side::Buy, dec!(1)));
    let cancelled = ex.cancel_order(&ClientOrderId::new("a"), 9).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.updated_ms, 9);
    assert_eq!(cancelled.remaining_quantity(), dec!(0));
    ex.cancel_order(&ClientOrderId::new("m"), 9).unwrap();
    ex.on_market_tick(&print(dec!(90), dec!(10), 10));
    assert!(ex.fills().is_empty());
    assert!(events(&mut ex).is_empty(), "cancels queue no event");
    assert!(ex.open_orders().unwrap().is_empty());
    assert_eq!(status(&ex, "a"), OrderStatus::Cancelled);
}

#[test]
fn cancel_errors() {
    let mut ex = exchange();
    assert_eq!(
        ex.cancel_order(&ClientOrderId::new("x"), 0),
        Err(ExchangeError::UnknownOrder(ClientOrderId::new("x")))
    );
    place(&mut ex, limit("a", Side::Buy, dec!(1), dec!(100)));
    ex.cancel_order(&ClientOrderId::new("a"), 1).unwrap();
    assert_eq!(
        ex.cancel_order(&ClientOrderId::new("a"), 2),
        Err(ExchangeError::OrderClosed(ClientOrderId::new("a")))
    );
}

#[test]
fn cancel_a_partially_filled_order_keeps_its_fills() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(3), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(1), 1));
    let cancelled = ex.cancel_order(&ClientOrderId::new("a"), 2).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.filled_quantity, dec!(1));
    assert_eq!(fills_of(&ex, "a"), vec![(dec!(100), dec!(1))]);
}

#[test]
fn open_orders_in_acceptance_order_across_symbols() {
    let mut ex = exchange();
    place(&mut ex, limit("1", Side::Buy, dec!(1), dec!(100)));
    place(
        &mut ex,
        OrderRequest::limit("2", "ETHUSD", Side::Buy, dec!(1), dec!(10)),
    );
    place(&mut ex, limit("3", Side::Sell, dec!(1), dec!(200)));
    place(
        &mut ex,
        OrderRequest::limit("4", "AAA", Side::Buy, dec!(1), dec!(10)),
    );
    ex.cancel_order(&ClientOrderId::new("3"), 1).unwrap();
    // Re-pricing changes priority, not acceptance order.
    ex.amend_order(&amend("1", Some(dec!(101)), None), 1)
        .unwrap();
    let ids: Vec<String> = ex
        .open_orders()
        .unwrap()
        .into_iter()
        .map(|order| order.request.client_order_id.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["1", "2", "4"]);
}

#[test]
fn order_fills_of_unknown_order_is_empty() {
    let ex = exchange();
    assert!(ex.order_fills(&ClientOrderId::new("x")).unwrap().is_empty());
}

#[test]
fn config_deserializes_strictly() {
    let config: PaperConfig =
        serde_json::from_str(r#"{"maker_fee_bps":"1","taker_fee_bps":"5.5"}"#).unwrap();
    assert_eq!(
        config,
        PaperConfig {
            maker_fee_bps: dec!(1),
            taker_fee_bps: dec!(5.5),
            ..PaperConfig::default()
        }
    );
    let partial: PaperConfig = serde_json::from_str(r#"{"taker_fee_bps":"2"}"#).unwrap();
    assert_eq!(partial.maker_fee_bps, dec!(0));
    assert_eq!(partial.taker_fee_bps, dec!(2));
    assert_eq!(PaperConfig::default().maker_fee_bps, dec!(0));
    assert_eq!(PaperConfig::default().taker_fee_bps, dec!(0));
    let error = serde_json::from_str::<PaperConfig>(r#"{"maker_fee":"1"}"#).unwrap_err();
    assert!(error.to_string().contains("unknown field"), "{error}");
}
