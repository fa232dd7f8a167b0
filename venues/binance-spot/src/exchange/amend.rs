//! Amending an order: keep-priority or cancel-replace.

use std::sync::Arc;

use rust_decimal::Decimal;
use tesser_core::{AmendRequest, ClientOrderId, ExchangeError, Order, OrderStatus};

use crate::book::Tracked;
use crate::client_id::encode;
use crate::error::{BinanceError, CANCEL_REPLACE_FAILED, CANCEL_REPLACE_PARTIAL};
use crate::model;
use crate::rest::{CancelReplaceError, OrderRef};

use super::lookup::lookup;
use super::place::{book_response_fills, new_order};
use super::{Shared, rejected, unavailable};

pub(super) async fn amend(
    shared: &Arc<Shared>,
    amend: &AmendRequest,
) -> Result<Order, ExchangeError> {
    let id = &amend.client_order_id;
    shared.register(id)?;
    if !shared.lock_book().orders.contains_key(id) {
        lookup(shared, id).await.map_err(|e| unavailable(&e))?;
    }
    let Some(tracked) = shared.lock_book().orders.get(id).cloned() else {
        return Err(ExchangeError::UnknownOrder(id.clone()));
    };
    if !tracked.status.is_open() {
        // The runtime asks to amend an order it believes open: whatever
        // told it otherwise was lost, so say it again (the runtime takes a
        // closing update once).
        let mut book = shared.lock_book();
        book.forget_reported(id);
        book.emit_update(id, None);
        return Err(ExchangeError::OrderClosed(id.clone()));
    }
    let reject = |reason: String| ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason,
    };
    if amend.new_price.is_none() && amend.new_quantity.is_none() {
        return Err(reject(
            "the amend changes neither price nor quantity".into(),
        ));
    }
    let filled = tracked.filled();
    let new_total = amend.new_quantity.unwrap_or(tracked.request.quantity);
    if new_total <= filled {
        return Err(reject(format!(
            "new quantity {new_total} must exceed the filled quantity {filled}"
        )));
    }
    let price_changes = amend
        .new_price
        .is_some_and(|price| Some(price) != tracked.request.price);
    let symbol = tracked.request.symbol.as_str().to_owned();
    let generation = tracked.generation;
    if !price_changes && new_total < tracked.request.quantity {
        // Quantity down only: keep priority. newQty is this generation's
        // total quantity.
        let gen_qty = new_total - tracked.prev_filled;
        let response = shared
            .rest
            .amend_keep_priority(&symbol, &encode(id, generation), gen_qty)
            .await
            .map_err(|error| match error {
                BinanceError::Rejected(body) => rejected(id, &body),
                other => unavailable(&other),
            })?;
        let mut book = shared.lock_book();
        let order = {
            let tracked = book
                .orders
                .get_mut(id)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            let amended = &response.amended_order;
            tracked.note_executed(
                generation,
                amended.executed_qty,
                amended.cumulative_quote_qty,
            );
            tracked.request.quantity = tracked.prev_filled + amended.qty;
            if let Some(status) = model::parse_status(&amended.status) {
                tracked.apply_status(generation, status, response.transact_time);
            }
            tracked.updated_ms = response.transact_time;
            tracked.to_order()
        };
        report_amended(&mut book, id, &order);
        return Ok(order);
    }
    if !price_changes && new_total == tracked.request.quantity {
        return Err(reject("the amend changes nothing".into()));
    }
    // Cancel-replace into the next generation.
    let next = generation + 1;
    let mut request = tracked.request.clone();
    if let Some(price) = amend.new_price {
        request.price = Some(price);
    }
    let new_qty = new_total - filled;
    let order = new_order(&request, new_qty, encode(id, next));
    // Until the reply is handled, the old generation's CANCELED report does
    // not close the order; the replacement's NEW report may arrive before the
    // reply and advance the generation itself (see `book`).
    if let Some(tracked) = shared.lock_book().orders.get_mut(id) {
        tracked.replacing = Some(generation);
    }
    let result = shared
        .rest
        .cancel_replace(&encode(id, generation), &order)
        .await;
    match result {
        Ok(response) => {
            let cancelled_filled = response.cancel_response.executed_qty.unwrap_or_default();
            // What the replacement's size assumed the old generation filled.
            let seen_before = filled - tracked.prev_filled;
            let surprise = cancelled_filled - seen_before;
            {
                let mut book = shared.lock_book();
                book.link(id, &symbol, next, response.new_order_response.order_id);
                book.link(id, &symbol, generation, response.cancel_response.order_id);
                let side = tracked.request.side;
                book_response_fills(&mut book, id, &response.new_order_response, side);
                let tracked = book
                    .orders
                    .get_mut(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                // The old generation's final count and the move to the
                // replacement are idempotent: the reports may have said both
                // already, and they are counted once either way.
                tracked.note_executed(
                    generation,
                    cancelled_filled,
                    response.cancel_response.cummulative_quote_qty,
                );
                tracked.replacing = None;
                tracked.advance_to(next);
                tracked.request.price = request.price;
                tracked.apply_response(next, &response.new_order_response);
                tracked.request.quantity = new_total.max(tracked.prev_filled);
            }
            if surprise > Decimal::ZERO {
                // The old order filled more than we knew before the cancel:
                // shrink the new one by that much so the total cannot overfill.
                let remaining = new_qty - surprise;
                tracing::warn!(client_order_id = %id, %surprise, "fills raced the cancel-replace; shrinking the replacement");
                let venue_id = encode(id, next);
                if remaining > Decimal::ZERO {
                    if let Err(error) = shared
                        .rest
                        .amend_keep_priority(&symbol, &venue_id, remaining)
                        .await
                    {
                        tracing::error!(client_order_id = %id, %error, "could not shrink the replacement; cancelling it");
                        let _ = shared
                            .rest
                            .cancel_order(&symbol, &OrderRef::ClientId(venue_id))
                            .await;
                    }
                } else {
                    let _ = shared
                        .rest
                        .cancel_order(&symbol, &OrderRef::ClientId(venue_id))
                        .await;
                }
                lookup(shared, id).await.map_err(|e| unavailable(&e))?;
            }
            let mut book = shared.lock_book();
            let order = book
                .orders
                .get(id)
                .map(Tracked::to_order)
                .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
            report_amended(&mut book, id, &order);
            Ok(order)
        }
        Err(CancelReplaceError::Failed { error, data }) => {
            let cancelled = data
                .as_ref()
                .is_some_and(|data| data.cancel_result == "SUCCESS");
            let mut book = shared.lock_book();
            if let Some(tracked) = book.orders.get_mut(id) {
                tracked.replacing = None;
            }
            if error.code == CANCEL_REPLACE_PARTIAL && cancelled {
                // The old order is gone and the new one was refused.
                if let Some(tracked) = book.orders.get_mut(id) {
                    tracked.status = OrderStatus::Cancelled;
                }
                book.emit_update(id, Some(format!("replacement refused: {}", error.msg)));
                return Err(reject(format!(
                    "cancel-replace: the order was cancelled but its replacement was refused ({} {})",
                    error.code, error.msg
                )));
            }
            if error.code == CANCEL_REPLACE_FAILED || !cancelled {
                return Err(rejected(id, &error));
            }
            Err(rejected(id, &error))
        }
        Err(CancelReplaceError::Other(BinanceError::Rejected(body))) => {
            end_replace(shared, id);
            Err(rejected(id, &body))
        }
        Err(CancelReplaceError::Other(error)) => {
            // Unknown: find out what the venue holds now (a cancelled old
            // generation without a replacement closes the order).
            end_replace(shared, id);
            let _ = lookup(shared, id).await;
            Err(ExchangeError::OutcomeUnknown {
                client_order_id: id.clone(),
                detail: error.to_string(),
            })
        }
    }
}

/// After an amend answered `order`: an open order's state went back with
/// the answer; a closed one's must travel as an event. The runtime takes
/// only the new request from an amend's answer, so an order that the amend
/// found closed (raced fills shrank the replacement to nothing, or filled
/// it) would otherwise stay open in the runtime, which keeps amending it.
fn report_amended(book: &mut crate::book::Book, id: &ClientOrderId, order: &Order) {
    if order.status.is_open() {
        book.mark_reported(id);
    } else {
        book.emit_update(id, None);
    }
}

/// Ends the cancel-replace in flight of `id`: reports decide again.
fn end_replace(shared: &Shared, id: &ClientOrderId) {
    if let Some(tracked) = shared.lock_book().orders.get_mut(id) {
        tracked.replacing = None;
    }
}
