//! Placing orders, and settling placements whose outcome is unknown.

use std::sync::Arc;

use rust_decimal::Decimal;
use tesser_core::{
    ClientOrderId, ExchangeError, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce,
};
use tesser_venue_kit::settle::{Attempt, SettlePolicy, Settled, settle as kit_settle};

use crate::book::{Book, Execution, FillReport, Tracked};
use crate::client_id::encode;
use crate::error::BinanceError;
use crate::model::{self, OrderResponse};
use crate::rest::{NewOrder, OrderRef};

use super::{Shared, not_sent, rejected};

/// Binance's type and time in force for a request.
fn venue_type(request: &OrderRequest) -> (&'static str, Option<&'static str>) {
    let tif = match request.time_in_force {
        TimeInForce::ImmediateOrCancel => "IOC",
        TimeInForce::FillOrKill => "FOK",
        TimeInForce::GoodTilCancelled | TimeInForce::PostOnly => "GTC",
    };
    match (request.order_type, request.time_in_force) {
        (OrderType::Limit, TimeInForce::PostOnly) => ("LIMIT_MAKER", None),
        (OrderType::Limit, _) => ("LIMIT", Some(tif)),
        (OrderType::Market, _) => ("MARKET", None),
        // A stop buys above / sells below the market: STOP_LOSS on both
        // sides (rest-api.md, "Trigger order price rules").
        (OrderType::StopMarket, _) => ("STOP_LOSS", None),
        (OrderType::StopLimit, _) => ("STOP_LOSS_LIMIT", Some(tif)),
    }
}

pub(super) fn new_order(
    request: &OrderRequest,
    quantity: Decimal,
    client_order_id: String,
) -> NewOrder {
    let (order_type, time_in_force) = venue_type(request);
    NewOrder {
        symbol: request.symbol.as_str().to_owned(),
        side: model::side_name(request.side),
        order_type,
        time_in_force,
        quantity,
        price: request.price,
        stop_price: request.trigger_price,
        client_order_id,
    }
}

/// Books the fills of a `FULL` response.
pub(super) fn book_response_fills(
    book: &mut Book,
    runtime: &ClientOrderId,
    response: &OrderResponse,
    side: Side,
) {
    for fill in &response.fills {
        let execution = Execution::from_order_fill(response, fill, side);
        book.book_fill(runtime, &execution, FillReport::Queue);
    }
}

pub(super) async fn place(
    shared: &Arc<Shared>,
    request: OrderRequest,
    now_ms: i64,
) -> Result<Order, ExchangeError> {
    let id = request.client_order_id.clone();
    shared.register(&id)?;
    shared.require_user_stream()?;
    {
        let mut book = shared.lock_book();
        if !book.used.insert(id.clone()) {
            return Err(ExchangeError::DuplicateClientOrderId(id));
        }
        book.orders
            .insert(id.clone(), Tracked::new(request.clone(), now_ms));
    }
    let venue_id = encode(&id, 0);
    let order = new_order(&request, request.quantity, venue_id.clone());
    let started = shared.rest.server_now_ms();
    match shared.rest.new_order(&order).await {
        Ok(response) => {
            let mut book = shared.lock_book();
            book.link(&id, &response.symbol, 0, response.order_id);
            book_response_fills(&mut book, &id, &response, request.side);
            if let Some(tracked) = book.orders.get_mut(&id) {
                tracked.apply_response(0, &response);
                tracked.created_ms = response.transact_time.unwrap_or(now_ms);
            }
            book.release_held(&shared.ids);
            let order = book
                .orders
                .get(&id)
                .map(Tracked::to_order)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            // Fills already queued carry their own update; the synchronous
            // answer covers the rest.
            book.mark_reported(&id);
            Ok(order)
        }
        Err(error) if error.is_definite_failure() => {
            let mut book = shared.lock_book();
            book.orders.remove(&id);
            if let BinanceError::Rejected(body) = &error {
                if body.msg.contains("Duplicate order sent") {
                    return Err(ExchangeError::DuplicateClientOrderId(id));
                }
                return Err(rejected(&id, body));
            }
            // Not sent at all: the id may be used again.
            book.used.remove(&id);
            Err(not_sent(&id, &error))
        }
        Err(error) => {
            tracing::warn!(client_order_id = %id, %error, "placement outcome unknown; settling in the background");
            shared.lock_book().settling.insert(id.clone());
            let task_shared = Arc::clone(shared);
            let symbol = request.symbol.as_str().to_owned();
            let settle_id = id.clone();
            tokio::spawn(async move {
                let placement = Placement {
                    id: &settle_id,
                    symbol: &symbol,
                    venue_id: &venue_id,
                    generation: 0,
                };
                settle(&task_shared, placement, started).await;
            });
            Err(ExchangeError::OutcomeUnknown {
                client_order_id: id,
                detail: error.to_string(),
            })
        }
    }
}

/// One generation's placement whose outcome is unknown.
#[derive(Clone, Copy)]
pub(super) struct Placement<'a> {
    /// The runtime's id.
    pub id: &'a ClientOrderId,
    /// The venue symbol.
    pub symbol: &'a str,
    /// The client order id sent to the venue.
    pub venue_id: &'a str,
    /// Its generation: 0 for a new order, later for the replacement of an
    /// amend whose old generation is already cancelled.
    pub generation: u32,
}

/// Finds out whether an ambiguous placement exists (the kit's settle loop
/// around a query by client id); queues its state.
pub(super) async fn settle(shared: &Arc<Shared>, placement: Placement<'_>, started_ms: i64) {
    let config = &shared.config;
    let window = i64::try_from((config.max_rate_limit_wait + config.request_timeout).as_millis())
        .unwrap_or(i64::MAX)
        .saturating_add(i64::try_from(config.recv_window_ms).unwrap_or(i64::MAX))
        .saturating_add(1000);
    let not_after = started_ms.saturating_add(window);
    let policy = SettlePolicy::new(config.settle_timeout);
    let placement = &placement;
    let outcome = kit_settle(&policy, None, move || async move {
        settle_once(shared, placement, not_after).await
    })
    .await;
    if outcome != Settled::Done(()) {
        tracing::error!(client_order_id = %placement.id, "could not settle an ambiguous placement; ask order() later");
    }
}

/// One query of [`settle`]: settled when the venue has the order, or does
/// not have it after `not_after` (venue time), when it never will.
async fn settle_once(shared: &Shared, placement: &Placement<'_>, not_after: i64) -> Attempt<()> {
    let Placement {
        id,
        symbol,
        venue_id,
        generation,
    } = *placement;
    let asked_at = shared.rest.server_now_ms();
    match shared
        .rest
        .query_order(symbol, &OrderRef::ClientId(venue_id.to_owned()))
        .await
    {
        Ok(Some(response)) => {
            let fills = if response.executed_qty.unwrap_or_default() > Decimal::ZERO {
                shared
                    .rest
                    .my_trades(symbol, None, Some(response.order_id))
                    .await
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let mut book = shared.lock_book();
            book.settling.remove(id);
            book.link(id, symbol, generation, response.order_id);
            for trade in &fills {
                book.book_fill(id, &Execution::from_my_trade(trade), FillReport::Queue);
            }
            if let Some(tracked) = book.orders.get_mut(id) {
                tracked.replacing = None;
                tracked.apply_response(generation, &response);
            }
            let settled = book.orders.get(id).map(Tracked::to_order);
            match settled {
                // The replacement of an amend: the runtime waits to hear
                // how its amend ended, and takes the venue's price and
                // quantity.
                Some(order) if generation > 0 => {
                    book.mark_reported(id);
                    book.events
                        .push_back(tesser_core::ExchangeEvent::Settled(order));
                }
                _ => book.emit_update(id, None),
            }
            tracing::info!(client_order_id = %id, "ambiguous placement settled: the order exists");
            Attempt::Settled(())
        }
        Ok(None) if asked_at > not_after => {
            let mut book = shared.lock_book();
            book.settling.remove(id);
            // A replacement that never came leaves its cancelled
            // predecessor: the order is cancelled, not rejected.
            let (status, reason) = if generation == 0 {
                (
                    OrderStatus::Rejected,
                    "not placed: the venue never accepted the request",
                )
            } else {
                (
                    OrderStatus::Cancelled,
                    "amend: the order was cancelled and the venue never accepted its replacement",
                )
            };
            if let Some(tracked) = book.orders.get_mut(id) {
                tracked.replacing = None;
                tracked.status = status;
                tracked.updated_ms = asked_at;
                // A guess: a later report or lookup adopts it back.
                tracked.presumed_not_placed = generation == 0;
            }
            book.emit_update(id, Some(reason.into()));
            tracing::info!(client_order_id = %id, "ambiguous placement settled: never placed");
            Attempt::Settled(())
        }
        Ok(None) => Attempt::Again,
        Err(error) => {
            tracing::warn!(client_order_id = %id, %error, "settle query failed");
            Attempt::Again
        }
    }
}
