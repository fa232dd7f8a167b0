//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod scenario;

use rust_decimal::Decimal;
use tesser_core::{
    ClientOrderId, ExchangeClient, ExchangeEvent, Fill, Order, OrderRequest, OrderStatus,
    OrderType, Side, Tick, TimeInForce,
};
use tesser_paper::{PaperConfig, PaperExchange};

pub const SYMBOL: &str = "BTCUSD";

pub fn exchange() -> PaperExchange {
    PaperExchange::new(PaperConfig::default())
}

pub fn print(price: Decimal, size: Decimal, timestamp_ms: i64) -> Tick {
    print_of(SYMBOL, price, size, timestamp_ms)
}

pub fn print_of(symbol: &str, price: Decimal, size: Decimal, timestamp_ms: i64) -> Tick {
    Tick {
        symbol: symbol.into(),
        price,
        size,
        aggressor: None,
        timestamp_ms,
    }
}

pub fn limit(id: &str, side: Side, quantity: Decimal, price: Decimal) -> OrderRequest {
    OrderRequest::limit(id, SYMBOL, side, quantity, price)
}

pub fn market(id: &str, side: Side, quantity: Decimal) -> OrderRequest {
    OrderRequest::market(id, SYMBOL, side, quantity)
}

pub fn stop(
    id: &str,
    side: Side,
    quantity: Decimal,
    trigger: Decimal,
    price: Option<Decimal>,
) -> OrderRequest {
    OrderRequest {
        order_type: if price.is_some() {
            OrderType::StopLimit
        } else {
            OrderType::StopMarket
        },
        price,
        trigger_price: Some(trigger),
        ..market(id, side, quantity)
    }
}

pub fn with_tif(request: OrderRequest, time_in_force: TimeInForce) -> OrderRequest {
    request.with_time_in_force(time_in_force)
}

pub fn place(exchange: &mut PaperExchange, request: OrderRequest) -> Order {
    exchange.place_order(request, 0).expect("order accepted")
}

pub fn events(exchange: &mut PaperExchange) -> Vec<ExchangeEvent> {
    let mut out = Vec::new();
    exchange.poll_events(&mut out);
    out
}

pub fn order(exchange: &PaperExchange, id: &str) -> Order {
    exchange
        .order(&ClientOrderId::new(id))
        .expect("order query")
        .expect("known order")
}

pub fn status(exchange: &PaperExchange, id: &str) -> OrderStatus {
    order(exchange, id).status
}

pub fn order_fills(exchange: &PaperExchange, id: &str) -> Vec<Fill> {
    exchange
        .order_fills(&ClientOrderId::new(id))
        .expect("fills query")
}

/// (price, quantity) of each fill of `id`, oldest first.
pub fn fills_of(exchange: &PaperExchange, id: &str) -> Vec<(Decimal, Decimal)> {
    order_fills(exchange, id)
        .iter()
        .map(|fill| (fill.price, fill.quantity))
        .collect()
}

/// (order id, price, quantity) of every fill, oldest first.
pub fn all_fills(exchange: &PaperExchange) -> Vec<(String, Decimal, Decimal)> {
    exchange
        .fills()
        .iter()
        .map(|fill| {
            (
                fill.client_order_id.as_str().to_owned(),
                fill.price,
                fill.quantity,
            )
        })
        .collect()
}
