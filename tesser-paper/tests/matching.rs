//! The fill model: trade-throughs, print size, shared liquidity, order types.

mod common;

use common::*;
use rust_decimal_macros::dec;
use tesser_core::{
    ClientOrderId, ExchangeClient, ExchangeEvent, FeeAsset, Fill, Liquidity, OrderStatus,
    OrderUpdate, Side, TimeInForce,
};
use tesser_paper::{PaperConfig, PaperExchange};

#[test]
fn limit_buy_fills_at_limit_price_on_trade_through() {
    let mut ex = exchange();
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(100)));
    ex.on_market_tick(&print(dec!(99.5), dec!(5), 10));
    assert_eq!(fills_of(&ex, "b"), vec![(dec!(100), dec!(1))]);
    let order = order(&ex, "b");
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.filled_quantity, dec!(1));
    assert_eq!(order.avg_fill_price, Some(dec!(100)));
    assert_eq!(order.updated_ms, 10);
    assert_eq!(
        events(&mut ex),
        vec![
            ExchangeEvent::Fill(Fill {
                fill_id: "paper-000001".into(),
                client_order_id: ClientOrderId::new("b"),
                symbol: SYMBOL.into(),
                side: Side::Buy,
                price: dec!(100),
                quantity: dec!(1),
                fee: dec!(0),
                fee_asset: FeeAsset::Quote,
                liquidity: Liquidity::Maker,
                timestamp_ms: 10,
            }),
            ExchangeEvent::OrderUpdate(OrderUpdate {
                client_order_id: ClientOrderId::new("b"),
                symbol: SYMBOL.into(),
                status: OrderStatus::Filled,
                filled_quantity: dec!(1),
                remaining_quantity: dec!(0),
                reason: None,
                timestamp_ms: 10,
            }),
        ]
    );
    assert!(events(&mut ex).is_empty(), "events are drained");
    assert!(ex.open_orders().unwrap().is_empty());
}

#[test]
fn limit_sell_fills_at_limit_price_on_trade_through() {
    let mut ex = exchange();
    place(&mut ex, limit("s", Side::Sell, dec!(2), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(5), 1));
    assert!(
        fills_of(&ex, "s").is_empty(),
        "a print below a sell does nothing"
    );
    ex.on_market_tick(&print(dec!(100.01), dec!(5), 2));
    assert_eq!(fills_of(&ex, "s"), vec![(dec!(100), dec!(2))]);
}

#[test]
fn no_fill_when_print_equals_limit() {
    let mut ex = exchange();
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(100)));
    place(&mut ex, limit("s", Side::Sell, dec!(1), dec!(101)));
    ex.on_market_tick(&print(dec!(100), dec!(10), 1));
    ex.on_market_tick(&print(dec!(101), dec!(10), 2));
    assert!(ex.fills().is_empty());
    assert!(events(&mut ex).is_empty());
    assert_eq!(status(&ex, "b"), OrderStatus::Accepted);
    assert_eq!(status(&ex, "s"), OrderStatus::Accepted);
}

#[test]
fn orders_never_fill_inside_place_order() {
    let mut ex = exchange();
    ex.on_market_tick(&print(dec!(90), dec!(10), 1));
    let order = place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(100)));
    assert_eq!(order.status, OrderStatus::Accepted);
    assert!(ex.fills().is_empty());
    assert!(events(&mut ex).is_empty());
}

#[test]
fn partial_fill_bounded_by_print_size_then_completed_by_later_prints() {
    let mut ex = exchange();
    place(&mut ex, limit("b", Side::Buy, dec!(5), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(2), 1));
    let after_first = order(&ex, "b");
    assert_eq!(after_first.status, OrderStatus::PartiallyFilled);
    assert_eq!(after_first.filled_quantity, dec!(2));
    assert_eq!(after_first.remaining_quantity(), dec!(3));
    assert_eq!(
        events(&mut ex)[1],
        ExchangeEvent::OrderUpdate(OrderUpdate {
            client_order_id: ClientOrderId::new("b"),
            symbol: SYMBOL.into(),
            status: OrderStatus::PartiallyFilled,
            filled_quantity: dec!(2),
            remaining_quantity: dec!(3),
            reason: None,
            timestamp_ms: 1,
        })
    );
    ex.on_market_tick(&print(dec!(100), dec!(10), 2)); // at the limit: nothing
    ex.on_market_tick(&print(dec!(98), dec!(1.5), 3));
    ex.on_market_tick(&print(dec!(97), dec!(10), 4));
    assert_eq!(
        fills_of(&ex, "b"),
        vec![
            (dec!(100), dec!(2)),
            (dec!(100), dec!(1.5)),
            (dec!(100), dec!(1.5))
        ]
    );
    let done = order(&ex, "b");
    assert_eq!(done.status, OrderStatus::Filled);
    assert_eq!(done.filled_quantity, dec!(5));
    assert_eq!(done.avg_fill_price, Some(dec!(100)));
    let ids: Vec<_> = ex.fills().iter().map(|f| f.fill_id.as_str()).collect();
    assert_eq!(ids, ["paper-000001", "paper-000002", "paper-000003"]);
    ex.on_market_tick(&print(dec!(90), dec!(10), 5));
    assert_eq!(ex.fills().len(), 3, "a filled order fills no more");
}

#[test]
fn shared_liquidity_goes_to_the_better_price_first() {
    let mut ex = exchange();
    place(&mut ex, limit("low", Side::Buy, dec!(3), dec!(100)));
    place(&mut ex, limit("high", Side::Buy, dec!(3), dec!(101)));
    place(&mut ex, limit("s-high", Side::Sell, dec!(3), dec!(96)));
    place(&mut ex, limit("s-low", Side::Sell, dec!(3), dec!(95)));
    // 99.5 trades through all four (buys above it, sells below it), so they
    // share the print, the one it trades furthest through first: s-low (4.5),
    // s-high (3.5), high (1.5), low (0.5).
    ex.on_market_tick(&print(dec!(99.5), dec!(7), 1));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("s-low".to_owned(), dec!(95), dec!(3)),
            ("s-high".to_owned(), dec!(96), dec!(3)),
            ("high".to_owned(), dec!(101), dec!(1)),
        ]
    );
    ex.on_market_tick(&print(dec!(99), dec!(4), 2));
    assert_eq!(
        fills_of(&ex, "high"),
        vec![(dec!(101), dec!(1)), (dec!(101), dec!(2))]
    );
    assert_eq!(fills_of(&ex, "low"), vec![(dec!(100), dec!(2))]);
}

#[test]
fn shared_liquidity_buys_highest_price_first() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Buy, dec!(2), dec!(100)));
    place(&mut ex, limit("b", Side::Buy, dec!(2), dec!(102)));
    place(&mut ex, limit("c", Side::Buy, dec!(2), dec!(101)));
    ex.on_market_tick(&print(dec!(99), dec!(5), 1));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("b".to_owned(), dec!(102), dec!(2)),
            ("c".to_owned(), dec!(101), dec!(2)),
            ("a".to_owned(), dec!(100), dec!(1)),
        ]
    );
}

#[test]
fn shared_liquidity_sells_lowest_price_first() {
    let mut ex = exchange();
    place(&mut ex, limit("a", Side::Sell, dec!(2), dec!(102)));
    place(&mut ex, limit("b", Side::Sell, dec!(2), dec!(100)));
    ex.on_market_tick(&print(dec!(103), dec!(3), 1));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("b".to_owned(), dec!(100), dec!(2)),
            ("a".to_owned(), dec!(102), dec!(1)),
        ]
    );
}

#[test]
fn shared_liquidity_same_price_earlier_first() {
    let mut ex = exchange();
    place(&mut ex, limit("first", Side::Buy, dec!(2), dec!(100)));
    place(&mut ex, limit("second", Side::Buy, dec!(2), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(3), 1));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("first".to_owned(), dec!(100), dec!(2)),
            ("second".to_owned(), dec!(100), dec!(1)),
        ]
    );
    assert_eq!(status(&ex, "first"), OrderStatus::Filled);
    assert_eq!(status(&ex, "second"), OrderStatus::PartiallyFilled);
}

#[test]
fn market_orders_go_before_limits_in_time_order() {
    let mut ex = exchange();
    place(&mut ex, limit("limit", Side::Buy, dec!(2), dec!(110)));
    place(&mut ex, market("m1", Side::Buy, dec!(1)));
    place(&mut ex, market("m2", Side::Sell, dec!(1)));
    ex.on_market_tick(&print(dec!(100), dec!(2.5), 1));
    assert_eq!(
        all_fills(&ex),
        vec![
            ("m1".to_owned(), dec!(100), dec!(1)),
            ("m2".to_owned(), dec!(100), dec!(1)),
            ("limit".to_owned(), dec!(110), dec!(0.5)),
        ]
    );
}

#[test]
fn market_order_fills_at_next_print() {
    let mut ex = exchange();
    ex.on_market_tick(&print(dec!(100), dec!(1), 1));
    place(&mut ex, market("m", Side::Buy, dec!(1)));
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&print(dec!(101.25), dec!(4), 2));
    let fills = order_fills(&ex, "m");
    assert_eq!(fills.len(), 1);
    assert_eq!((fills[0].price, fills[0].quantity), (dec!(101.25), dec!(1)));
    assert_eq!(fills[0].liquidity, Liquidity::Taker);
    assert_eq!(status(&ex, "m"), OrderStatus::Filled);
}

#[test]
fn large_market_order_sweeps_later_prints() {
    let mut ex = exchange();
    place(&mut ex, market("m", Side::Sell, dec!(4)));
    ex.on_market_tick(&print(dec!(100), dec!(1), 1));
    ex.on_market_tick(&print_of("ETHUSD", dec!(5), dec!(100), 2)); // other symbol
    ex.on_market_tick(&print(dec!(99), dec!(2), 3));
    assert_eq!(status(&ex, "m"), OrderStatus::PartiallyFilled);
    ex.on_market_tick(&print(dec!(98), dec!(5), 4));
    assert_eq!(
        fills_of(&ex, "m"),
        vec![
            (dec!(100), dec!(1)),
            (dec!(99), dec!(2)),
            (dec!(98), dec!(1))
        ]
    );
    let order = order(&ex, "m");
    assert_eq!(order.status, OrderStatus::Filled);
    // (100 + 198 + 98) / 4
    assert_eq!(order.avg_fill_price, Some(dec!(99)));
}

#[test]
fn ioc_fills_what_the_first_print_allows_and_expires_the_rest() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            limit("ioc", Side::Buy, dec!(5), dec!(100)),
            TimeInForce::ImmediateOrCancel,
        ),
    );
    // At the limit counts for a taker; fills at the print price.
    ex.on_market_tick(&print(dec!(100), dec!(2), 7));
    assert_eq!(fills_of(&ex, "ioc"), vec![(dec!(100), dec!(2))]);
    assert_eq!(order_fills(&ex, "ioc")[0].liquidity, Liquidity::Taker);
    let order = order(&ex, "ioc");
    assert_eq!(order.status, OrderStatus::Expired);
    assert_eq!(order.filled_quantity, dec!(2));
    let events = events(&mut ex);
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        ExchangeEvent::OrderUpdate(OrderUpdate {
            client_order_id: ClientOrderId::new("ioc"),
            symbol: SYMBOL.into(),
            status: OrderStatus::Expired,
            filled_quantity: dec!(2),
            remaining_quantity: dec!(0),
            reason: Some("immediate-or-cancel remainder expired".into()),
            timestamp_ms: 7,
        })
    );
    ex.on_market_tick(&print(dec!(90), dec!(10), 8));
    assert_eq!(ex.fills().len(), 1, "an expired order fills no more");
}

#[test]
fn ioc_fills_at_the_print_price_when_better_than_the_limit() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            limit("ioc", Side::Sell, dec!(1), dec!(100)),
            TimeInForce::ImmediateOrCancel,
        ),
    );
    ex.on_market_tick(&print(dec!(100.5), dec!(3), 1));
    assert_eq!(fills_of(&ex, "ioc"), vec![(dec!(100.5), dec!(1))]);
    assert_eq!(status(&ex, "ioc"), OrderStatus::Filled);
}

#[test]
fn ioc_expires_unfilled_when_the_first_print_is_worse_than_the_limit() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            limit("ioc", Side::Buy, dec!(1), dec!(100)),
            TimeInForce::ImmediateOrCancel,
        ),
    );
    ex.on_market_tick(&print(dec!(100.5), dec!(3), 1));
    ex.on_market_tick(&print(dec!(99), dec!(3), 2));
    assert!(ex.fills().is_empty());
    assert_eq!(status(&ex, "ioc"), OrderStatus::Expired);
}

#[test]
fn market_ioc_takes_one_print() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            market("ioc", Side::Buy, dec!(3)),
            TimeInForce::ImmediateOrCancel,
        ),
    );
    ex.on_market_tick(&print(dec!(100), dec!(1.25), 1));
    assert_eq!(fills_of(&ex, "ioc"), vec![(dec!(100), dec!(1.25))]);
    assert_eq!(status(&ex, "ioc"), OrderStatus::Expired);
}

#[test]
fn fok_expires_when_the_print_cannot_fill_it_completely() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            limit("fok", Side::Buy, dec!(5), dec!(100)),
            TimeInForce::FillOrKill,
        ),
    );
    ex.on_market_tick(&print(dec!(99), dec!(4.99), 3));
    assert!(ex.fills().is_empty());
    let order = order(&ex, "fok");
    assert_eq!(order.status, OrderStatus::Expired);
    assert_eq!(order.filled_quantity, dec!(0));
    assert_eq!(
        events(&mut ex),
        vec![ExchangeEvent::OrderUpdate(OrderUpdate {
            client_order_id: ClientOrderId::new("fok"),
            symbol: SYMBOL.into(),
            status: OrderStatus::Expired,
            filled_quantity: dec!(0),
            remaining_quantity: dec!(0),
            reason: Some("fill-or-kill could not fill completely".into()),
            timestamp_ms: 3,
        })]
    );
    ex.on_market_tick(&print(dec!(99), dec!(100), 4));
    assert!(ex.fills().is_empty());
}

#[test]
fn fok_fills_completely_when_the_print_allows() {
    let mut ex = exchange();
    place(
        &mut ex,
        with_tif(
            limit("fok", Side::Buy, dec!(5), dec!(100)),
            TimeInForce::FillOrKill,
        ),
    );
    ex.on_market_tick(&print(dec!(99.75), dec!(5), 3));
    assert_eq!(fills_of(&ex, "fok"), vec![(dec!(99.75), dec!(5))]);
    let order = order(&ex, "fok");
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.avg_fill_price, Some(dec!(99.75)));
}

#[test]
fn fok_counts_only_the_liquidity_left_by_earlier_orders() {
    let mut ex = exchange();
    place(&mut ex, market("m", Side::Buy, dec!(2)));
    place(
        &mut ex,
        with_tif(market("fok", Side::Buy, dec!(2)), TimeInForce::FillOrKill),
    );
    ex.on_market_tick(&print(dec!(100), dec!(3), 1));
    assert_eq!(fills_of(&ex, "m"), vec![(dec!(100), dec!(2))]);
    assert!(fills_of(&ex, "fok").is_empty());
    assert_eq!(status(&ex, "fok"), OrderStatus::Expired);
}

#[test]
fn stop_market_triggers_at_the_trigger_price_and_fills_from_that_print() {
    let mut ex = exchange();
    place(&mut ex, stop("stop", Side::Buy, dec!(3), dec!(105), None));
    place(
        &mut ex,
        stop("stop-sell", Side::Sell, dec!(1), dec!(95), None),
    );
    ex.on_market_tick(&print(dec!(104.9), dec!(10), 1));
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&print(dec!(105), dec!(2), 2));
    assert_eq!(fills_of(&ex, "stop"), vec![(dec!(105), dec!(2))]);
    assert_eq!(order_fills(&ex, "stop")[0].liquidity, Liquidity::Taker);
    // Triggered for good: keeps working as a market order below the trigger.
    ex.on_market_tick(&print(dec!(101), dec!(5), 3));
    assert_eq!(
        fills_of(&ex, "stop"),
        vec![(dec!(105), dec!(2)), (dec!(101), dec!(1))]
    );
    assert_eq!(status(&ex, "stop"), OrderStatus::Filled);
    assert_eq!(status(&ex, "stop-sell"), OrderStatus::Accepted);
    ex.on_market_tick(&print(dec!(95), dec!(5), 4));
    assert_eq!(fills_of(&ex, "stop-sell"), vec![(dec!(95), dec!(1))]);
}

#[test]
fn stop_limit_triggers_then_rests_as_a_limit_order() {
    let mut ex = exchange();
    // Sell stop at 95 with limit 94: once the market trades at or below 95,
    // sell on a trade-through above 94.
    place(
        &mut ex,
        stop("sl", Side::Sell, dec!(2), dec!(95), Some(dec!(94))),
    );
    ex.on_market_tick(&print(dec!(96), dec!(10), 1)); // above 94, but not triggered
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&print(dec!(94), dec!(10), 2)); // triggers; at the limit: no fill
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&print(dec!(93), dec!(10), 3)); // below the sell limit: no fill
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&print(dec!(94.5), dec!(1), 4)); // through: maker at 94
    assert_eq!(fills_of(&ex, "sl"), vec![(dec!(94), dec!(1))]);
    assert_eq!(order_fills(&ex, "sl")[0].liquidity, Liquidity::Maker);
    assert_eq!(status(&ex, "sl"), OrderStatus::PartiallyFilled);
}

#[test]
fn stop_limit_can_fill_on_its_triggering_print() {
    let mut ex = exchange();
    place(
        &mut ex,
        stop("sl", Side::Buy, dec!(1), dec!(100), Some(dec!(101))),
    );
    ex.on_market_tick(&print(dec!(100.5), dec!(1), 1));
    assert_eq!(fills_of(&ex, "sl"), vec![(dec!(101), dec!(1))]);
}

#[test]
fn fees_maker_and_taker() {
    let mut ex = PaperExchange::new(PaperConfig {
        maker_fee_bps: dec!(1),
        taker_fee_bps: dec!(5),
        ..PaperConfig::default()
    });
    place(&mut ex, limit("maker", Side::Buy, dec!(2), dec!(100)));
    place(&mut ex, market("taker", Side::Sell, dec!(3)));
    ex.on_market_tick(&print(dec!(99.5), dec!(10), 1));
    let maker = &order_fills(&ex, "maker")[0];
    // 100 × 2 × 1 / 10000
    assert_eq!(maker.liquidity, Liquidity::Maker);
    assert_eq!(maker.fee, dec!(0.02));
    let taker = &order_fills(&ex, "taker")[0];
    // 99.5 × 3 × 5 / 10000
    assert_eq!(taker.liquidity, Liquidity::Taker);
    assert_eq!(taker.fee, dec!(0.149250));
}

#[test]
fn negative_maker_fee_is_a_rebate() {
    let mut ex = PaperExchange::new(PaperConfig {
        maker_fee_bps: dec!(-0.5),
        taker_fee_bps: dec!(0),
        ..PaperConfig::default()
    });
    place(&mut ex, limit("maker", Side::Sell, dec!(1), dec!(200)));
    ex.on_market_tick(&print(dec!(201), dec!(1), 1));
    assert_eq!(order_fills(&ex, "maker")[0].fee, dec!(-0.01));
}

#[test]
fn prints_of_other_symbols_do_not_fill() {
    let mut ex = exchange();
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(100)));
    place(&mut ex, market("m", Side::Buy, dec!(1)));
    ex.on_market_tick(&print_of("ETHUSD", dec!(50), dec!(10), 1));
    assert!(ex.fills().is_empty());
    assert_eq!(ex.last_price(&"ETHUSD".into()), Some(dec!(50)));
    assert_eq!(ex.last_price(&SYMBOL.into()), None);
}

#[test]
fn zero_size_print_fills_nothing_but_counts_as_a_print() {
    let mut ex = exchange();
    place(&mut ex, market("m", Side::Buy, dec!(1)));
    place(
        &mut ex,
        with_tif(
            market("ioc", Side::Buy, dec!(1)),
            TimeInForce::ImmediateOrCancel,
        ),
    );
    ex.on_market_tick(&print(dec!(100), dec!(0), 1));
    assert!(ex.fills().is_empty());
    assert_eq!(status(&ex, "m"), OrderStatus::Accepted);
    assert_eq!(status(&ex, "ioc"), OrderStatus::Expired);
    assert_eq!(ex.last_price(&SYMBOL.into()), Some(dec!(100)));
}

#[test]
fn avg_fill_price_is_the_vwap() {
    let mut ex = exchange();
    place(&mut ex, market("m", Side::Buy, dec!(3)));
    ex.on_market_tick(&print(dec!(100), dec!(1), 1));
    ex.on_market_tick(&print(dec!(101), dec!(2), 2));
    // (100 + 202) / 3
    assert_eq!(order(&ex, "m").avg_fill_price, Some(dec!(302) / dec!(3)));
    assert_eq!(
        order(&ex, "m").avg_fill_price,
        Some(dec!(100.66666666666666666666666667))
    );
}
