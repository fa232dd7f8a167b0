//! Commissions in the asset the venue charges them in, one test per case of
//! Binance's commission FAQ (`faqs/commission_faq.md`): a buy pays in the
//! base asset, a sell in the quote asset, an account paying in BNB pays in
//! BNB (discounted), and without enough BNB the full commission comes out of
//! the received asset. The twin cases run the connector against the twin
//! over real sockets on 127.0.0.1 (executionReports and `myTrades`); the
//! `FULL` placement answer is the docs' own example. Every wait is a bounded
//! loop.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    ClientOrderId, ExchangeClient, ExchangeEvent, FeeAsset, Fill, Instrument, OrderRequest,
    OrderStatus, Portfolio, Side, Symbol,
};
use tesser_venue_binance::BinanceSpot;
use tesser_venue_binance::book::{Book, Execution, FillReport};
use tesser_venue_binance::model::OrderResponse;
use tesser_venue_binance_twin::{BnbCommission, TwinConfig, TwinHandle};

use crate::common::{KEY, SECRET, collect, last_status, start_with};

/// The twin's fee rate (both maker and taker), basis points.
const FEE_BPS: Decimal = dec!(10);

fn start(bnb: Option<BnbCommission>) -> (TwinHandle, BinanceSpot) {
    let mut twin_config = TwinConfig::hmac(KEY, SECRET);
    twin_config.maker_fee_bps = FEE_BPS;
    twin_config.taker_fee_bps = FEE_BPS;
    twin_config.bnb_commission = bnb;
    start_with(twin_config, |_| {})
}

/// Places a limit order of `qty` at `price`, prints a trade through it and
/// returns the fills the user stream reported once the order filled, and
/// the fills `myTrades` gives for it.
fn fill_one(
    twin: &TwinHandle,
    venue: &mut BinanceSpot,
    id: &str,
    side: Side,
    qty: Decimal,
    price: Decimal,
) -> (Vec<Fill>, Vec<Fill>) {
    venue
        .place_order(OrderRequest::limit(id, "BTCUSDT", side, qty, price), 0)
        .unwrap();
    let through = match side {
        Side::Buy => price - dec!(0.5),
        Side::Sell => price + dec!(0.5),
    };
    twin.print("BTCUSDT", through, qty * dec!(2), false);
    let events = collect(venue, |e| last_status(e, id) == Some(OrderStatus::Filled));
    let filled = last_status(&events, id) == Some(OrderStatus::Filled);
    assert!(filled, "{id} did not fill: {events:?}");
    let streamed: Vec<Fill> = events
        .into_iter()
        .filter_map(|e| match e {
            ExchangeEvent::Fill(fill) if fill.client_order_id.as_str() == id => Some(fill),
            _ => None,
        })
        .collect();
    let queried = venue.order_fills(&ClientOrderId::new(id)).unwrap();
    (streamed, queried)
}

/// The commission in the quote asset of `qty` at `price` at the twin's rate.
fn quote_commission(qty: Decimal, price: Decimal) -> Decimal {
    qty * price * FEE_BPS / dec!(10000)
}

fn btc() -> FeeAsset {
    FeeAsset::Base("BTC".into())
}

#[test]
fn a_buy_pays_its_commission_in_the_base_asset_and_holds_the_net_quantity() {
    let (twin, mut venue) = start(None);
    let (qty, price) = (dec!(0.5), dec!(100));
    let (streamed, queried) = fill_one(&twin, &mut venue, "buy-base", Side::Buy, qty, price);
    // Received amount is the quantity: the commission is qty × rate, in BTC.
    let commission = qty * FEE_BPS / dec!(10000);
    assert_eq!(streamed.len(), 1, "{streamed:?}");
    assert_eq!(queried.len(), 1, "{queried:?}");
    for fill in [&streamed[0], &queried[0]] {
        assert_eq!(fill.quantity, qty, "the order filled its whole quantity");
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (commission, &btc()),
            "{fill:?}"
        );
    }
    let trades = twin.trades();
    assert_eq!(trades[0].commission_asset, "BTC");
    assert_eq!(trades[0].commission, commission);
    // The position holds what the buy received: the quantity less the
    // commission; cash pays the whole notional.
    let mut book = Portfolio::new("USDT", dec!(1000));
    book.apply_fill(&streamed[0]);
    assert_eq!(book.position(&Symbol::from("BTCUSDT")), qty - commission);
    assert_eq!(book.cash(), dec!(1000) - qty * price);
    assert_eq!(book.fees_by_asset().get("BTC"), Some(&commission));
}

#[test]
fn a_sell_pays_its_commission_in_the_quote_asset() {
    let (twin, mut venue) = start(None);
    let (qty, price) = (dec!(0.5), dec!(100));
    let (streamed, queried) = fill_one(&twin, &mut venue, "sell-quote", Side::Sell, qty, price);
    let commission = quote_commission(qty, price);
    assert_eq!(streamed.len(), 1, "{streamed:?}");
    assert_eq!(queried.len(), 1, "{queried:?}");
    for fill in [&streamed[0], &queried[0]] {
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (commission, &FeeAsset::Quote),
            "{fill:?}"
        );
    }
    assert_eq!(twin.trades()[0].commission_asset, "USDT");
    let mut book = Portfolio::new("USDT", dec!(0));
    book.apply_fill(&streamed[0]);
    assert_eq!(book.position(&Symbol::from("BTCUSDT")), -qty);
    assert_eq!(book.cash(), qty * price - commission);
    assert_eq!(book.fees_paid(), commission);
}

#[test]
fn an_account_paying_in_bnb_pays_the_discounted_commission_in_bnb() {
    let bnb = BnbCommission {
        price: dec!(260),
        discount: dec!(0.25),
        balance: dec!(1),
    };
    let (twin, mut venue) = start(Some(bnb.clone()));
    let (qty, price) = (dec!(0.5), dec!(100));
    let (buys, bought) = fill_one(&twin, &mut venue, "buy-bnb", Side::Buy, qty, price);
    let (sells, sold) = fill_one(&twin, &mut venue, "sell-bnb", Side::Sell, qty, price);
    // The FAQ: (commission × 1/BNB price) × discount, in BNB, on either side.
    let commission = (quote_commission(qty, price) / bnb.price * bnb.discount).round_dp(8);
    let paid_in_bnb = FeeAsset::Other("BNB".into());
    for fill in [&buys[0], &bought[0], &sells[0], &sold[0]] {
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (commission, &paid_in_bnb),
            "{fill:?}"
        );
    }
    assert!(twin.trades().iter().all(|t| t.commission_asset == "BNB"));
    // Neither cash nor the position pays it; it is recorded, not dropped.
    let mut book = Portfolio::new("USDT", dec!(1000));
    book.apply_fill(&buys[0]);
    book.apply_fill(&sells[0]);
    assert_eq!(book.position(&Symbol::from("BTCUSDT")), Decimal::ZERO);
    assert_eq!(book.cash(), dec!(1000));
    assert_eq!(
        book.fees_by_asset().get("BNB"),
        Some(&(commission * dec!(2)))
    );
    assert_eq!(book.fees_paid(), Decimal::ZERO);
}

#[test]
fn without_enough_bnb_the_full_commission_comes_out_of_the_received_asset() {
    let (qty, price) = (dec!(0.5), dec!(100));
    let bnb = BnbCommission {
        price: dec!(260),
        discount: dec!(0.25),
        // Less than one discounted commission.
        balance: quote_commission(qty, price) / dec!(260) * dec!(0.25) / dec!(2),
    };
    let (twin, mut venue) = start(Some(bnb));
    let (buys, _) = fill_one(&twin, &mut venue, "buy-short", Side::Buy, qty, price);
    let (sells, sold) = fill_one(&twin, &mut venue, "sell-short", Side::Sell, qty, price);
    assert_eq!(
        (buys[0].fee, &buys[0].fee_asset),
        (qty * FEE_BPS / dec!(10000), &btc())
    );
    for fill in [&sells[0], &sold[0]] {
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (quote_commission(qty, price), &FeeAsset::Quote),
            "{fill:?}"
        );
    }
}

/// The docs' `FULL` answer (rest-api.md, "New order", Response - FULL),
/// comments stripped.
fn full_answer() -> String {
    let path = format!(
        "{}/tests/fixtures/order_full.jsonc",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split(" //").next().unwrap_or_default())
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Books every fill of a `FULL` answer of an order on `side` and returns
/// the fills queued for the runtime.
fn book_full(answer: &str, side: Side) -> Vec<Fill> {
    let response: OrderResponse = serde_json::from_str(answer).unwrap();
    let mut book = Book::default();
    book.instruments
        .insert("BTCUSDT".into(), Instrument::new("BTCUSDT", "BTC", "USDT"));
    let runtime = ClientOrderId::new("full-1");
    for fill in &response.fills {
        book.book_fill(
            &runtime,
            &Execution::from_order_fill(&response, fill, side),
            FillReport::Queue,
        );
    }
    book.events
        .into_iter()
        .filter_map(|e| match e {
            ExchangeEvent::Fill(fill) => Some(fill),
            ExchangeEvent::OrderUpdate(_)
            | ExchangeEvent::Settled(_)
            | ExchangeEvent::Balances(_) => None,
        })
        .collect()
}

#[test]
fn a_full_answer_carries_each_fills_commission_and_asset() {
    let answer = full_answer();
    let response: OrderResponse = serde_json::from_str(&answer).unwrap();
    // The docs' example: a SELL paying in USDT.
    let fills = book_full(&answer, Side::Sell);
    assert_eq!(fills.len(), response.fills.len());
    for (fill, venue) in fills.iter().zip(&response.fills) {
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (venue.commission, &FeeAsset::Quote)
        );
    }
    // The same answer for a buy paying in BTC, and for an account paying in BNB.
    let fills = book_full(&answer.replace("\"USDT\"", "\"BTC\""), Side::Buy);
    assert!(fills.iter().all(|f| f.fee_asset == btc()), "{fills:?}");
    let fills = book_full(&answer.replace("\"USDT\"", "\"BNB\""), Side::Sell);
    for (fill, venue) in fills.iter().zip(&response.fills) {
        assert_eq!(
            (fill.fee, &fill.fee_asset),
            (venue.commission, &FeeAsset::Other("BNB".into()))
        );
    }
    assert_eq!(fills.len(), response.fills.len());
}
