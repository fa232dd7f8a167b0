//! Amending an order: keep-priority or cancel-replace.

use std::sync::Arc;

use rust_decimal::Decimal;
use tesser_core::{AmendRequest, ClientOrderId, ExchangeError, Order, OrderStatus};

use crate::book::Tracked;
use crate::client_id::encode;
use crate::error::{BinanceError, CANCEL_REJECTED, ORDER_AMEND_REJECTED};
use crate::model::AmendRules;
use crate::rest::{CancelReplaceError, OrderRef};

use super::lookup::lookup;
use super::place::{book_response_fills, new_order};
use super::replace::{Replacement, cancel_then_place};
use super::unknown::{Change, settle_in_background};
use super::{Shared, not_sent, rejected, unavailable};

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
        // Quantity down only: keep priority where the venue allows it.
        let refused = match keep_priority_refusal(shared, &tracked) {
            Some(reason) => reason,
            None => match keep_priority(shared, id, &tracked, new_total).await {
                KeepPriority::Done(result) => return result,
                KeepPriority::RefusedByRule(reason) => reason,
            },
        };
        tracing::info!(client_order_id = %id, reason = refused, "keep-priority amend not possible; replacing the order instead (its queue place is lost)");
    }
    if !price_changes && new_total == tracked.request.quantity {
        return Err(reject("the amend changes nothing".into()));
    }
    // Anything but a quantity decrease places a new order.
    shared.require_user_stream()?;
    let wait = shared.rest.new_order_wait().map_err(|e| not_sent(id, &e))?;
    if !wait.is_zero() {
        return Err(not_sent(
            id,
            &BinanceError::RateLimited { retry_after: wait },
        ));
    }
    let mut request = tracked.request.clone();
    if let Some(price) = amend.new_price {
        request.price = Some(price);
    }
    let replacement = Replacement {
        id,
        symbol: &symbol,
        generation,
        request,
        new_total,
    };
    if filled > tracked.prev_filled {
        // The working generation has fills, and more may come while the
        // request travels: only a cancel's answer says how much it filled
        // in the end, so cancel first and size the replacement on that.
        return cancel_then_place(shared, replacement).await;
    }
    let cancel_replace_allowed = shared
        .lock_book()
        .amend_rules
        .get(symbol.as_str())
        .is_none_or(|rules| rules.cancel_replace_allowed);
    if !cancel_replace_allowed {
        tracing::info!(client_order_id = %id, "the symbol does not allow cancel-replace (cancelReplaceAllowed=false); cancelling, then placing the replacement");
        return cancel_then_place(shared, replacement).await;
    }
    match cancel_replace(shared, &replacement, &tracked).await {
        Replaced::Done(result) => result,
        Replaced::OldOrderTraded => cancel_then_place(shared, replacement).await,
    }
}

/// How a keep-priority amend came out.
enum KeepPriority {
    /// The amend's answer.
    Done(Result<Order, ExchangeError>),
    /// The venue refused it under a rule of the symbol (`-2038`: amends not
    /// enabled, or `MAX_NUM_ORDER_AMENDS` reached): replace instead.
    RefusedByRule(String),
}

/// Why a keep-priority amend of `tracked` cannot be sent, from the rules
/// `exchangeInfo` gave: amends not enabled, or the order amended as often as
/// `MAX_NUM_ORDER_AMENDS` allows.
fn keep_priority_refusal(shared: &Shared, tracked: &Tracked) -> Option<String> {
    let rules = shared
        .lock_book()
        .amend_rules
        .get(tracked.request.symbol.as_str())
        .copied()
        .unwrap_or_else(AmendRules::permissive);
    if !rules.amend_allowed {
        return Some("the symbol does not allow amends (amendAllowed=false)".into());
    }
    match rules.max_amends {
        Some(max) if tracked.amends >= max => Some(format!(
            "the order was amended {} times, the most MAX_NUM_ORDER_AMENDS allows",
            tracked.amends
        )),
        _ => None,
    }
}

/// `PUT /api/v3/order/amend/keepPriority` of the current generation down to
/// `new_total` in all.
async fn keep_priority(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
    tracked: &Tracked,
    new_total: Decimal,
) -> KeepPriority {
    let symbol = tracked.request.symbol.as_str();
    let generation = tracked.generation;
    // newQty is this generation's total quantity.
    let gen_qty = new_total - tracked.prev_filled;
    let response = match shared
        .rest
        .amend_keep_priority(symbol, &encode(id, generation), gen_qty)
        .await
    {
        Ok(response) => response,
        Err(BinanceError::Rejected(body))
            if body.code == ORDER_AMEND_REJECTED
                && (body.msg.contains("MAX_NUM_ORDER_AMENDS")
                    || body.msg.contains("not supported for this symbol")) =>
        {
            return KeepPriority::RefusedByRule(format!("{} {}", body.code, body.msg));
        }
        Err(BinanceError::Rejected(body)) => return KeepPriority::Done(Err(rejected(id, &body))),
        Err(other) if other.is_definite_failure() => {
            return KeepPriority::Done(Err(not_sent(id, &other)));
        }
        Err(other) => {
            return KeepPriority::Done(Err(settle_in_background(
                shared,
                id,
                Change::KeepPriorityAmend,
                &other,
            )));
        }
    };
    let mut book = shared.lock_book();
    let Some(tracked) = book.orders.get_mut(id) else {
        return KeepPriority::Done(Err(ExchangeError::UnknownOrder(id.clone())));
    };
    let amended = &response.amended_order;
    tracked.note_executed(
        generation,
        amended.executed_qty,
        amended.cumulative_quote_qty,
    );
    tracked.request.quantity = tracked.prev_filled + amended.qty;
    tracked.amends += 1;
    if let Some(status) = amended.status.to_status() {
        tracked.apply_status(generation, status, response.transact_time);
    }
    tracked.updated_ms = response.transact_time;
    let order = tracked.to_order();
    report_amended(&mut book, id, &order);
    KeepPriority::Done(Ok(order))
}

/// What a cancel-replace came to.
enum Replaced {
    /// The amend's answer.
    Done(Result<Order, ExchangeError>),
    /// The venue refused to cancel under `ONLY_NEW`: the old order traded
    /// (or closed) after the request was sized.
    OldOrderTraded,
}

/// Cancel-replace (`ONLY_NEW`) of a generation without fills into the next.
async fn cancel_replace(
    shared: &Arc<Shared>,
    replacement: &Replacement<'_>,
    tracked: &Tracked,
) -> Replaced {
    let Replacement {
        id,
        symbol,
        generation,
        ref request,
        new_total,
    } = *replacement;
    let next = generation + 1;
    let new_qty = new_total - tracked.filled();
    let order = new_order(request, new_qty, encode(id, next));
    // Until the reply is handled, the old generation's CANCELED report does
    // not close the order; the replacement's NEW report may arrive before the
    // reply and advance the generation itself (see `book`).
    set_replacing(shared, id, Some(generation));
    let result = shared
        .rest
        .cancel_replace(&encode(id, generation), &order)
        .await;
    let response = match result {
        Ok(response) => response,
        Err(CancelReplaceError::Failed { error, data }) => {
            set_replacing(shared, id, None);
            let Some(data) = data else {
                return Replaced::Done(Err(rejected(id, &error)));
            };
            if data.cancel_result != "SUCCESS" {
                let cancel_code = data
                    .cancel_response
                    .get("code")
                    .and_then(serde_json::Value::as_i64);
                if cancel_code == Some(CANCEL_REJECTED) {
                    return Replaced::OldOrderTraded;
                }
                return Replaced::Done(Err(rejected(id, &error)));
            }
            // The old order is gone and the new one was refused.
            let reason = format!(
                "amend: the order was cancelled but its replacement was refused ({} {})",
                error.code,
                replacement_refusal(&data).unwrap_or(error.msg)
            );
            close_cancelled(shared, id, &reason);
            return Replaced::Done(Err(ExchangeError::Rejected {
                client_order_id: id.clone(),
                reason,
            }));
        }
        Err(CancelReplaceError::Other(BinanceError::Rejected(body))) => {
            set_replacing(shared, id, None);
            return Replaced::Done(Err(rejected(id, &body)));
        }
        Err(CancelReplaceError::Other(error)) if error.is_definite_failure() => {
            // Not sent: nothing changed.
            set_replacing(shared, id, None);
            return Replaced::Done(Err(not_sent(id, &error)));
        }
        Err(CancelReplaceError::Other(error)) => {
            // Unknown: the venue's state decides (a cancelled old generation
            // without a replacement closes the order), found in the
            // background.
            set_replacing(shared, id, None);
            return Replaced::Done(Err(settle_in_background(
                shared,
                id,
                Change::CancelReplace,
                &error,
            )));
        }
    };
    let cancelled_filled = response.cancel_response.executed_qty.unwrap_or_default();
    let result = {
        let mut book = shared.lock_book();
        book.link(id, symbol, next, response.new_order_response.order_id);
        book.link(id, symbol, generation, response.cancel_response.order_id);
        book_response_fills(&mut book, id, &response.new_order_response, request.side);
        match book.orders.get_mut(id) {
            Some(tracked) => {
                // The old generation's final count and the move to the
                // replacement are idempotent: the reports may have said
                // both already, and they are counted once either way.
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
                Ok(())
            }
            None => Err(ExchangeError::UnknownOrder(id.clone())),
        }
    };
    if let Err(error) = result {
        return Replaced::Done(Err(error));
    }
    if cancelled_filled > Decimal::ZERO {
        // ONLY_NEW makes this impossible on a venue that keeps its word; if
        // it happens, the replacement was sized too large: withdraw it.
        tracing::error!(client_order_id = %id, %cancelled_filled, "an order cancelled under ONLY_NEW had traded; cancelling its replacement");
        let _ = shared
            .rest
            .cancel_order(symbol, &OrderRef::ClientId(encode(id, next)))
            .await;
        let _ = lookup(shared, id).await;
    }
    Replaced::Done(answer(shared, id))
}

/// The replacement's own refusal in a `-2021` answer, when it says one.
fn replacement_refusal(data: &crate::model::CancelReplaceFailure) -> Option<String> {
    let response = data.new_order_response.as_ref()?;
    let code = response.get("code")?.as_i64()?;
    let msg = response.get("msg")?.as_str()?;
    Some(format!("{code} {msg}"))
}

/// After an amend answered `order`: an open order's state went back with
/// the answer; a closed one's must travel as an event. The runtime takes
/// only the new request from an amend's answer, so an order that the amend
/// found closed (raced fills shrank the replacement to nothing, or filled
/// it) would otherwise stay open in the runtime, which keeps amending it.
pub(super) fn report_amended(book: &mut crate::book::Book, id: &ClientOrderId, order: &Order) {
    if order.status.is_open() {
        book.mark_reported(id);
    } else {
        book.emit_update(id, None);
    }
}

/// Marks (or, with `None`, ends) the replacement in flight of `id`: while
/// set, the old generation's `CANCELED` report does not close the order.
pub(super) fn set_replacing(shared: &Shared, id: &ClientOrderId, generation: Option<u32>) {
    if let Some(tracked) = shared.lock_book().orders.get_mut(id) {
        tracked.replacing = generation;
    }
}

/// Closes `id` as cancelled (its last generation is gone and no replacement
/// exists) and reports it with `reason`.
pub(super) fn close_cancelled(shared: &Shared, id: &ClientOrderId, reason: &str) {
    let mut book = shared.lock_book();
    if let Some(tracked) = book.orders.get_mut(id) {
        tracked.replacing = None;
        tracked.status = OrderStatus::Cancelled;
    }
    book.emit_update(id, Some(reason.to_owned()));
}

/// The amend's answer: the order as the book holds it now, reported as an
/// event too when it is closed.
pub(super) fn answer(shared: &Shared, id: &ClientOrderId) -> Result<Order, ExchangeError> {
    let mut book = shared.lock_book();
    let order = book
        .orders
        .get(id)
        .map(Tracked::to_order)
        .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
    report_amended(&mut book, id, &order);
    Ok(order)
}
