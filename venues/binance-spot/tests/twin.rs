//! The connector against the twin, over real sockets on 127.0.0.1. Every
//! wait is a bounded loop.

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, OrderStatus, Side,
};
use tesser_venue_binance::rest::MY_TRADES_PAGE;
use tesser_venue_binance::sign::{ApiKey, Signer};
use tesser_venue_binance::ws_market::{MarketEvent, MarketStream, Streams};
use tesser_venue_binance::{BinanceSpot, Credentials};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinKey, TwinVenue};

mod common;

use common::{KEY, SECRET, buy, collect, config, fills, last_status, start};

#[test]
fn place_fill_and_report_through_the_user_stream() {
    let (twin, mut venue) = start();
    let order = venue
        .place_order(buy("algo-1-0001", dec!(1), dec!(100)), 0)
        .unwrap();
    assert_eq!(order.status, OrderStatus::Accepted);
    assert_eq!(venue.instrument("BTCUSDT").unwrap().tick_size, dec!(0.01));
    twin.print("BTCUSDT", dec!(99.5), dec!(0.4), false);
    twin.print("BTCUSDT", dec!(99.5), dec!(1), false);
    let events = collect(&mut venue, |e| {
        last_status(e, "algo-1-0001") == Some(OrderStatus::Filled)
    });
    let fills = fills(&events);
    assert_eq!(fills.len(), 2, "{events:?}");
    assert_eq!(fills.iter().map(|f| f.quantity).sum::<Decimal>(), dec!(1));
    assert_eq!(fills[0].price, dec!(100));
    // 10 bps of the quantity, in BTC: a buy pays in the base asset.
    assert_eq!(fills[0].fee, dec!(0.0004));
    assert_eq!(twin.client_order_ids_sent(), vec!["algo-1-0001".to_owned()]);
    let venue_fills = venue.order_fills(&"algo-1-0001".into()).unwrap();
    assert_eq!(venue_fills.len(), 2);
    assert_eq!(
        venue.order(&"algo-1-0001".into()).unwrap().unwrap().status,
        OrderStatus::Filled
    );
    // A re-send of a used id never reaches the venue.
    assert!(matches!(
        venue.place_order(buy("algo-1-0001", dec!(1), dec!(100)), 0),
        Err(ExchangeError::DuplicateClientOrderId(_))
    ));
    assert_eq!(twin.count("POST", "/api/v3/order"), 1);
}

#[test]
fn ed25519_keys_are_accepted_by_the_twin() {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let mut twin_config = TwinConfig::hmac("unused", "unused");
    twin_config.keys = vec![TwinKey::Ed25519 {
        api_key: "ed-key".into(),
        public_key: key.verifying_key(),
    }];
    let twin = TwinVenue::start(twin_config).unwrap();
    let credentials = Credentials::new(
        ApiKey::new("ed-key"),
        Signer::ed25519_from_pem(&pem).unwrap(),
    );
    let mut venue = BinanceSpot::connect(config(&twin), credentials).unwrap();
    assert!(venue.wait_subscribed(1, Duration::from_secs(5)));
    venue
        .place_order(buy("ed-1", dec!(1), dec!(100)), 0)
        .unwrap();
    // A wrong key is refused with the documented -1022.
    let wrong = Credentials::new(
        ApiKey::new("ed-key"),
        Signer::ed25519_from_pem(
            &ed25519_dalek::SigningKey::from_bytes(&[1u8; 32])
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .unwrap(),
        )
        .unwrap(),
    );
    let error = BinanceSpot::connect(config(&twin), wrong)
        .and_then(|mut v| {
            v.place_order(buy("ed-2", dec!(1), dec!(100)), 0)
                .map_err(|e| tesser_venue_binance::BinanceError::Config(e.to_string()))
        })
        .unwrap_err();
    assert!(error.to_string().contains("-1022"), "{error}");
}

#[test]
fn venue_rejections_are_rejections() {
    let (twin, mut venue) = start();
    twin.faults(|f| {
        f.reject_next_order = Some((
            -2010,
            "Account has insufficient balance for requested action.".into(),
        ))
    });
    let error = venue
        .place_order(buy("r-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::Rejected { reason, .. } if reason.contains("-2010")),
        "{error}"
    );
    // A filter failure from the twin's own LOT_SIZE check.
    let error = venue
        .place_order(buy("r-2", dec!(0.0015), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::Rejected { reason, .. } if reason.contains("-1013")),
        "{error}"
    );
    twin.faults(|f| f.reject_next_order = Some((-1013, "Filter failure: PRICE_FILTER".into())));
    assert!(matches!(
        venue.place_order(buy("r-3", dec!(1), dec!(100)), 0),
        Err(ExchangeError::Rejected { .. })
    ));
    // Nothing was retried.
    assert_eq!(twin.count("POST", "/api/v3/order"), 3);
}

#[test]
fn accepted_then_503_is_ambiguous_and_settles_without_a_resend() {
    let (twin, mut venue) = start();
    twin.faults(|f| f.accept_then_503_next = 1);
    let error = venue
        .place_order(buy("amb-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::OutcomeUnknown { .. }),
        "{error}"
    );
    let events = collect(&mut venue, |e| {
        last_status(e, "amb-1") == Some(OrderStatus::Accepted)
    });
    assert_eq!(
        last_status(&events, "amb-1"),
        Some(OrderStatus::Accepted),
        "{events:?}"
    );
    // The runtime asks before re-sending and finds it.
    assert!(venue.order(&"amb-1".into()).unwrap().is_some());
    assert!(matches!(
        venue.place_order(buy("amb-1", dec!(1), dec!(100)), 0),
        Err(ExchangeError::DuplicateClientOrderId(_))
    ));
    assert_eq!(twin.count("POST", "/api/v3/order"), 1);
}

#[test]
fn an_ack_delayed_past_the_timeout_is_ambiguous_then_found() {
    let (twin, mut venue) = start();
    twin.faults(|f| f.delay_next_order = Some(Duration::from_millis(2500)));
    let error = venue
        .place_order(buy("slow-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::OutcomeUnknown { .. }),
        "{error}"
    );
    let events = collect(&mut venue, |e| last_status(e, "slow-1").is_some());
    assert_eq!(
        last_status(&events, "slow-1"),
        Some(OrderStatus::Accepted),
        "{events:?}"
    );
    assert_eq!(twin.orders().len(), 1);
    assert_eq!(twin.count("POST", "/api/v3/order"), 1);
}

#[test]
fn rate_limited_orders_are_not_sent_before_retry_after() {
    let (twin, mut venue) = start();
    twin.faults(|f| {
        f.rate_limit_next = 1;
        f.retry_after_secs = 1;
    });
    let error = venue
        .place_order(buy("rl-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::Throttled { retry_after_ms, .. } if *retry_after_ms == 1000),
        "{error}"
    );
    // Order entry does not wait for the window (the run loop would): until
    // Retry-After has passed, nothing is sent.
    let error = venue
        .place_order(buy("rl-1", dec!(1), dec!(100)), 0)
        .unwrap_err();
    let ExchangeError::Throttled { retry_after_ms, .. } = error else {
        panic!("{error}")
    };
    assert!(retry_after_ms <= 1000);
    std::thread::sleep(Duration::from_millis(retry_after_ms));
    venue
        .place_order(buy("rl-1", dec!(1), dec!(100)), 0)
        .unwrap();
    let statuses: Vec<u16> = twin
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v3/order")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[test]
fn invalid_timestamp_resyncs_once_and_retries() {
    let (twin, mut venue) = start();
    let syncs = twin.count("GET", "/api/v3/time");
    twin.faults(|f| f.timestamp_error_next = 1);
    venue
        .place_order(buy("ts-1", dec!(1), dec!(100)), 0)
        .unwrap();
    assert_eq!(twin.count("GET", "/api/v3/time"), syncs + 1);
    assert_eq!(twin.count("POST", "/api/v3/order"), 2);
    // A real clock jump: the twin moves 30 s ahead; one re-sync fixes it.
    twin.set_clock_offset(30_000);
    venue
        .place_order(buy("ts-2", dec!(1), dec!(100)), 0)
        .unwrap();
    assert!((venue.clock_offset_ms() - 30_000).abs() < 1000);
}

#[test]
fn duplicate_execution_reports_book_once() {
    let (twin, mut venue) = start();
    twin.faults(|f| f.duplicate_reports = true);
    venue
        .place_order(buy("dup-1", dec!(1), dec!(100)), 0)
        .unwrap();
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    let events = collect(&mut venue, |e| {
        last_status(e, "dup-1") == Some(OrderStatus::Filled)
    });
    std::thread::sleep(Duration::from_millis(200));
    let mut events = events;
    venue.poll_events(&mut events);
    assert_eq!(fills(&events).len(), 1, "{events:?}");
}

#[test]
fn out_of_order_reports_do_not_move_an_order_backwards() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("ooo-1", dec!(1), dec!(100)), 0)
        .unwrap();
    twin.faults(|f| f.reorder_reports = true);
    twin.print("BTCUSDT", dec!(99), dec!(0.3), true);
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    twin.faults(|f| f.reorder_reports = false);
    let events = collect(&mut venue, |e| fills(e).len() == 2);
    let fills = fills(&events);
    assert_eq!(fills.len(), 2, "{events:?}");
    assert_eq!(fills.iter().map(|f| f.quantity).sum::<Decimal>(), dec!(1));
    assert_eq!(last_status(&events, "ooo-1"), Some(OrderStatus::Filled));
}

/// Drops the user data stream and keeps it down: what the venue reports
/// until [`close_user_stream_gap`] reaches the connector only through its
/// reconcile.
fn open_user_stream_gap(twin: &TwinHandle) {
    twin.faults(|f| f.refuse_user_connections = true);
    twin.drop_user_connections();
    let deadline = Instant::now() + Duration::from_secs(5);
    while twin.user_subscriptions() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lets the connector resubscribe, which starts its reconcile.
fn close_user_stream_gap(twin: &TwinHandle, venue: &BinanceSpot) {
    twin.faults(|f| f.refuse_user_connections = false);
    assert!(venue.wait_subscribed(2, Duration::from_secs(5)));
}

#[test]
fn a_fill_during_a_user_stream_gap_is_reconciled_exactly_once() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("gap-1", dec!(1), dec!(100)), 0)
        .unwrap();
    open_user_stream_gap(&twin);
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    close_user_stream_gap(&twin, &venue);
    let events = collect(&mut venue, |e| {
        last_status(e, "gap-1") == Some(OrderStatus::Filled)
    });
    assert_eq!(fills(&events).len(), 1, "{events:?}");
    // The fill is reported mid-reconcile (after myTrades, before
    // openOrders): wait for the reconcile to finish before counting.
    let status = venue.user_stream_status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while status.reconciles() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(twin.count("GET", "/api/v3/myTrades") >= 1);
    assert!(twin.count("GET", "/api/v3/openOrders") >= 1);
}

/// More trades than one `myTrades` page ([`MY_TRADES_PAGE`]): 1,001 prints
/// of 0.001 into one resting buy.
const PAGED_TRADES: usize = MY_TRADES_PAGE + 1;

fn print_paged_trades(twin: &TwinHandle) {
    for _ in 0..PAGED_TRADES {
        twin.print("BTCUSDT", dec!(99.5), dec!(0.001), false);
    }
}

#[test]
fn an_order_with_more_trades_than_a_page_reports_every_fill() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("paged-1", dec!(1.001), dec!(100)), 0)
        .unwrap();
    print_paged_trades(&twin);
    let events = collect(&mut venue, |e| {
        last_status(e, "paged-1") == Some(OrderStatus::Filled)
    });
    assert_eq!(last_status(&events, "paged-1"), Some(OrderStatus::Filled));
    let before = twin.count("GET", "/api/v3/myTrades");
    let venue_fills = venue.order_fills(&"paged-1".into()).unwrap();
    assert_eq!(venue_fills.len(), PAGED_TRADES);
    assert_eq!(
        venue_fills.iter().map(|f| f.quantity).sum::<Decimal>(),
        dec!(1.001),
        "every fill of the order, not the last page of them"
    );
    assert_eq!(
        twin.count("GET", "/api/v3/myTrades") - before,
        2,
        "a full page, then the rest"
    );
}

#[test]
fn a_gap_with_more_trades_than_a_page_is_reconciled_in_full() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("paged-gap", dec!(2), dec!(100)), 0)
        .unwrap();
    open_user_stream_gap(&twin);
    print_paged_trades(&twin);
    close_user_stream_gap(&twin, &venue);
    let filled =
        |events: &[ExchangeEvent]| fills(events).iter().map(|f| f.quantity).sum::<Decimal>();
    let events = collect(&mut venue, |e| filled(e) >= dec!(1.001));
    assert_eq!(fills(&events).len(), PAGED_TRADES, "each trade once");
    assert_eq!(filled(&events), dec!(1.001));
    assert_eq!(
        last_status(&events, "paged-gap"),
        Some(OrderStatus::PartiallyFilled)
    );
}

#[test]
fn a_gap_fill_is_recovered_though_a_later_trade_was_booked_from_an_answer() {
    let (twin, mut venue) = start();
    // A trade seen on the stream: the reconcile sweep's starting point.
    venue
        .place_order(buy("seen-1", dec!(1), dec!(100)), 0)
        .unwrap();
    twin.print("BTCUSDT", dec!(99), dec!(1), true);
    collect(&mut venue, |e| {
        last_status(e, "seen-1") == Some(OrderStatus::Filled)
    });
    venue
        .place_order(buy("gap-2", dec!(1), dec!(100)), 0)
        .unwrap();
    // Placed before the gap: nothing new is placed while the stream is down.
    venue
        .place_order(buy("late-1", dec!(0.5), dec!(100)), 0)
        .unwrap();
    open_user_stream_gap(&twin);
    // Missed on the stream: gap-2 (first in the queue) fills.
    twin.print("BTCUSDT", dec!(99), dec!(1), true);
    // Then late-1 fills, and asking for its fills books that later trade id
    // outside the stream.
    twin.print("BTCUSDT", dec!(99), dec!(0.5), true);
    let late = venue.order_fills(&"late-1".into()).unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    close_user_stream_gap(&twin, &venue);
    let events = collect(&mut venue, |e| {
        last_status(e, "gap-2") == Some(OrderStatus::Filled)
            && fills(e)
                .iter()
                .any(|f| f.client_order_id.as_str() == "gap-2")
    });
    let gap: Decimal = fills(&events)
        .iter()
        .filter(|f| f.client_order_id.as_str() == "gap-2")
        .map(|f| f.quantity)
        .sum();
    assert_eq!(gap, dec!(1), "the missed fill is recovered: {events:?}");
}

#[test]
fn event_stream_terminated_resubscribes() {
    let (twin, venue) = start();
    twin.terminate_user_streams();
    assert!(venue.wait_subscribed(2, Duration::from_secs(5)));
    let subscribes = twin
        .requests()
        .iter()
        .filter(|r| r.method == "userDataStream.subscribe.signature" && r.status == 200)
        .count();
    assert_eq!(subscribes, 2);
}

#[test]
fn amends_use_keep_priority_or_cancel_replace_without_overfilling() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("am-1", dec!(2), dec!(100)), 0)
        .unwrap();
    twin.print("BTCUSDT", dec!(99), dec!(0.5), true);
    collect(&mut venue, |e| fills(e).len() == 1);
    // Quantity down: keep priority.
    let order = venue
        .amend_order(
            &AmendRequest {
                client_order_id: "am-1".into(),
                new_price: None,
                new_quantity: Some(dec!(1.5)),
            },
            0,
        )
        .unwrap();
    assert_eq!(order.request.quantity, dec!(1.5));
    assert_eq!(twin.count("PUT", "/api/v3/order/amend/keepPriority"), 1);
    // Price change: cancel-replace into generation 1 for the remaining 1.
    let order = venue
        .amend_order(
            &AmendRequest {
                client_order_id: "am-1".into(),
                new_price: Some(dec!(101)),
                new_quantity: None,
            },
            0,
        )
        .unwrap();
    assert_eq!(order.request.price, Some(dec!(101)));
    assert_eq!(order.filled_quantity, dec!(0.5));
    let replacement = twin
        .orders()
        .into_iter()
        .find(|o| o.client_order_id == "_r1_am-1")
        .unwrap();
    assert_eq!(replacement.orig_qty, dec!(1));
    twin.print("BTCUSDT", dec!(100), dec!(5), true);
    let events = collect(&mut venue, |e| {
        last_status(e, "am-1") == Some(OrderStatus::Filled)
    });
    assert_eq!(
        last_status(&events, "am-1"),
        Some(OrderStatus::Filled),
        "{events:?}"
    );
    let all = venue.order_fills(&"am-1".into()).unwrap();
    assert_eq!(all.iter().map(|f| f.quantity).sum::<Decimal>(), dec!(1.5));
    assert_eq!(
        venue
            .order(&"am-1".into())
            .unwrap()
            .unwrap()
            .filled_quantity,
        dec!(1.5)
    );
}

/// Places `id` (buy 2 at 100), fills `fill` of it (none when zero), and
/// lowers it to 1.5 (keep priority); returns the events so far.
fn placed_and_lowered(
    twin: &TwinHandle,
    venue: &mut BinanceSpot,
    id: &str,
    fill: Decimal,
) -> Vec<ExchangeEvent> {
    venue.place_order(buy(id, dec!(2), dec!(100)), 0).unwrap();
    let mut events = Vec::new();
    if fill > Decimal::ZERO {
        twin.print("BTCUSDT", dec!(99), fill, true);
        events = collect(venue, |e| fills(e).len() == 1);
    }
    let order = venue
        .amend_order(
            &AmendRequest {
                client_order_id: id.into(),
                new_price: None,
                new_quantity: Some(dec!(1.5)),
            },
            0,
        )
        .unwrap();
    assert_eq!(order.request.quantity, dec!(1.5));
    venue.poll_events(&mut events);
    events
}

fn reprice(venue: &mut BinanceSpot, id: &str, price: Decimal) -> tesser_core::Order {
    venue
        .amend_order(
            &AmendRequest {
                client_order_id: id.into(),
                new_price: Some(price),
                new_quantity: None,
            },
            0,
        )
        .unwrap()
}

/// After a replacement whose reply and reports raced: the amend answered
/// `filled` of `total` at 101, no update ever said the order was cancelled,
/// the replacement was sized `total - filled`, and the rest fills it to
/// exactly `total`.
fn assert_replaced_once(
    twin: &TwinHandle,
    venue: &mut BinanceSpot,
    (id, filled, total): (&str, Decimal, Decimal),
    order: &tesser_core::Order,
    mut events: Vec<ExchangeEvent>,
) {
    assert_eq!(order.filled_quantity, filled, "{order:?}");
    assert_eq!(order.request.quantity, total);
    assert_eq!(order.request.price, Some(dec!(101)));
    let open = if filled.is_zero() {
        OrderStatus::Accepted
    } else {
        OrderStatus::PartiallyFilled
    };
    assert_eq!(order.status, open);
    let replacement = format!("_r1_{id}");
    assert_eq!(
        twin.orders()
            .into_iter()
            .find(|o| o.client_order_id == replacement)
            .unwrap()
            .orig_qty,
        total - filled
    );
    twin.print("BTCUSDT", dec!(100), dec!(5), true);
    let more = collect(venue, |e| last_status(e, id) == Some(OrderStatus::Filled));
    events.extend(more);
    let updates: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ExchangeEvent::OrderUpdate(u) if u.client_order_id.as_str() == id => {
                Some((u.status, u.filled_quantity))
            }
            _ => None,
        })
        .collect();
    assert!(
        updates
            .iter()
            .all(|(status, filled)| *status != OrderStatus::Cancelled && *filled <= total),
        "{updates:?}"
    );
    assert_eq!(
        updates.last(),
        Some(&(OrderStatus::Filled, total)),
        "{updates:?}"
    );
    assert_eq!(
        fills(&events).iter().map(|f| f.quantity).sum::<Decimal>(),
        total
    );
    let order = venue.order(&id.into()).unwrap().unwrap();
    assert_eq!(
        (order.status, order.filled_quantity),
        (OrderStatus::Filled, total)
    );
}

#[test]
fn a_cancel_replace_reply_after_its_reports_counts_once() {
    let (twin, mut venue) = start();
    let events = placed_and_lowered(&twin, &mut venue, "race-1", Decimal::ZERO);
    // The reports of the cancel and the replacement reach the connector
    // before the reply does.
    twin.faults(|f| f.delay_next_replace_answer = Some(Duration::from_millis(300)));
    let order = reprice(&mut venue, "race-1", dec!(101));
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 1);
    assert_replaced_once(
        &twin,
        &mut venue,
        ("race-1", dec!(0), dec!(1.5)),
        &order,
        events,
    );
}

#[test]
fn a_cancel_replace_reply_before_its_reports_counts_once() {
    let (twin, mut venue) = start();
    let mut events = placed_and_lowered(&twin, &mut venue, "race-2", Decimal::ZERO);
    // The reply is handled first; the reports come after, in reverse.
    twin.faults(|f| f.reorder_reports = true);
    let order = reprice(&mut venue, "race-2", dec!(101));
    twin.faults(|f| f.reorder_reports = false);
    std::thread::sleep(Duration::from_millis(100));
    venue.poll_events(&mut events);
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 1);
    assert_replaced_once(
        &twin,
        &mut venue,
        ("race-2", dec!(0), dec!(1.5)),
        &order,
        events,
    );
}

#[test]
fn a_traded_order_is_cancelled_then_replaced_for_what_its_cancel_left() {
    let (twin, mut venue) = start();
    let mut events = placed_and_lowered(&twin, &mut venue, "part-1", dec!(0.5));
    // The reports of the cancel and the replacement arrive in reverse,
    // after the answers.
    twin.faults(|f| f.reorder_reports = true);
    let order = reprice(&mut venue, "part-1", dec!(101));
    twin.faults(|f| f.reorder_reports = false);
    std::thread::sleep(Duration::from_millis(100));
    venue.poll_events(&mut events);
    // Fills could race a cancel-replace and oversize the replacement: a
    // traded order is cancelled first and replaced after.
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 0);
    assert_eq!(twin.count("DELETE", "/api/v3/order"), 1);
    assert_replaced_once(
        &twin,
        &mut venue,
        ("part-1", dec!(0.5), dec!(1.5)),
        &order,
        events,
    );
}

#[test]
fn a_fill_racing_a_cancel_replace_is_refused_and_the_replacement_sized_exactly() {
    let (twin, mut venue) = start();
    venue
        .place_order(buy("rf-1", dec!(2), dec!(100)), 0)
        .unwrap();
    // The order trades 0.3 after the connector sized the cancel-replace
    // (no fill known: 2 at 101) and before the venue handles it.
    twin.faults(|f| f.trade_before_next_replace = Some((dec!(99), dec!(0.3))));
    let order = reprice(&mut venue, "rf-1", dec!(101));
    // ONLY_NEW: the venue refused to cancel a traded order, and the
    // connector cancelled, then placed what the cancel's count left.
    assert_eq!(twin.count("POST", "/api/v3/order/cancelReplace"), 1);
    assert_eq!(twin.count("DELETE", "/api/v3/order"), 1);
    let mut events = Vec::new();
    venue.poll_events(&mut events);
    assert_replaced_once(
        &twin,
        &mut venue,
        ("rf-1", dec!(0.3), dec!(2)),
        &order,
        events,
    );
    let venue_filled: Decimal = twin.trades().iter().map(|t| t.qty).sum();
    assert_eq!(venue_filled, dec!(2), "the venue filled exactly the order");
}

#[test]
fn a_replacement_whose_ack_is_delayed_is_settled_at_its_generation() {
    let (twin, mut venue) = start();
    let mut events = placed_and_lowered(&twin, &mut venue, "slow-r", dec!(0.5));
    // The cancel answers; the replacement's answer comes after the
    // client's timeout.
    twin.faults(|f| f.delay_next_order = Some(Duration::from_millis(2500)));
    let error = venue
        .amend_order(
            &AmendRequest {
                client_order_id: "slow-r".into(),
                new_price: Some(dec!(101)),
                new_quantity: None,
            },
            0,
        )
        .unwrap_err();
    assert!(
        matches!(&error, ExchangeError::OutcomeUnknown { .. }),
        "{error}"
    );
    // Found in the background: still open, never reported cancelled.
    let found = collect(&mut venue, |e| {
        last_status(e, "slow-r") == Some(OrderStatus::PartiallyFilled)
    });
    events.extend(found);
    let order = venue.order(&"slow-r".into()).unwrap().unwrap();
    assert_eq!(order.request.price, Some(dec!(101)), "{order:?}");
    assert_eq!(twin.count("POST", "/api/v3/order"), 2);
    assert_replaced_once(
        &twin,
        &mut venue,
        ("slow-r", dec!(0.5), dec!(1.5)),
        &order,
        events,
    );
}

#[test]
fn long_runtime_ids_are_hashed_and_recovered() {
    let (twin, mut venue) = start();
    let id = "algo-12-chase-plugin-suffix-with-a-long-name-01";
    venue.place_order(buy(id, dec!(1), dec!(100)), 0).unwrap();
    let sent = twin.client_order_ids_sent();
    assert!(
        sent[0].starts_with("_h0_") && sent[0].len() <= 36,
        "{sent:?}"
    );
    twin.print("BTCUSDT", dec!(99), dec!(5), true);
    let events = collect(&mut venue, |e| {
        last_status(e, id) == Some(OrderStatus::Filled)
    });
    assert_eq!(fills(&events)[0].client_order_id, ClientOrderId::new(id));
    // A fresh connector (a restart) finds it by the runtime id.
    let fresh = BinanceSpot::connect(config(&twin), Credentials::hmac(KEY, SECRET)).unwrap();
    assert_eq!(
        fresh.order(&id.into()).unwrap().unwrap().status,
        OrderStatus::Filled
    );
}

#[test]
fn cancel_and_open_orders() {
    let (_twin, mut venue) = start();
    venue
        .place_order(buy("c-1", dec!(1), dec!(100)), 0)
        .unwrap();
    venue
        .place_order(buy("c-2", dec!(1), dec!(100)), 0)
        .unwrap();
    assert_eq!(venue.open_orders().unwrap().len(), 2);
    assert_eq!(
        venue.cancel_order(&"c-1".into(), 0).unwrap().status,
        OrderStatus::Cancelled
    );
    assert!(matches!(
        venue.cancel_order(&"c-1".into(), 0),
        Err(ExchangeError::OrderClosed(_))
    ));
    assert!(matches!(
        venue.cancel_order(&"nope".into(), 0),
        Err(ExchangeError::UnknownOrder(_))
    ));
    assert_eq!(venue.open_orders().unwrap().len(), 1);
}

/// Waits until the twin registered `count` market connections.
fn wait_market(twin: &TwinHandle, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while twin.market_connections() != count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(twin.market_connections(), count);
}

#[test]
fn market_stream_parses_trades_and_survives_drops() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = config(&twin);
    config.market_reconnect_after = Duration::from_secs(2);
    let (_stream, mut events) = MarketStream::spawn(
        runtime.handle(),
        &config,
        &["BTCUSDT".into()],
        Streams::TradesAndBookTicker,
    );
    let next = |events: &mut tokio::sync::mpsc::UnboundedReceiver<MarketEvent>| {
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .unwrap()
                .unwrap()
        })
    };
    assert!(matches!(
        next(&mut events),
        MarketEvent::Connected {
            connection: 1,
            gap_ms: None
        }
    ));
    wait_market(&twin, 1);
    twin.print("BTCUSDT", dec!(100.5), dec!(0.2), true);
    let MarketEvent::Trade { tick, .. } = next(&mut events) else {
        panic!("no trade")
    };
    assert_eq!(
        (tick.price, tick.size, tick.aggressor),
        (dec!(100.5), dec!(0.2), Some(Side::Sell))
    );
    twin.book_ticker("BTCUSDT", dec!(100), dec!(1), dec!(101), dec!(2));
    assert!(matches!(next(&mut events), MarketEvent::BookTicker(_)));
    twin.drop_market_connections();
    assert!(matches!(
        next(&mut events),
        MarketEvent::Connected {
            connection: 2,
            gap_ms: Some(_)
        }
    ));
    wait_market(&twin, 1);
    twin.print("BTCUSDT", dec!(100.6), dec!(0.1), false);
    let MarketEvent::Trade { tick, .. } = next(&mut events) else {
        panic!("no trade after reconnect")
    };
    assert_eq!(tick.aggressor, Some(Side::Buy));
    // The planned reconnect (2 s here) opens connection 3.
    assert!(matches!(
        next(&mut events),
        MarketEvent::Connected { connection: 3, .. }
    ));
}
