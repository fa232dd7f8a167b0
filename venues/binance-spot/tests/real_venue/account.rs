//! The account's own balances, not `[paper]`'s: read at start
//! (`GET /api/v3/account`), followed from `outboundAccountPosition`, and
//! read again after a reconnect's reconcile, so a change made while the
//! user stream was silent is not missed. The twin keeps a real account
//! (locks, fills, commissions, deposits).

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{AccountBalance, ExchangeClient, ExchangeEvent, OrderStatus, Portfolio};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle};

use crate::common::{KEY, SECRET, buy, collect_within, last_status, start_with, wait_until};

/// Short, so the silence test is quick; the default is 60 s.
const STALE: Duration = Duration::from_millis(1500);

fn twin_config() -> TwinConfig {
    let mut config = TwinConfig::hmac(KEY, SECRET);
    config.balances = vec![("USDT".into(), dec!(5000)), ("BTC".into(), dec!(1))];
    config
}

/// The connector's balance reports, applied in order to `portfolio`.
fn follow(portfolio: &mut Portfolio, events: &[ExchangeEvent]) {
    for event in events {
        if let ExchangeEvent::Balances(balances) = event {
            portfolio.update_account(balances);
        }
    }
}

/// What the portfolio holds of `asset`, as `(free, locked)`.
fn held(portfolio: &Portfolio, asset: &str) -> (Decimal, Decimal) {
    portfolio
        .account_balance(asset)
        .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
}

fn assert_same(portfolio: &Portfolio, twin: &TwinHandle, asset: &str) {
    assert_eq!(
        held(portfolio, asset),
        twin.balance(asset),
        "{asset}: the runtime's view and the venue's"
    );
}

#[test]
fn the_account_is_read_at_start_and_followed_through_a_lock_and_a_fill() {
    let (twin, mut venue) = start_with(twin_config(), |_| {});
    let start = venue
        .account_balances()
        .expect("the account")
        .expect("a live venue has one");
    assert!(
        start.contains(&AccountBalance::new("USDT", dec!(5000), dec!(0))),
        "{start:?}"
    );
    let mut portfolio = Portfolio::new("USDT", dec!(1000000));
    portfolio.set_account(&start);
    assert_eq!(portfolio.cash(), dec!(5000), "cash is the account's");

    // A resting buy locks 0.1 × 30000 = 3000 USDT.
    venue
        .place_order(buy("acct-1", dec!(0.1), dec!(30000)), 0)
        .expect("placed");
    let events = collect_within(&mut venue, Duration::from_secs(5), |e| {
        e.iter().any(|e| matches!(e, ExchangeEvent::Balances(_)))
    });
    follow(&mut portfolio, &events);
    assert_eq!(held(&portfolio, "USDT"), (dec!(2000), dec!(3000)));
    assert_same(&portfolio, &twin, "USDT");

    // It fills: the quote is spent, the base arrives net of its commission.
    twin.print("BTCUSDT", dec!(29999), dec!(1), false);
    let events = collect_within(&mut venue, Duration::from_secs(5), |e| {
        last_status(e, "acct-1") == Some(OrderStatus::Filled)
            && e.iter().any(|e| matches!(e, ExchangeEvent::Balances(_)))
    });
    let fill_at = events
        .iter()
        .position(|e| matches!(e, ExchangeEvent::Fill(_)))
        .expect("a fill");
    let balances_at = events
        .iter()
        .rposition(|e| matches!(e, ExchangeEvent::Balances(_)))
        .expect("a balance report");
    assert!(
        fill_at < balances_at,
        "the report follows the fill: {events:?}"
    );
    follow(&mut portfolio, &events);
    assert_same(&portfolio, &twin, "USDT");
    assert_same(&portfolio, &twin, "BTC");
    assert_eq!(held(&portfolio, "USDT"), (dec!(2000), dec!(0)));
    assert!(
        held(&portfolio, "BTC").0 > dec!(1),
        "{:?}",
        held(&portfolio, "BTC")
    );
    assert_eq!(portfolio.cash(), dec!(2000));
}

#[test]
fn a_deposit_while_the_user_stream_is_silent_is_read_back_after_the_reconnect() {
    let (twin, mut venue) = start_with(twin_config(), |c| c.stale_after = STALE);
    let mut portfolio = Portfolio::new("USDT", Decimal::ZERO);
    portfolio.set_account(&venue.account_balances().expect("account").expect("one"));
    twin.faults(|f| f.refuse_user_connections = true);
    twin.silence_user_connections();
    // Its balanceUpdate and outboundAccountPosition are lost in the silence.
    twin.deposit("USDT", dec!(1000)).expect("deposit");
    wait_until("the silence to be noticed", STALE * 4, || {
        venue.user_stream_status().disconnects() >= 1
    });
    twin.faults(|f| f.refuse_user_connections = false);
    let events = collect_within(&mut venue, STALE + Duration::from_secs(10), |e| {
        e.iter().any(|e| {
            matches!(e, ExchangeEvent::Balances(b)
                if b.iter().any(|b| b.asset == "USDT" && b.free == dec!(6000)))
        })
    });
    follow(&mut portfolio, &events);
    assert_eq!(
        held(&portfolio, "USDT"),
        (dec!(6000), dec!(0)),
        "{events:?}"
    );
    assert_eq!(portfolio.cash(), dec!(6000));
}

#[test]
fn a_deposit_on_a_live_stream_is_heard() {
    let (twin, mut venue) = start_with(twin_config(), |_| {});
    twin.deposit("BTC", dec!(0.5)).expect("deposit");
    let events = collect_within(&mut venue, Duration::from_secs(5), |e| {
        e.iter().any(|e| matches!(e, ExchangeEvent::Balances(_)))
    });
    let mut portfolio = Portfolio::new("USDT", Decimal::ZERO);
    follow(&mut portfolio, &events);
    assert_eq!(held(&portfolio, "BTC"), (dec!(1.5), dec!(0)), "{events:?}");
}
