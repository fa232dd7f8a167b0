//! Parses the example payloads of Binance's docs (tests/fixtures, each file
//! naming the doc page and section it was copied from).

use rust_decimal_macros::dec;
use tesser_core::{OrderStatus, Side};
use tesser_venue_binance::book::Book;
use tesser_venue_binance::client_id::IdRegistry;
use tesser_venue_binance::model::{
    AccountInfo, AmendResponse, ApiErrorBody, CancelReplaceResponse, ExchangeInfo, ExecutionType,
    MyTrade, OrderResponse, ServerTime, SymbolFilter, UserEvent, WireSide, WireStatus,
    WsApiMessage,
};
use tesser_venue_binance::ws_market::{MarketEvent, parse_message};

/// The fixture's JSON with `//` comments (outside strings) removed.
fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                cut = i;
                break;
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

#[test]
fn execution_report_parses_field_for_field() {
    let message = WsApiMessage::parse(&fixture("execution_report.jsonc")).unwrap();
    let WsApiMessage::Event {
        subscription_id,
        event: UserEvent::ExecutionReport(report),
    } = message
    else {
        panic!("not an executionReport: {message:?}");
    };
    assert_eq!(subscription_id, Some(0));
    assert_eq!(report.event_time, 1_499_405_658_658);
    assert_eq!(report.symbol, "ETHBTC");
    assert_eq!(report.client_order_id, "mUvoqJxFIILMdfAW5iGSOW");
    assert_eq!(report.side, WireSide::Buy);
    assert_eq!(report.order_type, "LIMIT");
    assert_eq!(report.time_in_force, "GTC");
    assert_eq!(report.quantity, dec!(1));
    assert_eq!(report.price, dec!(0.10264410));
    assert_eq!(report.stop_price, dec!(0));
    assert_eq!(report.order_list_id, -1);
    assert_eq!(report.orig_client_order_id, "");
    assert_eq!(report.execution_type, ExecutionType::New);
    assert_eq!(report.order_status, WireStatus::New);
    assert_eq!(report.reject_reason, "NONE");
    assert_eq!(report.order_id, 4_293_153);
    assert_eq!(report.last_quantity, dec!(0));
    assert_eq!(report.commission_asset, None);
    assert_eq!(report.trade_id, -1);
    assert_eq!(report.execution_id, 8_641_984);
    assert!(report.on_book);
    assert!(!report.is_maker);
    assert_eq!(report.creation_time, 1_499_405_658_657);
}

#[test]
fn a_trade_report_becomes_one_fill_even_when_repeated() {
    let text = fixture("execution_report.jsonc")
        .replace("\"x\": \"NEW\"", "\"x\": \"TRADE\"")
        .replace("\"X\": \"NEW\"", "\"X\": \"PARTIALLY_FILLED\"")
        .replace("\"l\": \"0.00000000\"", "\"l\": \"0.40000000\"")
        .replace("\"z\": \"0.00000000\"", "\"z\": \"0.40000000\"")
        .replace("\"L\": \"0.00000000\"", "\"L\": \"0.10264410\"")
        .replace("\"t\": -1", "\"t\": 77");
    let WsApiMessage::Event {
        event: UserEvent::ExecutionReport(report),
        ..
    } = WsApiMessage::parse(&text).unwrap()
    else {
        panic!("not a report");
    };
    let ids = IdRegistry::new();
    let mut book = Book::default();
    book.on_report(&ids, &report);
    book.on_report(&ids, &report);
    let events: Vec<_> = book.events.drain(..).collect();
    let fills: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            tesser_core::ExchangeEvent::Fill(fill) => Some(fill),
            tesser_core::ExchangeEvent::OrderUpdate(_)
            | tesser_core::ExchangeEvent::Settled(_)
            | tesser_core::ExchangeEvent::Balances(_) => None,
        })
        .collect();
    assert_eq!(fills.len(), 1, "{events:?}");
    assert_eq!(fills[0].quantity, dec!(0.4));
    assert_eq!(fills[0].price, dec!(0.10264410));
    assert_eq!(fills[0].side, Side::Buy);
    assert_eq!(fills[0].fill_id, "ETHBTC-77-buy");
    assert_eq!(fills[0].client_order_id.as_str(), "mUvoqJxFIILMdfAW5iGSOW");
    let updates = events.len() - fills.len();
    assert_eq!(updates, 1, "the duplicate must not produce another update");
}

#[test]
fn other_user_events_parse() {
    assert!(matches!(
        WsApiMessage::parse(&fixture("outbound_account_position.jsonc")).unwrap(),
        WsApiMessage::Event { event: UserEvent::AccountPosition { ref balances, .. }, .. } if balances[0].asset == "ETH"
    ));
    assert!(matches!(
        WsApiMessage::parse(&fixture("balance_update.jsonc")).unwrap(),
        WsApiMessage::Event { event: UserEvent::BalanceUpdate { ref asset, delta, .. }, .. } if asset == "BTC" && delta == dec!(100)
    ));
    assert!(matches!(
        WsApiMessage::parse(&fixture("event_stream_terminated.jsonc")).unwrap(),
        WsApiMessage::Event {
            event: UserEvent::StreamTerminated {
                event_time: 1_728_973_001_334
            },
            ..
        }
    ));
    assert!(matches!(
        WsApiMessage::parse(&fixture("list_status.jsonc")).unwrap(),
        WsApiMessage::Event {
            event: UserEvent::Other,
            ..
        }
    ));
}

#[test]
fn ws_api_responses_parse() {
    let WsApiMessage::Response { status, error, .. } =
        WsApiMessage::parse(&fixture("ws_api_error_response.jsonc")).unwrap()
    else {
        panic!("not a response");
    };
    assert_eq!(status, 400);
    assert_eq!(error.unwrap().code, -2010);
    let WsApiMessage::Response { status, result, .. } =
        WsApiMessage::parse(&fixture("ws_api_subscribe_signature_response.jsonc")).unwrap()
    else {
        panic!("not a response");
    };
    assert_eq!(status, 200);
    assert_eq!(result.unwrap()["subscriptionId"], 0);
}

#[test]
fn trade_stream_parses_into_a_tick_with_the_taker_side() {
    let raw = fixture("trade_stream.jsonc");
    let wrapped = format!("{{\"stream\":\"bnbbtc@trade\",\"data\":{raw}}}");
    let Some(MarketEvent::Trade { tick, trade_id }) = parse_message(&wrapped).unwrap() else {
        panic!("not a trade");
    };
    assert_eq!(trade_id, 12345);
    assert_eq!(tick.symbol.as_str(), "BNBBTC");
    assert_eq!((tick.price, tick.size), (dec!(0.001), dec!(100)));
    assert_eq!(tick.timestamp_ms, 1_672_515_782_136);
    // "m": true — the buyer is the maker, so the taker sold.
    assert_eq!(tick.aggressor, Some(Side::Sell));
    let raw = fixture("book_ticker_stream.jsonc");
    let wrapped = format!("{{\"stream\":\"bnbusdt@bookTicker\",\"data\":{raw}}}");
    let Some(MarketEvent::BookTicker(ticker)) = parse_message(&wrapped).unwrap() else {
        panic!("not a book ticker");
    };
    assert_eq!(ticker.bid_price, dec!(25.35190000));
    assert_eq!(ticker.ask_quantity, dec!(40.66000000));
}

#[test]
fn exchange_info_filters_become_instrument_rules() {
    let info: ExchangeInfo = serde_json::from_str(&fixture("exchange_info.jsonc")).unwrap();
    assert_eq!(info.rate_limits[0].header_suffix(), "1M");
    assert_eq!(info.rate_limits[1].header_suffix(), "1S");
    let symbol = &info.symbols[0];
    assert!(symbol.filters.contains(&SymbolFilter::Other));
    let instrument = symbol.to_instrument();
    assert_eq!(instrument.tick_size, dec!(0.000001));
    assert_eq!(instrument.lot_size, dec!(0.001));
    assert_eq!(instrument.min_quantity, dec!(0.001));
    assert_eq!(instrument.min_notional, dec!(10));
    assert_eq!(
        (
            instrument.base_asset.as_str(),
            instrument.quote_asset.as_str()
        ),
        ("ETH", "BTC")
    );
}

#[test]
fn error_bodies_parse() {
    let error: ApiErrorBody = serde_json::from_str(&fixture("error_invalid_symbol.jsonc")).unwrap();
    assert_eq!((error.code, error.msg.as_str()), (-1121, "Invalid symbol."));
    let error: ApiErrorBody =
        serde_json::from_str(&fixture("cancel_restrictions_error.jsonc")).unwrap();
    assert_eq!(error.code, -2011);
    let partial: serde_json::Value =
        serde_json::from_str(&fixture("cancel_replace_partial.jsonc")).unwrap();
    let data: tesser_venue_binance::model::CancelReplaceFailure =
        serde_json::from_value(partial["data"].clone()).unwrap();
    assert_eq!(data.cancel_result, "SUCCESS");
    assert_eq!(data.new_order_result, "FAILURE");
}

#[test]
fn order_responses_parse() {
    let time: ServerTime = serde_json::from_str(&fixture("server_time.jsonc")).unwrap();
    assert_eq!(time.server_time, 1_499_827_319_559);
    let ack: OrderResponse = serde_json::from_str(&fixture("order_ack.jsonc")).unwrap();
    assert_eq!((ack.order_id, ack.status), (28, None));
    let result: OrderResponse = serde_json::from_str(&fixture("order_result.jsonc")).unwrap();
    assert_eq!(result.executed_qty, Some(dec!(10)));
    let full: OrderResponse = serde_json::from_str(&fixture("order_full.jsonc")).unwrap();
    assert_eq!(full.fills.len(), 5);
    assert_eq!(full.fills[1].trade_id, 57);
    assert_eq!(full.fills[1].commission, dec!(19.995));
    let cancel: OrderResponse = serde_json::from_str(&fixture("cancel_order.jsonc")).unwrap();
    assert_eq!(cancel.orig_client_order_id.as_deref(), Some("myOrder1"));
    assert_eq!(
        cancel.status.and_then(WireStatus::to_status),
        Some(OrderStatus::Cancelled)
    );
    let query: OrderResponse = serde_json::from_str(&fixture("query_order.jsonc")).unwrap();
    assert_eq!(query.client_order_id, "myOrder1");
    let open: Vec<OrderResponse> = serde_json::from_str(&fixture("open_orders.jsonc")).unwrap();
    assert_eq!(open.len(), 1);
    let replace: CancelReplaceResponse =
        serde_json::from_str(&fixture("cancel_replace_success.jsonc")).unwrap();
    assert_eq!(replace.new_order_response.order_id, 10);
    let amend: AmendResponse = serde_json::from_str(&fixture("amend_keep_priority.jsonc")).unwrap();
    assert_eq!(amend.amended_order.qty, dec!(5));
    let trades: Vec<MyTrade> = serde_json::from_str(&fixture("my_trades.jsonc")).unwrap();
    assert_eq!((trades[0].id, trades[0].order_id), (28457, 100_234));
    let account: AccountInfo = serde_json::from_str(&fixture("account.jsonc")).unwrap();
    assert!(account.can_trade && account.can_withdraw && account.can_deposit);
    assert_eq!(account.account_type.as_deref(), Some("SPOT"));
    assert_eq!(account.permissions, vec!["SPOT".to_owned()]);
    assert_eq!(account.balances.len(), 2);
}
