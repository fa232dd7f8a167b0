//! The paper exchange's fill model, order by order.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, Fill, Liquidity,
    OrderRequest, OrderStatus, OrderType, Side, Tick, TimeInForce,
};
use tesser_paper::{PaperConfig, PaperExchange};

fn tick(price: Decimal, size: Decimal, t: i64) -> Tick {
    Tick {
        symbol: "BTCUSD".into(),
        price,
        size,
        aggressor: None,
        timestamp_ms: t,
    }
}

fn limit(id: &str, side: Side, quantity: Decimal, price: Decimal) -> OrderRequest {
    OrderRequest::limit(id, "BTCUSD", side, quantity, price)
}

fn exchange() -> PaperExchange {
    PaperExchange::new(PaperConfig::default())
}

fn fills_of(ex: &PaperExchange, id: &str) -> Vec<(Decimal, Decimal)> {
    ex.order_fills(&ClientOrderId::new(id))
        .expect("fills")
        .iter()
        .map(|f| (f.price, f.quantity))
        .collect()
}

fn status(ex: &PaperExchange, id: &str) -> OrderStatus {
    ex.order(&ClientOrderId::new(id))
        .expect("order")
        .expect("known")
        .status
}

#[test]
fn limits_fill_on_trade_through_at_the_limit_price_bounded_by_print_size() {
    let mut ex = exchange();
    ex.place_order(limit("b", Side::Buy, dec!(1), dec!(100)), 0)
        .expect("place");
    ex.on_market_tick(&tick(dec!(100), dec!(5), 1));
    assert!(
        ex.fills().is_empty(),
        "a print at the limit does not trade through"
    );
    ex.on_market_tick(&tick(dec!(99.5), dec!(0.4), 2));
    assert_eq!(fills_of(&ex, "b"), vec![(dec!(100), dec!(0.4))]);
    assert_eq!(status(&ex, "b"), OrderStatus::PartiallyFilled);
    ex.on_market_tick(&tick(dec!(99), dec!(3), 3));
    assert_eq!(
        fills_of(&ex, "b"),
        vec![(dec!(100), dec!(0.4)), (dec!(100), dec!(0.6))]
    );
    assert_eq!(status(&ex, "b"), OrderStatus::Filled);
    let mut events = Vec::new();
    ex.poll_events(&mut events);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ExchangeEvent::Fill(_) => "fill",
            ExchangeEvent::OrderUpdate(u) if u.status == OrderStatus::Filled => "filled",
            ExchangeEvent::OrderUpdate(_) => "partial",
            ExchangeEvent::Settled(_) => "settled",
            ExchangeEvent::Balances(_) => "balances",
        })
        .collect();
    assert_eq!(kinds, vec!["fill", "partial", "fill", "filled"]);
    assert!(ex.open_orders().expect("open").is_empty());
}

#[test]
fn print_liquidity_is_shared_in_price_time_priority() {
    let mut ex = exchange();
    ex.place_order(limit("early-low", Side::Buy, dec!(1), dec!(100)), 0)
        .expect("place");
    ex.place_order(limit("late-high", Side::Buy, dec!(1), dec!(101)), 1)
        .expect("place");
    ex.place_order(limit("later-low", Side::Buy, dec!(1), dec!(100)), 2)
        .expect("place");
    ex.on_market_tick(&tick(dec!(99), dec!(1.5), 3));
    assert_eq!(
        fills_of(&ex, "late-high"),
        vec![(dec!(101), dec!(1))],
        "better price first"
    );
    assert_eq!(
        fills_of(&ex, "early-low"),
        vec![(dec!(100), dec!(0.5))],
        "then the earlier order"
    );
    assert!(fills_of(&ex, "later-low").is_empty());
}

#[test]
fn market_orders_take_the_next_prints() {
    let mut ex = PaperExchange::new(PaperConfig {
        maker_fee_bps: dec!(1),
        taker_fee_bps: dec!(5),
        ..PaperConfig::default()
    });
    ex.place_order(OrderRequest::market("m", "BTCUSD", Side::Sell, dec!(2)), 0)
        .expect("place");
    ex.on_market_tick(&tick(dec!(100), dec!(1.5), 1));
    ex.on_market_tick(&tick(dec!(101), dec!(1), 2));
    assert_eq!(
        fills_of(&ex, "m"),
        vec![(dec!(100), dec!(1.5)), (dec!(101), dec!(0.5))]
    );
    let fees: Vec<(Liquidity, Decimal)> = ex.fills().iter().map(|f| (f.liquidity, f.fee)).collect();
    assert_eq!(
        fees,
        vec![
            (Liquidity::Taker, dec!(0.075)),
            (Liquidity::Taker, dec!(0.02525))
        ]
    );
    ex.place_order(limit("l", Side::Buy, dec!(1), dec!(100)), 3)
        .expect("place");
    ex.on_market_tick(&tick(dec!(99), dec!(1), 4));
    let maker: &Fill = ex.fills().last().expect("fill");
    assert_eq!((maker.liquidity, maker.fee), (Liquidity::Maker, dec!(0.01)));
}

#[test]
fn ioc_fok_and_post_only_are_honoured() {
    let mut ex = exchange();
    ex.on_market_tick(&tick(dec!(100), dec!(1), 0));
    ex.place_order(
        limit("ioc", Side::Buy, dec!(2), dec!(100))
            .with_time_in_force(TimeInForce::ImmediateOrCancel),
        1,
    )
    .expect("ioc");
    ex.on_market_tick(&tick(dec!(100), dec!(0.5), 2));
    assert_eq!(fills_of(&ex, "ioc"), vec![(dec!(100), dec!(0.5))]);
    assert_eq!(status(&ex, "ioc"), OrderStatus::Expired);

    ex.place_order(
        limit("fok", Side::Buy, dec!(2), dec!(100)).with_time_in_force(TimeInForce::FillOrKill),
        3,
    )
    .expect("fok");
    ex.on_market_tick(&tick(dec!(99), dec!(1), 4));
    assert!(fills_of(&ex, "fok").is_empty());
    assert_eq!(status(&ex, "fok"), OrderStatus::Expired);
    ex.place_order(
        limit("fok2", Side::Buy, dec!(2), dec!(100)).with_time_in_force(TimeInForce::FillOrKill),
        5,
    )
    .expect("fok2");
    ex.on_market_tick(&tick(dec!(99.5), dec!(3), 6));
    assert_eq!(fills_of(&ex, "fok2"), vec![(dec!(99.5), dec!(2))]);

    let crossing =
        limit("po", Side::Buy, dec!(1), dec!(99.5)).with_time_in_force(TimeInForce::PostOnly);
    assert!(
        matches!(ex.place_order(crossing, 7), Err(ExchangeError::Rejected { reason, .. }) if reason.contains("post-only"))
    );
    let resting =
        limit("po2", Side::Buy, dec!(1), dec!(99)).with_time_in_force(TimeInForce::PostOnly);
    assert_eq!(
        ex.place_order(resting, 8).expect("rests").status,
        OrderStatus::Accepted
    );
}

#[test]
fn stops_trigger_on_the_trigger_price() {
    let mut ex = exchange();
    let mut stop = OrderRequest::market("sm", "BTCUSD", Side::Sell, dec!(1));
    stop.order_type = OrderType::StopMarket;
    stop.trigger_price = Some(dec!(95));
    ex.place_order(stop, 0).expect("stop");
    ex.on_market_tick(&tick(dec!(96), dec!(5), 1));
    assert!(ex.fills().is_empty());
    ex.on_market_tick(&tick(dec!(95), dec!(5), 2));
    assert_eq!(fills_of(&ex, "sm"), vec![(dec!(95), dec!(1))]);

    let mut stop_limit = limit("sl", Side::Buy, dec!(1), dec!(104.5));
    stop_limit.order_type = OrderType::StopLimit;
    stop_limit.trigger_price = Some(dec!(105));
    ex.place_order(stop_limit, 3).expect("stop limit");
    ex.on_market_tick(&tick(dec!(104), dec!(5), 4));
    ex.on_market_tick(&tick(dec!(105), dec!(5), 5));
    assert!(
        fills_of(&ex, "sl").is_empty(),
        "triggered, but 105 does not trade through 104.5"
    );
    ex.on_market_tick(&tick(dec!(104), dec!(5), 6));
    assert_eq!(fills_of(&ex, "sl"), vec![(dec!(104.5), dec!(1))]);
}

#[test]
fn amend_and_cancel() {
    let mut ex = exchange();
    ex.place_order(limit("a", Side::Buy, dec!(1), dec!(100)), 0)
        .expect("a");
    ex.place_order(limit("b", Side::Buy, dec!(1), dec!(100)), 1)
        .expect("b");
    ex.on_market_tick(&tick(dec!(99), dec!(0.5), 2));
    assert_eq!(fills_of(&ex, "a"), vec![(dec!(100), dec!(0.5))]);
    let below = AmendRequest {
        client_order_id: ClientOrderId::new("a"),
        new_price: None,
        new_quantity: Some(dec!(0.5)),
    };
    assert!(matches!(
        ex.amend_order(&below, 3),
        Err(ExchangeError::Rejected { .. })
    ));
    // Re-pricing "a" sends it behind "b".
    let reprice = AmendRequest {
        client_order_id: ClientOrderId::new("a"),
        new_price: Some(dec!(100)),
        new_quantity: Some(dec!(1.2)),
    };
    assert_eq!(
        ex.amend_order(&reprice, 4).expect("amend").request.quantity,
        dec!(1.2)
    );
    ex.on_market_tick(&tick(dec!(99), dec!(1), 5));
    assert_eq!(fills_of(&ex, "b"), vec![(dec!(100), dec!(1))]);
    ex.cancel_order(&ClientOrderId::new("a"), 6)
        .expect("cancel");
    ex.on_market_tick(&tick(dec!(98), dec!(5), 7));
    assert_eq!(
        fills_of(&ex, "a"),
        vec![(dec!(100), dec!(0.5))],
        "no fills after the cancel"
    );
    assert!(matches!(
        ex.cancel_order(&ClientOrderId::new("a"), 8),
        Err(ExchangeError::OrderClosed(_))
    ));
    assert!(matches!(
        ex.cancel_order(&ClientOrderId::new("zz"), 8),
        Err(ExchangeError::UnknownOrder(_))
    ));
    assert!(matches!(
        ex.place_order(limit("a", Side::Buy, dec!(1), dec!(90)), 9),
        Err(ExchangeError::DuplicateClientOrderId(_))
    ));
}

/// A deterministic pseudo-random session.
fn session(ex: &mut PaperExchange, from: usize, to: usize) {
    let mut state: u64 = 42;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        state >> 33
    };
    let mut price = dec!(1000);
    for i in 0..to {
        let r = next();
        price += Decimal::from(i64::try_from(r % 5).expect("small")) - dec!(2);
        let size = Decimal::new(i64::try_from(r % 300 + 1).expect("small"), 2);
        if i < from {
            continue;
        }
        if i % 7 == 0 {
            let side = if r % 2 == 0 { Side::Buy } else { Side::Sell };
            let offset = Decimal::from(i64::try_from(r % 4).expect("small"));
            let p = if side == Side::Buy {
                price - offset
            } else {
                price + offset
            };
            let _ = ex.place_order(
                limit(&format!("o{i}"), side, size, p),
                i64::try_from(i).expect("small"),
            );
        }
        ex.on_market_tick(&tick(price, size, i64::try_from(i).expect("small")));
    }
}

#[test]
fn same_input_same_fills_and_state_survives_serde() {
    let mut a = exchange();
    session(&mut a, 0, 10_000);
    let mut b = exchange();
    session(&mut b, 0, 10_000);
    assert!(a.fills().len() > 100);
    assert_eq!(a.fills(), b.fills());

    let mut c = exchange();
    session(&mut c, 0, 5_000);
    let saved = serde_json::to_string(&c).expect("save");
    let mut restored: PaperExchange = serde_json::from_str(&saved).expect("restore");
    session(&mut restored, 5_000, 10_000);
    assert_eq!(restored.fills(), a.fills());
}

#[test]
fn an_order_reaches_the_book_after_the_latency() {
    let mut ex = PaperExchange::new(PaperConfig {
        latency_ms: 500,
        ..PaperConfig::default()
    });
    ex.on_market_tick(&tick(dec!(100), dec!(1), 1_000));
    ex.place_order(limit("slow", Side::Buy, dec!(1), dec!(100)), 1_000)
        .expect("accepted");
    let open = ex.open_orders().expect("open");
    assert_eq!(open.len(), 1, "on its way, it is open");
    assert!(ex.has_open_orders());
    // A print through the limit before the order arrives fills nothing.
    ex.on_market_tick(&tick(dec!(99), dec!(5), 1_400));
    assert!(fills_of(&ex, "slow").is_empty());
    // An amend on the way keeps it on the way.
    ex.amend_order(
        &AmendRequest {
            client_order_id: ClientOrderId::new("slow"),
            new_price: Some(dec!(101)),
            new_quantity: None,
        },
        1_450,
    )
    .expect("amended");
    ex.on_market_tick(&tick(dec!(99), dec!(5), 1_499));
    assert!(fills_of(&ex, "slow").is_empty());
    // From its arrival on, it fills as any resting order.
    ex.on_market_tick(&tick(dec!(99), dec!(5), 1_500));
    assert_eq!(fills_of(&ex, "slow"), vec![(dec!(101), dec!(1))]);
    assert_eq!(status(&ex, "slow"), OrderStatus::Filled);

    // A cancel on the way: it never reaches the book.
    ex.place_order(limit("gone", Side::Buy, dec!(1), dec!(100)), 2_000)
        .expect("accepted");
    ex.cancel_order(&ClientOrderId::new("gone"), 2_100)
        .expect("cancelled");
    ex.on_market_tick(&tick(dec!(99), dec!(5), 2_600));
    assert!(fills_of(&ex, "gone").is_empty());
    assert!(!ex.has_open_orders());

    // Saved on the way and restored, it still arrives at its time.
    ex.place_order(limit("saved", Side::Buy, dec!(1), dec!(100)), 3_000)
        .expect("accepted");
    let json = serde_json::to_string(&ex).expect("save");
    let mut back: PaperExchange = serde_json::from_str(&json).expect("load");
    assert_eq!(back, ex);
    back.on_market_tick(&tick(dec!(99), dec!(5), 3_200));
    assert!(fills_of(&back, "saved").is_empty());
    back.on_market_tick(&tick(dec!(99), dec!(5), 3_500));
    assert_eq!(fills_of(&back, "saved"), vec![(dec!(100), dec!(1))]);
}

#[test]
fn zero_latency_is_the_model_as_before() {
    let mut a = exchange();
    let mut b = PaperExchange::new(PaperConfig {
        latency_ms: 0,
        ..PaperConfig::default()
    });
    for ex in [&mut a, &mut b] {
        ex.on_market_tick(&tick(dec!(100), dec!(1), 0));
        ex.place_order(limit("x", Side::Buy, dec!(1), dec!(100)), 0)
            .expect("accepted");
        ex.on_market_tick(&tick(dec!(99), dec!(5), 0));
    }
    assert_eq!(fills_of(&a, "x"), vec![(dec!(100), dec!(1))]);
    assert_eq!(a, b);
}
