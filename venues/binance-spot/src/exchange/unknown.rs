//! Amends and cancels whose answer was lost.
//!
//! A timeout, a 5xx, `-1006` or `-1007` means the venue may have acted
//! (`errors.md`: "execution status unknown"), so the request is neither
//! refused nor done: it answers [`ExchangeError::OutcomeUnknown`], and a
//! background task looks the order up by client id (every generation) with
//! the venue kit's settle loop ([`tesser_venue_kit::settle`]) until the
//! venue says what it holds, then queues
//! [`ExchangeEvent::Settled`] with the order's price, quantity and status,
//! which the runtime takes as its own view.

use std::sync::Arc;

use tesser_core::{ClientOrderId, ExchangeError, ExchangeEvent};
use tesser_venue_kit::settle::{Attempt, SettlePolicy, Settled, settle as kit_settle};

use crate::book::Tracked;
use crate::error::BinanceError;

use super::Shared;
use super::lookup::lookup;

/// What the lost request was, for the log and the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// `PUT /api/v3/order/amend/keepPriority`.
    KeepPriorityAmend,
    /// `POST /api/v3/order/cancelReplace`.
    CancelReplace,
    /// `DELETE /api/v3/order`.
    Cancel,
}

impl Change {
    const fn name(self) -> &'static str {
        match self {
            Self::KeepPriorityAmend => "amend (keep priority)",
            Self::CancelReplace => "amend (cancel-replace)",
            Self::Cancel => "cancel",
        }
    }
}

/// Starts settling `id` after `change` got `error`, an answer that leaves
/// the outcome unknown; returns the error to answer the runtime with.
pub(super) fn settle_in_background(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
    change: Change,
    error: &BinanceError,
) -> ExchangeError {
    tracing::warn!(client_order_id = %id, %error, "{} outcome unknown; asking the venue in the background", change.name());
    let task_shared = Arc::clone(shared);
    let task_id = id.clone();
    tokio::spawn(async move { settle(&task_shared, &task_id, change).await });
    ExchangeError::OutcomeUnknown {
        client_order_id: id.clone(),
        detail: format!("{}: {error}", change.name()),
    }
}

/// Looks `id` up until the venue answers (the kit's settle loop), then
/// queues the order as it holds it. Gives up (loudly) after
/// `settle_timeout`; the runtime's own lookups (`order`) still work after
/// that.
async fn settle(shared: &Arc<Shared>, id: &ClientOrderId, change: Change) {
    let policy = SettlePolicy::new(shared.config.settle_timeout);
    let outcome = kit_settle(&policy, None, move || async move {
        match lookup(shared, id).await {
            Ok(Some(order)) => Attempt::Settled(order),
            Ok(None) => {
                tracing::warn!(client_order_id = %id, "{} settle: the venue does not know the order", change.name());
                Attempt::Again
            }
            Err(error) => {
                tracing::warn!(client_order_id = %id, %error, "{} settle query failed", change.name());
                Attempt::Again
            }
        }
    })
    .await;
    let Settled::Done(order) = outcome else {
        tracing::error!(client_order_id = %id, "could not settle an unknown {}; the runtime keeps it pending", change.name());
        return;
    };
    tracing::info!(client_order_id = %id, status = ?order.status, price = ?order.request.price, quantity = %order.request.quantity, "{} settled", change.name());
    let mut book = shared.lock_book();
    // The freshest state (a report may have moved it since).
    let order = book.orders.get(id).map_or(order, Tracked::to_order);
    // The settled state carries everything an update would.
    book.mark_reported(id);
    book.events.push_back(ExchangeEvent::Settled(order));
}
