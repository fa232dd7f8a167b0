//! The twin's account over real sockets: placements lock funds and
//! cancels, amends and cancel-replaces free them; fills move balances with
//! each commission asset; an order the free balance cannot pay is refused
//! `-2010` with nothing changed; `outboundAccountPosition` follows the
//! `executionReport`s of the same action with only the changed assets; a
//! deposit sends `balanceUpdate` then `outboundAccountPosition`. Every wait
//! is bounded.

mod common;

use std::time::Duration;

use common::{now_ms, sign_with};
use futures_util::{SinkExt as _, StreamExt as _};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tesser_venue_binance_twin::{BalanceError, BnbCommission, TwinConfig, TwinHandle, TwinVenue};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const KEY: &str = "account-key";
const SECRET: &str = "account-secret";

fn sign(payload: &str) -> String {
    sign_with(SECRET, payload)
}

/// A twin, a user data subscription on it, and a runtime to read it.
struct Venue {
    twin: TwinHandle,
    runtime: tokio::runtime::Runtime,
    socket: Socket,
}

impl Venue {
    fn start(config: TwinConfig) -> Self {
        let twin = TwinVenue::start(config).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let socket = runtime.block_on(async {
            let mut socket = tokio_tungstenite::connect_async(twin.ws_api_url())
                .await
                .unwrap()
                .0;
            let timestamp = now_ms();
            let payload = format!("apiKey={KEY}&timestamp={timestamp}");
            let subscribe = json!({"id": 1, "method": "userDataStream.subscribe.signature",
                "params": {"apiKey": KEY, "timestamp": timestamp, "signature": sign(&payload)}});
            socket
                .send(Message::Text(subscribe.to_string().into()))
                .await
                .unwrap();
            let answer = next_json(&mut socket).await;
            assert_eq!(answer["status"], json!(200), "{answer}");
            socket
        });
        Self {
            twin,
            runtime,
            socket,
        }
    }

    /// A signed REST request; returns the HTTP status and the JSON body.
    fn signed(&self, method: &str, path: &str, params: &str) -> (u16, Value) {
        common::signed(self.twin.rest_base(), (KEY, SECRET), method, path, params)
    }

    /// Places an order; returns its answer (asserting a 200).
    fn order(&self, params: &str) -> Value {
        let (status, answer) =
            self.signed("POST", "/api/v3/order", &format!("symbol=BTCUSDT&{params}"));
        assert_eq!(status, 200, "{params}: {answer}");
        answer
    }

    /// The next `n` user data events.
    fn events(&mut self, n: usize) -> Vec<Value> {
        let socket = &mut self.socket;
        self.runtime.block_on(async {
            let mut events = Vec::new();
            while events.len() < n {
                events.push(next_json(socket).await["event"].clone());
            }
            events
        })
    }

    /// The events up to and including the next `outboundAccountPosition`.
    fn events_to_position(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.events(1).remove(0);
            let done = event["e"] == "outboundAccountPosition";
            events.push(event);
            if done {
                return events;
            }
        }
    }

    /// `GET /api/v3/account`'s balances as `(asset, free, locked)`.
    fn account(&self, params: &str) -> Vec<(String, Decimal, Decimal)> {
        let (status, answer) = self.signed("GET", "/api/v3/account", params);
        assert_eq!(status, 200, "{answer}");
        let update_time = answer["updateTime"].as_i64().unwrap();
        assert!((update_time - now_ms()).abs() < 60_000, "{answer}");
        answer["balances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["asset"].as_str().unwrap().to_owned(),
                    b["free"].as_str().unwrap().parse().unwrap(),
                    b["locked"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("nothing within 5 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

/// An `outboundAccountPosition`'s balances as `(asset, free, locked)`.
fn position(event: &Value) -> Vec<(String, Decimal, Decimal)> {
    assert_eq!(event["e"], "outboundAccountPosition", "{event}");
    assert!(
        event["E"].as_i64().is_some() && event["u"].as_i64().is_some(),
        "{event}"
    );
    event["B"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["a"].as_str().unwrap().to_owned(),
                b["f"].as_str().unwrap().parse().unwrap(),
                b["l"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["e"].as_str().unwrap(),
                e["x"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn balance(asset: &str, free: Decimal, locked: Decimal) -> (String, Decimal, Decimal) {
    (asset.to_owned(), free, locked)
}

fn config(balances: &[(&str, Decimal)]) -> TwinConfig {
    let mut config = TwinConfig::hmac(KEY, SECRET);
    config.balances = balances
        .iter()
        .map(|(asset, amount)| ((*asset).to_owned(), *amount))
        .collect();
    config
}

#[test]
fn placing_locks_and_canceling_amending_and_replacing_frees() {
    let mut venue = Venue::start(TwinConfig::hmac(KEY, SECRET));
    assert_eq!(
        venue.account(""),
        [
            balance("BTC", dec!(10), dec!(0)),
            balance("USDT", dec!(1000000), dec!(0))
        ]
    );
    let buy = venue.order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=2&price=100");
    // The report first, then the account: only the quote asset changed.
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        ["executionReport/NEW", "outboundAccountPosition/"]
    );
    assert_eq!(
        position(&events[1]),
        [balance("USDT", dec!(999800), dec!(200))]
    );
    assert_eq!(venue.twin.balance("USDT"), (dec!(999800), dec!(200)));
    let sell = venue.order("side=SELL&type=LIMIT_MAKER&quantity=1.5&price=150");
    let events = venue.events_to_position();
    assert_eq!(
        position(events.last().unwrap()),
        [balance("BTC", dec!(8.5), dec!(1.5))]
    );
    assert_eq!(
        venue.account(""),
        [
            balance("BTC", dec!(8.5), dec!(1.5)),
            balance("USDT", dec!(999800), dec!(200))
        ]
    );
    // A keep-priority amend down to 0.5 frees 150 of the 200.
    let buy_id = buy["orderId"].as_i64().unwrap();
    let (status, answer) = venue.signed(
        "PUT",
        "/api/v3/order/amend/keepPriority",
        &format!("symbol=BTCUSDT&orderId={buy_id}&newQty=0.5"),
    );
    assert_eq!(status, 200, "{answer}");
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        ["executionReport/REPLACED", "outboundAccountPosition/"]
    );
    assert_eq!(
        position(&events[1]),
        [balance("USDT", dec!(999950), dec!(50))]
    );
    // cancelReplace: the old lock goes, the new order's comes.
    let (status, answer) = venue.signed(
        "POST",
        "/api/v3/order/cancelReplace",
        &format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=90&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId={buy_id}"),
    );
    assert_eq!(status, 200, "{answer}");
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        [
            "executionReport/CANCELED",
            "executionReport/NEW",
            "outboundAccountPosition/"
        ]
    );
    assert_eq!(
        position(&events[2]),
        [balance("USDT", dec!(999910), dec!(90))]
    );
    let replaced = answer["newOrderResponse"]["orderId"].as_i64().unwrap();
    for id in [replaced, sell["orderId"].as_i64().unwrap()] {
        let (status, answer) = venue.signed(
            "DELETE",
            "/api/v3/order",
            &format!("symbol=BTCUSDT&orderId={id}"),
        );
        assert_eq!(status, 200, "{answer}");
        let events = venue.events_to_position();
        assert_eq!(
            kinds(&events),
            ["executionReport/CANCELED", "outboundAccountPosition/"]
        );
    }
    assert_eq!(
        venue.account(""),
        [
            balance("BTC", dec!(10), dec!(0)),
            balance("USDT", dec!(1000000), dec!(0))
        ]
    );
}

#[test]
fn fills_move_the_balances_and_charge_the_commission_asset() {
    let mut venue = Venue::start(TwinConfig::hmac(KEY, SECRET));
    // A buy resting at 100 fills at 100 as maker on a print through it:
    // 100 USDT paid out of the lock, 1 BTC received less 0.1 USDT of
    // commission in BTC (0.001).
    venue.order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=100");
    venue.events_to_position();
    venue.twin.print("BTCUSDT", dec!(99.5), dec!(1), true);
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        ["executionReport/TRADE", "outboundAccountPosition/"]
    );
    assert_eq!(
        (&events[0]["L"], &events[0]["N"]),
        (&json!("100.00000000"), &json!("BTC"))
    );
    assert_eq!(
        position(&events[1]),
        [
            balance("BTC", dec!(10.999), dec!(0)),
            balance("USDT", dec!(999900), dec!(0))
        ]
    );
    // A sell: 0.5 BTC out of its lock, 55 USDT in less 0.055 USDT.
    venue.order("side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.5&price=110");
    venue.events_to_position();
    assert_eq!(venue.twin.balance("BTC"), (dec!(10.499), dec!(0.5)));
    venue.twin.print("BTCUSDT", dec!(110.5), dec!(1), false);
    let events = venue.events_to_position();
    assert_eq!(events[0]["N"], "USDT");
    assert_eq!(
        position(&events[1]),
        [
            balance("BTC", dec!(10.499), dec!(0)),
            balance("USDT", dec!(999954.945), dec!(0))
        ]
    );
    // A taker buy locked at its limit (102) filling lower (101) frees the
    // difference on what filled; the rest stays locked at 102.
    venue
        .twin
        .quote("BTCUSDT", dec!(100), dec!(1), dec!(101), dec!(0.4));
    let taken = venue.order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=102");
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        [
            "executionReport/NEW",
            "executionReport/TRADE",
            "outboundAccountPosition/"
        ]
    );
    let usdt = dec!(999954.945) - dec!(40.4) - dec!(61.2);
    assert_eq!(
        position(&events[2]),
        [
            balance("BTC", dec!(10.8986), dec!(0)),
            balance("USDT", usdt, dec!(61.2))
        ]
    );
    let id = taken["orderId"].as_i64().unwrap();
    venue.signed(
        "DELETE",
        "/api/v3/order",
        &format!("symbol=BTCUSDT&orderId={id}"),
    );
    venue.events_to_position();
    assert_eq!(venue.twin.balance("USDT"), (usdt + dec!(61.2), dec!(0)));
    // A MARKET sell takes the bid: 1 BTC for 100 USDT less 0.1 USDT.
    venue.order("side=SELL&type=MARKET&quantity=1");
    let events = venue.events_to_position();
    assert_eq!(
        kinds(&events),
        [
            "executionReport/NEW",
            "executionReport/TRADE",
            "outboundAccountPosition/"
        ]
    );
    assert_eq!(
        position(&events[2]),
        [
            balance("BTC", dec!(9.8986), dec!(0)),
            balance("USDT", usdt + dec!(61.2) + dec!(99.9), dec!(0))
        ]
    );
}

#[test]
fn a_bnb_commission_comes_out_of_the_accounts_bnb() {
    let mut config = TwinConfig::hmac(KEY, SECRET);
    config.bnb_commission = Some(BnbCommission {
        price: dec!(260),
        discount: dec!(0.25),
        balance: dec!(1),
    });
    let mut venue = Venue::start(config);
    assert_eq!(venue.twin.balance("BNB"), (dec!(1), dec!(0)));
    venue.order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=100");
    venue.events_to_position();
    venue.twin.print("BTCUSDT", dec!(99.5), dec!(1), true);
    let events = venue.events_to_position();
    // 0.1 USDT / 260 × 0.25 = 0.00009615 BNB; the whole BTC is received.
    assert_eq!(
        (&events[0]["n"], &events[0]["N"]),
        (&json!("0.00009615"), &json!("BNB"))
    );
    assert_eq!(
        position(&events[1]),
        [
            balance("BNB", dec!(0.99990385), dec!(0)),
            balance("BTC", dec!(11), dec!(0)),
            balance("USDT", dec!(999900), dec!(0))
        ]
    );
    assert_eq!(
        venue.account("omitZeroBalances=true"),
        [
            balance("BNB", dec!(0.99990385), dec!(0)),
            balance("BTC", dec!(11), dec!(0)),
            balance("USDT", dec!(999900), dec!(0))
        ]
    );
}

#[test]
fn an_order_beyond_the_free_balance_is_refused_and_changes_nothing() {
    let mut venue = Venue::start(config(&[("BTC", dec!(1)), ("USDT", dec!(100))]));
    venue
        .twin
        .quote("BTCUSDT", dec!(99), dec!(5), dec!(100), dec!(5));
    let refused = |venue: &Venue, params: &str| {
        let (status, answer) =
            venue.signed("POST", "/api/v3/order", &format!("symbol=BTCUSDT&{params}"));
        (status, answer)
    };
    let insufficient = (
        400,
        json!({"code": -2010, "msg": "Account has insufficient balance for requested action."}),
    );
    for params in [
        "side=BUY&type=LIMIT&timeInForce=GTC&quantity=1.001&price=100",
        "side=BUY&type=LIMIT_MAKER&quantity=2&price=90",
        "side=BUY&type=LIMIT&timeInForce=IOC&quantity=2&price=100",
        "side=BUY&type=MARKET&quantity=1.5",
        "side=SELL&type=LIMIT&timeInForce=GTC&quantity=1.5&price=200",
        "side=SELL&type=MARKET&quantity=1.001",
    ] {
        assert_eq!(refused(&venue, params), insufficient, "{params}");
    }
    // The filters come first.
    let (status, answer) = refused(
        &venue,
        "side=SELL&type=LIMIT&timeInForce=GTC&quantity=5.0001&price=200",
    );
    assert_eq!((status, &answer["code"]), (400, &json!(-1013)), "{answer}");
    assert!(venue.twin.orders().is_empty());
    assert_eq!(venue.twin.balance("USDT"), (dec!(100), dec!(0)));
    assert_eq!(venue.twin.balance("BTC"), (dec!(1), dec!(0)));
    // Exactly the free balance is enough; then nothing is left for more.
    venue.order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=95");
    venue.events_to_position();
    assert_eq!(venue.twin.balance("USDT"), (dec!(5), dec!(95)));
    assert_eq!(
        refused(
            &venue,
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=90"
        ),
        insufficient
    );
    // No event came of the refusals: the next one is the deposit's.
    venue.twin.deposit("USDT", dec!(1)).unwrap();
    let events = venue.events(2);
    assert_eq!(events[0]["e"], "balanceUpdate", "{events:?}");
    assert_eq!(position(&events[1]), [balance("USDT", dec!(6), dec!(95))]);
}

#[test]
fn a_deposit_sends_balance_update_then_the_position() {
    let mut venue = Venue::start(TwinConfig::hmac(KEY, SECRET));
    venue.twin.deposit("ETH", dec!(2.5)).unwrap();
    let events = venue.events(2);
    assert_eq!(events[0]["e"], "balanceUpdate");
    assert_eq!(
        (&events[0]["a"], &events[0]["d"]),
        (&json!("ETH"), &json!("2.50000000"))
    );
    assert!(events[0]["E"].as_i64().is_some() && events[0]["T"].as_i64().is_some());
    assert_eq!(position(&events[1]), [balance("ETH", dec!(2.5), dec!(0))]);
    assert_eq!(venue.twin.balance("ETH"), (dec!(2.5), dec!(0)));
    assert!(
        venue
            .account("")
            .contains(&balance("ETH", dec!(2.5), dec!(0)))
    );
    // A withdrawal is a negative deposit; none beyond the free balance.
    venue.twin.deposit("ETH", dec!(-1)).unwrap();
    let events = venue.events(2);
    assert_eq!(events[0]["d"], "-1.00000000");
    assert_eq!(position(&events[1]), [balance("ETH", dec!(1.5), dec!(0))]);
    assert!(matches!(
        venue.twin.deposit("ETH", dec!(-2)),
        Err(BalanceError::Refused { .. })
    ));
    assert_eq!(venue.twin.balance("ETH"), (dec!(1.5), dec!(0)));
}

#[test]
fn a_quote_order_qty_market_order_needs_what_it_spends() {
    let mut venue = Venue::start(config(&[("BTC", dec!(1)), ("USDT", dec!(100))]));
    venue
        .twin
        .quote("BTCUSDT", dec!(99), dec!(5), dec!(100), dec!(5));
    // Spending 150 USDT with 100: refused, nothing changed.
    let (status, answer) = venue.signed(
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=150",
    );
    assert_eq!((status, &answer["code"]), (400, &json!(-2010)), "{answer}");
    let (status, answer) = venue.signed(
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.1&quoteOrderQty=10",
    );
    assert_eq!((status, &answer["code"]), (400, &json!(-1128)), "{answer}");
    assert!(venue.twin.orders().is_empty());
    // 50.05 USDT buys the whole steps it can at the ask: 0.5 BTC for 50.
    let bought = venue.order("side=BUY&type=MARKET&quoteOrderQty=50.05");
    assert_eq!(
        (
            &bought["origQty"],
            &bought["origQuoteOrderQty"],
            &bought["status"]
        ),
        (
            &json!("0.50000000"),
            &json!("50.05000000"),
            &json!("FILLED")
        ),
        "{bought}"
    );
    let events = venue.events_to_position();
    assert_eq!(events[0]["Q"], "50.05000000");
    assert_eq!(
        position(events.last().unwrap()),
        [
            balance("BTC", dec!(1.4995), dec!(0)),
            balance("USDT", dec!(50), dec!(0))
        ]
    );
    // Selling to receive 49.5 USDT at the bid: 0.5 BTC.
    venue.order("side=SELL&type=MARKET&quoteOrderQty=49.5");
    let events = venue.events_to_position();
    assert_eq!(
        position(events.last().unwrap()),
        [
            balance("BTC", dec!(0.9995), dec!(0)),
            balance("USDT", dec!(99.4505), dec!(0))
        ]
    );
}
