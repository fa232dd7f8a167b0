//! Replacing an order that has traded: cancel it, then place the next
//! generation sized on the cancel's final count.
//!
//! A cancel-replace sends the replacement's size with the cancel, so it is
//! sized on the fills known before the request. An order that has traded
//! may trade again while the request travels, and the replacement would
//! then be too large: the venue would fill more than the runtime asked for.
//! The cancel's answer carries the old generation's final executed
//! quantity, so placing after it is exact, at the cost of a moment with
//! nothing resting.

use std::sync::Arc;

use rust_decimal::Decimal;
use tesser_core::{ClientOrderId, ExchangeError, Order, OrderRequest, OrderStatus};

use crate::client_id::encode;
use crate::error::{BinanceError, CANCEL_REJECTED, NO_SUCH_ORDER};
use crate::rest::OrderRef;

use super::amend::{answer, close_cancelled, set_replacing};
use super::lookup::lookup;
use super::place::{Placement, book_response_fills, new_order, settle};
use super::unknown::{Change, settle_in_background};
use super::{Shared, not_sent, rejected, unavailable};

/// An amend that needs a new generation.
pub(super) struct Replacement<'a> {
    /// The runtime's id.
    pub id: &'a ClientOrderId,
    /// The venue symbol.
    pub symbol: &'a str,
    /// The generation being replaced.
    pub generation: u32,
    /// The request with the new price.
    pub request: OrderRequest,
    /// The order's new total quantity (filled included).
    pub new_total: Decimal,
}

/// Cancels the working generation, then places the next one for what the
/// new total leaves after the cancel's final count.
///
/// # Errors
/// [`ExchangeError::OrderClosed`] when the order closed before the cancel
/// (reported again as an event), [`ExchangeError::Rejected`] when the venue
/// refused the cancel or the replacement (the order is then cancelled and
/// reported so), [`ExchangeError::OutcomeUnknown`] when either request's
/// outcome is unknown (settled in the background and reported).
pub(super) async fn cancel_then_place(
    shared: &Arc<Shared>,
    replacement: Replacement<'_>,
) -> Result<Order, ExchangeError> {
    let Replacement {
        id,
        symbol,
        generation,
        request,
        new_total,
    } = replacement;
    set_replacing(shared, id, Some(generation));
    let cancelled = match shared
        .rest
        .cancel_order(symbol, &OrderRef::ClientId(encode(id, generation)))
        .await
    {
        Ok(response) => response,
        Err(BinanceError::Rejected(body))
            if body.code == CANCEL_REJECTED || body.code == NO_SUCH_ORDER =>
        {
            // Closed meanwhile (filled, most likely): say so again.
            set_replacing(shared, id, None);
            return match lookup(shared, id).await.map_err(|e| unavailable(&e))? {
                Some(order) if !order.status.is_open() => {
                    let mut book = shared.lock_book();
                    book.forget_reported(id);
                    book.emit_update(id, None);
                    Err(ExchangeError::OrderClosed(id.clone()))
                }
                Some(_) => Err(rejected(id, &body)),
                None => Err(ExchangeError::UnknownOrder(id.clone())),
            };
        }
        Err(BinanceError::Rejected(body)) => {
            set_replacing(shared, id, None);
            return Err(rejected(id, &body));
        }
        Err(error) if error.is_definite_failure() => {
            // Not sent (a rate-limit wait too long, say): nothing changed.
            set_replacing(shared, id, None);
            return Err(not_sent(id, &error));
        }
        Err(error) => {
            // The order may or may not be cancelled: the venue's state
            // decides, found in the background.
            set_replacing(shared, id, None);
            return Err(settle_in_background(shared, id, Change::Cancel, &error));
        }
    };
    let next = generation + 1;
    let filled = {
        let mut book = shared.lock_book();
        book.link(id, symbol, generation, cancelled.order_id);
        let tracked = book
            .orders
            .get_mut(id)
            .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
        tracked.note_executed(
            generation,
            cancelled.executed_qty.unwrap_or_default(),
            cancelled.cummulative_quote_qty,
        );
        // The venue's count, final now that the generation is cancelled.
        tracked.prev_filled + tracked.gen_filled
    };
    let new_qty = new_total - filled;
    if new_qty <= Decimal::ZERO {
        // The fills reached the new total before the cancel: done.
        {
            let mut book = shared.lock_book();
            if let Some(tracked) = book.orders.get_mut(id) {
                tracked.replacing = None;
                tracked.request.quantity = filled;
                tracked.status = OrderStatus::Filled;
            }
        }
        return answer(shared, id);
    }
    let venue_id = encode(id, next);
    let started = shared.rest.server_now_ms();
    match shared
        .rest
        .new_order(&new_order(&request, new_qty, venue_id.clone()))
        .await
    {
        Ok(response) => {
            {
                let mut book = shared.lock_book();
                book.link(id, symbol, next, response.order_id);
                book_response_fills(&mut book, id, &response, request.side);
                let tracked = book
                    .orders
                    .get_mut(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                tracked.replacing = None;
                tracked.advance_to(next);
                tracked.request.price = request.price;
                tracked.apply_response(next, &response);
                tracked.request.quantity = new_total.max(tracked.prev_filled);
                book.release_held(&shared.ids);
            }
            answer(shared, id)
        }
        Err(error) if error.is_definite_failure() => {
            let why = match &error {
                BinanceError::Rejected(body) => format!("{} {}", body.code, body.msg),
                other => other.to_string(),
            };
            let reason =
                format!("amend: the order was cancelled but its replacement was refused ({why})");
            close_cancelled(shared, id, &reason);
            Err(ExchangeError::Rejected {
                client_order_id: id.clone(),
                reason,
            })
        }
        Err(error) => {
            tracing::warn!(client_order_id = %id, %error, "replacement outcome unknown; settling in the background");
            if let Some(tracked) = shared.lock_book().orders.get_mut(id) {
                // The old generation is cancelled; whatever exists now is
                // at the new price.
                tracked.request.price = request.price;
            }
            let task_shared = Arc::clone(shared);
            let task_id = id.clone();
            let task_symbol = symbol.to_owned();
            tokio::spawn(async move {
                let placement = Placement {
                    id: &task_id,
                    symbol: &task_symbol,
                    venue_id: &venue_id,
                    generation: next,
                };
                settle(&task_shared, placement, started).await;
            });
            Err(ExchangeError::OutcomeUnknown {
                client_order_id: id.clone(),
                detail: error.to_string(),
            })
        }
    }
}
