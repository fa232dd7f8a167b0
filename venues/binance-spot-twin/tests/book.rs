//! The twin's book over real sockets: quotes replayed with the trades on
//! `<symbol>@bookTicker`, an order crossing the quote filled on arrival with
//! its `executionReport`s on the user stream, and the WebSocket API's
//! `ping` and `time`. Every wait is bounded.

mod common;

use std::time::{Duration, Instant};

use common::{now_ms, sign_with};
use futures_util::{SinkExt as _, StreamExt as _};
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tesser_core::Tick;
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinQuote, TwinVenue};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const KEY: &str = "book-key";
const SECRET: &str = "book-secret";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sign(payload: &str) -> String {
    sign_with(SECRET, payload)
}

/// A signed REST request; returns the HTTP status and the JSON body.
fn signed(twin: &TwinHandle, method: &str, path: &str, params: &str) -> (u16, Value) {
    common::signed(twin.rest_base(), (KEY, SECRET), method, path, params)
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

/// The next `executionReport` of the user data stream (the account's
/// `outboundAccountPosition`s in between are `tests/account.rs`'s concern).
async fn next_report(socket: &mut Socket) -> Value {
    loop {
        let event = next_json(socket).await["event"].clone();
        if event["e"] == "executionReport" {
            return event;
        }
    }
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 5 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn quotes_replay_with_the_trades_on_book_ticker() {
    let mut config = TwinConfig::hmac(KEY, SECRET);
    let quote = |at: i64, bid| TwinQuote {
        symbol: "BTCUSDT".into(),
        bid,
        bid_qty: dec!(1),
        ask: bid + dec!(1),
        ask_qty: dec!(2),
        timestamp_ms: at,
    };
    let trade = |at: i64, price| Tick {
        symbol: "BTCUSDT".into(),
        price,
        size: dec!(0.5),
        aggressor: None,
        timestamp_ms: at,
    };
    config.quotes = vec![quote(10, dec!(100)), quote(30, dec!(102))];
    config.trades = vec![trade(20, dec!(100.5)), trade(40, dec!(102.5))];
    let twin = TwinVenue::start(config).unwrap();
    let url = format!(
        "{}/stream?streams=btcusdt@bookTicker/btcusdt@trade",
        twin.market_base()
    );
    let runtime = runtime();
    let mut socket = runtime.block_on(async {
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap()
            .0
    });
    wait_until("the market connection", || twin.market_connections() == 1);
    assert_eq!(twin.play(1), 1);
    assert_eq!(twin.play(5), 1);
    let seen: Vec<(String, String)> = runtime.block_on(async {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let message = next_json(&mut socket).await;
            let price = message["data"]["b"]
                .as_str()
                .or_else(|| message["data"]["p"].as_str())
                .unwrap()
                .to_owned();
            seen.push((message["stream"].as_str().unwrap().to_owned(), price));
        }
        seen
    });
    assert_eq!(
        seen,
        [
            ("btcusdt@bookTicker".to_owned(), "100.00000000".to_owned()),
            ("btcusdt@trade".to_owned(), "100.50000000".to_owned()),
            ("btcusdt@bookTicker".to_owned(), "102.00000000".to_owned()),
            ("btcusdt@trade".to_owned(), "102.50000000".to_owned()),
        ]
    );
}

#[test]
fn an_order_crossing_the_quote_fills_on_arrival_as_taker() {
    let twin = TwinVenue::start(TwinConfig::hmac(KEY, SECRET)).unwrap();
    let runtime = runtime();
    let mut socket = runtime.block_on(async {
        let mut socket = tokio_tungstenite::connect_async(twin.ws_api_url())
            .await
            .unwrap()
            .0;
        for (id, method) in [(1, "ping"), (2, "time")] {
            let request = json!({"id": id, "method": method}).to_string();
            socket.send(Message::Text(request.into())).await.unwrap();
            let answer = next_json(&mut socket).await;
            assert_eq!(
                (answer["id"].clone(), answer["status"].clone()),
                (json!(id), json!(200)),
                "{answer}"
            );
            if method == "ping" {
                assert_eq!(answer["result"], json!({}));
            } else {
                let server = answer["result"]["serverTime"].as_i64().unwrap();
                assert!((server - now_ms()).abs() < 60_000, "{answer}");
            }
        }
        let timestamp = now_ms();
        let payload = format!("apiKey={KEY}&timestamp={timestamp}");
        let subscribe = json!({"id": 3, "method": "userDataStream.subscribe.signature",
            "params": {"apiKey": KEY, "timestamp": timestamp, "signature": sign(&payload)}});
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await
            .unwrap();
        let answer = next_json(&mut socket).await;
        assert_eq!(answer["status"], json!(200), "{answer}");
        socket
    });
    // No quote yet: a crossing limit rests (matching on prints only).
    let (status, resting) = signed(
        &twin,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=200",
    );
    assert_eq!(status, 200, "{resting}");
    assert_eq!(resting["status"], "NEW", "{resting}");
    assert_eq!(resting["fills"], json!([]), "{resting}");
    let first = resting["orderId"].as_i64().unwrap();
    let (status, canceled) = signed(
        &twin,
        "DELETE",
        "/api/v3/order",
        &format!("symbol=BTCUSDT&orderId={first}"),
    );
    assert_eq!(status, 200, "{canceled}");
    twin.quote("BTCUSDT", dec!(100), dec!(1), dec!(101), dec!(0.4));
    let (status, taken) = signed(
        &twin,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=102",
    );
    assert_eq!(status, 200, "{taken}");
    assert_eq!(
        (
            &taken["status"],
            &taken["executedQty"],
            &taken["cummulativeQuoteQty"]
        ),
        (
            &json!("PARTIALLY_FILLED"),
            &json!("0.40000000"),
            &json!("40.40000000")
        ),
        "{taken}"
    );
    assert_eq!(
        taken["fills"],
        // A buy pays its commission in the base asset (the commission FAQ):
        // 0.4 × 101 × 10 bps = 0.0404 USDT, i.e. 0.0004 BTC.
        json!([{"price": "101.00000000", "qty": "0.40000000", "commission": "0.00040000", "commissionAsset": "BTC", "tradeId": 1}])
    );
    let reports: Vec<Value> = runtime.block_on(async {
        let mut reports = Vec::new();
        while reports.len() < 4 {
            reports.push(next_report(&mut socket).await);
        }
        reports
    });
    let summary: Vec<(i64, &str, &str, bool)> = reports
        .iter()
        .map(|r| {
            (
                r["i"].as_i64().unwrap(),
                r["x"].as_str().unwrap(),
                r["X"].as_str().unwrap(),
                r["m"].as_bool().unwrap(),
            )
        })
        .collect();
    let id = taken["orderId"].as_i64().unwrap();
    assert_eq!(
        summary,
        [
            (first, "NEW", "NEW", false),
            (first, "CANCELED", "CANCELED", false),
            (id, "NEW", "NEW", false),
            (id, "TRADE", "PARTIALLY_FILLED", false)
        ]
    );
    assert_eq!(reports[3]["L"], "101.00000000");
    // The rest (0.6) rests at 102 and fills on a print, as maker at its price.
    twin.print("BTCUSDT", dec!(101.5), dec!(1), false);
    let report = runtime.block_on(next_report(&mut socket));
    assert_eq!(
        (
            &report["i"],
            &report["X"],
            &report["L"],
            &report["l"],
            &report["m"]
        ),
        (
            &json!(id),
            &json!("FILLED"),
            &json!("102.00000000"),
            &json!("0.60000000"),
            &json!(true)
        ),
        "{report}"
    );
    let (_, trades) = signed(&twin, "GET", "/api/v3/myTrades", "symbol=BTCUSDT");
    let makers: Vec<bool> = trades
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["orderId"] == json!(id))
        .map(|t| t["isMaker"].as_bool().unwrap())
        .collect();
    assert_eq!(makers, [false, true]);
}
